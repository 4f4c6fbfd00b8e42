"""How long a newcomer waits for ``jeton-web demo`` (goal: up in under 15 s once installed).

Each run starts the real command in its own process, as ``make demo`` does, and times it from the start of the
process to the line "Démo prête" (the database and school made or resumed, three simulated tokens booted and
seeded through the provisioner, the HTTP server listening), then stops it with SIGTERM. The baselines, measured
in the same run: the bare start of one simulated token until it answers HELLO on its pty (the floor of what the
demo waits for), and the bare start of the Python interpreter importing the booklet's command line (the floor of
any ``jeton-web`` command).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.runner import Figure, median
from tests.support import ROOT, free_port

READY = "Démo prête en"


def _demo_start(directory: Path, *args: str) -> float:
    """Seconds from starting ``jeton-web demo`` to its ready line; the demo is then stopped (SIGTERM)."""
    cmd = [sys.executable, "-m", "booklet_web.cli", "demo", "--dir", str(directory), "--port", str(free_port()), *args]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        for line in proc.stdout:
            if READY in line:
                elapsed = time.perf_counter() - start
                break
        else:
            raise RuntimeError(f"the demo stopped before it was ready: {proc.stderr.read().strip()}")
        proc.send_signal(signal.SIGTERM)
        if proc.wait(30) != 0:
            raise RuntimeError(f"the demo did not stop cleanly: {proc.stderr.read().strip()}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    return elapsed


def _sim_start(directory: Path) -> float:
    """Seconds from starting one simulated token to its first HELLO answered on the pty."""
    from provisioner.session import TokenSession
    from token_firmware.sim import SimulatedToken

    start = time.perf_counter()
    with SimulatedToken(directory) as token, TokenSession.open(token.port) as session:
        session.hello()
        return time.perf_counter() - start


def _import_cli() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import booklet_web.cli"], check=True, cwd=ROOT)
    return time.perf_counter() - start


def run(quick: bool) -> list[Figure]:
    repeat = 1 if quick else 5
    fresh, resumed, sims, imports = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="jeton-bench-demo-") as name:
        tmp = Path(name)
        for i in range(repeat):
            sims.append(_sim_start(tmp / f"sim{i}"))
            imports.append(_import_cli())
            fresh.append(_demo_start(tmp / "demo", "--fresh"))
            resumed.append(_demo_start(tmp / "demo"))
    sim, imp = median(sims), median(imports)
    note = f"{repeat} run(s); 3 tokens"
    return [
        Figure("demo up, --fresh (process start to ready)", median(fresh), "s", "one simulated token up (HELLO)",
               sim, goal="< 15 s", note=note),
        Figure("demo up, resumed (process start to ready)", median(resumed), "s", "one simulated token up (HELLO)",
               sim, goal="< 15 s", note=note),
        Figure("demo up, --fresh", median(fresh), "s", "python -c 'import booklet_web.cli'", imp,
               goal="< 15 s", note=note),
    ]
