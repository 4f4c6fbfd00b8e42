"""Authorisation as a matrix of role x resource x action, and tampered or malformed input: a 4xx or a clear
French message, never a 500, never a change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from booklet_web.tables import item_records, teaching, validations
from tests.web.support import csrf_token
from verifier.schema import tokens, users

# Roles: anonymous, a teacher of 3A only (jdupont), a teacher of 3A and 3B (mmartin), the administrator.
ROLES = ("anonyme", "jdupont", "mmartin", "adurand")


def resources(world):
    a, b = world.class_id("3A"), world.class_id("3B")
    pa, pb = world.pupil_ids("3A")[0], world.pupil_ids("3B")[0]
    return {
        "classe 3B": f"/classe/{b}",
        "livret 3B": f"/livret?classe={b}&eleve={pb}&competence=C1",
        "livret 3A avec un élève de 3B": f"/livret?classe={a}&eleve={pb}&competence=C1",
        "livret imprimable 3B": f"/eleve/{pb}/livret",
        "livret PDF 3B": f"/eleve/{pb}/livret.pdf",
        "export CSV 3B": f"/classe/{b}/export.csv",
        "classe 3A": f"/classe/{a}",
        "livret 3A": f"/livret?classe={a}&eleve={pa}&competence=C1",
        "administration": "/admin/",
        "clés": "/admin/cles",
        "journal": "/admin/journal",
        "journal des connexions": "/admin/journal-connexions",
        "import": "/admin/import",
        "import des clés": "/admin/import-cles",
        "export XML": "/admin/export.xml",
        "accès de secours": "/admin/secours/jdupont",
        "confirmation": "/admin/cles/confirmer?action=desactiver&serie=JT-0001",
        "journal des connexions CSV": "/admin/journal-connexions.csv",
        "clés filtrées": f"/admin/cles?q=JT&etat=active&classe={a}&inutilisee=30&echecs=1&tri=etat&page=2",
        "clé": "/admin/cles/JT-0001",
        "utilisateurs": f"/admin/utilisateurs?q=d&role=teacher&classe={b}&cle=avec&page=1",
        "utilisateur": "/admin/utilisateurs/jdupont",
        "confirmation du retrait": "/admin/cles/confirmer?action=retirer&serie=JT-0002",
        "santé des clés": "/admin/sante",
        "santé d'une clé": "/admin/sante/JT-0001",
    }


# Expected status of GET per resource, for each role (anonymous is always sent to the login page: 302).
READ = {
    "classe 3B": {"jdupont": 403, "mmartin": 200, "adurand": 200},
    "livret 3B": {"jdupont": 403, "mmartin": 200, "adurand": 200},
    "livret 3A avec un élève de 3B": {"jdupont": 404, "mmartin": 404, "adurand": 404},
    "livret imprimable 3B": {"jdupont": 403, "mmartin": 200, "adurand": 200},
    "livret PDF 3B": {"jdupont": 403, "mmartin": 200, "adurand": 200},
    "export CSV 3B": {"jdupont": 403, "mmartin": 200, "adurand": 200},
    "classe 3A": {"jdupont": 200, "mmartin": 200, "adurand": 200},
    "livret 3A": {"jdupont": 200, "mmartin": 200, "adurand": 200},
    "administration": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "clés": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "journal": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "journal des connexions": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "import": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "import des clés": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "export XML": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "accès de secours": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "confirmation": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "journal des connexions CSV": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "clés filtrées": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "clé": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "utilisateurs": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "utilisateur": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "confirmation du retrait": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "santé des clés": {"jdupont": 403, "mmartin": 403, "adurand": 200},
    "santé d'une clé": {"jdupont": 403, "mmartin": 403, "adurand": 200},
}


@pytest.mark.parametrize("role", ROLES)
def test_read_matrix(world, client, role):
    if role != "anonyme":
        world.log_in(client, role)
    for name, url in resources(world).items():
        page = client.get(url)
        expected = 302 if role == "anonyme" else READ[name][role]
        assert page.status_code == expected, (role, name, page.status_code)
        if expected == 403:
            assert "Vous n&#39;enseignez pas dans cette classe." in page.text or "Accès refusé." in page.text


def snapshot(world):
    with world.app.extensions["jeton"].db.engine.connect() as conn:
        return (sorted(conn.execute(sa.select(item_records.c.pupil_id, item_records.c.item_id)).all()),
                sorted(conn.execute(sa.select(validations.c.pupil_id, validations.c.competence_id,
                                              validations.c.cancelled_at)).all()),
                sorted(conn.execute(sa.select(teaching)).all()),
                sorted(conn.execute(sa.select(tokens.c.serial, tokens.c.state, tokens.c.drift, tokens.c.user_id,
                                              tokens.c.state_reason)).all()),
                sorted(conn.execute(sa.select(users.c.login, users.c.role)).all()))


def write_actions(world):
    a, b = world.class_id("3A"), world.class_id("3B")
    pa, pb = world.pupil_ids("3A")[0], world.pupil_ids("3B")[0]
    return {
        "enregistrer 3B": ("/livret/enregistrer", {"classe": b, "eleve": pb, "competence": "C1", "item": "C1.1"}),
        "enregistrer 3A avec un élève de 3B": ("/livret/enregistrer",
                                               {"classe": a, "eleve": [pa, pb], "competence": "C1", "item": "C1.1"}),
        "valider 3A": ("/livret/competence", {"classe": a, "eleve": pa, "competence": "C1", "action": "administrer"}),
        "affecter": ("/admin/affectations", {"enseignant": world.users["jdupont"], "classe": b, "action": "ajouter"}),
        "débloquer": ("/admin/cles/action", {"serie": "JT-0001", "action": "debloquer"}),
        "rôle": ("/admin/cles/action", {"identifiant": "jdupont", "action": "role", "role": "admin",
                                        "confirme": "oui"}),
        "accès de secours sans PIN": ("/admin/secours/jdupont", {"action": "delivrer"}),
        "fin de l'accès de secours": ("/admin/secours/jdupont", {"action": "terminer"}),
        # no preview in this session: the administrator is told to upload the file again (400), nothing written
        "confirmer un import de clés": ("/admin/import-cles/confirmer", {"apercu": "x.1.AAAA"}),
        "confirmer une liste d'élèves": ("/admin/import/confirmer", {"apercu": "x.1.AAAA"}),
        "affecter une clé": ("/admin/cles/action", {"serie": "JT-0003", "action": "affecter",
                                                    "identifiant": "jdupont"}),
        "resynchroniser": ("/admin/cles/action", {"serie": "JT-0001", "action": "resynchroniser",
                                                  "code1": "123456", "code2": "654321"}),
        "retirer sans confirmation": ("/admin/cles/action", {"serie": "JT-0002", "action": "retirer"}),
        "désactiver (volée)": ("/admin/cles/action", {"serie": "JT-0002", "action": "desactiver",
                                                       "motif": "volee", "confirme": "oui"}),
        "retirer": ("/admin/cles/action", {"serie": "JT-0002", "action": "retirer", "confirme": "oui"}),
    }


WRITE = {  # expected status for each role; every refused action must leave the data unchanged
    "enregistrer 3B": {"jdupont": 403, "mmartin": 302, "adurand": 302},
    "enregistrer 3A avec un élève de 3B": {"jdupont": 404, "mmartin": 404, "adurand": 404},
    "valider 3A": {"jdupont": 403, "mmartin": 403, "adurand": 302},
    "affecter": {"jdupont": 403, "mmartin": 403, "adurand": 302},
    "débloquer": {"jdupont": 403, "mmartin": 403, "adurand": 302},
    "rôle": {"jdupont": 403, "mmartin": 403, "adurand": 302},
    "accès de secours sans PIN": {"jdupont": 403, "mmartin": 403, "adurand": 409},
    "fin de l'accès de secours": {"jdupont": 403, "mmartin": 403, "adurand": 302},
    "confirmer un import de clés": {"jdupont": 403, "mmartin": 403, "adurand": 400},
    "confirmer une liste d'élèves": {"jdupont": 403, "mmartin": 403, "adurand": 400},
    "affecter une clé": {"jdupont": 403, "mmartin": 403, "adurand": 302},
    "resynchroniser": {"jdupont": 403, "mmartin": 403, "adurand": 302},
    "retirer sans confirmation": {"jdupont": 403, "mmartin": 403, "adurand": 303},
    "désactiver (volée)": {"jdupont": 403, "mmartin": 403, "adurand": 302},
    "retirer": {"jdupont": 403, "mmartin": 403, "adurand": 302},
}


@pytest.mark.parametrize("role", ("jdupont", "mmartin"))
def test_write_matrix_for_teachers_changes_nothing_refused(world, client, role):
    world.log_in(client, role)
    token = csrf_token(client.get("/").text)
    for name, (url, data) in write_actions(world).items():
        before = snapshot(world)
        answer = client.post(url, data={"csrf_token": token, **data})
        assert answer.status_code == WRITE[name][role], (role, name, answer.status_code)
        if answer.status_code >= 400:
            assert snapshot(world) == before, (role, name)
    assert world.store.get_user("jdupont").role == "teacher"


def test_write_matrix_for_the_administrator(world, client):
    world.log_in(client, "adurand")
    token = csrf_token(client.get("/").text)
    for name, (url, data) in write_actions(world).items():
        before = snapshot(world)
        answer = client.post(url, data={"csrf_token": token, **data})
        assert answer.status_code == WRITE[name]["adurand"], (name, answer.status_code)
        if answer.status_code >= 400:
            assert snapshot(world) == before, name
    assert world.store.get_user("jdupont").role == "admin"
    assert world.store.get_token("JT-0002").state == "retired"
    assert [e.detail for e in world.store.audit(serial="JT-0002", action="token.disable")] == ["stolen"]


def test_anonymous_writes_go_to_the_login_page_and_change_nothing(world, client):
    token = csrf_token(client.get("/connexion/").text)
    before = snapshot(world)
    for url, data in write_actions(world).values():
        answer = client.post(url, data={"csrf_token": token, **data})
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/connexion/")
    assert snapshot(world) == before


@pytest.mark.parametrize("query", [
    "classe=abc&eleve=1", "classe=1&eleve=-1", "classe=1&eleve=1.5", "classe=99999&eleve=1",
    "classe=1&eleve=1&competence=C9", "classe=1&eleve=1&competence=../../etc", "classe=" + "9" * 40 + "&eleve=1",
    "eleve=1", "classe=1&eleve=999999",
])
def test_tampered_livret_urls_are_4xx(world, client, query):
    world.log_in(client, "jdupont")
    page = client.get(f"/livret?{query}")
    assert 400 <= page.status_code < 500, (query, page.status_code)


@pytest.mark.parametrize("url", ["/classe/999999", "/eleve/999999/livret", "/eleve/999999/livret.pdf",
                                 "/classe/999999/export.csv",
                                 "/classe/-1", "/nulle-part"])
def test_unknown_ids_are_404(world, client, url):
    world.log_in(client, "adurand")
    assert client.get(url).status_code == 404


def test_forged_or_missing_csrf_changes_nothing(world, client):
    world.log_in(client, "adurand")
    a, pa = world.class_id("3A"), world.pupil_ids("3A")[0]
    before = snapshot(world)
    for token in (None, "", "forged-token", "x" * 4000):
        data = {"classe": a, "eleve": pa, "competence": "C1", "item": "C1.1", "action": "administrer"}
        if token is not None:
            data["csrf_token"] = token
        for url in ("/livret/enregistrer", "/livret/competence", "/admin/affectations", "/admin/cles/action",
                    "/admin/import-cles/confirmer", "/admin/import/confirmer",
                    "/admin/secours/jdupont", "/connexion/rester"):
            answer = client.post(url, data=data)
            assert answer.status_code == 400 and "formulaire a expiré" in answer.text
    assert snapshot(world) == before


def test_malformed_save_fields_are_400(world, client):
    world.log_in(client, "adurand")
    a, pa = world.class_id("3A"), world.pupil_ids("3A")[0]
    token = csrf_token(client.get("/").text)
    before = snapshot(world)
    for data in (
        {"classe": "x", "eleve": pa, "competence": "C1"},
        {"classe": a, "eleve": "x", "competence": "C1"},
        {"classe": a, "competence": "C1", "item": "C1.1"},
        {"classe": a, "eleve": [str(pa)] * 500, "competence": "C1"},
        {"classe": a, "eleve": pa, "competence": "C1", "item": ["C1.1"] * 500},
        {"classe": a, "eleve": pa, "competence": "C1", "action": "supprimer-tout"},
    ):
        for url in ("/livret/enregistrer", "/livret/competence"):
            if url == "/livret/enregistrer" and "action" in data:
                continue  # the save form has no action field: an empty save is a valid no-op
            answer = client.post(url, data={"csrf_token": token, **data})
            assert 400 <= answer.status_code < 500, (url, data, answer.status_code)
    assert snapshot(world) == before


def test_oversized_upload_is_413(world, client):
    world.log_in(client, "adurand")
    page = client.get("/admin/import")
    body = b"x" * (3 * 1024 * 1024)
    answer = client.post("/admin/import", data=body, headers={"X-CSRFToken": csrf_token(page.text)},
                         content_type="multipart/form-data; boundary=zz")
    assert answer.status_code == 413 and "Fichier trop volumineux" in answer.text
