"""Board file for the simulator: the same firmware on a developer's machine, under the unix port.

- serial: stdin and stdout (the simulator puts them on a pseudo-terminal);
- display and power hold: lines written to the file descriptor in ``JETON_DISPLAY_FD``
  (``D <dots> <text>``, ``OFF``, ``HOLD``, ``RELEASE``);
- button: one byte on the file descriptor in ``JETON_BUTTON_FD`` is one press;
- clock: the host clock plus an offset: ``rtc.txt`` in the flash directory plays the DS3231 (the offset
  set by TIME, the oscillator-stop flag and when it was set, kept across runs), ``JETON_CLOCK_OFFSET`` adds
  a fixed offset and ``JETON_CLOCK_PPM`` a rate error (a clone DS3231 runs 30 s/day = 350 ppm fast or slow);
- flash: the directory ``JETON_FLASH`` (default: the current directory);
- ``JETON_ALWAYS_ON=1``: the display stays on as if the button were held (demos, tests);
- Ctrl-C: the interpreter's own (``micropython.kbd_intr``); the simulator turns a 0x03 byte into SIGINT
  while the interpreter catches it, as MicroPython's USB serial does, and the board reports each change on
  the display descriptor (``KBD 1`` / ``KBD 0``).

With none of these set (plain ``micropython main.py``), the token still answers on stdin and stdout.
"""

import os
import select
import sys
import time

import cal
import micropython

MODEL = "host"
RTC_FILE = "rtc.txt"


def flash_dir():
    return os.getenv("JETON_FLASH") or ""


def _env_int(name):
    v = os.getenv(name)
    return int(v) if v else None


class HostClock:
    """Host time (whatever this port's epoch) + the simulated RTC's offset + a drift."""

    def __init__(self, root, drift=0.0, clock=None, ppm=0.0):
        self.path = (root.rstrip("/") + "/" if root else "") + RTC_FILE
        self.drift = drift
        self.rate = ppm / 1000000
        self._time = clock if clock is not None else time
        self._epoch = cal.epoch_offset(self._time.gmtime)
        self.offset = 0.0
        self._lost = False
        self.since = self._host()  # host time from which the rate error accumulates (the last TIME)
        try:
            with open(self.path) as f:
                words = f.read(80).split()
            self.offset = float(words[0])
            self._lost = words[1] == "1"
            if len(words) > 2:
                self.since = float(words[2])
        except (OSError, ValueError, IndexError):
            pass

    def _host(self):
        return self._time.time() + self._epoch + self.drift

    def now(self):
        host = self._host()
        return int(host + self.offset + (host - self.since) * self.rate)

    def lost(self):
        return self._lost

    def set(self, unix):
        self.since = self._host()
        self.offset = unix - self.since
        self._lost = False
        self._save()

    def _save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%.3f %d %.3f\n" % (self.offset, 1 if self._lost else 0, self.since))
        os.rename(tmp, self.path)


class _NoDisplay:
    def show(self, text, dots):
        pass

    def off(self):
        pass


class _PipeDisplay:
    def __init__(self, f):
        self.f = f

    def show(self, text, dots):
        self.f.write(("D %d %s\n" % (dots, text)).encode())

    def off(self):
        self.f.write(b"OFF\n")


class Board:
    MODEL = MODEL
    PRESS_AT_BOOT = False  # USB-powered: the simulated token waits for a press
    SCRUB = False  # the flash is a host directory, not a littlefs (store.py)
    BATTERY_LOW = 2.2

    def __init__(self):
        self.flash_dir = flash_dir()
        drift = os.getenv("JETON_CLOCK_OFFSET")
        ppm = os.getenv("JETON_CLOCK_PPM")
        self.clock = HostClock(self.flash_dir, float(drift) if drift else 0.0, ppm=float(ppm) if ppm else 0.0)
        self.always_on = os.getenv("JETON_ALWAYS_ON") == "1"
        volts = os.getenv("JETON_BATTERY")
        self.volts = float(volts) if volts else None
        self._in = sys.stdin.buffer
        self._out = sys.stdout.buffer
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._ready = select.poll()
        self._ready.register(sys.stdin, select.POLLIN)
        fd = _env_int("JETON_DISPLAY_FD")
        self._dfile = open(fd, "wb") if fd is not None else None
        self.display = _PipeDisplay(self._dfile) if self._dfile else _NoDisplay()
        fd = _env_int("JETON_BUTTON_FD")
        self._button = open(fd, "rb") if fd is not None else None
        self._bpoll = None
        if self._button is not None:
            self._poll.register(self._button, select.POLLIN)
            self._bpoll = select.poll()
            self._bpoll.register(self._button, select.POLLIN)
        self._ctrl_c = True
        self._eof = False
        self.ticks_ms = time.ticks_ms
        self.ticks_diff = time.ticks_diff
        self.ticks_add = time.ticks_add

    def sleep(self, ms):
        """A plain sleep that a byte on the serial line or a press ends early (no lightsleep on a host)."""
        if ms > 0:
            self._poll.poll(ms)

    def read(self):
        if self._eof:
            raise SystemExit(0)  # the serial line is gone (stdin closed): power off
        data = bytearray()
        while len(data) < 64 and self._ready.poll(0):
            b = self._in.read(1)
            if not b:
                self._eof = True
                break
            if b[0] == 3 and self._ctrl_c:
                raise KeyboardInterrupt
            data.append(b[0])
        return bytes(data)

    def write(self, data):
        self._out.write(data)
        try:
            self._out.flush()
        except AttributeError:
            pass

    def pressed(self):
        if self._bpoll is None or not self._bpoll.poll(0):
            return False
        return len(self._button.read(1)) == 1

    def _signal(self, line):
        if self._dfile is not None:
            self._dfile.write(line)

    def hold(self):
        self._signal(b"HOLD\n")

    def release(self):
        self._signal(b"RELEASE\n")

    def set_ctrl_c(self, enabled):
        self._ctrl_c = enabled
        micropython.kbd_intr(3 if enabled else -1)
        self._signal(b"KBD 1\n" if enabled else b"KBD 0\n")

    def watch(self):
        pass  # no watchdog on a host: a hung simulator is stopped by its user

    def feed(self):
        pass

    def battery(self):
        """None (USB-powered), or the VSYS reading ``JETON_BATTERY`` sets (jeton-sim --battery VOLTS)."""
        return self.volts

    def facts(self):
        return "" if self.volts is None else " battery=%.2f" % self.volts


def make():
    return Board()


def give_up(board, text, ms):
    """After repeated faults: show ``text`` for ``ms``, blank the display, release the power hold."""
    if board is None:
        return
    board.display.show(text, 0)
    time.sleep_ms(ms)
    board.display.off()
    board.release()
