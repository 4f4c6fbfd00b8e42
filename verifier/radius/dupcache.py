"""The duplicate-request cache of RFC 5080 §2.2.2: a gateway that lost a reply sends the same Access-Request again
(same source, Identifier and Request Authenticator); it gets the reply it missed, and the verifier is not asked a
second time (it would refuse the same code as a replay).

One cache per server process. Several processes on one host share a port with SO_REUSEPORT, whose kernel hash of
the source address and port sends a gateway's retransmissions to the process that answered the first copy.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict


class DuplicateCache:
    """Replies by (source address, source port, Identifier, Request Authenticator), kept ``ttl`` seconds, at most
    ``size`` of them (oldest dropped first). A request with the same key but other contents is not a duplicate."""

    def __init__(self, ttl: float = 30.0, size: int = 65536) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[tuple, tuple[float, bytes, bytes]] = OrderedDict()

    @staticmethod
    def key(address: tuple, packet: bytes) -> tuple:
        return address[0], address[1], packet[1], packet[4:20]

    def get(self, key: tuple, packet: bytes, now: float) -> bytes | None:
        self._expire(now)
        entry = self._entries.get(key)
        if entry is None or entry[1] != hashlib.sha256(packet).digest():
            return None
        return entry[2]

    def put(self, key: tuple, packet: bytes, reply: bytes, now: float) -> None:
        self._entries[key] = (now + self.ttl, hashlib.sha256(packet).digest(), reply)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def _expire(self, now: float) -> None:
        while self._entries:
            first = next(iter(self._entries.values()))
            if first[0] > now:
                break
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
