"""Administration: the users. The list (search, role, class, with or without a token, pages: ``verifier.fleet``)
and a user's page: role (changed through its confirmation page), tokens, classes taught, open sessions, emergency
access, recent journal. There is no removal of a user account (neither here nor in jeton-admin)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g, render_template

from booklet_web.admin import bp
from booklet_web.admin_lists import arg, class_choices, class_filter, page_arg, pages, search_arg, when
from booklet_web.admin_tokens import STATES_FR, in_words
from booklet_web.auth import admin_required, services
from booklet_web.tables import classes, teaching
from verifier import fleet

ROLES_FR = {"teacher": "professeur", "admin": "administrateur"}
HAS_TOKEN = {"avec": ("avec une clé", True), "sans": ("sans clé", False)}
USER_SORTS = {"identifiant": ("login", "identifiant"), "nom": ("name", "nom"), "creation": ("created", "création")}
USER_AUDIT_ROWS = 20


def _list_query(errors: list[str]) -> tuple[fleet.UserQuery, dict]:
    kept = {"q": search_arg(), "role": arg("role"), "classe": "", "cle": arg("cle"), "tri": arg("tri")}
    if kept["role"] and kept["role"] not in ROLES_FR:
        errors.append("Rôle inconnu : ce filtre est ignoré.")
        kept["role"] = ""
    if kept["cle"] and kept["cle"] not in HAS_TOKEN:
        errors.append("Choix de clé inconnu : ce filtre est ignoré.")
        kept["cle"] = ""
    if kept["tri"] not in USER_SORTS:
        kept["tri"] = ""
    kept["classe"], ids = class_filter(errors)
    query = fleet.UserQuery(search=kept["q"], role=kept["role"] or None, ids=ids,
                            has_token=HAS_TOKEN[kept["cle"]][1] if kept["cle"] else None,
                            sort=USER_SORTS.get(kept["tri"], ("login",))[0])
    return query, kept


@bp.route("/utilisateurs")
@admin_required
def users():
    """Every user, found by search and filters, 50 a page, with the tokens each holds."""
    errors: list[str] = []
    query, kept = _list_query(errors)
    with services().store.engine.connect() as conn:
        found = fleet.user_page(conn, query, page=page_arg())
    return render_template("admin/utilisateurs.html", found=found, kept=kept, roles=ROLES_FR, has_token=HAS_TOKEN,
                           sorts=USER_SORTS, states=STATES_FR, classes=class_choices(),
                           pagination=pages("admin.users", found, kept), error=" ".join(errors) or None)


@bp.route("/utilisateurs/<login>")
@admin_required
def user(login: str):
    """A user's page: role, tokens, classes, sessions, emergency access, journal."""
    svc = services()
    store = svc.store
    u = store.find_user(login) if len(login) <= 64 else None
    if u is None:
        abort(404)
    now = svc.clock()
    with store.engine.connect() as conn:
        only_admin = u.role == "admin" and fleet.count_administrators(conn) == 1
    with svc.db.engine.connect() as conn:
        taught = list(conn.execute(sa.select(classes.c.id, classes.c.name).join(teaching)
                                   .where(teaching.c.user_id == u.id).order_by(classes.c.name)))
    zone = store.settings.timezone
    return render_template(
        "admin/utilisateur.html", u=u, role=ROLES_FR.get(u.role, u.role), roles=ROLES_FR, only_admin=only_admin,
        tokens=store.list_tokens(login=u.login), states=STATES_FR, taught=taught,
        sessions=len(svc.sessions.list(user_id=u.id, now=now)), emergency=store.emergency_status(u.login, now),
        journal=in_words(store.audit(login=u.login, limit=USER_AUDIT_ROWS), zone), timezone=zone, when=when,
        myself=u.login == g.user.login)
