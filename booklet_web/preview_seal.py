"""What an import's preview hands to its confirmation, sealed: never in clear on disk, in the cookie or in a row.

Between "Aperçu" and "Importer N clés" the records read from the uploaded file (token secrets among them) must live
somewhere. They go back to the browser that uploaded them, in a hidden form field, compressed and encrypted
(AES-256-GCM) under a key derived from the key ring's web key; the browser never holds the key, so the field is
opaque to it and to anything that copies the page. What makes the field usable is bound in its associated data:

- the kind of import (``cles`` or ``liste``) and the administrator's login;
- the time it was sealed: it is refused after ``LIFETIME`` seconds;
- a random id that is also kept in that administrator's server-side session (one per kind). Confirming pops the id
  from the session before anything is written: the field then opens nothing, so it works once, in that session only
  (another session, another administrator or a second click is told to upload the file again).

No password is kept: the PSKC file is decrypted at the preview and only its records are sealed. Every web process
and host can open a field sealed by another (the web key is in the shared key ring; DESIGN.md §9), and nothing is
left on the server to clean up after use or expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import zlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, session

LIFETIME = 30 * 60
#: the largest sealed field: the confirmation's request must stay under the application's upload bound
MAX_FIELD = 1_800_000
_SESSION_KEY = "apercus"
_NONCE = 12


class PreviewExpired(Exception):
    """The sealed preview is unknown to this session, already used, too old, or tampered with."""


class PreviewTooLarge(Exception):
    """The sealed preview would not fit in the confirmation's form."""


def _keys() -> list[bytes]:
    """AES keys derived from the web signing keys (the newest first: it seals; the others still open)."""
    signing = [current_app.config["SECRET_KEY"], *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]
    return [hmac.new(k if isinstance(k, bytes) else k.encode(), b"jeton-import-preview", hashlib.sha256).digest()
            for k in signing]


def _bound(kind: str, ident: str, login: str, sealed_at: int) -> bytes:
    return f"jeton-import-preview\x00{kind}\x00{ident}\x00{login}\x00{sealed_at}".encode()


def seal(kind: str, payload: bytes, *, login: str, now: float) -> str:
    """The hidden field's value for ``payload``; remembers its id in the session (replacing an older preview)."""
    ident, sealed_at = secrets.token_urlsafe(16), int(now)
    nonce = secrets.token_bytes(_NONCE)
    body = AESGCM(_keys()[0]).encrypt(nonce, zlib.compress(payload, 6), _bound(kind, ident, login, sealed_at))
    field = f"{ident}.{sealed_at}.{base64.urlsafe_b64encode(nonce + body).decode()}"
    if len(field) > MAX_FIELD:
        raise PreviewTooLarge()
    pending = dict(session.get(_SESSION_KEY) or {})
    pending[kind] = ident
    session[_SESSION_KEY] = pending
    return field


def open_once(kind: str, field: str | None, *, login: str, now: float) -> bytes:
    """The payload sealed by :func:`seal` in this session; its id leaves the session first (single use).
    PreviewExpired for anything else."""
    try:
        ident, sealed_at_text, blob_text = (field or "").split(".", 2)
        sealed_at = int(sealed_at_text)
        blob = base64.urlsafe_b64decode(blob_text.encode())
    except (ValueError, TypeError):
        raise PreviewExpired() from None
    pending = dict(session.get(_SESSION_KEY) or {})
    if not pending.get(kind) or not hmac.compare_digest(pending[kind], ident):
        raise PreviewExpired()
    del pending[kind]
    session[_SESSION_KEY] = pending  # used (or refused) once: a second confirmation finds nothing
    if not 0 <= now - sealed_at <= LIFETIME:
        raise PreviewExpired()
    for key in _keys():
        try:
            body = AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], _bound(kind, ident, login, sealed_at))
        except (InvalidTag, ValueError):
            continue
        return zlib.decompress(body)
    raise PreviewExpired()


def forget(kind: str) -> None:
    """Drop this session's preview of ``kind`` (the administrator cancelled it)."""
    pending = dict(session.get(_SESSION_KEY) or {})
    if pending.pop(kind, None) is not None:
        session[_SESSION_KEY] = pending
