"""The BOM: its columns, its totals (recomputed here from the CSV), the guide's copy, and bad input refused."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from decimal import Decimal

import pytest

from hardware import bom, docblock
from tests.support import ROOT

REQUIRED = ["reference", "part", "mpn_or_module", "quantity", "unit_price_eur_1", "unit_price_eur_100",
            "price_date", "price_source", "notes"]


def raw_rows() -> list[dict[str, str]]:
    with bom.BOM_FILE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_columns_are_the_documented_ones():
    with bom.BOM_FILE.open(newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == REQUIRED


def test_every_part_the_design_needs_is_listed():
    refs = {row["reference"] for row in raw_rows()}
    assert {"U1", "DS1", "U2", "BT1", "BT2", "SW1", "Q1", "Q2", "D1", "D2", "D3", "R1", "R2", "R3", "C1"} <= refs


def test_totals_for_one_and_for_a_hundred():
    rows = raw_rows()
    one = sum(int(r["quantity"]) * Decimal(r["unit_price_eur_1"]) for r in rows)
    hundred = sum(100 * int(r["quantity"]) * Decimal(r["unit_price_eur_100"]) for r in rows)
    lines = bom.load()
    assert bom.total_one(lines) == one
    assert bom.total_hundred(lines) == hundred
    assert hundred / 100 < one, "buying 100 should cost less per token"


def test_guide_shows_the_current_bom_and_totals():
    text = docblock.GUIDE.read_text(encoding="utf-8")
    block = docblock.read_block(text, "bom")
    assert block == bom.render(bom.load()), "docs/hardware.md is stale: run `make schematic`"
    rows = raw_rows()
    one = sum(int(r["quantity"]) * Decimal(r["unit_price_eur_1"]) for r in rows)
    assert f"Total for one token: {one:.2f} EUR" in block


def test_the_clock_module_note_says_to_remove_the_charging_path():
    notes = {row["reference"]: row["notes"] for row in raw_rows()}
    assert "REMOVE the charging path" in notes["U2"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda rows: rows[1].__setitem__("unit_price_eur_1", "-1.00"), "non-negative price"),
        (lambda rows: rows[1].__setitem__("quantity", "two"), "whole number"),
        (lambda rows: rows[2].__setitem__("reference", rows[1]["reference"]), "appears twice"),
        (lambda rows: rows[1].__setitem__("price_date", "June 2025"), "YYYY-MM"),
        (lambda rows: rows[1].__setitem__("price_source", "a friend"), "price_source must be one of"),
        (lambda rows: rows[1].__setitem__("part", " "), "part is empty"),
    ],
)
def test_bad_bom_is_refused_with_the_line_named(tmp_path, edit, message):
    rows = raw_rows()
    edit(rows)
    path = tmp_path / "bom.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=REQUIRED)
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(bom.BomError, match=message) as raised:
        bom.load(path)
    assert "bom.csv line" in str(raised.value)


def test_missing_column_is_refused(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("reference,part\nU1,Pico\n", encoding="utf-8")
    with pytest.raises(bom.BomError, match="columns must be"):
        bom.load(path)


def test_cli_on_a_bad_bom_prints_one_line_and_changes_nothing(tmp_path):
    guide = tmp_path / "hardware.md"
    shutil.copy(docblock.GUIDE, guide)
    before = guide.read_bytes()
    bad = tmp_path / "bom.csv"
    bad.write_text(",".join(REQUIRED) + "\nU1,Pico,SC0915,1,x,4.20,2025-06,marketplace listing (indicative),\n",
                   encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "hardware.bom", "--bom", str(bad), "--guide", str(guide)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "not a price in EUR" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert guide.read_bytes() == before
