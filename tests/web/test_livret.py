"""The livret (guide, Partie 3): class choice, pupils, stars, whole compétence, Enregistrer, withdrawal
rules, who/when, and the administrator's Administrer / Annuler."""

from __future__ import annotations

import sqlalchemy as sa

from booklet_web.tables import audit, item_records, validations
from tests.web.support import csrf_token


def livret_url(world, class_name, pupil_ids, competence="C1"):
    query = "&".join(f"eleve={p}" for p in pupil_ids)
    return f"/livret?classe={world.class_id(class_name)}&{query}&competence={competence}"


def save(client, world, class_name, pupil_ids, competence, items=(), retirable=(), tout=False, page=None):
    page = page or client.get(livret_url(world, class_name, pupil_ids, competence))
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_token(page.text), "classe": world.class_id(class_name), "eleve": list(pupil_ids),
            "competence": competence, "item": list(items), "retirable": list(retirable)}
    if tout:
        data["tout"] = "1"
    return client.post("/livret/enregistrer", data=data)


def records(world):
    with world.app.extensions["jeton"].db.engine.connect() as conn:
        return {(r.pupil_id, r.item_id): r.recorded_by for r in conn.execute(sa.select(item_records))}


def test_a_teacher_sees_only_the_classes_they_teach(world, client):
    world.log_in(client, "jdupont")
    page = client.get("/")
    assert "1) Sélectionner une classe." in page.text
    assert ">3A</a>" in page.text and ">3B</a>" not in page.text
    world.log_in(client, "adurand")
    page = client.get("/")
    assert ">3A</a>" in page.text and ">3B</a>" in page.text


def test_class_page_has_the_dual_list(world, client):
    world.log_in(client, "jdupont")
    page = client.get(f"/classe/{world.class_id('3A')}")
    assert page.status_code == 200
    for text in ("Élèves de la classe", "Élèves sélectionnés", "Accéder au livret de compétences",
                 "du ou des élèves sélectionnés", "Bernard Léa", "Simon Nathan", 'id="ajouter-tous"'):
        assert text in page.text


def test_star_items_for_several_pupils_then_see_who_and_when(world, client):
    world.log_in(client, "jdupont")
    ids = world.pupil_ids("3A")[:3]
    page = client.get(livret_url(world, "3A", ids, "C3"))
    assert "3 élèves sélectionnés" in page.text and "seuls" not in page.text
    answer = save(client, world, "3A", ids, "C3", items=["C3.7", "C3.2"], page=page)
    assert answer.status_code == 302
    follow = client.get(answer.headers["Location"])
    assert "Enregistré : 6 item(s) renseigné(s)." in follow.text
    assert "renseigné pour 3/3 élèves" in follow.text
    assert {(p, i) for p in ids for i in ("C3.7", "C3.2")} <= set(records(world))
    single = client.get(livret_url(world, "3A", ids[:1], "C3"))
    assert "Sélection élève unique : vous pouvez modifier les éléments selon les règles d'autorisation." in single.text
    assert "renseigné par Jean Dupont le 15/01/2027 à 09:00" in single.text


def test_one_control_records_every_item_of_the_competence(world, client):
    world.log_in(client, "mmartin")
    ids = world.pupil_ids("3B")
    answer = save(client, world, "3B", ids, "C7", tout=True)
    assert answer.status_code == 302
    recorded = records(world)
    assert all((p, f"C7.{k}") in recorded for p in ids for k in range(1, 12))
    assert not any(i.startswith("C6") for (_p, i) in recorded)


def test_withdrawal_with_one_pupil_by_its_author(world, client):
    world.log_in(client, "jdupont")
    pupil = world.pupil_ids("3A")[0]
    save(client, world, "3A", [pupil], "C1", items=["C1.1", "C1.2"])
    page = client.get(livret_url(world, "3A", [pupil]))
    assert 'name="retirable" value="C1.1"' in page.text
    answer = save(client, world, "3A", [pupil], "C1", items=["C1.2"], retirable=["C1.1", "C1.2"], page=page)
    assert "1 retiré(s)" in client.get(answer.headers["Location"]).text
    assert (pupil, "C1.1") not in records(world) and (pupil, "C1.2") in records(world)
    with world.app.extensions["jeton"].db.engine.connect() as conn:
        assert conn.execute(sa.select(audit.c.action).where(audit.c.target == "C1.1")).scalar() == "item-withdrawn"


def test_another_teacher_cannot_withdraw_but_an_administrator_can(world, client):
    pupil = world.pupil_ids("3A")[0]
    world.log_in(client, "jdupont")
    save(client, world, "3A", [pupil], "C1", items=["C1.3"])
    world.log_in(client, "mmartin")
    page = client.get(livret_url(world, "3A", [pupil]))
    assert 'name="retirable" value="C1.3"' not in page.text
    assert 'id="item-C1.3"\n                   checked disabled' in page.text
    forged = save(client, world, "3A", [pupil], "C1", items=[], retirable=["C1.3"], page=page)
    assert "Non retirés (renseignés par un autre enseignant) : C1.3." in client.get(forged.headers["Location"]).text
    assert records(world)[(pupil, "C1.3")] == world.users["jdupont"]
    world.log_in(client, "adurand")
    page = client.get(livret_url(world, "3A", [pupil]))
    assert "En tant qu&#39;administrateur" in page.text or "En tant qu'administrateur" in page.text
    save(client, world, "3A", [pupil], "C1", items=[], retirable=["C1.3"], page=page)
    assert (pupil, "C1.3") not in records(world)


def test_with_several_pupils_only_additions_apply(world, client):
    world.log_in(client, "jdupont")
    ids = world.pupil_ids("3A")[:2]
    save(client, world, "3A", ids, "C1", items=["C1.4"])
    answer = save(client, world, "3A", ids, "C1", items=[], retirable=["C1.4"])
    assert answer.status_code == 400 and "seuls des ajouts" in answer.text
    assert all((p, "C1.4") in records(world) for p in ids)


def test_unknown_item_or_item_of_another_competence_changes_nothing(world, client):
    world.log_in(client, "jdupont")
    ids = world.pupil_ids("3A")[:1]
    for items, status in ((["C1.99"], 400), (["C2.1", "C1.1"], 400), (["C1.1'; DROP TABLE x"], 400),
                          (["x" * 5000], 400)):
        answer = save(client, world, "3A", ids, "C1", items=items)
        assert answer.status_code == status, items
    assert records(world) == {}


def test_administrer_and_annuler_a_competence(world, client):
    pupil = world.pupil_ids("3A")[0]
    world.log_in(client, "adurand")
    page = client.get(livret_url(world, "3A", [pupil], "C1"))
    assert ">Administrer</button>" in page.text
    data = {"csrf_token": csrf_token(page.text), "classe": world.class_id("3A"), "eleve": pupil,
            "competence": "C1", "action": "administrer"}
    answer = client.post("/livret/competence", data=data)
    page = client.get(answer.headers["Location"])
    assert "La compétence 1 est validée" in page.text and "par Anne Durand le 15/01/2027 à 09:00" in page.text
    assert "<strong>Annuler</strong>" in page.text
    world.log_in(client, "jdupont")
    teacher_view = client.get(livret_url(world, "3A", [pupil], "C1"))
    assert "La compétence 1 est validée" in teacher_view.text and "Administrer" not in teacher_view.text
    refused = client.post("/livret/competence", data={**data, "csrf_token": csrf_token(teacher_view.text),
                                                      "action": "annuler"})
    assert refused.status_code == 403
    world.log_in(client, "adurand")
    page = client.get(livret_url(world, "3A", [pupil], "C1"))
    # "Annuler" opens a page that says what will happen; a direct POST without its confirmation changes nothing
    unconfirmed = client.post("/livret/competence", data={**data, "csrf_token": csrf_token(page.text),
                                                          "action": "annuler"})
    assert unconfirmed.status_code == 303
    confirm = client.get(unconfirmed.headers["Location"])
    assert "Annuler la validation de la compétence 1 pour" in confirm.text
    assert "validée par Anne Durand le 15/01/2027 à 09:00" in " ".join(confirm.text.split())
    assert "La compétence 1 est validée" in client.get(livret_url(world, "3A", [pupil], "C1")).text
    client.post("/livret/competence", data={**data, "csrf_token": csrf_token(confirm.text), "action": "annuler",
                                            "confirme": "oui"})
    page = client.get(livret_url(world, "3A", [pupil], "C1"))
    assert "La compétence 1 est validée" not in page.text and ">Administrer</button>" in page.text
    with world.app.extensions["jeton"].db.engine.connect() as conn:
        row = conn.execute(sa.select(validations)).one()
        assert row.cancelled_by == world.users["adurand"] and row.cancelled_at is not None
        actions = list(conn.execute(sa.select(audit.c.action).order_by(audit.c.id)).scalars())
    assert actions == ["roster-imported", "competence-validated", "competence-cancelled"]  # the school's roster first


def test_competence_2_records_the_language(world, client):
    pupil = world.pupil_ids("3A")[1]
    world.log_in(client, "adurand")
    page = client.get(livret_url(world, "3A", [pupil], "C2"))
    assert "Langue vivante étrangère validée" in page.text
    data = {"csrf_token": csrf_token(page.text), "classe": world.class_id("3A"), "eleve": pupil,
            "competence": "C2", "action": "administrer"}
    refused = client.post("/livret/competence", data=data)
    assert refused.status_code == 400 and "Choisissez la langue" in refused.text
    client.post("/livret/competence", data={**data, "langue": "allemand"})
    page = client.get(livret_url(world, "3A", [pupil], "C2"))
    assert "La compétence 2 est validée (allemand)" in page.text


def test_printable_livret_has_every_competence_and_a_print_stylesheet(world, client):
    pupil = world.pupil_ids("3A")[0]
    world.log_in(client, "jdupont")
    save(client, world, "3A", [pupil], "C7", items=["C7.7"])
    page = client.get(f"/eleve/{pupil}/livret")
    assert page.status_code == 200
    assert 'media="print"' in page.text and "Compétence 7 — L&#39;autonomie et l&#39;initiative" in page.text
    assert page.text.count("<section class=\"competence-imprimee\">") == 7
    assert "Savoir nager" in page.text and "15/01/2027 à 09:00 (Jean Dupont)" in page.text
    with client.get("/static/print.css") as css:
        assert ".bandeau" in css.text and "display: none" in css.text
