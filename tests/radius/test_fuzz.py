"""Malformed, forged and stray packets: dropped and counted, never a crash, never a change in the store."""

from __future__ import annotations

import hashlib
import hmac
import random
import socket
import struct

import pyrad.packet as rp
import sqlalchemy as sa

from tests.radius.client import SECRET, decode, encode, exchange, request
from tests.radius.conftest import audit_count
from tests.verifier.helpers import assigned_token
from verifier import Verifier
from verifier.radius.clients import load_clients
from verifier.radius.handler import RadiusHandler
from verifier.schema import tickets, tokens

NAS = ("127.0.0.1", 40000)
T0 = 1_800_000_000.0


def _snapshot(store) -> tuple:
    with store.engine.connect() as conn:
        return (tuple(conn.execute(sa.select(tokens).order_by(tokens.c.id)).all()),
                tuple(conn.execute(sa.select(tickets)).all()), audit_count(store))


def _sign(data: bytearray, secret: bytes) -> bytes:
    """Fill in the Message-Authenticator (the first attribute) the way a gateway holding the secret would."""
    data[2:4] = struct.pack("!H", len(data))
    data[22:38] = bytes(16)
    data[22:38] = hmac.new(secret, bytes(data), hashlib.md5).digest()
    return bytes(data)


def _bad_packet(rng: random.Random, valid: bytes) -> tuple[bytes, tuple]:
    """One packet the server must drop, and where it comes from."""
    kind = rng.randrange(6)
    if kind == 0:  # noise, often with a plausible header
        data = bytearray(rng.randbytes(rng.randrange(0, 300)))
        if data and rng.random() < 0.8:
            data[0] = rng.choice((rp.AccessRequest, rp.StatusServer))
        if len(data) >= 4 and rng.random() < 0.5:
            data[2:4] = struct.pack("!H", len(data))
        return bytes(data), NAS
    if kind == 1:  # a real request with a few bytes flipped (the MA no longer matches, or the lengths break)
        data = bytearray(valid)
        for _ in range(rng.randrange(1, 5)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        if bytes(data) == valid:
            data[-1] ^= 1
        return bytes(data), NAS
    if kind == 2:  # truncated, or extended with the Length saying so (bytes past the Length are mere padding)
        if rng.random() < 0.5:
            return valid[:rng.randrange(0, len(valid) - 1)], NAS
        data = bytearray(valid + rng.randbytes(rng.randrange(1, 40)))
        data[2:4] = struct.pack("!H", len(data))
        return bytes(data), NAS
    if kind == 3:  # random attributes signed with a WRONG secret
        attrs = b"".join(bytes([rng.randrange(256), n + 2]) + rng.randbytes(n)
                         for n in (rng.randrange(0, 30) for _ in range(rng.randrange(0, 8))))
        data = bytearray([1, rng.randrange(256), 0, 0]) + rng.randbytes(16) + bytes([80, 18]) + bytes(16) + attrs
        return _sign(data, b"a-wrong-secret-of-the-attacker"), NAS
    if kind == 4:  # the right bytes from an address nobody declared
        return valid, (f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}", rng.randrange(65536))
    # other codes: Access-Accept, Accounting, CoA... sent to the authentication port
    data = bytearray(valid)
    data[0] = rng.choice((2, 3, 4, 5, 11, 40, 43, 255, 0))
    return bytes(data), NAS


def test_100000_bad_packets_are_dropped_counted_and_never_touch_the_store(store, planted):
    codes = assigned_token(store, "FZ-0001", "mdupont", planted=planted)
    handler = RadiusHandler(Verifier(store), load_clients(store), clock=lambda: T0)
    valid = encode(request("mdupont", "4821" + planted.value(codes.code(codes.step_of(T0)))))
    rng = random.Random(14)  # noqa: S311 - reproducible fuzzing, not cryptography
    before = _snapshot(store)
    for _ in range(100_000):
        data, source = _bad_packet(rng, valid)
        assert handler.handle(data, source) is None
    assert _snapshot(store) == before
    dropped = sum(v for k, v in handler.counts.items() if k.startswith("dropped_"))
    assert dropped == 100_000
    assert set(handler.counts) <= {f"dropped_{r}" for r in ("unknown_client", "malformed", "unsupported_code",
                                                             "no_message_authenticator", "bad_message_authenticator")}
    pkt = request(None, None, code=rp.StatusServer)  # and it still answers
    assert decode(pkt, handler.handle(encode(pkt), NAS)).kind == "Access-Accept"


def test_well_signed_requests_with_random_attributes_get_an_answer_or_are_dropped(store, planted):
    """A declared gateway sending odd but signed packets: each gets Access-Reject or is dropped, nothing crashes."""
    handler = RadiusHandler(Verifier(store), load_clients(store), clock=lambda: T0)
    rng = random.Random(1812)  # noqa: S311
    answered = 0
    for _ in range(1500):
        attrs = b"".join(bytes([rng.choice((1, 2, 4, 18, 24, 31, 32, 33, 26, 79, rng.randrange(256))), n + 2])
                         + rng.randbytes(n) for n in (rng.randrange(0, 40) for _ in range(rng.randrange(0, 6))))
        data = bytearray([rp.AccessRequest, rng.randrange(256), 0, 0]) + rng.randbytes(16)
        data += bytes([80, 18]) + bytes(16) + attrs
        reply = handler.handle(_sign(data, SECRET), NAS)
        if reply is not None:
            answered += 1
            assert reply[0] == rp.AccessReject
    assert answered > 1000


def test_the_running_server_survives_a_flood_of_garbage(server, store):
    rng = random.Random(5997)  # noqa: S311
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(3000):
            sock.sendto(rng.randbytes(rng.randrange(1, 200)), server.address)
    before = audit_count(store)
    reply = exchange(server.address, request(None, None, code=rp.StatusServer))
    assert reply is not None and reply.kind == "Access-Accept"
    stats = server.stop()
    assert server.process.returncode == 0
    assert "dropped_" in stats and "status=1" in stats
    assert audit_count(store) == before
