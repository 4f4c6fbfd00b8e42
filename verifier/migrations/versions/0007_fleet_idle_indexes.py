"""Indexes of the console's "unused for N days" filter (``verifier.fleet``): the time a token was last active (its
last accepted code, its assignment or its creation, whichever is latest) is an expression over three columns, which
only an expression index serves; alone, and after the state (the list's usual "active + unused" pair).

The expression must be written exactly as ``verifier.fleet`` writes it (SQLite's scalar ``max``, PostgreSQL's
``GREATEST``, the literal ``0``s inline), or the planners do not match it to the index.

On PostgreSQL with pg_trgm, the users' search gets one trigram index per column (``ix_users_login_trgm``,
``ix_users_name_trgm``) in place of 0006's two-column one: the planner costs a scan of that big index above a scan
of the whole table, and so never took it (a search of "0042" among 100,000 users: 245 ms by scan, 0.5 ms by these).

On SQLite (with FTS5, 3.34 or later), the users' search gets a trigram full-text index, ``users_search``: an FTS5
table over ``users`` (external content: it stores only the index), kept by three triggers; a search of 3
characters or more is a look-up there instead of a LIKE over every user.

Self-contained (indexes and that index table), so that its place in the chain can be changed by editing
``down_revision`` alone.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: a token's last activity, per dialect (see verifier.fleet._idle_since)
IDLE_SINCE = {
    "sqlite": "max(coalesce(last_step * period, 0), coalesce(assigned_at, 0), created_at)",
    "postgresql": "GREATEST(COALESCE(last_step * period, 0), COALESCE(assigned_at, 0), created_at)",
}
INDEXES = {"ix_tokens_idle_since": "{idle}", "ix_tokens_state_idle_since": "state, {idle}"}
#: PostgreSQL with pg_trgm (installed by 0006 when it could be): the users' search, a column an index
USER_TRIGRAMS = {"ix_users_login_trgm": "lower(login) gin_trgm_ops", "ix_users_name_trgm": "lower(display_name) "
                 "gin_trgm_ops"}
OLD_USER_TRIGRAMS = ("CREATE INDEX ix_users_search_trgm ON users USING gin "
                     "(lower(login) gin_trgm_ops, lower(display_name) gin_trgm_ops)")


def _trigram_search(conn: sa.Connection) -> bool:
    """0006 made its trigram index of users (pg_trgm was there)."""
    return conn.dialect.name == "postgresql" and conn.execute(
        sa.text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_users_search_trgm'")).first() is not None


#: SQLite: the users' trigram index (verifier.fleet._contains reads it) and the triggers that keep it
USERS_SEARCH = (
    "CREATE VIRTUAL TABLE users_search USING fts5(login, display_name, content='users', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN "
    "INSERT INTO users_search (rowid, login, display_name) VALUES (new.id, new.login, new.display_name); END",
    "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN "
    "INSERT INTO users_search (users_search, rowid, login, display_name) "
    "VALUES ('delete', old.id, old.login, old.display_name); END",
    "CREATE TRIGGER users_search_update AFTER UPDATE OF login, display_name ON users BEGIN "
    "INSERT INTO users_search (users_search, rowid, login, display_name) "
    "VALUES ('delete', old.id, old.login, old.display_name); "
    "INSERT INTO users_search (rowid, login, display_name) VALUES (new.id, new.login, new.display_name); END",
    "INSERT INTO users_search (users_search) VALUES ('rebuild')",
)


def _users_search(conn: sa.Connection) -> None:
    """The trigram index of users on SQLite; nothing when this SQLite has no FTS5 or no trigram tokenizer (the
    search then scans, as before)."""
    try:
        with conn.begin_nested():
            for statement in USERS_SEARCH:
                conn.execute(sa.text(statement))
    except sa.exc.OperationalError:
        pass


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        _users_search(conn)
    idle = IDLE_SINCE[conn.dialect.name]
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON tokens ({columns.format(idle=idle)})")
    if _trigram_search(conn):
        for name, column in USER_TRIGRAMS.items():
            op.execute(f"CREATE INDEX {name} ON users USING gin ({column})")
        op.execute("DROP INDEX ix_users_search_trgm")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for trigger in ("users_search_insert", "users_search_delete", "users_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS users_search")
    if conn.dialect.name == "postgresql" and conn.execute(
            sa.text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_users_login_trgm'")).first():
        op.execute(OLD_USER_TRIGRAMS)
        for name in USER_TRIGRAMS:
            op.execute(f"DROP INDEX {name}")
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
