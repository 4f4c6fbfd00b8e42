"""Without JETON_TEST_POSTGRES_URL the tests start their own PostgreSQL: check that path, even where CI sets it."""

from __future__ import annotations

import sqlalchemy as sa

from tests.support import postgres_server_binaries, postgres_url, require, throwaway_postgres_server


def test_a_throwaway_postgresql_server_starts_answers_and_is_gone_afterwards():
    require(postgres_server_binaries() is not None, "the PostgreSQL server binaries (`make interop-tools`)")
    with throwaway_postgres_server() as url:
        engine = sa.create_engine(postgres_url(url))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW listen_addresses")).scalar_one() == "127.0.0.1"
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
        engine.dispose()
    engine = sa.create_engine(postgres_url(url), connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            raise AssertionError("the throwaway server still answers")
    except sa.exc.OperationalError:
        pass
    finally:
        engine.dispose()
