"""The State attribute of an Access-Challenge (RFC 2865 §5.24), sealed so that any process or host can read it.

A challenge's State carries what the next Access-Request needs: the step of the guide, the login, the verifier's
single-use ticket and, between the two typings of a new PIN, the first typing. It is encrypted and authenticated
(AES-256-GCM, key derived from the key ring's primary key, associated data naming the RADIUS client), so the
gateway holds an opaque blob: it can neither read it nor forge one, nor replay it through another client, and no
server keeps per-challenge memory. The ticket stays single-use in the verifier, so a replayed State gets nowhere.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from verifier.keyring import KeyRing

_LABEL = b"jeton-radius-state/1"
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

    def __repr__(self) -> str:  # ticket and PIN are credentials: keep them out of logs
        return f"Challenge(kind={self.kind}, login={self.login!r})"


class StateSealer:
    """Seals and opens challenge States for one key ring."""

    def __init__(self, ring: KeyRing) -> None:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL)
        self._aead = AESGCM(hkdf.derive(ring.keys[ring.primary]))

    def seal(self, challenge: Challenge, client: str) -> bytes:
        body = json.dumps([challenge.kind, challenge.login, round(challenge.expires, 1), challenge.ticket,
                           challenge.pin], separators=(",", ":")).encode()
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
            kind, login, expires, ticket, pin = json.loads(body)
        except (InvalidTag, ValueError, TypeError):
            return None
        if kind not in _KINDS or not isinstance(login, str) or not isinstance(expires, int | float) or now > expires:
            return None
        return Challenge(kind, login, float(expires), ticket, pin)
