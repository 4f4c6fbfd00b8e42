"""The State attribute of an Access-Challenge (RFC 2865 §5.24), sealed so that any process or host can read it.

A challenge's State carries what the next Access-Request needs: the step of the guide, the login, the verifier's
single-use ticket, between the two typings of a new PIN the first typing, and on a first use a keyed mark of the
code that chose the PIN (typed again with the PIN, it is told "wait for the code to change"). It is encrypted and
authenticated (AES-256-GCM, key derived from the key ring's primary key, associated data naming the RADIUS
client), so the gateway holds an opaque blob: it can neither read it nor forge one, nor replay it through another
client, and no server keeps per-challenge memory. The ticket stays single-use in the verifier, so a replayed State
gets nowhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from verifier.keyring import KeyRing

_LABEL = b"jeton-radius-state/1"
_MARK_LABEL = b"jeton-radius-first-code/1"
_NONCE = 12
#: the guide's steps a challenge can stand for
PIN_FIRST, PIN_CONFIRM, NEXT_CODE, PASSCODE = "pin1", "pin2", "next", "pass"
_KINDS = (PIN_FIRST, PIN_CONFIRM, NEXT_CODE, PASSCODE)


@dataclass(frozen=True)
class Challenge:
    kind: str
    login: str
    expires: float
    ticket: str | None = None
    pin: str | None = None
    #: on a first use, :meth:`StateSealer.mark` of the code that chose the PIN (never the code itself)
    first: str | None = None

    def __repr__(self) -> str:  # ticket and PIN are credentials: keep them out of logs
        return f"Challenge(kind={self.kind}, login={self.login!r})"


class StateSealer:
    """Seals and opens challenge States for one key ring."""

    def __init__(self, ring: KeyRing) -> None:
        primary = ring.keys[ring.primary]
        self._aead = AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(primary))
        self._mark_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_MARK_LABEL).derive(primary)

    def mark(self, code: str) -> str:
        """A keyed mark of a token code, to recognise it later without keeping it."""
        return hmac.new(self._mark_key, code.encode(), hashlib.sha256).hexdigest()[:16]

    def seal(self, challenge: Challenge, client: str) -> bytes:
        body = json.dumps([challenge.kind, challenge.login, round(challenge.expires, 1), challenge.ticket,
                           challenge.pin, challenge.first], separators=(",", ":")).encode()
        nonce = secrets.token_bytes(_NONCE)
        state = nonce + self._aead.encrypt(nonce, body, _LABEL + b"\0" + client.encode())
        if len(state) > 253:  # one RADIUS attribute
            raise ValueError("challenge state too long")
        return state

    def open(self, state: bytes, client: str, now: float) -> Challenge | None:
        """The challenge, or None when the State is not ours, was altered, belongs to another client or expired."""
        if not _NONCE + 16 < len(state) <= 253:
            return None
        try:
            body = self._aead.decrypt(state[:_NONCE], state[_NONCE:], _LABEL + b"\0" + client.encode())
            kind, login, expires, ticket, pin, *more = json.loads(body)  # a State sealed before "first": 5 items
            first = more[0] if more else None
        except (InvalidTag, ValueError, TypeError):
            return None
        if kind not in _KINDS or not isinstance(login, str) or not isinstance(expires, int | float) or now > expires:
            return None
        return Challenge(kind, login, float(expires), ticket, pin, first if isinstance(first, str) else None)
