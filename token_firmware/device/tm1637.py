"""Driver for a 6-digit TM1637 7-segment module, given its CLK and DIO pins.

The bus is two wires driven by the caller's pins (``pin.value(v)``), LSB first, data latched on the
rising CLK edge (TM1637 datasheet). Cheap 6-digit modules wire the digits out of order, so the
position of each displayed character is a board setting (``order``).

    d = TM1637(Pin(2, Pin.OUT), Pin(3, Pin.OUT), order=(2, 1, 0, 5, 4, 3))
    d.show("123456", dots=0b111000)
"""

try:
    from time import sleep_us
except ImportError:  # CPython, for tests
    def sleep_us(us):
        pass

_CMD_DATA = 0x40  # write data, auto-increment address
_CMD_ADDR = 0xC0  # address 0
_CMD_DISPLAY = 0x80  # display control; 0x08 = on, low 3 bits = brightness

# Segments: bit 0..6 = a..g, bit 7 = the decimal point.
_FONT = {
    "0": 0x3F, "1": 0x06, "2": 0x5B, "3": 0x4F, "4": 0x66, "5": 0x6D, "6": 0x7D, "7": 0x07,
    "8": 0x7F, "9": 0x6F, " ": 0x00, "-": 0x40, "_": 0x08, "E": 0x79, "r": 0x50, "C": 0x39,
    "L": 0x38, "S": 0x6D, "t": 0x78, "o": 0x5C, "n": 0x54, "d": 0x5E, "A": 0x77, "b": 0x7C,
    "c": 0x58, "F": 0x71, "P": 0x73, "U": 0x3E, "H": 0x76,
}


def segments(ch):
    """The segment byte of a character (unknown characters show as blank)."""
    return _FONT.get(ch, 0)


class TM1637:
    def __init__(self, clk, dio, digits=6, order=None, brightness=4):
        self.clk = clk
        self.dio = dio
        self.digits = digits
        self.order = order if order is not None else tuple(range(digits))
        self.brightness = brightness
        self._buf = bytearray(digits)
        clk.value(1)
        dio.value(1)

    def _start(self):
        self.dio.value(0)
        sleep_us(2)
        self.clk.value(0)

    def _stop(self):
        self.clk.value(0)
        self.dio.value(0)
        sleep_us(2)
        self.clk.value(1)
        sleep_us(2)
        self.dio.value(1)

    def _byte(self, b):
        for i in range(8):
            self.clk.value(0)
            self.dio.value((b >> i) & 1)
            sleep_us(2)
            self.clk.value(1)
            sleep_us(2)
        # ninth clock: the chip acknowledges by pulling DIO low; we do not wait for it
        self.clk.value(0)
        self.dio.value(1)
        sleep_us(2)
        self.clk.value(1)
        sleep_us(2)
        self.clk.value(0)

    def _command(self, b):
        self._start()
        self._byte(b)
        self._stop()

    def write(self, segs):
        """Write raw segment bytes, one per displayed position left to right."""
        for pos in range(self.digits):
            self._buf[self.order[pos]] = segs[pos] if pos < len(segs) else 0
        self._command(_CMD_DATA)
        self._start()
        self._byte(_CMD_ADDR)
        for b in self._buf:
            self._byte(b)
        self._stop()
        self._command(_CMD_DISPLAY | 0x08 | (self.brightness & 7))

    def show(self, text, dots=0):
        """Show ``text`` (up to 6 characters); bit i of ``dots`` (from the left, bit 5 = first) lights a point."""
        segs = bytearray(self.digits)
        for pos in range(self.digits):
            s = segments(text[pos]) if pos < len(text) else 0
            if dots & (1 << (self.digits - 1 - pos)):
                s |= 0x80
            segs[pos] = s
        self.write(segs)

    def set_brightness(self, level):
        self.brightness = level & 7

    def off(self):
        """Blank the display and switch it off."""
        self.write(bytes(self.digits))
        self._command(_CMD_DISPLAY)
