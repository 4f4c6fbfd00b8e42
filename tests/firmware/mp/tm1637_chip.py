"""A TM1637 on the fake bus: it follows CLK and DIO as the datasheet describes and pulls DIO low during the
ninth clock of each byte (its acknowledge), if it is plugged in.

The driver's pins call ``clk(level)``, ``dio_drive(low)`` (True: the driver pulls DIO low; False: it lets
it go) and ``dio()`` (the line's level: low if anyone pulls it, else high through the pull-ups). Every change
of a line's level is appended to ``wire`` as (name, level); ``acks`` counts the bytes acknowledged and
``bad`` records any DIO change while CLK is high that is not a start or stop condition.
"""


class Chip:
    def __init__(self, wire, present=True, clk_name="clk", dio_name="dio"):
        self.wire = wire
        self.present = present
        self.names = (clk_name, dio_name)
        self.clk_level = 1
        self.host_low = False
        self.ack = False
        self.inside = False
        self.bits = 0
        self.acks = 0
        self.reads = []  # (bit count at the read, level read)

    def dio(self):
        return 0 if self.host_low or self.ack else 1

    def dio_drive(self, low):
        before = self.dio()
        self.host_low = low
        after = self.dio()
        if after != before:
            self.wire.append((self.names[1], after))
            if self.clk_level:
                self.inside = after == 0  # start (falls) or stop (rises) while CLK is high
                self.bits = 0

    def read(self):
        level = self.dio()
        self.reads.append((self.bits, level))
        return level

    def clk(self, level):
        if level == self.clk_level:
            return
        self.clk_level = level
        self.wire.append((self.names[0], level))
        if not self.inside:
            return
        if level:
            self.bits += 1
        elif self.bits == 8 and self.present:
            before = self.dio()
            self.ack = True
            if self.dio() != before:
                self.wire.append((self.names[1], 0))
        elif self.bits == 9:
            before = self.dio()
            self.ack = False
            self.bits = 0
            if self.present:
                self.acks += 1
            if self.dio() != before:
                self.wire.append((self.names[1], self.dio()))
