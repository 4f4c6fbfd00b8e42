"""PIN hashing (salted and peppered, optional scrypt underneath) and the new-PIN policy.

A 4..6 digit PIN has at most a million values, so no hash alone can protect it against someone holding the
database: the pepper, a key-ring key that never enters the database, does. Stored form::

    h1$<pepper id>$<kdf: none|scrypt:N>$<salt b64>$<HMAC-SHA256(pepper, salt || kdf(pin)) b64>
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from verifier.errors import PinPolicyError
from verifier.keyring import KeyRing
from verifier.settings import Settings

_SALT = 16
# PINs people choose first and guessers try first, beyond repeats and runs (checked separately).
_COMMON = frozenset({"1004", "2000", "1122", "1313", "2580", "0852", "1379", "9731", "1010", "6969", "4321"})


def _kdf(pin: bytes, salt: bytes, kdf: str) -> bytes:
    if kdf == "none":
        return pin
    name, _, n = kdf.partition(":")
    if name != "scrypt" or not n.isdigit():
        raise ValueError("unknown PIN kdf")
    return hashlib.scrypt(pin, salt=salt, n=int(n), r=8, p=1, dklen=32)


def _kdf_name(settings: Settings) -> str:
    return f"scrypt:{settings.scrypt_n}" if settings.pin_kdf == "scrypt" else "none"


def hash_pin(ring: KeyRing, pin: str, settings: Settings) -> str:
    """The stored form of ``pin`` under the ring's pepper, with a fresh salt."""
    salt = secrets.token_bytes(_SALT)
    kdf = _kdf_name(settings)
    digest = hmac.new(ring.pepper, salt + _kdf(pin.encode(), salt, kdf), hashlib.sha256).digest()
    b64 = base64.b64encode
    return f"h1${ring.pepper_id}${kdf}${b64(salt).decode()}${b64(digest).decode()}"


class DummyPinHash:
    """A stored form to compare against when there is none (unknown user, no PIN yet): same work, never true."""

    def __init__(self, ring: KeyRing, settings: Settings) -> None:
        self.value = hash_pin(ring, secrets.token_hex(8), settings)


def check_pin(ring: KeyRing, pin: str, stored: str) -> bool:
    """Constant-time check of ``pin`` against a stored form; any malformed form is simply False."""
    try:
        version, pepper_id, kdf, salt_b64, digest_b64 = stored.split("$")
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        computed = hmac.new(ring.pepper, salt + _kdf(pin.encode(), salt, kdf), hashlib.sha256).digest()
    except ValueError:
        return False
    return hmac.compare_digest(computed, expected) and version == "h1" and pepper_id == ring.pepper_id


def is_trivial(pin: str) -> bool:
    """Repeated digits (0000), runs up or down (1234, 9876, 8901), two-digit patterns (1212), or common PINs."""
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in zip(digits, digits[1:], strict=False)}
    if len(steps) == 1 and steps.pop() in (0, 1, 9):
        return True
    if len(pin) >= 4 and all(pin[i] == pin[i % 2] for i in range(len(pin))):
        return True
    return pin in _COMMON


def check_new_pin(pin: str, confirm: str, settings: Settings) -> None:
    """Raise PinPolicyError unless ``pin`` is an acceptable new PIN typed identically twice."""
    if not hmac.compare_digest(pin.encode(), confirm.encode()):
        raise PinPolicyError("mismatch", "the two PINs differ: type the same PIN twice")
    if not (pin.isascii() and pin.isdigit()):
        raise PinPolicyError("format", "a PIN is made of digits only")
    if not settings.pin_min <= len(pin) <= settings.pin_max:
        raise PinPolicyError("length", f"a PIN has {settings.pin_min} to {settings.pin_max} digits")
    if is_trivial(pin):
        raise PinPolicyError("trivial", "this PIN is too easy to guess (repeats, runs, common PINs): choose another")
