"""TM1637 and DS3231 drivers against fake buses that record the wire traffic, decoded here from the datasheets."""

from __future__ import annotations

import ast
import json

import pytest

from tests.firmware.helpers import DEVICE_PATH, MP_DIR
from token_firmware import DEVICE_DIR

# Seven-segment characters by segment letter (a top, b upper right, c lower right, d bottom, e lower left,
# f upper left, g middle); the TM1637 puts segment a in bit 0 ... g in bit 6 and the point in bit 7.
LETTERS = {
    "0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg", "5": "acdfg", "6": "acdefg",
    "7": "abc", "8": "abcdefg", "9": "abcdfg", "-": "g", " ": "", "E": "adefg", "r": "eg", "C": "adef",
    "L": "def", "t": "defg", "F": "aefg", "b": "cdefg", "A": "abcefg",
}  # fmt: skip
BY_SEGMENTS = {sum(1 << "abcdefg".index(x) for x in segs): ch for ch, segs in LETTERS.items()}


def board_setting(name: str):
    """A literal from board_pico.py, read without importing it (it needs the rp2 port)."""
    tree = ast.parse((DEVICE_DIR / "board_pico.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise KeyError(name)


def decode_tm1637(wire: list[tuple[str, int]]) -> list[list[int]]:
    """Bytes of each transaction: start = DIO falls while CLK is high, stop = DIO rises while CLK is high,
    data bits sampled on CLK rising edges, LSB first, 8 bits then an acknowledge clock."""
    clk = dio = 1
    frames, bits, inside = [], [], False
    for pin, level in wire:
        if pin == "dio":
            if clk and dio and not level:
                inside, bits = True, []
            elif clk and not dio and level and inside:
                assert len(bits) % 9 in (0, 1), "partial byte on the wire"
                frames.append([sum(b << i for i, b in enumerate(bits[k : k + 8])) for k in range(0, len(bits) - 8, 9)])
                inside = False
            dio = level
        else:
            if level and not clk and inside:
                bits.append(dio)
            clk = level
    assert not inside, "transaction never stopped"
    return frames


@pytest.fixture(scope="module")
def traffic(micropython):
    order = ",".join(str(x) for x in board_setting("DIGIT_ORDER"))
    out = micropython.run(script=MP_DIR / "driver_runner.py", args=[order], path=DEVICE_PATH, heapsize="1m")
    return [json.loads(line) for line in out.stdout.decode().splitlines()]


def shown(frames: list[list[int]]) -> tuple[str, int, int | None]:
    """(text as seen left to right, decimal points mask, brightness or None if off) from decoded frames."""
    assert frames[0] == [0x40], "data command: write, auto-increment"
    addr, *grid = frames[1]
    assert addr == 0xC0 and len(grid) == 6
    control = frames[2][0]
    assert control & 0xF0 == 0x80
    order = board_setting("DIGIT_ORDER")
    text, dots = "", 0
    for pos in range(6):
        seg = grid[order[pos]]
        text += BY_SEGMENTS[seg & 0x7F]
        if seg & 0x80:
            dots |= 1 << (5 - pos)
    return text, dots, (control & 7) if control & 0x08 else None


@pytest.mark.micropython
def test_tm1637_shows_each_text_in_the_board_digit_order_with_its_brightness(traffic):
    for rec in traffic[:5]:
        text, dots, brightness = shown(decode_tm1637(rec["wire"]))
        assert text == rec["show"].replace("S", "5")  # an S and a 5 light the same segments
        assert dots == rec["dots"]
        assert brightness == rec["brightness"]


@pytest.mark.micropython
def test_tm1637_countdown_points_light_from_the_left(traffic):
    rec = traffic[4]
    text, dots, _ = shown(decode_tm1637(rec["wire"]))
    assert text == "098765" and dots == 0b111000


@pytest.mark.micropython
def test_tm1637_off_blanks_every_digit_and_switches_the_display_off(traffic):
    frames = decode_tm1637(traffic[5]["wire"])
    assert frames[1][1:] == [0] * 6
    assert frames[-1] == [0x80]


QUARTER_US = 3  # tm1637._QUARTER_US; the datasheet's minimum clock pulse width is 0.4 us


@pytest.mark.micropython
def test_tm1637_data_changes_only_while_the_clock_is_low_with_waits_either_side(traffic):
    for rec in traffic[:5]:
        clk, inside, bits, chip_moment = 1, False, 0, False
        since_clk = since_dio = 99  # microseconds waited since the last CLK edge / DIO change
        high_for = 0
        for item in rec["timeline"]:
            kind, value = item
            if kind == "us":
                since_clk += value
                since_dio += value
                if clk:
                    high_for += value
            elif kind == "clk":
                if value:
                    assert since_dio >= QUARTER_US, "data must be set up a quarter period before CLK rises"
                    high_for = 0
                    bits += inside
                else:
                    assert high_for >= 2 * QUARTER_US, "CLK high for half a period"
                    chip_moment = bits in (8, 9)  # the chip takes DIO (acknowledge) or lets it go, right now
                    bits %= 9
                clk, since_clk = value, 0
            elif kind == "dio":
                if clk:  # while CLK is high DIO moves only for a start (falls) or a stop (rises)
                    assert (not inside and value == 0) or (inside and value == 1), rec["timeline"]
                    inside, bits = value == 0, 0
                else:
                    chip = chip_moment and since_clk == 0
                    assert chip or since_clk >= QUARTER_US, "data held a quarter period after CLK falls"
                since_dio = 0
        assert not inside


@pytest.mark.micropython
def test_tm1637_reads_the_acknowledge_on_the_ninth_clock_of_every_byte(traffic):
    for rec in traffic[:5]:
        bytes_sent = sum(len(f) for f in decode_tm1637(rec["wire"]))
        reads = [item for item in rec["timeline"] if item[0] == "read"]
        assert rec["acks"] == bytes_sent == 9  # data command, address + 6 digits, display control
        assert [level for _, level in reads].count(0) == bytes_sent  # read low: acknowledged, with CLK high
        assert rec["ok"] is True


@pytest.mark.micropython
def test_tm1637_an_unplugged_or_shorted_module_is_reported_never_raised(traffic):
    rec = next(r for r in traffic if "unplugged_ok" in r)
    assert rec == {"unplugged_ok": False, "replugged_ok": True, "stuck_ok": False}


@pytest.mark.micropython
def test_ds3231_set_writes_bcd_in_24_hour_mode_and_clears_the_oscillator_stop_flag(traffic):
    rec = next(r for r in traffic if r.get("ds3231") == "set")
    assert rec["lost_before"] is True and rec["lost_after"] is False
    writes = [entry for entry in rec["log"] if entry[0] == "w"]
    addr, reg, data = writes[0][1:]
    assert (addr, reg) == (0x68, 0x00) and len(data) == 7  # one burst from the seconds register

    def bcd(b: int) -> int:
        return (b >> 4) * 10 + (b & 0x0F)

    assert not data[2] & 0x40, "12/24 bit must be 0 (24-hour mode)"
    second, minute, hour, wday, day, month, year = (
        bcd(data[0]), bcd(data[1]), bcd(data[2] & 0x3F), data[3], bcd(data[4]), bcd(data[5] & 0x1F), bcd(data[6]),
    )  # fmt: skip
    assert (2000 + year, month, day, hour, minute, second, wday) == (2026, 11, 28, 23, 59, 58, 6)
    status = rec["regs"][0x0F]
    assert not status & 0x80 and status & 0x08, "OSF cleared, other status bits kept"


@pytest.mark.micropython
def test_ds3231_reads_a_12_hour_clock_as_24_hour_time(traffic):
    rec = next(r for r in traffic if r.get("ds3231") == "read12")
    assert rec["datetime"] == [2099, 12, 31, 23, 45, 30, 3]
    assert rec["log"] == [["r", 0x68, 0x00, [0x30, 0x45, 0x71, 0x03, 0x31, 0x12, 0x99]]]


def test_pico_board_file_pins_are_a_plain_literal():
    assert board_setting("PINS") == {
        "tm1637_clk": 2, "tm1637_dio": 3, "i2c_sda": 4, "i2c_scl": 5, "button": 6, "power_hold": 7, "vbus_sense": 24,
        "led": 25, "vsys_sense": 29,
    }  # fmt: skip
    order = board_setting("DIGIT_ORDER")
    assert sorted(order) == list(range(6))
    assert board_setting("I2C_BUS") == 0
