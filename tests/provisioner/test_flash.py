"""`jeton-provision flash` against `jeton-sim --blank`: stock MicroPython on a pty, its state dir as flash."""

from __future__ import annotations

import json

import pytest

from provisioner.flashing import firmware_version


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["mpy", "source"])
def test_flash_a_blank_board_then_it_answers_hello_and_can_be_seeded(cli, store_files, simulated, tmp_path, mode):
    board = simulated("board", blank=True)
    run = cli("flash", board.port, "--json", *(["--source"] if mode == "source" else []), timeout=120)
    assert run.code == 0, run.err
    result = json.loads(run.out)
    assert result["firmware"] == firmware_version() and result["state"] == "blank"
    assert all(name.endswith(".mpy") or name in ("main.py", "boot.py") for name in result["files"]) == (mode == "mpy")
    assert f"Firmware {firmware_version()} installé sur {board.port}" in run.err
    seed = cli("seed", board.port, *store_files.args())
    assert seed.code == 0, seed.err
    assert seed.out.strip() == "JT-000001"


@pytest.mark.slow
def test_flash_refuses_a_locked_token(cli, store_files, simulated):
    token = simulated("locked")
    assert cli("seed", token.port, *store_files.args()).code == 0
    run = cli("flash", token.port)
    assert run.code == 1
    assert run.err.strip().splitlines()[-1] == (
        "erreur : la clé JT-000001 est verrouillée : effacez-la (`jeton-provision wipe`) avant de la reflasher"
    )


@pytest.mark.slow
def test_a_flashed_blank_token_can_be_flashed_again_in_the_other_form(cli, simulated, tmp_path):
    board = simulated("again", blank=True)
    assert cli("flash", board.port, timeout=120).code == 0
    again = cli("flash", board.port, "--source", "--json", timeout=120)
    assert again.code == 0, again.err
    flash_dir = tmp_path / "state-again"
    assert sorted(p.name for p in flash_dir.glob("*.mpy")) == []  # no stale .mpy left to shadow the sources
    assert {p.name for p in flash_dir.glob("*.py")} >= {"main.py", "proto.py"}


@pytest.mark.slow
def test_flash_refuses_a_seeded_token_that_is_not_locked_yet(cli, store_files, simulated):
    from provisioner.records import open_records
    from provisioner.seeding import SeedOptions, seed_token
    from provisioner.session import TokenSession

    token = simulated("seeded")

    def stop_before_lock(name, serial):
        if name == "code":
            raise KeyboardInterrupt  # the operator's Ctrl-C, between CODE and LOCK

    with open_records(store_files.db, store_files.keys) as records, TokenSession.open(token.port) as session:
        with pytest.raises(KeyboardInterrupt):
            seed_token(session, records, SeedOptions(), on_step=stop_before_lock)
    run = cli("flash", token.port)
    assert run.code == 1
    assert run.err.strip().splitlines()[-1] == (
        "erreur : la clé JT-000001 est initialisée : effacez-la (`jeton-provision wipe`) avant de la reflasher"
    )


def test_flash_a_missing_port_is_one_line_saying_so(cli):
    run = cli("flash", "/dev/ttyACM-jeton-absent")
    assert run.code == 1
    assert run.err.strip().splitlines()[-1] == "erreur : port /dev/ttyACM-jeton-absent : introuvable (clé débranchée ?)"
