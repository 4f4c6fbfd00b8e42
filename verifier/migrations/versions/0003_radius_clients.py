"""RADIUS clients: the gateways allowed to ask jeton-radius, each with its shared secret sealed under the key ring.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "radius_clients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("network", sa.String(64), nullable=False, unique=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("secret_ct", sa.LargeBinary, nullable=False),
        sa.Column("legacy", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("radius_clients")
