"""The benchmark runner behind ``make bench``.

Every module ``benchmarks/bench_*.py`` defines ``run(quick: bool) -> list[Figure]``. The runner calls each,
prints every figure beside the baseline measured in the same run (and the ratio between them), and writes
the figures to ``benchmarks/results/<module>.json``. Numbers are medians (and p95 where it matters) because
this machine is shared and noisy; no figure is ever a pass/fail assertion.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


@dataclass
class Figure:
    """One measured figure, with the baseline it is read against."""

    name: str
    value: float
    unit: str
    baseline_name: str
    baseline_value: float
    goal: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline_value if self.baseline_value else None


def timings(fn: Callable[[], object], repeat: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls of ``fn`` after ``warmup`` unmeasured ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def discover(only: list[str] | None = None) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if only:
        names = [n for n in names if any(o in n for o in only)]
    return names


def format_table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "baseline (same run)", "ratio", "goal")]
    for f in figures:
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        rows.append(
            (f.name, f"{f.value:.4g} {f.unit}", f"{f.baseline_name}: {f.baseline_value:.4g} {f.unit}", ratio, f.goal)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def run_module(name: str, quick: bool) -> list[Figure]:
    module = importlib.import_module(f"benchmarks.{name}")
    return module.run(quick=quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="run only the benchmark modules whose name contains this")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run, not a measurement)")
    parser.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/")
    args = parser.parse_args(argv)

    names = discover(args.only)
    if not names:
        print("no benchmark matches", args.only, file=sys.stderr)
        return 2
    status = 0
    for name in names:
        print(f"== {name}")
        try:
            figures = run_module(name, args.quick)
        except Exception as exc:  # one broken benchmark must not hide the others
            print(f"   failed: {exc.__class__.__name__}: {exc}", file=sys.stderr)
            status = 1
            continue
        print(format_table(figures))
        if not args.no_write and not args.quick:
            RESULTS.mkdir(exist_ok=True)
            record = {
                "benchmark": name,
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"python": platform.python_version(), "platform": platform.platform()},
                "figures": [asdict(f) | {"ratio": f.ratio} for f in figures],
            }
            (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    return status
