"""Acts that take something away ask first (issue 17, item 1): "Désactiver (perdue, volée)", "Bloquer",
"Réinitialiser le PIN", "Désaffecter" and a role change open a page that names the token, its holder and what will
happen, with one button; and the last administrator cannot remove her own role. Driven by the French labels."""

from __future__ import annotations

import html
import re

import pytest

from tests.web.support import csrf_token


def press_on_token_page(client, serial: str, label: str):
    """On the token's page, press the button ``label`` of an act that asks first (a GET form: nothing changes)."""
    page = client.get(f"/admin/cles/{serial}").text
    forms = re.findall(r'(<form method="get" action="([^"]+)".*?</form>)', page, re.S)
    for body, action in forms:
        button = re.search(r'<button type="submit" name="(\w+)" value="([^"]+)">' + re.escape(label) + "</button>",
                           body)
        if button:
            fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', body))
            return client.get(action, query_string={**fields, button.group(1): button.group(2)})
    raise AssertionError(f"no button {label!r} for {serial}")


def press(client, page: str, label: str):
    """Press the confirmation page's button ``label`` (its form's hidden fields and CSRF token)."""
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    assert form and f"<button type=\"submit\">{label}</button>" in form.group(2), f"no button {label!r}"
    fields = {k: html.unescape(v) for k, v in re.findall(r'name="(\w+)" value="([^"]*)"', form.group(2))}
    answer = client.post(form.group(1), data=fields)
    assert answer.status_code == 302
    return client.get(answer.headers["Location"])


@pytest.mark.parametrize("label, button, effect, state", [
    ("Désactiver (perdue, volée)", "Désactiver la clé JT-0001",
     "La clé ne permettra plus de se connecter, même avec le bon PIN", "disabled"),
    ("Bloquer", "Bloquer la clé JT-0001", "jusqu&#39;à ce qu&#39;un administrateur la débloque", "locked"),
    ("Réinitialiser le PIN", "Réinitialiser le PIN de la clé JT-0001",
     "à sa prochaine connexion, jdupont saisira les 6 chiffres de la clé seuls", "assigned"),
    ("Désaffecter", "Désaffecter la clé JT-0001", "la clé redevient prête à être affectée", "ready"),
])
def test_each_act_names_what_will_happen_then_its_button_does_it(any_world, label, button, effect, state):
    world = any_world
    world.activate("jdupont")
    admin = world.app.test_client()
    world.log_in(admin, "adurand")
    confirm = press_on_token_page(admin, "JT-0001", label)
    assert confirm.status_code == 200
    assert re.search(r"<h1>[^<]*JT-0001[^<]*</h1>", confirm.text)
    assert f'<button type="submit">{button}</button>' in confirm.text
    assert "Clé JT-0001, active, affectée à jdupont." in confirm.text
    assert effect in confirm.text
    assert "jdupont est déconnecté(e) à l&#39;instant de toutes ses sessions ouvertes." in confirm.text
    assert world.store.get_token("JT-0001").state == "active"  # looking changes nothing
    done = press(admin, confirm.text, button)
    assert done.status_code == 200 and world.store.get_token("JT-0001").state == state


def test_a_post_without_confirmation_changes_nothing_and_goes_to_the_page(world, client):
    world.activate("jdupont")
    world.log_in(client, "adurand")
    token = csrf_token(client.get("/admin/cles").text)
    answer = client.post("/admin/cles/action", data={"csrf_token": token, "serie": "JT-0001", "action": "desactiver"})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/admin/cles/confirmer?action=desactiver&serie=JT-0001")
    assert world.store.get_token("JT-0001").state == "active"
    assert world.store.audit(action="token.disable") == []


def test_the_only_administrator_cannot_remove_her_own_role(world, client):
    world.log_in(client, "adurand")
    page = client.get("/admin/utilisateurs/adurand").text
    assert "adurand est le seul administrateur : son rôle ne peut pas lui être\nretiré." in page
    assert "Changer le rôle" not in page  # her page offers no way to do it
    assert "Changer le rôle" in client.get("/admin/utilisateurs/jdupont").text
    confirm = client.get("/admin/cles/confirmer", query_string={"action": "role", "identifiant": "adurand",
                                                                 "role": "teacher"})
    assert confirm.status_code == 200
    assert "adurand est le seul administrateur : nommez d&#39;abord un autre administrateur." in confirm.text
    assert "<button" not in confirm.text.split("<main>")[1].split("</main>")[0]
    # forcing the POST anyway: refused by the store's rule, in French, and she keeps her access
    forced = client.post("/admin/cles/action", data={"csrf_token": csrf_token(page), "action": "role",
                                                     "identifiant": "adurand", "role": "teacher",
                                                     "confirme": "oui"})
    assert forced.status_code == 302
    after = client.get(forced.headers["Location"])
    assert "Action impossible : adurand est le seul administrateur" in after.text
    assert world.store.get_user("adurand").role == "admin" and client.get("/admin/").status_code == 200


def test_with_a_second_administrator_she_may_step_down_and_is_warned(world, client):
    world.log_in(client, "adurand")
    confirm = client.get("/admin/cles/confirmer", query_string={"action": "role", "identifiant": "jdupont",
                                                                 "role": "admin"})
    assert "jdupont pourra gérer les utilisateurs, les clés et les classes" in confirm.text
    press(client, confirm.text, "Rendre jdupont administrateur")
    assert world.store.get_user("jdupont").role == "admin"
    confirm = client.get("/admin/cles/confirmer", query_string={"action": "role", "identifiant": "adurand",
                                                                 "role": "teacher"})
    assert "C&#39;est votre propre compte : vous perdrez vous-même l&#39;accès à l&#39;administration." in confirm.text
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', confirm.text, re.S)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(2)))
    assert client.post(form.group(1), data=fields).status_code == 302
    assert world.store.get_user("adurand").role == "teacher"
    assert client.get("/admin/").status_code == 302  # her sessions ended with the change: log in again


def test_jeton_admin_refuses_to_demote_the_last_administrator(world):
    from verifier import LastAdministrator

    with pytest.raises(LastAdministrator) as refused:
        world.store.set_role("adurand", "teacher", actor="test")
    assert refused.value.french == "adurand est le seul administrateur : nommez d'abord un autre administrateur"
    world.store.set_role("mmartin", "admin", actor="test")
    world.store.set_role("adurand", "teacher", actor="test")
    with pytest.raises(LastAdministrator):
        world.store.set_role("mmartin", "teacher", actor="test")


@pytest.mark.parametrize("query", [{"action": "desactiver", "serie": "NOPE-1"}, {"action": "detruire", "serie":
                                   "JT-0001"}, {"action": "role", "identifiant": "personne", "role": "teacher"},
                                   {"action": "role", "identifiant": "jdupont", "role": "root"}])
def test_a_confirmation_page_for_nothing_is_404(world, client, query):
    world.log_in(client, "adurand")
    assert client.get("/admin/cles/confirmer", query_string=query).status_code == 404


def test_annuler_a_validation_asks_first_then_cancels(any_world):
    world = any_world
    admin = world.app.test_client()
    world.log_in(admin, "adurand")
    pupil = world.pupil_ids("3A")[0]
    url = f"/livret?classe={world.class_id('3A')}&eleve={pupil}&competence=C3"
    page = admin.get(url).text
    form = re.search(r'<form method="post" action="([^"]+)" class="administrer">(.*?)</form>', page, re.S)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(2)))
    admin.post(form.group(1), data={**fields, "action": "administrer"})
    page = admin.get(url).text
    assert "La compétence 3 est validée" in page
    cancel = re.search(r'<form method="get" action="([^"]+)" class="administrer">(.*?)</form>', page, re.S)
    assert "<strong>Annuler</strong>" in cancel.group(2)
    confirm = admin.get(cancel.group(1), query_string=dict(re.findall(r'name="(\w+)" value="([^"]*)"',
                                                                      cancel.group(2))))
    assert confirm.status_code == 200
    assert "la compétence 3 ne sera plus validée pour" in confirm.text
    assert "Revenir au livret sans rien changer" in confirm.text
    assert "La compétence 3 est validée" in admin.get(url).text  # looking changed nothing
    done = press(admin, confirm.text, "Annuler la validation")
    assert "La validation de la compétence 3 est annulée." in done.text
    assert "La compétence 3 est validée" not in admin.get(url).text
