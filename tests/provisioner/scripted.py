"""A scripted device on a real pseudo-terminal, for the cases a working firmware never produces.

The provisioner opens the pty's path with pyserial exactly as it opens a simulator or /dev/ttyACM0; the script
is a function from each request line to the raw bytes to send back (garbage, silence, a wrong MAC...).
"""

from __future__ import annotations

import binascii
import os
import threading
from collections.abc import Callable


def frame(body: str) -> bytes:
    """A well-formed frame line for ``body``."""
    return f"{body}*{binascii.crc32(body.encode()) & 0xFFFFFFFF:08x}\n".encode()


def parse_request(line: bytes) -> tuple[str, str, list[str]]:
    """(id, verb, args) of a request line, checked the way the firmware checks it."""
    body, _, crc = line.rstrip(b"\r").rpartition(b"*")
    assert f"{binascii.crc32(body) & 0xFFFFFFFF:08x}".encode() == crc, line
    words = body.decode().split(" ")
    return words[0], words[1], words[2:]


class ScriptedDevice:
    """Answers each request line on a pty with ``script(line) -> bytes`` (b"" for silence)."""

    def __init__(self, script: Callable[[bytes], bytes]) -> None:
        self.script = script
        self.received: list[bytes] = []
        self._master, slave = os.openpty()
        self.port = os.ttyname(slave)
        os.close(slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ScriptedDevice:
        import tty

        fd = os.open(self.port, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)  # no echo, no line discipline: bytes pass as on a USB CDC port
        os.close(fd)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self._master)

    def _run(self) -> None:
        import select

        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                pending += os.read(self._master, 4096)
            except OSError:
                continue
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if not line:
                    continue
                self.received.append(line)
                out = self.script(line)
                if out:
                    os.write(self._master, out)
