"""No lost work on the livret, in Debian's chromium (issue 16): stars kept in the browser while the session ends,
the login back to the same livret, one Enregistrer that records each star once; a lost connection retried; the
warning two minutes before the idle end and "Rester connecté"; stars that do not rely on colour (shape, word,
name, 44 px, contrast); the first login's "wait for the next code". axe-core on the livret in each state."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from booklet_web.tables import audit as booklet_audit
from booklet_web.tables import item_records
from tests.web.support import PIN, code_for, csrf_token
from tests.web.test_browser import log_in_with_keyboard, shot
from tests.web.test_browser_console import accessible
from verifier.schema import sessions

#: what chromium logs (as console errors) for a response the page expects: the 401 of an ended session, a request
#: made offline; a script error or any other failed load still fails the test
EXPECTED_LOADS = ("status of 401", "ERR_INTERNET_DISCONNECTED")


@pytest.fixture
def page(browser):
    """The shared fixture's page (console and page errors fail the test), but for the expected failed loads."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []

    def console(msg):
        if msg.type == "error" and not (msg.text.startswith("Failed to load resource")
                                        and any(e in msg.text for e in EXPECTED_LOADS)):
            errors.append(msg.text)

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_viewport_size({"width": 1100, "height": 800})
    page.set_default_timeout(10000)
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def livret_url(world, pupils, competence="C1"):
    return f"/livret?classe={world.class_id('3A')}" + "".join(f"&eleve={p}" for p in pupils) + \
        f"&competence={competence}"


def rows(world, pupil, item) -> int:
    with world.store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(item_records).where(
            item_records.c.pupil_id == pupil, item_records.c.item_id == item)).scalar_one()


def saves(world) -> int:
    with world.store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(booklet_audit)
                            .where(booklet_audit.c.action == "items-recorded")).scalar_one()


def end_sessions_by_idleness(world):
    """The server's sessions as if nobody had come for 31 minutes (the idle end is 30)."""
    with world.store.engine.begin() as conn:
        conn.execute(sessions.update().values(last_seen=sessions.c.last_seen - 31 * 60))


def kept_in_browser(page) -> dict:
    return page.evaluate("""() => Object.fromEntries(Object.keys(localStorage)
        .filter(k => k.startsWith('jeton-livret:')).map(k => [k, JSON.parse(localStorage.getItem(k))]))""")


def test_stars_kept_while_the_session_ends_then_one_enregistrer_after_the_login(world, server, page):
    base, clock = server, world.clock
    world.activate("jdupont")
    pupil = world.pupil_ids("3A")[0]
    url = livret_url(world, [pupil])
    log_in_with_keyboard(page, base, "jdupont", PIN + code_for("jdupont", clock.t))
    page.get_by_text("Accès au livret - OTP").wait_for()
    page.goto(base + url)
    accessible(page)
    bar = page.locator("#barre-enregistrer")
    assert "Aucune modification non enregistrée" in bar.inner_text()
    page.get_by_role("button", name="Item C1.2 : non acquis").click()
    page.get_by_role("button", name="Item C1.4 : non acquis").click()
    page.get_by_text("2 modification(s) non enregistrée(s)").wait_for()
    assert page.get_by_role("button", name="Item C1.2 : acquis, modification non enregistrée") \
        .get_attribute("aria-pressed") == "true"
    # kept in this browser: items only, under the user, class, pupil and compétence (never a secret)
    kept = kept_in_browser(page)
    assert kept == {f"jeton-livret:{world.users['jdupont']}:{world.class_id('3A')}:{pupil}:C1":
                    {"C1.2": True, "C1.4": True}}
    # the bar stays on screen at the bottom while the page scrolls
    page.mouse.wheel(0, -5000)
    box = bar.bounding_box()
    assert box and box["y"] + box["height"] <= 800 + 1 and box["y"] > 600
    accessible(page)
    shot(page, "50-livret-barre-enregistrer")

    # the session ends on the server while she works; Enregistrer says so and keeps everything
    end_sessions_by_idleness(world)
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Votre session a expiré : vos modifications sont gardées dans ce navigateur.").wait_for()
    relog = page.get_by_role("link", name="Se reconnecter")
    assert relog.evaluate("e => e === document.activeElement")
    assert rows(world, pupil, "C1.2") == 0 and len(kept_in_browser(page)) == 1
    accessible(page)
    shot(page, "51-livret-session-expiree")

    # log in again (PIN + a later code): back on the same livret, the stars put back, one Enregistrer
    relog.click()
    clock.step()
    page.get_by_label("Identifiant").fill("jdupont")
    page.get_by_label("Mot de Passe ou Passcode OTP").fill(PIN + code_for("jdupont", clock.t))
    page.get_by_role("button", name="Valider").click()
    page.get_by_text("2 modification(s) gardée(s) dans ce navigateur ont été rétablie(s)").wait_for()
    assert page.url == base + url
    page.get_by_text("2 modification(s) non enregistrée(s)").wait_for()
    assert page.get_by_role("button", name="Item C1.4 : acquis, modification non enregistrée") \
        .get_attribute("aria-pressed") == "true"
    accessible(page)
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Enregistré : 2 item(s) renseigné(s).").wait_for()
    assert kept_in_browser(page) == {}
    assert rows(world, pupil, "C1.2") == 1 and rows(world, pupil, "C1.4") == 1 and saves(world) == 1
    assert page.get_by_role("button", name=re.compile(r"Item C1\.2 : acquis, renseigné par Jean Dupont le ")) \
        .get_attribute("aria-pressed") == "true"
    # Enregistrer again: nothing new is recorded
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Enregistré : 0 item(s) renseigné(s).").wait_for()
    assert rows(world, pupil, "C1.2") == 1 and saves(world) == 1


def test_a_lost_connection_is_retried_and_nothing_is_lost(world, server, page):
    base, clock = server, world.clock
    world.activate("jdupont")
    pupils = world.pupil_ids("3A")[:3]
    log_in_with_keyboard(page, base, "jdupont", PIN + code_for("jdupont", clock.t))
    page.get_by_text("Accès au livret - OTP").wait_for()
    page.goto(base + livret_url(world, pupils, "C3"))
    page.get_by_role("button", name="Item C3.1 : non acquis").click()
    page.context.set_offline(True)
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text(re.compile(r"Connexion perdue, nouvel essai dans [12] s…")).wait_for()
    # the first retry fails too: the wait doubles
    page.get_by_text(re.compile(r"Connexion perdue, nouvel essai dans [34] s…")).wait_for()
    assert len(kept_in_browser(page)) == 1
    accessible(page)
    shot(page, "52-livret-connexion-perdue")
    page.context.set_offline(False)
    page.get_by_text("Enregistré : 3 item(s) renseigné(s).").wait_for()
    assert all(rows(world, p, "C3.1") == 1 for p in pupils) and saves(world) == 1
    assert kept_in_browser(page) == {}
    # leaving with an unsaved star asks first (beforeunload)
    page.get_by_role("button", name="Item C3.2 : non acquis").click()
    with page.expect_event("dialog") as asked:
        page.close(run_before_unload=True)
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()


def test_the_warning_before_the_idle_end_and_rester_connecte(world, server, page):
    base, clock = server, world.clock
    world.activate("jdupont")
    log_in_with_keyboard(page, base, "jdupont", PIN + code_for("jdupont", clock.t))
    page.get_by_text("Accès au livret - OTP").wait_for()
    page.clock.install()  # the page's timers on a clock the test moves, as the app's
    page.goto(base + livret_url(world, world.pupil_ids("3A")[:1]))
    page.get_by_role("button", name="Item C1.1 : non acquis").focus()
    warning = page.get_by_role("alertdialog", name="Votre session va expirer dans 2 minutes")
    page.clock.run_for("27:00")
    assert warning.count() == 0 or not warning.is_visible()
    clock.t += 28 * 60 + 5
    page.clock.run_for("01:05")
    warning.wait_for()
    stay = page.get_by_role("button", name="Rester connecté")
    assert stay.evaluate("e => e === document.activeElement")  # the focus moved into the dialog
    page.keyboard.press("Tab")
    assert stay.evaluate("e => e === document.activeElement")  # and stays there
    accessible(page)
    shot(page, "53-livret-avertissement-session")
    page.keyboard.press("Escape")  # Escape closes it, the focus goes back to the star
    assert not warning.is_visible()
    assert page.get_by_role("button", name="Item C1.1 : non acquis").evaluate("e => e === document.activeElement")
    page.evaluate("() => document.getElementById('avertissement-session').hidden = false")  # shown again
    stay.focus()
    page.keyboard.press("Enter")
    page.get_by_text("Session prolongée.").wait_for()
    assert not warning.is_visible()
    assert page.get_by_role("button", name="Item C1.1 : non acquis").evaluate("e => e === document.activeElement")
    with world.store.engine.connect() as conn:
        assert conn.execute(sa.select(sessions.c.last_seen)).scalar_one() == clock.t
    # 20 minutes later (48 after the page was read): still logged in, because she stayed
    clock.t += 20 * 60
    page.reload()
    page.get_by_role("heading", name="Livret personnel de compétences").wait_for()
    assert "/livret?" in page.url


def rgb(value: str) -> tuple[float, float, float]:
    r, g, b = (int(x) for x in re.findall(r"\d+", value)[:3])
    return r, g, b


def contrast(a: str, b: str) -> float:
    """WCAG 2.2 contrast ratio of two CSS colours (rgb()/rgba() with full opacity)."""
    def lum(c):
        ch = [x / 255 for x in rgb(c)]
        ch = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in ch]
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_stars_differ_by_shape_word_and_name_not_colour(world, server, page):
    base, clock = server, world.clock
    pupil = world.pupil_ids("3A")[0]
    # Marie Martin recorded C1.1; the administrator validated compétence 1 for this pupil
    other = world.app.test_client()
    world.log_in(other, "mmartin")
    form = other.get(livret_url(world, [pupil]))
    other.post("/livret/enregistrer", data={"csrf_token": csrf_token(form.text), "classe": world.class_id("3A"),
                                            "eleve": pupil, "competence": "C1", "item": "C1.1"})
    admin = world.app.test_client()
    world.log_in(admin, "adurand")
    form = admin.get(livret_url(world, [pupil], "C2"))
    admin.post("/livret/competence", data={"csrf_token": csrf_token(form.text), "classe": world.class_id("3A"),
                                           "eleve": pupil, "competence": "C3", "action": "administrer"})
    form = admin.get(livret_url(world, [pupil], "C3"))
    admin.post("/livret/enregistrer", data={"csrf_token": csrf_token(form.text), "classe": world.class_id("3A"),
                                            "eleve": pupil, "competence": "C3", "item": "C3.1"})
    world.activate("jdupont")
    log_in_with_keyboard(page, base, "jdupont", PIN + code_for("jdupont", clock.t))
    page.get_by_text("Accès au livret - OTP").wait_for()
    page.goto(base + livret_url(world, [pupil]))
    theirs = page.get_by_role("button", name="Item C1.1 : acquis, renseigné par Marie Martin le 15/01/2027 à 09:00")
    assert theirs.get_attribute("aria-pressed") == "true" and theirs.get_attribute("aria-disabled") == "true"
    assert theirs.inner_text().split() == ["★", "acquis"]
    mine = page.get_by_role("button", name="Item C1.2 : non acquis")
    assert mine.get_attribute("aria-pressed") == "false" and mine.inner_text().split() == ["☆", "non", "acquis"]
    mine.focus()
    page.keyboard.press("Enter")
    assert page.get_by_role("button", name="Item C1.2 : acquis, modification non enregistrée") \
        .inner_text().split() == ["★", "acquis"]
    theirs.click(force=True)  # another teacher's record cannot be withdrawn here
    assert theirs.get_attribute("aria-pressed") == "true"
    stars = page.locator("button.etoile")
    assert stars.count() == len(page.locator("input.star").all())
    for i in range(stars.count()):
        star = stars.nth(i)
        box = star.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, star.get_attribute("aria-label")
        colours = star.evaluate("""b => ({bg: getComputedStyle(b).backgroundColor,
            glyph: getComputedStyle(b.querySelector('.glyphe')).color,
            word: getComputedStyle(b.querySelector('.mot')).color,
            border: getComputedStyle(b).borderTopColor,
            page: getComputedStyle(b.closest('fieldset')).backgroundColor})""")
        assert contrast(colours["glyph"], colours["bg"]) >= 3, colours       # WCAG 1.4.11, the glyph
        assert contrast(colours["word"], colours["bg"]) >= 4.5, colours      # WCAG 1.4.3, the word
        assert contrast(colours["border"], colours["page"]) >= 3, colours    # the button's edge
    accessible(page)
    shot(page, "54-livret-etoiles")
    # a validated compétence: its recorded items show a check and "validé"
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("link", name=re.compile("Compétence 3")).click()
    done = page.get_by_role("button", name=re.compile(r"Item C3\.1 : acquis, compétence validée, renseigné par "
                                                      r"Anne Durand"))
    assert done.inner_text().split() == ["✔", "validé"]
    assert page.get_by_role("button", name="Item C3.2 : non acquis").inner_text().split() == ["☆", "non", "acquis"]
    accessible(page)


def test_first_login_the_code_that_chose_the_pin_again_says_wait(world, server, page):
    base, clock = server, world.clock
    first = code_for("jdupont", clock.t)
    page.goto(f"{base}/connexion/")
    page.get_by_label("Identifiant").fill("jdupont")
    page.get_by_label("Mot de Passe ou Passcode OTP").fill(first)
    page.get_by_role("button", name="Valider").click()
    page.get_by_label("Saisissez votre nouveau code PIN").fill(PIN)
    page.get_by_label("Confirmez votre nouveau code PIN").fill(PIN)
    page.get_by_role("button", name="Valider").click()
    page.get_by_label("Attendez que le code de votre clé change").fill(PIN + first)
    page.get_by_role("button", name="Valider").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "Attendez que le code de votre clé change, puis saisissez votre PASSCODE"
    accessible(page)
    clock.step()
    page.get_by_label("Attendez que le code de votre clé change").fill(PIN + code_for("jdupont", clock.t))
    page.get_by_role("button", name="Valider").click()
    page.get_by_text("Accès au livret - OTP").wait_for()


def test_without_javascript_the_livret_still_saves(world, server, browser):
    base, clock = server, world.clock
    world.activate("jdupont")
    pupil = world.pupil_ids("3A")[0]
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(10000)
        log_in_with_keyboard(page, base, "jdupont", PIN + code_for("jdupont", clock.t))
        page.get_by_text("Accès au livret - OTP").wait_for()
        page.goto(base + livret_url(world, [pupil]))
        assert page.locator("button.etoile").count() == 0  # the checkboxes, as before
        page.locator("label[for='item-C1.6']").click()
        page.get_by_role("button", name="Enregistrer").click()
        page.get_by_text("Enregistré : 1 item(s) renseigné(s).").wait_for()
        assert rows(world, pupil, "C1.6") == 1 and page.locator("#item-C1\\.6").is_checked()
    finally:
        context.close()
