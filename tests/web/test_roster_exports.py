"""Roster import (CLI and admin page: all or nothing, bad lines by number) and the exports (class CSV, LPC XML)."""

from __future__ import annotations

import os
import subprocess
import sys
from xml.etree import ElementTree as ET  # noqa: S405 - parsing our own output in a test

import pytest
import sqlalchemy as sa

from booklet_web.tables import classes, pupils, teaching
from tests.web.support import csrf_token, import_roster_in_console, preview_roster, sample_roster, sealed_preview

BAD = ("type;classe;nom;prenom;identifiant\n"
       "eleve;4C;Nouveau;Élève;E4C01\n"
       "eleve;;Sans;Classe;E4C02\n"
       "prof;4C;Mauvais;Type;xx\n"
       "eleve;4C;Double;Un;E4C01\n"
       "enseignant;4C;Sans;Login;\n").encode()


def counts(world):
    with world.app.extensions["jeton"].db.engine.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                     for t in (classes, pupils, teaching)), len(world.store.list_users())


def upload(client, data: bytes, name="roster.csv"):
    return import_roster_in_console(client, data, name)


def test_admin_page_previews_bad_lines_as_refused_and_imports_only_the_good_ones(world, client):
    world.log_in(client, "adurand")
    before = counts(world)
    page = preview_roster(client, BAD)
    assert page.status_code == 200
    cells = " ".join(page.text.split())
    assert ("Rien n'a encore été importé. 1 ligne(s) à ajouter, 0 déjà présente(s), 4 ligne(s) refusée(s) ; "
            "1 classe(s) à créer.") in cells
    for line, text in ((3, "classe manquante pour un élève"), (4, "type « prof » inconnu"),
                       (5, "élève E4C01 déjà présent ligne 2"), (6, "identifiant de connexion manquant")):
        assert f"<td>{line}</td>" in cells and f"refusée : {text}" in cells, (line, text)
    assert "<td>2</td><td>élève</td><td>4C</td><td>Élève Nouveau</td> <td>E4C01</td><td>élève à ajouter en 4C" in cells
    assert counts(world) == before
    done = client.post("/admin/import/confirmer", data={"csrf_token": csrf_token(page.text),
                                                        "apercu": sealed_preview(page.text)})
    assert done.status_code == 200
    assert ("Import terminé : 1 classe(s) créée(s), 1 élève(s) ajouté(s), 0 élève(s) mis à jour, 0 compte(s) "
            "créé(s), 0 affectation(s) ajoutée(s), 4 ligne(s) refusée(s).") in done.text
    assert counts(world)[0][1] == before[0][1] + 1


def test_admin_page_refuses_an_unreadable_file_whole(world, client):
    world.log_in(client, "adurand")
    before = counts(world)
    page = preview_roster(client, b"type;classe;nom\neleve;4C;X\n")
    assert page.status_code == 400 and "Le fichier est refusé, rien n'a été importé" in page.text
    assert "colonnes manquantes dans l&#39;en-tête : prenom, identifiant" in page.text
    assert 'name="apercu"' not in page.text and counts(world) == before


def test_admin_page_imports_a_good_file(world, client):
    world.log_in(client, "adurand")
    data = ("\ufefftype,classe,nom,prenom,identifiant\n"
            "eleve,4C,Nouveau,Élève,E4C01\n"
            "enseignant,4C,Leroy,Paul,pleroy\n"
            "eleve,3B,Bernard,Léa,E3A01\n").encode()
    page = upload(client, data)
    assert page.status_code == 200
    assert ("Import terminé : 1 classe(s) créée(s), 1 élève(s) ajouté(s), 1 élève(s) mis à jour, "
            "1 compte(s) créé(s), 1 affectation(s) ajoutée(s).") in page.text
    assert world.store.get_user("pleroy").display_name == "Paul Leroy"
    assert any(e.action == "user.add" and e.login == "pleroy" for e in world.store.audit(limit=20))
    journal = " ".join(client.get("/admin/journal").text.split())
    assert ("<td>15/01/2027 à 09:00</td><td>adurand</td><td>import CSV</td> <td></td><td></td> <td>1 classe(s) "
            "créée(s), 1 élève(s) ajouté(s)") in journal


def test_a_failure_while_writing_leaves_no_account_behind(world):
    """The accounts are created by the verifier's insert_user inside the import's one transaction: when a later
    line fails while writing, the accounts made before it are gone too."""
    from booklet_web.roster import import_roster, verifier_user_creator

    real = verifier_user_creator("test")
    made: list[str] = []

    def create_then_fail(conn, login, name, role):
        if made:
            raise RuntimeError("the database went away")
        made.append(login)
        return real(conn, login, name, role)

    data = ("type;classe;nom;prenom;identifiant\n"
            "enseignant;4C;Leroy;Paul;pleroy\n"
            "eleve;4C;Nouveau;Élève;E4C99\n"
            "enseignant;3B;Roux;Anne;aroux\n").encode()
    before = counts(world)
    with pytest.raises(RuntimeError):
        import_roster(world.app.extensions["jeton"].db.writer, data, create_then_fail)
    assert made == ["pleroy"]
    assert counts(world) == before
    assert world.store.find_user("pleroy") is None
    assert not [e for e in world.store.audit(action="user.add") if e.login == "pleroy"]


def test_non_utf8_and_missing_columns_are_explained(world, client):
    world.log_in(client, "adurand")
    page = preview_roster(client, "type;classe;nom;prenom;identifiant\neleve;4C;Léa;X;E1\n".encode("latin-1"))
    assert page.status_code == 400 and "UTF-8" in page.text
    page = preview_roster(client, b"type;nom\neleve;X\n")
    assert page.status_code == 400 and "colonnes manquantes" in page.text and "classe" in page.text


def test_cli_import_roster_reports_line_numbers_and_exits_non_zero(world, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(BAD)
    before = counts(world)
    proc = subprocess.run([sys.executable, "-m", "booklet_web.cli", "import-roster", str(bad), "--db", world.url],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert f"{bad}:3: classe manquante pour un élève" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "jeton-web: 4 ligne(s) en erreur : rien n'a été importé"
    assert "Traceback" not in proc.stderr
    assert counts(world) == before
    good = tmp_path / "good.csv"
    good.write_bytes(b"type;classe;nom;prenom;identifiant\neleve;5A;Neuf;Tom;E5A01\n")
    proc = subprocess.run([sys.executable, "-m", "booklet_web.cli", "import-roster", str(good), "--db", world.url],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "1 classe(s) créée(s), 1 élève(s) ajouté(s)" in proc.stdout


def test_class_csv_export(world, client):
    world.log_in(client, "adurand")
    pupil = world.pupil_ids("3A")[0]
    a = world.class_id("3A")
    page = client.get(f"/livret?classe={a}&eleve={pupil}&competence=C2")
    client.post("/livret/competence", data={"csrf_token": csrf_token(page.text), "classe": a, "eleve": pupil,
                                            "competence": "C2", "action": "administrer", "langue": "anglais"})
    client.post("/livret/enregistrer", data={"csrf_token": csrf_token(page.text), "classe": a, "eleve": pupil,
                                             "competence": "C2", "item": ["C2.1", "C2.2"]})
    answer = client.get(f"/classe/{a}/export.csv")
    assert answer.status_code == 200 and answer.headers["Content-Disposition"].endswith('lpc-3A.csv"')
    lines = answer.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("identifiant;nom;prenom;C1 validee le;C1 items;C2 validee le;C2 items;C2 langue")
    assert lines[1].startswith("E3A01;Bernard;Léa;;0/13;2027-01-15;2/16;anglais;")
    assert len(lines) == 7


def test_lpc_xml_export(world, client):
    world.log_in(client, "adurand")
    pupil = world.pupil_ids("3A")[0]
    a = world.class_id("3A")
    page = client.get(f"/livret?classe={a}&eleve={pupil}&competence=C1")
    token = csrf_token(page.text)
    client.post("/livret/competence", data={"csrf_token": token, "classe": a, "eleve": pupil, "competence": "C1",
                                            "action": "administrer"})
    client.post("/livret/enregistrer", data={"csrf_token": token, "classe": a, "eleve": pupil, "competence": "C3",
                                             "item": ["C3.10", "C3.2"]})
    bad = client.post("/admin/export.xml", data={"csrf_token": token, "uai": "12"})
    assert bad.status_code == 400 and "7 chiffres" in bad.text
    answer = client.post("/admin/export.xml", data={"csrf_token": token, "uai": "0380001a"})
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    ns = {"l": "urn:ac-grenoble.fr:lpc:import:v1.0"}
    root = ET.fromstring(answer.data)  # noqa: S314 - our own output
    assert root.tag == "{urn:ac-grenoble.fr:lpc:import:v1.0}lpc"
    assert root.find("l:entete/l:etablissement", ns).text == "0380001A"
    eleve = root.find("l:donnees/l:eleve[@id='E3A01']", ns)
    assert eleve.find("l:palier", ns).get("id") == "3"
    c1 = eleve.find("l:palier/l:competence[@id='C1']", ns)
    assert c1.find("l:validation/l:date", ns).text == "2027-01-15"
    c3 = eleve.find("l:palier/l:competence[@id='C3']", ns)
    assert c3.find("l:validation", ns) is None  # only positive validations are exported
    assert [i.get("id") for i in c3.findall("l:item", ns)] == ["C3.2", "C3.10"]
    assert c3.find("l:item/l:renseignement/l:date", ns).text == "2027-01-15"
    assert len(root.findall("l:donnees/l:eleve", ns)) == 9


def test_cli_load_referential_and_serve_without_keys(world, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "booklet_web.cli", "load-referential", "--db", world.url],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "référentiel chargé : 7 compétences, 98 items"
    env = {k: v for k, v in os.environ.items() if k != "JETON_KEYS_FILE"}
    proc = subprocess.run([sys.executable, "-m", "booklet_web.cli", "serve", "--db", world.url],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "jeton-web: aucun trousseau de clés : indiquez --keys FICHIER ou JETON_KEYS_FILE"
    proc = subprocess.run([sys.executable, "-m", "booklet_web.cli", "serve", "--db", f"sqlite:///{tmp_path / 'x.db'}",
                           "--keys", str(world.keys)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr  # the verifier's error, worded as jeton-admin's
    assert proc.stderr == "jeton-web: la base n'a pas encore les tables de Jeton : lancez `jeton-admin init`\n"
    roster = tmp_path / "roster.csv"
    roster.write_bytes(sample_roster())
    empty = f"sqlite:///{tmp_path / 'y.db'}"
    for args in (["import-roster", str(roster)], ["load-referential"]):
        proc = subprocess.run([sys.executable, "-m", "booklet_web.cli", *args, "--db", empty],
                              capture_output=True, text=True, timeout=60)
        assert (proc.returncode, proc.stderr) == (1, "jeton-web: les tables du livret manquent : lancez "
                                                     "`jeton-admin init` puis `jeton-web init-db`\n"), args
    proc = subprocess.run([sys.executable, "-m", "booklet_web.cli", "import-roster", str(tmp_path / "absent.csv"),
                           "--db", world.url], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "absent.csv" in proc.stderr and "Traceback" not in proc.stderr
