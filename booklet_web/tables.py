"""The booklet's own tables (SQLAlchemy Core), beside the verifier's ``users`` table in the same database.

Schema changes go through the booklet's own Alembic tree (``booklet_web/migrations``, version table
``alembic_version_booklet``); these declarations are what the code reads and writes.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# The verifier owns this table; only the columns the booklet reads are declared here (never created by us).
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("login", sa.String),
    sa.Column("display_name", sa.String),
    sa.Column("role", sa.String),
)

lpc_competences = sa.Table(
    "lpc_competences",
    metadata,
    sa.Column("id", sa.String(8), primary_key=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
)

lpc_items = sa.Table(
    "lpc_items",
    metadata,
    sa.Column("id", sa.String(8), primary_key=True),
    sa.Column("competence_id", sa.String(8), sa.ForeignKey("lpc_competences.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("domain", sa.String(300), nullable=False),
    sa.Column("text", sa.String(500), nullable=False),
)

classes = sa.Table(
    "booklet_classes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=False, unique=True),
)

pupils = sa.Table(
    "booklet_pupils",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("booklet_classes.id"), nullable=False, index=True),
    sa.Column("ref", sa.String(40), nullable=False, unique=True),
    sa.Column("last_name", sa.String(100), nullable=False),
    sa.Column("first_name", sa.String(100), nullable=False),
)

teaching = sa.Table(
    "booklet_teaching",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("booklet_classes.id"), primary_key=True),
)

# One row per pupil and item: two teachers saving the same pupil at once touch different rows, or the
# same row through an insert that the unique key turns into "already recorded" (no lost update).
item_records = sa.Table(
    "booklet_item_records",
    metadata,
    sa.Column("pupil_id", sa.Integer, sa.ForeignKey("booklet_pupils.id"), primary_key=True),
    sa.Column("item_id", sa.String(8), sa.ForeignKey("lpc_items.id"), primary_key=True),
    sa.Column("recorded_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

# A validation stays as a row once cancelled (cancelled_by/at set): cancelling is an audited act.
validations = sa.Table(
    "booklet_validations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pupil_id", sa.Integer, sa.ForeignKey("booklet_pupils.id"), nullable=False),
    sa.Column("competence_id", sa.String(8), sa.ForeignKey("lpc_competences.id"), nullable=False),
    sa.Column("language", sa.String(40)),
    sa.Column("validated_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("cancelled_by", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("cancelled_at", sa.DateTime(timezone=True)),
    sa.Index(
        "uq_booklet_validation_active",
        "pupil_id",
        "competence_id",
        unique=True,
        sqlite_where=sa.text("cancelled_at IS NULL"),
        postgresql_where=sa.text("cancelled_at IS NULL"),
    ),
)

audit = sa.Table(
    "booklet_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("pupil_id", sa.Integer),
    sa.Column("target", sa.String(40)),
    sa.Column("detail", sa.String(300)),
)

BOOKLET_TABLES = [lpc_competences, lpc_items, classes, pupils, teaching, item_records, validations, audit]
