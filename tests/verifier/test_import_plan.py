"""The import plan (verifier.import_plan): each record of a token file is to add, already present (skipped) or
refused with a French reason naming its serial; applying adds the ones to add in one transaction, with their audit
and one row of counts. On SQLite and PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import io
import secrets

import pskc
import pytest

from verifier import import_plan
from verifier.errors import ImportFileError, PasswordNeeded
from verifier.interchange import TOTP_URI, token_entries
from verifier.otp import TokenCodes

T = 1_800_000_000.0


def _csv(*lines: str) -> bytes:
    return ("serial,key,type,digits,period\n" + "\n".join(lines) + "\n").encode()


def _pskc(keys, *, password=None) -> bytes:
    container = pskc.PSKC()
    for serial, secret in keys:
        container.add_key(serial=serial, secret=secret, algorithm=TOTP_URI, algorithm_suite="HMAC-SHA1",
                          response_length=6, time_interval=30, model="Jeton Pico")
    if password is not None:
        container.encryption.setup_pbkdf2(password, iterations=1000)
    out = io.BytesIO()
    container.write(out)
    return out.getvalue()


@pytest.fixture
def lot(store, planted):
    """JT-OLD in the store; a file with one to add, the same JT-OLD, JT-OLD2's serial with another secret, a bad
    line, a serial twice."""
    old, other = planted.secret(secrets.token_bytes(20)), planted.secret(secrets.token_bytes(20))
    store.import_token("JT-OLD", old, now=T)
    store.import_token("JT-OLD2", other, now=T)
    new = planted.secret(secrets.token_bytes(20))
    data = _csv(f"JT-NEW,{new.hex()},totp,6,30", f"JT-OLD,{old.hex()},totp,6,30",
                f"JT-OLD2,{planted.secret(secrets.token_bytes(20)).hex()},totp,6,30",
                f"JT-BAD,{secrets.token_hex(20)},totp,7,30",
                f"JT-TWICE,{secrets.token_hex(20)},totp", f"JT-TWICE,{secrets.token_hex(20)},totp")
    return data, new


def test_the_plan_says_what_each_record_becomes_and_writes_nothing(store, lot):
    data, _new = lot
    before = len(store.audit())
    plan = import_plan.plan(store, token_entries(data, "lot.csv"))
    assert [(r.serial, r.where, r.status, r.reason) for r in plan.rows] == [
        ("JT-NEW", "ligne 2", "add", None),
        ("JT-OLD", "ligne 3", "present", "déjà présente (même clé, prête)"),
        ("JT-OLD2", "ligne 4", "refused", "le numéro JT-OLD2 existe déjà avec un autre secret"),
        ("JT-BAD", "ligne 5", "refused", "une clé affiche 6 ou 8 chiffres, pas 7"),
        ("JT-TWICE", "ligne 6", "refused", "le numéro JT-TWICE figure 2 fois dans le fichier"),
        ("JT-TWICE", "ligne 7", "refused", "le numéro JT-TWICE figure 2 fois dans le fichier"),
    ]
    assert plan.summary(done=False) == "1 à ajouter, 1 ignorée(s) (déjà présentes), 4 refusée(s)"
    assert store.find_token("JT-NEW") is None and len(store.audit()) == before


def test_applying_adds_only_the_tokens_to_add_and_audits_the_counts(store, lot):
    data, new = lot
    done = import_plan.apply(store, token_entries(data, "lot.csv"), source="lot.csv", actor="adurand", now=T + 5)
    assert done.summary() == "1 ajoutée(s), 1 ignorée(s) (déjà présentes), 4 refusée(s)"
    assert [t.serial for t in store.list_tokens()] == ["JT-NEW", "JT-OLD", "JT-OLD2"]
    token = store.get_token("JT-NEW")
    assert (token.state, token.operator, token.provisioned_at) == ("ready", "adurand", T + 5)
    assert store.token_secret("JT-NEW") == new
    assert TokenCodes(store.token_secret("JT-NEW")).code(1) == TokenCodes(new).code(1)
    summary = store.audit(action="token.import_file")[0]
    assert (summary.actor, summary.detail) == (
        "adurand", "1 ajoutée(s), 1 ignorée(s) (déjà présentes), 4 refusée(s) ; fichier=lot.csv")
    assert [e.serial for e in store.audit(action="token.import", serial="JT-NEW")] == ["JT-NEW"]
    # applying again adds nothing: the same token is now present
    again = import_plan.apply(store, token_entries(data, "lot.csv"), source="lot.csv", actor="adurand")
    assert again.count("add") == 0 and again.count("present") == 2


def test_a_retired_serial_or_other_settings_are_refused(store, planted):
    secret = planted.secret(secrets.token_bytes(20))
    store.import_token("JT-R", secrets.token_bytes(20), now=T)
    store.retire_token("JT-R", now=T)
    store.import_token("JT-S", secret, now=T)
    plan = import_plan.plan(store, token_entries(
        _csv(f"JT-R,{secrets.token_hex(20)},totp", f"JT-S,{secret.hex()},totp,8,30"), "lot.csv"))
    assert [r.reason for r in plan.rows] == [
        "le numéro JT-R existe déjà (retirée, secret détruit)",
        "le numéro JT-S existe déjà avec d'autres réglages (sha1, 6 chiffres, 30 s)"]


def test_an_encrypted_pskc_file_needs_its_password_and_a_wrong_one_is_one_clear_error(store, planted):
    secret = planted.secret(secrets.token_bytes(20))
    data = _pskc([("JT-P1", secret), ("JT-P2", secrets.token_bytes(20))], password=planted.value("mot-de-passe"))
    with pytest.raises(PasswordNeeded):
        token_entries(data, "lot.pskc")
    with pytest.raises(ImportFileError) as wrong:
        token_entries(data, "lot.pskc", password=planted.value("pas-le-bon"))
    assert wrong.value.french.startswith("lot.pskc : impossible de déchiffrer le fichier PSKC")
    plan = import_plan.plan(store, token_entries(data, "lot.pskc", password="mot-de-passe"))
    assert [(r.serial, r.status, r.model, r.algo) for r in plan.rows] == [
        ("JT-P1", "add", "Jeton Pico", "sha1"), ("JT-P2", "add", "Jeton Pico", "sha1")]


def test_strict_apply_writes_nothing_when_a_serial_is_present(store, planted):
    from verifier import DuplicateSerial

    store.import_token("JT-OLD", secrets.token_bytes(20), now=T)
    entries = token_entries(_csv(f"JT-A1,{secrets.token_hex(20)},totp", f"JT-OLD,{secrets.token_hex(20)},totp"),
                            "lot.csv")
    with pytest.raises(DuplicateSerial):
        import_plan.apply(store, entries, source="lot.csv", strict=True)
    assert store.find_token("JT-A1") is None


def test_thousands_of_tokens_go_in_batches(store):
    """More records than one batch (CHUNK): every one is added, once, with its own sealed secret."""
    count = import_plan.CHUNK * 2 + 7
    secrets_by_serial = {f"JT-{n:05d}": secrets.token_bytes(20) for n in range(count)}
    data = _csv(*(f"{s},{v.hex()},totp" for s, v in secrets_by_serial.items()))
    done = import_plan.apply(store, token_entries(data, "grand.csv"), source="grand.csv")
    assert done.count("add") == count and len(store.list_tokens()) == count
    for serial in ("JT-00000", f"JT-{count - 1:05d}"):
        assert store.token_secret(serial) == secrets_by_serial[serial]
    plan = import_plan.plan(store, token_entries(data, "grand.csv"))
    assert plan.count("present") == count
