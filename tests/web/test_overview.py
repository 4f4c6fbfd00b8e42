"""The class overview (issue 16): on the class page, each pupil's items acquired out of each compétence's items and
the compétences validated, from records and validations made through the real "Enregistrer" and "Administrer" /
"Annuler" forms, on SQLite and PostgreSQL; counted in a fixed number of queries, whatever the class's size."""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa

from tests.web.support import csrf_token
from tests.web.test_livret import livret_url, save

HEADERS = ["Élève", "C1", "C2", "C3", "C4", "C5", "C6", "C7"]
EMPTY = ["0/13", "0/16", "0/14", "0/17", "0/16", "0/11", "0/11"]


def overview_rows(html: str) -> tuple[list[str], dict[str, list[str]]]:
    """The overview table as the teacher reads it: its column headers, and per pupil the text of each cell."""
    table = re.search(r'<section class="apercu".*?</section>', html, re.S).group(0)

    def text(cell: str) -> str:
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).replace("\u2714", "").split())

    headers = [text(h) for h in re.findall(r"<th scope=\"col\">(.*?)</th>", table, re.S)]
    rows = {}
    for row in re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", table, re.S):
        name, _, rest = row.partition("</th>")
        rows[text(name)] = [text(c) for c in re.findall(r"<td>(.*?)</td>", rest, re.S)]
    return headers, rows


def administer(client, world, pupil_id, competence, action, **extra):
    page = client.get(livret_url(world, "3A", [pupil_id], competence))
    data = {"csrf_token": csrf_token(page.text), "classe": world.class_id("3A"), "eleve": pupil_id,
            "competence": competence, "action": action, **extra}
    return client.post("/livret/competence", data=data)


def test_the_overview_counts_what_teachers_saved_and_what_the_head_validated(any_world):
    world = any_world
    teacher, head = world.app.test_client(), world.app.test_client()
    world.log_in(teacher, "jdupont")
    world.log_in(head, "adurand")
    lea, emma, hugo = world.pupil_ids("3A")[:3]  # Bernard Léa, Moreau Emma, Petit Hugo
    assert save(teacher, world, "3A", [lea], "C1", items=["C1.1", "C1.2", "C1.5"]).status_code == 302
    assert save(teacher, world, "3A", [lea, emma], "C4", tout=True).status_code == 302  # all 17, for both
    assert save(head, world, "3A", [emma], "C1", items=["C1.13"]).status_code == 302
    # withdrawn by its author: no longer counted
    assert save(teacher, world, "3A", [lea], "C1", items=["C1.1", "C1.2"], retirable=["C1.5"]).status_code == 302
    assert administer(head, world, lea, "C4", "administrer").status_code == 302
    assert administer(head, world, hugo, "C2", "administrer", langue="anglais").status_code == 302
    assert administer(head, world, hugo, "C2", "annuler", confirme="oui").status_code == 302  # cancelled

    page = teacher.get(f"/classe/{world.class_id('3A')}")
    assert page.status_code == 200
    assert "Où en est la classe" in page.text
    headers, rows = overview_rows(page.text)
    assert headers == HEADERS
    assert list(rows) == ["Bernard Léa", "Moreau Emma", "Petit Hugo", "Richard Lucas", "Robert Chloé",
                          "Simon Nathan"]
    assert rows["Bernard Léa"] == ["2/13", "0/16", "0/14", "17/17 validée", "0/16", "0/11", "0/11"]
    assert rows["Moreau Emma"] == ["1/13", "0/16", "0/14", "17/17", "0/16", "0/11", "0/11"]
    assert rows["Petit Hugo"] == EMPTY  # C2 validated then cancelled
    assert all(rows[name] == EMPTY for name in ("Richard Lucas", "Robert Chloé", "Simon Nathan"))


def test_the_overview_names_the_competences_and_links_each_pupil_to_his_livret(world, client):
    world.log_in(client, "jdupont")
    class_id = world.class_id("3A")
    page = client.get(f"/classe/{class_id}").text
    assert '<abbr title="Compétence 1 : ' in page
    assert "<caption>Classe 3A : items acquis par compétence</caption>" in page
    lea = world.pupil_ids("3A")[0]
    link = re.search(r'<a href="([^"]+)">Bernard Léa</a>', page).group(1)
    livret = client.get(unescape(link))
    assert livret.status_code == 200
    assert "Bernard Léa" in livret.text and "Compétence 1 — " in livret.text
    assert unescape(link) == livret_url(world, "3A", [lea], "C1")


def test_another_class_is_not_in_the_overview(world, client):
    world.log_in(client, "mmartin")
    laurent = world.pupil_ids("3B")[0]
    assert save(client, world, "3B", [laurent], "C1", items=["C1.1"]).status_code == 302
    _, rows_a = overview_rows(client.get(f"/classe/{world.class_id('3A')}").text)
    _, rows_b = overview_rows(client.get(f"/classe/{world.class_id('3B')}").text)
    assert "Laurent Inès" not in rows_a and len(rows_a) == 6
    assert rows_b["Laurent Inès"][0] == "1/13" and len(rows_b) == 3


def test_the_overview_takes_the_same_queries_for_a_class_of_three_or_of_six(world, client):
    """Aggregate queries for the whole class, never one per pupil."""
    world.log_in(client, "adurand")
    engine = world.app.extensions["jeton"].db.engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        sizes = {}
        for name in ("3A", "3B"):
            client.get(f"/classe/{world.class_id(name)}")  # warm: the session's first use may differ
            statements.clear()
            assert client.get(f"/classe/{world.class_id(name)}").status_code == 200
            sizes[name] = len(statements)
            assert sum("booklet_item_records" in s for s in statements) == 1
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(world.pupil_ids("3A")) == 6 and len(world.pupil_ids("3B")) == 3
    assert sizes["3A"] == sizes["3B"]
