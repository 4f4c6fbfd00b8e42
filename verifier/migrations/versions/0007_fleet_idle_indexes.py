"""Indexes of the console's "unused for N days" filter (``verifier.fleet``): the time a token was last active (its
last accepted code, its assignment or its creation, whichever is latest) is an expression over three columns, which
only an expression index serves; alone, and after the state (the list's usual "active + unused" pair).

The expression must be written exactly as ``verifier.fleet`` writes it (SQLite's scalar ``max``, PostgreSQL's
``GREATEST``, the literal ``0``s inline), or the planners do not match it to the index.

On PostgreSQL with pg_trgm, the users' search gets one trigram index per column (``ix_users_login_trgm``,
``ix_users_name_trgm``) in place of 0006's two-column one: the planner costs a scan of that big index above a scan
of the whole table, and so never took it (a search of "0042" among 100,000 users: 245 ms by scan, 0.5 ms by these).

Self-contained (indexes only), so that its place in the chain can be changed by editing ``down_revision`` alone.

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


def upgrade() -> None:
    conn = op.get_bind()
    idle = IDLE_SINCE[conn.dialect.name]
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON tokens ({columns.format(idle=idle)})")
    if _trigram_search(conn):
        for name, column in USER_TRIGRAMS.items():
            op.execute(f"CREATE INDEX {name} ON users USING gin ({column})")
        op.execute("DROP INDEX ix_users_search_trgm")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql" and conn.execute(
            sa.text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_users_login_trgm'")).first():
        op.execute(OLD_USER_TRIGRAMS)
        for name in USER_TRIGRAMS:
            op.execute(f"DROP INDEX {name}")
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
