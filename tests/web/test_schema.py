"""The booklet's own Alembic tree beside the verifier's: separate version tables, foreign keys to users.id."""

from __future__ import annotations

import sqlalchemy as sa

from booklet_web.schema import VERSION_TABLE, current_revision


def test_two_alembic_trees_in_one_database(world):
    engine = world.app.extensions["jeton"].db.engine
    assert VERSION_TABLE == "alembic_version_booklet"
    assert current_revision(engine) == "b0001"
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names())
    assert {"users", "tokens", "alembic_version_booklet", "booklet_item_records", "lpc_items"} <= tables
    assert any(t != VERSION_TABLE and "version" in t for t in tables)  # the verifier keeps its own
    fks = {(fk["referred_table"], tuple(fk["referred_columns"]))
           for fk in inspector.get_foreign_keys("booklet_item_records")}
    assert ("users", ("id",)) in fks and ("lpc_items", ("id",)) in fks


def test_an_unknown_item_cannot_be_recorded_even_bypassing_the_app(world):
    from booklet_web.tables import item_records

    engine = world.app.extensions["jeton"].db.writer
    pupil = world.pupil_ids("3A")[0]
    try:
        with engine.begin() as conn:
            conn.execute(item_records.insert().values(pupil_id=pupil, item_id="C9.1",
                                                      recorded_by=world.users["jdupont"],
                                                      recorded_at=sa.func.current_timestamp()))
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("the foreign key to lpc_items did not refuse C9.1")
