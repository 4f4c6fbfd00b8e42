"""Verifier fixtures: a store on SQLite or PostgreSQL (every store test runs on both), planted-secret scans."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tests.support import Planted
from tests.verifier.helpers import PIN, assigned_token, first_use
from verifier import init_store
from verifier.schema import audit
from verifier.verification import Verifier

T0 = 1_800_000_000.0  # a step boundary (30 s and 60 s)


@pytest.fixture(autouse=True)
def _logs_never_hold_planted_values(planted, caplog):
    """Every log record written during a verifier test is scanned for the test's planted values."""
    caplog.set_level(logging.DEBUG, logger="verifier")
    yield
    planted.assert_not_in_logs(caplog)


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


@pytest.fixture
def verifier(store):
    return Verifier(store)


@pytest.fixture
def teacher(store, verifier, planted):
    """mdupont holds JT-A with PIN 4829 set through the first-use steps; returns (codes, time after login)."""
    codes = assigned_token(store, "JT-A", "mdupont", planted=planted)
    planted.value(PIN)
    return codes, first_use(verifier, "mdupont", codes, PIN, T0)
