"""Administration: the tokens. The list (search, filters, pages: ``verifier.fleet``), a token's page (its state,
holder, facts, history and audit in words, and the acts its state allows), and the acts of ``jeton-admin`` through
the verifier's library. Acts that take something away run only from their confirmation page (``admin_confirm``)."""

from __future__ import annotations

import re

from flask import abort, flash, g, redirect, render_template, request, url_for

from booklet_web.admin import _checked_form, bp
from booklet_web.admin_health import token_health_context
from booklet_web.admin_lists import arg, class_choices, class_filter, page_arg, pages, search_arg, when
from booklet_web.auth import admin_required, services
from booklet_web.forms import EmptyForm
from verifier import fleet
from verifier.audit_words import local_time, utc_time, words

STATES_FR = {"pending": "en préparation", "ready": "prête (non affectée)", "assigned": "affectée (nouveau PIN)",
             "active": "active", "locked": "bloquée", "disabled": "désactivée", "retired": "retirée",
             "failed": "échec de préparation"}
#: why a token was disabled, locked or retired, as the console records it (other reasons are shown as written)
REASONS_FR = {"lost": "perdue", "stolen": "volée", "locked by an administrator": "bloquée par un administrateur",
              "retired": "retirée du service"}
#: the "Motif" of "Désactiver (perdue, volée)": form value -> the reason recorded
DISABLE_REASONS = {"perdue": "lost", "volee": "stolen"}
#: the "Inutilisée depuis" filter: form value -> days (``jamais``: no code accepted since its assignment)
IDLE = {"jamais": "jamais utilisée", "30": "30 jours", "60": "60 jours", "90": "90 jours", "180": "6 mois",
        "365": "un an"}
FAILURES = {"1": "au moins 1", "3": "au moins 3", "5": "au moins 5", "10": "au moins 10"}
SORTS = {"serie": ("serial", "numéro de série"), "etat": ("state", "état"), "echecs": ("failures", "échecs"),
         "utilisation": ("last_use", "dernière utilisation")}

#: the acts that take only the serial: form action -> (store method, message); most of them ask first (CONFIRMED)
TOKEN_ACTIONS = {
    "desaffecter": ("unassign", "Clé {serial} désaffectée."),
    "debloquer": ("unlock", "Clé {serial} débloquée."),
    "reinitialiser-pin": ("reset_pin", "Code PIN de la clé {serial} réinitialisé : l'utilisateur en choisira un "
                          "nouveau à sa prochaine connexion."),
    "bloquer": ("lock", "Clé {serial} bloquée jusqu'à ce qu'un administrateur la débloque."),
    "retirer": ("retire_token", "Clé {serial} retirée du service : son secret est détruit."),
}
#: acts that take something away: they run only from their confirmation page (``admin_confirm``), which says what
#: will happen; a POST without ``confirme=oui`` is sent there and changes nothing
CONFIRMED = ("desaffecter", "reinitialiser-pin", "desactiver", "bloquer", "retirer", "role")
CODE = re.compile(r"^[0-9]{6,8}$")
#: rows of a token's history and journal on its page (the whole journal is one link away)
TOKEN_AUDIT_ROWS = 30


def _list_query(errors: list[str]) -> tuple[fleet.TokenQuery, dict]:
    """The list's filters from the GET form: (the fleet query, the form's values to show and keep)."""
    kept = {"q": search_arg(), "etat": arg("etat"), "classe": "", "inutilisee": arg("inutilisee"),
            "echecs": arg("echecs"), "tri": arg("tri")}
    if kept["etat"] and kept["etat"] not in STATES_FR:
        errors.append("État inconnu : ce filtre est ignoré.")
        kept["etat"] = ""
    if kept["inutilisee"] and kept["inutilisee"] not in IDLE:
        errors.append("Durée d'inutilisation inconnue : ce filtre est ignoré.")
        kept["inutilisee"] = ""
    if kept["echecs"] and kept["echecs"] not in FAILURES:
        errors.append("Nombre d'échecs inconnu : ce filtre est ignoré.")
        kept["echecs"] = ""
    if kept["tri"] not in SORTS:
        kept["tri"] = ""
    kept["classe"], holders = class_filter(errors)
    idle = kept["inutilisee"]
    query = fleet.TokenQuery(
        search=kept["q"], states=(kept["etat"],) if kept["etat"] else (), holder_ids=holders,
        never_used=idle == "jamais", unused_days=int(idle) if idle.isdigit() else None,
        min_failures=int(kept["echecs"]) if kept["echecs"] else None, sort=SORTS.get(kept["tri"], ("serial",))[0])
    return query, kept


@bp.route("/cles")
@admin_required
def tokens():
    """Every token, found by search and filters, 50 a page."""
    svc = services()
    errors: list[str] = []
    query, kept = _list_query(errors)
    with svc.store.engine.connect() as conn:
        found = fleet.token_page(conn, query, page=page_arg(), now=svc.clock())
    return render_template("admin/cles.html", found=found, kept=kept, pagination=pages("admin.tokens", found, kept),
                           states=STATES_FR, idle=IDLE, failures=FAILURES, sorts=SORTS, classes=class_choices(),
                           error=" ".join(errors) or None, when=when)


def _token_or_404(serial: str):
    token = services().store.find_token(serial) if len(serial) <= 16 else None
    if token is None:
        abort(404)
    return token


def in_words(entries, zone: str) -> list:
    """Audit rows as the journal tables show them: (row, its words, local time, UTC time)."""
    return [(e, words(e), local_time(e.at, zone), utc_time(e.at)) for e in entries]


@bp.route("/cles/<serial>")
@admin_required
def token(serial: str):
    """A token's page: its state in words, holder, facts, history and journal, and the acts its state allows."""
    svc = services()
    store = svc.store
    t = _token_or_404(serial)
    zone = store.settings.timezone
    history = [e for e in store.audit(serial=t.serial, action="token.", limit=TOKEN_AUDIT_ROWS)
               if e.action != "token.secret_read"]  # its states: reading the secret (to resync) changes none
    journal = store.audit(serial=t.serial, limit=TOKEN_AUDIT_ROWS)
    wanted = arg("qui", 64)  # "Affecter": the users matching what was typed, when it was no login
    suggestions = []
    if wanted and t.state == "ready":
        with store.engine.connect() as conn:
            suggestions = fleet.user_page(conn, fleet.UserQuery(search=wanted), per_page=10).rows
    holder = store.find_user(t.login) if t.login else None
    return render_template(
        "admin/cle.html", t=t, holder=holder, state=STATES_FR.get(t.state, t.state),
        reason=REASONS_FR.get(t.state_reason or "", t.state_reason), history=in_words(history, zone),
        journal=in_words(journal, zone), timezone=zone, when=when, wanted=wanted, suggestions=suggestions,
        last_used=None if t.last_step is None else t.last_step * t.period,
        form=EmptyForm(), **(token_health_context(t.serial) or {}))


def _back(serial: str):
    return redirect(url_for("admin.token", serial=serial) if services().store.find_token(serial)
                    else url_for("admin.tokens"))


def _assign(serial: str, typed: str):
    """Affecter: to the user whose login was typed; anything else goes back to the page with the users it
    matches to choose from (a list of 100,000 users is never sent to the browser)."""
    store = services().store
    user = store.find_user(typed) if typed else None
    if user is None:
        flash(f"Aucun utilisateur n'a l'identifiant « {typed} » : choisissez-le dans la liste ci-dessous."
              if typed else "Saisissez l'identifiant de l'utilisateur.", "erreur")
        return redirect(url_for("admin.token", serial=serial, qui=typed or None))
    store.assign(serial, user.login, actor=g.user.login, now=services().clock())
    flash(f"Clé {serial} affectée à {user.login} : à sa première connexion, il saisira les 6 chiffres seuls.", "ok")
    return _back(serial)


def _resync(serial: str):
    """Resynchroniser: two consecutive codes read off the token (never repeated in a message or a log)."""
    code1, code2 = ((request.form.get(name) or "").strip()[:16] for name in ("code1", "code2"))
    digits = services().store.get_token(serial).digits
    if not (CODE.match(code1) and CODE.match(code2) and len(code1) == len(code2) == digits):
        flash(f"Saisissez deux codes de {digits} chiffres, lus l'un après l'autre sur la clé {serial}.", "erreur")
        return _back(serial)
    services().store.resync(serial, code1, code2, actor=g.user.login, now=services().clock())
    flash(f"Clé {serial} resynchronisée : l'horloge de la clé est de nouveau reconnue.", "ok")
    return _back(serial)


@bp.route("/cles/action", methods=["POST"])
@admin_required
def token_action():
    """The acts of jeton-admin on a token (and a user's role), through the verifier's library, then back to the
    token's (or the user's) page with a French message."""
    import verifier

    _checked_form()
    store = services().store
    serial = (request.form.get("serie") or "").strip()[:16]
    action = request.form.get("action", "")
    actor = g.user.login
    login = (request.form.get("identifiant") or "").strip()[:64]
    if action in CONFIRMED and request.form.get("confirme") != "oui":
        params = {k: request.form.get(k, "")[:64] for k in ("serie", "identifiant", "role") if k in request.form}
        return redirect(url_for("admin.confirm", action=action, **params), 303)
    try:
        if action == "affecter":
            return _assign(serial, login)
        if action == "resynchroniser":
            return _resync(serial)
        if action == "desactiver":
            reason = DISABLE_REASONS.get(request.form.get("motif", "perdue"), "lost")
            store.disable(serial, reason, actor=actor, now=services().clock())
            flash(f"Clé {serial} désactivée ({REASONS_FR[reason]}).", "ok")
        elif action in TOKEN_ACTIONS:
            method, message = TOKEN_ACTIONS[action]
            getattr(store, method)(serial, actor=actor, now=services().clock())
            flash(message.format(serial=serial), "ok")
        elif action == "role":
            role = request.form.get("role", "")
            if role not in ("teacher", "admin"):
                abort(400)
            store.set_role(login, role, actor=actor)
            flash(f"Rôle de {login} : {'administrateur' if role == 'admin' else 'professeur'}.", "ok")
            return redirect(url_for("admin.user", login=login))
        else:
            abort(400)
    except verifier.NotFoundError:
        flash("Clé ou utilisateur introuvable.", "erreur")
        if action == "role" and store.find_user(login):
            return redirect(url_for("admin.user", login=login))
    except verifier.InvalidState as exc:
        flash(f"Action impossible : la clé {serial} est {STATES_FR.get(exc.state, exc.state)}.", "erreur")
    except verifier.LastAdministrator as exc:
        flash(f"Action impossible : {exc.french}.", "erreur")
        return redirect(url_for("admin.user", login=login))
    except verifier.ResyncError:
        flash(f"Ces deux codes ne sont pas deux codes consécutifs de la clé {serial} : appuyez sur son bouton, "
              "notez le code, attendez qu'il change, notez le suivant, puis recommencez.", "erreur")
    except verifier.ConflictError:
        flash("Action impossible dans l'état actuel : rechargez la page et recommencez.", "erreur")
    except verifier.InvalidInput:
        flash("Valeur invalide.", "erreur")
    return _back(serial)
