"""Indexes of the console's token and user lists (``verifier.fleet``): the state filter in serial order, the
role filter (and the count of administrators); on PostgreSQL, trigram indexes for the search
in serials, logins and names, when the pg_trgm extension can be had.

Self-contained (indexes only), so that its place in the chain can be changed by editing ``down_revision`` alone.

Revision ID: 0006
Revises: 0005 (the failures index is 0005's)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: PostgreSQL only: a search for "part of a serial, login or name" is a LIKE '%...%', which a B-tree cannot serve;
#: a trigram GIN index can (terms of 3 characters or more). Without pg_trgm the search still works, by a scan.
TRIGRAM_INDEXES = {
    "ix_tokens_serial_trgm": "CREATE INDEX ix_tokens_serial_trgm ON tokens USING gin (serial gin_trgm_ops)",
    "ix_users_search_trgm": "CREATE INDEX ix_users_search_trgm ON users USING gin "
                            "(lower(login) gin_trgm_ops, lower(display_name) gin_trgm_ops)",
}


def _trigrams(conn: sa.Connection) -> bool:
    """Make sure pg_trgm is there (a trusted extension since PostgreSQL 13: a database owner may create it);
    False, and nothing changed, when it is not installed on the server or may not be created."""
    if conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return True
    if not conn.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first():
        return False
    try:
        with conn.begin_nested():
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return False
    return True


def upgrade() -> None:
    op.create_index("ix_tokens_state_serial", "tokens", ["state", "serial"])
    op.create_index("ix_users_role", "users", ["role"])
    conn = op.get_bind()
    if conn.dialect.name == "postgresql" and _trigrams(conn):
        for statement in TRIGRAM_INDEXES.values():
            conn.execute(sa.text(statement))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_users_role", table_name="users")
    op.drop_index("ix_tokens_state_serial", table_name="tokens")
