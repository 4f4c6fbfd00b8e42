"""RADIUS clients: the gateways (NAS) allowed to send Access-Requests, declared by address or network, each with
its own shared secret sealed under the key ring (AES-256-GCM, like a token secret; ``rotate-key`` re-encrypts them).

``load_clients`` reads the table once when a server process starts and returns a :class:`ClientTable` that finds
the client of a packet's source address (the most specific network wins) without touching the database again.
"""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from verifier import audit as audit_log
from verifier.errors import ConflictError, InvalidInput, NotFoundError
from verifier.schema import radius_clients
from verifier.schema import radius_sealed_name as _sealed_name
from verifier.store import Store

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: RFC 2865 asks for secrets as long and random as passwords; BlastRADIUS made short ones indefensible
SECRET_MIN, SECRET_MAX = 16, 128
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RadiusClient:
    """A declared gateway. ``secret`` is only filled by :func:`load_clients` (for the server), never listed."""

    name: str
    network: str
    legacy: bool
    created_at: float
    secret: bytes = field(default=b"", repr=False)

    def as_dict(self) -> dict:
        return {"name": self.name, "network": self.network, "legacy": self.legacy, "created_at": self.created_at}


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidInput("a RADIUS client name is 1 to 64 letters, digits, '.', '_' or '-'",
                           french="un nom de client RADIUS a 1 à 64 caractères (lettres, chiffres, . _ -)")
    return name


def parse_network(text: str) -> Network:
    """An address (one host) or a network in CIDR notation, IPv4 or IPv6; host bits must be zero."""
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        raise InvalidInput(f"not an address or network: {text!r}",
                           french=f"adresse ou réseau invalide : {text!r} (ex. 192.0.2.10 ou 192.0.2.0/24)") from None


def check_secret(secret: bytes) -> bytes:
    """A shared secret of 16 to 128 printable ASCII characters (what every gateway's form accepts)."""
    if not SECRET_MIN <= len(secret) <= SECRET_MAX or not all(0x21 <= b <= 0x7E for b in secret):
        raise InvalidInput("a shared secret is 16 to 128 printable ASCII characters, without spaces",
                           french=f"un secret partagé a {SECRET_MIN} à {SECRET_MAX} caractères ASCII imprimables, "
                                  "sans espace")
    return secret


def add_client(store: Store, name: str, network: str, secret: bytes, *, legacy: bool = False,
               actor: str = "system", now: float | None = None) -> RadiusClient:
    """Declare a gateway. Refuses a duplicate name or network (ConflictError) and a weak secret (InvalidInput)."""
    now = time.time() if now is None else now
    check_name(name)
    net = str(parse_network(network))
    check_secret(secret)
    key_id, blob = store.ring.seal(_sealed_name(name), secret)
    with store.transaction() as conn:
        taken = conn.execute(sa.select(radius_clients.c.name).where(
            sa.or_(radius_clients.c.name == name, radius_clients.c.network == net))).first()
        if taken is not None:
            raise ConflictError(f"a RADIUS client {taken.name!r} already has this name or network",
                                french=f"le client RADIUS {taken.name} a déjà ce nom ou ce réseau : "
                                       "retirez-le d'abord")
        conn.execute(radius_clients.insert().values(name=name, network=net, key_id=key_id, secret_ct=blob,
                                                    legacy=legacy, created_at=now))
        audit_log.write(conn, action="radius.client.add", outcome="ok", actor=actor,
                        detail=f"name={name}; network={net}; legacy={'yes' if legacy else 'no'}", now=now)
    return RadiusClient(name, net, legacy, now)


def list_clients(store: Store) -> list[RadiusClient]:
    """Every declared gateway, by name, without secrets."""
    c = radius_clients.c
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(c.name, c.network, c.legacy, c.created_at).order_by(c.name)).all()
    return [RadiusClient(r.name, r.network, bool(r.legacy), r.created_at) for r in rows]


def remove_client(store: Store, name: str, *, actor: str = "system", now: float | None = None) -> None:
    """Forget a gateway (running servers stop answering it when restarted)."""
    check_name(name)
    with store.transaction() as conn:
        if not conn.execute(radius_clients.delete().where(radius_clients.c.name == name)).rowcount:
            raise NotFoundError(f"no RADIUS client named {name!r}", french=f"aucun client RADIUS nommé {name}")
        audit_log.write(conn, action="radius.client.remove", outcome="ok", actor=actor, detail=f"name={name}",
                        now=now)


class ClientTable:
    """The gateways a server answers, looked up by source address: the most specific network wins."""

    def __init__(self, clients: list[RadiusClient]) -> None:
        nets = [(ipaddress.ip_network(cl.network), cl) for cl in clients]
        self._by_net = sorted(nets, key=lambda item: item[0].prefixlen, reverse=True)
        self._cache: dict[str, RadiusClient | None] = {}

    def __len__(self) -> int:
        return len(self._by_net)

    def find(self, address: str) -> RadiusClient | None:
        found = self._cache.get(address, False)
        if found is not False:
            return found
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return None
        if getattr(ip, "ipv4_mapped", None):  # a dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d
            ip = ip.ipv4_mapped
        found = next((cl for net, cl in self._by_net if ip.version == net.version and ip in net), None)
        if len(self._cache) < 4096:  # bounded: a flood of unknown sources cannot grow it without end
            self._cache[address] = found
        return found


def load_clients(store: Store) -> ClientTable:
    """Read and decrypt every client once (at server start)."""
    c = radius_clients.c
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(c.name, c.network, c.legacy, c.created_at, c.key_id, c.secret_ct)).all()
    return ClientTable([RadiusClient(r.name, r.network, bool(r.legacy), r.created_at,
                                     store.ring.open(_sealed_name(r.name), r.key_id, r.secret_ct)) for r in rows])
