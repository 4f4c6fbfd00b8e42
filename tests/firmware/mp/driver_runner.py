"""Drives the TM1637 and DS3231 drivers on fake buses that record the traffic; prints it as JSON lines.

argv[1]: the TM1637 digit order, e.g. "2,1,0,5,4,3".
"""

import json
import sys

import ds3231
import tm1637

WIRE = []


class FakePin:
    """A GPIO that records every level written to it as (name, level)."""

    def __init__(self, name):
        self.name = name

    def value(self, v=None):
        if v is not None:
            WIRE.append((self.name, v))
        return 0


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
d = tm1637.TM1637(FakePin("clk"), FakePin("dio"), 6, order, 4)
for text, dots, bright in (
    ("123456", 0, 4),
    ("------", 0, 4),
    ("Err CL", 0, 7),
    ("Err St", 0, 1),
    ("098765", 0b111000, 2),
):
    WIRE.clear()
    d.set_brightness(bright)
    d.show(text, dots)
    print(json.dumps({"show": text, "dots": dots, "brightness": bright, "wire": WIRE}))
WIRE.clear()
d.off()
print(json.dumps({"off": True, "wire": WIRE}))

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
