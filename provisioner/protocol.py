"""Frames of the serial protocol v1 (DESIGN.md §2.1): ``BODY*CRC``, CRC-32 of BODY in 8 lowercase hex digits.

Pure functions to build and read frames, and a :class:`Channel` that sends one request and waits for the reply
carrying its id, dropping everything else (stale replies, a REPL banner, line noise).
"""

from __future__ import annotations

import binascii
import secrets
import time
from dataclasses import dataclass, field

from provisioner.errors import BadReplyError, DeviceError, NoReplyError
from provisioner.transport import Transport

MAX_FRAME = 200
MIN_ID, MAX_ID = 1, 9999


class FrameError(ValueError):
    """A line that is not a well-formed reply frame (the channel drops it)."""


def crc_hex(body: bytes) -> str:
    """The frame check of ``body``: CRC-32 as ``binascii.crc32``, 8 lowercase hex digits."""
    return f"{binascii.crc32(body) & 0xFFFFFFFF:08x}"


def encode_request(request_id: int, verb: str, *args: str) -> bytes:
    """The line (with its newline) for one request. Raises ValueError for an id or a frame out of bounds."""
    if not MIN_ID <= request_id <= MAX_ID:
        raise ValueError(f"request id {request_id} outside {MIN_ID}..{MAX_ID}")
    words = [str(request_id), verb, *args]
    if any(not w or " " in w or "*" in w or "\n" in w for w in words):
        raise ValueError("a word of a request is empty or holds a separator")
    body = " ".join(words).encode("ascii")
    frame = body + b"*" + crc_hex(body).encode("ascii")
    if len(frame) > MAX_FRAME:
        raise ValueError(f"{verb} frame is {len(frame)} bytes, more than {MAX_FRAME}")
    return frame + b"\n"


@dataclass(frozen=True)
class Reply:
    """One decoded reply: ``ID OK key=value ...`` or ``ID ERR CODE words...``."""

    request_id: int
    ok: bool
    fields: dict[str, str] = field(default_factory=dict)
    code: str = ""
    words: tuple[str, ...] = ()

    def field(self, verb: str, name: str) -> str:
        """The value of ``name``; a reply without it is a :class:`BadReplyError`."""
        try:
            return self.fields[name]
        except KeyError:
            raise BadReplyError(verb, f"champ {name} absent") from None

    def int_field(self, verb: str, name: str) -> int:
        value = self.field(verb, name)
        if not value.isdigit():
            raise BadReplyError(verb, f"champ {name} non numérique")
        return int(value)


def decode_reply(line: bytes) -> Reply:
    """Decode one line (without its newline). Raises :class:`FrameError` for anything but a reply frame."""
    if line.endswith(b"\r"):
        line = line[:-1]
    if len(line) > MAX_FRAME:
        raise FrameError("frame too long")
    body, star, check = line.rpartition(b"*")
    if not star or len(check) != 8:
        raise FrameError("no CRC")
    try:
        text = body.decode("ascii")
        wanted = check.decode("ascii").lower()
    except UnicodeDecodeError:
        raise FrameError("not ASCII") from None
    if crc_hex(body) != wanted:
        raise FrameError("bad CRC")
    words = text.split(" ")
    if len(words) < 2 or not words[0].isdigit() or len(words[0]) > 4:
        raise FrameError("no id")
    request_id = int(words[0])
    if words[1] == "OK":
        fields = {}
        for word in words[2:]:
            key, eq, value = word.partition("=")
            if not eq or not key:
                raise FrameError("OK reply word is not key=value")
            fields[key] = value
        return Reply(request_id, True, fields)
    if words[1] == "ERR" and len(words) >= 3:
        return Reply(request_id, False, code=words[2], words=tuple(words[3:]))
    raise FrameError("neither OK nor ERR")


class Channel:
    """Requests and replies over a :class:`Transport`: one outstanding request at a time.

    Request ids start at a random point (so a reply left over from an earlier process is not taken for ours)
    and wrap within 1..9999.
    """

    def __init__(self, transport: Transport, *, timeout: float = 2.0) -> None:
        self.transport = transport
        self.timeout = timeout
        self._next_id = MIN_ID + secrets.randbelow(MAX_ID)
        self.dropped = 0  # lines dropped since the channel opened (stale replies, noise)

    def resync(self) -> None:
        """End whatever partial line the device holds (e.g. from a process killed mid-write), drop stale input."""
        self.transport.discard_input()
        # The device may answer the empty line with an id-0 error: no request of ours has id 0, so it is dropped.
        self.transport.write(b"\n")

    def request(self, verb: str, *args: str, timeout: float | None = None) -> Reply:
        """Send ``verb args`` and return its OK reply; ``ERR`` raises :class:`DeviceError`.

        Raises :class:`NoReplyError` when no reply with our id arrives within ``timeout`` (whole exchange).
        """
        request_id = self._take_id()
        limit = self.timeout if timeout is None else timeout
        self.transport.write(encode_request(request_id, verb, *args))
        deadline = time.monotonic() + limit
        noise = 0
        while True:
            line = self.transport.read_line(deadline)
            if line is None:
                raise NoReplyError(self.transport.url, verb, limit, noise_lines=noise)
            try:
                reply = decode_reply(line)
            except FrameError:
                noise += 1
                self.dropped += 1
                continue
            if reply.request_id != request_id:
                self.dropped += 1
                continue
            if not reply.ok:
                raise DeviceError(verb, reply.code, reply.words)
            return reply

    def _take_id(self) -> int:
        request_id = self._next_id
        self._next_id = MIN_ID if request_id >= MAX_ID else request_id + 1
        return request_id
