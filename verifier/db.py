"""Database engines and schema migrations: an SQLite file by default (WAL), PostgreSQL by URL."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url

from verifier.errors import ConfigurationError, SchemaError
from verifier.private_files import private_sqlite_file
from verifier.schema import VERSION_TABLE

if TYPE_CHECKING:
    from verifier.keyring import KeyRing
    from verifier.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: the embedded database when no URL is given (and JETON_DB_URL is unset), relative to the working directory
DEFAULT_SQLITE_PATH = Path("var") / "jeton.db"


def default_url() -> str:
    """``JETON_DB_URL`` when set, else the embedded SQLite file ``var/jeton.db``."""
    return os.environ.get("JETON_DB_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def normalise_url(url: str | URL | None) -> URL:
    """Parse a database URL; ``postgresql://`` means the psycopg 3 driver; a bare path means an SQLite file."""
    if url is None:
        url = default_url()
    if isinstance(url, str) and "://" not in url:
        url = f"sqlite:///{url}"
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigurationError("the database URL is not valid (e.g. sqlite:///var/jeton.db or "
                                 "postgresql://user@host/db)",
                                 french="adresse de base de données invalide (par exemple sqlite:///var/jeton.db "
                                        "ou postgresql://utilisateur@serveur/base)") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigurationError(f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL",
                                 french=f"base de données {parsed.get_backend_name()!r} non prise en charge : "
                                        "SQLite ou PostgreSQL")
    return parsed


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str | URL | None = None, *, autocommit: bool = False) -> sa.Engine:
    """An engine for the store: SQLite gets WAL, a 30 s busy timeout and foreign keys; PostgreSQL gets psycopg 3.

    ``autocommit=True`` (PostgreSQL only): every statement commits on its own, with no BEGIN/COMMIT round trips;
    only for reads and for writes that are one statement (the verifier's compare-and-set with its audit row).
    """
    parsed = normalise_url(url)
    if autocommit:
        if parsed.get_backend_name() != "postgresql":
            raise ConfigurationError("an autocommit engine is for PostgreSQL only")
        return sa.create_engine(parsed, pool_size=5, max_overflow=5, isolation_level="AUTOCOMMIT",
                                skip_autocommit_rollback=True)
    if parsed.get_backend_name() == "sqlite":
        private_sqlite_file(parsed.database)  # 0600 before SQLite opens it, so its -wal and -shm are too
        engine = sa.create_engine(parsed, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(parsed, pool_size=5, max_overflow=5)


def _config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this copy of the verifier."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    """The migration the database is at, or None for a database without the verifier's tables."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()  # noqa: S608


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest migration: (revision before, revision after)."""
    before = current_revision(engine)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "head")
    return before, head_revision()


def check_schema(engine: sa.Engine) -> None:
    """Refuse a database that is not at this copy's newest migration, saying what to run."""
    try:
        current = current_revision(engine)
    except sa.exc.OperationalError as exc:
        name = exc.orig.__class__.__name__
        raise ConfigurationError(f"cannot reach the database ({name})",
                                 french=f"base de données inaccessible ({name})") from None
    head = head_revision()
    if current is None:
        raise SchemaError("the database has no Jeton tables yet: run `jeton-admin init`",
                          french="la base n'a pas encore les tables de Jeton : lancez `jeton-admin init`")
    if current != head:
        raise SchemaError(f"the database schema is at {current}, this verifier needs {head}: run `jeton-admin init`",
                          french=f"le schéma de la base est à {current}, il faut {head} : lancez `jeton-admin init`")


class StoreHandle(Protocol):
    """What the store's helpers (``verifier.import_plan``, ``verifier.rotation``) use of a ``verifier.Store``: its
    engine, key ring (which a rotation replaces), settings and transactions. A protocol, so that they need not
    import the store that calls them."""

    engine: sa.Engine
    ring: KeyRing
    settings: Settings

    def transaction(self) -> AbstractContextManager[sa.Connection]: ...
