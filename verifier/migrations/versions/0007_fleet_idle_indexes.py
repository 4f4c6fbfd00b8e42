"""Indexes of the console's "unused for N days" filter (``verifier.fleet``): the time a token was last active (its
last accepted code, its assignment or its creation, whichever is latest) is an expression over three columns, which
only an expression index serves; alone, and after the state (the list's usual "active + unused" pair).

The expression must be written exactly as ``verifier.fleet`` writes it (SQLite's scalar ``max``, PostgreSQL's
``GREATEST``, the literal ``0``s inline), or the planners do not match it to the index.

Self-contained (indexes only), so that its place in the chain can be changed by editing ``down_revision`` alone.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

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


def upgrade() -> None:
    idle = IDLE_SINCE[op.get_bind().dialect.name]
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON tokens ({columns.format(idle=idle)})")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
