"""Fixtures of the provisioner tests: the verifier's real token store, simulated tokens, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import ROOT, require


@dataclass(frozen=True)
class StoreFiles:
    """A store made by ``verifier.init_store``: its URL and key file, as the CLI takes them."""

    db: str
    keys: str

    def args(self) -> list[str]:
        return ["--db", self.db, "--keys", self.keys]


@pytest.fixture
def store_files(tmp_path) -> StoreFiles:
    """A fresh SQLite token store with its key ring (created by the verifier, the one store)."""
    from verifier import init_store

    files = StoreFiles(f"sqlite:///{tmp_path / 'jeton.db'}", str(tmp_path / "keys.json"))
    store, _, _ = init_store(files.db, files.keys)
    store.close()
    return files


@pytest.fixture
def records(store_files):
    from provisioner.records import open_records

    with open_records(store_files.db, store_files.keys) as recs:
        yield recs


@dataclass
class CliRun:
    code: int
    out: str
    err: str


def run_cli(*args: str, input: str | None = None, timeout: float = 60, env: dict | None = None) -> CliRun:
    """Run ``jeton-provision`` as IT staff would: a separate process, its stdout and stderr captured."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("JETON_KEYS_FILE", None)
    done = subprocess.run(
        [sys.executable, "-m", "provisioner.cli", *args],
        input=input, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=ROOT,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def cli():
    return run_cli


def simulator_class():
    """token_firmware.sim.SimulatedToken, or a skip (a failure under CI) naming what is missing."""
    try:
        from token_firmware.sim import SimulatedToken
    except ImportError:
        require(False, "token_firmware.sim.SimulatedToken (the firmware's simulator)")
    return SimulatedToken


@pytest.fixture
def simulated(tmp_path):
    """A factory of running simulated tokens (the real firmware under MicroPython on a pty)."""
    cls = simulator_class()
    started = []

    def start(name: str = "tok", **kwargs):
        sim = cls(Path(tmp_path) / f"state-{name}", **kwargs)
        sim.__enter__()
        started.append(sim)
        return sim

    yield start
    for sim in reversed(started):
        sim.__exit__(None, None, None)
