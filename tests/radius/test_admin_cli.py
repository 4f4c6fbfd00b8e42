"""``jeton-admin radius-clients`` and ``jeton-radius`` as IT staff use them: the secret from standard input only,
French one-line errors, nothing changed on bad input, secrets sealed under the key ring (and key rotation)."""

from __future__ import annotations

import io
import json
import socket
import subprocess

import pytest
import sqlalchemy as sa

from tests.radius.conftest import JETON_RADIUS
from verifier import db, init_store, open_store
from verifier.cli import main
from verifier.radius.clients import load_clients
from verifier.schema import audit, radius_clients

GOOD = "Un-secret-de-passerelle-2026!"


@pytest.fixture
def admin(db_url, keys_file, capsys, monkeypatch, planted):
    monkeypatch.delenv("JETON_KEYS_FILE", raising=False)
    printed: list[str] = []

    def run(*args, stdin=""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        status = main(["--db", db_url, "--keys", str(keys_file), *args])
        out = capsys.readouterr()
        printed.extend((out.out, out.err))
        return status, out.out, out.err

    run("init")
    yield run
    assert not planted.find_in("\n".join(printed)), "a shared secret in jeton-admin's output"
    engine = db.make_engine(db_url)
    try:
        planted.assert_not_in_rows(engine, audit, radius_clients)
    finally:
        engine.dispose()


def _rows(db_url) -> int:
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(radius_clients)).scalar()
    finally:
        engine.dispose()


def test_declare_list_and_remove_a_gateway(admin, db_url, keys_file, planted):
    status, out, _ = admin("radius-clients", "add", "vpn-lycee", "192.0.2.0/24", stdin=planted.value(GOOD) + "\n")
    assert status == 0
    assert out.startswith("Client RADIUS vpn-lycee déclaré pour 192.0.2.0/24.")
    status, out, _ = admin("radius-clients", "add", "vieux-wifi", "198.51.100.7", "--legacy", stdin=GOOD + "x\n")
    assert status == 0 and "BlastRADIUS" in out
    _, out, _ = admin("radius-clients", "list")
    assert "vpn-lycee" in out and "192.0.2.0/24" in out and "198.51.100.7/32" in out and GOOD not in out
    _, out, _ = admin("radius-clients", "--json")
    assert [(c["name"], c["legacy"]) for c in json.loads(out)] == [("vieux-wifi", True), ("vpn-lycee", False)]
    with open_store(db_url, keys_file) as store:
        table = load_clients(store)
        assert table.find("192.0.2.77").secret == GOOD.encode()
        assert table.find("198.51.100.8") is None
        assert [e.action for e in store.audit(action="radius.")] == ["radius.client.add"] * 2
    status, out, _ = admin("radius-clients", "remove", "vieux-wifi", "--force")
    assert status == 0 and "retiré" in out
    assert _rows(db_url) == 1


@pytest.mark.parametrize(("args", "stdin", "said"), [
    (("vpn", "192.0.2.0/24"), "court\n", "un secret partagé a 16 à 128 caractères"),
    (("vpn", "192.0.2.0/24"), "\n", "un secret partagé a 16 à 128 caractères"),
    (("vpn", "192.0.2.1/24"), GOOD + "\n", "adresse ou réseau invalide"),
    (("vpn", "lycee.example"), GOOD + "\n", "adresse ou réseau invalide"),
    (("v p n", "192.0.2.0/24"), GOOD + "\n", "un nom de client RADIUS"),
])
def test_bad_input_is_one_french_line_and_changes_nothing(admin, db_url, args, stdin, said):
    status, out, err = admin("radius-clients", "add", *args, stdin=stdin)
    assert status == 1 and out == ""
    assert err.startswith("jeton-admin : erreur : ") and said in err and len(err.strip().splitlines()) == 1
    assert _rows(db_url) == 0


def test_the_secret_is_never_taken_from_the_command_line(admin, db_url):
    status, _, err = admin("radius-clients", "add", "vpn", "192.0.2.0/24", "--secret", GOOD)
    assert status != 0 and _rows(db_url) == 0


def test_a_second_gateway_with_the_same_name_or_network_is_refused(admin, db_url):
    admin("radius-clients", "add", "vpn", "192.0.2.0/24", stdin=GOOD + "\n")
    status, _, err = admin("radius-clients", "add", "vpn2", "192.0.2.0/24", stdin=GOOD + "\n")
    assert status == 1 and "le client RADIUS vpn a déjà ce nom ou ce réseau" in err
    status, _, err = admin("radius-clients", "remove", "inconnu", "--force")
    assert status == 1 and "aucun client RADIUS nommé inconnu" in err
    assert _rows(db_url) == 1


def test_key_rotation_re_encrypts_the_gateway_secrets(admin, db_url, keys_file):
    admin("radius-clients", "add", "vpn", "192.0.2.0/24", stdin=GOOD + "\n")
    with open_store(db_url, keys_file) as store:
        old_key = store.ring.primary
    status, _, err = admin("rotate-key", "--force")
    assert status == 0, err
    with open_store(db_url, keys_file) as store:
        assert old_key not in store.ring.keys  # the old key is gone from the file...
        assert load_clients(store).find("192.0.2.1").secret == GOOD.encode()  # ...and the secret still opens


def test_jeton_radius_refuses_to_start_in_one_french_line(db_url, keys_file, tmp_path):
    missing = subprocess.run([JETON_RADIUS, "--db", db_url, "--keys", str(tmp_path / "none.json"),
                              "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.startswith("jeton-radius : erreur : le trousseau de clés")
    assert "Traceback" not in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
    bad = subprocess.run([JETON_RADIUS, "--listen", "nulle-part"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "adresse d'écoute invalide" in bad.stderr and "Traceback" not in bad.stderr


def test_jeton_radius_on_a_port_already_taken_is_one_french_line(db_url, keys_file):
    store, _created, _revs = init_store(db_url, keys_file)
    store.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        done = subprocess.run([JETON_RADIUS, "--db", db_url, "--keys", str(keys_file), "--listen",
                               f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith(f"jeton-radius : erreur : impossible d'écouter sur 127.0.0.1:{port}")
    assert "Traceback" not in done.stderr
