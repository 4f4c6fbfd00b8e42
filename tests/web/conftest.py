"""Fixtures of the booklet tests: a real verifier store and booklet schema on SQLite (or PostgreSQL), a
school imported from the sample roster, tokens with known secrets, the app with a clock the test moves."""

from __future__ import annotations

import logging
import threading

import pytest
from flask.testing import FlaskClient

from booklet_web.tables import audit as booklet_audit
from tests.support import Planted, throwaway_postgres_database
from tests.web.support import PIN, SECRETS, T0, World, build_world, code_for
from verifier.schema import audit as verifier_audit

TYPED_FIELDS = ("passcode", "pin", "confirm", "code")
"""Form fields where a user types a PIN, a code or both: every value posted to them is planted."""


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


@pytest.fixture
def server(world, port):
    """The world's application on a real HTTP server (for the browser tests): its base URL."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", port, world.app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()
    thread.join(5)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_world(request, tmp_path) -> World:
    """The same school on an SQLite file, then on a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        w = build_world(f"sqlite:///{tmp_path / 'jeton.db'}", tmp_path / "keys.json")
        yield w
        w.close()
        return
    base = request.getfixturevalue("postgres_base_url")
    with throwaway_postgres_database(base) as url:
        w = build_world(url.render_as_string(hide_password=False), tmp_path / "keys.json")
        yield w
        w.close()


@pytest.fixture
def no_leaks(world, caplog) -> Planted:
    """During the test, everything the app logs (Flask, werkzeug, booklet, verifier loggers at DEBUG) is captured;
    at the end, those records and every row of the verifier's audit and the booklet's audit table are scanned for
    the tokens' secrets (raw, hex, base32), the PIN, the tokens' codes around the test's clock, and every PIN, code
    or passcode posted through the app's test clients."""
    planted = Planted()
    for login, secret in SECRETS.items():
        planted.secret(secret)
        for step in range(-5, 40):
            planted.value(code_for(login, T0 + 30 * step))
    planted.value(PIN)

    class TypingClient(FlaskClient):
        def open(self, *args, **kwargs):
            data = kwargs.get("data")
            for name, value in (data.items() if isinstance(data, dict) else ()):
                if name in TYPED_FIELDS and isinstance(value, str) and len(value) >= 4:  # shorter: not distinctive
                    planted.value(value)
                    if value.isdigit() and len(value) > 6:
                        planted.value(value[-6:])  # the code typed after a PIN
            return super().open(*args, **kwargs)

    world.app.test_client_class = TypingClient
    for name in ("werkzeug", "flask", world.app.logger.name, "booklet_web", "verifier"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield planted
    planted.assert_not_in_logs(caplog)
    planted.assert_not_in_rows(world.store.engine, verifier_audit, booklet_audit)
