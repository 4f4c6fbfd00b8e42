"""The audit in words (issue 17, item 4): French labels, local time (Europe/Paris, a setting) with UTC on hover,
filters, and a CSV export whose cells no spreadsheet runs."""

from __future__ import annotations

import csv
import io
import re

from tests.web.support import PIN, code_for, csrf_token
from verifier import Settings
from verifier.audit_words import to_csv, words


def web_login(world, login: str, passcode: str):
    client = world.app.test_client()
    page = client.get("/connexion/")
    return client.post("/connexion/", data={"csrf_token": csrf_token(page.text), "identifiant": login,
                                            "passcode": passcode})


def rows_of(page: str) -> list[list[str]]:
    body = page.split('id="journal-connexions">')[1].split("</table>")[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr><td>(.*?)</tr>", body, re.S) for row in ["<td>" + row]]


def test_the_journal_speaks_french_in_paris_time_with_utc_on_hover(any_world):
    world = any_world
    world.activate("jdupont")
    passcode = PIN + code_for("jdupont", world.clock.t)
    assert web_login(world, "jdupont", passcode).status_code == 302
    assert web_login(world, "jdupont", passcode).status_code == 401  # the same code again
    world.store.disable("JT-0002", "perdue", actor="adurand", now=world.clock.t)
    admin = world.app.test_client()
    world.log_in(admin, "adurand")
    page = admin.get("/admin/journal-connexions").text
    said = [(r[1], r[2]) for r in rows_of(page)]
    assert said[:3] == [("clé désactivée", "désactivée"), ("connexion", "refusé : code déjà utilisé"),
                        ("connexion", "accepté")]
    assert ("PIN choisi", "fait") in said and ("connexion", "nouveau PIN demandé") in said
    assert '<time datetime="2027-01-15T08:00:35+00:00" title="2027-01-15T08:00:35+00:00 (UTC)">15/01/2027 09:00:35' \
           "</time>" in page
    assert "Heures de Europe/Paris ; survolez une heure pour la voir en UTC." in page
    assert "ACCEPT" not in page.split('id="journal-connexions">')[1]


def test_the_time_zone_is_a_setting(tmp_path):
    from tests.web.support import build_world

    world = build_world(f"sqlite:///{tmp_path / 'jeton.db'}", tmp_path / "keys.json",
                        app_config={"JETON_SETTINGS": Settings(timezone="America/Montreal")})
    try:
        world.activate("jdupont")
        admin = world.app.test_client()
        world.log_in(admin, "adurand")
        page = admin.get("/admin/journal-connexions").text
        assert ">15/01/2027 03:00:05</time>" in page and "Heures de America/Montreal" in page
    finally:
        world.close()


def test_filters_by_user_kind_result_and_dates(world, client):
    world.activate("jdupont")
    web_login(world, "jdupont", "7391" + code_for("jdupont", world.clock.t))
    web_login(world, "mmartin", PIN + "000000")
    world.store.lock("JT-0003", actor="test", now=world.clock.t)
    world.log_in(client, "adurand")

    def shown(**query):
        return rows_of(client.get("/admin/journal-connexions", query_string=query).text)

    mine = shown(identifiant="jdupont", type="connexions", resultat="refusés")
    assert [(r[2], r[3]) for r in mine] == [("refusé : PIN erroné", "jdupont")]
    assert {r[1] for r in shown(type="clés")} >= {"clé bloquée", "clé affectée", "clé importée"}
    assert {r[4] for r in shown(cle="JT-0003")} == {"JT-0003"}
    assert shown(resultat="acceptés") == []  # nobody got in: the first login asked for a new PIN
    that_day = shown(du="2027-01-15", au="2027-01-15")
    assert that_day and all(r[0].startswith("15/01/2027") for r in that_day)
    assert shown(du="2027-01-16") == []
    assert all(not r[0].startswith("15/01/2027") for r in shown(au="2027-01-14"))  # the roster, imported today
    page = client.get("/admin/journal-connexions", query_string={"du": "15/01/2027"})
    assert page.status_code == 200 and "Date invalide" in page.text


def test_the_csv_export_is_filtered_in_words_and_runs_no_formula(world, client):
    world.store.record("session.end", actor='=HYPERLINK("http://evil.example","x")', login="jdupont",
                       source="+33 1 23", detail="@SUM(A1)")
    web_login(world, "jdupont", PIN + "000000")
    world.log_in(client, "adurand")
    page = client.get("/admin/journal-connexions", query_string={"identifiant": "jdupont"}).text
    link = re.search(r'<a href="([^"]+)">Exporter en CSV</a>', page).group(1)
    answer = client.get(link.replace("&amp;", "&"))
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert 'filename="journal-connexions.csv"' in answer.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(answer.text)))
    assert table[0] == ["date (Europe/Paris)", "date (UTC)", "action", "résultat", "par", "identifiant", "clé",
                        "adresse", "détail"]
    assert {row[5] for row in table[1:]} == {"jdupont"}
    evil = next(row for row in table[1:] if row[2] == "session fermée")
    assert evil[4].startswith("'=") and evil[7].startswith("'+") and evil[8].startswith("'@")
    assert any(row[3] == "refusé : passcode mal formé" for row in table[1:])  # no PIN yet: the code alone


def test_words_for_throttling_emergency_and_next_code(world):
    from verifier.audit import AuditEntry

    def entry(action, outcome, detail):
        return AuditEntry(1, 0.0, "verifier", action, outcome, "x", None, None, detail)

    assert words(entry("auth", "THROTTLED", "wait=4s")).outcome == "refusé : trop de tentatives, attente 4 s"
    assert words(entry("auth", "ACCEPT", "emergency; uses_left=0")).outcome == "accepté (accès de secours)"
    assert words(entry("auth", "NEXT_CODE_REQUIRED", "after 3 failures")).outcome == \
        "code suivant demandé (après 3 échecs)"
    assert words(entry("auth", "REJECT", "reason=unknown user or no token")).outcome == \
        "refusé : identifiant inconnu ou sans clé"
    assert words(entry("emergency.issue", "ok", "until=...")).action == "accès de secours délivré"
    assert to_csv([], "Europe/Paris").startswith("date (Europe/Paris),date (UTC),")
