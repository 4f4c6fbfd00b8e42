"""Serial protocol v1: the verbs, their rules and their replies (DESIGN.md section 2.1)."""

import frame
import otp

PROTO = 1
FW = "1.0.0"
TIME_MIN = 1577836800  # 2020-01-01T00:00:00Z
TIME_MAX = 4102444799  # 2099-12-31T23:59:59Z
PROVE_PREFIX = b"jeton-prove:"
_SERIAL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
_VERBS = ("HELLO", "TIME", "SEED", "PROVE", "CODE", "LOCK", "WIPE")
_NARGS = {"HELLO": 0, "TIME": 1, "SEED": 5, "PROVE": 1, "CODE": 0, "LOCK": 0, "WIPE": 1}


class Reject(Exception):
    """A request refused with an error code (and optional words)."""


def valid_serial(s):
    if not 1 <= len(s) <= 16:
        return False
    for c in s:
        if c not in _SERIAL_CHARS:
            return False
    return True


def _digits(s):
    return len(s) > 0 and s.isdigit()


class Protocol:
    """Answers request lines for one token.

    ``store`` is a store.Store, ``clock`` a board clock (``now()``, ``lost()``, ``set(unix)``), ``model``
    the board name shown in HELLO. ``on_change`` is called after the state changed. ``present()`` says
    whether a person pressed the button and the display shows the code now: a locked token answers CODE only
    then (None: never). ``facts()`` returns extra HELLO words (`` display=ok battery=2.91``) or "".
    """

    def __init__(self, store, clock, model, on_change=None, present=None, facts=None):
        self.store = store
        self.clock = clock
        self.model = model
        self.on_change = on_change
        self.present = present
        self.facts = facts
        self.reader = frame.LineReader()

    @property
    def state(self):
        return self.store.state

    def feed(self, data):
        """Take bytes from the serial line; return the reply frames (bytes) to write back."""
        out = []
        for line in self.reader.feed(data):
            out.append(self.handle_line(line))
        return out

    def handle_line(self, line):
        if line is None:
            return frame.encode("0 ERR toolong")
        try:
            rid, words = frame.parse(line)
        except frame.FrameError as exc:
            return frame.encode("0 ERR " + exc.args[0])
        if words is None:
            return frame.encode(str(rid) + " ERR syntax")
        try:
            reply = self.dispatch(words)
            return frame.encode(str(rid) + " OK " + reply)
        except Reject as exc:
            return frame.encode(str(rid) + " ERR " + " ".join(exc.args))

    def dispatch(self, words):
        if words[0] not in _VERBS:
            raise Reject("verb")
        verb = words[0]
        args = words[1:]
        st = self.store.state
        if st == "corrupt" and verb not in ("HELLO", "WIPE"):
            raise Reject("storage")
        if len(args) != _NARGS[verb]:
            raise Reject("arg", "count")
        return getattr(self, "_" + verb.lower())(args, st)

    def _now(self):
        return int(self.clock.now())

    def clock_ok(self):
        """False when the clock lost power, or reads a time outside 2020..2099 (it cannot be right)."""
        return not self.clock.lost() and TIME_MIN <= self._now() <= TIME_MAX

    def _hello(self, args, st):
        serial = self.store.serial if st in ("seeded", "locked") else "-"
        hello = "proto=%d fw=%s model=%s serial=%s state=%s clock=%s time=%d" % (
            PROTO, FW, self.model, serial, st, "ok" if self.clock_ok() else "lost", self._now())
        return hello + self.facts() if self.facts is not None else hello

    def _time(self, args, st):
        t = args[0]
        if not _digits(t) or len(t) > 10 or not TIME_MIN <= int(t) <= TIME_MAX:
            raise Reject("arg", "time")
        if st not in ("blank", "seeded"):
            raise Reject("state")
        self.clock.set(int(t))
        return "time=%d" % self._now()

    def _seed(self, args, st):
        serial, secret_b32, algo, digits, period = args
        if not valid_serial(serial):
            raise Reject("arg", "serial")
        if len(secret_b32) > 110:
            raise Reject("arg", "secret")
        try:
            secret = otp.b32decode(secret_b32)
        except ValueError:
            secret = b""
        if not 16 <= len(secret) <= 64:
            raise Reject("arg", "secret")
        if algo not in ("sha1", "sha256"):
            raise Reject("arg", "algo")
        if digits not in ("6", "8"):
            raise Reject("arg", "digits")
        if period not in ("30", "60"):
            raise Reject("arg", "period")
        if st != "blank":
            raise Reject("state")
        if not self.store.save("seeded", serial, secret, algo, int(digits), int(period)):
            raise Reject("storage")
        self._changed()
        return "state=seeded"

    def _prove(self, args, st):
        nonce = args[0]
        if not 16 <= len(nonce) <= 64 or len(nonce) % 2 or not frame._is_hex(nonce):
            raise Reject("arg", "nonce")
        if st not in ("seeded", "locked"):
            raise Reject("state")
        n = bytes(int(nonce[i : i + 2], 16) for i in range(0, len(nonce), 2))
        mac = otp.hmac(self.store.algo, self.store.secret, PROVE_PREFIX + n)
        return "mac=" + "".join("%02x" % b for b in mac)

    def code_now(self):
        """(code, step, seconds left) for the clock's current time."""
        s = self.store
        now = self._now()
        step = now // s.period
        return otp.hotp(s.secret, step, s.digits, s.algo), step, s.period - now % s.period

    def _code(self, args, st):
        if st not in ("seeded", "locked"):
            raise Reject("state")
        if not self.clock_ok():
            raise Reject("clock")
        # The USB never tells more than the display shows: software on the host cannot read a locked token's
        # codes unless a person pressed its button and the code is on its display right now.
        if st == "locked" and (self.present is None or not self.present()):
            raise Reject("presence")
        code, step, left = self.code_now()
        return "code=%s step=%d left=%d" % (code, step, left)

    def _lock(self, args, st):
        if st != "seeded":
            raise Reject("state")
        s = self.store
        if not s.save("locked", s.serial, s.secret, s.algo, s.digits, s.period):
            raise Reject("storage")
        self._changed()
        return "state=locked"

    def _wipe(self, args, st):
        serial = args[0]
        if not valid_serial(serial):
            raise Reject("arg", "serial")
        if st in ("seeded", "locked") and serial != self.store.serial:
            raise Reject("arg", "serial")
        if not self.store.wipe():
            raise Reject("storage")
        self._changed()
        return "state=blank"

    def _changed(self):
        if self.on_change is not None:
            self.on_change()
