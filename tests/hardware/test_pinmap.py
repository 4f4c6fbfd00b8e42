"""The pin map (hardware/pinmap.csv) is the firmware's board file, pin for pin, and the wiring follows it."""

from __future__ import annotations

import ast
import csv
import re

import pytest

from hardware import bom, schematic
from tests.support import ROOT, require

BOARD_FILE = ROOT / "token_firmware" / "device" / "board_pico.py"
# Raspberry Pi Pico datasheet, pinout: the physical pin of each header GPIO (GP23, GP24, GP25 have no pin).
PICO_PIN = {0: 1, 1: 2, 2: 4, 3: 5, 4: 6, 5: 7, 6: 9, 7: 10, 8: 11, 9: 12, 10: 14, 11: 15, 12: 16, 13: 17, 14: 19,
            15: 20, 16: 21, 17: 22, 18: 24, 19: 25, 20: 26, 21: 27, 22: 29, 26: 31, 27: 32, 28: 34}


def board_pins() -> dict[str, int]:
    """PINS of the firmware's pico board file, read with ast (the file imports `machine`, so never import it)."""
    require(BOARD_FILE.exists(), f"{BOARD_FILE.relative_to(ROOT)} (the firmware's pico board file)")
    tree = ast.parse(BOARD_FILE.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PINS" for t in node.targets):
            return ast.literal_eval(node.value)
    pytest.fail(f"{BOARD_FILE.name} has no module-level PINS = {{...}} literal")


def pinmap() -> list[dict[str, str]]:
    return schematic.load_pinmap()


def test_pin_map_and_firmware_board_file_agree_pin_for_pin():
    firmware = board_pins()
    hardware = {row["function"]: int(row["gpio"]) for row in pinmap()}
    assert hardware == firmware


def test_pin_map_columns_and_one_function_per_gpio():
    with schematic.PINMAP_FILE.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert {"gpio", "function", "connected_to"} <= set(reader.fieldnames)
    gpios = [row["gpio"] for row in rows]
    functions = [row["function"] for row in rows]
    assert len(set(gpios)) == len(gpios), "a GPIO is used twice"
    assert len(set(functions)) == len(functions), "a function appears twice"
    assert all(row["connected_to"].strip() for row in rows)


def test_physical_pins_match_the_pico_pinout():
    for row in pinmap():
        gpio = int(row["gpio"])
        expected = str(PICO_PIN[gpio]) if gpio in PICO_PIN else ""
        assert row["pico_pin"] == expected, f"GP{gpio} is on pin {expected or '(none)'} of the Pico"


def test_i2c_is_bus_0():
    # RP2040 I2C0 can use GP4 (SDA) and GP5 (SCL); a wrong pair would fail at boot with "bad SCL pin".
    pins = {row["function"]: int(row["gpio"]) for row in pinmap()}
    assert pins["i2c_sda"] % 4 == 0 and pins["i2c_scl"] == pins["i2c_sda"] + 1


def test_breadboard_wiring_uses_the_pin_map_pins():
    wired = {}
    for row in schematic.load_wiring():
        for end in (row["from"], row["to"]):
            match = re.search(r"U1 pin (\d+) \(GP(\d+)\)", end)
            if match:
                wired[int(match.group(2))] = match.group(1)
    for row in pinmap():
        if row["pico_pin"]:
            assert wired.get(int(row["gpio"])) == row["pico_pin"], f"GP{row['gpio']} ({row['function']}) is not wired"
    assert set(wired) == {int(r["gpio"]) for r in pinmap() if r["pico_pin"]}, "a wire goes to a GPIO not in the map"


def test_wiring_steps_are_numbered_in_order():
    steps = [int(row["step"]) for row in schematic.load_wiring()]
    assert steps == list(range(1, len(steps) + 1))


def test_parts_named_in_the_pin_map_and_wiring_are_in_the_bom():
    refs = {line.reference for line in bom.load()}
    texts = [f"{r['connected_to']} {r['notes']}" for r in pinmap()]
    texts += [f"{r['from']} {r['to']} {r['notes']}" for r in schematic.load_wiring()]
    for text in texts:
        for ref in re.findall(r"\b(?:BT|DS|SW|U|Q|D|R|C)\d{1,2}\b", text):
            assert ref in refs, f"{ref} (in {text!r}) is not in bom.csv"
