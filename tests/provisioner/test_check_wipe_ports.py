"""Take a token back (`check`), wipe it (`wipe`), and list what is plugged in (`ports`)."""

from __future__ import annotations

import json
import re

import pytest

from tests.provisioner.devices import KINDS, PtyToken
from tests.provisioner.scripted import ScriptedDevice
from verifier import open_store


@pytest.fixture(params=sorted(KINDS))
def token(request, tmp_path):
    device = KINDS[request.param](tmp_path / "flash")
    yield device
    device.unplug()


def seeded(cli, files, port):
    run = cli("seed", port, *files.args())
    assert run.code == 0, run.err
    return run.out.strip()


def test_check_a_returned_ready_token_says_it_can_be_reissued(cli, store_files, token):
    port = token.plug()
    serial = seeded(cli, store_files, port)
    run = cli("check", port, "--json", *store_files.args())
    assert run.code == 0, run.err
    report = json.loads(run.out)
    # locked, nobody pressed its button: the code is not read over USB, PROVE has shown the secret
    assert report["serial"] == serial and report["holds_secret"] and report["code_ok"] is None and report["reissuable"]
    assert "code : non comparé (appuyez sur le bouton de la clé pendant check pour le comparer)" in run.err
    assert abs(report["clock_offset"]) <= 2
    assert abs(report["drift_ppm"]) <= report["drift_uncertainty_ppm"] + 5  # a good clock, measured over seconds
    assert run.err.splitlines()[-1] == "  Réattribuable."
    token.press()  # the operator presses the button during check: the code shown is compared too
    run = cli("check", port, "--json", *store_files.args())
    assert run.code == 0, run.err
    assert json.loads(run.out)["code_ok"] is True


def test_check_an_assigned_token_says_to_unassign_it_first(cli, store_files, token):
    port = token.plug()
    serial = seeded(cli, store_files, port)
    with open_store(store_files.db, store_files.keys) as store:
        store.add_user("mdupont")
        store.assign(serial, "mdupont")
    run = cli("check", port, *store_files.args())
    assert run.code == 1
    assert "fiche : attribuée (nouveau PIN), utilisateur mdupont ; secret prouvé : oui" in run.err
    assert run.err.splitlines()[-1] == "  Non réattribuable : fiche dans l'état assigned (jeton-admin unassign d'abord)"


def test_check_a_token_whose_clock_drifted_says_to_reseed_it(cli, store_files, tmp_path):
    token = PtyToken(tmp_path / "f")
    port = token.plug()
    try:
        seeded(cli, store_files, port)
        token.model.offset += 40  # months in a drawer
        run = cli("check", port, *store_files.args())
    finally:
        token.unplug()
    assert run.code == 1
    assert re.search(r"horloge décalée de \+(39|40|41) s", run.err) and "effacer et reprovisionner" in run.err


def test_check_a_token_from_another_database(cli, store_files, token, tmp_path):
    port = token.plug()
    seeded(cli, store_files, port)
    from verifier import init_store

    other = (f"sqlite:///{tmp_path / 'other.db'}", str(tmp_path / "other-keys.json"))
    init_store(*other)[0].close()
    run = cli("check", port, "--db", other[0], "--keys", other[1])
    assert run.code == 1 and "numéro inconnu de cette base" in run.err


def test_wipe_asks_for_confirmation_and_no_changes_nothing(cli, store_files, token):
    port = token.plug()
    serial = seeded(cli, store_files, port)
    run = cli("wipe", port, *store_files.args(), input="n\n")
    assert run.code == 1
    assert f"Effacer définitivement la clé {serial} (verrouillée) sur {port} ? [o/N]" in run.err
    assert "abandon, rien n'a été modifié" in run.err
    with open_store(store_files.db, store_files.keys) as store:
        assert store.get_token(serial).state == "ready"
    assert json.loads(cli("check", port, "--json", *store_files.args()).out)["holds_secret"]


def test_wipe_confirmed_blanks_the_token_and_retires_its_record(cli, store_files, token):
    port = token.plug()
    serial = seeded(cli, store_files, port)
    run = cli("wipe", port, *store_files.args(), input="y\n")
    assert run.code == 0, run.err
    assert run.err.strip().endswith(f"Clé {serial} effacée ; fiche retirée.")
    with open_store(store_files.db, store_files.keys) as store:
        assert store.get_token(serial).state == "retired"
    listed = json.loads(cli("ports", "--no-usb", "--port", port, "--json").out)
    assert listed["hello"]["state"] == "blank" and listed["hello"]["serial"] is None
    # a wiped token can be seeded again, with a new number
    assert seeded(cli, store_files, port) != serial


def test_wipe_force_does_not_ask(cli, store_files, token):
    port = token.plug()
    serial = seeded(cli, store_files, port)
    run = cli("wipe", port, "--force", *store_files.args())
    assert run.code == 0 and run.err.strip() == f"Clé {serial} effacée ; fiche retirée."


def test_ports_lists_a_token_and_a_silent_port_without_failing(cli, token):
    port = token.plug()
    with ScriptedDevice(lambda line: b"") as silent:
        run = cli("ports", "--no-usb", "--port", port, "--port", silent.port)
    assert run.code == 0, run.err
    lines = dict(line.split("  ", 1) for line in run.out.splitlines())
    assert lines[port].startswith("-                vierge")
    assert lines[silent.port] == "ne répond pas : muet"


def test_ports_with_nothing_plugged_in_says_so(cli, tmp_path):
    run = cli("ports", "--no-usb", "--port", str(tmp_path / "ttyACM*"))
    assert run.code == 0 and run.out == ""
    assert run.err.strip() == "Aucune carte MicroPython trouvée."


def test_every_command_has_help_in_french(cli):
    for command in ("ports", "flash", "seed", "batch", "check", "wipe", "export", "software"):
        run = cli(command, "--help")
        assert run.code == 0 and "Utilisation : jeton-provision " + command in run.out
        assert "--help" in run.out
    assert "Provisionner les clés Jeton" in cli("--help").out
