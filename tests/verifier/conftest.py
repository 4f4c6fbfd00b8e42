"""Verifier fixtures: a store on SQLite or PostgreSQL (every store test runs on both), planted-secret scans."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tests.support import Planted, throwaway_postgres_database
from verifier import db, init_store
from verifier.schema import audit

T0 = 1_800_000_000.0  # a step boundary (30 s and 60 s)


@pytest.fixture
def planted() -> Planted:
    return Planted()


@pytest.fixture(autouse=True)
def _logs_never_hold_planted_values(planted, caplog):
    """Every log record written during a verifier test is scanned for the test's planted values."""
    caplog.set_level(logging.DEBUG, logger="verifier")
    yield
    planted.assert_not_in_logs(caplog)


@pytest.fixture(scope="session")
def _pg_verifier_url(postgres_base_url):
    """One throwaway PostgreSQL database for the verifier tests, migrated once; emptied before each test."""
    with throwaway_postgres_database(postgres_base_url) as url:
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url.render_as_string(hide_password=False)


def _truncate(url: str) -> None:
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE tickets, emergency, tokens, users, audit, sessions, throttle "
                             "RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """The URL of an empty, migrated store database: an SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jeton.db'}"
    url = request.getfixturevalue("_pg_verifier_url")
    _truncate(url)
    return url


@pytest.fixture
def keys_file(tmp_path):
    return tmp_path / "keys.json"


def assert_audit_clean(engine: sa.Engine, planted: Planted) -> None:
    """No audit row holds any of the planted secrets, PINs or codes."""
    planted.assert_not_in_rows(engine, audit)


@pytest.fixture
def store(db_url, keys_file, planted):
    """An initialised store; at the end, its audit rows are scanned for the test's planted values."""
    st, _created, _revs = init_store(db_url, keys_file)
    yield st
    try:
        assert_audit_clean(st.engine, planted)
    finally:
        st.close()
