"""The soft latch's timing: how long a short press keeps the token powered before the firmware holds it.

After SW1 is released, C1 recharges through R1 and D2, and Q1's gate rises with it:
``|Vgs(t)| = (Vbat - Vf) * exp(-t / (R1 * C1))``. Q1 conducts while ``|Vgs|`` stays above ``VGS_ON``,
so the firmware must drive power_hold high within that time of the release. Values come from hardware/bom.csv.
"""

from __future__ import annotations

import math
import re

from hardware import bom

VGS_ON = 1.2  # V: Q1 (DMG2305UX) is well on above this; its datasheet threshold is below 1 V
DIODE_DROP = 0.5  # V: a 1N4148 at tens of microamps
BATTERY_VOLTS = (3.0, 2.4, 2.0)  # fresh, half-used and spent 2 x AA
_UNITS = {"": 1.0, "k": 1e3, "M": 1e6, "u": 1e-6, "n": 1e-9, "p": 1e-12}


def part_value(text: str) -> float:
    """The first value with a unit prefix in a BOM description: 'Resistor 470 kohm' -> 470e3, '10 uF' -> 1e-5."""
    match = re.search(r"(\d+(?:\.\d+)?)\s*([kMunp]?)(?:ohm|F)\b", text)
    if not match:
        raise ValueError(f"no resistance or capacitance in {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def hold_seconds(vbat: float, r1_ohm: float, c1_farad: float) -> float:
    """Seconds after a press is released during which Q1 still conducts (0 if it never does)."""
    start = vbat - DIODE_DROP
    if start <= VGS_ON:
        return 0.0
    return r1_ohm * c1_farad * math.log(start / VGS_ON)


def render(lines: list[bom.Line] | None = None) -> str:
    """The latch block of docs/hardware.md."""
    parts = {line.reference: line.part for line in (lines or bom.load())}
    r1, c1 = part_value(parts["R1"]), part_value(parts["C1"])
    out = [
        f"R1 = {r1 / 1e3:g} kohm and C1 = {c1 * 1e6:g} uF give a time constant of {r1 * c1:.1f} s.",
        "",
        "| battery voltage | Q1 stays on after a short press is released |",
        "| ---: | ---: |",
    ]
    out += [f"| {v:.1f} V | {hold_seconds(v, r1, c1):.1f} s |" for v in BATTERY_VOLTS]
    return "\n".join(out)
