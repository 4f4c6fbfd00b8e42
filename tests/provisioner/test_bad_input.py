"""Bad input while seeding: a port that is not a token, garbage, silence, a wrong PROVE, a lost clock.

Each gives one clear line on stderr, a non-zero exit, and no half-written record (the store is read back).
These faults are ones a working firmware never shows, so a scripted device on a real pty plays them.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from tests.provisioner.scripted import ScriptedDevice, ScriptedToken, frame, parse_request
from verifier import open_store


def tokens_in(files):
    with open_store(files.db, files.keys) as store:
        return [(t.serial, t.state) for t in store.list_tokens()]


def one_line(run) -> str:
    """The one error line: the last thing printed (after at most the reserved-serial notice), no traceback."""
    lines = run.err.strip().splitlines()
    assert "Traceback" not in run.err
    assert [line for line in lines if line.startswith("erreur")] == lines[-1:], run.err
    assert len(lines) == 1 or (len(lines) == 2 and lines[0].startswith("Numéro ")), run.err
    return lines[-1]


def test_a_wrong_prove_wipes_the_token_and_marks_the_record_failed(cli, store_files):
    token = ScriptedToken({"prove"})
    with ScriptedDevice(token) as device:
        run = cli("seed", device.port, "--timeout", "1", *store_files.args())
    assert run.code == 1
    assert one_line(run) == "erreur : clé JT-000001 : la preuve (PROVE) ne correspond pas au secret envoyé"
    assert token.state == "blank" and token.verbs[-1] == "WIPE"
    assert tokens_in(store_files) == [("JT-000001", "failed")]


def test_a_lost_clock_after_time_wipes_the_token_and_marks_the_record_failed(cli, store_files):
    token = ScriptedToken({"clock"})
    with ScriptedDevice(token) as device:
        run = cli("seed", device.port, *store_files.args())
    assert run.code == 1
    assert one_line(run) == "erreur : la clé refuse CODE : clock (horloge de la clé perdue)"
    assert token.state == "blank"
    assert tokens_in(store_files) == [("JT-000001", "failed")]


def test_a_clock_ahead_of_the_host_is_not_moved_back_without_force(cli, store_files):
    token = ScriptedToken({"ahead"})
    with ScriptedDevice(token) as device:
        run = cli("seed", device.port, *store_files.args())
        assert run.code == 1
        assert re.fullmatch(r"erreur : l'horloge de la clé est en avance de 10\d s sur celle de ce poste : "
                            r"vérifiez l'heure du poste \(ou --force pour reculer l'horloge de la clé\)", one_line(run))
        assert tokens_in(store_files) == [] and token.verbs == ["HELLO"]
        forced = cli("seed", device.port, "--force", *store_files.args())
    assert forced.code == 0, forced.err
    assert forced.out.strip() == "JT-000001" and token.state == "locked"
    assert tokens_in(store_files) == [("JT-000001", "ready")]


def test_a_silent_port_is_one_line_and_no_record(cli, store_files):
    with ScriptedDevice(lambda line: b"") as device:
        run = cli("seed", device.port, "--timeout", "0.5", *store_files.args())
    assert run.code == 1
    assert one_line(run) == (f"erreur : port {device.port} : aucune réponse en 0.5 s à HELLO — "
                             "est-ce bien une clé Jeton flashée ?")
    assert tokens_in(store_files) == []


@pytest.mark.parametrize("noise", [b"\xff\xfe\x00garbage\r\n", b">>> \r\nMicroPython v1.24\r\n"])
def test_a_port_that_answers_garbage_is_one_line_and_no_record(cli, store_files, noise):
    with ScriptedDevice(lambda line: noise) as device:
        run = cli("seed", device.port, "--timeout", "0.5", *store_files.args())
    assert run.code == 1
    assert "ne parle pas le protocole Jeton" in one_line(run)
    assert tokens_in(store_files) == []


def test_a_reply_missing_its_fields_is_a_bad_reply_not_a_crash(cli, store_files):
    def script(line):
        rid, _, _ = parse_request(line)
        return frame(f"{rid} OK proto=1")

    with ScriptedDevice(script) as device:
        run = cli("seed", device.port, *store_files.args())
    assert run.code == 1
    assert one_line(run) == "erreur : réponse incohérente de la clé à HELLO : champ state absent"
    assert tokens_in(store_files) == []


def test_an_unexpected_reply_after_the_record_gives_the_rerun_hint_and_the_rerun_finishes(cli, store_files):
    token = ScriptedToken()

    def garbled_prove(line):
        rid, verb, _ = parse_request(line)
        reply = token(line)  # the token takes the request (SEED included) as a good one would
        return frame(f"{rid} OK mac=not-hex") if verb == "PROVE" else reply

    with ScriptedDevice(garbled_prove) as device:
        run = cli("seed", device.port, *store_files.args())
    assert run.code == 1
    assert one_line(run) == (
        "erreur : réponse incohérente de la clé à PROVE : mac non hexadécimal — la fiche JT-000001 reste en attente : "
        f"rebranchez la clé et relancez `jeton-provision seed {device.port} --serial JT-000001`"
    )
    assert tokens_in(store_files) == [("JT-000001", "pending")] and token.state == "seeded"
    with ScriptedDevice(token) as device:
        rerun = cli("seed", device.port, "--serial", "JT-000001", *store_files.args())
    assert rerun.code == 0, rerun.err
    assert "JT-000001 terminée (reprise)" in rerun.err
    assert tokens_in(store_files) == [("JT-000001", "ready")] and token.state == "locked"


def test_a_missing_port_is_one_line_and_no_record(cli, store_files):
    run = cli("seed", "/dev/ttyACM-jeton-absent", *store_files.args())
    assert run.code == 1
    assert one_line(run) == "erreur : port /dev/ttyACM-jeton-absent : introuvable (clé débranchée ?)"
    assert tokens_in(store_files) == []


def test_nothing_the_cli_prints_while_seeding_holds_the_secret(cli, store_files):
    token = ScriptedToken()
    with ScriptedDevice(token) as device:
        run = cli("-v", "seed", device.port, "--json", *store_files.args())
    assert run.code == 0, run.err
    secret = token.secret
    printed = run.out + run.err
    for form in (secret.hex(), secret.hex().upper(), base64.b32encode(secret).decode().rstrip("="),
                 base64.b64encode(secret).decode()):
        assert form not in printed
    assert '"serial": "JT-000001"' in run.out and "… ready" in run.err


def test_an_unreachable_database_is_one_line_and_the_token_is_not_touched(cli, store_files):
    token = ScriptedToken()
    with ScriptedDevice(token) as device:
        run = cli("seed", device.port, "--db", "postgresql://nobody@127.0.0.1:1/jeton", "--keys", store_files.keys)
    assert run.code == 1
    assert one_line(run) == "erreur : base de données inaccessible (OperationalError)"
    assert token.verbs == [] and token.state == "blank"


def test_no_key_ring_is_one_line_saying_what_to_give(cli, store_files):
    token = ScriptedToken()
    with ScriptedDevice(token) as device:
        run = cli("seed", device.port, "--db", store_files.db)
    assert run.code == 1
    assert one_line(run) == (
        "erreur : aucun trousseau de clés : indiquez --keys FICHIER ou JETON_KEYS_FILE "
        "(`jeton-admin init --keys FICHIER` en crée un)"
    )
    assert token.verbs == []


def test_a_missing_key_file_is_the_verifiers_french_line(cli, store_files, tmp_path):
    token = ScriptedToken()
    missing = tmp_path / "absent.json"
    with ScriptedDevice(token) as device:
        run = cli("seed", device.port, "--db", store_files.db, "--keys", str(missing))
    assert run.code == 1
    assert one_line(run) == (
        f"erreur : le trousseau de clés {missing} n'existe pas (`jeton-admin init --keys {missing}` le crée)"
    )
    assert token.verbs == [] and tokens_in(store_files) == []


def test_a_key_file_readable_by_others_is_refused_in_french(cli, store_files, tmp_path):
    Path(store_files.keys).chmod(0o644)
    run = cli("export", "--format", "csv", "-o", str(tmp_path / "out.csv"), *store_files.args())
    assert run.code == 1 and not (tmp_path / "out.csv").exists()
    assert one_line(run) == (
        f"erreur : le trousseau de clés {store_files.keys} est lisible par d'autres (mode 0644) : "
        f"chmod 600 {store_files.keys}"
    )


def test_a_database_without_the_schema_says_to_run_init(cli, store_files, tmp_path):
    run = cli("seed", "/dev/null", "--db", f"sqlite:///{tmp_path / 'empty.db'}", "--keys", store_files.keys)
    assert run.code == 1
    assert one_line(run) == "erreur : la base n'a pas encore les tables de Jeton : lancez `jeton-admin init`"


def test_a_database_at_an_older_schema_says_to_run_init(cli, store_files, tmp_path):
    import sqlalchemy as sa

    from verifier.db import head_revision
    from verifier.schema import VERSION_TABLE

    engine = sa.create_engine(store_files.db)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '0000_older'"))  # noqa: S608
    engine.dispose()
    run = cli("export", "--format", "csv", "-o", str(tmp_path / "out.csv"), *store_files.args())
    assert run.code == 1 and not (tmp_path / "out.csv").exists()
    assert one_line(run) == (
        f"erreur : le schéma de la base est à 0000_older, il faut {head_revision()} : lancez `jeton-admin init`"
    )
