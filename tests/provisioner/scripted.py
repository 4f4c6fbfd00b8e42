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


class ScriptedToken:
    """The protocol's happy path in a few lines, with a hook to misbehave: for wrong PROVEs and lost clocks.

    Real behaviour is tested against the firmware itself (the simulator); this only makes the faults a working
    firmware never shows. ``faults`` may hold: ``"prove"`` (a wrong MAC), ``"clock"`` (CODE answers
    ``ERR clock``), ``"ahead"`` (its clock reads 100 s ahead and TIME is recorded), ``"slow"`` (0.15 s per reply).
    Like the firmware, a locked token answers CODE only while ``pressed`` (its display shows the code), and
    TIME restarts the clock's second as a DS3231 does.
    """

    def __init__(self, faults: set[str] = frozenset()) -> None:
        import time as _time

        self.faults = set(faults)
        self.state, self.serial, self.secret, self.algo = "blank", "-", None, "sha1"
        self.offset = 100 if "ahead" in faults else 0
        self.verbs: list[str] = []
        self.pressed = False
        self._time = _time

    def __call__(self, line: bytes) -> bytes:
        import base64
        import hashlib
        import hmac

        rid, verb, args = parse_request(line)
        self.verbs.append(verb)
        if "slow" in self.faults:  # a slow USB hub, or a token busy drawing its display
            self._time.sleep(0.15)
        now = int(self._time.time() + self.offset)
        if verb == "HELLO":
            return frame(f"{rid} OK proto=1 fw=0.0-scripted model=script serial={self.serial} state={self.state} "
                         f"clock=ok time={now}")
        if verb == "TIME":
            self.offset = int(args[0]) - self._time.time()
            return frame(f"{rid} OK time={args[0]}")
        if verb == "SEED":
            self.serial, self.algo = args[0], args[2]
            self.secret = base64.b32decode(args[1] + "=" * (-len(args[1]) % 8))
            self.state = "seeded"
            return frame(f"{rid} OK state=seeded")
        if verb == "PROVE":
            key = b"not the secret" if "prove" in self.faults else self.secret
            mac = hmac.new(key, b"jeton-prove:" + bytes.fromhex(args[0]), getattr(hashlib, self.algo)).hexdigest()
            return frame(f"{rid} OK mac={mac}")
        if verb == "CODE":
            if "clock" in self.faults:
                return frame(f"{rid} ERR clock")
            if self.state == "locked" and not self.pressed:
                return frame(f"{rid} ERR presence")
            import pyotp

            totp = pyotp.TOTP(base64.b32encode(self.secret).decode(), digest=getattr(hashlib, self.algo))
            return frame(f"{rid} OK code={totp.at(now)} step={now // 30} left={30 - now % 30}")
        if verb == "LOCK":
            self.state = "locked"
            return frame(f"{rid} OK state=locked")
        if verb == "WIPE":
            self.state, self.serial, self.secret = "blank", "-", None
            return frame(f"{rid} OK state=blank")
        return frame(f"{rid} ERR verb")
