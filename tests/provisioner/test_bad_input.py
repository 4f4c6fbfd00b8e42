"""Bad input while seeding: a port that is not a token, garbage, silence, a wrong PROVE, a lost clock.

Each gives one clear line on stderr, a non-zero exit, and no half-written record (the store is read back).
These faults are ones a working firmware never shows, so a scripted device on a real pty plays them.
"""

from __future__ import annotations

import base64
import re

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
    assert one_line(run) == "erreur : base de données injoignable : vérifiez --db et le serveur"
    assert token.verbs == [] and token.state == "blank"


def test_no_key_ring_is_one_line_saying_what_to_give(cli, store_files):
    token = ScriptedToken()
    with ScriptedDevice(token) as device:
        run = cli("seed", device.port, "--db", store_files.db)
    assert run.code == 1
    assert one_line(run) == (
        "erreur : aucun trousseau de clés : --keys FICHIER ou JETON_KEYS_FILE (`jeton-admin init` le crée)"
    )
    assert token.verbs == []


def test_a_database_without_the_schema_says_to_run_init(cli, store_files, tmp_path):
    run = cli("seed", "/dev/null", "--db", f"sqlite:///{tmp_path / 'empty.db'}", "--keys", store_files.keys)
    assert run.code == 1
    assert one_line(run) == "erreur : la base n'a pas le schéma Jeton à jour : lancez `jeton-admin init`"
