"""Imports from the console in Debian's chromium, driven by their French labels (issue 17): a PSKC file of tokens,
encrypted with a password (upload, preview, confirm, summary), then a roster of pupils. axe-core finds no
violation on any page visited. The screenshots illustrate docs/it-staff.md."""

from __future__ import annotations

import secrets

import pskc
import pytest

from tests.web.support import PIN, SECRETS, code_for
from tests.web.test_browser import log_in_with_keyboard, shot
from tests.web.test_browser_console import accessible
from verifier.interchange import TOTP_URI

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def lot_file(path) -> None:
    """A supplier's lot: two new tokens, JT-0001 that the school already has, and one key with a 45 s period."""
    container = pskc.PSKC()
    for serial, secret, period in (("JT-0101", secrets.token_bytes(20), 30), ("JT-0102", secrets.token_bytes(20), 30),
                                   ("JT-0001", SECRETS["jdupont"], 30), ("JT-0103", secrets.token_bytes(20), 45)):
        container.add_key(serial=serial, secret=secret, algorithm=TOTP_URI, algorithm_suite="HMAC-SHA1",
                          response_length=6, time_interval=period, model="Jeton Pico")
    container.encryption.setup_pbkdf2("lot-de-janvier", iterations=2000)
    container.write(str(path))


def test_import_a_lot_of_tokens_then_a_list_of_pupils(world, server, page, tmp_path):
    base = server
    page.set_viewport_size({"width": 1100, "height": 800})
    page.set_default_timeout(8000)
    world.activate("adurand")
    log_in_with_keyboard(page, base, "adurand", PIN + code_for("adurand", world.clock.t))
    page.get_by_role("link", name="Administration").click()

    # "Importer des clés": the file, its password, then the preview (nothing imported yet)
    lot = tmp_path / "lot-janvier.pskcxml"
    lot_file(lot)
    page.get_by_role("link", name="Importer des clés (PSKC ou CSV)").click()
    accessible(page)
    page.get_by_label("Fichier PSKC ou CSV").set_input_files(str(lot))
    page.get_by_label("Mot de passe du fichier PSKC (s'il est chiffré par mot de passe)").fill("lot-de-janvier")
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.get_by_text("Rien n'a encore été importé. 2 à ajouter, 1 ignorée(s) (déjà présentes), 1 refusée(s).") \
        .wait_for()
    page.locator("tr", has_text="JT-0001").get_by_text("déjà présente (même clé, affectée)").wait_for()
    page.locator("tr", has_text="JT-0103").get_by_text(
        "refusée : la période d'une clé est de 30 ou 60 secondes, pas 45").wait_for()
    assert world.store.find_token("JT-0101") is None
    shot(page, "28-import-cles-apercu")
    accessible(page)
    page.set_viewport_size({"width": 360, "height": 740})  # a phone: the table scrolls in its own frame
    assert page.evaluate("document.querySelector('main').scrollWidth <= document.querySelector('main').clientWidth")
    page.set_viewport_size({"width": 1100, "height": 800})
    page.get_by_role("button", name="Importer 2 clés").click()
    page.get_by_text("Import terminé (lot-janvier.pskcxml) : 2 ajoutée(s), 1 ignorée(s) (déjà présentes), "
                     "1 refusée(s).").wait_for()
    assert [world.store.get_token(s).state for s in ("JT-0101", "JT-0102")] == ["ready", "ready"]
    assert world.store.find_token("JT-0103") is None
    shot(page, "28-import-cles-bilan")
    accessible(page)

    # "Importer une liste d'élèves": a class list with one line to fix
    roster = tmp_path / "4e-b.csv"
    roster.write_text("type;classe;nom;prenom;identifiant\n"
                      "eleve;4B;Moreau;Inès;E4B01\n"
                      "eleve;4B;Petit;Hugo;E4B02\n"
                      "eleve;;Roux;Chloé;E4B03\n"
                      "enseignant;4B;Garnier;Luc;lgarnier\n"
                      "enseignant;4B;Dupont;Jean;jdupont\n", encoding="utf-8")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Importer une liste d'élèves (classes, élèves et enseignants, CSV)").click()
    accessible(page)
    page.get_by_label("Fichier CSV").set_input_files(str(roster))
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.get_by_text("Rien n'a encore été importé. 3 ligne(s) à ajouter, 1 déjà présente(s), 1 ligne(s) "
                     "refusée(s) ; 1 classe(s) à créer.").wait_for()
    page.locator("tr", has_text="lgarnier").get_by_text("compte à créer, affecté(e) à 4B").wait_for()
    page.get_by_role("cell", name="refusée : classe manquante pour un élève").wait_for()
    shot(page, "29-import-liste-apercu")
    accessible(page)
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.querySelector('main').scrollWidth <= document.querySelector('main').clientWidth")
    page.set_viewport_size({"width": 1100, "height": 800})
    page.get_by_role("button", name="Importer 4 lignes").click()
    page.get_by_text("Import terminé : 1 classe(s) créée(s), 2 élève(s) ajouté(s), 0 élève(s) mis à jour, "
                     "1 compte(s) créé(s), 2 affectation(s) ajoutée(s), 1 ligne(s) refusée(s).").wait_for()
    assert world.store.get_user("lgarnier").display_name == "Luc Garnier"
    shot(page, "29-import-liste-bilan")
    accessible(page)
