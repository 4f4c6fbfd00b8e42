"""The administration console in Debian's chromium, driven by its French labels (issue 17): emergency access for
a token left at home, and a token disabled as lost through its confirmation page; axe-core finds no violation on
any page it visits. The screenshots illustrate docs/it-staff.md."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.web.support import PIN, code_for
from tests.web.test_browser import IMG, log_in_with_keyboard, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
AXE = Axe()


def accessible(page) -> None:
    """axe-core (WCAG 2 A/AA rules and best practices) finds no violation on the page as it is now."""
    results = AXE.run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def test_token_at_home_emergency_access_then_lost_token_disabled(world, server, page):
    base, clock = server, world.clock
    page.set_viewport_size({"width": 1100, "height": 800})
    page.set_default_timeout(8000)
    world.activate("jdupont")
    world.activate("adurand")
    log_in_with_keyboard(page, base, "adurand", PIN + code_for("adurand", clock.t))
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Utilisateurs", exact=True).click()
    accessible(page)

    # jdupont left the token at home: "Accès de secours" on his line, read what will happen, confirm
    page.get_by_role("link", name="Accès de secours pour jdupont").click()
    page.get_by_text("un code de secours temporaire est créé pour jdupont").wait_for()
    shot(page, "20-acces-de-secours")
    accessible(page)
    page.get_by_role("button", name="Délivrer l'accès de secours").click()
    page.get_by_text("Ce code ne sera plus affiché").wait_for()
    code = page.locator("#code-secours").inner_text()
    assert re.fullmatch(r"\d{8}", code)
    accessible(page)
    # the guide shows the page with the code masked: it changes at every run, and a code belongs on no picture
    page.screenshot(path=str(IMG / "21-code-de-secours.png"), full_page=True, mask=[page.locator("#code-secours")])

    # the teacher, in another browser context: his PIN, then the emergency code in place of the token's 6 digits
    teacher = page.context.browser.new_context().new_page()
    log_in_with_keyboard(teacher, base, "jdupont", PIN + code)
    teacher.get_by_text("Accès au livret - OTP").wait_for()
    teacher.context.close()

    # the token is lost after all: on its page, "Désactiver (perdue, volée)" opens its confirmation page first
    page.get_by_role("link", name="Retour à la fiche de jdupont").click()
    page.get_by_role("link", name="JT-0001").click()
    page.get_by_role("button", name="Désactiver (perdue, volée)").click()
    page.get_by_text("La clé ne permettra plus de se connecter, même avec le bon PIN").wait_for()
    assert world.store.get_token("JT-0001").state == "active"
    shot(page, "22-confirmer-desactivation")
    accessible(page)
    page.get_by_role("button", name="Désactiver la clé JT-0001").click()
    page.get_by_text("Clé JT-0001 désactivée (perdue).").wait_for()
    assert world.store.get_token("JT-0001").state == "disabled"

    # the journal tells it in words
    page.get_by_role("link", name="Toutes les clés").click()
    page.get_by_role("link", name="Journal des connexions et des actions sur les clés").click()
    page.get_by_label("Du").fill("2027-01-15")  # the test's day only (the roster was imported today)
    page.get_by_role("button", name="Filtrer").click()
    page.get_by_role("cell", name="accès de secours délivré").wait_for()
    assert page.get_by_role("cell", name="utilisateur ajouté").count() == 0
    assert page.get_by_role("cell", name="accepté (accès de secours)").count() == 1
    shot(page, "23-journal-des-connexions")
    accessible(page)
