"""The LPC booklet web application: teachers log in with their OTP token (through the verifier) and fill
in the Livret Personnel de Compétences of their classes.

``create_app(test_config=None)`` is the Flask application factory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from booklet_web.db import Database, open_database
from booklet_web.referential import Referential, load_referential

csrf = CSRFProtect()

DEFAULT_DB_URL = "sqlite:///var/jeton.db"
PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Services:
    """What the views use: the database, the verifier, the referential and the clock (Unix seconds)."""

    db: Database
    store: object
    verifier: object
    ref: Referential
    clock: Callable[[], float]
    sessions: object = None


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application; ``test_config`` overrides the settings (keys starting with JETON_ or Flask's)."""
    app = Flask(__name__)
    app.config.from_mapping(
        JETON_DB_URL=os.environ.get("JETON_DB_URL", DEFAULT_DB_URL),
        JETON_KEYS_FILE=os.environ.get("JETON_KEYS_FILE"),
        JETON_CLOCK=time.time,
        # None: the installation's settings (verifier.settings_from_env: defaults, or JETON_SETTINGS)
        JETON_SETTINGS=None,
        # Sessions are rows of the shared database (DESIGN.md §5). False keeps Flask's signed cookie: only for the
        # benchmark that measures what server-side sessions cost; never in service (a copied cookie would live on).
        JETON_SERVER_SESSIONS=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_NAME="jeton_session",
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        JETON_PROXY=False,
        # True when served over HTTPS (set by `jeton-web serve` unless --insecure-http): HSTS, __Host- cookie
        JETON_HTTPS=False,
        # who may read /healthz and /metrics: comma-separated addresses or networks (default: this host only)
        JETON_OPS_ALLOW=os.environ.get("JETON_OPS_ALLOW"),
        # True only on the site of a State service: the Marianne font and the State's brand block (its lines, e.g.
        # "Ministère|de l'Éducation|nationale"); otherwise a system font and a plain header (docs/booklet.md)
        JETON_STATE_SERVICE=os.environ.get("JETON_STATE_SERVICE", "") in ("1", "true", "oui"),
        JETON_STATE_LINES=os.environ.get("JETON_STATE_LINES", "République|Française"),
    )
    if test_config:
        app.config.from_mapping(test_config)
    from booklet_web.operations import allowed_networks

    try:
        app.config["JETON_OPS_NETWORKS"] = allowed_networks(app.config["JETON_OPS_ALLOW"])
    except ValueError:
        raise RuntimeError("JETON_OPS_ALLOW: comma-separated addresses or networks, e.g. 127.0.0.1,10.0.0.0/8") \
            from None
    keys_file = app.config["JETON_KEYS_FILE"]
    if not keys_file:
        raise RuntimeError("no key file: give --keys FILE or set JETON_KEYS_FILE")

    import verifier
    from verifier import Verifier
    from verifier.sessions import Sessions

    store = verifier.open_store(app.config["JETON_DB_URL"], keys_file, settings=app.config["JETON_SETTINGS"])
    settings = store.settings
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=settings.session_lifetime)
    # CSRF tokens live as long as a session; itsdangerous refuses a token dated in the future.
    app.config["WTF_CSRF_TIME_LIMIT"] = int(settings.session_lifetime)
    if not app.config.get("SECRET_KEY"):
        signing = store.ring.web_signing_keys(time.time(), settings.session_lifetime)
        if not signing:
            raise verifier.KeyRingError(
                "the key ring has no web signing key: run `jeton-admin init` once to add it",
                french="le trousseau de clés n'a pas de clé de signature web : lancez une fois `jeton-admin init`")
        # The newest key signs; the keys retired by rotate-key less than a session lifetime ago still verify.
        app.config["SECRET_KEY"] = signing[-1]
        app.config["SECRET_KEY_FALLBACKS"] = signing[:-1]
        app.config["WTF_CSRF_SECRET_KEY"] = signing
    if app.config["JETON_HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["SESSION_COOKIE_NAME"] = "__Host-" + app.config["SESSION_COOKIE_NAME"]
    services = Services(
        db=open_database(app.config["JETON_DB_URL"]),
        store=store,
        verifier=Verifier(store),
        ref=load_referential(),
        clock=app.config["JETON_CLOCK"],
        sessions=Sessions(store.engine, settings),
    )
    app.extensions["jeton"] = services
    if app.config["JETON_SERVER_SESSIONS"]:
        from booklet_web.sessions import ServerSessionInterface

        app.session_interface = ServerSessionInterface(services.sessions, lambda: services.clock())
    csrf.init_app(app)
    if app.config["JETON_PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    app.after_request(_security_headers)

    # admin_audit, admin_confirm, admin_emergency, admin_health, admin_imports, admin_tokens and admin_users add their
    # routes to admin's blueprint
    from booklet_web import (  # noqa: F401
        admin,
        admin_audit,
        admin_confirm,
        admin_emergency,
        admin_health,
        admin_imports,
        admin_tokens,
        admin_users,
        auth,
        booklet,
        guide,
        operations,
    )

    app.register_blueprint(operations.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(booklet.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(guide.bp)
    app.context_processor(lambda: {"site": _site(app.config)})
    app.before_request(auth.load_user)
    app.jinja_env.filters["quand"] = _format_when

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        from flask import jsonify, session

        if auth.wants_json():  # the livret's script: a session that ended (its token with it) or a stale page
            if session.get("uid") is None:
                return auth.session_expired_json()
            return jsonify(message="Le formulaire a expiré : rechargez la page (vos modifications sont gardées "
                           "dans ce navigateur)."), 400
        return render_template("error.html", message="Le formulaire a expiré ou n'est pas valide : "
                               "rechargez la page et recommencez.", status=400), 400

    for status, message in ((400, "Requête invalide."), (403, "Accès refusé."), (404, "Page introuvable."),
                            (405, "Méthode non autorisée."), (413, "Fichier trop volumineux (2 Mo au plus).")):
        app.register_error_handler(status, _simple_error(status, message))

    @app.errorhandler(500)
    def _server_error(exc):
        return render_template("error.html", message="Une erreur interne est survenue.", status=500), 500

    return app


def _security_headers(response):
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:  # over HTTPS only: a browser ignores HSTS on plain HTTP anyway
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _site(config) -> dict:
    """What base.html shows of the site: the State's brand and font, or not."""
    lines = config["JETON_STATE_LINES"]
    if isinstance(lines, str):
        lines = [line.strip() for line in lines.split("|") if line.strip()]
    return {"state_service": bool(config["JETON_STATE_SERVICE"]), "state_lines": lines}


def _simple_error(status: int, message: str):
    def handler(exc):
        # Our own abort(400, "…") messages are French; Werkzeug's default descriptions are English.
        description = getattr(exc, "description", None)
        if description and description != type(exc).description:
            message_shown = description
        else:
            message_shown = message
        return render_template("error.html", message=message_shown, status=status), status

    return handler


def _format_when(value) -> str:
    """French date and time (Paris) of a record, e.g. 28/11/2026 à 14:02; naive values are UTC (SQLite)."""
    if value is None:
        return ""
    if isinstance(value, int | float):  # Unix seconds (the verifier's times)
        value = datetime.fromtimestamp(value, UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
