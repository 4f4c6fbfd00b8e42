"""``/healthz`` and ``/metrics`` (DESIGN.md §6), for the load balancer and Prometheus, off the public pages: they
answer only to the addresses of ``JETON_OPS_ALLOW`` (default: this host, 127.0.0.0/8 and ::1) and 403 to anyone
else. A request relayed by a reverse proxy that the application was not told about (``--proxy``) carries
``X-Forwarded-For`` or ``Forwarded``: its real origin is unknown, so it is refused too (behind nginx on the same host
every request would otherwise come from 127.0.0.1)."""

from __future__ import annotations

import ipaddress
import secrets

from flask import Blueprint, Response, abort, current_app, jsonify, request

from booklet_web.auth import services

bp = Blueprint("operations", __name__)

DEFAULT_ALLOW = "127.0.0.0/8,::1/128"


def allowed_networks(value: str | None) -> tuple:
    """The networks of a comma-separated list (``JETON_OPS_ALLOW``); ValueError for a malformed one."""
    text = DEFAULT_ALLOW if value is None else value
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def _check_origin() -> None:
    relayed = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    if relayed and not current_app.config["JETON_PROXY"]:
        abort(403)
    try:
        address = ipaddress.ip_address((request.remote_addr or "").split("%")[0])
    except ValueError:
        abort(403)
    if not any(address in net for net in current_app.config["JETON_OPS_NETWORKS"]):
        abort(403)


@bp.route("/healthz")
def healthz():
    """200 when the database answers at this copy's schema and the key ring seals and opens; 503 otherwise."""
    _check_origin()
    from verifier import db

    store = services().store
    checks = {"database": "ok", "keys": "ok"}
    try:
        db.check_schema(store.engine)
    except Exception as exc:  # any failure is "not healthy"; only its kind is told
        checks["database"] = type(exc).__name__
    try:
        probe = secrets.token_bytes(16)
        key_id, blob = store.ring.seal("HEALTHZ", probe)
        if store.ring.open("HEALTHZ", key_id, blob) != probe or not store.ring.pepper:
            raise ValueError("key ring round trip")
    except Exception as exc:  # idem
        checks["keys"] = type(exc).__name__
    healthy = all(v == "ok" for v in checks.values())
    answer = jsonify(status="ok" if healthy else "indisponible", **checks)
    answer.headers["Cache-Control"] = "no-store"
    return answer, (200 if healthy else 503)


@bp.route("/metrics")
def metrics():
    """The Prometheus text format: attempts, locks, throttled attempts, latency (``verifier.metrics``)."""
    _check_origin()
    from verifier.metrics import exposition

    body, content_type = exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
