"""No lost update: two teachers saving the same pupil at the same moment both keep their records (records are
per pupil and item), on SQLite and on PostgreSQL, through concurrent requests on separate connections."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from booklet_web.tables import item_records
from tests.web.support import csrf_token


def concurrent_saves(world, jobs):
    """Each job (login, items, retirable) saves at the same instant for the same pupil; returns the statuses."""
    pupil = world.pupil_ids("3A")[0]
    klass = world.class_id("3A")
    prepared = []
    for login, items, retirable in jobs:
        client = world.app.test_client()
        world.log_in(client, login)
        page = client.get(f"/livret?classe={klass}&eleve={pupil}&competence=C1")
        prepared.append((client, {"csrf_token": csrf_token(page.text), "classe": klass, "eleve": pupil,
                                  "competence": "C1", "item": items, "retirable": retirable}))
    barrier = threading.Barrier(len(prepared))
    statuses = [None] * len(prepared)

    def run(i, client, data):
        barrier.wait()
        statuses[i] = client.post("/livret/enregistrer", data=data).status_code

    threads = [threading.Thread(target=run, args=(i, c, d)) for i, (c, d) in enumerate(prepared)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return pupil, statuses


def recorded(world, pupil):
    with world.app.extensions["jeton"].db.engine.connect() as conn:
        return {r.item_id: r.recorded_by for r in conn.execute(
            sa.select(item_records).where(item_records.c.pupil_id == pupil))}


def test_two_teachers_saving_the_same_pupil_at_once_both_keep_their_records(any_world):
    w = any_world
    for round_ in range(5):
        a_items = [f"C1.{k}" for k in range(1, 8)]
        b_items = [f"C1.{k}" for k in range(5, 14)]  # C1.5-C1.7 overlap: one record each, no error
        pupil, statuses = concurrent_saves(w, [("jdupont", a_items, []), ("mmartin", b_items, [])])
        assert statuses == [302, 302], round_
        rec = recorded(w, pupil)
        assert set(rec) == {f"C1.{k}" for k in range(1, 14)}
        assert {rec[f"C1.{k}"] for k in range(1, 5)} == {w.users["jdupont"]}
        assert {rec[f"C1.{k}"] for k in range(8, 14)} == {w.users["mmartin"]}
        # each withdraws what they recorded alone, at once: the other's records stay
        mine_a = [f"C1.{k}" for k in range(1, 5)]
        pupil, statuses = concurrent_saves(w, [("jdupont", [], mine_a),
                                               ("mmartin", [f"C1.{k}" for k in range(5, 8)],
                                                [f"C1.{k}" for k in range(8, 14)])])
        assert statuses == [302, 302]
        assert set(recorded(w, pupil)) == {f"C1.{k}" for k in range(5, 8)}
        with w.app.extensions["jeton"].db.writer.begin() as conn:
            conn.execute(item_records.delete())


def test_many_teachers_adding_at_once(any_world):
    w = any_world
    jobs = [("jdupont", [f"C1.{k}"], []) for k in range(1, 5)] + [("mmartin", [f"C1.{k}"], []) for k in range(5, 9)]
    pupil, statuses = concurrent_saves(w, jobs)
    assert statuses == [302] * 8
    assert set(recorded(w, pupil)) == {f"C1.{k}" for k in range(1, 9)}
