"""Export for a server (PSKC, OATH CSV) and software tokens, through the CLI, on the verifier's store."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import secrets
import time

import pskc
import pyotp
import pytest

from verifier import open_store


def ready_tokens(files, n=2):
    """Tokens recorded as the seeding would leave them (pending, then ready), with their secrets."""
    made = {}
    with open_store(files.db, files.keys) as store:
        for i in range(n):
            serial = f"JT-{i + 1:06d}"
            algo = "sha256" if i % 2 else "sha1"
            secret = secrets.token_bytes(32 if algo == "sha256" else 20)
            store.create_pending_token(serial, secret, algo=algo, digits=6 if i % 2 == 0 else 8, period=30)
            store.mark_ready(serial, clock_offset=0.0)
            made[serial] = (secret, algo)
    return made


def planted(secret: bytes) -> list[str]:
    return [secret.hex(), secret.hex().upper(), base64.b32encode(secret).decode().rstrip("=")]


def test_export_pskc_with_a_password_reads_back_with_pskc_and_names_the_hash_as_rfc_6030(cli, store_files, tmp_path):
    made = ready_tokens(store_files, 3)
    out = tmp_path / "tokens.pskcxml"
    run = cli("export", "--format", "pskc", "--password", "un mot de passe", "-o", str(out), *store_files.args())
    assert run.code == 0, run.err
    assert "3 jeton(s) exporté(s)" in run.err
    assert os.stat(out).st_mode & 0o077 == 0  # readable by its owner only
    doc = pskc.PSKC(str(out))
    doc.encryption.derive_key("un mot de passe")
    assert doc.encryption.algorithm.endswith("#aes128-cbc")
    assert doc.mac.algorithm.endswith("#hmac-sha1")
    assert doc.encryption.derivation.algorithm.endswith("#pbkdf2")
    by_serial = {k.serial: k for k in doc.keys}
    assert set(by_serial) == set(made)
    for serial, (secret, algo) in made.items():
        key = by_serial[serial]
        assert key.check()  # the MAC holds
        assert key.secret == secret
        assert key.algorithm == "urn:ietf:params:xml:ns:keyprov:pskc:totp"
        assert key.time_interval == 30 and key.time_drift == 0 and key.algorithm_suite == algo.upper()
    raw = out.read_text()
    assert "hashalgo" not in raw  # not in RFC 6030's schema; tests/interop checks privacyIDEA reads <Suite>SHA256
    for secret, _ in made.values():
        assert not any(p in raw + run.out + run.err for p in planted(secret))


def test_export_pskc_with_a_wrong_password_does_not_decrypt(cli, store_files, tmp_path):
    ready_tokens(store_files, 1)
    out = tmp_path / "t.pskcxml"
    assert cli("export", "--password", "le bon mot de passe", "-o", str(out), *store_files.args()).code == 0
    doc = pskc.PSKC(str(out))
    doc.encryption.derive_key("un mauvais mot de passe")
    with pytest.raises(pskc.exceptions.DecryptionError):
        _ = doc.keys[0].secret


def test_export_pskc_with_a_preshared_key(cli, store_files, tmp_path):
    made = ready_tokens(store_files, 2)
    key = secrets.token_bytes(16)
    out = tmp_path / "psk.pskcxml"
    run = cli("export", "--psk-hex", key.hex(), "--serial", "JT-000002", "-o", str(out), *store_files.args())
    assert run.code == 0, run.err
    doc = pskc.PSKC(str(out))
    doc.encryption.key = key
    assert [(k.serial, k.secret) for k in doc.keys] == [("JT-000002", made["JT-000002"][0])]


def test_export_oath_csv_lists_serial_hex_key_totp_digits_period(cli, store_files, tmp_path):
    made = ready_tokens(store_files, 2)
    out = tmp_path / "tokens.csv"
    run = cli("export", "--format", "csv", "-o", str(out), *store_files.args())
    assert run.code == 0, run.err
    assert "EN CLAIR" in run.err
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows == [
        ["JT-000001", made["JT-000001"][0].hex(), "totp", "6", "30", "sha1"],
        ["JT-000002", made["JT-000002"][0].hex(), "totp", "8", "30", "sha256"],
    ]


def test_export_refuses_to_overwrite_an_existing_file_and_an_empty_store(cli, store_files, tmp_path):
    out = tmp_path / "exists.csv"
    out.write_text("keep me")
    run = cli("export", "--format", "csv", "-o", str(out), *store_files.args())
    assert run.code == 1 and "existe déjà" in run.err and out.read_text() == "keep me"
    run = cli("export", "--format", "csv", "-o", str(tmp_path / "new.csv"), *store_files.args())
    assert run.code == 1 and run.err.strip() == "erreur : aucun jeton à exporter"
    assert not (tmp_path / "new.csv").exists()


def test_a_file_that_cannot_be_written_is_one_line_and_changes_nothing(cli, store_files, tmp_path):
    ready_tokens(store_files, 1)
    with open_store(store_files.db, store_files.keys) as store:
        store.add_user("mdupont")
    missing = tmp_path / "absent" / "tokens.csv"
    run = cli("export", "--format", "csv", "-o", str(missing), *store_files.args())
    assert (run.code, run.err.strip()) == (1, f"erreur : impossible d'écrire {missing} : dossier introuvable")
    run = cli("software", "mdupont", "--png", str(missing), "--no-terminal", *store_files.args())
    assert (run.code, run.err.strip()) == (1, f"erreur : impossible d'écrire {missing} : dossier introuvable")
    assert not missing.parent.exists()
    with open_store(store_files.db, store_files.keys) as store:
        assert store.list_tokens(login="mdupont") == []  # no software token without its QR code


def scanned(png) -> list[str]:
    """The texts of the QR codes a barcode reader finds in the image ``png``."""
    import zxingcpp
    from PIL import Image

    with Image.open(png) as image:
        return [found.text for found in zxingcpp.read_barcodes(image.convert("L"))]


def test_software_token_gives_a_scannable_uri_and_png_for_an_existing_user(cli, store_files, tmp_path):
    with open_store(store_files.db, store_files.keys) as store:
        store.add_user("mdupont", "Marie Dupont")
    png = tmp_path / "qr.png"
    run = cli("software", "mdupont", "--png", str(png), "--uri", *store_files.args())
    assert run.code == 0, run.err
    uri = run.out.strip()
    assert uri.startswith("otpauth://totp/Jeton:mdupont?") and "issuer=Jeton" in uri
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert scanned(png) == [uri]  # what an authenticator app's camera reads (zxing-cpp, as in many scanner apps)
    assert "█" in run.err or "▀" in run.err or "▄" in run.err  # the terminal QR code
    with open_store(store_files.db, store_files.keys) as store:
        (token,) = store.list_tokens(login="mdupont")
        assert (token.kind, token.state) == ("software", "assigned")
        secret = store.token_secret(token.serial)
    now = time.time()
    assert pyotp.parse_uri(uri).at(now) == pyotp.TOTP(base64.b32encode(secret).decode(), digest=hashlib.sha1).at(now)


def test_software_token_for_an_unknown_login_is_one_clear_line(cli, store_files):
    run = cli("software", "personne", "--no-terminal", *store_files.args())
    assert run.code == 1
    assert run.err.strip() == "erreur : aucun utilisateur personne dans la base (jeton-admin users add)"
    with open_store(store_files.db, store_files.keys) as store:
        assert store.list_tokens() == []


def test_an_unreachable_database_is_one_line_and_no_traceback(cli, tmp_path, store_files):
    run = cli("export", "-o", str(tmp_path / "x"), "--password", "12345678", "--db",
              "postgresql://nobody@127.0.0.1:1/none", "--keys", store_files.keys)
    assert run.code == 1
    assert len(run.err.strip().splitlines()) == 1 and "Traceback" not in run.err
    assert run.err.startswith("erreur : base de données inaccessible") and not (tmp_path / "x").exists()


@pytest.mark.parametrize("fmt", ["pskc", "csv"])
def test_an_export_imports_into_another_store_with_jeton_admin(cli, store_files, tmp_path, fmt):
    import subprocess
    import sys

    from tests.support import ROOT
    from verifier import init_store

    made = ready_tokens(store_files, 2)
    out = tmp_path / f"tokens.{fmt}"
    assert cli("export", "--format", fmt, "--password", "mot de passe", "-o", str(out), *store_files.args()).code == 0
    server = (f"sqlite:///{tmp_path / 'server.db'}", str(tmp_path / "server-keys.json"))
    init_store(*server)[0].close()
    imported = subprocess.run(
        [sys.executable, "-m", "verifier.cli", "--db", server[0], "--keys", server[1], "import", str(out),
         *(["--password", "mot de passe"] if fmt == "pskc" else [])],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert imported.returncode == 0, imported.stderr
    with open_store(*server) as store:
        for serial, (secret, algo) in made.items():
            token = store.get_token(serial)
            assert (token.state, token.algo) == ("ready", algo)
            assert store.token_secret(serial) == secret
