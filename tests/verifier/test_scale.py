"""Issue 17, scale: the district generator makes tokens the store and the verifier read as their own, and a key
rotation killed half-way leaves every secret readable and is finished by the next `jeton-admin rotate-key`
(SQLite, then PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

from benchmarks.fleet_data import build_fleet
from tests.support import ROOT
from verifier import open_store
from verifier.cli import main as jeton_admin
from verifier.errors import DuplicateSerial
from verifier.rotation import rotate_key
from verifier.store import ImportRecord
from verifier.verification import Outcome, Verifier

ROTATION_KILLED_AFTER = 600  # rows, three batches of 200


def test_the_generated_district_reads_as_the_store_own_rows(db_url, keys_file):
    fleet = build_fleet(db_url, keys_file, users=300, tokens_count=320)
    with open_store(db_url, keys_file) as store:
        listed = {t.serial: t for t in store.list_tokens()}
        assert len(listed) == 320 and len(store.list_users()) == 300
        assert Counter(t.state for t in listed.values()) == Counter(fleet.state(n) for n in range(320))
        assert {"ready", "assigned", "active", "locked", "disabled", "retired"} <= {t.state for t in listed.values()}
        for n in range(320):  # every secret opens, and is the one the fleet says
            if fleet.state(n) != "retired":
                assert store.token_secret(fleet.serial(n), actor="test") == fleet.secret(n)
        assert listed[fleet.serial(150)].login == "dir.000150" and store.get_user("dir.000150").role == "admin"

        verifier = Verifier(store)
        now = fleet.now + 90
        for n in fleet.checkable[:20]:  # PIN + code: accepted
            assert verifier.authenticate(fleet.login(n), fleet.passcode(n, now), now).outcome is Outcome.ACCEPT
        assert verifier.authenticate(fleet.login(103), fleet.passcode(103, now), now).outcome is Outcome.LOCKED
        code_alone = fleet.passcode(102, now)[len(fleet.pin(102)):]  # a token waiting for its first PIN
        assert verifier.authenticate(fleet.login(102), code_alone, now).outcome is Outcome.NEW_PIN_REQUIRED


def _rotation_until_killed(db_url: str, keys_file) -> tuple[int, str]:
    """Run a key rotation in another process (batches of 200 rows) and SIGKILL it once ROTATION_KILLED_AFTER rows
    are committed: what it printed last."""
    script = (
        "import sys, time\n"
        "from verifier import open_store\n"
        "from verifier.rotation import rotate_key\n"
        "def after(done):\n"
        "    print(done, flush=True)\n"
        f"    if done >= {ROTATION_KILLED_AFTER}: time.sleep(600)\n"
        "rotate_key(open_store(sys.argv[1], sys.argv[2]), actor='test', batch_size=200, after_batch=after)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, db_url, str(keys_file)], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        done = 0
        while done < ROTATION_KILLED_AFTER:
            line = proc.stdout.readline()
            assert line, f"the rotation ended before it was killed (status {proc.wait()})"
            done = int(line)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    return done


def test_a_key_rotation_killed_half_way_loses_nothing_and_the_next_run_finishes_it(db_url, keys_file, capsys):
    fleet = build_fleet(db_url, keys_file, users=1000, audit_per_token=0)
    old_primary = json.loads(keys_file.read_text())["primary"]

    assert _rotation_until_killed(db_url, keys_file) == ROTATION_KILLED_AFTER
    ring = json.loads(keys_file.read_text())
    new_primary = ring["primary"]
    assert new_primary != old_primary and set(ring["keys"]) == {old_primary, new_primary}  # old key kept
    with open_store(db_url, keys_file) as store:
        by_key = Counter(t.key_id for t in store.list_tokens())
        assert by_key[new_primary] >= ROTATION_KILLED_AFTER and by_key[old_primary] > 0  # half done
        for n in range(fleet.tokens):  # every secret opens with the key file on disk
            if fleet.state(n) != "retired":
                assert store.token_secret(fleet.serial(n), actor="test") == fleet.secret(n)

    assert jeton_admin(["--db", db_url, "--keys", str(keys_file), "rotate-key", "--force"]) == 0
    assert f"Clé principale {new_primary} : tous les secrets sont re-chiffrés" in capsys.readouterr().out
    ring = json.loads(keys_file.read_text())
    assert ring["primary"] == new_primary and list(ring["keys"]) == [new_primary]  # finished, no third key
    with open_store(db_url, keys_file) as store:
        assert {t.key_id for t in store.list_tokens()} == {new_primary}
        assert all(store.token_secret(fleet.serial(n), actor="test") == fleet.secret(n)
                   for n in range(fleet.tokens) if fleet.state(n) != "retired")
        rotations = [(e.outcome, e.actor) for e in store.audit(action="keys.rotate")]  # newest first
        assert [outcome for outcome, _actor in rotations] == ["ok", "resumed", "started"]
        assert rotations[0][1] == rotations[1][1] != "test" and rotations[2][1] == "test"
        now = fleet.now + 90
        n = fleet.checkable[-1]
        assert Verifier(store).authenticate(fleet.login(n), fleet.passcode(n, now), now).outcome is Outcome.ACCEPT


@pytest.mark.parametrize("keep_old", [False, True])
def test_a_finished_rotation_starts_a_new_one(store, keys_file, keep_old):
    first = store.rotate_key(actor="test", keep_old=keep_old)
    second = store.rotate_key(actor="test")
    assert second != first and list(json.loads(keys_file.read_text())["keys"]) == [second]


def test_a_token_sealed_under_the_old_key_during_a_rotation_is_re_encrypted_too(db_url, keys_file, tmp_path):
    fleet = build_fleet(db_url, keys_file, users=500, audit_per_token=0)
    stale_keys = tmp_path / "old-keys.json"  # a node that has not loaded the new key file yet
    stale_keys.write_bytes(keys_file.read_bytes())
    stale_keys.chmod(0o600)
    reseeded = b"r" * 20

    def reseed_behind(done: int) -> None:  # after the first batch: the stale node re-seeds retired token 5
        if done == 100:
            with open_store(db_url, stale_keys) as stale:
                stale.create_pending_token(fleet.serial(5), reseeded, reuse=True, operator="atelier")

    with open_store(db_url, keys_file) as store:
        primary = rotate_key(store, actor="test", batch_size=100, after_batch=reseed_behind)
        assert {t.key_id for t in store.list_tokens()} == {primary}  # the second pass took it
        assert store.token_secret(fleet.serial(5), actor="test") == reseeded
        assert store.get_token(fleet.serial(5)).state == "pending"
    assert list(json.loads(keys_file.read_text())["keys"]) == [primary]


def test_a_large_import_is_still_all_or_nothing_and_names_the_serial_already_there(store):
    records = [ImportRecord(serial=f"JT-I{n:05d}", secret=bytes([n % 256]) * 20) for n in range(2500)]
    store.import_records(records[-1:], source="first.csv", actor="test")
    with pytest.raises(DuplicateSerial, match="JT-I02499"):
        store.import_records(records, source="lot.pskcxml", actor="test")
    assert [t.serial for t in store.list_tokens()] == ["JT-I02499"]  # nothing of the second file
    assert store.import_records(records[:-1], source="lot.pskcxml", actor="test") == [r.serial for r in records[:-1]]
    assert store.token_secret("JT-I00300", actor="test") == bytes([300 % 256]) * 20
    imported = [e for e in store.audit(action="token.import") if e.action == "token.import"]  # not the files' rows
    assert len(imported) == 2500 and {e.detail for e in imported} == {"from=first.csv", "from=lot.pskcxml"}
    assert store.import_records([], source="empty.csv") == [] and len(store.list_tokens()) == 2500


def test_jeton_admin_import_of_a_large_file_names_the_first_and_last_tokens_only(db_url, keys_file, tmp_path, capsys):
    lot = tmp_path / "lot.csv"
    lot.write_text("".join(f"JT-C{n:03d},{n:040x},totp\n" for n in range(1, 31)))
    base = ["--db", db_url, "--keys", str(keys_file)]
    assert jeton_admin([*base, "init"]) == 0
    capsys.readouterr()
    assert jeton_admin([*base, "import", str(lot)]) == 0
    assert capsys.readouterr().out == ("30 clé(s) importée(s), prêtes à attribuer : JT-C001, JT-C002, JT-C003 … "
                                       "JT-C030\n")
