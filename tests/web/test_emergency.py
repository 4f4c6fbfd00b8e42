"""Lost token, same day (issue 17, item 2): the administrator issues emergency access from the console, behind a
page that says what will happen; the code is shown once; the teacher logs in with PIN + that code; it ends.
Driven by the French labels, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from tests.web.support import PIN, csrf_token

CODE = re.compile(r'id="code-secours">(\d{8})<')


def button_form(page: str, label: str) -> dict:
    """The POST data of the button whose text is ``label`` (its name/value and its form's CSRF token)."""
    match = re.search(r'name="(\w+)" value="([^"]*)">' + re.escape(label) + "<", page)
    assert match, f"no button {label!r}"
    return {"csrf_token": csrf_token(page), match.group(1): match.group(2)}


def link(page: str, label: str) -> str:
    match = re.search(r'<a href="([^"]+)"[^>]*>' + re.escape(label) + "</a>", page)
    assert match, f"no link {label!r}"
    return match.group(1)


def issue_from_console(world, client, login: str) -> str:
    """The administrator's steps: Utilisateurs, Accès de secours (for ``login``), read, confirm."""
    users = client.get("/admin/utilisateurs").text
    url = next(u for u in re.findall(r'<a href="([^"]+)" aria-label="Accès de secours pour ' + login + '"', users))
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "un code de secours temporaire est créé pour " + login in confirm.text
    assert "valable jusqu'au 16/01/2027 à 00:00 (minuit), pour 1 connexion(s)" in confirm.text
    assert not CODE.search(confirm.text)  # nothing issued by looking
    answer = client.post(url, data=button_form(confirm.text, "Délivrer l'accès de secours"))
    assert answer.status_code == 200 and "Ce code ne sera plus affiché" in answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    return CODE.search(answer.text).group(1)


def log_in(world, login: str, passcode: str):
    client = world.app.test_client()
    page = client.get("/connexion/")
    return client.post("/connexion/", data={"csrf_token": csrf_token(page.text), "identifiant": login,
                                            "passcode": passcode})


def test_token_at_home_the_administrator_issues_a_code_the_teacher_logs_in_once(any_world):
    world = any_world
    world.activate("jdupont")
    admin = world.app.test_client()
    world.log_in(admin, "adurand")
    code = issue_from_console(world, admin, "jdupont")
    again = admin.get("/admin/secours/jdupont").text
    assert code not in again and "Accès de secours en cours" in again and "1 connexion(s) restante(s)" in again
    answer = log_in(world, "jdupont", PIN + code)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/")
    replay = log_in(world, "jdupont", PIN + code)
    assert replay.status_code == 401 and "L&#39;authentification a échoué." in replay.text
    rows = world.store.audit(login="jdupont", limit=3)
    assert [(r.action, r.outcome, r.actor) for r in reversed(rows)] == [
        ("emergency.issue", "ok", "adurand"), ("auth", "ACCEPT", "verifier"), ("auth", "REJECT", "verifier")]
    assert all(code not in f"{r.detail} {r.source}" for r in world.store.audit())


def test_the_administrator_ends_it_from_the_console(any_world):
    world = any_world
    world.activate("jdupont")
    admin = world.app.test_client()
    world.log_in(admin, "adurand")
    code = issue_from_console(world, admin, "jdupont")
    page = admin.get("/admin/secours/jdupont").text
    done = admin.post("/admin/secours/jdupont", data=button_form(page, "Mettre fin à l'accès de secours"))
    assert done.status_code == 302
    assert "Accès de secours de jdupont terminé." in admin.get(done.headers["Location"]).text
    assert log_in(world, "jdupont", PIN + code).status_code == 401


def test_the_code_never_reaches_a_log_or_the_audit(world, no_leaks):
    world.activate("jdupont")
    admin = world.app.test_client()
    world.log_in(admin, "adurand")
    code = no_leaks.value(issue_from_console(world, admin, "jdupont"))
    assert log_in(world, "jdupont", PIN + code).status_code == 302
    # no_leaks scans every log record and every audit row for the code (and the passcode typed) at the end


def test_no_pin_yet_is_refused_in_french_and_issues_nothing(world, client):
    world.log_in(client, "adurand")
    page = client.get("/admin/secours/mmartin").text
    answer = client.post("/admin/secours/mmartin", data=button_form(page, "Délivrer l'accès de secours"))
    assert answer.status_code == 409
    assert "mmartin n&#39;a pas de clé avec un PIN" in answer.text and not CODE.search(answer.text)
    assert world.store.emergency_status("mmartin", world.clock.t) is None
    assert client.get("/admin/secours/personne").status_code == 404


def test_guessing_an_emergency_code_on_the_web_is_throttled(any_world):
    world = any_world
    world.activate("jdupont")
    world.store.disable("JT-0001", "perdue", actor="test", now=world.clock.t)
    admin = world.app.test_client()
    world.log_in(admin, "adurand")
    code = issue_from_console(world, admin, "jdupont")
    statuses = [log_in(world, "jdupont", PIN + f"{guess:08d}").status_code for guess in range(8)]
    assert statuses[:5] == [401] * 5 and 429 in statuses
    assert log_in(world, "jdupont", PIN + code).status_code == 429  # even the right code waits, unverified
    failures = [r for r in world.store.audit(login="jdupont", action="auth") if r.outcome == "REJECT"]
    assert failures and all("emergency" in r.detail for r in failures)
