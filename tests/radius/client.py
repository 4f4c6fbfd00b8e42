"""A small RADIUS client for the tests (pyrad packets over a UDP socket), with a fixed shared secret."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from pyrad import packet as rp

from verifier.radius.dictionary import dictionary

SECRET = b"s3cret-for-tests-0123456789"


@dataclass
class Reply:
    code: int
    message: str | None
    state: bytes | None
    raw: bytes

    @property
    def kind(self) -> str:
        return {rp.AccessAccept: "Access-Accept", rp.AccessReject: "Access-Reject",
                rp.AccessChallenge: "Access-Challenge"}.get(self.code, str(self.code))


def request(login: str | None, password: str | None, *, state: bytes | None = None, secret: bytes = SECRET,
            message_authenticator: bool = True, calling: str | None = None, code: int = rp.AccessRequest,
            ident: int | None = None) -> rp.AuthPacket:
    pkt = rp.AuthPacket(code=code, secret=secret, dict=dictionary(), id=ident)
    if login is not None:
        pkt["User-Name"] = login
    if password is not None:
        pkt["User-Password"] = pkt.PwCrypt(password)
    if state is not None:
        pkt["State"] = state
    if calling is not None:
        pkt["Calling-Station-Id"] = calling
    if message_authenticator:
        pkt.add_message_authenticator()
    return pkt


def encode(pkt: rp.AuthPacket) -> bytes:
    return pkt.RequestPacket()


def decode(pkt: rp.AuthPacket, raw: bytes) -> Reply:
    """Decode and check a reply the way a careful gateway does: authenticator and Message-Authenticator."""
    reply = pkt.CreateReply(packet=raw)
    assert pkt.VerifyReply(reply, raw, enforce_ma=True), "reply authenticator or Message-Authenticator wrong"
    message = reply[18][0].decode() if 18 in reply else None
    state = reply[24][0] if 24 in reply else None
    return Reply(reply.code, message, state, raw)


def exchange(address: tuple[str, int], pkt: rp.AuthPacket, *, timeout: float = 5.0,
             raw: bytes | None = None) -> Reply | None:
    """Send one packet (or ``raw`` bytes as if they were it) and wait for its reply; None on timeout."""
    data = raw if raw is not None else encode(pkt)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(data, address)
        try:
            answer, _ = sock.recvfrom(4096)
        except TimeoutError:
            return None
    return decode(pkt, answer)


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
