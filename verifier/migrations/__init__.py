"""Alembic migrations of the token store (run by `jeton-admin init` or `verifier.db.upgrade`)."""
