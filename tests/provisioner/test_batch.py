"""`jeton-provision batch`: tokens provisioned as they are plugged in, several at once; a failure never stops
the rest; Ctrl-C finishes the tokens in progress and prints the summary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.provisioner.devices import KINDS, PtyToken
from tests.support import ROOT
from verifier import open_store


def start_batch(files, hub, *extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "provisioner.cli", "batch", "--no-usb", "--port", str(hub / "tok*"), "--json",
         *files.args(), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )


def plug(hub, name, device):
    """Plug a token into the 'hub': its port appears under a stable name, as udev would name it."""
    (hub / name).symlink_to(device.plug())


def tokens_in(files):
    with open_store(files.db, files.keys) as store:
        return sorted((t.serial, t.state) for t in store.list_tokens())


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_batch_takes_tokens_as_they_come_and_a_bad_one_does_not_stop_the_rest(store_files, tmp_path, kind):
    hub = tmp_path / "hub"
    hub.mkdir()
    good = [KINDS[kind](tmp_path / f"flash{i}") for i in range(3)]
    bad = PtyToken(tmp_path / "bad", faults=frozenset({"prove"}))
    try:
        plug(hub, "tok0", good[0])
        plug(hub, "tok1", good[1])
        batch = start_batch(store_files, hub, "--count", "4", "--workers", "3")
        time.sleep(1.0)  # plugged while the batch runs
        plug(hub, "tok2", bad)
        plug(hub, "tok3", good[2])
        out, err = batch.communicate(timeout=120)
    finally:
        for device in [*good, bad]:
            device.unplug()
    assert batch.returncode == 1, err  # one token failed
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 4
    assert sorted(line["result"] for line in lines) == ["failed", "provisioned", "provisioned", "provisioned"]
    failed = next(line for line in lines if line["result"] == "failed")
    assert failed["port"].endswith("tok2") and "PROVE" in failed["error"]
    assert f"  ÉCHEC {failed['serial']:<16} {failed['port']}" in err  # the failed record's number is shown
    assert "Résumé :" in err and "3 clé(s) prête(s), 1 échec(s)." in err
    assert "ÉCHEC" in err and err.count("  OK    ") == 3
    states = tokens_in(store_files)
    assert sorted(s for _, s in states) == ["failed", "ready", "ready", "ready"]
    assert len({serial for serial, _ in states}) == 4  # unique serials, even with workers in parallel


@pytest.mark.slow
def test_ctrl_c_lets_the_tokens_in_progress_finish_then_prints_the_summary(store_files, tmp_path):
    hub = tmp_path / "hub"
    hub.mkdir()
    slow = [PtyToken(tmp_path / f"f{i}", faults=frozenset({"slow"})) for i in range(2)]
    try:
        for i, device in enumerate(slow):
            plug(hub, f"tok{i}", device)
        batch = start_batch(store_files, hub, "--workers", "2")
        deadline = time.monotonic() + 30
        while all(d.model.verbs.count("HELLO") == 0 for d in slow) and time.monotonic() < deadline:
            time.sleep(0.05)
        batch.send_signal(signal.SIGINT)  # Ctrl-C while both tokens are being seeded
        out, err = batch.communicate(timeout=60)
    finally:
        for device in slow:
            device.unplug()
    assert batch.returncode == 0, err
    assert "Arrêt demandé" in err and "2 clé(s) prête(s), 0 échec(s)." in err
    assert "Traceback" not in err
    assert [s for _, s in tokens_in(store_files)] == ["ready", "ready"]  # nothing left pending
    assert all(d.model.state == "locked" for d in slow)


def test_batch_with_idle_exit_stops_by_itself_when_no_token_comes(cli, store_files, tmp_path):
    run = cli("batch", "--no-usb", "--port", str(tmp_path / "none*"), "--idle-exit", "0.5", *store_files.args())
    assert run.code == 0, run.err
    assert run.err.strip().splitlines()[-1] == "0 clé(s) prête(s), 0 échec(s)."
