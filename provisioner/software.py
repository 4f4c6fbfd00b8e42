"""Software tokens: a secret in the same store, an ``otpauth://`` URI and its QR code for FreeOTP & co."""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass

import pyotp

from provisioner.records import TokenRecords

ISSUER = "Jeton"
#: Apps that honour the otpauth:// URI's algorithm, digits and period (checked by hand, docs/interop.md).
APPS_THAT_HONOUR = ("FreeOTP", "FreeOTP+", "Aegis", "2FAS", "KeePassXC")
#: Apps that ignore them and always compute sha1, 6 digits, 30 s codes.
APPS_THAT_IGNORE = ("Google Authenticator", "Microsoft Authenticator")
DEFAULTS = ("sha1", 6, 30)


def parameters_warning(algo: str, digits: int, period: int) -> str | None:
    """The French warning to show when a software token's parameters are not the ones every app assumes."""
    if (algo, digits, period) == DEFAULTS:
        return None
    asked = ", ".join(part for part, default in ((algo, "sha1"), (f"{digits} chiffres", "6 chiffres"),
                                                 (f"{period} s", "30 s")) if part != default)
    return (f"attention : {asked} — {' et '.join(APPS_THAT_IGNORE)} ignorent ce réglage et afficheraient des codes "
            f"refusés ; faites scanner le QR code avec {', '.join(APPS_THAT_HONOUR[:-1])} ou {APPS_THAT_HONOUR[-1]}, "
            "ou gardez les réglages par défaut (sha1, 6 chiffres, 30 s).")


@dataclass(frozen=True)
class SoftwareToken:
    """A software token just created: its serial and the URI to hand to an authenticator app (once)."""

    serial: str
    login: str
    uri: str


def create_software_token(
    records: TokenRecords, login: str, *, algo: str = "sha1", digits: int = 6, period: int = 30, operator: str
) -> SoftwareToken:
    """Record a software token for ``login`` (who must exist) and return its provisioning URI."""
    serial, secret = records.create_software(login, algo=algo, digits=digits, period=period, operator=operator)
    totp = pyotp.TOTP(
        base64.b32encode(secret).decode().rstrip("="), digits=digits, digest=getattr(hashlib, algo), interval=period
    )
    return SoftwareToken(serial, login, totp.provisioning_uri(name=login, issuer_name=ISSUER))


def qr_png(uri: str) -> bytes:
    """The QR code of ``uri`` as PNG bytes."""
    import qrcode

    image = qrcode.make(uri, error_correction=qrcode.constants.ERROR_CORRECT_M)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def qr_terminal(uri: str) -> str:
    """The QR code of ``uri`` drawn with block characters, for a terminal."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(uri)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()
