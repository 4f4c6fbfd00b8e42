"""Board file for the reference token: Raspberry Pi Pico (RP2040), TM1637 6-digit module, DS3231, button.

``PINS`` and ``DIGIT_ORDER`` are literals read by the hardware documentation's test (ast.literal_eval):
keep them plain. GPIO numbers are the RP2040's; the DS3231 is on I2C bus 0. main.py drives the power hold
(GP7) itself before anything is imported: keep the two in step.

Needs MicroPython 1.24 or later (machine.lightsleep keeps USB alive on rp2 since 1.23, select.ipoll).
Not for the Pico W: there GP24 (VBUS sense), GP25 (LED) and GP29 (VSYS/3) are the wireless chip's lines
(docs/hardware.md).
"""

import sys
import time

import cal
import ds3231
import machine
import micropython
import tm1637
from machine import I2C, Pin

MODEL = "pico"
PRESS_AT_BOOT = True  # the press that powered the board through the soft latch is the first press
PINS = {"tm1637_clk": 2, "tm1637_dio": 3, "i2c_sda": 4, "i2c_scl": 5, "button": 6, "power_hold": 7, "vbus_sense": 24,
        "led": 25, "vsys_sense": 29}
I2C_BUS = 0
I2C_FREQ = 400000
# Position on the module's shift register of each displayed digit, left to right (common 6-digit modules).
DIGIT_ORDER = (2, 1, 0, 5, 4, 3)
# TM1637 level 0..7 (1/16 .. 14/16 duty): the dimmest, readable indoors on a red module; the battery budget
# (hardware/battery.py) reads it. Raise it to 1 or 2 if your module is hard to read, and run `make battery`.
BRIGHTNESS = 0
LED_WHILE_HELD = False  # the on-board LED costs about 2 mA; True lights it while the power is held (bring-up)
DEBOUNCE_MS = 30
WATCHDOG_MS = 8000  # the RP2040's longest is 8.3 s; the loop feeds it at least every 250 ms
VSYS_DIVIDER = 3  # GP29 (ADC3) reads VSYS through the Pico's 3:1 divider (Pico datasheet)
# Below this VSYS a press shows bAtt before the code: 2 x AA through the Schottky diode (0.3 V) at 2.2 V are
# about 1.25 V a cell, the knee of an alkaline cell's discharge (hardware/battery.py).
BATTERY_LOW = 2.2


class RtcClock:
    """Unix time from the DS3231 (the RP2040's own clock resets at every boot)."""

    def __init__(self, rtc):
        self.rtc = rtc

    def now(self):
        try:
            y, mo, d, h, mi, s, _ = self.rtc.datetime()
        except OSError:  # no answer on the bus: lost() says so too
            return 0
        return cal.to_unix(y, mo, d, h, mi, s)

    def lost(self):
        try:
            return self.rtc.lost()
        except OSError:  # a clock that does not answer cannot be trusted
            return True

    def set(self, unix):
        self.rtc.set_datetime(cal.from_unix(unix))


def flash_dir():
    return ""


class Board:
    MODEL = MODEL
    PRESS_AT_BOOT = PRESS_AT_BOOT
    SCRUB = True  # littlefs keeps old blocks: erase them after WIPE (store.py)
    BATTERY_LOW = BATTERY_LOW
    flash_dir = ""
    always_on = False

    def __init__(self):
        import select

        self.power = Pin(PINS["power_hold"], Pin.OUT, value=1)  # main.py held it already; keep it held
        self.led = Pin(PINS["led"], Pin.OUT, value=0)
        self.vbus = Pin(PINS["vbus_sense"], Pin.IN)  # high while USB powers the board (Pico datasheet: GP24)
        self.button = Pin(PINS["button"], Pin.IN, Pin.PULL_UP)
        self.display = _display()
        self._vsys = machine.ADC(Pin(PINS["vsys_sense"]))
        self._wdt = None
        i2c = I2C(I2C_BUS, sda=Pin(PINS["i2c_sda"]), scl=Pin(PINS["i2c_scl"]), freq=I2C_FREQ)
        self.clock = RtcClock(ds3231.DS3231(i2c))
        self._in = sys.stdin.buffer
        self._out = sys.stdout.buffer
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._ipoll = self._poll.ipoll  # ipoll allocates nothing per call (poll builds a list)
        self._was_down = self.button.value() == 0
        self.ticks_ms = time.ticks_ms
        self.ticks_diff = time.ticks_diff
        self.ticks_add = time.ticks_add

    def sleep(self, ms):
        """Sleep ``ms`` between two passes of the loop.

        On battery: machine.lightsleep, the CPU and most clocks stopped; the chip stays powered, so every GPIO
        keeps its level (the power hold, the TM1637 lines) and the TM1637 keeps showing the digits by itself.
        On USB (VBUS high on GP24): a short poll of the serial line instead, so that a request is answered at
        once and a quick press is not missed (since MicroPython 1.23 lightsleep keeps USB alive, but it would
        delay the answers by up to the sleep).
        """
        if ms <= 0:
            return
        if self.vbus.value():
            for _ in self._ipoll(min(ms, 20)):
                break
        else:
            machine.lightsleep(ms)

    def _ready(self):
        for _ in self._ipoll(0):
            return True
        return False

    def read(self):
        data = b""
        while len(data) < 64 and self._ready():
            b = self._in.read(1)
            if not b:
                break
            data += b
        return data

    def write(self, data):
        self._out.write(data)

    def pressed(self):
        down = self.button.value() == 0
        edge = down and not self._was_down
        self._was_down = down
        if edge:
            time.sleep_ms(DEBOUNCE_MS)
        return edge

    def hold(self):
        self.power.value(1)
        if LED_WHILE_HELD:
            self.led.value(1)

    def release(self):
        self.led.value(0)
        self.power.value(0)  # on battery the board switches off here; on USB it keeps serving

    def set_ctrl_c(self, enabled):
        micropython.kbd_intr(3 if enabled else -1)

    def watch(self):
        """Start the watchdog (it cannot be stopped): a hang would otherwise drain the cells in days."""
        if self._wdt is None:
            self._wdt = machine.WDT(timeout=WATCHDOG_MS)

    def feed(self):
        if self._wdt is not None:
            self._wdt.feed()

    def battery(self):
        """VSYS in volts (on USB about 4.7 V)."""
        return self._vsys.read_u16() * 3.3 * VSYS_DIVIDER / 65535

    def facts(self):
        ok = self.display.ok
        if ok is None:
            ok = self.display.probe()
        return " display=%s battery=%.2f" % ("ok" if ok else "missing", self.battery())


def _display():
    return tm1637.TM1637(Pin(PINS["tm1637_clk"], Pin.OUT, value=1), Pin(PINS["tm1637_dio"], Pin.IN, Pin.PULL_UP), 6,
                         DIGIT_ORDER, BRIGHTNESS)


def make():
    return Board()


def give_up(board, text, ms):
    """After repeated faults: show ``text`` for ``ms``, blank the display, release the power hold.

    ``board`` is None when the board itself could not be set up: the pins are then driven directly.
    """
    try:
        display = board.display if board is not None else _display()
        display.show(text, 0)
        time.sleep_ms(ms)
        display.off()
    except Exception:  # noqa: S110 - the power must be released whatever the display does
        pass
    Pin(PINS["led"], Pin.OUT, value=0)
    Pin(PINS["power_hold"], Pin.OUT, value=0)  # on battery the token switches off here
