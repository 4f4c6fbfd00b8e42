"""The palier 3 referential: the shipped data file and its loading into the database."""

from __future__ import annotations

import sqlalchemy as sa

from booklet_web.referential import load_referential
from booklet_web.schema import load_referential_into, upgrade
from booklet_web.tables import lpc_competences, lpc_items


def test_counts_match_the_arrete_of_14_june_2010():
    ref = load_referential()
    assert len(ref.competences) == 7
    assert sum(len(c.domains) for c in ref.competences) == 26
    assert len(ref.items) == 98
    assert [len(c.items) for c in ref.competences] == [13, 16, 14, 17, 16, 11, 11]
    assert [len(c.domains) for c in ref.competences] == [3, 5, 4, 5, 4, 2, 3]


def test_ids_are_stable_and_numbered_within_each_competence():
    ref = load_referential()
    for comp in ref.competences:
        assert [i.id for i in comp.items] == [f"{comp.id}.{k}" for k in range(1, len(comp.items) + 1)]


def test_sample_texts():
    ref = load_referential()
    assert ref.competence("C2").title == "La pratique d'une langue vivante étrangère (niveau A2)"
    assert ref.item("C1.1").text == ("Adapter son mode de lecture à la nature du texte proposé et à l'objectif "
                                     "poursuivi")
    assert ref.item("C3.7").text.startswith("Géométrie : connaître et représenter des figures géométriques")
    assert ref.item("C4.15").text == "Écrire, envoyer, diffuser, publier"
    assert ref.item("C7.7").text == "Savoir nager"
    assert ref.item("C7.11").domain_title == "Faire preuve d'initiative"
    assert ref.competence("C6").domains[1].title == "Avoir un comportement responsable"
    assert ref.item("C7.12") is None and ref.competence("C8") is None


def test_loading_twice_into_the_database_keeps_98_items(sqlite_engine):
    with sqlite_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
    upgrade(sqlite_engine)
    assert load_referential_into(sqlite_engine) == (7, 98)
    assert load_referential_into(sqlite_engine) == (7, 98)
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(lpc_items)).scalar() == 98
        assert conn.execute(sa.select(sa.func.count()).select_from(lpc_competences)).scalar() == 7
        text = conn.execute(sa.select(lpc_items.c.text).where(lpc_items.c.id == "C7.7")).scalar()
    assert text == "Savoir nager"
