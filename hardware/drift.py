"""Clock drift: what the DS3231's accuracy means in seconds and in code steps, and what the verifier absorbs.

The verifier's windows are read from its own settings (``verifier.settings.Settings``), so this page and the
verifier can never disagree. Run ``python -m hardware.drift`` to print the figures and rewrite the drift block
of docs/hardware.md.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from hardware.docblock import GUIDE, write_block

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365.25
# DS3231 datasheet (19-5170 rev 10): frequency stability and aging, in ppm.
PPM_0_40C = 2.0  # 0 C to +40 C, aging offset 0
PPM_FULL_RANGE = 3.5  # -40 C to 0 C and +40 C to +85 C
PPM_AGING_FIRST_YEAR = 1.0


@dataclass(frozen=True)
class Windows:
    """The verifier's tolerances, in steps."""

    window: int  # accepted silently, around the learned drift
    resync_window: int  # accepted after one more code ("next code required"), then learned
    admin_resync_window: int  # searched by `jeton-admin resync`


def verifier_windows() -> Windows:
    """The verifier's defaults (DESIGN.md §4), read from the verifier itself."""
    from verifier.settings import Settings

    defaults = Settings()
    return Windows(defaults.window, defaults.resync_window, defaults.admin_resync_window)


def drift_seconds(ppm: float, days: float) -> float:
    """Worst-case clock error after ``days`` at a frequency error of ``ppm``."""
    if ppm < 0 or days < 0:
        raise ValueError("ppm and days must not be negative")
    return ppm * 1e-6 * days * SECONDS_PER_DAY


def days_until(seconds: float, ppm: float) -> float:
    """Days for a clock ``ppm`` off to drift by ``seconds``."""
    if ppm <= 0:
        raise ValueError("ppm must be positive")
    return seconds / (ppm * 1e-6 * SECONDS_PER_DAY)


def render(windows: Windows, period: int = 30) -> str:
    """The drift block of docs/hardware.md, for codes of ``period`` seconds."""
    year = DAYS_PER_YEAR
    rows = [
        ("0 to 40 C (indoors)", PPM_0_40C),
        ("0 to 40 C, first year with aging", PPM_0_40C + PPM_AGING_FIRST_YEAR),
        ("-40 to 85 C (left in a car)", PPM_FULL_RANGE),
    ]
    lines = [
        f"| DS3231 accuracy | ppm | drift per year (s) | per year in {period} s steps "
        f"| silent window (±{windows.window} step) lasts (days) | next-code window (±{windows.resync_window} steps) "
        "lasts (years) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, ppm in rows:
        per_year = drift_seconds(ppm, year)
        lines.append(
            f"| {name} | ±{ppm:g} | ±{per_year:.1f} | ±{per_year / period:.2f} "
            f"| {days_until(windows.window * period, ppm):.0f} "
            f"| {days_until(windows.resync_window * period, ppm) / year:.1f} |"
        )
    lines += [
        "",
        f"Read: at ±{PPM_0_40C:g} ppm a token gains or loses at most {drift_seconds(PPM_0_40C, year):.0f} s a year. "
        f"Used at least every {days_until(windows.window * period, PPM_0_40C):.0f} days (less near a step "
        f"boundary, see below), every login re-learns the drift and nobody notices; a token left in a drawer for up to "
        f"{days_until(windows.resync_window * period, PPM_0_40C) / year:.1f} years asks for one more code once; "
        f"beyond that an administrator's `jeton-admin resync` searches ±{windows.admin_resync_window} steps "
        f"(±{windows.admin_resync_window * period / 3600:g} h).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware.drift", description=__doc__.splitlines()[0])
    parser.add_argument("--guide", type=Path, default=GUIDE)
    parser.add_argument("--no-write", action="store_true", help="print only; change no file")
    args = parser.parse_args(argv)
    try:
        block = render(verifier_windows())
        if not args.no_write:
            write_block("drift", block, args.guide)
    except (ValueError, OSError) as exc:
        print(f"hardware.drift: {exc}", file=sys.stderr)
        return 1
    print(block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
