"""Web sessions as rows, throttling counters, and the count of locks in a row (timed lockout that grows).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("lock_count", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "sessions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("address", sa.String(100)),
        sa.Column("agent", sa.String(200)),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_index("ix_sessions_last_seen", "sessions", ["last_seen"])
    op.create_table(
        "throttle",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_at", sa.Float, nullable=False),
    )
    op.create_index("ix_throttle_last_at", "throttle", ["last_at"])


def downgrade() -> None:
    op.drop_table("throttle")
    op.drop_table("sessions")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("lock_count")
