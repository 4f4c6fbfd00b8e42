"""CSV files people open in a spreadsheet never carry a formula (OWASP CSV injection, issue 12 item 4)."""

from __future__ import annotations

import csv
import io

import pytest

from verifier.audit import AuditEntry, to_csv
from verifier.csv_cells import safe_cell


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x";"y")'])
def test_a_cell_that_would_start_a_formula_gets_a_quote(cell):
    assert safe_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Dupont", "E3A01", "2027-01-15", "3/13", "", " =1", "a=b", "'=1"])
def test_other_cells_are_left_as_they_are(cell):
    assert safe_cell(cell) == cell


def test_the_audit_csv_of_jeton_admin_carries_no_formula():
    entry = AuditEntry(id=1, at=1_800_000_000.0, actor="=cmd|' /C calc'!A0", action="token.assign", outcome="ok",
                       login="jdupont", serial="JT-0001", source="-2+3", detail="@SUM(1)")
    (row,) = csv.DictReader(io.StringIO(to_csv([entry])))
    assert (row["actor"], row["source"], row["detail"]) == ("'=cmd|' /C calc'!A0", "'-2+3", "'@SUM(1)")
    assert (row["login"], row["serial"], row["when"]) == ("jdupont", "JT-0001", "2027-01-15T08:00:00+00:00")
