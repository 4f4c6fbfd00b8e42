"""The token and user console (issue 17, item 1): lists with search, filters and pages, a token's page with its
acts (assign, resync with two codes, retire, disable as stolen), a user's page; bad input is a clear French message
or a 404, never a 500 and never a change. What the administrator sees is asserted, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re

import pytest

from tests.web.support import PIN, T0, code_for, csrf_token


def text(page) -> str:
    """The page's words as a person reads them (tags dropped, entities decoded, spaces collapsed)."""
    body = page if isinstance(page, str) else page.text
    body = re.sub(r"</?(?:a|strong|em|span|time|abbr)\b[^>]*>", "", body)  # inline: no space of their own
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def listed(page) -> list[str]:
    """The serials (or logins) of a list page's table, in order."""
    return re.findall(r'<tr><td><a href="/admin/(?:cles|utilisateurs)/[^"]+">([^<]+)</a>', page.text)


def post_act(client, serial: str, **data):
    """Post an act from the token's page (its CSRF token) and follow the answer back to the page."""
    page = client.get(f"/admin/cles/{serial}")
    answer = client.post("/admin/cles/action", data={"csrf_token": csrf_token(page.text), "serie": serial, **data})
    assert answer.status_code in (302, 303), answer.status_code
    return answer, client.get(answer.headers["Location"])


def confirm_act(client, serial: str, action: str, **extra):
    """An act that asks first: its confirmation page, then its button (with ``extra`` fields, e.g. the motif)."""
    confirm = client.get("/admin/cles/confirmer", query_string={"action": action, "serie": serial})
    assert confirm.status_code == 200 and "En confirmant :" in confirm.text
    answer = client.post("/admin/cles/action", data={"csrf_token": csrf_token(confirm.text), "serie": serial,
                                                     "action": action, "confirme": "oui", **extra})
    assert answer.status_code == 302
    return confirm, client.get(answer.headers["Location"])


@pytest.fixture
def admin(any_world):
    client = any_world.app.test_client()
    any_world.log_in(client, "adurand")
    return client


def test_search_and_filters_find_the_token(any_world, admin):
    world = any_world
    world.activate("jdupont")
    v = world.app.extensions["jeton"].verifier
    for _ in range(3):
        v.authenticate("mmartin", PIN + "000000", now=world.clock.t)
    world.store.import_token("JT-0900", b"spare-token-secret-0900", now=T0 - 90 * 86400)
    everything = admin.get("/admin/cles")
    assert listed(everything) == ["JT-0001", "JT-0002", "JT-0003", "JT-0900"]
    assert "4 clés : 1 à 4." in text(everything) and "page 1 sur 1" in text(everything)
    assert "Page suivante" not in everything.text and "Page précédente" not in everything.text
    assert listed(admin.get("/admin/cles?q=DUPONT")) == ["JT-0001"]  # the holder's name, any case
    assert listed(admin.get("/admin/cles?q=jt-0")) == ["JT-0001", "JT-0002", "JT-0003", "JT-0900"]
    assert listed(admin.get("/admin/cles?etat=ready")) == ["JT-0900"]
    assert listed(admin.get("/admin/cles?etat=active")) == ["JT-0001"]
    assert listed(admin.get(f"/admin/cles?classe={world.class_id('3B')}")) == ["JT-0002"]  # its teacher's token
    assert listed(admin.get(f"/admin/cles?classe={world.class_id('3A')}")) == ["JT-0001", "JT-0002"]
    assert listed(admin.get("/admin/cles?echecs=3")) == ["JT-0002"]
    assert listed(admin.get("/admin/cles?inutilisee=jamais")) == ["JT-0002", "JT-0003", "JT-0900"]
    assert listed(admin.get("/admin/cles?inutilisee=60")) == ["JT-0900"]
    assert listed(admin.get("/admin/cles?tri=echecs"))[0] == "JT-0002"
    none = admin.get("/admin/cles?q=zzz&etat=locked")
    assert "Aucune clé ne correspond à ces filtres." in text(none) and listed(none) == []
    row = re.search(r"<tr><td><a href=\"/admin/cles/JT-0002\">.*?</tr>", admin.get("/admin/cles?echecs=1").text, re.S)
    assert "Marie Martin (mmartin)" in text(row.group(0)) and "jamais" in row.group(0)


def test_fifty_a_page_with_links_that_keep_the_filters(world, client):
    for i in range(60):
        world.store.import_token(f"LOT-{i:03d}", b"batch-secret-%03d-abcdef" % i, now=T0)
    world.log_in(client, "adurand")
    first = client.get("/admin/cles?etat=ready&q=lot")
    assert "60 clés : 1 à 50." in text(first) and "page 1 sur 2" in text(first)
    assert listed(first)[0] == "LOT-000" and len(listed(first)) == 50
    following = re.search(r'<a href="([^"]+)" rel="next">Page suivante</a>', first.text).group(1)
    assert "etat=ready" in following and "q=lot" in following
    second = client.get(html.unescape(following))
    assert listed(second) == [f"LOT-{i:03d}" for i in range(50, 60)]
    assert "60 clés : 51 à 60." in text(second) and "page 2 sur 2" in text(second)
    assert "Page suivante" not in second.text
    back = re.search(r'<a href="([^"]+)" rel="prev">Page précédente</a>', second.text).group(1)
    assert listed(client.get(html.unescape(back))) == listed(first)
    assert "page 2 sur 2" in text(client.get("/admin/cles?etat=ready&q=lot&page=999"))  # past the end: the last


@pytest.mark.parametrize("query, said", [
    ("etat=detruite", "État inconnu : ce filtre est ignoré."),
    ("classe=abc", "Classe inconnue : ce filtre est ignoré."),
    ("classe=999999", "Classe inconnue : ce filtre est ignoré."),
    ("classe=" + "9" * 40, "Classe inconnue : ce filtre est ignoré."),
    ("inutilisee=7", "Durée d'inutilisation inconnue : ce filtre est ignoré."),
    ("echecs=-1", "Nombre d'échecs inconnu : ce filtre est ignoré."),
    ("echecs=1e9", "Nombre d'échecs inconnu : ce filtre est ignoré."),
    ("page=-1", None), ("page=abc", None), ("page=" + "9" * 40, None), ("tri=;drop", None),
    ("q=" + "%25" * 500, None), ("q=%00", None), ("q=_", None),
])
def test_bad_filter_values_are_said_and_ignored_never_a_500(world, client, query, said):
    world.log_in(client, "adurand")
    page = client.get(f"/admin/cles?{query}")
    assert page.status_code == 200
    if said:
        alert = re.search(r'<p class="message erreur" role="alert">([^<]+)</p>', page.text)
        assert alert and html.unescape(alert.group(1)) == said
        assert listed(page) == ["JT-0001", "JT-0002", "JT-0003"]  # the bad filter is ignored, not the list
    users = client.get(f"/admin/utilisateurs?{query.replace('etat=', 'role=')}")
    assert users.status_code == 200


@pytest.mark.parametrize("url", ["/admin/cles/NOPE-1", "/admin/cles/" + "A" * 17, "/admin/cles/jt-0001",
                                 "/admin/cles/%00", "/admin/utilisateurs/personne", "/admin/utilisateurs/" + "a" * 65])
def test_unknown_token_or_user_pages_are_404(world, client, url):
    world.log_in(client, "adurand")
    assert client.get(url).status_code == 404


def test_the_token_page_tells_its_state_holder_facts_and_history_in_words(any_world, admin):
    world = any_world
    world.activate("jdupont")
    page = admin.get("/admin/cles/JT-0001")
    said = text(page)
    assert "Clé JT-0001" in said and "État : active." in said
    assert '<a href="/admin/utilisateurs/jdupont">Jean Dupont (jdupont)</a>' in page.text
    assert "PIN choisi" in said and "Échecs à la suite 0" in said and "Dérive de l'horloge +0 pas de 30 s" in said
    assert "Dernière utilisation 15/01/2027 à 09:00" in said  # local time (Paris) of the accepted code
    history = page.text.split("<h2>Historique</h2>")[1].split("<h2>")[0]
    assert "clé affectée" in history and "clé importée" in history and "connexion" not in history
    journal = page.text.split("<h2>Journal de la clé</h2>")[1]
    assert "PIN choisi" in journal and "nouveau PIN demandé" in journal
    assert re.search(r'<time datetime="2027-01-15T08:00:\d\d\+00:00" title="[^"]+ \(UTC\)">'
                     r"15/01/2027 09:00:\d\d</time>", journal)
    for label in ("Bloquer", "Réinitialiser le PIN", "Désaffecter", "Désactiver (perdue, volée)", "Retirer",
                  "Resynchroniser"):
        assert f">{label}</button>" in page.text, label
    assert ">Débloquer</button>" not in page.text and ">Affecter</button>" not in page.text
    assert "Accès de secours pour jdupont" in said
    assert '{% include' not in page.text  # the health partial is optional: absent, nothing shows


def test_resync_with_two_codes_then_the_teacher_logs_in(any_world, admin):
    world = any_world
    world.activate("jdupont")
    t = world.clock.t + 600  # the token ran ahead: 20 steps, beyond the login window
    first, second = code_for("jdupont", t), code_for("jdupont", t + 30)
    _, page = post_act(admin, "JT-0001", action="resynchroniser", code1=second, code2=first)
    assert ("Ces deux codes ne sont pas deux codes consécutifs de la clé JT-0001 : appuyez sur son bouton, notez "
            "le code, attendez qu'il change, notez le suivant, puis recommencez.") in text(page)
    assert world.store.get_token("JT-0001").drift == 0
    for bad in ({"code1": first, "code2": ""}, {"code1": "12a456", "code2": second}, {"code1": first + "0",
                                                                                       "code2": second}):
        _, page = post_act(admin, "JT-0001", action="resynchroniser", **bad)
        assert "Saisissez deux codes de 6 chiffres, lus l'un après l'autre sur la clé JT-0001." in text(page)
    _, page = post_act(admin, "JT-0001", action="resynchroniser", code1=first, code2=second)
    assert "Clé JT-0001 resynchronisée : l'horloge de la clé est de nouveau reconnue." in text(page)
    assert "Dérive de l'horloge +21 pas de 30 s (+630 s)" in text(page)
    history = page.text.split("<h2>Historique</h2>")[1].split("<h2>")[0]
    assert "clé resynchronisée" in history and "secret lu" not in history  # reading the secret changes no state
    journal = text(page.text.split("<h2>Journal de la clé</h2>")[1])
    assert "15/01/2027 09:00:35 secret lu fait JT-0001 adurand purpose=resync" in journal  # at the app's clock
    v = world.app.extensions["jeton"].verifier
    assert v.authenticate("jdupont", PIN + code_for("jdupont", t + 60), now=world.clock.t).outcome == "ACCEPT"
    for entry in world.store.audit(limit=500):  # the codes typed are in no audit row
        assert not {first, second} & {entry.detail, entry.source, entry.login, entry.outcome}
        assert first not in (entry.detail or "") and second not in (entry.detail or "")


def test_assign_by_login_or_by_choosing_among_the_users_found(any_world, admin):
    world = any_world
    world.store.import_token("JT-0900", b"spare-token-secret-0900", now=T0)
    world.store.add_user("jdupuis", "Jeanne Dupuis")
    _, page = post_act(admin, "JT-0900", action="affecter", identifiant="dup")
    said = text(page)
    assert "Aucun utilisateur n'a l'identifiant « dup » : choisissez-le dans la liste ci-dessous." in said
    assert "Utilisateurs trouvés pour « dup »" in said
    assert ">Affecter à jdupont</button>" in page.text and ">Affecter à jdupuis</button>" in page.text
    assert ">Affecter à mmartin</button>" not in page.text
    assert '<option value="jdupuis">Jeanne Dupuis</option>' in page.text
    assert world.store.get_token("JT-0900").state == "ready"
    _, page = post_act(admin, "JT-0900", action="affecter", identifiant="personne-de-ce-nom")
    assert "Aucun utilisateur ne correspond : vérifiez l'orthographe." in text(page)
    _, page = post_act(admin, "JT-0900", action="affecter", identifiant="")
    assert "Saisissez l'identifiant de l'utilisateur." in text(page)
    _, page = post_act(admin, "JT-0900", action="affecter", identifiant="jdupuis")
    assert "Clé JT-0900 affectée à jdupuis" in text(page) and "État : affectée (nouveau PIN)." in text(page)
    assert world.store.get_token("JT-0900").login == "jdupuis"
    assert [e.actor for e in world.store.audit(serial="JT-0900", action="token.assign")] == ["adurand"]


def test_disable_as_stolen_and_retire_go_through_their_confirmation(any_world, admin):
    world = any_world
    world.activate("jdupont")
    confirm, page = confirm_act(admin, "JT-0001", "desactiver", motif="volee")
    assert "Motif" in confirm.text and 'value="perdue" checked' in confirm.text
    assert "Clé JT-0001 désactivée (volée)." in text(page) and "État : désactivée (volée)." in text(page)
    assert world.store.get_token("JT-0001").state_reason == "stolen"
    confirm = admin.get("/admin/cles/confirmer", query_string={"action": "retirer", "serie": "JT-0001"})
    said = text(confirm)
    assert "Retirer la clé JT-0001 du service" in said
    assert "son secret et son PIN sont détruits, elle ne permettra plus jamais de se connecter" in said
    assert '<a href="/admin/cles/JT-0001">Annuler</a>' in confirm.text
    assert world.store.get_token("JT-0001").state == "disabled"  # looking changes nothing
    _, page = confirm_act(admin, "JT-0001", "retirer")
    assert "Clé JT-0001 retirée du service : son secret est détruit." in text(page)
    assert "Cette clé est retirée du service : plus aucune action n'est possible." in text(page)
    assert world.store.get_token("JT-0001").state == "retired"
    # an unheld token's confirmation says nothing of sessions
    world.store.import_token("JT-0900", b"spare-token-secret-0900", now=T0)
    assert "déconnecté" not in admin.get("/admin/cles/confirmer?action=retirer&serie=JT-0900").text
    # retiring without the confirmation only sends to it
    answer, _ = post_act(admin, "JT-0900", action="retirer")
    assert answer.status_code == 303 and world.store.get_token("JT-0900").state == "ready"


def test_an_act_the_state_forbids_is_said_and_changes_nothing(world, client):
    world.log_in(client, "adurand")
    _, page = post_act(client, "JT-0001", action="debloquer")
    assert "Action impossible : la clé JT-0001 est affectée (nouveau PIN)." in text(page)
    answer, page = post_act(client, "NOPE-1", action="debloquer")
    assert answer.headers["Location"].endswith("/admin/cles") and "Clé ou utilisateur introuvable." in text(page)
    page = client.get("/admin/cles/JT-0001")
    answer = client.post("/admin/cles/action", data={"csrf_token": csrf_token(page.text), "serie": "JT-0001",
                                                     "action": "fondre"})
    assert answer.status_code == 400


def test_users_list_and_a_users_page(any_world, admin):
    world = any_world
    world.store.add_user("sansclef", "Sans Clef")
    everyone = admin.get("/admin/utilisateurs")
    assert listed(everyone) == ["adurand", "jdupont", "mmartin", "sansclef"]
    row = re.search(r'<tr><td><a href="/admin/utilisateurs/jdupont">.*?</tr>', everyone.text, re.S).group(0)
    assert "JT-0001 (affectée (nouveau PIN))" in text(row) and 'aria-label="Accès de secours pour jdupont"' in row
    assert listed(admin.get("/admin/utilisateurs?role=admin")) == ["adurand"]
    assert listed(admin.get("/admin/utilisateurs?cle=sans")) == ["sansclef"]
    assert listed(admin.get(f"/admin/utilisateurs?classe={world.class_id('3B')}")) == ["mmartin"]
    assert listed(admin.get("/admin/utilisateurs?q=MART")) == ["mmartin"]
    page = admin.get("/admin/utilisateurs/mmartin")
    said = text(page)
    assert "Marie Martin (mmartin)" in said and "Rôle professeur" in said and "Classes 3A, 3B" in said
    assert "Sessions ouvertes 0" in said and '<a href="/admin/cles/JT-0002">JT-0002</a>' in page.text
    assert "utilisateur ajouté" in page.text.split("<h2>Journal</h2>")[1]
    assert ">Changer le rôle</button>" in page.text and '<label for="nouveau-role">Nouveau rôle</label>' in page.text


def test_role_change_from_the_users_page_returns_to_it(world, client):
    world.log_in(client, "adurand")
    confirm = client.get("/admin/cles/confirmer", query_string={"action": "role", "identifiant": "mmartin",
                                                                 "role": "admin"})
    assert '<a href="/admin/utilisateurs/mmartin">Annuler</a>' in confirm.text
    answer = client.post("/admin/cles/action", data={"csrf_token": csrf_token(confirm.text), "action": "role",
                                                     "identifiant": "mmartin", "role": "admin", "confirme": "oui"})
    assert answer.headers["Location"].endswith("/admin/utilisateurs/mmartin")
    page = client.get(answer.headers["Location"])
    assert "Rôle de mmartin : administrateur." in text(page) and "Rôle administrateur" in text(page)
    # two administrators now: adurand's page offers the change again
    assert ">Changer le rôle</button>" in client.get("/admin/utilisateurs/adurand").text


def test_choosing_the_role_a_user_already_has_changes_nothing(world, client):
    world.log_in(client, "adurand")
    confirm = client.get("/admin/cles/confirmer", query_string={"action": "role", "identifiant": "jdupont",
                                                                 "role": "teacher"})
    assert "jdupont est déjà professeur : rien à changer." in text(confirm)
    assert "<button" not in confirm.text.split("<main>")[1]
    assert '<a href="/admin/utilisateurs/jdupont">Retour à la fiche de jdupont</a>' in confirm.text
