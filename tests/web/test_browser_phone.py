"""The booklet on a phone (issue 16): the whole teacher's guide by taps in Chromium's phone emulation (390×844,
touch, mobile), the same by keyboard on a desktop, axe-core on every page of both (the console's pages too), and no
page wider than the screen at 360 and 390 px. The screenshots (40-…) illustrate docs/booklet.md and the guide."""

from __future__ import annotations

import pytest

from tests.web.support import PIN, code_for
from tests.web.test_browser import IMG, log_in_with_keyboard, shot
from tests.web.test_browser_console import accessible

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}


@pytest.fixture
def phone(browser):
    """A page in a phone's browser (touch screen, no mouse); JavaScript errors fail the test."""
    context = browser.new_context(locale="fr-FR", **PHONE)
    page = context.new_page()
    page.set_default_timeout(8000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def phone_shot(page, name, element=None) -> None:
    """A screenful, as the phone shows it (scrolled to ``element``): a full-page screenshot would leave the phone's
    emulation while it is taken, and the page would be drawn for a mouse."""
    if element is not None:
        element.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(IMG / f"{name}.png"))


def fits(page) -> None:
    """The page does not scroll sideways: its content is no wider than the window."""
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url}: {width} px of content in a {inner} px window"


def checked(page) -> None:
    """axe-core finds nothing and the page fits the screen."""
    accessible(page)
    fits(page)


STATE = {"JETON_STATE_SERVICE": True, "JETON_STATE_LINES": "Ministère|de l'Éducation|nationale"}


@pytest.fixture(params=["jeton", "etat"])
def look(request, world) -> str:
    """Both looks of the site: Jeton's own (the default) and the DSFR of a State service's site."""
    if request.param == "etat":
        world.app.config.update(STATE)
    return request.param


def console_pages(world) -> dict[str, str]:
    """Every page of the console an administrator reads (as in test_authorisation), by name."""
    a = world.class_id("3A")
    return {
        "administration": "/admin/", "clés": "/admin/cles", "clé": "/admin/cles/JT-0001",
        "clés filtrées": f"/admin/cles?q=JT&etat=active&classe={a}",
        "utilisateurs": "/admin/utilisateurs", "utilisateur": "/admin/utilisateurs/jdupont",
        "journal": "/admin/journal", "journal des connexions": "/admin/journal-connexions",
        "import": "/admin/import", "import des clés": "/admin/import-cles", "export XML": "/admin/export.xml",
        "accès de secours": "/admin/secours/jdupont", "sessions": "/admin/sessions",
        "confirmation": "/admin/cles/confirmer?action=desactiver&serie=JT-0001",
        "santé des clés": "/admin/sante", "santé d'une clé": "/admin/sante/JT-0001",
    }


def test_the_guide_by_taps_on_a_phone(world, server, phone, look):
    base, clock, page = server, world.clock, phone

    def snap(page, name, element=None):  # the pictures of the docs show the default look
        if look == "jeton":
            phone_shot(page, name, element)
    assert page.evaluate("matchMedia('(pointer: coarse)').matches")

    # Partie 1: first login, the 6 digits alone, a new PIN, then PIN + the next code
    page.goto(f"{base}/connexion/")
    sheets = page.evaluate("[...document.styleSheets].map(s => s.href.split('/static/')[1])")
    assert sheets[0] == {"jeton": "jeton.css", "etat": "dsfr/dsfr.min.css"}[look]
    checked(page)
    page.get_by_label("Identifiant").tap()
    page.keyboard.type("jdupont")
    page.get_by_label("Mot de Passe ou Passcode OTP").tap()
    page.keyboard.type(code_for("jdupont", clock.t))
    snap(page, "40-telephone-authentification")
    page.get_by_role("button", name="Valider").tap()
    page.get_by_label("Saisissez votre nouveau code PIN").tap()
    page.keyboard.type(PIN)
    page.get_by_label("Confirmez votre nouveau code PIN").tap()
    page.keyboard.type(PIN)
    checked(page)
    page.get_by_role("button", name="Valider").tap()
    page.get_by_text("Attendez que le code de votre clé change").first.wait_for()
    checked(page)
    clock.step()
    page.get_by_label("Attendez que le code de votre clé change").tap()
    page.keyboard.type(PIN + code_for("jdupont", clock.t))
    page.get_by_role("button", name="Valider").tap()

    # Partie 3: the class, then the pupils by check boxes: search, tick one, then "Tous"
    page.get_by_text("Accès au livret - OTP").wait_for()
    checked(page)
    page.get_by_role("link", name="3A").tap()
    assert page.locator("#eleves-classe").is_hidden()
    page.get_by_label("Rechercher un élève").tap()
    page.keyboard.type("pet")
    assert page.locator("#cases-eleves li:visible").all_inner_texts() == ["Petit Hugo"]
    page.locator("label", has_text="Petit Hugo").tap()
    assert page.get_by_label("Petit Hugo").is_checked()
    page.get_by_text("1 élève coché.").wait_for()
    page.get_by_label("Rechercher un élève").fill("")
    page.get_by_label("Rechercher un élève").dispatch_event("input")
    assert page.locator("#cases-eleves li:visible").count() == 6
    checked(page)
    page.locator("label", has_text="Tous").tap()
    page.get_by_text("6 élèves cochés.").wait_for()
    snap(page, "41-telephone-choix-des-eleves", page.get_by_text("2) Cochez un ou plusieurs élèves"))
    page.get_by_role("button", name="Accéder au livret de compétences").tap()

    # the livret of the 6 pupils: a star, save; a whole compétence, save
    page.get_by_text("6 élèves sélectionnés").wait_for()
    checked(page)
    page.get_by_role("button", name="Item C1.2 : non acquis").tap()  # a star: a button of at least 44 px
    assert page.locator("#item-C1\\.2").is_checked()
    snap(page, "42-telephone-livret", page.get_by_role("heading", name="Compétence 1", exact=False).first)
    page.get_by_role("button", name="Enregistrer").tap()
    page.get_by_text("Enregistré : 6 item(s) renseigné(s).").wait_for()
    page.get_by_role("link", name="Compétence 7").tap()
    page.get_by_role("button", name="Valider tous les items de la compétence 7").tap()
    page.get_by_role("button", name="Enregistrer").tap()
    page.get_by_text("Enregistré : 66 item(s) renseigné(s).").wait_for()
    checked(page)

    # the guide itself, from the "Aide" link, with its pictures
    page.get_by_role("link", name="Aide", exact=True).tap()
    page.get_by_role("heading", name="Guide de l'enseignant : la clé OTP et le Livret Personnel de Compétences") \
        .wait_for()
    page.wait_for_load_state("load")  # every picture loaded (or failed)
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    checked(page)
    snap(page, "43-telephone-aide", page.get_by_role("img", name="Sélectionner une classe"))
    page.get_by_role("link", name="Mes sessions").tap()
    page.get_by_role("heading", name="Mes sessions ouvertes").wait_for()
    checked(page)
    page.get_by_role("button", name="Déconnexion").tap()
    page.get_by_role("heading", name="Authentification").wait_for()


def test_the_console_by_taps_on_a_phone(world, server, phone):
    base, clock, page = server, world.clock, phone
    world.activate("jdupont")
    world.activate("adurand")
    log_in_with_keyboard(page, base, "adurand", PIN + code_for("adurand", clock.t))
    page.get_by_role("link", name="Administration").tap()
    page.get_by_role("link", name="Clés", exact=True).tap()
    page.get_by_role("link", name="JT-0001").tap()
    page.get_by_role("heading", name="Clé JT-0001").wait_for()
    phone_shot(page, "44-telephone-page-d-une-cle")
    for name, url in console_pages(world).items():
        page.goto(base + url)
        assert page.title(), name
        checked(page)


def test_no_page_scrolls_sideways_at_360_px(world, server, browser, look):
    base, clock = server, world.clock
    context = browser.new_context(locale="fr-FR", **{**PHONE, "viewport": {"width": 360, "height": 740}})
    page = context.new_page()
    page.goto(f"{base}/connexion/")
    fits(page)
    page.goto(f"{base}/aide/")
    fits(page)
    world.activate("adurand")
    log_in_with_keyboard(page, base, "adurand", PIN + code_for("adurand", clock.t))
    page.get_by_text("Accès au livret - OTP").wait_for()
    fits(page)
    a, pupil = world.class_id("3A"), world.pupil_ids("3A")[0]
    booklet = {"classe": f"/classe/{a}", "livret": f"/livret?classe={a}&eleve={pupil}&competence=C1",
               "livret imprimable": f"/eleve/{pupil}/livret", "mes sessions": "/connexion/sessions",
               "page introuvable": "/nulle-part"}
    for url in [*booklet.values(), *console_pages(world).values()]:
        page.goto(base + url)
        fits(page)
    context.close()


def test_the_guide_by_keyboard_on_a_desktop(world, server, page):
    base, clock = server, world.clock
    page.set_viewport_size({"width": 1100, "height": 800})
    page.set_default_timeout(8000)
    world.activate("jdupont")
    page.goto(f"{base}/connexion/")
    checked(page)
    log_in_with_keyboard(page, base, "jdupont", PIN + code_for("jdupont", clock.t))
    page.get_by_text("Accès au livret - OTP").wait_for()
    checked(page)
    page.get_by_role("link", name="3A").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/classe/*")
    page.wait_for_load_state("load")
    # a mouse and a keyboard: the dual list, not the check boxes
    assert page.locator("#cases-eleves").is_hidden() and page.locator("#eleves-classe").is_visible()
    checked(page)
    shot(page, "45-ordinateur-choix-des-eleves")
    page.locator("#eleves-classe").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Accéder au livret de compétences").focus()
    page.keyboard.press("Enter")
    page.get_by_text("2 élèves sélectionnés").wait_for()
    checked(page)
    page.get_by_role("button", name="Item C1.2 : non acquis").focus()
    page.keyboard.press("Space")
    assert page.locator("#item-C1\\.2").is_checked()
    page.get_by_role("button", name="Enregistrer").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Enregistré : 2 item(s) renseigné(s).").wait_for()
    checked(page)
    shot(page, "46-ordinateur-livret")
    page.get_by_role("link", name="Aide", exact=True).focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Partie 1 : initialiser sa clé OTP (première utilisation)").wait_for()
    checked(page)
    page.get_by_role("button", name="Déconnexion").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Authentification").wait_for()


def test_the_console_by_keyboard_on_a_desktop(world, server, page):
    base, clock = server, world.clock
    page.set_viewport_size({"width": 1100, "height": 800})
    page.set_default_timeout(8000)
    world.activate("adurand")
    log_in_with_keyboard(page, base, "adurand", PIN + code_for("adurand", clock.t))
    page.get_by_role("link", name="Administration").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Administration").first.wait_for()
    shot(page, "47-ordinateur-administration")
    for name, url in console_pages(world).items():
        page.goto(base + url)
        assert page.title(), name
        checked(page)


def test_a_state_services_site_on_a_phone_and_a_desktop(world, server, phone, page):
    """With JETON_STATE_SERVICE, the State's brand block and the Marianne font (its own files) are shown; axe-core
    still finds nothing and the page still fits."""
    world.app.config.update(STATE)
    for browser_page, name in ((phone, "48-telephone-service-de-l-etat"), (page, "49-ordinateur-service-de-l-etat")):
        if browser_page is page:
            page.set_viewport_size({"width": 1100, "height": 800})
        browser_page.goto(f"{server}/connexion/")
        assert browser_page.locator(".fr-logo").inner_html() == "Ministère<br>de l'Éducation<br>nationale"
        browser_page.evaluate("document.fonts.ready")
        assert browser_page.evaluate("document.fonts.check('1em Marianne')")
        assert browser_page.evaluate("[...document.fonts].some(f => f.family === 'Marianne' && f.status === 'loaded')")
        checked(browser_page)
        (phone_shot if browser_page is phone else shot)(browser_page, name)
