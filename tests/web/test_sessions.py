"""Server-side sessions seen from the browser and the database (issue 12, item 1): a new id at login and after the
new PIN, a table that neither opens nor reads a session, rows dated in the future refused, and the pages where a
teacher ends her other sessions and an administrator ends anyone's."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.web.support import PIN, code_for, csrf_token
from verifier.cli import main as jeton_admin
from verifier.schema import sessions


def cookie(client) -> str | None:
    found = client.get_cookie("jeton_session")
    return found.value if found else None


def login_form(client, login, passcode):
    page = client.get("/connexion/")
    return client.post("/connexion/", data={"csrf_token": csrf_token(page.text), "identifiant": login,
                                            "passcode": passcode})


def test_the_id_changes_at_login_and_after_the_new_pin(world, client):
    login_form(client, "jdupont", code_for("jdupont", world.clock.t))  # step 2: the code alone
    before_pin = cookie(client)
    page = client.get("/connexion/nouveau-pin")
    client.post("/connexion/nouveau-pin", data={"csrf_token": csrf_token(page.text), "pin": PIN, "confirm": PIN})
    after_pin = cookie(client)
    assert before_pin and after_pin and after_pin != before_pin
    world.clock.step()
    page = client.get("/connexion/passcode")
    client.post("/connexion/passcode", data={"csrf_token": csrf_token(page.text),
                                             "passcode": PIN + code_for("jdupont", world.clock.t)})
    logged_in = cookie(client)
    assert logged_in not in (before_pin, after_pin)
    assert client.get("/").status_code == 200
    # whoever had planted or read an id before the login holds nothing
    other = world.app.test_client()
    other.set_cookie("jeton_session", after_pin)
    assert other.get("/").status_code == 302


def test_the_table_holds_neither_the_id_nor_readable_data(world, client):
    world.activate("jdupont")
    login_form(client, "jdupont", PIN + code_for("jdupont", world.clock.t))
    raw = cookie(client)
    with world.store.engine.connect() as conn:
        rows = conn.execute(sa.select(sessions)).all()
    assert rows and all(raw not in str(tuple(r)) for r in rows)
    for r in rows:
        assert b"uid" not in r.data and b"csrf" not in r.data  # sealed, not JSON in clear


def test_a_session_dated_in_the_future_is_refused(world, client):
    world.log_in(client, "jdupont")
    assert client.get("/").status_code == 200
    with world.store.engine.begin() as conn:  # another host's clock an hour ahead, or a forged row
        conn.execute(sessions.update().values(last_seen=world.clock.t + 3600))
    assert client.get("/").status_code == 302
    with world.store.engine.connect() as conn:
        # the row is gone (only an anonymous one carrying the "expired" message may remain)
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)
                            .where(sessions.c.user_id.is_not(None))).scalar() == 0


def test_a_teacher_sees_her_sessions_and_ends_the_others(world):
    world.activate("jdupont")
    here, there, elsewhere = (world.app.test_client() for _ in range(3))
    for client, agent in ((here, "Firefox au collège"), (there, "Chrome à la maison"), (elsewhere, "Tablette")):
        client.environ_base["HTTP_USER_AGENT"] = agent
        login_form(client, "jdupont", PIN + code_for("jdupont", world.clock.t))
        assert client.get("/").status_code == 200
        world.clock.step()
    page = here.get("/connexion/sessions").text
    assert page.count("<tr>") == 4 and "cette session" in page and "Chrome à la maison" in page
    # end one, by its button
    refs = re.findall(r'name="session" value="([0-9a-f]{16})"', page)
    assert len(refs) == 2
    here.post("/connexion/sessions", data={"csrf_token": csrf_token(page), "session": refs[0]})
    assert sorted(c.get("/").status_code for c in (there, elsewhere)) == [200, 302]
    page = here.get("/connexion/sessions").text
    here.post("/connexion/sessions", data={"csrf_token": csrf_token(page), "session": "autres"})
    assert [c.get("/").status_code for c in (here, there, elsewhere)] == [200, 302, 302]


def test_a_teacher_cannot_end_someone_elses_session(world):
    teacher, victim = world.app.test_client(), world.app.test_client()
    world.log_in(victim, "mmartin")
    world.log_in(teacher, "jdupont")
    admin = world.app.test_client()
    world.log_in(admin, "adurand")

    victim_ref = re.findall(r'value="([0-9a-f]{16})" aria-label="Fermer cette session de mmartin"',
                            admin.get("/admin/sessions").text)[0]
    page = teacher.get("/connexion/sessions").text
    teacher.post("/connexion/sessions", data={"csrf_token": csrf_token(page), "session": victim_ref})
    assert victim.get("/").status_code == 200
    assert teacher.get("/admin/sessions").status_code == 403


def test_jeton_admin_lists_and_ends_a_users_sessions(world, capsys):
    client = world.app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Navigateur du CDI"
    world.log_in(client, "jdupont")
    base = ["--db", world.url, "--keys", str(world.keys)]
    assert jeton_admin([*base, "sessions", "jdupont", "--end"]) == 0
    assert "1 session(s) de jdupont fermée(s)." in capsys.readouterr().out
    assert client.get("/").status_code == 302
    assert world.store.audit(action="session.end", limit=1)[0].login == "jdupont"


def test_reading_the_login_page_writes_no_row_until_the_session_holds_something(world, client):
    """A visitor (or a bot) that only reads the login page costs no write: its CSRF token is derived from an
    anonymous id. The row appears with the first thing worth keeping (here the first-login step)."""
    for _ in range(3):
        page = client.get("/connexion/")
    anonymous = cookie(client)
    assert anonymous.startswith("a-") and csrf_token(page.text)
    with world.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar() == 0
    client.post("/connexion/", data={"csrf_token": csrf_token(page.text), "identifiant": "jdupont",
                                     "passcode": code_for("jdupont", world.clock.t)})
    assert cookie(client) != anonymous and not cookie(client).startswith("a-")
    with world.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar() == 1
    # an anonymous id never opens the booklet, whoever makes one up
    other = world.app.test_client()
    other.set_cookie("jeton_session", "a-" + "x" * 43)
    assert other.get("/").status_code == 302
