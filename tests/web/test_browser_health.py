"""The health of the tokens in Debian's chromium, driven by its French labels (issue 17): the fleet page and one
token's drift chart; axe-core finds no violation. The screenshots illustrate docs/it-staff.md."""

from __future__ import annotations

import pytest

from tests.web.support import PIN, code_for
from tests.web.test_browser import log_in_with_keyboard, shot
from tests.web.test_browser_console import accessible
from tests.web.test_health import a_fleet_in_need

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_fleet_page_then_a_fast_clocks_chart(world, server, page):
    a_fleet_in_need(world)  # JT-0001's clock gains 3 s a day, JT-0002 unused and failing, JT-0003's cells low
    world.activate("adurand")
    page.set_viewport_size({"width": 1100, "height": 800})
    page.set_default_timeout(8000)
    log_in_with_keyboard(page, server, "adurand", PIN + code_for("adurand", world.clock.t))
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Santé des clés").click()
    page.get_by_role("heading", name="Santé des clés").wait_for()

    clocks = page.get_by_role("table", name="Horloges qui sortiront de la fenêtre d'ici 90 jours (1)")
    assert clocks.get_by_role("row").nth(1).get_by_role("cell").nth(1).inner_text() == "jdupont"
    unused = page.get_by_role("table", name="Clés inutilisées depuis 60 jours (1)")
    assert unused.get_by_role("cell", name="jamais (attribuée le 15/01/2027)").count() == 1
    failing = page.get_by_role("table", name="Clés aux échecs répétés (1)")
    assert failing.get_by_role("link", name="JT-0002").get_attribute("href") == "/admin/cles/JT-0002"
    batteries = page.get_by_role("table", name="Piles faibles (1)")
    assert batteries.get_by_role("cell", name="2,05 V").count() == 1
    shot(page, "30-sante-des-cles")
    accessible(page)

    clocks.get_by_role("link", name="Dérive de JT-0001").click()
    chart = page.get_by_role("img", name="Dérive de l'horloge de la clé JT-0001 au fil du temps")
    chart.wait_for()
    assert page.get_by_text("l'horloge sort de la fenêtre de vérification (±1 pas)").count() == 1
    shot(page, "31-derive-d-une-cle")
    page.get_by_text("Les mesures (62)").click()  # the table behind the chart opens
    measures = page.get_by_role("table", name="Dérive mesurée aux connexions de la clé JT-0001, la plus récente "
                                              "d'abord (60 dernières)")
    assert measures.get_by_role("row").count() == 61
    accessible(page)
