"""Fixtures of the booklet tests: a real verifier store and booklet schema on SQLite (or PostgreSQL), a
school imported from the sample roster, tokens with known secrets, the app with a clock the test moves."""

from __future__ import annotations

import pytest

from tests.web.support import World, build_world


@pytest.fixture
def world(tmp_path) -> World:
    """A school on a fresh SQLite file: the sample roster, one token per user, the clock at T0."""
    w = build_world(f"sqlite:///{tmp_path / 'jeton.db'}", tmp_path / "keys.json")
    yield w
    w.close()


@pytest.fixture
def app(world):
    return world.app


@pytest.fixture
def client(app):
    return app.test_client()
