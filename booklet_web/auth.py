"""Authentification: identifiant + passcode through the verifier, the first-use PIN steps, logout.

The views never check a passcode themselves: every decision is the verifier's (``authenticate``,
``set_pin``, ``next_code``), throttling included. A wrong passcode, an unknown user, a locked or disabled token
and a malformed passcode all get the same page and status; a throttled source or login gets 429 and Retry-After.
The session (a row of the shared database, see ``booklet_web.sessions``) holds the user id (and, between steps,
the login and the verifier's ticket); its id changes at login and after the new PIN.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for

from booklet_web.forms import EmptyForm, LoginForm, NewPinForm, NextCodeForm, PasscodeForm
from booklet_web.livret import actor_by_id
from verifier.errors import PinPolicyError, TicketError
from verifier.radius.messages import PASSCODE
from verifier.typed_login import login_part

bp = Blueprint("auth", __name__, url_prefix="/connexion")

FAILED = "L'authentification a échoué."
#: the first login's step 4 when the PIN comes with the code that chose it (RADIUS asks the same, in its words)
SAME_CODE = PASSCODE
THROTTLED = ("Trop de tentatives depuis ce poste ou pour cet identifiant : patientez {seconds} s avant de "
             "réessayer.")
PIN_REFUSALS = {
    "mismatch": "Les deux codes PIN saisis sont différents.",
    "format": "Le code PIN ne doit contenir que des chiffres (de {min} à {max}).",
    "length": "Le code PIN doit contenir de {min} à {max} chiffres.",
    "trivial": "Ce code PIN est trop simple (par exemple 0000 ou 1234) : choisissez-en un autre.",
}


def services():
    return current_app.extensions["jeton"]


def _when() -> dict:
    """The clock and the client address the verifier records with each attempt."""
    return {"now": services().clock(), "source": (request.remote_addr or "")[:100]}


def _outcome(result) -> str:
    outcome = result.outcome
    return str(getattr(outcome, "name", getattr(outcome, "value", outcome))).upper()


def load_user() -> None:
    """Before every request: the logged-in user in ``g.user`` (None when absent). Idle timeout, lifetime and
    revocation are the session store's: an ended or expired session arrives here empty."""
    g.user = None
    if getattr(session, "expired", False) and request.endpoint not in (None, "static"):
        flash("Votre session a expiré ou a été fermée : authentifiez-vous de nouveau.", "info")
    uid = session.get("uid")
    if uid is None:
        return
    with services().db.engine.connect() as conn:
        g.user = actor_by_id(conn, uid)
    if g.user is None:
        _end_session()


def _end_session() -> None:
    end = getattr(session, "end", None)
    if end is not None:
        end()
    else:
        session.clear()


def _rotate_session() -> None:
    rotate = getattr(session, "rotate", None)
    if rotate is not None:
        rotate()


#: the pages a login may lead back to (the booklet's own pages: never another site, never the console's acts)
_NEXT_PREFIXES = ("/livret?", "/classe/", "/eleve/")
_NEXT_KEY = "suite"


def safe_next(value: object) -> str | None:
    """``value`` when it is a path of this site's booklet pages (no scheme, no host, no ``//``, no backslash, no
    control character), else None: what a login may redirect to, so that no link can send a teacher elsewhere."""
    if not isinstance(value, str) or not 1 < len(value) <= 2000 or not value.startswith("/"):
        return None
    if value.startswith("//") or "\\" in value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith(_NEXT_PREFIXES):
        return None
    return value


def remember_next(value: object) -> None:
    """Keep where to go after the login in the (anonymous) session, when it is a safe path; else nothing."""
    path = safe_next(value)
    if path is not None:
        session[_NEXT_KEY] = path


def _clear_keeping_next() -> None:
    kept = session.get(_NEXT_KEY)
    session.clear()
    if safe_next(kept):
        session[_NEXT_KEY] = kept


def wants_json() -> bool:
    """The livret's script asks for JSON (its fetch sends ``Accept: application/json``)."""
    return request.headers.get("Accept", "").startswith("application/json")


def session_expired_json():
    """What the livret's script gets when its session has ended: 401 and where to log in again."""
    return jsonify(connecte=False, message="Votre session a expiré : vos modifications sont gardées dans ce "
                   "navigateur. Reconnectez-vous pour les enregistrer.", connexion=url_for("auth.login")), 401


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            if wants_json():
                return session_expired_json()
            if request.method == "GET":
                query = request.query_string.decode("ascii", "replace")
                remember_next(request.path + ("?" + query if query else ""))
            return redirect(url_for("auth.login"))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return redirect(url_for("auth.login"))
        if not g.user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _log_in(result):
    """Open the session of the user the verifier accepted (it read the user with the token: its ``user_id`` saves
    a second look-up; ``load_user`` checks the user still exists at every request)."""
    after = safe_next(session.get(_NEXT_KEY))  # checked again: only a booklet path of this site
    session.clear()
    session.permanent = True
    session["uid"] = result.user_id
    _rotate_session()  # a new id: whoever knew the id before the login knows nothing now
    return redirect(after or url_for("booklet.index"))


def _code_mark(code: str) -> str:
    """A keyed mark of the code that chose the PIN (never the code itself), kept in the ticket's session only."""
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"jeton-first-code\x00" + code.encode(), hashlib.sha256).hexdigest()[:32]


def _follow(result, login: str, form_for_reject):
    """Route one verifier outcome to its page."""
    outcome = _outcome(result)
    if outcome == "ACCEPT":
        return _log_in(result)
    if outcome == "NEW_PIN_REQUIRED":
        _clear_keeping_next()
        session["pending"] = {"login": login, "step": "pin", "ticket": result.ticket}
        return redirect(url_for("auth.new_pin"))
    if outcome == "NEXT_CODE_REQUIRED":
        _clear_keeping_next()
        session["pending"] = {"login": login, "step": "next", "ticket": result.ticket}
        return redirect(url_for("auth.next_code"))
    if outcome == "THROTTLED":
        seconds = max(1, math.ceil(result.retry_after or 1))
        response = current_app.make_response((render_template(
            "auth/login.html", form=LoginForm(formdata=None, identifiant=login),
            error=THROTTLED.format(seconds=seconds)), 429))
        response.headers["Retry-After"] = str(seconds)
        return response
    return form_for_reject()  # REJECT and LOCKED alike: the caller learns nothing about the account


@bp.route("/", methods=["GET", "POST"])
def login():
    """Authentification: Identifiant, Mot de Passe ou Passcode OTP, Valider."""
    form = LoginForm()
    if request.method == "GET" and "suite" in request.args:
        remember_next(request.args.get("suite"))  # a livret whose session ended: back to it after the login
    if form.validate_on_submit():
        login_name = form.identifiant.data.strip()
        svc = services()
        typed = form.passcode.data.strip()
        result = svc.verifier.authenticate(login_name, typed, **_when())
        # a refused form comes back with the login part only: never a PIN or code typed after it by mistake
        shown = login_part(login_name).login or ""
        response = _follow(result, login_name,
                           lambda: (render_template("auth/login.html", form=LoginForm(formdata=None,
                                    identifiant=shown), error=FAILED), 401))
        pending = session.get("pending")
        if isinstance(pending, dict) and pending.get("step") == "pin":  # the code alone chose the new-PIN step
            session["pending"] = pending | {"first": _code_mark(typed)}
        return response
    return render_template("auth/login.html", form=form), (400 if form.errors else 200)


def _pending(step: str) -> dict:
    pending = session.get("pending")
    if not isinstance(pending, dict) or pending.get("step") != step:
        abort(redirect(url_for("auth.login")))
    return pending


@bp.route("/nouveau-pin", methods=["GET", "POST"])
def new_pin():
    """Etape 3: choose a PIN of 4 to 6 digits, typed twice."""
    pending = _pending("pin")
    form = NewPinForm()
    if form.validate_on_submit():
        try:  # the PIN policy (twice the same, digits, length, not trivial) is the verifier's alone
            services().verifier.set_pin(pending["ticket"], form.pin.data, form.confirm.data, **_when())
        except (PinPolicyError, TicketError) as exc:  # the verifier's refusal, told in French
            return _pin_refused(exc, form)
        session["pending"] = {"login": pending["login"], "step": "passcode", "first": pending.get("first")}
        _rotate_session()
        return redirect(url_for("auth.passcode"))
    return render_template("auth/new_pin.html", form=form), (400 if form.errors else 200)


def _pin_refused(exc: PinPolicyError | TicketError, form):
    if isinstance(exc, TicketError):
        session.clear()
        return render_template("auth/login.html", form=LoginForm(formdata=None),
                               error="Le délai est dépassé : authentifiez-vous de nouveau avec le code de votre "
                                     "clé."), 400
    rules = services().verifier.settings
    message = PIN_REFUSALS.get(exc.reason, PIN_REFUSALS["format"]).format(min=rules.pin_min, max=rules.pin_max)
    return render_template("auth/new_pin.html", form=form, error=message), 400


@bp.route("/passcode", methods=["GET", "POST"])
def passcode():
    """Etape 4: wait for the key's code to change, then PIN + the 6 digits."""
    pending = _pending("passcode")
    form = PasscodeForm()
    if form.validate_on_submit():
        svc = services()
        typed = form.passcode.data.strip()
        result = svc.verifier.authenticate(pending["login"], typed, **_when())
        error = FAILED
        if _outcome(result) == "REJECT" and pending.get("first") and len(typed) > 6 \
                and hmac.compare_digest(_code_mark(typed[-6:]), pending["first"]):
            error = SAME_CODE  # this browser chose the PIN with that very code a moment ago: tell her to wait
        return _follow(result, pending["login"],
                       lambda: (render_template("auth/passcode.html", form=PasscodeForm(formdata=None),
                                                error=error), 401))
    return render_template("auth/passcode.html", form=form), (400 if form.errors else 200)


@bp.route("/code-suivant", methods=["GET", "POST"])
def next_code():
    """The verifier wants the key's next code (drift or repeated failures)."""
    pending = _pending("next")
    form = NextCodeForm()
    if form.validate_on_submit():
        svc = services()
        result = svc.verifier.next_code(pending["ticket"], form.code.data.strip(), **_when())
        outcome = _outcome(result)
        if outcome in ("REJECT", "LOCKED"):
            session.clear()
            return render_template("auth/login.html", form=LoginForm(formdata=None), error=FAILED), 401
        return _follow(result, pending["login"], lambda: None)
    return render_template("auth/next_code.html", form=form), (400 if form.errors else 200)


@bp.route("/rester", methods=["POST"])
@login_required
def stay():
    """Rester connecté: the livret's warning before the idle end; this request touches the session."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    session.modified = True  # last_seen is written now
    from booklet_web.sessions import seconds_left

    return jsonify(connecte=True, restant=seconds_left(session, services().clock(), services().sessions.settings,
                                                     touched=True))


@bp.route("/deconnexion", methods=["POST"])
def logout():
    """Déconnexion (a POST with its CSRF token, so no other site can log a teacher out)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    _end_session()  # the row is deleted: a copy of the cookie opens nothing any more
    return redirect(url_for("auth.login"))


@bp.route("/sessions", methods=["GET", "POST"])
@login_required
def my_sessions():
    """Mes sessions: where I am logged in (started, last seen, address, browser); end the others, or one."""
    svc = services()
    current = getattr(session, "raw_id", None)
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        ref = request.form.get("session", "")
        if ref == "autres":
            ended = svc.sessions.end_user(g.user.id, keep=current)
            svc.store.record("session.end", actor=g.user.login, login=g.user.login, source=_when()["source"],
                             detail=f"{ended} other session(s)")
            flash(f"{ended} autre(s) session(s) fermée(s).", "ok")
        elif svc.sessions.end(ref, user_id=g.user.id):
            svc.store.record("session.end", actor=g.user.login, login=g.user.login, source=_when()["source"])
            flash("Session fermée.", "ok")
        return redirect(url_for("auth.my_sessions"))
    from verifier.sessions import digest

    mine = digest(current)[:16] if current else None
    return render_template("auth/sessions.html", rows=svc.sessions.list(user_id=g.user.id, now=svc.clock()),
                           mine=mine, form=EmptyForm())
