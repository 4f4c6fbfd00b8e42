"""The booklet's first tables: referential, classes, pupils, teaching, item records, validations, audit.

Revision ID: b0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lpc_competences",
        sa.Column("id", sa.String(8), primary_key=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
    )
    op.create_table(
        "lpc_items",
        sa.Column("id", sa.String(8), primary_key=True),
        sa.Column("competence_id", sa.String(8), sa.ForeignKey("lpc_competences.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("domain", sa.String(300), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
    )
    op.create_table(
        "booklet_classes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
    )
    op.create_table(
        "booklet_pupils",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("booklet_classes.id"), nullable=False, index=True),
        sa.Column("ref", sa.String(40), nullable=False, unique=True),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
    )
    op.create_table(
        "booklet_teaching",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("booklet_classes.id"), primary_key=True),
    )
    op.create_table(
        "booklet_item_records",
        sa.Column("pupil_id", sa.Integer, sa.ForeignKey("booklet_pupils.id"), primary_key=True),
        sa.Column("item_id", sa.String(8), sa.ForeignKey("lpc_items.id"), primary_key=True),
        sa.Column("recorded_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "booklet_validations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pupil_id", sa.Integer, sa.ForeignKey("booklet_pupils.id"), nullable=False),
        sa.Column("competence_id", sa.String(8), sa.ForeignKey("lpc_competences.id"), nullable=False),
        sa.Column("language", sa.String(40)),
        sa.Column("validated_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "uq_booklet_validation_active",
        "booklet_validations",
        ["pupil_id", "competence_id"],
        unique=True,
        sqlite_where=sa.text("cancelled_at IS NULL"),
        postgresql_where=sa.text("cancelled_at IS NULL"),
    )
    op.create_table(
        "booklet_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("pupil_id", sa.Integer),
        sa.Column("target", sa.String(40)),
        sa.Column("detail", sa.String(300)),
    )


def downgrade() -> None:
    op.drop_table("booklet_audit")
    op.drop_index("uq_booklet_validation_active", table_name="booklet_validations")
    for name in ("booklet_validations", "booklet_item_records", "booklet_teaching", "booklet_pupils",
                 "booklet_classes", "lpc_items", "lpc_competences"):
        op.drop_table(name)
