"""The health of the tokens in the console (issue 17): the fleet page's four lists and one token's drift chart,
as an administrator sees them (French, links to the token pages, an SVG drawn on the server with a text summary
and a table), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from tests.web.support import PIN, code_for
from verifier import health

DAY = 86400


def fast_clock_logins(world, days: int = 62, rate: float = 3.0) -> None:
    """jdupont logs in once a day with a token whose clock gains ``rate`` seconds a day (a clone DS3231); the
    application's clock ends on the last day."""
    verifier = world.app.extensions["jeton"].verifier
    world.activate("jdupont")
    start = world.clock.t
    for day in range(days):
        t = start + day * DAY
        assert verifier.authenticate("jdupont", PIN + code_for("jdupont", t + rate * day), now=t).outcome == "ACCEPT"
    world.clock.t = start + (days - 1) * DAY + 60


def a_fleet_in_need(world) -> None:
    fast_clock_logins(world)  # JT-0001: its clock leaves the window
    verifier = world.app.extensions["jeton"].verifier
    for i in range(3):  # JT-0002 (mmartin, never used since assigned 60 days ago): three wrong codes in a row
        assert verifier.authenticate("mmartin", "000000", now=world.clock.t + i).outcome == "REJECT"
    health.record_battery(world.store, "JT-0003", 2.05, actor="it", now=world.clock.t - DAY)


def cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", html, re.S)]


def test_the_fleet_page_lists_the_tokens_that_need_a_look(any_world):
    world, client = any_world, any_world.app.test_client()
    a_fleet_in_need(world)
    world.log_in(client, "adurand")
    page = client.get("/admin/sante")
    assert page.status_code == 200
    html = page.text
    for heading in ("Horloges qui sortiront de la fenêtre d'ici 90 jours (1)", "Clés inutilisées depuis 60 jours (2)",
                    "Clés aux échecs répétés (1)", "Piles faibles (1)"):
        assert heading in html
    found = cells(html)
    # the fast clock: 3 s a day, out of the window (45 s from the drift last learned) in about two weeks
    i = found.index("JT-0001")
    assert found[i + 1] == "jdupont" and re.fullmatch(r"\+(2,[6-9]|3,[0-4]) s/jour \(\+3\d,\d ppm\)", found[i + 2])
    assert re.fullmatch(r"\d\d/\d\d/2027", found[i + 3]) and found[i + 5] == "Dérive de JT-0001"
    i = found.index("JT-0002")
    assert found[i:i + 4] == ["JT-0002", "mmartin", "attribuée (nouveau PIN)", "jamais (attribuée le 15/01/2027)"]
    i = found.index("JT-0002", i + 1)
    assert found[i:i + 5] == ["JT-0002", "mmartin", "attribuée (nouveau PIN)", "3", "3"]
    assert found[-4:] == ["JT-0003", "adurand", "2,05 V", "16/03/2027"]
    # every row links to the token's page
    assert html.count('href="/admin/cles/JT-0001"') == 1 and html.count('href="/admin/cles/JT-0002"') == 2
    assert 'href="/admin/cles/JT-0003"' in html and 'href="/admin/sante/JT-0001"' in html


def test_an_empty_fleet_says_so(world, client):
    world.log_in(client, "adurand")
    html = client.get("/admin/sante").text
    assert html.count("Aucune clé.") == 4
    assert "Santé des clés" in client.get("/admin/").text


def test_a_tokens_chart_with_its_summary_and_table(any_world):
    world, client = any_world, any_world.app.test_client()
    fast_clock_logins(world)
    world.log_in(client, "adurand")
    page = client.get("/admin/sante/JT-0001")
    assert page.status_code == 200
    html = page.text
    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title id=\"courbe-titre-JT-0001\">Dérive de l'horloge de la clé JT-0001" in svg
    assert "<desc" in svg and "limite de la fenêtre" in svg and "aujourd'hui" in svg
    # one point a day (and one more at each change), all drawn; the table shows the latest 60
    assert svg.count("<circle") == 62 and "<summary>Les mesures (62)</summary>" in html and "(60 dernières)" in html
    assert len(re.findall(r"<td>(connexion|code suivant)</td>", html)) == 60
    assert "<script" not in html and "style=" not in html  # the CSP allows neither
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Clé JT-0001, active, utilisateur jdupont." in text
    assert re.search(r"Dérive apprise à la dernière connexion : \+[56] pas \(\+1[58]0 s\)\.", text)
    assert re.search(r"Vitesse mesurée : \+\d,\d s/jour \(\+\d\d,\d ppm\), sur \d+ mesures du 15/01/2027 au", text)
    assert "l'horloge sort de la fenêtre de vérification (±1 pas)" in text and "un administrateur devra" in text
    assert "Piles : aucune mesure" in text
    # the table: the latest first, in steps and seconds
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>", html)
    assert rows[0][1] in ("+5", "+6") and rows[-1][1:] == ("+0", "+0", "connexion")
    # the token's own page (the console's "Clés") draws the same chart under its facts, before its acts
    token_page = client.get("/admin/cles/JT-0001").text
    assert re.search(r"<svg .*?</svg>", token_page, re.S).group(0) == svg
    assert token_page.index('id="sante-JT-0001"') < token_page.index("<h2>Actions</h2>")


def test_a_token_without_measurements_and_an_unknown_one(world, client):
    world.log_in(client, "adurand")
    health.record_battery(world.store, "JT-0002", 2.91, actor="it", now=world.clock.t)
    html = client.get("/admin/sante/JT-0002").text
    assert "Aucune mesure : la dérive est relevée à chaque connexion acceptée." in html
    assert "Piles : 2,91 V le 15/01/2027 (bonnes)." in html and "<svg" not in html
    missing = client.get("/admin/sante/JT-9999")
    assert missing.status_code == 404 and "<svg" not in missing.text
    assert client.get("/admin/sante/%3Cscript%3E").status_code == 404


@pytest.mark.parametrize("login", ["jdupont", "mmartin"])
def test_teachers_see_no_health(world, client, login):
    world.log_in(client, login)
    for url in ("/admin/sante", "/admin/sante/JT-0001"):
        page = client.get(url)
        assert page.status_code == 403 and "JT-0001" not in page.text
