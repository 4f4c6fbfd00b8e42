"""No lost work on the livret (issue 16), seen through the test client: Enregistrer by the page's script answers
JSON and records each star once however often it is sent; a session that ended answers 401 and the login leads
back to the same livret, through the first-login steps too, never to another site; "Rester connecté" moves the
idle end while reading the page does not; the first login's step 4 tells a teacher who retypes the code that
chose her PIN to wait for the next one."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from booklet_web.tables import audit as booklet_audit
from booklet_web.tables import item_records
from tests.web.support import PIN, code_for, csrf_token
from verifier.schema import sessions

JSON = {"Accept": "application/json"}


def login_form(client, login, passcode, query=""):
    page = client.get("/connexion/" + query)
    return client.post("/connexion/", data={"csrf_token": csrf_token(page.text), "identifiant": login,
                                            "passcode": passcode})


def livret_url(world, pupils, competence="C1"):
    return f"/livret?classe={world.class_id('3A')}" + "".join(f"&eleve={p}" for p in pupils) + \
        f"&competence={competence}"


def save_form(world, client, pupils, items):
    page = client.get(livret_url(world, pupils))
    assert page.status_code == 200
    return page, {"csrf_token": csrf_token(page.text), "classe": world.class_id("3A"), "eleve": pupils,
                  "competence": "C1", "item": items}


def recorded(world, pupils, item):
    with world.store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(item_records).where(
            item_records.c.pupil_id.in_(pupils), item_records.c.item_id == item)).scalar_one()


def audit_rows(world, action):
    with world.store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(booklet_audit)
                            .where(booklet_audit.c.action == action)).scalar_one()


def age_sessions(world, seconds):
    """Every session as if it had been idle for ``seconds`` (the server's clock stays where it is)."""
    with world.store.engine.begin() as conn:
        conn.execute(sessions.update().values(last_seen=sessions.c.last_seen - seconds,
                                              created_at=sessions.c.created_at - seconds))


def test_saving_twice_records_each_star_once(any_world):
    world = any_world
    client = world.app.test_client()
    world.activate("jdupont")
    login_form(client, "jdupont", PIN + code_for("jdupont", world.clock.t))
    pupils = world.pupil_ids("3A")[:2]
    _page, data = save_form(world, client, pupils, ["C1.1", "C1.3"])
    first = client.post("/livret/enregistrer", data=data, headers=JSON)
    assert first.status_code == 200 and first.json["enregistre"] and first.json["ajoutes"] == 4
    assert first.json["suite"] == livret_url(world, pupils)
    again = client.post("/livret/enregistrer", data=data, headers=JSON)  # the same changes sent again
    assert again.status_code == 200 and again.json["ajoutes"] == 0
    assert recorded(world, pupils, "C1.1") == 2 and recorded(world, pupils, "C1.3") == 2
    assert audit_rows(world, "items-recorded") == 1  # the second send recorded nothing, so no second row
    # the page the script then shows carries the server's messages
    page = client.get(first.json["suite"])
    assert "Enregistré : 4 item(s) renseigné(s)." in page.text
    assert "Enregistré : 0 item(s) renseigné(s)." in page.text


def test_without_javascript_the_form_still_posts_and_redirects(world, client):
    world.log_in(client, "jdupont")
    pupils = world.pupil_ids("3A")[:1]
    _page, data = save_form(world, client, pupils, ["C1.2"])
    answer = client.post("/livret/enregistrer", data=data)
    assert answer.status_code == 302 and answer.headers["Location"] == livret_url(world, pupils)
    assert recorded(world, pupils, "C1.2") == 1


def test_an_ended_session_answers_401_and_the_login_leads_back_to_the_same_livret(world, client):
    world.activate("jdupont")
    login_form(client, "jdupont", PIN + code_for("jdupont", world.clock.t))
    pupils = world.pupil_ids("3A")[:1]
    _page, data = save_form(world, client, pupils, ["C1.2"])
    age_sessions(world, 31 * 60)  # idle longer than 30 minutes
    answer = client.post("/livret/enregistrer", data=data, headers=JSON)
    assert answer.status_code == 401 and answer.json["connexion"] == "/connexion/"
    assert "Votre session a expiré" in answer.json["message"]
    assert recorded(world, pupils, "C1.2") == 0
    world.clock.step()
    url = livret_url(world, pupils)
    back = login_form(client, "jdupont", PIN + code_for("jdupont", world.clock.t),
                      "?suite=" + re.sub("&", "%26", url))
    assert back.status_code == 302 and back.headers["Location"] == url
    assert client.post("/livret/enregistrer", data=data | {"csrf_token": csrf_token(client.get(url).text)},
                       headers=JSON).json["ajoutes"] == 1


def test_opening_a_livret_after_the_session_ended_comes_back_to_it_through_the_first_login_steps(world, client):
    world.log_in(client, "jdupont")
    url = livret_url(world, world.pupil_ids("3A")[:2], "C3")
    age_sessions(world, 9 * 3600)  # past the 8 h lifetime
    assert client.get(url).headers["Location"] == "/connexion/"
    # first login: the code alone, the new PIN, then PIN + the next code
    login_form(client, "jdupont", code_for("jdupont", world.clock.t))
    page = client.get("/connexion/nouveau-pin")
    client.post("/connexion/nouveau-pin", data={"csrf_token": csrf_token(page.text), "pin": PIN, "confirm": PIN})
    world.clock.step()
    page = client.get("/connexion/passcode")
    done = client.post("/connexion/passcode", data={"csrf_token": csrf_token(page.text),
                                                    "passcode": PIN + code_for("jdupont", world.clock.t)})
    assert done.status_code == 302 and done.headers["Location"] == url


@pytest.mark.parametrize("suite", [
    "https://exemple.invalid/livret?classe=1", "//exemple.invalid/livret?classe=1", "/\\exemple.invalid/",
    "/livret?classe=1\r\nLocation: https://exemple.invalid", "javascript:alert(1)", "/admin/cles",
    "/connexion/deconnexion", "livret?classe=1", "/%2F%2Fexemple.invalid", "https:/livret?classe=1",
])
def test_the_login_never_leads_to_another_site_or_page(world, client, suite):
    world.activate("jdupont")
    answer = login_form(client, "jdupont", PIN + code_for("jdupont", world.clock.t), "?suite=" + suite)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_a_booklet_path_is_where_the_login_leads(world, client):
    world.activate("jdupont")
    pupil = world.pupil_ids("3A")[0]
    answer = login_form(client, "jdupont", PIN + code_for("jdupont", world.clock.t), f"?suite=/eleve/{pupil}/livret")
    assert answer.headers["Location"] == f"/eleve/{pupil}/livret"


def seconds_left_on_page(client, url) -> int:
    return int(re.search(r'data-restant="(\d+)"', client.get(url).text).group(1))


def test_the_page_tells_the_idle_end_and_rester_connecte_moves_it(world, client):
    world.activate("jdupont")
    login_form(client, "jdupont", PIN + code_for("jdupont", world.clock.t))
    url = livret_url(world, world.pupil_ids("3A")[:1])
    assert seconds_left_on_page(client, url) == 1800
    world.clock.t += 30
    token = csrf_token(client.get(url).text)
    assert seconds_left_on_page(client, url) == 1770  # within a minute a page writes nothing: it tells the truth
    world.clock.t += 28 * 60  # the page's script warns now
    stay = client.post("/connexion/rester", data={"csrf_token": token}, headers=JSON)
    assert stay.status_code == 200 and stay.json == {"connecte": True, "restant": 1800}
    with world.store.engine.connect() as conn:
        assert conn.execute(sa.select(sessions.c.last_seen)).scalar_one() == world.clock.t
    world.clock.t += 20 * 60  # 48.5 minutes after the last page, 20 after "Rester connecté": still logged in
    assert client.get(url).status_code == 200
    world.clock.t += 31 * 60  # idle too long: the session has ended
    assert client.get(url).status_code == 302


def test_rester_connecte_needs_its_token_and_a_session(world, client):
    world.log_in(client, "jdupont")
    assert client.post("/connexion/rester", data={}, headers=JSON).status_code == 400
    anonymous = world.app.test_client()
    answer = anonymous.post("/connexion/rester", data={"csrf_token": "x"}, headers=JSON)
    assert answer.status_code == 401 and "Votre session a expiré" in answer.json["message"]


def first_steps(world, client):
    """Steps 2 and 3 of the first login: the code alone, then the new PIN twice; the code typed at step 2."""
    first = code_for("jdupont", world.clock.t)
    login_form(client, "jdupont", first)
    page = client.get("/connexion/nouveau-pin")
    client.post("/connexion/nouveau-pin", data={"csrf_token": csrf_token(page.text), "pin": PIN, "confirm": PIN})
    return first


def test_the_pin_with_the_code_that_chose_it_says_wait_for_the_next_code(world, client):
    first = first_steps(world, client)
    page = client.get("/connexion/passcode")
    again = client.post("/connexion/passcode", data={"csrf_token": csrf_token(page.text), "passcode": PIN + first})
    assert again.status_code == 401
    assert 'role="alert">Attendez que le code de votre clé change, puis saisissez votre PASSCODE</p>' in again.text
    assert "authentification a échoué." not in again.text
    # a wrong code is the generic failure; then the next code logs in
    wrong = client.post("/connexion/passcode", data={"csrf_token": csrf_token(page.text), "passcode": PIN + "000000"})
    assert "authentification a échoué." in wrong.text
    world.clock.step()
    done = client.post("/connexion/passcode", data={"csrf_token": csrf_token(page.text),
                                                    "passcode": PIN + code_for("jdupont", world.clock.t)})
    assert done.status_code == 302 and done.headers["Location"] == "/"


def test_a_stranger_replaying_that_code_learns_nothing(world, client):
    first = first_steps(world, client)
    stranger = world.app.test_client()
    answer = login_form(stranger, "jdupont", PIN + first)
    assert answer.status_code == 401 and "authentification a échoué." in answer.text
    assert "Attendez que le code" not in answer.text


def test_a_forged_token_on_the_scripts_save_changes_nothing_and_says_why(world, client):
    world.log_in(client, "jdupont")
    pupils = world.pupil_ids("3A")[:1]
    _page, data = save_form(world, client, pupils, ["C1.2"])
    answer = client.post("/livret/enregistrer", data=data | {"csrf_token": "forged"}, headers=JSON)
    assert answer.status_code == 400 and "Le formulaire a expiré" in answer.json["message"]
    assert recorded(world, pupils, "C1.2") == 0 and audit_rows(world, "items-recorded") == 0
