"""Clone DS3231 modules: the offset recorded at seeding, the drift `check` measures since, and `burnin`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from provisioner.clockdrift import MAX_DRIFT_PPM, Offset, drift_ppm, measure_offset, too_fast_or_slow

BIN = Path(sys.executable).parent


class FakeClockToken:
    """HELLO of a token whose clock is the host's plus ``offset`` seconds; each exchange takes ``rtt``."""

    def __init__(self, offset: float, rtt: float = 0.007):
        self.t = 1767225600.0
        self.offset = offset
        self.rtt = rtt

    def now(self) -> float:
        return self.t

    def hello(self):
        self.t += self.rtt / 2
        reading = int(self.t + self.offset)
        self.t += self.rtt / 2
        return SimpleNamespace(time=reading)


@pytest.mark.parametrize("offset", [0.0, 0.3217, -12.75, 3600.999])
def test_the_offset_is_measured_to_a_few_milliseconds_from_whole_second_readings(offset):
    token = FakeClockToken(offset)
    found = measure_offset(token, now=token.now)
    assert abs(found.seconds - offset) <= found.error <= 0.011


def test_drift_and_its_uncertainty_decide_rejection():
    day = 86400.0
    clone = drift_ppm(Offset(0.0, 0.05), 0.0, Offset(30.0, 0.01), day)  # 30 s a day
    assert round(clone[0]) == 347 and clone[1] < 1 and too_fast_or_slow(*clone)
    genuine = drift_ppm(Offset(0.0, 0.05), 0.0, Offset(0.15, 0.01), day)  # 1.7 ppm
    assert not too_fast_or_slow(*genuine)
    early = drift_ppm(Offset(0.0, 0.05), 0.0, Offset(0.01, 0.01), 10.0)  # ten seconds tell nothing yet
    assert abs(early[0]) < early[1] and not too_fast_or_slow(*early)
    assert MAX_DRIFT_PPM == 5.0


@pytest.mark.micropython
def test_check_reports_a_clock_that_runs_fast_since_provisioning(cli, store_files, simulated):
    token = simulated("clone", clock_ppm=50000)  # 5 %: an hour a day; the test cannot wait for 30 s a day
    run = cli("seed", token.port, *store_files.args())
    assert run.code == 0, run.err
    time.sleep(6)
    run = cli("check", token.port, "--json", *store_files.args())
    assert run.code == 1
    report = json.loads(run.out)
    assert 30000 < report["drift_ppm"] < 70000
    assert "horloge qui dérive de +" in run.err and "module d'horloge à remplacer" in run.err
    assert "  dérive de l'horloge : +" in run.err


@pytest.mark.micropython
def test_burnin_lists_the_tokens_whose_clock_drifts(tmp_path):
    sims = []
    ports = []
    try:
        for name, ppm in (("good", "0"), ("clone", "-50000")):
            proc = subprocess.Popen(
                [str(BIN / "jeton-sim"), "--headless", "--state", str(tmp_path / name), "--clock-ppm", ppm],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            sims.append(proc)
            ports.append(proc.stdout.readline().split(" ", 1)[1].strip())
        run = subprocess.run([str(BIN / "jeton-provision"), "burnin", *ports, "--hours", "0.002", "--json"],
                             capture_output=True, text=True, timeout=120)
    finally:
        for proc in sims:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
            proc.stdout.close()
    assert run.returncode == 1, run.stderr
    results = {r["port"]: r for r in json.loads(run.stdout)}
    good, clone = results[ports[0]], results[ports[1]]
    assert not good["rejected"] and abs(good["ppm"]) <= good["uncertainty"] + MAX_DRIFT_PPM
    assert clone["rejected"] and -70000 < clone["ppm"] < -30000
    assert f"{ports[1]} : " in run.stderr and "À ÉCARTER : horloge qui dérive de -" in run.stderr
    assert "1 bonne(s), 1 à écarter (seuil : ±5 ppm)." in run.stderr


def test_a_stopped_clock_is_one_clear_error_not_a_hang():
    from provisioner.errors import ClockError

    stopped = SimpleNamespace(hello=lambda: SimpleNamespace(time=1767225600))
    with pytest.raises(ClockError, match="l'horloge de la clé ne bat pas"):
        measure_offset(stopped, now=lambda: 1767225600.0)
