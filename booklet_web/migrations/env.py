"""Alembic environment of the booklet's own tree (version table ``alembic_version_booklet``)."""

from __future__ import annotations

from alembic import context

from booklet_web.schema import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
