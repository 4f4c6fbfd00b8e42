"""`jeton-web demo` driven as a newcomer would: start it, read a token, log in with it in chromium, stop it.

The token is the real firmware under MicroPython on a pty, seeded by the demo through the provisioner; the test
reads its code exactly as a script would, by CODE on the ``PORT`` the demo printed (the provisioner's
``TokenSession``), reads the terminal's drawing of it off its segments, and the browser talks to the demo's own
HTTP server. Waiting for the next code is a real wait (at most one 30-second step).
"""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from provisioner.session import TokenSession
from tests.demo.conftest import READY, alive, processes_in
from tests.support import ROOT

PIN = "4821"


def read_code(port: str):
    """What a script does: open the token's port, ask CODE, close (the demo keeps no port open)."""
    with TokenSession.open(port) as token:
        return token.code()


def next_code(port: str, after_step: int, timeout: float = 35):
    """Wait for the token's code to change (the guide's step 4), polling CODE."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        shown = read_code(port)
        if shown.step > after_step:
            return shown
        time.sleep(min(max(shown.left, 0.2), 1.0))
    raise AssertionError("the token's code did not change within one step")


def assert_nothing_left(demo) -> None:
    leftovers = [pid for pid, started in demo.seen if alive(pid, started)] + processes_in(demo.directory)
    assert not leftovers, f"processes left behind by the demo: {leftovers}"


def school(directory) -> dict:
    """What the demo's database holds: each token's state, and how many pupils, recorded items and validations."""
    engine = sa.create_engine(f"sqlite:///{directory / 'demo.db'}")
    try:
        with engine.connect() as conn:
            held = {"tokens": dict(conn.execute(sa.text("SELECT serial, state FROM tokens")).all())}
            for name, table in (("pupils", "booklet_pupils"), ("records", "booklet_item_records"),
                                ("validations", "booklet_validations")):
                held[name] = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            return held
    finally:
        engine.dispose()


def panel_shows(demo, login: str, code: str, timeout: float = 5) -> bool:
    """True once the terminal's drawing of ``login``'s token shows ``code``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if demo.panel(login) == code:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.browser
@pytest.mark.micropython
@pytest.mark.slow
def test_first_login_with_a_simulated_token_then_the_booklet_then_stop(start_demo, port, page):
    demo = start_demo(port, "--fresh", terminal=True)
    demo.wait_for(READY)
    demo.note_descendants()
    out = demo.output
    url = f"http://127.0.0.1:{port}/"
    assert f"Ouvrez {url} dans un navigateur." in out
    assert "démo neuve" in out
    assert "uniquement les 6 chiffres de la clé" in out and "attendez que le code de la clé change" in out
    serials = demo.serials()
    assert list(serials) == ["jdupont", "mmartin", "adurand"]
    ports = demo.ports()
    assert len(ports) == 3 and all(p.startswith("/dev/") for p in ports)
    assert len(demo.seen) >= 3, "one simulated token process per demo user"
    keys = demo.directory / "keys.json"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.parent.stat().st_mode) == 0o700  # the tokens' flash below holds secrets in clear

    # The first PORT is jdupont's token: the serial it states in HELLO is the one printed beside jdupont.
    with TokenSession.open(ports[0]) as token:
        hello = token.hello()
        first = token.code()
    assert (hello.serial, hello.state) == (serials["jdupont"], "locked")
    # The terminal draws the code the token shows (unless it changed in between: then the next check covers it).
    assert panel_shows(demo, "jdupont", first.code) or first.left <= 5, (demo.panel("jdupont"), first.left)

    # Guide, part 1, step 2: identifiant and the 6 digits alone.
    page.set_default_timeout(10000)
    page.goto(url)
    page.get_by_role("heading", name="Authentification").wait_for()
    page.get_by_label("Identifiant").fill("jdupont")
    page.get_by_label("Mot de Passe ou Passcode OTP").fill(first.code)
    page.get_by_role("button", name="Valider").click()
    # Step 3: a new PIN, twice.
    page.get_by_text("Saisissez votre nouveau code PIN, contenant de 4 à 6 chiffres:").wait_for()
    page.get_by_label("Saisissez votre nouveau code PIN").fill(PIN)
    page.get_by_label("Confirmez votre nouveau code PIN").fill(PIN)
    page.get_by_role("button", name="Valider").click()
    # Step 4: wait for the token's code to change, then PIN + code.
    page.get_by_text("Attendez que le code de votre clé change, puis saisissez votre PASSCODE:").wait_for()
    later = next_code(ports[0], first.step)
    assert panel_shows(demo, "jdupont", later.code), "the terminal drawing follows the token's new code"
    page.get_by_label("Attendez que le code de votre clé change").fill(PIN + later.code)
    page.get_by_role("button", name="Valider").click()

    # Part 3: the demo school's class, its pupils, the items the demo recorded, one more star, saved.
    page.get_by_text("Accès au livret - OTP").wait_for()
    assert page.get_by_role("link", name="3C").count() == 0  # jdupont teaches 3A and 3B only
    page.get_by_role("link", name="3A").click()
    assert page.locator("#eleves-classe option").count() == 25
    page.locator("#eleves-classe option", has_text="Bernard Léa").click()
    page.get_by_role("button", name="Ajouter les élèves sélectionnés").click()
    page.get_by_role("button", name="Accéder au livret de compétences").click()
    assert page.locator("#item-C1\\.1").is_checked()  # recorded by the demo, as a school's booklet would be
    assert not page.locator("#item-C1\\.5").is_checked()
    page.get_by_role("button", name="Item C1.5 : non acquis").click()
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Enregistré : 1 item(s) renseigné(s).").wait_for()
    page.reload()
    assert page.locator("#item-C1\\.5").is_checked()
    page.get_by_role("button", name="Déconnexion").click()
    page.get_by_role("heading", name="Authentification").wait_for()

    # A second demo on the same folder is refused while this one runs, in one line, changing nothing.
    second = subprocess.run(
        [sys.executable, "-m", "booklet_web.cli", "demo", "--dir", str(demo.directory), "--port", str(port)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert second.returncode != 0
    assert second.stderr.strip().splitlines() == [
        f"jeton-web: une démo tourne déjà dans {demo.directory} : arrêtez-la d'abord (Ctrl-C)"]

    demo.note_descendants()
    assert demo.stop(signal.SIGTERM) == 0
    demo.wait_for("Démo arrêtée.")
    assert_nothing_left(demo)


@pytest.mark.micropython
@pytest.mark.slow
def test_a_second_run_resumes_and_fresh_starts_over(start_demo, port):
    demo = start_demo(port, "--fresh")
    demo.wait_for(READY)
    demo.note_descendants()
    serials = demo.serials()
    keys = (demo.directory / "keys.json").read_bytes()
    # Not a terminal: no drawing (the codes would land in whatever file the output goes to); scripts use CODE.
    assert "un script les lit par CODE sur chaque PORT" in demo.output
    assert demo.panel("jdupont") is None
    for token_port in demo.ports():
        assert read_code(token_port).code not in demo.output
    assert demo.stop(signal.SIGINT) == 0  # Ctrl-C
    assert_nothing_left(demo)
    made = school(demo.directory)
    assert made["pupils"] == 75 and made["records"] > 0 and made["validations"] == 1
    # A teacher's work between two runs (here: one recorded item withdrawn) must survive a resume.
    engine = sa.create_engine(f"sqlite:///{demo.directory / 'demo.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM booklet_item_records WHERE rowid = (SELECT min(rowid) "
                             "FROM booklet_item_records)"))
    engine.dispose()
    made["records"] -= 1

    # Resume (the default): the same key ring, the same tokens, proved again through the provisioner.
    again = start_demo(port)
    again.wait_for(READY)
    again.note_descendants()
    assert "démo reprise" in again.output
    assert again.serials() == serials
    assert (again.directory / "keys.json").read_bytes() == keys
    with TokenSession.open(again.ports()[2]) as token:
        assert token.hello().serial == serials["adurand"]
    assert again.stop() == 0
    assert_nothing_left(again)
    assert again.proc.stderr.read() == ""  # no request log, no warning, no traceback
    assert school(again.directory) == made  # nothing made twice, nothing lost

    # --fresh: a new key ring and a new school; the old tokens' records are gone with the old database.
    fresh = start_demo(port, "--fresh")
    fresh.wait_for(READY)
    fresh.note_descendants()
    assert "démo neuve" in fresh.output
    assert (fresh.directory / "keys.json").read_bytes() != keys
    remade = school(fresh.directory)
    assert remade["tokens"] == {serial: "assigned" for serial in fresh.serials().values()}
    assert remade["pupils"] == 75
    assert fresh.stop() == 0
    assert_nothing_left(fresh)


def test_a_busy_port_is_one_clear_line_and_nothing_is_left_running(start_demo, port):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        demo = start_demo(port, "--fresh")
        code = demo.proc.wait(60)
    err = demo.proc.stderr.read()
    assert code != 0
    assert err.strip().splitlines() == [f"jeton-web: impossible d'écouter sur 127.0.0.1:{port} "
                                        "(Address already in use) : essayez --port"]
    assert processes_in(demo.directory) == []


@pytest.mark.micropython
def test_stopped_while_starting_it_leaves_nothing_running(start_demo, port):
    demo = start_demo(port, "--fresh")
    deadline = time.monotonic() + 30
    while not processes_in(demo.directory) and time.monotonic() < deadline:  # the first token is booting
        time.sleep(0.01)
    demo.note_descendants()
    assert demo.stop(signal.SIGTERM) == 0
    assert READY not in demo.output
    assert_nothing_left(demo)


def test_a_folder_the_demo_did_not_make_is_refused_and_kept(tmp_path, port):
    folder = tmp_path / "etc-jeton"
    folder.mkdir()
    (folder / "keys.json").write_text("precious")
    done = subprocess.run(
        [sys.executable, "-m", "booklet_web.cli", "demo", "--fresh", "--dir", str(folder), "--port", str(port)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        f"jeton-web: {folder} n'est pas un dossier de démo (il contient d'autres fichiers) : "
        "choisissez un dossier vide ou nouveau avec --dir"]
    assert sorted(p.name for p in folder.iterdir()) == ["keys.json"]
    assert (folder / "keys.json").read_text() == "precious"
