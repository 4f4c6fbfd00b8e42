"""A district in one database (issue 17): 100,000 tokens and 100,000 users, SQLite and PostgreSQL.

Figures, each against a baseline measured in the same run:
- importing 100,000 tokens from one PSKC file (written by the project's exporter, password-protected), the way
  `jeton-admin import` does it (read the file, then ``Store.import_records``: one transaction) — against 100 times
  the import of 1,000 tokens (what linear scaling would give); goal under 2 minutes;
- `rotate-key` over 100,000 tokens (every secret re-encrypted, in committed batches) — against 100 times the same
  over 1,000 tokens; goal under 2 minutes;
- successful passcode checks per second, one process, in a district of 100,000 users and tokens — against the same
  checks in a district of 1,000, rounds interleaved (goal: at least 90 %).
Districts come from ``benchmarks.fleet_data`` (tokens in every state, an audit table of two rows per token).
``--quick`` uses 2,000 tokens against 200 (a smoke run).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.fleet_data import Fleet, build_fleet, fleet_database
from benchmarks.runner import Figure, median
from verifier import init_store, open_store
from verifier.interchange import read_token_file
from verifier.verification import Outcome, Verifier

PASSWORD = "mot-de-passe-du-lot"  # noqa: S105 (a benchmark's throwaway file)
SAMPLE = 400  # users checked per round, spread over the whole district
ROUNDS = 7


def _sizes(quick: bool) -> tuple[int, int]:
    return (200, 2000) if quick else (1000, 100_000)


def _pskc_file(folder: Path, count: int) -> Path:
    """A PSKC file of ``count`` tokens, written by the provisioner's exporter (AES-CBC, PBKDF2, HMAC-SHA1)."""
    from provisioner.exporting import ExportItem, to_pskc
    from provisioner.records import Record

    fleet = Fleet(url="", keys=folder, users=0, tokens=count)
    items = [ExportItem(Record(serial=fleet.serial(n), state="ready", algo="sha1", digits=6, period=30),
                        fleet.secret(n)) for n in range(count)]
    path = folder / f"lot-{count}.pskcxml"
    path.write_bytes(to_pskc(items, password=PASSWORD))
    return path


def _import(url: str, keys: Path, path: Path) -> tuple[float, float]:
    """(seconds to read the file, seconds to store its tokens): `jeton-admin import`'s two steps."""
    store = init_store(url, keys)[0]
    try:
        began = time.perf_counter()
        records = read_token_file(path, password=PASSWORD)
        read = time.perf_counter() - began
        began = time.perf_counter()
        store.import_records(records, source=path.name, actor="bench")
        stored = time.perf_counter() - began
    finally:
        store.close()
    return read, stored


def _rotate(fleet: Fleet) -> float:
    with open_store(fleet.url, fleet.keys) as store:
        began = time.perf_counter()
        store.rotate_key(actor="bench")
        return time.perf_counter() - began


def _check_rates(small: Fleet, large: Fleet, rounds: int) -> tuple[float, float]:
    """Median checks/s in each district. The checks alternate one by one between the two districts, so that the
    noise of this shared machine falls on both alike; each round checks every sampled user once, at a new step."""
    stores = [open_store(f.url, f.keys) for f in (small, large)]
    try:
        verifiers = [Verifier(s) for s in stores]
        size = min(SAMPLE, len(small.checkable), len(large.checkable))
        samples = [f.checkable[:: len(f.checkable) // size][:size] for f in (small, large)]
        rates: list[list[float]] = [[], []]
        for r in range(rounds + 1):  # the first round warms both up and is not counted
            now = small.now + 30 * (r + 3) + 1
            plans = [[(f.login(n), f.passcode(n, now)) for n in sample] for f, sample in zip((small, large), samples,
                                                                                               strict=True)]
            spent = [0.0, 0.0]
            for i in range(size):
                for which in (0, 1):
                    login, passcode = plans[which][i]
                    began = time.perf_counter()
                    outcome = verifiers[which].authenticate(login, passcode, now).outcome
                    spent[which] += time.perf_counter() - began
                    if outcome is not Outcome.ACCEPT:
                        raise RuntimeError(f"unexpected outcome for {login}: {outcome}")
            if r:
                for which in (0, 1):
                    rates[which].append(size / spent[which])
    finally:
        for s in stores:
            s.close()
    return median(rates[0]), median(rates[1])


def _database_figures(kind: str, quick: bool, folder: Path, files: dict[int, Path]) -> list[Figure]:
    small_n, large_n = _sizes(quick)
    name = "SQLite" if kind == "sqlite" else "PostgreSQL"
    scale = large_n // small_n
    figures = []
    with fleet_database(kind) as small_url, fleet_database(kind) as large_url:
        began = time.perf_counter()
        small = build_fleet(small_url, folder / f"{kind}-small-keys.json", users=small_n)
        large = build_fleet(large_url, folder / f"{kind}-large-keys.json", users=large_n)
        built = time.perf_counter() - began
        rounds = 3 if quick else ROUNDS
        small_rate, large_rate = _check_rates(small, large, rounds)
        figures.append(Figure(f"successful checks/s, {name}, {large_n:,} users and tokens", large_rate, "checks/s",
                              f"the same checks, {small_n:,} users and tokens", small_rate, goal="ratio >= 0.9",
                              note=f"{SAMPLE} users spread over each district, checked once per round, the two "
                                   f"districts alternating check by check; median of {rounds} rounds; districts "
                                   f"built in {built:.0f} s"))
        small_rotation, large_rotation = _rotate(small), _rotate(large)
        figures.append(Figure(f"rotate-key, {large_n:,} tokens, {name}", large_rotation, "s",
                              f"rotate-key, {small_n:,} tokens, x{scale}", small_rotation * scale,
                              goal="< 120 s"))
    with fleet_database(kind) as small_url, fleet_database(kind) as large_url:
        small_read, small_stored = _import(small_url, folder / f"{kind}-import-small.json", files[small_n])
        large_read, large_stored = _import(large_url, folder / f"{kind}-import-large.json", files[large_n])
    figures.append(Figure(f"import {large_n:,} PSKC tokens, {name}", large_read + large_stored, "s",
                          f"import {small_n:,} PSKC tokens, x{scale}", (small_read + small_stored) * scale,
                          goal="< 120 s", note=f"reading the file {large_read:.1f} s, storing {large_stored:.1f} s"))
    return figures


def run(quick: bool) -> list[Figure]:
    if not os.environ.get("JETON_TEST_POSTGRES_URL"):
        raise RuntimeError("JETON_TEST_POSTGRES_URL is not set: no PostgreSQL figure")
    with tempfile.TemporaryDirectory(prefix="jeton-scale-") as tmp:
        folder = Path(tmp)
        files = {n: _pskc_file(folder, n) for n in _sizes(quick)}
        return _database_figures("sqlite", quick, folder, files) + _database_figures("postgresql", quick, folder,
                                                                                      files)
