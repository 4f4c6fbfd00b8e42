"""Generated blocks in docs/hardware.md: text between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARDWARE = ROOT / "hardware"
GUIDE = ROOT / "docs" / "hardware.md"


class DocBlockError(ValueError):
    """The guide lacks the markers of a generated block, or has them more than once or out of order."""


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def read_block(text: str, name: str) -> str:
    """The text between the markers of block ``name`` (without the newlines next to the markers)."""
    begin, end = _markers(name)
    if text.count(begin) != 1 or text.count(end) != 1:
        raise DocBlockError(f"docs/hardware.md needs exactly one {begin} and one {end}")
    start = text.index(begin) + len(begin)
    stop = text.index(end)
    if stop < start:
        raise DocBlockError(f"{end} comes before {begin} in docs/hardware.md")
    return text[start:stop].strip("\n")


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with block ``name`` replaced by ``body``; raises DocBlockError when the markers are wrong."""
    read_block(text, name)  # validates the markers
    begin, end = _markers(name)
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body.strip(chr(10))}\n{end}{tail}"


def write_block(name: str, body: str, guide: Path = GUIDE) -> bool:
    """Rewrite block ``name`` of ``guide``; returns whether the file changed."""
    old = guide.read_text(encoding="utf-8")
    new = replace_block(old, name, body)
    if new != old:
        guide.write_text(new, encoding="utf-8")
    return new != old
