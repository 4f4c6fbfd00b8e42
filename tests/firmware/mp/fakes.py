"""Fakes for device tests under MicroPython (and CPython): a settable clock, a recording display, a board."""


class FakeClock:
    """A DS3231 stand-in: the time the test says, and its oscillator-stop flag."""

    def __init__(self, now, lost=False):
        self.t = now
        self._lost = lost
        self.sets = []

    def now(self):
        return self.t

    def lost(self):
        return self._lost

    def set(self, unix):
        self.sets.append(unix)
        self.t = unix
        self._lost = False


class FakeDisplay:
    def __init__(self):
        self.log = []
        self.text = None
        self.dots = 0

    def show(self, text, dots):
        self.text = text
        self.dots = dots
        self.log.append((text, dots))

    def off(self):
        self.text = None
        self.dots = 0
        self.log.append(None)


class FakeBoard:
    """Everything app.App touches, driven by the test: bytes in, frames out, presses, milliseconds."""

    MODEL = "fake"
    PRESS_AT_BOOT = False
    SCRUB = False
    BATTERY_LOW = 2.2
    WATCHDOG_MS = 8000

    def __init__(self, flash_dir, clock):
        self.flash_dir = flash_dir
        self.clock = clock
        self.display = FakeDisplay()
        self.ms = 0
        self.inbox = b""
        self.outbox = []
        self.presses = 0
        self.held = False
        self.holds = []
        self.ctrl_c = None
        self.sleeps = []
        self.follow = False
        self.frozen = False  # with follow: the milliseconds move, the clock does not (a stopped DS3231)
        self.t0 = clock.t
        self.phase_ms = 0
        self.reads = 0
        self.always_on = False
        self.volts = None  # battery(): None on USB, else the cells' voltage
        self.watched = False
        self.last_feed = 0
        self.feeds = 0
        self.resets = []  # ms at which the stand-in watchdog would have reset the board
        self.hang_at = None  # (read number, ms): that read of the serial line blocks this long (a hang)

    def _overdue(self):
        if self.watched and self.ms - self.last_feed > self.WATCHDOG_MS:
            self.resets.append(self.last_feed + self.WATCHDOG_MS)
            self.last_feed = self.ms  # the board restarted

    def watch(self):
        if not self.watched:
            self.watched = True
            self.last_feed = self.ms

    def feed(self):
        self._overdue()
        self.feeds += 1
        self.last_feed = self.ms

    def battery(self):
        return self.volts

    def facts(self):
        return ""

    def ticks_ms(self):
        return self.ms

    def ticks_add(self, a, b):
        return a + b

    def ticks_diff(self, a, b):
        return a - b

    def sleep(self, ms):
        """Records each sleep; with ``follow`` set, the milliseconds and the clock move by it (a sleeping token)."""
        self.sleeps.append(ms)
        if self.follow:
            self.ms += ms
            if not self.frozen:
                self.clock.t = self.t0 + (self.ms + self.phase_ms) // 1000

    def read(self):
        self.reads += 1
        if self.hang_at is not None and self.reads == self.hang_at[0]:
            self.ms += self.hang_at[1]
            self._overdue()
        data = self.inbox[:64]
        self.inbox = self.inbox[64:]
        return data

    def write(self, data):
        self.outbox.append(data)

    def pressed(self):
        if self.presses:
            self.presses -= 1
            return True
        return False

    def hold(self):
        self.held = True
        self.holds.append(("hold", self.ms))

    def release(self):
        self.held = False
        self.holds.append(("release", self.ms))

    def set_ctrl_c(self, enabled):
        self.ctrl_c = enabled
