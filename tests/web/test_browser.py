"""End to end in Debian's chromium: the teachers' guide, whole path, on a real HTTP server.

Here the token's code is computed with pyotp from the secret seeded into the store, and the application's clock
is the test's, passed to the verifier as ``now=``: "wait for the code to change" is one step of that clock, and
the dates on the screenshots (docs/img/, for the guide) are fixed. test_browser_simulated.py walks the same path
with the real simulated token on the real clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.support import PIN, code_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def shot(page, name):
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / f"{name}.png"), full_page=True)


def log_in_with_keyboard(page, base, login, passcode):
    page.goto(f"{base}/connexion/")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de Passe ou Passcode OTP").fill(passcode)
    page.keyboard.press("Enter")


def test_the_guide_from_first_login_to_a_validated_competence(world, server, page):
    base, clock = server, world.clock
    page.set_viewport_size({"width": 1100, "height": 800})
    page.set_default_timeout(8000)

    # Partie 1, étape 2: identifiant and the 6 digits alone
    page.goto(f"{base}/connexion/")
    page.get_by_label("Identifiant").fill("jdupont")
    page.get_by_label("Mot de Passe ou Passcode OTP").fill(code_for("jdupont", clock.t))
    shot(page, "01-authentification")
    page.get_by_role("button", name="Valider").click()

    # étape 3: new PIN, twice
    page.get_by_text("Saisissez votre nouveau code PIN, contenant de 4 à 6 chiffres:").wait_for()
    page.get_by_label("Saisissez votre nouveau code PIN").fill(PIN)
    page.get_by_label("Confirmez votre nouveau code PIN").fill(PIN)
    shot(page, "02-nouveau-pin")
    page.get_by_role("button", name="Valider").click()

    # étape 4: wait for the key's code to change, then PIN + code
    page.get_by_text("Attendez que le code de votre clé change, puis saisissez votre PASSCODE:").wait_for()
    shot(page, "03-passcode")
    clock.step()
    page.get_by_label("Attendez que le code de votre clé change").fill(PIN + code_for("jdupont", clock.t))
    page.get_by_role("button", name="Valider").click()

    # Partie 3: the booklet, choose the class
    page.get_by_text("Accès au livret - OTP").wait_for()
    assert page.get_by_role("link", name="3B").count() == 0
    shot(page, "04-classes")
    page.get_by_role("link", name="3A").click()

    # the dual list: Ctrl-click two pupils, move them, then select them all
    left = page.locator("#eleves-classe")
    right = page.locator("#eleves-choisis")
    left.locator("option", has_text="Bernard Léa").click()
    left.locator("option", has_text="Petit Hugo").click(modifiers=["Control"])
    page.get_by_role("button", name="Ajouter les élèves sélectionnés").click()
    assert right.locator("option").all_inner_texts() == ["Bernard Léa", "Petit Hugo"]
    assert left.locator("option").count() == 4
    page.get_by_role("button", name="Sélectionner tous les élèves").click()
    assert right.locator("option").count() == 6 and left.locator("option").count() == 0
    shot(page, "05-liste-eleves")
    page.get_by_role("button", name="Accéder au livret de compétences").click()

    # the livret of 6 pupils: star an item, see the reminder, save
    page.get_by_text("6 élèves sélectionnés").wait_for()
    page.get_by_role("button", name="Item C1.2 : non acquis").click()  # a star: a button
    assert page.locator("#item-C1\\.2").is_checked()
    assert "urgent" in (page.locator("#rappel").get_attribute("class") or "")
    shot(page, "06-livret-etoile")
    # leaving with unsaved work warns
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    page.get_by_role("link", name="Compétence 7").click()
    assert messages and "N'oubliez pas d'enregistrer" in messages[0]
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Enregistré : 6 item(s) renseigné(s).").wait_for()

    # a whole compétence at once, then save, reload, kept
    page.get_by_role("link", name="Compétence 7").click()
    page.get_by_role("button", name="Valider tous les items de la compétence 7").click()
    assert page.locator("input.star:checked").count() == 11
    shot(page, "07-competence-entiere")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Enregistré : 66 item(s) renseigné(s).").wait_for()
    page.reload()
    assert page.locator("input.star:checked").count() == 11
    assert page.get_by_text("renseigné pour 6/6 élèves").count() == 11
    page.get_by_role("link", name="Compétence 1").click()
    assert page.locator("#item-C1\\.2").is_checked()
    page.get_by_role("button", name="Déconnexion").click()
    page.get_by_role("heading", name="Authentification").wait_for()

    # the administrator (PIN already chosen) validates compétence 1 for one pupil
    world.activate("adurand")
    log_in_with_keyboard(page, base, "adurand", PIN + code_for("adurand", clock.t))
    page.get_by_role("link", name="3A").click()
    page.locator("#eleves-classe option", has_text="Bernard Léa").click()
    page.get_by_role("button", name="Ajouter les élèves sélectionnés").click()
    page.get_by_role("button", name="Accéder au livret de compétences").click()
    page.get_by_text("Sélection élève unique : vous pouvez modifier les éléments selon les règles d'autorisation.") \
        .wait_for()
    page.get_by_text("En tant qu'administrateur, vous pouvez modifier les compétences de l'élève.").wait_for()
    assert page.get_by_text("renseigné par Jean Dupont le 15/01/2027").count() == 1
    page.get_by_role("button", name="Administrer").click()
    page.get_by_text("La compétence 1 est validée").first.wait_for()
    assert page.get_by_role("button", name="Annuler").count() == 1
    shot(page, "08-competence-validee")


def test_the_pages_work_with_the_keyboard(world, server, page):
    base, clock = server, world.clock
    world.activate("jdupont")
    log_in_with_keyboard(page, base, "jdupont", PIN + code_for("jdupont", clock.t))
    page.get_by_text("Accès au livret - OTP").wait_for()
    page.get_by_role("link", name="3A").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/classe/*")
    page.wait_for_load_state("load")  # the dual list's keys are the page script's: wait until it has run
    # select the first pupil with the arrow keys, extend with Shift, move with Enter
    page.locator("#eleves-classe").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Enter")
    assert page.locator("#eleves-choisis option").count() == 2
    page.get_by_role("button", name="Accéder au livret de compétences").focus()
    page.keyboard.press("Enter")
    page.get_by_text("2 élèves sélectionnés").wait_for()
    star = page.get_by_role("button", name="Item C1.5 : non acquis")
    star.focus()
    page.keyboard.press("Space")  # a star is a button: Space (or Enter) presses it
    assert page.locator("#item-C1\\.5").is_checked()
    assert page.get_by_role("button", name="Item C1.5 : acquis").get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="Enregistrer").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Enregistré : 2 item(s) renseigné(s).").wait_for()
