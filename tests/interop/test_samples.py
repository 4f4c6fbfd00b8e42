"""Files written by privacyIDEA 3.14, python-pskc and after RFC 6030's examples import as they were written; the
ones that cannot be understood, or that attack the XML parser, are refused with one French line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.interop.conftest import tool
from verifier import cli as admin_cli
from verifier import init_store, open_store

SAMPLES = Path(__file__).with_name("samples")
SHA1_KEY, SHA256_KEY, RFC_KEY = bytes(range(1, 21)), bytes(range(1, 33)), b"12345678901234567890"

PYTHON_PSKC_KEYS = {"PYSHA256": (SHA256_KEY, "sha256", 8, 60, 2), "PYSHA1": (SHA1_KEY, "sha1", 6, 30, 0)}
# file -> (protection options, {serial: (secret, algo, digits, period, drift)}, tool for the table)
READABLE = {
    "privacyidea-3.14-sha1-6-30.pskc": (["--psk-hex", "97b2b05ea02f0da3f6129cf859b9a02c"],
                                        {"PISHA1": (SHA1_KEY, "sha1", 6, 30, 0)}, "privacyIDEA 3.14"),
    "privacyidea-3.14-sha256-8-60.pskc": (["--psk-hex", "e5a30a85002f247fae931f5e380e38ff"],
                                          {"PISHA256": (SHA256_KEY, "sha256", 8, 60, 0)}, "privacyIDEA 3.14"),
    "python-pskc-1.4-pbkdf2.pskc": (["--password", "mot de passe d'exemple"], PYTHON_PSKC_KEYS, "python-pskc 1.4"),
    "python-pskc-1.4-plain.pskc": ([], PYTHON_PSKC_KEYS, "python-pskc 1.4"),
    "rfc6030-totp-plain.pskc": ([], {"987654321": (RFC_KEY, "sha1", 8, 30, 4)}, "RFC 6030 (exemple)"),
}
REFUSED = {
    "rfc6030-hotp-plain.pskc": "la clé '987654321' n'est pas une clé TOTP (urn:ietf:params:xml:ns:keyprov:pskc:hotp)",
    "billion-laughs.pskc": "le XML déclare une DTD ou des entités : refusé",
    "external-entity.pskc": "le XML déclare une DTD ou des entités : refusé",
}


@pytest.fixture
def admin(tmp_path, capsys):
    """jeton-admin, in this process, on a fresh store: ``admin(*args) -> (status, stdout, stderr)``."""
    db, keys = f"sqlite:///{tmp_path / 'jeton.db'}", str(tmp_path / "keys.json")
    init_store(db, keys)[0].close()

    def run(*args: str):
        capsys.readouterr()
        status = admin_cli.main(["--db", db, "--keys", keys, *args])
        out, err = capsys.readouterr()
        return status, out, err

    run.db, run.keys = db, keys
    return run


@pytest.mark.parametrize("name", sorted(READABLE))
def test_a_file_from_another_tool_imports_with_its_algorithm_digits_period_and_drift(admin, name, interop_table):
    options, expected, written_by = READABLE[name]
    status, out, err = admin("import", str(SAMPLES / name), *options)
    assert (status, err) == (0, ""), err
    assert f"{len(expected)} clé(s) importée(s)" in out
    with open_store(admin.db, admin.keys) as store:
        for serial, (secret, algo, digits, period, drift) in expected.items():
            token = store.get_token(serial)
            assert (token.state, token.algo, token.digits, token.period, token.drift) == (
                "ready", algo, digits, period, drift)
            assert store.token_secret(serial) == secret
    summary = ", ".join(sorted({f"{a}, {d} chiffres, {p} s" for _, a, d, p, _ in expected.values()}))
    interop_table(written_by, "outil → Jeton", f"PSKC ({name}) : {summary}", "importé à l'identique")


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_file_jeton_cannot_understand_or_an_xml_attack_is_one_french_line_and_imports_nothing(admin, name):
    path = SAMPLES / name
    status, out, err = admin("import", str(path))
    assert (status, out) == (1, "")
    assert err == f"jeton-admin : erreur : {path} : {REFUSED[name]}\n"
    with open_store(admin.db, admin.keys) as store:
        assert store.list_tokens() == []


def test_the_samples_that_follow_rfc_6030_validate_with_pskctool():
    import subprocess

    pskctool = tool("pskctool")
    for name in ("python-pskc-1.4-pbkdf2.pskc", "python-pskc-1.4-plain.pskc", "rfc6030-totp-plain.pskc",
                 "rfc6030-hotp-plain.pskc"):
        done = subprocess.run([pskctool, "--validate", str(SAMPLES / name)], capture_output=True, text=True)
        assert done.stdout.strip() == "OK", name
