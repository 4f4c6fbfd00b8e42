"""The PSKC we write validates with libpskc's pskctool; oathtool computes the codes the simulated token shows."""

from __future__ import annotations

import base64
import subprocess
import time

import pskc
import pytest

from provisioner.exporting import ExportItem, to_pskc
from provisioner.records import Record
from tests.interop.conftest import tool

PARAMETERS = [("sha1", 6, 30), ("sha256", 6, 30), ("sha1", 8, 60), ("sha256", 8, 60)]


def _items():
    return [ExportItem(Record(f"JT-{i:04d}", "ready", algo, digits, period, drift=i - 1), bytes([i + 1]) *
                       (20 if algo == "sha1" else 32)) for i, (algo, digits, period) in enumerate(PARAMETERS)]


@pytest.mark.parametrize("protection", ["password", "psk"])
def test_every_pskc_we_write_validates_against_rfc_6030_with_pskctool(tmp_path, protection, interop_table):
    pskctool = tool("pskctool")
    options = {"password": "un mot de passe"} if protection == "password" else {"psk": bytes(range(16))}
    path = tmp_path / "export.pskc"
    path.write_bytes(to_pskc(_items(), **options))
    done = subprocess.run([pskctool, "--validate", str(path)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "OK", done.stdout + done.stderr  # pskctool exits 0 either way: it prints FAIL
    # pskctool --info reads the parameters as we wrote them (libpskc does not decrypt: it warns about the secrets)
    info = subprocess.run([pskctool, "--info", str(path)], capture_output=True, text=True, timeout=60).stdout
    packages = info.split("KeyPackage ")[1:]
    assert len(packages) == len(PARAMETERS)
    for package, (algo, digits, period) in zip(packages, PARAMETERS, strict=True):
        assert "Algorithm: urn:ietf:params:xml:ns:keyprov:pskc:totp" in package
        assert f"Algorithm Parameters Suite: {algo.upper()}\n" in package
        assert f"Response Format Length: {digits}\n" in package and f"Key TimeInterval: {period}\n" in package
    how = "PBKDF2" if protection == "password" else "clé partagée"
    interop_table("pskctool 2.6.7 (libpskc)", "Jeton → outil", f"PSKC {how}, sha1/sha256, 6/8 chiffres, 30/60 s",
                  "valide (schéma RFC 6030)")


def test_python_pskc_reads_the_algorithm_digits_period_and_drift_we_write(tmp_path, interop_table):
    path = tmp_path / "export.pskc"
    path.write_bytes(to_pskc(_items(), password="un mot de passe"))
    doc = pskc.PSKC(str(path))
    doc.encryption.derive_key("un mot de passe")
    got = {k.serial: (k.algorithm_suite, k.response_length, k.time_interval, k.time_drift, k.secret) for k in doc.keys}
    want = {i.record.serial: (i.record.algo.upper(), i.record.digits, i.record.period, i.record.drift, i.secret)
            for i in _items()}
    assert got == want
    interop_table("python-pskc 1.4", "Jeton → outil", "PSKC PBKDF2, sha1/sha256, 6/8 chiffres, 30/60 s, dérive",
                  "lu à l'identique")


@pytest.mark.micropython
@pytest.mark.parametrize(("algo", "digits", "period"), PARAMETERS)
def test_oathtool_computes_the_code_the_simulated_token_shows(tmp_path, algo, digits, period, interop_table):
    oathtool = tool("oathtool")
    from provisioner.session import TokenSession
    from tests.provisioner.conftest import simulator_class

    secret = bytes(range(1, 21 if algo == "sha1" else 33))
    with simulator_class()(tmp_path / "sim") as sim, TokenSession.open(sim.port, timeout=10) as token:
        token.set_time(int(time.time()))
        token.seed("JT-OATH", secret, algo, digits, period)
        shown = token.code()
    done = subprocess.run([oathtool, f"--totp={algo}", "-d", str(digits), "-s", str(period),
                           "-N", f"@{shown.step * period}", secret.hex()], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == shown.code
    b32 = base64.b32encode(secret).decode()
    by_b32 = subprocess.run([oathtool, "-b", f"--totp={algo}", "-d", str(digits), "-s", str(period),
                             "-N", f"@{shown.step * period}", b32], capture_output=True, text=True, timeout=30)
    assert by_b32.stdout.strip() == shown.code
    interop_table("oathtool 2.6.7", "clé simulée ↔ outil", f"{algo}, {digits} chiffres, {period} s",
                  "même code")
