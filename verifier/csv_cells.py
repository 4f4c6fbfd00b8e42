"""Cells of CSV files that people open in a spreadsheet: text never runs as a formula (OWASP "CSV injection").

A spreadsheet treats a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(...)`` sends
data away, ``=cmd|...`` ran programs in old Excel), and some read a leading tab or carriage return the same way.
Such a cell gets a leading single quote, which spreadsheets show as text; every other value is left as it is.
The booklet's class export and ``jeton-admin audit --csv`` both write their cells through :func:`safe_cell`.

>>> safe_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> safe_cell("Dupont"), safe_cell(7), safe_cell(None)
('Dupont', '7', '')
"""

from __future__ import annotations

#: the first characters that make a spreadsheet read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """``value`` as CSV cell text, with a leading ``'`` when it would start a formula (None is empty)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
