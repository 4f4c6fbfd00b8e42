"""Token health: the drift history learned at accepted logins, and per token its running least-squares sums and
last battery reading; two indexes for the fleet's "repeated failures" (tokens by failure count, audit refusals).

Self-contained (two new tables and two indexes), so that its place in the chain can be changed by editing
``down_revision`` alone.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_points",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("token_id", sa.Integer, sa.ForeignKey("tokens.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("drift", sa.Integer, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_index("ix_drift_points_token_at", "drift_points", ["token_id", "at"])
    op.create_table(
        "token_health",
        sa.Column("token_id", sa.Integer, sa.ForeignKey("tokens.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("points", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_at", sa.Float),
        sa.Column("last_at", sa.Float),
        sa.Column("sum_t", sa.Float, nullable=False, server_default="0"),
        sa.Column("sum_x", sa.Float, nullable=False, server_default="0"),
        sa.Column("sum_tt", sa.Float, nullable=False, server_default="0"),
        sa.Column("sum_tx", sa.Float, nullable=False, server_default="0"),
        sa.Column("rate", sa.Float),
        sa.Column("battery_volts", sa.Float),
        sa.Column("battery_at", sa.Float),
    )
    op.create_index("ix_tokens_fail_count", "tokens", ["fail_count"])
    refusals = sa.text("outcome IN ('REJECT', 'LOCKED')")
    op.create_index("ix_audit_refusals", "audit", ["at", "serial"], sqlite_where=refusals, postgresql_where=refusals)


def downgrade() -> None:
    op.drop_index("ix_audit_refusals", "audit")
    op.drop_index("ix_tokens_fail_count", "tokens")
    op.drop_table("token_health")
    op.drop_table("drift_points")
