"""Driver for a 6-digit TM1637 7-segment module, given its CLK and DIO pins.

The bus is two wires, LSB first, data latched on the rising CLK edge, and the chip acknowledges each byte by
pulling DIO low during the ninth clock (TM1637 datasheet). DIO is open drain on the chip's side, so the
driver never drives it high: it releases it (input with pull-up) for a 1 and pulls it low (output low) for
a 0, as an open-drain output would; CLK is the driver's alone. Data changes only while CLK is low, a quarter
period after it fell and a quarter period before it rises; CLK is high for half a period. The datasheet asks
at least 400 ns of clock pulse width; the modules' RC filters (a few nF on each line) need far more, hence
``_QUARTER_US``. A byte that is not acknowledged, or a DIO line held low, sets ``ok`` to False until a later
write succeeds (a missing or faulty display); the driver never waits for the chip, so it never hangs.

Cheap 6-digit modules wire the digits out of order, so the position of each displayed character is a board
setting (``order``).

    d = TM1637(Pin(2, Pin.OUT, value=1), Pin(3, Pin.IN, Pin.PULL_UP), order=(2, 1, 0, 5, 4, 3))
    d.show("123456", dots=0b111000)
"""

try:
    from time import sleep_us
except ImportError:  # CPython, for tests
    def sleep_us(us):
        pass

_QUARTER_US = 3  # a quarter clock period: 12 us a bit, about 80 kHz
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
        self.ok = None  # None until the first transaction tells
        self._buf = bytearray(digits)
        self._in = dio.IN
        self._out = dio.OUT
        self._pull = dio.PULL_UP
        clk.value(1)
        self._release()

    def _release(self):
        self.dio.init(self._in, self._pull)  # the pull-ups raise DIO unless the chip holds it low

    def _pull_low(self):
        self.dio.init(self._out, value=0)

    def _start(self):
        # CLK is high: DIO falls (start condition), then CLK falls.
        if self.dio.value() == 0:
            self.ok = False  # the line is held low: a faulty module or a short
        self._pull_low()
        sleep_us(2 * _QUARTER_US)
        self.clk.value(0)

    def _stop(self):
        # CLK is low: DIO low, CLK rises, then DIO rises (stop condition).
        sleep_us(_QUARTER_US)
        self._pull_low()
        sleep_us(_QUARTER_US)
        self.clk.value(1)
        sleep_us(2 * _QUARTER_US)
        self._release()
        sleep_us(2 * _QUARTER_US)

    def _byte(self, b):
        """Send a byte (CLK low on entry and on return); False when the chip does not acknowledge it."""
        for i in range(9):
            sleep_us(_QUARTER_US)
            if i == 8 or (b >> i) & 1:
                self._release()  # a 1, or the ninth clock: the chip answers by holding DIO low
            else:
                self._pull_low()
            sleep_us(_QUARTER_US)
            self.clk.value(1)
            sleep_us(2 * _QUARTER_US)
            if i == 8 and self.dio.value() != 0:
                self.ok = False
            self.clk.value(0)

    def _command(self, b):
        self._start()
        self._byte(b)
        self._stop()

    def probe(self):
        """True when a module acknowledges a data command (which changes nothing on the display)."""
        self.ok = True
        self._command(_CMD_DATA)
        return self.ok

    def write(self, segs):
        """Write raw segment bytes, one per displayed position left to right."""
        for pos in range(self.digits):
            self._buf[self.order[pos]] = segs[pos] if pos < len(segs) else 0
        self.ok = True
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
