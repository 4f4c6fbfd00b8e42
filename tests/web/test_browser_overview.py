"""The class overview and the livret as PDF in Debian's chromium (issue 16), on a 390 x 844 touch phone and on a
desktop: the table fits a phone or scrolls inside its own frame, a tap on a pupil's name opens his livret, the PDF
downloads under his name; axe-core finds no violation. The screenshots illustrate docs/guide-enseignant.md."""

from __future__ import annotations

import pytest

from tests.web.support import PIN, code_for
from tests.web.test_browser import log_in_with_keyboard, shot
from tests.web.test_browser_console import accessible
from tests.web.test_livret import save
from tests.web.test_overview import administer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def record_some_work(world):
    """Stars and validations through the real save and validation forms, as a teacher and the head did."""
    teacher, head = world.app.test_client(), world.app.test_client()
    world.log_in(teacher, "jdupont")
    world.log_in(head, "adurand")
    lea, emma, hugo = world.pupil_ids("3A")[:3]
    assert save(teacher, world, "3A", [lea, emma, hugo], "C1", items=["C1.1", "C1.2", "C1.3"]).status_code == 302
    assert save(teacher, world, "3A", [lea], "C4", tout=True).status_code == 302
    assert administer(head, world, lea, "C4", "administrer").status_code == 302


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="fr-FR", **PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def overview_frame(page):
    return page.get_by_role("region", name="Tableau de la classe, défilant")


def whole_table_within_reach(page) -> bool:
    """The overview never widens the page, and its last column can be seen: the table fits its frame, or the
    frame scrolls sideways (the page does not). Returns whether the frame had to scroll."""
    frame = overview_frame(page)
    right, page_width, inner, outer, overflow = frame.evaluate(
        "f => [f.getBoundingClientRect().right, document.documentElement.clientWidth, f.scrollWidth, f.clientWidth,"
        " getComputedStyle(f).overflowX]")
    assert right <= page_width, (right, page_width)
    assert overflow == "auto"
    frame.evaluate("f => { f.scrollLeft = f.scrollWidth; }")
    last = frame.evaluate("f => { const c = f.querySelector('tbody tr td:last-child').getBoundingClientRect();"
                          " const b = f.getBoundingClientRect(); return [c.left, c.right, b.left, b.right]; }")
    assert last[2] - 1 <= last[0] and last[1] <= last[3] + 1, last  # the last column in view
    frame.evaluate("f => { f.scrollLeft = 0; }")
    return inner > outer


def test_a_wider_overview_scrolls_in_its_frame_not_the_page(world, server, phone):
    """The DSFR's roomier table (a State service's site) is wider than a 360 px phone: it scrolls in its frame."""
    world.app.config.update(JETON_STATE_SERVICE=True)
    world.activate("jdupont")
    record_some_work(world)
    log_in_with_keyboard(phone, server, "jdupont", PIN + code_for("jdupont", world.clock.t))
    phone.set_viewport_size({"width": 360, "height": 740})
    phone.get_by_role("link", name="3A").tap()
    phone.get_by_role("table", name="Classe 3A : items acquis").wait_for()
    assert whole_table_within_reach(phone)  # it scrolled
    accessible(phone)


def test_the_overview_fits_a_phone_and_a_tap_opens_the_livret(world, server, phone):
    page, clock = phone, world.clock
    page.set_default_timeout(8000)
    world.activate("jdupont")
    record_some_work(world)
    log_in_with_keyboard(page, server, "jdupont", PIN + code_for("jdupont", clock.t))
    page.get_by_role("link", name="3A").tap()
    table = page.get_by_role("table", name="Classe 3A : items acquis")
    table.wait_for()
    row = table.get_by_role("row", name="Bernard Léa")
    # the words as read out (text content: the DSFR badge only shows them in capitals)
    cells = [" ".join(text.split()) for text in row.get_by_role("cell").all_text_contents()]
    assert cells == ["3/13", "0/16", "0/14", "17/17 ✔ validée", "0/16", "0/11", "0/11"]
    assert table.get_by_role("row", name="Moreau Emma").get_by_role("cell").first.inner_text() == "3/13"
    assert not whole_table_within_reach(page)  # Jeton's own look: the table fits a 390 px phone as it is
    accessible(page)

    row.get_by_role("link", name="Bernard Léa").tap()
    page.get_by_role("heading", name="Compétence 1 — ").wait_for()
    assert page.get_by_role("link", name="Télécharger le PDF").is_visible()
    accessible(page)
    # last: a full-page screenshot of a phone page changes its viewport until the page is closed
    page.go_back()
    overview_frame(page).scroll_into_view_if_needed()
    shot(page, "55-apercu-classe-telephone")


def test_the_overview_on_a_desktop_then_the_pdf_download(world, server, page):
    clock = world.clock
    page.set_viewport_size({"width": 1100, "height": 800})
    page.set_default_timeout(15000)
    world.activate("jdupont")
    record_some_work(world)
    log_in_with_keyboard(page, server, "jdupont", PIN + code_for("jdupont", clock.t))
    page.get_by_role("link", name="3A").click()
    table = page.get_by_role("table", name="Classe 3A : items acquis")
    assert table.get_by_role("columnheader").all_inner_texts() == ["Élève", "C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    assert table.locator("abbr").first.get_attribute("title").startswith("Compétence 1 : ")
    frame = overview_frame(page)
    widths = frame.evaluate("f => [f.scrollWidth, f.clientWidth]")
    assert widths[0] <= widths[1], widths  # room enough: no scrolling on a desktop
    frame.scroll_into_view_if_needed()
    shot(page, "56-apercu-classe-ordinateur")
    accessible(page)

    # by keyboard: focus the pupil's link and open his livret, then download the PDF
    table.get_by_role("link", name="Bernard Léa").focus()
    page.keyboard.press("Enter")
    link = page.get_by_role("link", name="Télécharger le PDF")
    link.wait_for()
    shot(page, "57-livret-lien-pdf")
    with page.expect_download(timeout=60_000) as download:  # a PDF takes seconds on a loaded machine
        link.click()
    assert download.value.suggested_filename == "livret-BERNARD-Lea.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
