"""The schematic, drawn from this description with schemdraw into hardware/schematic.svg.

Two truths feed it so the drawing cannot drift from them: the Pico's pins come from hardware/pinmap.csv and
every part value from hardware/bom.csv (``PARTS`` names the BOM references the drawing uses). The same run
writes the BOM with its totals, the latch timing, the pin map and the breadboard wiring table (hardware/wiring.csv)
into docs/hardware.md. Run ``make schematic``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from hardware import bom, latch
from hardware.docblock import GUIDE, HARDWARE, write_block

PINMAP_FILE = HARDWARE / "pinmap.csv"
WIRING_FILE = HARDWARE / "wiring.csv"
SVG_FILE = HARDWARE / "schematic.svg"
# The BOM references drawn, with the short value printed beside each symbol.
PARTS = {
    "BT1": "2 x AA", "Q1": "DMG2305UX", "Q2": "BSS138", "D1": "1N5817", "D2": "1N4148", "D3": "1N4148",
    "R1": "470k", "R2": "1k", "R3": "100k", "C1": "10 uF", "SW1": "push button", "U1": "Raspberry Pi Pico",
    "DS1": "TM1637 6-digit", "U2": "DS3231 module", "BT2": "CR2032",
}


def load_pinmap(path: Path = PINMAP_FILE) -> list[dict[str, str]]:
    """The pin map's rows (gpio, function, pico_pin, direction, connected_to, notes)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if not row["gpio"].isdigit() or not row["function"]:
            raise ValueError(f"{path.name}: every row needs a GPIO number and a function, got {row}")
    return rows


def load_wiring(path: Path = WIRING_FILE) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def check_parts(lines: list[bom.Line]) -> None:
    """Every part drawn is in the BOM, and its value is what the BOM says."""
    by_ref = {line.reference: line for line in lines}
    for ref, value in PARTS.items():
        if ref not in by_ref:
            raise ValueError(f"the schematic draws {ref}, which is not in bom.csv")
        text = f"{by_ref[ref].part} {by_ref[ref].mpn_or_module}".replace(" ohm", "").replace("kohm", "k")
        if value.replace(" ", "").lower() not in text.replace(" ", "").lower():
            raise ValueError(f"the schematic labels {ref} {value!r}, which bom.csv does not say ({text!r})")


def draw(pins: list[dict[str, str]], path: Path = SVG_FILE) -> Path:
    """Draw the schematic into ``path`` (SVG)."""
    import schemdraw
    import schemdraw.elements as elm

    by_function = {row["function"]: row for row in pins}

    def tag(ref: str, sep: str = "\n") -> str:
        return f"{ref}{sep}{PARTS[ref]}"

    def pin_label(function: str) -> str:
        row = by_function[function]
        return f"GP{row['gpio']} ({function}, pin {row['pico_pin']})"

    schemdraw.config(fontsize=10)
    with schemdraw.Drawing(canvas="svg", show=False) as d:
        # Soft-latch power switch: BT1 -> Q1 -> D1 -> VSYS. R1 keeps Q1 off; SW1 (through D2) or Q2 turns it on.
        bt1 = elm.Battery().up().at((0, -3)).to((0, 0)).label(tag("BT1"), loc="top")
        elm.Ground().at(bt1.start)
        elm.Line().at((0, 0)).to((3, 0))
        elm.Dot().at((1.5, 0)).label("VBAT", loc="top")
        q1 = elm.PFet().up().reverse().at((3, 0)).anchor("source")
        elm.Label().at((3.75, 0.7)).label(tag("Q1", " "))
        elm.Schottky().at(q1.drain).to((7, 0)).label(tag("D1", " "), loc="top")
        elm.Line().at((7, 0)).to((8, 0))
        elm.Dot(open=True).at((8, 0)).label("VSYS (U1 pin 39)", loc="right")
        elm.Resistor().at((1.5, 0)).to((1.5, -2.5)).label(tag("R1"), loc="bottom")
        elm.Line().at((1.5, -2.5)).to((q1.gate[0], -2.5))
        elm.Line().at(q1.gate).to((q1.gate[0], -2.5))
        elm.Dot().at((q1.gate[0], -2.5)).label("GATE", loc="bottom", ofst=(0.5, 0))
        elm.Line().at((q1.gate[0], -2.5)).to((q1.gate[0], -4))
        q2 = elm.NFet().right().reverse().at((q1.gate[0], -4)).anchor("drain")
        elm.Label().at((q2.center[0] + 1.4, q2.center[1])).label(tag("Q2"))
        elm.Ground().at(q2.source)
        elm.Resistor().at(q2.gate).to((-0.5, q2.gate[1])).label(tag("R2"), loc="top")
        elm.Dot().at((-0.5, q2.gate[1]))
        elm.Line().at((-0.5, q2.gate[1])).to((-2, q2.gate[1]))
        elm.Dot(open=True).at((-2, q2.gate[1])).label(pin_label("power_hold"), loc="left")
        r3 = elm.Resistor().at((-0.5, q2.gate[1])).to((-0.5, q2.gate[1] - 2.5)).label(tag("R3"), loc="bottom")
        elm.Ground().at(r3.end)
        # SW1 pulls GATE low through D2 and is read on GPIO6 through D3; C1 stretches a short press.
        elm.Diode().at((q1.gate[0], -2.5)).to((7, -2.5)).label(tag("D2", " "), loc="top")
        elm.Dot().at((7, -2.5)).label("X", loc="bottom", ofst=(0.3, 0))
        sw1 = elm.Button().at((7, -2.5)).to((7, -5.5)).label(tag("SW1"), loc="bottom")
        elm.Ground().at(sw1.end)
        elm.Line().at((7, -2.5)).to((10.5, -2.5))
        c1 = elm.Capacitor().at((10.5, -2.5)).to((10.5, -5.5)).label(tag("C1"), loc="bottom")
        elm.Ground().at(c1.end)
        elm.Line().at((7, -2.5)).to((7, -1.2))
        elm.Diode().at((10, -1.2)).to((7, -1.2)).label(tag("D3", " "), loc="bottom")
        elm.Dot(open=True).at((10, -1.2)).label(pin_label("button"), loc="right")

        # The Pico, the display and the clock module, joined by net names.
        def gp(function: str) -> str:
            return f"GP{by_function[function]['gpio']}"

        left = [elm.IcPin(name=gp(f), pin=by_function[f]["pico_pin"], side="L") for f in ("power_hold", "button")]
        left += [elm.IcPin(name="VBUS (USB)", pin="40", side="L"), elm.IcPin(name="VSYS", pin="39", side="L")]
        right = [elm.IcPin(name="GND", pin="38", side="R"), elm.IcPin(name="3V3 OUT", pin="36", side="R")]
        right += [elm.IcPin(name=gp(f), pin=by_function[f]["pico_pin"], side="R")
                  for f in ("i2c_scl", "i2c_sda", "tm1637_dio", "tm1637_clk")]
        u1 = elm.Ic(pins=left + right, size=(5, 7), pinspacing=1.0).right().at((15, -11)).label(
            tag("U1", " ") + " (RP2040)", loc="top")
        for name, text in (("VSYS", "from D1"), (gp("button"), "from D3"), (gp("power_hold"), "to R2")):
            elm.Line().at(u1.absanchors[name]).to((u1.absanchors[name][0] - 1.5, u1.absanchors[name][1]))
            elm.Dot(open=True).label(text, loc="left")
        for f in ("tm1637_clk", "tm1637_dio", "i2c_sda", "i2c_scl"):
            anchor = u1.absanchors[gp(f)]
            elm.Line().at(anchor).to((anchor[0] + 2, anchor[1]))
            elm.Dot(open=True).label(f, loc="right")
        elm.Line().at(u1.absanchors["3V3 OUT"]).to((u1.absanchors["3V3 OUT"][0] + 2, u1.absanchors["3V3 OUT"][1]))
        elm.Dot(open=True).label("3V3", loc="right")
        elm.Line().at(u1.GND).to((u1.GND[0] + 1, u1.GND[1]))
        elm.Ground()
        ds1 = elm.Ic(pins=[elm.IcPin(name="GND", side="L"), elm.IcPin(name="VCC", side="L"),
                           elm.IcPin(name="DIO", side="L"), elm.IcPin(name="CLK", side="L")],
                     size=(3, 4), pinspacing=0.8).right().at((27, -6)).label(tag("DS1", " ") + " (red)", loc="top")
        u2 = elm.Ic(pins=[elm.IcPin(name="GND", side="L"), elm.IcPin(name="VCC", side="L"),
                          elm.IcPin(name="SCL", side="L"), elm.IcPin(name="SDA", side="L"),
                          elm.IcPin(name="VBAT", side="R")],
                    size=(3, 4), pinspacing=0.8).right().at((27, -12)).label(tag("U2", " "), loc="top")
        for ic, nets in ((ds1, {"CLK": "tm1637_clk", "DIO": "tm1637_dio", "VCC": "3V3"}),
                         (u2, {"SDA": "i2c_sda", "SCL": "i2c_scl", "VCC": "3V3"})):
            for pin, net in nets.items():
                anchor = ic.absanchors[pin]
                elm.Line().at(anchor).to((anchor[0] - 1.5, anchor[1]))
                elm.Dot(open=True).label(net, loc="left")
            elm.Line().at(ic.GND).to((ic.GND[0] - 0.8, ic.GND[1]))
            elm.Ground()
        bt2 = elm.Battery().at((u2.VBAT[0] + 1, u2.VBAT[1] - 3)).up().to((u2.VBAT[0] + 1, u2.VBAT[1])).label(
            tag("BT2"), loc="bottom")
        elm.Line().at(u2.VBAT).to(bt2.end)
        elm.Ground().at(bt2.start)
        elm.Label().at((28.5, -13)).label("U2: remove the charging resistor or diode and the power LED", fontsize=8)
        d.save(str(path))
    return path


def render_pinmap(rows: list[dict[str, str]]) -> str:
    """The pin map table for docs/hardware.md."""
    out = ["| GPIO | function | Pico pin | direction | connected to | notes |",
           "| ---: | --- | ---: | --- | --- | --- |"]
    out += [f"| {r['gpio']} | `{r['function']}` | {r['pico_pin'] or '-'} | {r['direction']} | {r['connected_to']} "
            f"| {r['notes']} |" for r in rows]
    return "\n".join(out)


def render_wiring(rows: list[dict[str, str]]) -> str:
    """The breadboard wiring table for docs/hardware.md."""
    out = ["| step | from | to | net | notes |", "| ---: | --- | --- | --- | --- |"]
    out += [f"| {r['step']} | {r['from']} | {r['to']} | {r['net']} | {r['notes']} |" for r in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware.schematic", description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=SVG_FILE, help="the SVG to write")
    parser.add_argument("--guide", type=Path, default=GUIDE, help="the guide whose wiring block is rewritten")
    parser.add_argument("--no-guide", action="store_true", help="draw the SVG only")
    args = parser.parse_args(argv)
    try:
        lines = bom.load()
        check_parts(lines)
        draw(load_pinmap(), args.output)
        if not args.no_guide:
            write_block("bom", bom.render(lines), args.guide)
            write_block("latch", latch.render(lines), args.guide)
            write_block("pinmap", render_pinmap(load_pinmap()), args.guide)
            write_block("wiring", render_wiring(load_wiring()), args.guide)
    except (ValueError, OSError) as exc:
        print(f"hardware.schematic: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
