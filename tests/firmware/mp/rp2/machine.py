"""A stand-in for the rp2 port's machine module, for running board_pico under the unix port.

Pins record every level written (``WIRE``: (gpio, level)); GP2/GP3 are a TM1637 module's CLK and DIO
(tm1637_chip.Chip: ``WIRE`` gets their line levels, and the chip acknowledges each byte unless
``CHIP.present`` is False); the I2C bus holds a DS3231's registers; ADC3 (GP29) reads ``VSYS`` volts through the
Pico's 3:1 divider; the watchdog records its timeout and feeds. MicroPython lets this file extend the
built-in ``machine`` module because it comes first on the path.
"""

from tm1637_chip import Chip

WIRE = []
BUTTON_LEVEL = {}  # gpio -> level a read returns (default 1: the button released, pulled up; VBUS present)
LIGHTSLEEPS = []  # (ms, the level of every output pin at that moment)
REGS = bytearray(19)
I2C_LOG = []
CHIP = Chip(WIRE, clk_name=2, dio_name=3)
VSYS = [4.75]  # volts on VSYS (USB: 5 V less the Schottky diode)
WDT_LOG = []  # ["new", timeout_ms], then "feed" for each feed
RESETS = []


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1

    def __init__(self, gpio, mode=None, pull=None, value=None):
        self.gpio = gpio
        self.init(mode, pull, value=value)

    def init(self, mode=None, pull=None, value=None):
        self.mode = mode
        if self.gpio == 3:
            CHIP.dio_drive(mode == Pin.OUT and value == 0)
        elif value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            if self.gpio == 3:
                return CHIP.read()
            return BUTTON_LEVEL.get(self.gpio, 1)
        if self.gpio == 2:
            CHIP.clk(v)
        elif self.gpio == 3:
            CHIP.dio_drive(v == 0)
        else:
            WIRE.append((self.gpio, v))
        return None


class ADC:
    def __init__(self, source):
        self.gpio = source.gpio  # machine.ADC(Pin(29)): ADC3, VSYS through the Pico's 3:1 divider

    def read_u16(self):
        assert self.gpio == 29
        return min(65535, int(VSYS[0] / 3 / 3.3 * 65535))


class WDT:
    def __init__(self, id=0, timeout=5000):
        WDT_LOG.append(["new", timeout])

    def feed(self):
        WDT_LOG.append("feed")


def reset():
    RESETS.append(len(WIRE))
    raise SystemExit


def _levels():
    levels = {}
    for gpio, level in WIRE:
        levels[gpio] = level
    return levels


def lightsleep(ms=None):
    """Records the sleep and the output levels held through it (the real one stops the CPU for ms)."""
    LIGHTSLEEPS.append([ms, sorted(_levels().items())])


class I2C:
    def __init__(self, bus, sda=None, scl=None, freq=None):
        self.bus = bus
        self.pins = (sda.gpio, scl.gpio)
        I2C_LOG.append(["init", bus, sda.gpio, scl.gpio])

    def readfrom_mem(self, addr, reg, n):
        I2C_LOG.append(["r", addr, reg, n])
        return bytes(REGS[reg : reg + n])

    def writeto_mem(self, addr, reg, data):
        I2C_LOG.append(["w", addr, reg, list(data)])
        for i, b in enumerate(data):
            REGS[reg + i] = b


def fault_rtc():
    """A bug, not a dead bus: every transfer raises something the firmware does not expect."""

    def fail(*args):
        raise RuntimeError("fault")

    I2C.readfrom_mem = fail
    I2C.writeto_mem = fail


def unplug_rtc():
    """The DS3231 stops answering (unplugged, dead bus): every transfer raises OSError (ENODEV)."""

    def fail(*args):
        raise OSError(19)

    I2C.readfrom_mem = fail
    I2C.writeto_mem = fail
