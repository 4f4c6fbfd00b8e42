"""Reading token files: PSKC (RFC 6030, through the ``pskc`` package) and OATH CSV.

OATH CSV, one token a line (a header line and ``#`` comments are skipped)::

    serial,hex key,totp[,digits[,period[,algorithm]]]      e.g.  JT-0001,3132...,totp,6,30,sha1
"""

from __future__ import annotations

import binascii
import csv
import io
import os
from pathlib import Path

from verifier.errors import ImportFileError
from verifier.store import ImportRecord

TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp"


def _algo_from_suite(suite: str | None) -> str:
    if not suite:
        return "sha1"
    name = suite.upper().replace("HMAC-", "").replace("-", "")
    algo = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}.get(name)
    if algo is None:
        raise ImportFileError(f"unsupported PSKC algorithm suite {suite!r} (HMAC-SHA1, HMAC-SHA256, HMAC-SHA512)")
    return algo


def read_pskc(path: str | os.PathLike, *, password: str | None = None,
              psk: bytes | None = None) -> list[ImportRecord]:
    """The TOTP keys of a PSKC file, decrypted with a password (PBKDF2) or a pre-shared key; MAC checked."""
    import pskc
    from pskc.exceptions import PSKCError

    try:
        container = pskc.PSKC(str(path))
    except (OSError, PSKCError) as exc:
        raise ImportFileError(f"{path}: not a readable PSKC file ({exc.__class__.__name__})") from None
    try:
        if container.encryption.is_encrypted:
            if password is not None:
                container.encryption.derive_key(password)
            elif psk is not None:
                container.encryption.key = psk
            else:
                raise ImportFileError(f"{path}: the PSKC file is encrypted: give --password or --psk-hex")
        records = []
        for key in container.keys:
            if key.algorithm != TOTP_URI:
                raise ImportFileError(f"{path}: key {key.serial or key.id!r} is not TOTP ({key.algorithm})")
            secret = key.secret
            if not key.serial:
                raise ImportFileError(f"{path}: a key has no serial number")
            records.append(ImportRecord(
                serial=key.serial, secret=bytes(secret), algo=_algo_from_suite(key.algorithm_suite),
                digits=int(key.response_length or 6), period=int(key.time_interval or 30),
                drift=int(key.time_drift or 0), model=key.model,
            ))
    except ImportFileError:
        raise
    except PSKCError as exc:
        raise ImportFileError(f"{path}: cannot decrypt the PSKC file (wrong password or key, or a bad MAC: "
                              f"{exc.__class__.__name__})") from None
    if not records:
        raise ImportFileError(f"{path}: the PSKC file holds no key")
    return records


def read_oath_csv(path: str | os.PathLike) -> list[ImportRecord]:
    """The tokens of an OATH CSV file (serial, hex key, totp, digits, period[, algorithm])."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{path}: cannot read the CSV file ({exc.__class__.__name__})") from None
    records = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() in ("serial", "serial number", "serialnumber"):
            continue
        if len(cells) < 3:
            raise ImportFileError(f"{path}, line {number}: expected serial,hexkey,totp[,digits[,period[,algo]]]")
        if cells[2].lower() != "totp":
            raise ImportFileError(f"{path}, line {number}: only totp tokens are supported")
        try:
            secret = binascii.unhexlify(cells[1])
            digits = int(cells[3]) if len(cells) > 3 and cells[3] else 6
            period = int(cells[4]) if len(cells) > 4 and cells[4] else 30
        except (binascii.Error, ValueError):
            raise ImportFileError(f"{path}, line {number}: the key must be hex, digits and period numbers") from None
        algo = cells[5].lower() if len(cells) > 5 and cells[5] else "sha1"
        records.append(ImportRecord(serial=cells[0], secret=secret, algo=algo, digits=digits, period=period))
    if not records:
        raise ImportFileError(f"{path}: the CSV file holds no token")
    return records


def read_token_file(path: str | os.PathLike, *, password: str | None = None,
                    psk: bytes | None = None) -> list[ImportRecord]:
    """PSKC (XML) or OATH CSV, told apart by content."""
    try:
        head = Path(path).read_bytes()[:512].lstrip()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.__class__.__name__})") from None
    if head.startswith(b"<") or head.startswith(b"\xef\xbb\xbf<"):
        return read_pskc(path, password=password, psk=psk)
    return read_oath_csv(path)
