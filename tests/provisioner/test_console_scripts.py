"""The fixed points of DESIGN.md §6, end to end with the installed console scripts: `jeton-admin init`,
`jeton-sim --state DIR --headless` printing `PORT <path>`, `jeton-provision seed PORT`, `jeton-admin tokens`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import require


def script(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    found = str(path) if path.exists() else shutil.which(name)
    require(found is not None, f"the {name} console script (pip install -e .)")
    return found


@pytest.mark.slow
def test_it_staff_seed_a_token_started_with_jeton_sim_and_see_it_in_jeton_admin(tmp_path):
    db, keys = f"sqlite:///{tmp_path / 'jeton.db'}", str(tmp_path / "keys.json")
    init = subprocess.run([script("jeton-admin"), "--db", db, "--keys", keys, "init"], capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    sim = subprocess.Popen([script("jeton-sim"), "--state", str(tmp_path / "token"), "--headless"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = sim.stdout.readline().split()
        assert first[0] == "PORT", first
        seed = subprocess.run([script("jeton-provision"), "seed", first[1], "--db", db, "--keys", keys],
                              capture_output=True, text=True, timeout=60)
        assert seed.returncode == 0, seed.stderr
        assert seed.stdout.strip() == "JT-000001"
    finally:
        sim.terminate()
        sim.communicate(timeout=10)
    listed = subprocess.run([script("jeton-admin"), "--db", db, "--keys", keys, "tokens", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    tokens = json.loads(listed.stdout)
    assert [(t["serial"], t["state"], t["model"], t["firmware"]) for t in tokens] == [
        ("JT-000001", "ready", "host", "1.0.0")  # HELLO's facts: the simulator's board and the flashed firmware
    ]
