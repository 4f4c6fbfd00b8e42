"""A realistic district in one database, made fast: users, tokens in every state, secrets sealed under a real key
ring, with every secret and PIN known, for the benchmarks at 100,000 tokens (``bench_scale``, the token list).

Usage::

    from benchmarks.fleet_data import build_fleet, fleet_database

    with fleet_database("sqlite") as url:                    # or "postgresql": a fresh database on the server of
        fleet = build_fleet(url, keys_dir / "keys.json",    # JETON_TEST_POSTGRES_URL, dropped afterwards
                            users=100_000)
        n = fleet.checkable[0]                               # a token in service, held by fleet.login(n)
        verifier.authenticate(fleet.login(n), fleet.passcode(n, now), now)   # -> ACCEPT

What it makes, from one number ``n`` per user and per token (so every fact is known without reading the database):

- ``users`` users, ``prof.000123`` (teachers) and every 50th ``dir.000150`` (administrators);
- ``tokens`` tokens (default: as many as users), ``JT-0000123``; token ``n`` belongs to user ``n`` when it is
  held. By ``n % 100``: 0-1 ``ready`` (unassigned), 2 ``assigned`` (new PIN required), 3 ``locked`` (10 failures),
  4 ``disabled`` (lost), 5 ``retired`` (secret destroyed), the rest (94 %) ``active`` with a PIN, a varied
  ``last_step`` (up to a few days old), ``fail_count`` 0 to 2 and a drift of -1, 0 or +1 step; tokens past the
  last user are ``ready``;
- ``audit_per_token`` audit rows per token (an import, then logins), so the audit table has a district's size.

Rows go in with ``executemany`` in one transaction per table: 100,000 users and tokens take seconds on SQLite. The
schema comes from the real migrations (``verifier.init_store``), the key file is a real key ring (mode 0600), PINs
are hashed with the real pepper (``verifier.pins.hash_pin``) and secrets sealed by ``KeyRing.seal``: the store and
the verifier read these rows exactly as rows they wrote.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from verifier import Settings, init_store
from verifier.otp import TokenCodes
from verifier.pins import hash_pin
from verifier.schema import audit, tokens
from verifier.schema import users as users_table

#: the fleet's "now" (2027-01-15): last steps are before it; check at or after it
T0 = 1_800_000_000.0
_CHUNK = 10_000


@dataclass(frozen=True)
class Fleet:
    """What :func:`build_fleet` made: every login, serial, secret, PIN and state follows from a number."""

    url: str
    keys: Path
    users: int
    tokens: int
    now: float = T0
    seed: bytes = field(default=b"jeton-fleet", repr=False)
    #: the numbers of the tokens in service (``active``, held, PIN set, fewer than 3 failures)
    checkable: list[int] = field(default_factory=list, repr=False)

    @staticmethod
    def is_admin(n: int) -> bool:
        return n % 50 == 0 and n > 0

    def login(self, n: int) -> str:
        return f"dir.{n:06d}" if self.is_admin(n) else f"prof.{n:06d}"

    @staticmethod
    def serial(n: int) -> str:
        return f"JT-{n:07d}"

    def secret(self, n: int) -> bytes:
        """Token ``n``'s 20-byte secret (HMAC of the seed and the serial)."""
        return hmac.new(self.seed, self.serial(n).encode(), hashlib.sha256).digest()[:20]

    @staticmethod
    def pin(n: int) -> str:
        """Token ``n``'s PIN: 4 to 6 digits."""
        return f"{(n * 7919 + 2468) % 10 ** (4 + n % 3):0{4 + n % 3}d}"

    def state(self, n: int) -> str:
        if n >= self.users:
            return "ready"
        return {0: "ready", 1: "ready", 2: "assigned", 3: "locked", 4: "disabled", 5: "retired"}.get(n % 100, "active")

    @staticmethod
    def drift(n: int) -> int:
        return (n % 7 == 1) - (n % 7 == 2)

    def last_step(self, n: int) -> int:
        return int(self.now // 30) - 1 - (n * 37) % 10_000

    def passcode(self, n: int, now: float) -> str:
        """PIN + the code token ``n`` shows at ``now`` (as the verifier expects it, drift included)."""
        codes = TokenCodes(self.secret(n))
        return self.pin(n) + codes.code(codes.step_of(now) + self.drift(n))


def _chunks(rows: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def build_fleet(url: str, keys: str | os.PathLike, *, users: int, tokens_count: int | None = None,
                audit_per_token: int = 2, now: float = T0, seed: bytes = b"jeton-fleet",
                settings: Settings | None = None) -> Fleet:
    """Create the schema and key ring (``keys`` must not exist), then fill the database of ``url`` with a district
    of ``users`` users and ``tokens_count`` tokens (default: one per user). Returns the :class:`Fleet`."""
    count = users if tokens_count is None else tokens_count
    store = init_store(url, keys, settings=settings)[0]
    fleet = Fleet(url=url, keys=Path(keys), users=users, tokens=count, now=now, seed=seed)
    ring, settings = store.ring, store.settings
    try:
        with store.transaction() as conn:
            for chunk in _chunks(list(range(users))):
                conn.execute(users_table.insert(), [
                    {"login": fleet.login(n), "display_name": f"Personne {n}", "created_at": now - 86400 * 30,
                     "role": "admin" if fleet.is_admin(n) else "teacher"} for n in chunk])
            ids = dict(conn.execute(sa.select(users_table.c.login, users_table.c.id)).all())
            checkable = []
            for chunk in _chunks(list(range(count))):
                rows = []
                for n in chunk:
                    rows.append(_token_row(fleet, ring, settings, ids, n))
                    if rows[-1]["state"] == "active" and rows[-1]["fail_count"] < 3:
                        checkable.append(n)
                conn.execute(tokens.insert(), rows)
            for chunk in _chunks(list(range(count * audit_per_token))):
                conn.execute(audit.insert(), [_audit_row(fleet, n % count, n // count) for n in chunk])
    finally:
        store.close()
    return Fleet(url=url, keys=Path(keys), users=users, tokens=count, now=now, seed=seed, checkable=checkable)


def _token_row(fleet: Fleet, ring, settings: Settings, ids: dict, n: int) -> dict:
    state, serial, now = fleet.state(n), fleet.serial(n), fleet.now
    held = state in ("assigned", "active", "locked", "disabled")
    key_id, blob = ring.seal(serial, fleet.secret(n))
    row = dict(serial=serial, kind="hardware", algo="sha1", digits=6, period=30, key_id=key_id, secret_ct=blob,
               state=state, user_id=ids[fleet.login(n)] if held else None, model="pico-tm1637", firmware="1.0.0",
               operator="atelier", created_at=now - 86400 * 60, provisioned_at=now - 86400 * 60, clock_offset=0.4,
               state_reason=None, assigned_at=now - 86400 * 30 if held else None, pin_hash=None, drift=0,
               last_step=None, fail_count=0, locked_at=None, lock_count=0, version=3, updated_at=now - 3600)
    if state in ("active", "locked", "disabled"):
        row.update(pin_hash=hash_pin(ring, fleet.pin(n), settings), drift=fleet.drift(n),
                   last_step=fleet.last_step(n), fail_count=(n // 100) % 3)
    if state == "locked":
        row.update(fail_count=settings.lockout_after, locked_at=now - 600, lock_count=1,
                   state_reason="trop d'échecs")
    elif state == "disabled":
        row.update(state_reason="perdue")
    elif state == "retired":
        row.update(secret_ct=b"", state_reason="cassée")
    return row


def _audit_row(fleet: Fleet, n: int, k: int) -> dict:
    at = fleet.now - 86400 * 60 + n + 3600 * k
    if k == 0:
        return {"at": at, "actor": "atelier", "action": "token.import", "outcome": "ready", "login": None,
                "serial": fleet.serial(n), "source": None, "detail": "from=lot.pskcxml"}
    return {"at": at, "actor": "verifier", "action": "auth", "outcome": "ACCEPT", "login": fleet.login(n),
            "serial": fleet.serial(n), "source": "10.0.0.1", "detail": None}


@contextmanager
def fleet_database(kind: str) -> Iterator[str]:
    """The URL of an empty database for a fleet, removed afterwards: ``sqlite`` (a file in a temporary folder) or
    ``postgresql`` (a fresh database on the server of JETON_TEST_POSTGRES_URL, dropped afterwards)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="jeton-fleet-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'fleet.db'}"
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}: sqlite or postgresql")
    from tests.support import throwaway_postgres_database

    base = os.environ.get("JETON_TEST_POSTGRES_URL")
    if not base:
        raise RuntimeError("JETON_TEST_POSTGRES_URL is not set: no PostgreSQL fleet")
    with throwaway_postgres_database(base) as url:
        yield url.render_as_string(hide_password=False)


if __name__ == "__main__":  # a quick look: python -m benchmarks.fleet_data [USERS]
    import sys

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with fleet_database("sqlite") as db_url, tempfile.TemporaryDirectory() as keys_dir:
        began = time.perf_counter()
        made = build_fleet(db_url, Path(keys_dir) / "keys.json", users=size)
        print(f"{size} users and tokens in {time.perf_counter() - began:.1f} s; {len(made.checkable)} checkable")
