"""Recovery (DESIGN.md §3): a rerun after a kill -9 or an unplug at any step of seeding converges.

After each interruption and one rerun, the invariants hold: no device holds a secret without a record, no
``ready`` record lacks its device, and nothing is lost (the token ends locked and ready, any other record of
the run is ``failed`` with its secret destroyed, none stays ``pending``).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from provisioner.checking import check_token
from provisioner.errors import ProvisionerError
from provisioner.records import open_records
from provisioner.seeding import STEPS, SeedOptions, seed_token
from provisioner.session import TokenSession
from tests.provisioner.devices import KINDS
from tests.support import ROOT


@pytest.fixture(params=sorted(KINDS))
def token(request, tmp_path):
    device = KINDS[request.param](tmp_path / "flash")
    yield device
    device.unplug()


def assert_converged(files, port, token):
    token.press()  # a locked token gives its code only while a press shows it: check compares it then
    with open_records(files.db, files.keys) as records, TokenSession.open(port) as session:
        hello = session.hello()
        report = check_token(session, records)
        states = {r.serial: r.state for r in records.list()}
    # the device holds a secret, and its record is ready and proves it
    assert hello.state == "locked"
    assert states.pop(hello.serial) == "ready"
    assert report.holds_secret and report.code_ok and report.reissuable, report.reasons
    # nothing else claims a device: every other record of this run failed (its secret destroyed)
    assert set(states.values()) <= {"failed"}, states
    return hello.serial


def rerun(cli, files, port, serial):
    args = ["seed", port, *files.args()] + (["--serial", serial] if serial else [])
    run = cli(*args)
    assert run.code == 0, run.err
    return run


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_a_kill_9_at_every_step_converges_on_rerun(cli, store_files, token, step):
    port = token.plug()
    killed = subprocess.run(
        [sys.executable, "-m", "tests.provisioner.kill_driver", store_files.db, store_files.keys, port, step],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert killed.returncode == -9, killed.stderr
    reserved = [line.split()[1] for line in killed.stdout.splitlines() if line.startswith("RESERVED")]
    run = rerun(cli, store_files, port, reserved[-1] if reserved else None)
    serial = assert_converged(store_files, port, token)
    if step in ("pending", "time", "seed", "prove", "code", "lock", "ready"):
        assert serial == reserved[-1]  # the interrupted record was completed, not abandoned
    expected = {"hello": "provisionnée", "ready": "déjà provisionnée"}.get(step)
    if expected:
        assert f"Clé {serial} {expected}" in run.err


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_an_unplug_at_every_step_converges_on_rerun(cli, store_files, token, step):
    port = token.plug()

    def unplug_at(name, serial):
        if name == step:
            token.unplug()

    with open_records(store_files.db, store_files.keys) as records:
        session = TokenSession.open(port)
        try:
            seed_token(session, records, SeedOptions(serial="LAB-7"), on_step=unplug_at)
            assert step == "ready"  # only an unplug after the last step lets the run finish
        except ProvisionerError as exc:
            assert step != "ready"
            assert "LAB-7" in str(exc) or step == "hello"
        finally:
            session.close()
    port = token.plug()
    rerun(cli, store_files, port, "LAB-7")
    assert assert_converged(store_files, port, token) == "LAB-7"


@pytest.mark.slow
def test_ctrl_c_during_seed_says_how_to_finish_and_the_rerun_does(cli, store_files, tmp_path):
    import os
    import signal
    import time

    from tests.provisioner.devices import PtyToken

    token = PtyToken(tmp_path / "f", faults=frozenset({"slow"}))
    port = token.plug()
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        seeding = subprocess.Popen([sys.executable, "-m", "provisioner.cli", "seed", port, *store_files.args()],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        deadline = time.monotonic() + 30
        while "SEED" not in token.model.verbs and time.monotonic() < deadline:
            time.sleep(0.02)
        seeding.send_signal(signal.SIGINT)
        out, err = seeding.communicate(timeout=30)
        assert seeding.returncode == 130, err
        assert f"Interrompu : pour terminer, relancez `jeton-provision seed {port} --serial JT-000001`." in err
        assert "Traceback" not in err and out == ""
        rerun(cli, store_files, port, "JT-000001")
        assert assert_converged(store_files, port, token) == "JT-000001"
    finally:
        token.unplug()
