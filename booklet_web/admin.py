"""Administration (administrators only): classes and teaching assignments, sessions, the booklet's audit, and the
LPC XML export. The other areas add their routes to this blueprint: tokens (``admin_tokens``), users
(``admin_users``), imports of rosters and tokens (``admin_imports``), confirmations (``admin_confirm``), emergency
access (``admin_emergency``), the verifier's audit (``admin_audit``)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from booklet_web import exports
from booklet_web.auth import admin_required, services
from booklet_web.forms import EmptyForm, parse_id
from booklet_web.livret import write_audit
from booklet_web.tables import audit, classes, pupils, teaching, users

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _checked_form() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.route("/")
@admin_required
def index():
    """Administration home: the classes with their teachers, and the links to every area."""
    with services().db.engine.connect() as conn:
        rows = list(conn.execute(
            sa.select(classes.c.id, classes.c.name, sa.func.count(pupils.c.id).label("size"))
            .outerjoin(pupils, pupils.c.class_id == classes.c.id)
            .group_by(classes.c.id, classes.c.name).order_by(classes.c.name)))
        taught: dict[int, list] = {}
        for r in conn.execute(sa.select(teaching.c.class_id, users.c.id, users.c.login, users.c.display_name)
                              .join(users, users.c.id == teaching.c.user_id).order_by(users.c.login)):
            taught.setdefault(r.class_id, []).append(r)
        teachers = list(conn.execute(sa.select(users).order_by(users.c.login)))
    return render_template("admin/index.html", classes=rows, taught=taught, teachers=teachers, form=EmptyForm())


@bp.route("/affectations", methods=["POST"])
@admin_required
def assignment():
    """Add or remove a teaching assignment (teacher x class)."""
    _checked_form()
    user_id = parse_id(request.form.get("enseignant"))
    class_id = parse_id(request.form.get("classe"))
    if user_id is None or class_id is None:
        abort(400)
    action = request.form.get("action")
    if action not in ("ajouter", "retirer"):
        abort(400)
    now = datetime.fromtimestamp(services().clock(), UTC)
    with services().db.writer.begin() as conn:
        teacher = conn.execute(sa.select(users.c.login).where(users.c.id == user_id)).scalar()
        class_name = conn.execute(sa.select(classes.c.name).where(classes.c.id == class_id)).scalar()
        if teacher is None or class_name is None:
            abort(404)
        exists = conn.execute(sa.select(teaching).where(teaching.c.user_id == user_id,
                                                        teaching.c.class_id == class_id)).first()
        if action == "ajouter" and not exists:
            conn.execute(teaching.insert().values(user_id=user_id, class_id=class_id))
            write_audit(conn, g.user, "teaching-added", now, target=class_name, detail=teacher)
            flash("Affectation ajoutée.", "ok")
        elif action == "retirer" and exists:
            conn.execute(teaching.delete().where(teaching.c.user_id == user_id, teaching.c.class_id == class_id))
            write_audit(conn, g.user, "teaching-removed", now, target=class_name, detail=teacher)
            flash("Affectation retirée.", "ok")
    return redirect(url_for("admin.index"))


JOURNAL_ACTIONS = {"items-recorded": "items renseignés", "item-withdrawn": "item retiré",
                   "competence-validated": "compétence validée", "competence-cancelled": "validation annulée",
                   "teaching-added": "affectation ajoutée", "teaching-removed": "affectation retirée",
                   "roster-imported": "import CSV"}


@bp.route("/journal")
@admin_required
def journal():
    """The booklet's audit: validations, cancellations, withdrawals, recordings (newest first)."""
    with services().db.engine.connect() as conn:
        rows = list(conn.execute(
            sa.select(audit, users.c.login, pupils.c.last_name, pupils.c.first_name)
            .outerjoin(users, users.c.id == audit.c.actor_id).outerjoin(pupils, pupils.c.id == audit.c.pupil_id)
            .order_by(audit.c.id.desc()).limit(500)))
    return render_template("admin/journal.html", rows=rows, actions=JOURNAL_ACTIONS)


@bp.route("/export.xml", methods=["GET", "POST"])
@admin_required
def lpc_xml():
    """The LPC XML import file for the national application (the school's UAI is asked for)."""
    error = None
    if request.method == "POST":
        _checked_form()
        uai = (request.form.get("uai") or "").strip().upper()
        if not exports.UAI.match(uai):
            error = "L'UAI (RNE) de l'établissement est formé de 7 chiffres et d'une lettre, par exemple 0380001A."
        else:
            svc = services()
            with svc.db.engine.connect() as conn:
                body = exports.lpc_xml(conn, svc.ref, uai)
            return Response(body, mimetype="application/xml", headers=exports.download_headers(f"lpc-{uai}.xml"))
    return render_template("admin/export.html", form=EmptyForm(), error=error), (400 if error else 200)


@bp.route("/sessions", methods=["GET", "POST"])
@admin_required
def sessions():
    """Every open session (who, started, last seen, address, browser); end one, or all of a user's."""
    svc = services()
    if request.method == "POST":
        _checked_form()
        ref = request.form.get("session", "")
        login = (request.form.get("identifiant") or "").strip()[:64]
        if login:
            user = svc.store.find_user(login)
            if user is None:
                abort(404)
            ended = svc.sessions.end_user(user.id)
            svc.store.record("session.end", actor=g.user.login, login=login, detail=f"{ended} session(s)")
            flash(f"Sessions de {login} fermées ({ended}).", "ok")
        elif svc.sessions.end(ref):
            svc.store.record("session.end", actor=g.user.login, detail="one session")
            flash("Session fermée.", "ok")
        return redirect(url_for("admin.sessions"))
    return render_template("admin/sessions.html", rows=svc.sessions.list(now=svc.clock()), form=EmptyForm())
