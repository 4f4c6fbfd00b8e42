"""A stand-in for the rp2 port's machine module, for running board_pico under the unix port.

Pins record every level written (``WIRE``: (gpio, level)); the I2C bus holds a DS3231's registers.
MicroPython lets this file extend the built-in ``machine`` module because it comes first on the path.
"""

WIRE = []
BUTTON_LEVEL = {}  # gpio -> level a read returns (default 1: the button released, pulled up; VBUS present)
LIGHTSLEEPS = []  # (ms, the level of every output pin at that moment)
REGS = bytearray(19)
I2C_LOG = []


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1

    def __init__(self, gpio, mode=None, pull=None, value=None):
        self.gpio = gpio
        self.mode = mode
        if value is not None:
            WIRE.append((gpio, value))

    def value(self, v=None):
        if v is None:
            return BUTTON_LEVEL.get(self.gpio, 1)
        WIRE.append((self.gpio, v))
        return None


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
