"""TOTP codes of a token, computed with pyotp from the decrypted secret, and the window search."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pyotp

_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


class _RawTOTP(pyotp.TOTP):
    """pyotp's TOTP, keeping the raw key instead of decoding base32 for every code."""

    def __init__(self, secret: bytes, digits: int, algo: str, period: int) -> None:
        self._raw = bytes(secret)
        super().__init__(base64.b32encode(secret).decode(), digits=digits, digest=_DIGESTS[algo], interval=period)

    def byte_secret(self) -> bytes:
        return self._raw


class TokenCodes:
    """The codes of one token: ``code(step)``, ``step_of(now)`` and ``matches(code, center, radius)``."""

    def __init__(self, secret: bytes, *, algo: str = "sha1", digits: int = 6, period: int = 30) -> None:
        if algo not in _DIGESTS:
            raise ValueError("unknown algorithm")
        self.period = period
        self.digits = digits
        self._totp = _RawTOTP(secret, digits, algo, period)

    def step_of(self, now: float) -> int:
        return int(now // self.period)

    def code(self, step: int) -> str:
        return self._totp.generate_otp(step)

    def matches(self, code: str, center: int, radius: int) -> list[int]:
        """Every step in ``center ± radius`` whose code equals ``code``, nearest the centre first.

        The whole window is always computed and compared in constant time, so the time taken does not depend
        on where in the window (or whether) the code matched.
        """
        given = code.encode()
        found = []
        for step in range(center - radius, center + radius + 1):
            if hmac.compare_digest(self._totp.generate_otp(step).encode(), given):
                found.append(step)
        found.sort(key=lambda s: (abs(s - center), -s))
        return found


def otpauth_uri(secret: bytes, *, serial: str, login: str | None, algo: str, digits: int, period: int,
                issuer: str = "Jeton") -> str:
    """The ``otpauth://totp/...`` URI of a software token (for a QR code)."""
    totp = pyotp.TOTP(base64.b32encode(secret).decode().rstrip("="), digits=digits, digest=_DIGESTS[algo],
                      interval=period, name=login or serial, issuer=issuer)
    return totp.provisioning_uri()
