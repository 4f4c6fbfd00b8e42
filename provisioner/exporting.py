"""Export recorded tokens for a server: PSKC (RFC 6030) through the ``pskc`` package, or OATH CSV.

PSKC: the secrets are encrypted with AES128-CBC under a key derived from a password (PBKDF2) or a pre-shared
key, with an HMAC-SHA1 MAC, algorithm ``urn:ietf:params:xml:ns:keyprov:pskc:totp``, the time step and the
TimeDrift in steps. The hash algorithm is the text of ``<Suite>`` (``SHA1``, ``SHA256``), as RFC 6030 §4.3.4 says
for HMAC-based algorithms: privacyIDEA and python-pskc read it there, and the file validates against the RFC's
schema (``pskctool --validate``). docs/interop.md lists what each tool reads.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from provisioner.errors import ExportError
from provisioner.records import Record, TokenRecords

TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
#: PBKDF2 iterations for password-protected files (pskc's default is 100,000; RFC 8018 asks for many).
PBKDF2_ITERATIONS = 100_000
#: Token states worth exporting by default: those a server may have to verify.
EXPORTABLE = ("ready", "assigned", "active", "locked", "disabled")


@dataclass(frozen=True)
class ExportItem:
    """One token with its secret, as it goes into an export file."""

    record: Record
    secret: bytes


def collect(records: TokenRecords, serials: list[str] | None = None, states: tuple[str, ...] = EXPORTABLE):
    """The tokens to export: the given serials (each must exist), or every token in ``states``."""
    if serials:
        chosen = []
        for serial in serials:
            record = records.find(serial)
            if record is None:
                raise ExportError(f"aucun jeton {serial} dans la base")
            chosen.append(record)
    else:
        chosen = records.list(states)
    if not chosen:
        raise ExportError("aucun jeton à exporter")
    return [ExportItem(r, records.secret(r.serial)) for r in chosen]


def to_pskc(items: list[ExportItem], *, password: str | None = None, psk: bytes | None = None) -> bytes:
    """A PSKC document with every secret encrypted (AES128-CBC) and MACed (HMAC-SHA1)."""
    import pskc

    if (password is None) == (psk is None):
        raise ExportError("choisissez soit un mot de passe (--password), soit une clé partagée (--psk-hex)")
    if psk is not None and len(psk) != 16:
        raise ExportError("la clé partagée doit faire 16 octets (32 chiffres hexadécimaux) pour AES128-CBC")
    if password is not None and len(password) < 8:
        raise ExportError("mot de passe trop court : 8 caractères au moins")
    doc = pskc.PSKC()
    for item in items:
        r = item.record
        doc.add_key(
            id=r.serial,
            serial=r.serial,
            manufacturer="Jeton",
            model=r.kind,
            issuer="Jeton",
            algorithm=TOTP_URI,
            algorithm_suite=r.algo.upper(),
            response_encoding="DECIMAL",
            response_length=r.digits,
            time_offset=0,
            time_interval=r.period,
            time_drift=r.drift,
            secret=item.secret,
        )
    if password is not None:
        doc.encryption.setup_pbkdf2(password, algorithm="aes128-cbc", iterations=PBKDF2_ITERATIONS)
    else:
        doc.encryption.setup_preshared_key(key=psk, algorithm="aes128-cbc", key_name="Pre-shared-key")
    doc.mac.setup(algorithm="hmac-sha1")
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def to_oath_csv(items: list[ExportItem]) -> bytes:
    """OATH CSV as DESIGN.md §4 names it: serial, hex key, totp, digits, period, then the algorithm (one token a
    line; ``jeton-admin import`` reads the sixth column, tools that stop at five take sha1, so it is always there)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for item in items:
        r = item.record
        writer.writerow([r.serial, item.secret.hex(), "totp", r.digits, r.period, r.algo])
    return out.getvalue().encode("ascii")


def read_pskc(data: bytes, *, password: str | None = None, psk: bytes | None = None) -> list[tuple[str, bytes]]:
    """(serial, secret) of each key of a PSKC document, checking its MAC (used to verify what we wrote)."""
    import pskc

    doc = pskc.PSKC(io.BytesIO(data))
    if password is not None:
        doc.encryption.derive_key(password)
    else:
        doc.encryption.key = psk
    return [(key.serial, key.secret) for key in doc.keys]
