"""Serial protocol v1 framing: ``BODY*CRC\\n`` lines, CRC-32 in 8 hex digits (DESIGN.md section 2.1)."""

import binascii

MAX_LINE = 200  # bytes before the newline


def crc_hex(body):
    """The 8 lowercase hex digits of the CRC-32 of ``body`` (bytes)."""
    s = "%08x" % (binascii.crc32(body) & 0xFFFFFFFF)
    return s


def encode(body):
    """The frame for reply ``body`` (str), as bytes with its newline."""
    b = body.encode()
    return b + b"*" + crc_hex(b).encode() + b"\n"


class LineReader:
    """Gathers bytes into lines of at most MAX_LINE bytes; an over-long line is dropped up to its newline.

    ``feed`` returns the list of complete lines (without newline, trailing CR removed); an over-long
    line shows up as ``None`` once its newline arrives.
    """

    def __init__(self):
        self._buf = bytearray()
        self._overflow = False

    def feed(self, data):
        out = []
        for byte in data:
            if byte == 10:
                if self._overflow:
                    out.append(None)
                else:
                    line = bytes(self._buf)
                    if line.endswith(b"\r"):
                        line = line[:-1]
                    out.append(line)
                self._buf = bytearray()
                self._overflow = False
            elif self._overflow:
                continue
            elif len(self._buf) >= MAX_LINE:
                self._overflow = True
                self._buf = bytearray()
            else:
                self._buf.append(byte)
        return out

    def pending(self):
        """Bytes held for the current, unfinished line."""
        return len(self._buf)


def _is_hex(s):
    for c in s:
        if c not in "0123456789abcdefABCDEF":
            return False
    return True


def parse(line):
    """Split a request line into (id, words), or raise FrameError with the reply code and id 0."""
    for byte in line:
        if byte < 0x20 or byte > 0x7E:
            raise FrameError("syntax")
    star = line.rfind(b"*")
    if star < 0:
        raise FrameError("syntax")
    body = line[:star]
    crc = line[star + 1 :].decode()
    if len(crc) != 8 or not _is_hex(crc):
        raise FrameError("syntax")
    if crc.lower() != crc_hex(body):
        raise FrameError("crc")
    words = body.decode().split(" ")
    rid = words[0]
    if not (1 <= len(rid) <= 4) or not rid.isdigit() or rid[0] == "0":
        raise FrameError("syntax")
    words = words[1:]
    if not words or "" in words:
        return int(rid), None  # readable ID, but no verb or an empty word: "ID ERR syntax"
    return int(rid), words


class FrameError(Exception):
    """A line that is not a well-formed frame: answered with ID 0 and the code in ``args[0]``."""
