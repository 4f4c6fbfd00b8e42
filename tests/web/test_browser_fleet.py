"""The token and user console in Debian's chromium, driven by its French labels (issue 17, item 1): an
administrator finds a token by search and filters, opens it, resynchronises it with two codes read off it, disables
it as lost through its confirmation page, and makes a teacher an administrator; axe-core finds no violation on any
page visited. The screenshots 24 to 27 illustrate docs/it-staff.md."""

from __future__ import annotations

import pytest

from tests.web.support import PIN, code_for
from tests.web.test_browser import log_in_with_keyboard, shot
from tests.web.test_browser_console import accessible

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_find_a_token_resync_it_disable_it_then_change_a_role(world, server, page):
    base, clock = server, world.clock
    page.set_viewport_size({"width": 1100, "height": 800})
    page.set_default_timeout(8000)
    world.activate("jdupont")
    world.activate("adurand")
    world.store.import_token("JT-0900", b"spare-token-secret-0900", now=clock.t)
    log_in_with_keyboard(page, base, "adurand", PIN + code_for("adurand", clock.t))
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Clés", exact=True).click()
    page.get_by_text("4 clés : 1 à 4.").wait_for()
    accessible(page)

    # find jdupont's token: part of his name, the active tokens of class 3A
    page.get_by_label("Rechercher").fill("dupont")
    page.get_by_label("État").select_option(label="active")
    page.get_by_label("Classe").select_option(label="3A")
    page.get_by_role("button", name="Filtrer").click()
    page.get_by_text("1 clé : 1 à 1.").wait_for()
    assert page.get_by_role("link", name="JT-0002").count() == 0
    assert page.get_by_label("État").input_value() == "active"  # the filters stay as chosen
    shot(page, "24-liste-des-cles")
    accessible(page)
    page.get_by_role("link", name="JT-0001").click()
    page.get_by_text("État : active.").wait_for()
    accessible(page)

    # its clock ran 10 minutes ahead: two consecutive codes read off the token
    ahead = clock.t + 600
    page.get_by_label("Premier code").fill(code_for("jdupont", ahead + 30))
    page.get_by_label("Code suivant").fill(code_for("jdupont", ahead))
    page.get_by_role("button", name="Resynchroniser").click()
    page.get_by_text("Ces deux codes ne sont pas deux codes consécutifs de la clé JT-0001").wait_for()
    assert world.store.get_token("JT-0001").drift == 0
    page.get_by_label("Premier code").fill(code_for("jdupont", ahead))
    page.get_by_label("Code suivant").fill(code_for("jdupont", ahead + 30))
    page.get_by_role("button", name="Resynchroniser").click()
    page.get_by_text("Clé JT-0001 resynchronisée").wait_for()
    page.get_by_text("+21 pas de 30 s (+630 s)").wait_for()
    assert world.store.get_token("JT-0001").drift == 21
    shot(page, "25-page-d-une-cle")
    accessible(page)

    # lost: "Désactiver (perdue, volée)" says what will happen first
    page.get_by_role("button", name="Désactiver (perdue, volée)").click()
    page.get_by_text("La clé ne permettra plus de se connecter, même avec le bon PIN").wait_for()
    assert page.get_by_label("perdue").is_checked()
    assert world.store.get_token("JT-0001").state == "active"
    accessible(page)
    page.get_by_role("button", name="Désactiver la clé JT-0001").click()
    page.get_by_text("Clé JT-0001 désactivée (perdue).").wait_for()
    page.get_by_text("État : désactivée (perdue).").wait_for()
    assert world.store.get_token("JT-0001").state == "disabled"
    page.get_by_role("cell", name="clé désactivée").first.wait_for()  # in its history, in words
    accessible(page)

    # jdupont becomes an administrator: his page, "Nouveau rôle", the confirmation
    page.get_by_role("link", name="Jean Dupont (jdupont)").click()
    page.get_by_role("heading", name="Jean Dupont (jdupont)").wait_for()
    shot(page, "26-fiche-utilisateur")
    accessible(page)
    page.get_by_label("Nouveau rôle").select_option(label="administrateur")
    page.get_by_role("button", name="Changer le rôle").click()
    page.get_by_text("jdupont pourra gérer les utilisateurs, les clés et les classes").wait_for()
    assert world.store.get_user("jdupont").role == "teacher"
    shot(page, "27-confirmer-changement-de-role")
    accessible(page)
    page.get_by_role("button", name="Rendre jdupont administrateur").click()
    page.get_by_text("Rôle de jdupont : administrateur.").wait_for()
    assert world.store.get_user("jdupont").role == "admin"
    accessible(page)

    # the users list, filtered by role, shows both administrators
    page.get_by_role("link", name="Tous les utilisateurs").click()
    page.get_by_label("Rôle").select_option(label="administrateur")
    page.get_by_role("button", name="Filtrer").click()
    page.get_by_text("2 utilisateurs : 1 à 2.").wait_for()
    assert page.get_by_role("link", name="jdupont", exact=True).count() == 1
    accessible(page)
