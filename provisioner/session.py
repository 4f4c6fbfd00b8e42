"""``TokenSession``: one method per verb of the serial protocol v1, typed facts in, typed facts out.

>>> with TokenSession.open("/dev/ttyACM0") as token:   # doctest: +SKIP
...     facts = token.hello()
...     facts.state, facts.serial
('blank', None)
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from provisioner.errors import BadReplyError, ClockError
from provisioner.protocol import Channel
from provisioner.transport import Transport

STATES = ("blank", "seeded", "locked", "corrupt")
ALGOS = ("sha1", "sha256")
DIGITS = (6, 8)
PERIODS = (30, 60)
SERIAL_RE = re.compile(r"[A-Z0-9-]{1,16}")
MIN_TIME, MAX_TIME = 1577836800, 4102444799


def valid_serial(serial: str) -> bool:
    """True when ``serial`` is 1..16 characters of A-Z, 0-9 and '-' (DESIGN.md §2.1)."""
    return SERIAL_RE.fullmatch(serial) is not None


@dataclass(frozen=True)
class Hello:
    """What HELLO says about a token."""

    proto: int
    firmware: str
    model: str
    serial: str | None  # None on a blank token ("serial=-")
    state: str
    clock_ok: bool
    time: int
    battery: float | None = None  # volts (VSYS), when the board reports it (``battery=`` on a Pico)


@dataclass(frozen=True)
class Code:
    """The code the token shows now, its time step, and the seconds left in that step."""

    code: str
    step: int
    left: int


def _volts(text: str | None) -> float | None:
    """HELLO's ``battery=VOLTS``; None when absent or not a plausible reading (hosts ignore what they cannot use)."""
    try:
        volts = float(text) if text is not None else None
    except ValueError:
        return None
    return volts if volts is not None and 0 <= volts < 10 else None


class TokenSession:
    """A conversation with one token. Use :meth:`open` (or pass a :class:`Channel`) as a context manager."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    @classmethod
    def open(cls, port: str, *, timeout: float = 2.0, read_timeout: float = 0.05) -> TokenSession:
        """Open ``port`` (a device path, a pty, or any pyserial URL) and resynchronise the framing."""
        transport = Transport(port, read_timeout=read_timeout)
        try:
            channel = Channel(transport, timeout=timeout)
            channel.resync()
        except BaseException:
            transport.close()
            raise
        return cls(channel)

    @property
    def port(self) -> str:
        return self.channel.transport.url

    def __enter__(self) -> TokenSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.transport.close()

    # --- the verbs -------------------------------------------------------------------------------------------

    def hello(self) -> Hello:
        """HELLO: identify the token (allowed in every state)."""
        reply = self.channel.request("HELLO")
        state = reply.field("HELLO", "state")
        clock = reply.field("HELLO", "clock")
        if state not in STATES or clock not in ("ok", "lost"):
            raise BadReplyError("HELLO", "état ou horloge inconnus")
        serial = reply.field("HELLO", "serial")
        return Hello(
            proto=reply.int_field("HELLO", "proto"),
            firmware=reply.field("HELLO", "fw"),
            model=reply.field("HELLO", "model"),
            serial=None if serial == "-" else serial,
            state=state,
            clock_ok=clock == "ok",
            time=reply.int_field("HELLO", "time"),
            battery=_volts(reply.fields.get("battery")),
        )

    def set_time(self, unix: int) -> int:
        """TIME: set the token's clock (UTC Unix seconds); returns the time the token reports."""
        if not MIN_TIME <= unix <= MAX_TIME:
            raise ClockError(f"l'heure de ce poste ({int(unix)}) est hors de 2020..2099 : corrigez-la avant tout")
        return self.channel.request("TIME", str(int(unix))).int_field("TIME", "time")

    def seed(self, serial: str, secret: bytes, algo: str, digits: int, period: int) -> None:
        """SEED: store the secret on a blank token. The secret is never logged or put in an error."""
        if not valid_serial(serial):
            raise ValueError("serial must be 1..16 of A-Z, 0-9, '-'")
        if algo not in ALGOS or digits not in DIGITS or period not in PERIODS or not 16 <= len(secret) <= 64:
            raise ValueError("unsupported token parameters")
        b32 = base64.b32encode(secret).decode("ascii").rstrip("=")
        reply = self.channel.request("SEED", serial, b32, algo, str(digits), str(period))
        self._expect_state("SEED", reply.field("SEED", "state"), "seeded")

    def prove(self, nonce: bytes) -> bytes:
        """PROVE: the token's HMAC over ``b"jeton-prove:" + nonce`` (nonce of 8..32 bytes)."""
        if not 8 <= len(nonce) <= 32:
            raise ValueError("nonce must be 8..32 bytes")
        mac = self.channel.request("PROVE", nonce.hex()).field("PROVE", "mac")
        try:
            return bytes.fromhex(mac)
        except ValueError:
            raise BadReplyError("PROVE", "mac non hexadécimal") from None

    def code(self) -> Code:
        """CODE: the code the token displays now.

        A locked token answers only while its display shows the code after a press of its button; otherwise
        DeviceError with code ``presence``.
        """
        reply = self.channel.request("CODE")
        code = reply.field("CODE", "code")
        if not code.isdigit():
            raise BadReplyError("CODE", "code non numérique")
        return Code(code=code, step=reply.int_field("CODE", "step"), left=reply.int_field("CODE", "left"))

    def lock(self) -> None:
        """LOCK: no more TIME, SEED or REPL; only WIPE brings the token back to blank."""
        self._expect_state("LOCK", self.channel.request("LOCK").field("LOCK", "state"), "locked")

    def wipe(self, serial: str | None) -> None:
        """WIPE: destroy the secret (``serial`` must match the token's, or the token be blank)."""
        reply = self.channel.request("WIPE", serial or "-")
        self._expect_state("WIPE", reply.field("WIPE", "state"), "blank")

    @staticmethod
    def _expect_state(verb: str, got: str, wanted: str) -> None:
        if got != wanted:
            raise BadReplyError(verb, f"état {got} au lieu de {wanted}")
