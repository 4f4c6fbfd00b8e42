"""`jeton-provision check` reads the battery from HELLO, says it, puts it in --json and records it for the fleet's
health page (issue 17), with the simulator reporting the battery as a Pico does (`jeton-sim --battery VOLTS`)."""

from __future__ import annotations

import json

from verifier import fleet_health, open_store


def seeded(cli, files, port):
    run = cli("seed", port, *files.args())
    assert run.code == 0, run.err
    return run.out.strip()


def battery_rows(files):
    with open_store(files.db, files.keys) as store:
        with store.engine.connect() as conn:
            low = [(b.serial, b.volts) for b in fleet_health.low_batteries(conn)]
        return low, [(r.serial, r.outcome, r.detail, r.actor) for r in store.audit(action="token.battery")]


def test_check_a_token_with_low_cells_says_so_and_records_it(cli, store_files, simulated):
    token = simulated("low", battery=2.05)
    serial = seeded(cli, store_files, token.port)
    run = cli("check", token.port, "--json", *store_files.args())
    assert run.code == 1, run.err
    report = json.loads(run.out)
    assert (report["battery_volts"], report["battery"], report["reissuable"]) == (2.05, "low", False)
    assert "  piles : 2.05 V (faibles : à remplacer)" in run.err.splitlines()
    assert run.err.splitlines()[-1] == "  Non réattribuable : piles faibles (2.05 V) : à remplacer"
    low, audited = battery_rows(store_files)
    assert low == [(serial, 2.05)]
    assert audited == [(serial, "low", "battery=2.05V", "jeton-provision")]


def test_good_cells_are_recorded_a_usb_reading_or_no_reading_records_nothing(cli, store_files, simulated):
    good, usb, silent = (simulated("good", battery=2.91), simulated("usb", battery=4.71), simulated("silent"))
    serials = {name: seeded(cli, store_files, t.port) for name, t in (("good", good), ("usb", usb),
                                                                       ("silent", silent))}
    run = cli("check", good.port, *store_files.args())
    assert run.code == 0 and "  piles : 2.91 V (bonnes)" in run.err.splitlines()
    run = cli("check", usb.port, "--json", *store_files.args())
    assert run.code == 0 and json.loads(run.out)["battery"] == "usb"
    assert "  piles : non mesurables, la clé est alimentée par l'USB (4.71 V)" in run.err.splitlines()
    run = cli("check", silent.port, "--json", *store_files.args())
    assert run.code == 0 and json.loads(run.out)["battery_volts"] is None and "piles" not in run.err
    low, audited = battery_rows(store_files)
    assert low == [] and audited == [(serials["good"], "ok", "battery=2.91V", "jeton-provision")]
