"""Alembic environment: runs on the connection handed over by ``verifier.db.upgrade``."""

from __future__ import annotations

from alembic import context

from verifier.schema import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
