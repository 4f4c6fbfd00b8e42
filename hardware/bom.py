"""The bill of materials (hardware/bom.csv): checked, totalled, and written into docs/hardware.md.

Prices are in EUR with the month they were read and the kind of source (distributor or marketplace);
``unit_price_eur_100`` is the unit price when buying for 100 tokens. Run ``python -m hardware.bom``.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hardware.docblock import GUIDE, HARDWARE, write_block

BOM_FILE = HARDWARE / "bom.csv"
COLUMNS = (
    "reference", "part", "mpn_or_module", "quantity", "unit_price_eur_1", "unit_price_eur_100",
    "price_date", "price_source", "notes",
)
SOURCE_KINDS = ("distributor list price (indicative)", "marketplace listing (indicative)")
_DATE = re.compile(r"^20\d\d-(0[1-9]|1[0-2])$")


class BomError(ValueError):
    """bom.csv is malformed: the message names the line and the column."""


@dataclass(frozen=True)
class Line:
    reference: str
    part: str
    mpn_or_module: str
    quantity: int
    unit_price_eur_1: Decimal
    unit_price_eur_100: Decimal
    price_date: str
    price_source: str
    notes: str


def _price(value: str, where: str) -> Decimal:
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise BomError(f"{where}: {value!r} is not a price in EUR") from None
    if price < 0 or price != price.quantize(Decimal("0.01")):
        raise BomError(f"{where}: {value!r} must be a non-negative price with at most two decimals")
    return price


def load(path: Path = BOM_FILE) -> list[Line]:
    """The BOM's lines, checked: every column present, quantities positive, prices, dates and sources valid."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise BomError(f"{path.name}: columns must be {', '.join(COLUMNS)}")
        lines, seen = [], set()
        for number, row in enumerate(reader, start=2):
            where = f"{path.name} line {number}"
            if None in row or any(row[c] is None for c in COLUMNS):
                raise BomError(f"{where}: wrong number of fields")
            for column in ("reference", "part", "mpn_or_module", "price_date", "price_source"):
                if not row[column].strip():
                    raise BomError(f"{where}: {column} is empty")
            if row["reference"] in seen:
                raise BomError(f"{where}: reference {row['reference']} appears twice")
            seen.add(row["reference"])
            if not row["quantity"].isdigit() or int(row["quantity"]) < 1:
                raise BomError(f"{where}: quantity {row['quantity']!r} must be a whole number >= 1")
            if not _DATE.match(row["price_date"]):
                raise BomError(f"{where}: price_date {row['price_date']!r} must be YYYY-MM")
            if row["price_source"] not in SOURCE_KINDS:
                raise BomError(f"{where}: price_source must be one of: {'; '.join(SOURCE_KINDS)}")
            lines.append(Line(
                row["reference"], row["part"], row["mpn_or_module"], int(row["quantity"]),
                _price(row["unit_price_eur_1"], f"{where} unit_price_eur_1"),
                _price(row["unit_price_eur_100"], f"{where} unit_price_eur_100"),
                row["price_date"], row["price_source"], row["notes"],
            ))
    if not lines:
        raise BomError(f"{path.name}: no parts")
    return lines


def total_one(lines: list[Line]) -> Decimal:
    """Cost of the parts for one token, bought one at a time."""
    return sum((line.quantity * line.unit_price_eur_1 for line in lines), Decimal("0"))


def total_hundred(lines: list[Line]) -> Decimal:
    """Cost of the parts for 100 tokens at the 100-token unit prices."""
    return sum((100 * line.quantity * line.unit_price_eur_100 for line in lines), Decimal("0"))


def render(lines: list[Line]) -> str:
    """The BOM block of docs/hardware.md."""
    out = [
        "| ref | part | MPN or module | qty | EUR (1) | EUR (100) | notes |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for line in lines:
        out.append(f"| {line.reference} | {line.part} | {line.mpn_or_module} | {line.quantity} | "
                   f"{line.unit_price_eur_1} | {line.unit_price_eur_100} | {line.notes} |")
    dates = sorted({line.price_date for line in lines})
    out += [
        "",
        f"**Total for one token: {total_one(lines):.2f} EUR. For 100 tokens: {total_hundred(lines):.2f} EUR "
        f"({total_hundred(lines) / 100:.2f} EUR a token).** Price level of {', '.join(dates)}; "
        "indicative, not quotes (see below).",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware.bom", description=__doc__.splitlines()[0])
    parser.add_argument("--bom", type=Path, default=BOM_FILE)
    parser.add_argument("--guide", type=Path, default=GUIDE)
    parser.add_argument("--no-write", action="store_true", help="print only; change no file")
    args = parser.parse_args(argv)
    try:
        block = render(load(args.bom))
        if not args.no_write:
            write_block("bom", block, args.guide)
    except (ValueError, OSError) as exc:
        print(f"hardware.bom: {exc}", file=sys.stderr)
        return 1
    print(block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
