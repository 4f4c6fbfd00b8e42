"""Create or upgrade the booklet's tables (its own Alembic tree) and load the referential into them."""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from booklet_web.referential import Referential, load_referential
from booklet_web.tables import lpc_competences, lpc_items

VERSION_TABLE = "alembic_version_booklet"


def _alembic_config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("booklet_web").joinpath("migrations")))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the booklet's tables to ``revision`` (the verifier's ``users`` table must exist first)."""
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)


def current_revision(engine: sa.Engine) -> str | None:
    """The booklet schema revision recorded in the database, or None before the first upgrade."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def load_referential_into(engine: sa.Engine, ref: Referential | None = None) -> tuple[int, int]:
    """Insert or update the referential's compétences and items; returns (compétences, items) written."""
    ref = ref or load_referential()
    with engine.begin() as conn:
        have_c = {r.id for r in conn.execute(sa.select(lpc_competences.c.id))}
        have_i = {r.id for r in conn.execute(sa.select(lpc_items.c.id))}
        for comp in ref.competences:
            values = {"number": comp.number, "title": comp.title}
            if comp.id in have_c:
                conn.execute(lpc_competences.update().where(lpc_competences.c.id == comp.id).values(**values))
            else:
                conn.execute(lpc_competences.insert().values(id=comp.id, **values))
        for item in ref.items:
            values = {"competence_id": item.competence_id, "number": item.number,
                      "domain": item.domain_title, "text": item.text}
            if item.id in have_i:
                conn.execute(lpc_items.update().where(lpc_items.c.id == item.id).values(**values))
            else:
                conn.execute(lpc_items.insert().values(id=item.id, **values))
    return len(ref.competences), len(ref.items)
