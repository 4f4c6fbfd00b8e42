"""The first tables: users, tokens, tickets, audit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("login", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("role", sa.String(16), nullable=False, server_default="teacher"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.CheckConstraint("role IN ('teacher', 'admin')", name="ck_users_role"),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("serial", sa.String(16), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False, server_default="hardware"),
        sa.Column("algo", sa.String(8), nullable=False),
        sa.Column("digits", sa.Integer, nullable=False),
        sa.Column("period", sa.Integer, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("secret_ct", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("model", sa.String(64)),
        sa.Column("firmware", sa.String(64)),
        sa.Column("operator", sa.String(64)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("provisioned_at", sa.Float),
        sa.Column("clock_offset", sa.Float),
        sa.Column("state_reason", sa.String(200)),
        sa.Column("assigned_at", sa.Float),
        sa.Column("pin_hash", sa.String(200)),
        sa.Column("drift", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_step", sa.BigInteger),
        sa.Column("fail_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_at", sa.Float),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.Float),
        sa.CheckConstraint(
            "state IN ('pending', 'ready', 'assigned', 'active', 'locked', 'disabled', 'retired', 'failed')",
            name="ck_tokens_state",
        ),
    )
    op.create_index("ix_tokens_user_id", "tokens", ["user_id"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("token_id", sa.Integer, sa.ForeignKey("tokens.id", ondelete="CASCADE"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float),
    )
    op.create_index("ix_tickets_token_id", "tickets", ["token_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("login", sa.String(64)),
        sa.Column("serial", sa.String(16)),
        sa.Column("source", sa.String(100)),
        sa.Column("detail", sa.String(500)),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_login", "audit", ["login"])
    op.create_index("ix_audit_serial", "audit", ["serial"])


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_table("tickets")
    op.drop_table("tokens")
    op.drop_table("users")
