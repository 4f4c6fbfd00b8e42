"""The LPC booklet web application: teachers log in with their OTP token (through the verifier) and fill
in the Livret Personnel de Compétences of their classes.

``create_app(test_config=None)`` is the Flask application factory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, render_template
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


def secret_key_for(keys_file: str) -> bytes:
    """The session-signing key kept beside the key ring (``<keys>.web-secret``, mode 0600), made on first use.

    Every process of one installation reads the same file, so any of them accepts a session another signed.
    """
    path = Path(f"{keys_file}.web-secret")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    # Written whole under a temporary name, then linked into place: a process starting at the same moment
    # either wins or reads the winner's complete file, never half of one.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(os.urandom(32).hex().encode())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return path.read_bytes()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application; ``test_config`` overrides the settings (keys starting with JETON_ or Flask's)."""
    app = Flask(__name__)
    app.config.from_mapping(
        JETON_DB_URL=os.environ.get("JETON_DB_URL", DEFAULT_DB_URL),
        JETON_KEYS_FILE=os.environ.get("JETON_KEYS_FILE"),
        JETON_IDLE_MINUTES=30,
        JETON_CLOCK=time.time,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_NAME="jeton_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        JETON_PROXY=False,
    )
    if test_config:
        app.config.from_mapping(test_config)
    keys_file = app.config["JETON_KEYS_FILE"]
    if not keys_file:
        raise RuntimeError("no key file: give --keys FILE or set JETON_KEYS_FILE")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key_for(keys_file)

    import verifier
    from verifier import Verifier

    store = verifier.open_store(app.config["JETON_DB_URL"], keys_file)
    app.extensions["jeton"] = Services(
        db=open_database(app.config["JETON_DB_URL"]),
        store=store,
        verifier=Verifier(store),
        ref=load_referential(),
        clock=app.config["JETON_CLOCK"],
    )
    csrf.init_app(app)
    if app.config["JETON_PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    app.after_request(_security_headers)

    from booklet_web import admin, auth, booklet

    app.register_blueprint(auth.bp)
    app.register_blueprint(booklet.bp)
    app.register_blueprint(admin.bp)
    app.before_request(auth.load_user)
    app.jinja_env.filters["quand"] = _format_when

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
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
        "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


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
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
