"""jeton-admin as IT staff use it: the fixed points of DESIGN.md §6, French messages, one-line errors."""

from __future__ import annotations

import io
import json
import os
import secrets
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.verifier.conftest import assert_audit_clean
from tests.verifier.test_interchange import write_pskc
from verifier import db, open_store
from verifier.accounts import check_login
from verifier.cli import error_message, main
from verifier.errors import InvalidInput
from verifier.otp import TokenCodes
from verifier.token_rules import check_serial, check_token_params
from verifier.verification import Outcome, Verifier


@pytest.fixture
def admin(db_url, keys_file, capsys, monkeypatch, planted):
    """Run jeton-admin with --db and --keys; returns (exit status, stdout, stderr). What it printed and the
    audit rows it wrote are scanned for the test's planted values at the end."""
    monkeypatch.delenv("JETON_KEYS_FILE", raising=False)
    printed: list[str] = []

    def run(*args, keys=True, answer=""):
        base = ["--db", db_url] + (["--keys", str(keys_file)] if keys else [])
        monkeypatch.setattr("sys.stdin", io.StringIO(answer))
        status = main([*base, *args])
        out = capsys.readouterr()
        printed.extend((out.out, out.err))
        return status, out.out, out.err

    yield run
    assert not planted.find_in("\n".join(printed)), "a secret or PIN in jeton-admin's output"
    engine = db.make_engine(db_url)
    try:
        assert_audit_clean(engine, planted)
    finally:
        engine.dispose()


def test_init_creates_the_key_ring_and_the_database(admin, keys_file):
    status, out, _ = admin("init")
    assert status == 0 and "Trousseau de clés créé" in out
    assert stat.S_IMODE(os.stat(keys_file).st_mode) == 0o600
    status, out, _ = admin("init")
    assert status == 0 and "Trousseau" not in out and "à jour" in out


def test_no_keys_is_a_one_line_refusal(admin):
    admin("init")
    status, out, err = admin("tokens", keys=False)
    assert status == 1 and out == ""
    assert err == ("jeton-admin : erreur : aucun trousseau de clés : indiquez --keys FICHIER ou JETON_KEYS_FILE "
                   "(`jeton-admin init --keys FICHIER` en crée un)\n")


def test_it_staff_day(admin, tmp_path, db_url, keys_file, planted):
    """Import a lot, add teachers, assign, the teacher locks the token out, unlock, resync, audit."""
    admin("init")
    secret = planted.secret(secrets.token_bytes(20))
    lot = tmp_path / "lot.pskcxml"
    write_pskc(lot, [("JT-L1", secret, "HMAC-SHA1", 0), ("JT-L2", secrets.token_bytes(20), "HMAC-SHA1", 0)],
               password=planted.value("lot-password"))
    status, out, err = admin("import", str(lot), "--password", "lot-password")
    assert status == 0, err
    assert "2 clé(s) importée(s)" in out
    assert admin("users", "add", "mdupont", "--name", "Marie Dupont")[0] == 0
    assert admin("users", "add", "chef", "--role", "admin")[0] == 0
    status, _, err = admin("users", "add", "mdupont")
    assert status == 1 and err == "jeton-admin : erreur : un utilisateur d'identifiant mdupont existe déjà\n"
    assert admin("assign", "JT-L1", "mdupont")[0] == 0
    status, _, err = admin("assign", "JT-L1", "chef")
    assert status == 1 and "déjà attribuée" in err and err.count("\n") == 1
    listed = json.loads(admin("tokens", "--json")[1])
    assert [(t["serial"], t["state"], t["login"]) for t in listed] == [
        ("JT-L1", "assigned", "mdupont"), ("JT-L2", "ready", None)]
    assert all(secret.hex() not in json.dumps(t) for t in listed)

    # the teacher's first use through the library, then ten wrong passcodes
    store = open_store(db_url, keys_file)
    verifier = Verifier(store)
    codes = TokenCodes(secret)
    t0 = time.time() - 3600  # an hour ago, so that `resync` (which reads the real clock) comes later
    step = codes.step_of(t0)
    ticket = verifier.authenticate("mdupont", codes.code(step), t0).ticket
    verifier.set_pin(ticket, planted.value("2846"), "2846", t0)
    for _ in range(10):
        verifier.authenticate("mdupont", "1111" + codes.code(step + 1), t0 + 30)
    assert "verrouillée" in admin("tokens")[1]
    status, out, _ = admin("unlock", "JT-L1")
    assert status == 0 and "déverrouillée" in out
    s = codes.step_of(t0) + 4
    assert verifier.authenticate("mdupont", "2846" + codes.code(s), s * 30).outcome is Outcome.ACCEPT

    # resync with two codes read off a token running 5 steps fast (resync looks around the real clock)
    now_step = codes.step_of(time.time())
    status, out, err = admin("resync", "JT-L1", codes.code(now_step + 5), codes.code(now_step + 6))
    assert status == 0, err
    assert "+6" in out or "+5" in out or "+7" in out
    status, _, err = admin("resync", "JT-L1", "000000", "000001")
    assert status == 1 and "ne se suivent pas" in err

    # destructive commands ask first
    status, _, err = admin("reset-pin", "JT-L1", answer="n\n")
    assert status == 1 and "non confirmé" in err and store.get_token("JT-L1").has_pin
    assert admin("reset-pin", "JT-L1", "--force")[0] == 0
    assert not store.get_token("JT-L1").has_pin
    assert admin("disable", "JT-L1", "--reason", "perdue", "--force")[0] == 0
    assert admin("unassign", "JT-L1", "--force")[0] == 0
    assert store.get_token("JT-L1").state == "ready"

    # the audit, filtered and as CSV
    status, out, _ = admin("audit", "--user", "mdupont", "--action", "auth", "--csv")
    lines = out.splitlines()
    assert lines[0] == "id,when,actor,action,outcome,login,serial,source,detail"
    assert len(lines) == 1 + 12  # the code alone, ten failures, one accept
    outcomes = [line.split(",")[4] for line in lines[1:]]
    assert outcomes == ["ACCEPT", "LOCKED"] + ["REJECT"] * 9 + ["NEW_PIN_REQUIRED"]
    status, out, _ = admin("audit", "--token", "JT-L1", "--since", "2000-01-01", "--until", "2000-01-02")
    assert status == 0 and out == ""
    assert "cli:" in admin("audit", "--action", "token.unlock")[1]
    store.close()


def test_rotate_key_re_encrypts_every_token(admin, db_url, keys_file, tmp_path, planted):
    admin("init")
    secrets_by_serial = {}
    lines = []
    for n in range(3):
        secret = planted.secret(secrets.token_bytes(20))
        secrets_by_serial[f"JT-R{n}"] = secret
        lines.append(f"JT-R{n},{secret.hex()},totp")
    (tmp_path / "lot.csv").write_text("\n".join(lines) + "\n")
    assert admin("import", str(tmp_path / "lot.csv"))[0] == 0
    old_key = json.loads(keys_file.read_text())["primary"]
    status, _, err = admin("rotate-key")  # no answer (end of input): nothing done
    assert status == 1 and "rien n'a été modifié" in err and json.loads(keys_file.read_text())["primary"] == old_key
    status, out, err = admin("rotate-key", "--force")
    assert status == 0, err
    ring = json.loads(keys_file.read_text())
    assert ring["primary"] != old_key and list(ring["keys"]) == [ring["primary"]]
    assert stat.S_IMODE(os.stat(keys_file).st_mode) == 0o600
    store = open_store(db_url, keys_file)
    assert {t.key_id for t in store.list_tokens()} == {ring["primary"]}
    assert all(store.token_secret(s) == v for s, v in secrets_by_serial.items())
    store.close()


def test_errors_are_one_line_and_tracebacks_only_with_verbose(admin, tmp_path):
    admin("init")
    status, out, err = admin("unlock", "JT-NONE")
    assert status == 1 and err == "jeton-admin : erreur : aucune clé OTP de numéro JT-NONE\n"
    status, _, err = admin("users", "add", "m dupont")
    assert (status, err) == (2, "jeton-admin : erreur : identifiant 'm dupont' invalide : 1 à 64 caractères "
                                "(lettres, chiffres, . _ @ -), pas uniquement des chiffres\n")
    status, _, err = admin("--verbose", "unlock", "JT-NONE")
    assert status == 1 and "Traceback" in err
    (tmp_path / "bad.csv").write_text("JT-1,zz,totp\n")
    status, _, err = admin("import", str(tmp_path / "bad.csv"))
    assert status == 1 and err.count("\n") == 1 and "ligne 1" in err


def test_import_errors_are_told_in_french_and_import_nothing(admin, tmp_path, planted):
    admin("init")
    lot = tmp_path / "lot.csv"
    good = f"JT-C1,{planted.secret(secrets.token_bytes(20)).hex()},totp"
    for body, line, message in (
        ("JT-1,zz,totp\n", 1, "la clé doit être en hexadécimal, le nombre de chiffres et la période des "
                              "nombres entiers"),
        (f"{good}\nJT-C2,{secrets.token_hex(20)}\n", 2,
         "attendu numéro,clé hexadécimale,totp[,chiffres[,période[,algorithme]]]"),
        (f"{good}\nJT-C2,{secrets.token_hex(20)},hotp\n", 2, "seules les clés totp sont prises en charge"),
        (f"{good}\njt-c2,{secrets.token_hex(20)},totp\n", 2,
         "numéro 'jt-c2' invalide (1 à 16 caractères parmi A-Z, 0-9 et -)"),
        (f"{good}\nJT-C2,{secrets.token_hex(20)},totp,7\n", 2, "une clé affiche 6 ou 8 chiffres, pas 7"),
        (f"{good}\n{good}\n", 2, "le numéro JT-C1 figure deux fois dans le fichier"),
    ):
        lot.write_text(body)
        status, out, err = admin("import", str(lot))
        assert (status, out, err) == (1, "", f"jeton-admin : erreur : {lot}, ligne {line} : {message}\n"), body
    assert admin("tokens", "--json")[1] == "[]\n"

    pskc_lot = tmp_path / "lot.pskcxml"
    write_pskc(pskc_lot, [("JT-P1", planted.secret(secrets.token_bytes(20)), "HMAC-SHA1", 0)],
               password=planted.value("right-password"))
    status, out, err = admin("import", str(pskc_lot), "--password", planted.value("wrong-password"))
    assert (status, out) == (1, "")
    assert err == (f"jeton-admin : erreur : {pskc_lot} : impossible de déchiffrer le fichier PSKC (mot de passe ou "
                   "clé erronés, ou MAC invalide : DecryptionError)\n")
    status, _, err = admin("import", str(pskc_lot))
    assert (status, err) == (1, f"jeton-admin : erreur : {pskc_lot} : le fichier PSKC est chiffré : indiquez "
                                "--password ou --psk-hex\n")
    status, _, err = admin("import", str(pskc_lot), "--psk-hex", "zz")
    assert (status, err) == (2, "jeton-admin : erreur : --psk-hex attend de l'hexadécimal\n")
    status, _, err = admin("audit", "--since", "hier")
    assert (status, err) == (2, "jeton-admin : erreur : date invalide 'hier' (AAAA-MM-JJ[THH:MM[:SS]] UTC, ou "
                                "secondes Unix)\n")
    status, _, err = admin("import", str(tmp_path))
    assert (status, err) == (1, f"jeton-admin : erreur : {tmp_path} : fichier illisible (IsADirectoryError)\n")
    assert admin("tokens", "--json")[1] == "[]\n"
    assert admin("import", str(pskc_lot), "--password", "right-password")[0] == 0



def test_configuration_errors_are_told_in_french(admin, keys_file):
    admin("init")
    keys_file.chmod(0o644)
    status, _, err = admin("tokens")
    assert (status, err) == (1, f"jeton-admin : erreur : le trousseau de clés {keys_file} est lisible par d'autres "
                                f"(mode 0644) : chmod 600 {keys_file}\n")
    keys_file.unlink()
    status, _, err = admin("tokens")
    assert (status, err) == (1, f"jeton-admin : erreur : le trousseau de clés {keys_file} n'existe pas "
                                f"(`jeton-admin init --keys {keys_file}` le crée)\n")


def test_the_console_script(tmp_path):
    exe = Path(sys.executable).with_name("jeton-admin")
    env = dict(os.environ, JETON_KEYS_FILE=str(tmp_path / "k.json"))
    db = f"sqlite:///{tmp_path / 'j.db'}"
    subprocess.run([str(exe), "--db", db, "init"], env=env, check=True, capture_output=True)
    subprocess.run([str(exe), "--db", db, "users", "add", "mdupont"], env=env, check=True, capture_output=True)
    proc = subprocess.run([str(exe), "--db", db, "users", "--json"], env=env, capture_output=True, text=True)
    assert json.loads(proc.stdout) == [{"login": "mdupont", "name": "", "role": "teacher"}]


@pytest.mark.parametrize(
    ("check", "french"),
    [
        (lambda: check_serial("bad serial!"), "un numéro de clé a 1 à 16 caractères parmi A-Z, 0-9 et « - »"),
        (lambda: check_login("12345"), "un identifiant a 1 à 64 caractères (lettres, chiffres, . _ @ -), "
                                       "pas uniquement des chiffres"),
        (lambda: check_token_params("md5", 6, 30), "algorithme inconnu : sha1, sha256, sha512 seulement"),
        (lambda: check_token_params("sha1", 7, 30), "une clé affiche 6 ou 8 chiffres"),
        (lambda: check_token_params("sha1", 6, 45), "le code d'une clé change toutes les 30 ou 60 secondes"),
    ],
)
def test_the_stores_own_checks_are_told_in_french(check, french):
    with pytest.raises(InvalidInput) as refused:
        check()
    assert error_message(refused.value) == french


def test_emergency_prints_the_code_once_and_end_ends_it(admin, db_url, keys_file, planted):
    """`jeton-admin emergency LOGIN [--until ...] [--uses N]` then `--end` (DESIGN.md §6)."""
    import re
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from tests.verifier.helpers import assigned_token, first_use

    admin("init")
    store = open_store(db_url, keys_file)
    codes = assigned_token(store, "JT-E1", "mdupont", planted=planted)
    verifier = Verifier(store)
    first_use(verifier, "mdupont", codes, planted.value("2846"), time.time() - 3600)
    status, _, err = admin("emergency", "nobody")
    assert status == 1 and err == "jeton-admin : erreur : aucun utilisateur d'identifiant nobody\n"
    status, _, err = admin("emergency", "mdupont", "--until", "demain")
    assert status == 2 and "--until : heure invalide 'demain'" in err and err.count("\n") == 1
    status, _, err = admin("emergency", "mdupont", "--until", "2099-01-01T08:00")
    assert status == 1 and "dans les 14 jours" in err

    until = datetime.now(ZoneInfo("Europe/Paris")).replace(second=0, microsecond=0) + timedelta(hours=2)
    status, out, err = admin("emergency", "mdupont", "--until", until.strftime("%Y-%m-%dT%H:%M"), "--uses", "2")
    assert status == 0, err
    code = re.search(r"code (\d{8})\n", out).group(1)
    assert out.count(code) == 1 and "Ce code ne sera plus affiché" in out and "2 connexion(s)" in out
    assert until.strftime("%d/%m/%Y à %H:%M (Europe/Paris)") in out
    assert verifier.authenticate("mdupont", "2846" + code).outcome is Outcome.ACCEPT
    assert all(code not in (e.detail or "") for e in store.audit())
    status, out, _ = admin("emergency", "mdupont", "--end")
    assert status == 0 and out == "Accès de secours de mdupont terminé.\n"
    assert verifier.authenticate("mdupont", "2846" + code).outcome is Outcome.REJECT
    assert admin("emergency", "mdupont", "--end")[1] == "mdupont n'avait pas d'accès de secours.\n"
    store.close()


def test_the_last_administrator_keeps_her_role(admin):
    admin("init")
    assert admin("users", "add", "chef", "--role", "admin")[0] == 0
    status, _, err = admin("users", "set-role", "chef", "teacher")
    assert status == 1
    assert err == ("jeton-admin : erreur : chef est le seul administrateur : nommez d'abord un autre "
                   "administrateur\n")
    assert admin("users", "add", "adjoint", "--role", "admin")[0] == 0
    assert admin("users", "set-role", "chef", "teacher")[0] == 0


def test_the_command_line_dry_run_writes_nothing(admin, tmp_path, planted):
    admin("init")
    path = tmp_path / "lot.csv"
    good = planted.secret(secrets.token_bytes(20)).hex()
    path.write_text(f"serial,key,type,digits,period\nJT-D1,{good},totp\nJT-D2,{secrets.token_hex(20)},totp,7\n")
    status, out, err = admin("import", str(path), "--dry-run")
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "JT-D1            ligne 2                à ajouter",
        "JT-D2            ligne 3                refusée : une clé affiche 6 ou 8 chiffres, pas 7",
        "Aperçu, rien n'a été écrit : 1 à ajouter, 0 ignorée(s) (déjà présentes), 1 refusée(s).",
    ]
    assert admin("tokens", "--json")[1] == "[]\n"
