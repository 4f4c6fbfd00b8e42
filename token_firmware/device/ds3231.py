"""Driver for the DS3231 real-time clock, given its I2C bus.

Time registers 0x00..0x06 are BCD (seconds, minutes, hours, weekday, date, month, year); the driver
keeps the chip in 24-hour mode and reads the oscillator-stop flag (status register 0x0F, bit 7), which
the chip sets whenever its oscillator stopped, i.e. whenever its time cannot be trusted.

    rtc = DS3231(I2C(0, sda=Pin(4), scl=Pin(5)))
    rtc.datetime()  # (2026, 11, 28, 23, 59, 30, 6)
"""

_ADDR = 0x68
_REG_TIME = 0x00
_REG_CONTROL = 0x0E
_REG_STATUS = 0x0F
_OSF = 0x80
_H12 = 0x40
_PM = 0x20


def _bcd(v):
    return ((v // 10) << 4) | (v % 10)


def _unbcd(b):
    return (b >> 4) * 10 + (b & 0x0F)


class DS3231:
    def __init__(self, i2c, addr=_ADDR):
        self.i2c = i2c
        self.addr = addr
        self._buf = bytearray(7)

    def datetime(self):
        """(year, month, day, hour, minute, second, weekday 1..7), read in one burst."""
        b = self.i2c.readfrom_mem(self.addr, _REG_TIME, 7)
        h = b[2]
        if h & _H12:
            hour = _unbcd(h & 0x1F) % 12 + (12 if h & _PM else 0)
        else:
            hour = _unbcd(h & 0x3F)
        year = 2000 + _unbcd(b[6]) + (100 if b[5] & 0x80 else 0)
        return year, _unbcd(b[5] & 0x1F), _unbcd(b[4] & 0x3F), hour, _unbcd(b[1] & 0x7F), _unbcd(b[0] & 0x7F), b[3] & 7

    def set_datetime(self, dt):
        """Write (year, month, day, hour, minute, second, weekday) in one burst, 24-hour mode; clears OSF."""
        year, month, day, hour, minute, second, wday = dt
        b = self._buf
        b[0] = _bcd(second)
        b[1] = _bcd(minute)
        b[2] = _bcd(hour)  # bit 6 clear: 24-hour mode
        b[3] = wday
        b[4] = _bcd(day)
        b[5] = _bcd(month) | (0x80 if year >= 2100 else 0)
        b[6] = _bcd(year % 100)
        self.i2c.writeto_mem(self.addr, _REG_TIME, b)
        status = self.i2c.readfrom_mem(self.addr, _REG_STATUS, 1)[0]
        self.i2c.writeto_mem(self.addr, _REG_STATUS, bytes((status & ~_OSF & 0xFF,)))

    def lost(self):
        """True when the oscillator stopped since the time was last set (the time is not to be trusted)."""
        return bool(self.i2c.readfrom_mem(self.addr, _REG_STATUS, 1)[0] & _OSF)
