"""Clock and storage faults of a real simulated token: the firmware under MicroPython, its flash a directory."""

from __future__ import annotations

import json
import time

import pytest

from verifier import open_store


def tokens_in(files):
    with open_store(files.db, files.keys) as store:
        return [(t.serial, t.state) for t in store.list_tokens()]


def hello(cli, port):
    return json.loads(cli("ports", "--no-usb", "--port", port, "--json").out)["hello"]


@pytest.mark.slow
def test_a_token_clock_ahead_is_refused_then_forced(cli, store_files, simulated):
    token = simulated("ahead", clock_offset=120)
    run = cli("seed", token.port, *store_files.args())
    assert run.code == 1 and "l'horloge de la clé est en avance de 1" in run.err
    assert tokens_in(store_files) == [] and hello(cli, token.port)["state"] == "blank"
    forced = cli("seed", token.port, "--force", *store_files.args())
    assert forced.code == 0, forced.err
    assert abs(hello(cli, token.port)["time"] - time.time()) <= 2
    assert tokens_in(store_files) == [("JT-000001", "ready")]


@pytest.mark.slow
def test_a_token_whose_clock_was_lost_is_set_and_seeded(cli, store_files, simulated, tmp_path):
    flash = tmp_path / "state-lost"
    flash.mkdir()
    (flash / "rtc.txt").write_text("-86400.000 1\n")  # a flat coin cell: a day behind, oscillator-stop flag set
    token = simulated("lost")
    listed = cli("ports", "--no-usb", "--port", token.port)
    assert "horloge PERDUE" in listed.out
    run = cli("seed", token.port, *store_files.args())
    assert run.code == 0, run.err
    after = hello(cli, token.port)
    assert after["clock_ok"] and abs(after["time"] - time.time()) <= 2


@pytest.mark.slow
def test_a_returned_token_that_drifted_is_wiped_and_reseeded(cli, store_files, simulated, tmp_path):
    token = simulated("drift")
    assert cli("seed", token.port, *store_files.args()).code == 0
    token.__exit__(None, None, None)
    drifted = simulated("drift", clock_offset=45)  # same flash, a clock 45 s fast
    run = cli("check", drifted.port, *store_files.args())
    assert run.code == 1
    assert "horloge décalée de +4" in run.err and "effacer et reprovisionner" in run.err
    assert cli("wipe", drifted.port, "--force", *store_files.args()).code == 0
    refused = cli("seed", drifted.port, *store_files.args())  # its clock is ahead: the host's might be wrong
    assert refused.code == 1 and "en avance de 4" in refused.err
    assert cli("seed", drifted.port, "--force", *store_files.args()).out.strip() == "JT-000002"
    assert cli("check", drifted.port, *store_files.args()).code == 0
    assert tokens_in(store_files) == [("JT-000001", "retired"), ("JT-000002", "ready")]


@pytest.mark.slow
def test_a_token_with_a_corrupt_store_is_wiped_by_its_label_then_reseeded(cli, store_files, simulated, tmp_path):
    token = simulated("corrupt")
    assert cli("seed", token.port, *store_files.args()).out.strip() == "JT-000001"
    token.__exit__(None, None, None)
    state = tmp_path / "state-corrupt" / "jeton.dat"
    data = bytearray(state.read_bytes())
    data[data.index(b"\n") // 2] ^= 0xFF  # in the record (the rest of the file pads it, store.PAD)
    state.write_bytes(bytes(data))
    broken = simulated("corrupt")
    assert hello(cli, broken.port)["state"] == "corrupt"
    run = cli("seed", broken.port, *store_files.args())
    assert run.code == 1 and "mémoire de la clé corrompue" in run.err
    wrong = cli("wipe", broken.port, "--force", "--serial", "JT-000009", *store_files.args())
    assert wrong.code == 0  # a corrupt token cannot contradict the label; JT-000009 has no record
    assert hello(cli, broken.port)["state"] == "blank"
    wiped = cli("wipe", broken.port, "--force", "--serial", "JT-000001", *store_files.args())
    assert wiped.code == 0 and "fiche retirée" in wiped.err
    assert cli("seed", broken.port, *store_files.args()).out.strip() == "JT-000002"
    assert tokens_in(store_files) == [("JT-000001", "retired"), ("JT-000002", "ready")]


@pytest.mark.slow
def test_wipe_refuses_a_label_that_contradicts_the_token(cli, store_files, simulated):
    token = simulated("label")
    assert cli("seed", token.port, *store_files.args()).code == 0
    run = cli("wipe", token.port, "--force", "--serial", "JT-000777", *store_files.args())
    assert run.code == 1
    assert run.err.strip() == "erreur : la clé annonce le numéro JT-000001, pas JT-000777 : rien n'a été effacé"
    assert hello(cli, token.port)["state"] == "locked"


@pytest.mark.slow
def test_a_locked_token_that_lost_its_clock_before_completion_is_taken_back_and_reseeded(
    cli, store_files, simulated, tmp_path
):
    from provisioner.records import open_records
    from provisioner.seeding import SeedOptions, seed_token
    from provisioner.session import TokenSession

    token = simulated("cell")

    def interrupted_after_lock(name, serial):
        if name == "lock":
            raise KeyboardInterrupt  # the operator's Ctrl-C between LOCK and the ready record

    with open_records(store_files.db, store_files.keys) as records, TokenSession.open(token.port) as session:
        with pytest.raises(KeyboardInterrupt):
            seed_token(session, records, SeedOptions(serial="LAB-1"), on_step=interrupted_after_lock)
    token.__exit__(None, None, None)
    rtc = tmp_path / "state-cell" / "rtc.txt"
    rtc.write_text(rtc.read_text().split()[0] + " 1\n")  # the coin cell went flat in the drawer
    back = simulated("cell")
    assert hello(cli, back.port)["state"] == "locked" and not hello(cli, back.port)["clock_ok"]
    run = cli("seed", back.port, "--serial", "LAB-1", *store_files.args())
    assert run.code == 0, run.err
    after = hello(cli, back.port)
    assert (after["state"], after["serial"], after["clock_ok"]) == ("locked", "LAB-1", True)
    assert tokens_in(store_files) == [("LAB-1", "ready")]  # the failed record was replaced by the new one
    assert cli("check", back.port, *store_files.args()).code == 0


@pytest.mark.slow
def test_a_token_holding_the_secret_of_a_record_retired_meanwhile_is_wiped_and_reseeded(
    cli, store_files, simulated
):
    from provisioner.records import open_records
    from provisioner.seeding import SeedOptions, seed_token
    from provisioner.session import TokenSession

    token = simulated("retired")

    def interrupted_after_seed(name, serial):
        if name == "seed":
            raise KeyboardInterrupt

    with open_records(store_files.db, store_files.keys) as records, TokenSession.open(token.port) as session:
        with pytest.raises(KeyboardInterrupt):
            seed_token(session, records, SeedOptions(), on_step=interrupted_after_seed)
    with open_store(store_files.db, store_files.keys) as store:
        store.retire_token("JT-000001", "never resumed")  # what `jeton-admin retire` does
    run = cli("seed", token.port, *store_files.args())
    assert run.code == 0, run.err
    assert run.out.strip() == "JT-000002"
    assert tokens_in(store_files) == [("JT-000001", "retired"), ("JT-000002", "ready")]
    assert hello(cli, token.port)["serial"] == "JT-000002"
