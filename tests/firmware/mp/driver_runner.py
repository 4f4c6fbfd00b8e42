"""Drives the TM1637 and DS3231 drivers on fake buses that record the traffic; prints it as JSON lines.

argv[1]: the TM1637 digit order, e.g. "2,1,0,5,4,3". The TM1637 is tm1637_chip.Chip: ``wire`` holds the
levels of CLK and DIO, ``timeline`` the same with the driver's waits (["us", n]) and its reads of DIO
(["read", level]) in order.
"""

import json
import sys

import ds3231
import tm1637
from tm1637_chip import Chip

TIMELINE = []


class Wire:
    """The line levels (``items``); each change goes into TIMELINE too."""

    def __init__(self):
        self.items = []

    def append(self, item):
        TIMELINE.append(list(item))
        self.items.append(item)

    def clear(self):
        self.items = []


class ClkPin:
    def __init__(self, chip):
        self.chip = chip

    def value(self, v=None):
        self.chip.clk(v)


class DioPin:
    """DIO as the driver sees it: input with pull-up (released) or output low; reads the line."""

    IN = 0
    OUT = 1
    PULL_UP = 1

    def __init__(self, chip):
        self.chip = chip

    def init(self, mode, pull=None, value=None):
        self.chip.dio_drive(mode == self.OUT and value == 0)

    def value(self, v=None):
        if v is not None:
            raise AssertionError("DIO is never driven high: open drain")
        level = self.chip.read()
        TIMELINE.append(["read", level])
        return level


def wait(us):
    TIMELINE.append(["us", us])


tm1637.sleep_us = wait


class FakeI2C:
    """A DS3231 register file behind the I2C calls the driver uses; records every transfer."""

    def __init__(self, regs):
        self.regs = bytearray(regs)
        self.log = []

    def readfrom_mem(self, addr, reg, n):
        data = bytes(self.regs[reg : reg + n])
        self.log.append(["r", addr, reg, list(data)])
        return data

    def writeto_mem(self, addr, reg, data):
        self.log.append(["w", addr, reg, list(data)])
        for i, b in enumerate(data):
            self.regs[reg + i] = b


order = tuple(int(x) for x in sys.argv[1].split(","))
wire = Wire()
chip = Chip(wire)
d = tm1637.TM1637(ClkPin(chip), DioPin(chip), 6, order, 4)
for text, dots, bright in (
    ("123456", 0, 4),
    ("------", 0, 4),
    ("Err CL", 0, 7),
    ("Err St", 0, 1),
    ("098765", 0b111000, 2),
):
    wire.clear()
    TIMELINE.clear()
    chip.acks = 0
    d.set_brightness(bright)
    d.show(text, dots)
    print(json.dumps({"show": text, "dots": dots, "brightness": bright, "wire": wire.items, "timeline": TIMELINE,
                      "acks": chip.acks, "ok": d.ok}))
wire.clear()
d.off()
print(json.dumps({"off": True, "wire": wire.items}))

# the module unplugged: nothing acknowledges; then DIO shorted to ground
wire.clear()
chip.present = False
d.show("123456", 0)
unplugged = d.ok
chip.present = True
chip.host_low = False
d.show("123456", 0)
back = d.ok
chip.ack = True  # something holds DIO low
d.show("123456", 0)
print(json.dumps({"unplugged_ok": unplugged, "replugged_ok": back, "stuck_ok": d.ok}))
chip.ack = False

# DS3231: a chip whose oscillator stopped, set to a time, then read back; then a chip in 12-hour mode
regs = bytearray(19)
regs[0x0F] = 0x88  # OSF set (and EN32kHz, which must survive)
bus = FakeI2C(regs)
rtc = ds3231.DS3231(bus)
lost_before = rtc.lost()
rtc.set_datetime((2026, 11, 28, 23, 59, 58, 6))
lost_after = rtc.lost()
print(
    json.dumps(
        {"ds3231": "set", "lost_before": lost_before, "lost_after": lost_after, "log": bus.log, "regs": list(bus.regs)}
    )
)
pm = bytearray(19)
pm[0:7] = bytes((0x30, 0x45, 0x40 | 0x20 | 0x11, 0x03, 0x31, 0x12, 0x99))  # 11:45:30 PM, 31 Dec 2099
bus = FakeI2C(pm)
print(json.dumps({"ds3231": "read12", "datetime": list(ds3231.DS3231(bus).datetime()), "log": bus.log}))
