"""Engines on the shared database: one for reads, one whose transactions take the write lock at once.

On SQLite a transaction that reads and then writes would fail with "database is locked" when another
process wrote in between; ``BEGIN IMMEDIATE`` makes writers queue instead (busy timeout). PostgreSQL needs
nothing of the kind: there both names are the same engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from verifier.private_files import private_sqlite_file


def normalise_url(url: str) -> sa.URL:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy's bare name would mean psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


@dataclass
class Database:
    """The engine for reads and the engine for read-then-write transactions."""

    engine: sa.Engine
    writer: sa.Engine

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str) -> Database:
    """Engines on ``url`` (an SQLite file or PostgreSQL)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = sa.create_engine(parsed, pool_pre_ping=True)
        return Database(engine, engine)
    private_sqlite_file(parsed.database)  # 0600 before SQLite opens it, so its -wal and -shm are too
    engine = sa.create_engine(parsed, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event below emit BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("immediate") else "BEGIN")

    return Database(engine, engine.execution_options(immediate=True))
