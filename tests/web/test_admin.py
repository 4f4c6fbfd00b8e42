"""The administration area: tokens through the verifier's library (unlock, reset PIN, unassign, assign, disable),
roles, teaching assignments, the audits."""

from __future__ import annotations

from tests.web.support import PIN, code_for, csrf_token


def act(client, **data):
    """Post an act as the token page's buttons do; an act that takes something away goes through its confirmation page
    (see test_confirmations.py), whose button is pressed here."""
    page = client.get(f"/admin/cles/{data['serie']}" if data["serie"].startswith("JT-") else "/admin/cles")
    answer = client.post("/admin/cles/action", data={"csrf_token": csrf_token(page.text), **data})
    if answer.status_code == 303:
        confirm = client.get(answer.headers["Location"])
        assert confirm.status_code == 200 and "En confirmant :" in confirm.text
        answer = client.post("/admin/cles/action", data={"csrf_token": csrf_token(confirm.text), **data,
                                                         "confirme": "oui"})
    assert answer.status_code == 302
    return client.get(answer.headers["Location"]).text


def test_unlock_a_locked_token_then_the_teacher_logs_in(world, client):
    world.activate("jdupont")
    v = world.app.extensions["jeton"].verifier
    for _ in range(10):
        v.authenticate("jdupont", PIN + "000000", now=world.clock.t)
    assert world.store.get_token("JT-0001").state == "locked"
    world.log_in(client, "adurand")
    page = client.get("/admin/cles", query_string={"etat": "locked"}).text
    assert '<a href="/admin/cles/JT-0001">JT-0001</a></td>\n    <td>bloquée</td>' in page and "(jdupont)" in page
    page = act(client, serie="JT-0001", action="debloquer")
    assert "Clé JT-0001 débloquée." in page
    world.clock.step()
    assert v.authenticate("jdupont", PIN + code_for("jdupont", world.clock.t), now=world.clock.t).outcome == "ACCEPT"
    entries = world.store.audit(serial="JT-0001", limit=5)
    assert any(e.actor == "adurand" for e in entries)


def test_reset_pin_unassign_assign_and_disable(world, client):
    world.activate("jdupont")
    world.log_in(client, "adurand")
    page = act(client, serie="JT-0001", action="reinitialiser-pin")
    assert "Code PIN de la clé JT-0001 réinitialisé" in page
    assert world.store.get_token("JT-0001").state == "assigned"
    page = act(client, serie="JT-0001", action="desaffecter")
    assert "Clé JT-0001 désaffectée." in page and world.store.get_token("JT-0001").state == "ready"
    page = act(client, serie="JT-0001", action="affecter", identifiant="mmartin")
    assert "Clé JT-0001 affectée à mmartin" in page
    assert world.store.get_token("JT-0001").login == "mmartin"
    page = act(client, serie="JT-0001", action="desactiver")
    assert world.store.get_token("JT-0001").state == "disabled"
    page = act(client, serie="JT-0001", action="debloquer")
    assert "Action impossible : la clé JT-0001 est désactivée." in page
    page = act(client, serie="NOPE-1", action="debloquer")
    assert "Clé ou utilisateur introuvable." in page


def test_teaching_assignment_gives_access_to_the_class(world, client):
    world.log_in(client, "adurand")
    page = client.get("/admin/")
    b = world.class_id("3B")
    answer = client.post("/admin/affectations", data={"csrf_token": csrf_token(page.text), "classe": b,
                                                      "enseignant": world.users["jdupont"], "action": "ajouter"})
    assert answer.status_code == 302
    teacher = world.app.test_client()
    world.log_in(teacher, "jdupont")
    assert teacher.get(f"/classe/{b}").status_code == 200
    client.post("/admin/affectations", data={"csrf_token": csrf_token(page.text), "classe": b,
                                             "enseignant": world.users["jdupont"], "action": "retirer"})
    assert teacher.get(f"/classe/{b}").status_code == 403
    journal = " ".join(client.get("/admin/journal").text.split())  # who changed whose access, and when
    for action in ("affectation retirée", "affectation ajoutée"):
        assert (f"<td>15/01/2027 à 09:00</td><td>adurand</td><td>{action}</td> <td></td><td>3B</td> "
                "<td>jdupont</td>") in journal


def test_audit_pages(world, client):
    world.activate("jdupont")
    world.log_in(client, "adurand")
    page = client.get("/admin/journal-connexions")
    assert page.status_code == 200 and "set_pin" in page.text and "jdupont" in page.text
    page = client.get("/admin/journal")
    assert page.status_code == 200 and "Journal du livret" in page.text
