"""Provisioning speed: seconds per token (goal < 1 s) and tokens per minute in batch with 10 tokens (goal >= 60).

Measured against the simulator (the real firmware under MicroPython on a pty) when ``token_firmware.sim`` is
present, and against the scripted pty token of the tests (no firmware: the host side's own cost) always. Each
figure stands beside the raw protocol round trip (one HELLO) on the same kind of token, measured in the same run,
and the batch rate beside the sequential rate of the same run.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

from benchmarks.runner import Figure, median, timings
from provisioner.batch import BatchRunner
from provisioner.records import open_records
from provisioner.seeding import SeedOptions, seed_token
from provisioner.session import TokenSession
from tests.provisioner.devices import PtyToken

BATCH = 10


def _kinds() -> dict[str, type]:
    kinds = {"scripted pty token": PtyToken}
    try:
        from tests.provisioner.devices import SimToken
        from token_firmware.sim import SimulatedToken  # noqa: F401

        kinds = {"simulator (firmware under MicroPython)": SimToken, **kinds}
    except ImportError:
        pass
    return kinds


def _store(tmp: Path):
    from verifier import init_store

    db, keys = f"sqlite:///{tmp / 'bench.db'}", str(tmp / "keys.json")
    init_store(db, keys)[0].close()
    return open_records(db, keys)


def _measure(kind: str, cls: type, quick: bool) -> list[Figure]:
    repeat = 3 if quick else 15
    with tempfile.TemporaryDirectory(prefix="jeton-bench-") as name, contextlib.ExitStack() as stack:
        tmp = Path(name)
        records = stack.enter_context(_store(tmp))
        device = cls(tmp / "one")
        port = device.plug()
        stack.callback(device.unplug)
        with TokenSession.open(port) as session:
            round_trip = median(timings(session.hello, repeat * 10))

        def one_token() -> None:  # what an operator waits for: open the port, seed, close
            with TokenSession.open(port) as session:
                seed_token(session, records, SeedOptions(operator="bench"))

        def wipe() -> None:
            with TokenSession.open(port) as session:
                session.wipe(session.hello().serial)

        seeds = []
        for _ in range(repeat):
            seeds += timings(one_token, 1, warmup=0)
            wipe()
        per_token = median(seeds)
        device.unplug()

        devices = [cls(tmp / f"batch{i}") for i in range(BATCH)]
        hub = tmp / "hub"
        hub.mkdir()
        for i, d in enumerate(devices):
            stack.callback(d.unplug)
            (hub / f"tok{i}").symlink_to(d.plug())
        runner = BatchRunner(records, SeedOptions(operator="bench"), lambda: sorted(map(str, hub.iterdir())),
                             workers=BATCH, poll=0.05)
        start = time.perf_counter()
        outcomes = runner.run(count=BATCH)
        elapsed = time.perf_counter() - start
        failed = [o.error for o in outcomes if not o.ok]
        if failed:
            raise RuntimeError(f"batch failures: {failed[:2]}")
    sequential = 60.0 / per_token
    return [
        Figure(f"seed one token, {kind}", per_token, "s", "raw round trip (HELLO)", round_trip, goal="< 1 s"),
        Figure(f"batch of {BATCH}, {kind}", BATCH / elapsed * 60, "tokens/min", "sequential rate (same run)",
               sequential, goal=">= 60/min",
               note=f"{BATCH} tokens in {elapsed:.2f} s, {BATCH} workers; raw round trip {round_trip * 1e6:.0f} us"),
    ]


def run(quick: bool) -> list[Figure]:
    figures = []
    for kind, cls in _kinds().items():
        figures += _measure(kind, cls, quick)
    return figures
