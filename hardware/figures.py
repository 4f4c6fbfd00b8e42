"""The figures the battery budget stands on: hardware/figures.csv (each cited) and the firmware's board settings."""

from __future__ import annotations

import ast
import csv
from dataclasses import dataclass
from pathlib import Path

from hardware.docblock import HARDWARE, ROOT

FIGURES_FILE = HARDWARE / "figures.csv"
KINDS = ("datasheet", "measurement (third party)", "measurement (this project)", "design value", "estimate")
BOARD_FILE = ROOT / "token_firmware" / "device" / "board_pico.py"


@dataclass(frozen=True)
class Cited:
    """A number with where it comes from and what kind of source that is."""

    value: float
    unit: str
    source: str
    kind: str  # one of KINDS


def load_figures(path: Path = FIGURES_FILE) -> dict[str, Cited]:
    """The cited figures of hardware/figures.csv; every one needs a value, a source and a kind of source."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    figures = {}
    for number, row in enumerate(rows, start=2):
        if not all((row.get(c) or "").strip() for c in ("key", "value", "source", "kind")):
            raise ValueError(f"{path.name} line {number}: key, value, source and kind are all required")
        if row["kind"] not in KINDS:
            raise ValueError(f"{path.name} line {number}: kind must be one of {', '.join(KINDS)}")
        try:
            value = float(row["value"])
        except ValueError:
            raise ValueError(f"{path.name} line {number}: value {row['value']!r} is not a number") from None
        figures[row["key"]] = Cited(value, row["unit"], row["source"], row["kind"])
    return figures


CITED = load_figures()


def cited(key: str) -> float:
    return CITED[key].value


def board_setting(name: str, path: Path = BOARD_FILE) -> object:
    """A module-level literal of the firmware's board file, read with ast (the file imports `machine`)."""
    if not path.exists():
        raise ValueError(f"{path.name} not found: the battery budget reads the firmware's display brightness there")
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise ValueError(f"{path.name} has no module-level {name} literal")
