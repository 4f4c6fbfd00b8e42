"""Indexes of the console's token and user lists (``verifier.fleet``): the state filter in serial order, the
failures filter, the role filter (and the count of administrators).

Self-contained (indexes only), so that its place in the chain can be changed by editing ``down_revision`` alone.

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tokens_state_serial", "tokens", ["state", "serial"])
    op.create_index("ix_tokens_fail_count", "tokens", ["fail_count"])
    op.create_index("ix_users_role", "users", ["role"])


def downgrade() -> None:
    op.drop_index("ix_users_role", table_name="users")
    op.drop_index("ix_tokens_fail_count", table_name="tokens")
    op.drop_index("ix_tokens_state_serial", table_name="tokens")
