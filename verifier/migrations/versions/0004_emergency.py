"""Emergency access for a lost or forgotten token: a temporary code, hashed, time-limited, counted uses.

Self-contained (one new table, nothing else touched), so that its place in the chain can be changed by editing
``down_revision`` alone.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emergency",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_id", sa.Integer, sa.ForeignKey("tokens.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code_hash", sa.String(200), nullable=False),
        sa.Column("issued_at", sa.Float, nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("uses_left", sa.Integer, nullable=False),
        sa.Column("fail_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ended_at", sa.Float),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_emergency_user_id", "emergency", ["user_id"])


def downgrade() -> None:
    op.drop_table("emergency")
