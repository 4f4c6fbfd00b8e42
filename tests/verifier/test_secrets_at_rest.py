"""A stolen database holds no token secret and no PIN: the raw SQLite file (and its WAL) and a full dump are
searched for every secret in raw, hex and base32 form, and for the PINs."""

from __future__ import annotations

import re
import sqlite3
import subprocess

import pytest
from sqlalchemy.engine import make_url

from tests.verifier.conftest import T0
from tests.verifier.helpers import assigned_token, first_use
from verifier.verification import Verifier

PINS = ["739582", "28461", "5173"]


def _fill(store, planted) -> None:
    verifier = Verifier(store)
    for number, pin in enumerate(PINS):
        codes = assigned_token(store, f"JT-S{number}", f"user{number}", planted=planted)
        now = first_use(verifier, f"user{number}", codes, planted.value(pin), T0 + 1000 * number)
        step = codes.step_of(now) + 1
        verifier.authenticate(f"user{number}", "0000" + codes.code(step), step * 30)  # a failure, audited
    software, secret = store.create_software_token("user0", algo="sha256")
    planted.secret(secret)
    store.token_secret(software.serial)
    store.rotate_key()  # old and new ciphertexts alike must hide the secrets


def _leaks(planted, data: bytes | str) -> list[str]:
    """The planted values found in ``data``. A secret counts wherever it stands; a PIN (digits only) only standing
    alone: ciphertexts in hex, hashes and real-time timestamps hold short digit runs, so a 4-digit PIN turned up
    inside them by chance in about one run in thirty, while a stored PIN is a value of its own."""
    found = []
    for needle in sorted(n for n in planted.needles if n):
        if isinstance(data, bytes):
            needle_in = needle.encode("latin-1")
            alone = rb"(?<![0-9A-Za-z])" + re.escape(needle_in) + rb"(?![0-9A-Za-z])"
        else:
            needle_in, alone = needle, r"(?<![0-9A-Za-z])" + re.escape(needle) + r"(?![0-9A-Za-z])"
        hit = re.search(alone, data) if needle.isdigit() else needle_in in data
        if hit:
            found.append(needle)
    return found


def test_sqlite_file_wal_and_dump_hold_no_secret_and_no_pin(tmp_path, keys_file, planted):
    from verifier import init_store

    path = tmp_path / "stolen.db"
    store = init_store(f"sqlite:///{path}", keys_file)[0]
    _fill(store, planted)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("stolen.db*"))  # the file, its -wal and -shm
    store.close()
    raw += path.read_bytes()
    conn = sqlite3.connect(path)
    dump = "\n".join(conn.iterdump())
    conn.close()
    assert "INSERT INTO \"tokens\"" in dump and len(raw) > 10_000  # the scan reads real content
    assert not _leaks(planted, raw), "secret or PIN in the raw database file"
    assert not _leaks(planted, dump), "secret or PIN in the SQL dump"


@pytest.mark.postgres
def test_postgresql_dump_holds_no_secret_and_no_pin(postgres_base_url, keys_file, planted):
    from tests.support import throwaway_postgres_database
    from verifier import init_store

    with throwaway_postgres_database(postgres_base_url) as url:
        rendered = url.render_as_string(hide_password=False)
        store = init_store(rendered, keys_file)[0]
        _fill(store, planted)
        store.close()
        plain = make_url(rendered).set(drivername="postgresql").render_as_string(hide_password=False)
        dump = subprocess.run(["pg_dump", "--no-owner", plain], capture_output=True, text=True, check=True).stdout
    assert "COPY public.tokens" in dump and "\\\\x" in dump  # bytea ciphertexts, hex-encoded by the dump
    assert not _leaks(planted, dump), "secret or PIN in the PostgreSQL dump"
