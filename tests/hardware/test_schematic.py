"""The schematic regenerates from its description, agrees with the BOM and the pin map, and is the committed one."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from hardware import bom, docblock, latch, schematic
from tests.support import ROOT

SVG_NS = "{http://www.w3.org/2000/svg}"


def svg_texts(path) -> str:
    root = ET.parse(path).getroot()  # noqa: S314 - our own generated file, not untrusted input
    assert root.tag == f"{SVG_NS}svg"
    return " ".join("".join(node.itertext()) for node in root.iter(f"{SVG_NS}text"))


def test_make_schematic_regenerates_the_committed_svg_and_guide(tmp_path):
    out, guide = tmp_path / "schematic.svg", tmp_path / "hardware.md"
    shutil.copy(docblock.GUIDE, guide)
    proc = subprocess.run([sys.executable, "-m", "hardware.schematic", "-o", str(out), "--guide", str(guide)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == schematic.SVG_FILE.read_bytes(), "hardware/schematic.svg is stale: run `make schematic`"
    assert guide.read_bytes() == docblock.GUIDE.read_bytes(), "docs/hardware.md is stale: run `make schematic`"


def test_drawing_names_every_gpio_part_and_value():
    texts = svg_texts(schematic.SVG_FILE)
    for row in schematic.load_pinmap():
        if row["pico_pin"]:
            assert f"GP{row['gpio']}" in texts
    for ref, value in schematic.PARTS.items():
        assert ref in texts and value in texts, f"{ref} {value} is not on the drawing"


def test_a_value_that_disagrees_with_the_bom_is_refused():
    lines = [line for line in bom.load() if line.reference != "R1"]
    with pytest.raises(ValueError, match="R1, which is not in bom.csv"):
        schematic.check_parts(lines)
    r1 = next(line for line in bom.load() if line.reference == "R1")
    changed = [line for line in bom.load() if line.reference != "R1"]
    changed.append(bom.Line(**{**r1.__dict__, "part": "Resistor 220 kohm, 1 %", "mpn_or_module": "metal film 220k"}))
    with pytest.raises(ValueError, match="labels R1 '470k'"):
        schematic.check_parts(changed)


def test_guide_blocks_for_pin_map_wiring_and_latch_are_current():
    text = docblock.GUIDE.read_text(encoding="utf-8")
    assert docblock.read_block(text, "pinmap") == schematic.render_pinmap(schematic.load_pinmap())
    assert docblock.read_block(text, "wiring") == schematic.render_wiring(schematic.load_wiring())
    assert docblock.read_block(text, "latch") == latch.render()


def test_latch_keeps_power_long_enough_for_the_firmware_even_on_spent_cells():
    r1, c1 = 470e3, 10e-6
    # |Vgs| decays from (Vbat - Vf) with tau = R1 C1; Q1 conducts until it falls to VGS_ON.
    for vbat in (3.0, 2.4, 2.0):
        expected = r1 * c1 * math.log((vbat - latch.DIODE_DROP) / latch.VGS_ON)
        assert latch.hold_seconds(vbat, r1, c1) == pytest.approx(expected)
    assert latch.hold_seconds(2.0, r1, c1) >= 1.0
    assert latch.hold_seconds(1.5, r1, c1) == 0.0


def test_part_values_are_read_from_the_bom_text():
    assert latch.part_value("Resistor 470 kohm, 1 %") == 470e3
    assert latch.part_value("Ceramic capacitor 10 uF, 10 V") == pytest.approx(10e-6)
    with pytest.raises(ValueError):
        latch.part_value("Tactile push button")


def test_marker_errors_are_clear():
    with pytest.raises(docblock.DocBlockError, match="exactly one"):
        docblock.replace_block("no markers here", "bom", "x")
    text = "a\n<!-- bom:begin -->\nold\n<!-- bom:end -->\nb"
    assert docblock.replace_block(text, "bom", "new") == "a\n<!-- bom:begin -->\nnew\n<!-- bom:end -->\nb"
