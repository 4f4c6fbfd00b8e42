"""The booklet: choose a class, pick pupils (dual list), fill in the livret, validate compétences, export.

Every id that comes from a URL (a 404 when malformed or too large) or a form (a 400) is parsed strictly and
checked against what the user may reach (403/404) before anything is read or written.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request, session, url_for

from booklet_web import exports
from booklet_web.auth import admin_required, login_required, services, wants_json
from booklet_web.forms import URL_ID, EmptyForm, parse_id
from booklet_web.livret import (
    LANGUAGES,
    BookletError,
    cancel_competence,
    class_pupils,
    get_class,
    record_counts,
    records_for,
    save_items,
    selected_pupils,
    validate_competence,
    validations_for,
    visible_classes,
)
from booklet_web.overview import class_overview
from booklet_web.sessions import seconds_left

bp = Blueprint("booklet", __name__)

_COMPETENCE = re.compile(r"^C[1-7]$")
_ITEM = re.compile(r"^C[1-7]\.[0-9]{1,2}$")
MAX_FIELDS = 200


def _int(value: str | None, what: str) -> int:
    number = parse_id(value)
    if number is None:
        abort(400, f"Identifiant {what} invalide.")
    return number


def _ints(values: list[str], what: str) -> list[int]:
    if len(values) > MAX_FIELDS:
        abort(400, "Trop de valeurs dans le formulaire.")
    return [_int(v, what) for v in values]


def _items(values: list[str]) -> list[str]:
    if len(values) > MAX_FIELDS or any(not _ITEM.match(v) for v in values):
        abort(400, "Item inconnu dans le formulaire.")
    return values


def _competence(value: str | None) -> str:
    if value is None:
        return "C1"
    if not _COMPETENCE.match(value):
        abort(404, "Cette compétence n'existe pas.")
    return value


def _now() -> datetime:
    return datetime.fromtimestamp(services().clock(), UTC)


@bp.errorhandler(BookletError)
def _booklet_error(exc: BookletError):
    return render_template("error.html", message=exc.message, status=exc.status), exc.status


@bp.route("/")
@login_required
def index():
    """Livret personnel de compétences — Accès au livret - OTP: 1) Sélectionner une classe."""
    with services().db.engine.connect() as conn:
        rows = visible_classes(conn, g.user)
    return render_template("booklet/index.html", classes=rows)


@bp.route(f"/classe/<{URL_ID}:class_id>")
@login_required
def class_page(class_id: int):
    """2) the dual list of the class's pupils; 3) Accéder au livret de compétences; the class overview."""
    svc = services()
    with svc.db.engine.connect() as conn:
        klass = get_class(conn, g.user, class_id)
        rows = class_pupils(conn, class_id)
        overview = class_overview(conn, svc.ref, class_id, rows)
    return render_template("booklet/classe.html", klass=klass, pupils=rows, overview=overview, ref=svc.ref)


def _livret_context(class_id: int, pupil_ids: list[int], competence_id: str) -> dict:
    svc = services()
    comp = svc.ref.competence(competence_id)
    if comp is None:
        abort(404)
    with svc.db.engine.connect() as conn:
        klass = get_class(conn, g.user, class_id)
        chosen = selected_pupils(conn, g.user, class_id, pupil_ids)
        ids = [p.id for p in chosen]
        single = len(chosen) == 1
        item_ids = [i.id for i in comp.items]
        if single:
            records = records_for(conn, ids, item_ids)
            counts = {item_id: 1 for (_p, item_id) in records}
        else:
            records, counts = {}, record_counts(conn, ids, item_ids)
        valid = validations_for(conn, ids)
    rows = []
    for item in comp.items:
        count = counts.get(item.id, 0)
        record = records.get((chosen[0].id, item.id)) if single else None
        withdrawable = bool(record and (g.user.is_admin or record.by_id == g.user.id))
        rows.append({"item": item, "count": count, "all": count == len(chosen), "record": record,
                     "withdrawable": withdrawable})
    return {
        "klass": klass, "pupils": chosen, "single": single, "competence": comp, "ref": svc.ref, "rows": rows,
        "validation": valid.get((chosen[0].id, comp.id)) if single else None,
        "validated_count": sum((p.id, comp.id) in valid for p in chosen),
        "validated_ids": {c for (_p, c) in valid} if single else set(),
        "languages": LANGUAGES, "form": EmptyForm(),
        # one query string for the seven compétence links (url_for per link would encode 30 ids seven times)
        "selection_query": urlencode([("classe", klass.id)] + [("eleve", p.id) for p in chosen]),
        # the page's script warns two minutes before the idle end (reading it does not extend the session)
        "seconds_left": seconds_left(session, svc.clock(), svc.sessions.settings),
    }


@bp.route("/livret")
@login_required
def livret():
    """The livret of the selected pupils for one compétence."""
    class_id = _int(request.args.get("classe"), "de classe")
    pupil_ids = _ints(request.args.getlist("eleve"), "d'élève")
    if not pupil_ids:
        flash("Sélectionnez au moins un élève (colonne de droite).", "erreur")
        return redirect(url_for("booklet.class_page", class_id=class_id))
    competence_id = _competence(request.args.get("competence"))
    return render_template("booklet/livret.html", **_livret_context(class_id, pupil_ids, competence_id))


def _back(class_id: int, pupil_ids: list[int], competence_id: str):
    return redirect(url_for("booklet.livret", classe=class_id, eleve=pupil_ids, competence=competence_id))


@bp.route("/livret/enregistrer", methods=["POST"])
@login_required
def save():
    """Enregistrer: add the starred items for every selected pupil; withdraw unstarred ones (one pupil)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    class_id = _int(request.form.get("classe"), "de classe")
    pupil_ids = _ints(request.form.getlist("eleve"), "d'élève")
    competence_id = _competence(request.form.get("competence"))
    starred = _items(request.form.getlist("item"))
    shown = _items(request.form.getlist("retirable"))
    svc = services()
    comp = svc.ref.competence(competence_id)
    if request.form.get("tout") == "1":
        starred = [i.id for i in comp.items]
    withdraw = [i for i in shown if i not in starred]
    result = save_items(svc.db.writer, svc.ref, g.user, class_id, pupil_ids, competence_id, starred, withdraw,
                        _now())
    parts = [f"{result.added} item(s) renseigné(s)"]
    if result.withdrawn:
        parts.append(f"{result.withdrawn} retiré(s)")
    flash("Enregistré : " + ", ".join(parts) + ".", "ok")
    if result.refused:
        flash("Non retirés (renseignés par un autre enseignant) : " + ", ".join(result.refused) + ".", "erreur")
    if wants_json():  # the livret's script: it forgets its kept changes, then shows the page (and these messages)
        return jsonify(enregistre=True, ajoutes=result.added, retires=result.withdrawn, refuses=result.refused,
                       suite=url_for("booklet.livret", classe=class_id, eleve=pupil_ids, competence=competence_id))
    return _back(class_id, pupil_ids, competence_id)


@bp.route("/livret/competence", methods=["POST"])
@admin_required
def competence_action():
    """Administrer (validate) or Annuler (cancel) a compétence for the one selected pupil."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    class_id = _int(request.form.get("classe"), "de classe")
    pupil_id = _int(request.form.get("eleve"), "d'élève")
    competence_id = _competence(request.form.get("competence"))
    action = request.form.get("action")
    svc = services()
    number = competence_id[1:]
    if action == "administrer":
        language = request.form.get("langue") or None
        if validate_competence(svc.db.writer, svc.ref, g.user, class_id, pupil_id, competence_id, language, _now()):
            flash(f"La compétence {number} est validée.", "ok")
        else:
            flash(f"La compétence {number} était déjà validée.", "erreur")
    elif action == "annuler":
        if request.form.get("confirme") != "oui":  # only the confirmation page's button cancels
            return redirect(url_for("booklet.cancel_page", classe=class_id, eleve=pupil_id,
                                    competence=competence_id), 303)
        if cancel_competence(svc.db.writer, svc.ref, g.user, class_id, pupil_id, competence_id, _now()):
            flash(f"La validation de la compétence {number} est annulée.", "ok")
        else:
            flash(f"La compétence {number} n'était pas validée.", "erreur")
    else:
        abort(400)
    return _back(class_id, [pupil_id], competence_id)


@bp.route("/livret/annuler")
@admin_required
def cancel_page():
    """Annuler: say whose validation of which compétence will be cancelled, then offer the button that does it."""
    class_id = _int(request.args.get("classe"), "de classe")
    pupil_id = _int(request.args.get("eleve"), "d'élève")
    competence_id = _competence(request.args.get("competence"))
    svc = services()
    with svc.db.engine.connect() as conn:
        pupil = selected_pupils(conn, g.user, class_id, [pupil_id])[0]
        validation = validations_for(conn, [pupil_id]).get((pupil_id, competence_id))
    if validation is None:
        flash(f"La compétence {competence_id[1:]} n'était pas validée.", "erreur")
        return _back(class_id, [pupil_id], competence_id)
    return render_template("booklet/annuler.html", pupil=pupil, validation=validation, form=EmptyForm(),
                           competence=svc.ref.competence(competence_id), class_id=class_id)


@bp.route(f"/eleve/<{URL_ID}:pupil_id>/livret")
@login_required
def printable(pupil_id: int):
    """The whole livret of one pupil, to print (print stylesheet)."""
    return render_template("booklet/imprimer.html", **_printable_context(pupil_id))


@bp.route(f"/eleve/<{URL_ID}:pupil_id>/livret.pdf")
@login_required
def printable_pdf(pupil_id: int):
    """The printable livret as a PDF file (same page, same print stylesheet, same authorisation)."""
    from booklet_web import livret_pdf  # WeasyPrint loads Pango: only the processes that make a PDF pay for it

    context = _printable_context(pupil_id)
    pdf = livret_pdf.html_to_pdf(render_template("booklet/imprimer.html", **context),
                                 livret_pdf.PAGE_ROOT + request.script_root + "/")
    pupil = context["pupil"]
    return Response(pdf, mimetype="application/pdf",
                    headers=exports.download_headers(livret_pdf.filename(pupil.last_name, pupil.first_name)))


def _printable_context(pupil_id: int) -> dict:
    """One pupil's whole livret, once the user is known to teach the pupil's class (or is an administrator)."""
    svc = services()
    with svc.db.engine.connect() as conn:
        pupil = exports.pupil_row(conn, pupil_id)
        if pupil is None:
            abort(404)
        klass = get_class(conn, g.user, pupil.class_id)
        records = records_for(conn, [pupil.id], [i.id for i in svc.ref.items])
        valid = validations_for(conn, [pupil.id])
    return {"pupil": pupil, "klass": klass, "ref": svc.ref, "records": records, "valid": valid}


@bp.route(f"/classe/<{URL_ID}:class_id>/export.csv")
@login_required
def class_csv(class_id: int):
    """The class as CSV: one line per pupil, validation dates and items recorded per compétence."""
    svc = services()
    with svc.db.engine.connect() as conn:
        klass = get_class(conn, g.user, class_id)
        text = exports.class_csv(conn, svc.ref, class_id)
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers=exports.download_headers(f"lpc-{exports.slug(klass.name)}.csv"))
