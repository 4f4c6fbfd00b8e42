"""The token store: schema, key ring, users, the token lifecycle the provisioner and the booklet rely on."""

from __future__ import annotations

import os
import secrets
import stat

import pytest
import sqlalchemy as sa

from tests.support import throwaway_postgres_database
from tests.verifier.helpers import assigned_token, ready_token
from verifier import (
    AlreadyAssigned,
    DuplicateLogin,
    DuplicateSerial,
    InvalidInput,
    InvalidState,
    KeyRingError,
    NoKeysError,
    ResyncError,
    SchemaError,
    TokenNotFound,
    UserNotFound,
    db,
    init_store,
    insert_user,
    open_store,
)
from verifier.keyring import KeyRing, load_keyring
from verifier.schema import VERSION_TABLE, tokens


def test_init_creates_the_schema_and_a_private_key_ring(db_url, keys_file):
    store, created, (before, after) = init_store(db_url, keys_file)
    assert created and after == db.head_revision()
    if db_url.startswith("sqlite"):  # the PostgreSQL test database is migrated once per session
        assert before is None
    assert stat.S_IMODE(os.stat(keys_file).st_mode) == 0o600
    with store.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    assert {"users", "tokens", "tickets", "audit", VERSION_TABLE} <= names
    store.close()
    # a second init keeps the key ring and finds the schema up to date
    again, created, (before, after) = init_store(db_url, keys_file)
    assert not created and before == after and again.ring.primary == store.ring.primary
    again.close()


def test_migrations_run_on_a_fresh_postgresql_database_and_back(postgres_base_url, tmp_path):
    with throwaway_postgres_database(postgres_base_url) as url:
        engine = db.make_engine(url.render_as_string(hide_password=False))
        assert db.current_revision(engine) is None
        db.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
        engine.dispose()


def test_a_postgresql_url_uses_psycopg_3():
    assert db.normalise_url("postgresql://u@h/d").drivername == "postgresql+psycopg"
    assert db.normalise_url("var/x.db").drivername == "sqlite"
    with pytest.raises(db.ConfigurationError):
        db.normalise_url("mysql://u@h/d")


def test_refuses_to_start_without_keys(db_url, keys_file, monkeypatch):
    init_store(db_url, keys_file)[0].close()
    monkeypatch.delenv("JETON_KEYS_FILE", raising=False)
    with pytest.raises(NoKeysError, match="--keys FILE or set JETON_KEYS_FILE"):
        open_store(db_url, None)
    with pytest.raises(KeyRingError, match="does not exist"):
        open_store(db_url, keys_file.with_name("missing.json"))
    monkeypatch.setenv("JETON_KEYS_FILE", str(keys_file))
    open_store(db_url).close()


def test_refuses_a_database_without_the_schema(tmp_path, keys_file):
    init_store(f"sqlite:///{tmp_path / 'a.db'}", keys_file)[0].close()
    with pytest.raises(SchemaError, match="jeton-admin init"):
        open_store(f"sqlite:///{tmp_path / 'empty.db'}", keys_file)


def test_key_file_readable_by_others_or_malformed_is_refused(tmp_path):
    path = tmp_path / "keys.json"
    KeyRing.generate().save(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyRingError, match="chmod 600"):
        load_keyring(path)
    os.chmod(path, 0o600)
    path.write_text('{"format": "something else"}')
    with pytest.raises(KeyRingError, match="not a Jeton key ring"):
        load_keyring(path)


def test_sealed_secrets_are_bound_to_their_serial_and_key():
    ring = KeyRing.generate()
    secret = secrets.token_bytes(20)
    key_id, blob = ring.seal("JT-A", secret)
    assert ring.open("JT-A", key_id, blob) == secret
    with pytest.raises(KeyRingError):  # the same ciphertext on another token's row does not decrypt
        ring.open("JT-B", key_id, blob)
    other = KeyRing.generate()
    with pytest.raises(KeyRingError, match="no key"):
        other.open("JT-A", key_id, blob)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(KeyRingError, match="does not decrypt"):
        ring.open("JT-A", key_id, tampered)
    assert secret.hex() not in repr(ring) and "keys" not in repr(ring).replace("key_ids", "")


def test_users_and_roles(store):
    store.add_user("mdupont", "Marie Dupont")
    store.add_user("chef", "Paul Chef", "admin")
    with pytest.raises(DuplicateLogin):
        store.add_user("mdupont")
    for bad in ("", "4829123456", "a b", "x" * 65):
        with pytest.raises(InvalidInput):
            store.add_user(bad)
    with pytest.raises(InvalidInput):
        store.add_user("jdoe", role="root")
    assert store.set_role("mdupont", "admin").role == "admin"
    assert [(u.login, u.role) for u in store.list_users()] == [("chef", "admin"), ("mdupont", "admin")]
    with pytest.raises(UserNotFound):
        store.set_role("ghost", "teacher")
    assert store.audit(login="mdupont", action="user.update")[0].detail == "role=admin"


def test_insert_user_belongs_to_the_callers_transaction(store):
    """Users created inside a larger transaction (the booklet's roster) exist only if that transaction commits."""
    with pytest.raises(RuntimeError), store.transaction() as conn:
        assert insert_user(conn, "mdupont", "Marie Dupont", actor="roster").login == "mdupont"
        insert_user(conn, "chef", "Paul Chef", "admin", actor="roster")
        raise RuntimeError("a later line of the import failed")
    assert store.list_users() == [] and store.audit(action="user.add") == []
    with store.transaction() as conn:
        made = insert_user(conn, "mdupont", "Marie Dupont", actor="roster", now=123.0)
    assert store.get_user("mdupont") == made and made.created_at == 123.0
    [entry] = store.audit(action="user.add")
    assert (entry.login, entry.actor, entry.detail) == ("mdupont", "roster", "role=teacher")


def test_insert_user_refuses_before_writing_and_leaves_the_transaction_usable(store):
    store.add_user("mdupont")
    with store.transaction() as conn:
        for call in (lambda: insert_user(conn, "mdupont"), lambda: insert_user(conn, "4829123456"),
                     lambda: insert_user(conn, "jdoe", role="root")):
            with pytest.raises((DuplicateLogin, InvalidInput)):
                call()
        insert_user(conn, "jdoe")  # the transaction goes on (on PostgreSQL too: no statement failed)
    assert [u.login for u in store.list_users()] == ["jdoe", "mdupont"]
    assert [e.login for e in store.audit(action="user.add")] == ["jdoe", "mdupont"]


def test_two_phase_seeding_records(store, planted):
    secret = planted.secret(secrets.token_bytes(32))
    token = store.create_pending_token("JT-0A", secret, algo="sha256", model="pico-tm1637", firmware="1.2.0",
                                       operator="it-staff")
    assert (token.state, token.algo, token.model, token.firmware, token.operator) == (
        "pending", "sha256", "pico-tm1637", "1.2.0", "it-staff")
    assert store.token_secret("JT-0A", purpose="check") == secret
    with pytest.raises(DuplicateSerial):
        store.create_pending_token("JT-0A", secrets.token_bytes(20))
    ready = store.mark_ready("JT-0A", provisioned_at=1_800_000_000.0, clock_offset=-1.5)
    assert (ready.state, ready.provisioned_at, ready.clock_offset) == ("ready", 1_800_000_000.0, -1.5)
    with pytest.raises(InvalidState):
        store.mark_ready("JT-0A")
    store.create_pending_token("JT-0B", secrets.token_bytes(20))
    failed = store.mark_failed("JT-0B", "device unplugged during SEED")
    assert (failed.state, failed.state_reason) == ("failed", "device unplugged during SEED")
    with pytest.raises(InvalidState):
        store.token_secret("JT-0B")
    # a failed record's serial can be seeded again, on purpose only
    with pytest.raises(DuplicateSerial):
        store.create_pending_token("JT-0B", secrets.token_bytes(20))
    assert store.create_pending_token("JT-0B", secrets.token_bytes(20), reuse=True).state == "pending"
    with pytest.raises(TokenNotFound):
        store.mark_ready("JT-NONE")
    assert store.find_token("JT-NONE") is None
    for bad in ("jt-lower", "", "X" * 17, "JT 1"):
        with pytest.raises(InvalidInput):
            store.create_pending_token(bad, secrets.token_bytes(20))
    with pytest.raises(InvalidInput):
        store.create_pending_token("JT-0C", secrets.token_bytes(8))
    assert [e.action for e in store.audit(serial="JT-0A")][::-1] == ["token.create", "token.secret_read",
                                                                     "token.ready"]


def test_serial_uniqueness_is_the_database_s(store):
    store.create_pending_token("JT-0A", secrets.token_bytes(20))
    row = {c.name: None for c in tokens.c} | {
        "serial": "JT-0A", "key_id": "k", "secret_ct": b"x", "state": "pending", "algo": "sha1", "digits": 6,
        "period": 30, "created_at": 0.0, "kind": "hardware", "drift": 0, "fail_count": 0, "version": 0}
    del row["id"]
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(tokens.insert().values(**row))


def test_retire_destroys_the_secret_and_the_pin(store, planted):
    ready_token(store, "JT-0A", planted=planted)
    store.add_user("mdupont")
    store.assign("JT-0A", "mdupont")
    retired = store.retire_token("JT-0A", "wiped")
    assert (retired.state, retired.login, retired.has_pin) == ("retired", None, False)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(tokens.c.secret_ct).where(tokens.c.serial == "JT-0A")).scalar() == b""
    with pytest.raises(InvalidState):
        store.assign("JT-0A", "mdupont")


def test_assign_refuses_a_token_someone_holds(store, planted):
    assigned_token(store, "JT-0A", "mdupont", planted=planted)
    store.add_user("lmartin")
    with pytest.raises(AlreadyAssigned, match="unassign it first"):
        store.assign("JT-0A", "lmartin")
    store.create_pending_token("JT-0B", secrets.token_bytes(20))
    with pytest.raises(InvalidState, match="pending"):
        store.assign("JT-0B", "lmartin")
    with pytest.raises(UserNotFound):
        store.assign("JT-0A", "ghost")
    assert store.get_token("JT-0A").login == "mdupont"


def test_software_token_for_a_login(store, planted):
    store.add_user("mdupont")
    token, secret = store.create_software_token("mdupont", algo="sha256")
    planted.secret(secret)
    assert (token.kind, token.state, token.login, len(secret)) == ("software", "assigned", "mdupont", 32)
    assert token.serial.startswith("SW-")
    from verifier.otp import otpauth_uri

    uri = otpauth_uri(secret, serial=token.serial, login="mdupont", algo="sha256", digits=6, period=30)
    assert uri.startswith("otpauth://totp/") and "algorithm=SHA256" in uri
    with pytest.raises(UserNotFound):
        store.create_software_token("ghost")


def test_disable_and_listing(store, planted):
    assigned_token(store, "JT-0A", "mdupont", planted=planted)
    ready_token(store, "JT-0B", planted=planted)
    store.disable("JT-0A", "volée")
    assert [(t.serial, t.state, t.login) for t in store.list_tokens()] == [
        ("JT-0A", "disabled", "mdupont"), ("JT-0B", "ready", None)]
    assert [t.serial for t in store.list_tokens(state="ready")] == ["JT-0B"]
    assert [t.serial for t in store.list_tokens(login="mdupont")] == ["JT-0A"]
    assert store.unassign("JT-0A").state == "ready"


def test_resync_with_two_consecutive_codes(store, planted):
    codes = assigned_token(store, "JT-0A", "mdupont", planted=planted)
    now = 1_800_000_000.0
    step = codes.step_of(now) + 37  # a token whose clock runs 37 steps (18.5 min) fast
    token = store.resync("JT-0A", codes.code(step), codes.code(step + 1), now=now)
    assert (token.drift, token.last_step, token.fail_count) == (38, step + 1, 0)
    with pytest.raises(ResyncError):
        store.resync("JT-0A", codes.code(step + 2), codes.code(step + 4), now=now)
    with pytest.raises(ResyncError):  # codes already used cannot resync again
        store.resync("JT-0A", codes.code(step), codes.code(step + 1), now=now)


def test_audit_filters(store):
    store.add_user("a1", now=100.0)
    store.add_user("b2", now=200.0)
    store.add_user("c3", now=300.0)
    assert [e.login for e in store.audit(action="user.", since=150, until=300)] == ["b2"]
    assert [e.login for e in store.audit(login="c3")] == ["c3"]
    assert len(store.audit(action="user.add", limit=2)) == 2
    store.record("booklet.role", actor="web:chef", login="a1", detail="role=admin")
    assert store.audit(action="booklet.")[0].actor == "web:chef"
