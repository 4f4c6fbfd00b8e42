"""Reading token files: PSKC (RFC 6030, through the ``pskc`` package) and OATH CSV.

OATH CSV, one token a line (a header line and ``#`` comments are skipped)::

    serial,hex key,totp[,digits[,period[,algorithm]]]      e.g.  JT-0001,3132...,totp,6,30,sha1

Every record is checked here (serial, algorithm, digits, period, secret size, duplicates), so a bad file is
refused with the line (CSV) or the key (PSKC) at fault. Each ``ImportFileError`` carries its French wording
(``.french``) for the command lines; neither wording ever holds a secret or a password.
"""

from __future__ import annotations

import binascii
import csv
import io
import os
from pathlib import Path

from verifier import pskc_compat
from verifier.errors import ImportFileError
from verifier.schema import ALGORITHMS
from verifier.store import SERIAL_RE, ImportRecord

TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
MAX_PBKDF2_ITERATIONS = 10_000_000


def _algo_from_suite(suite: str | None) -> str:
    if not suite:
        return "sha1"
    name = suite.upper().replace("HMAC-", "").replace("-", "")
    algo = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}.get(name)
    if algo is None:
        raise ImportFileError(f"unsupported PSKC algorithm suite {suite!r} (HMAC-SHA1, HMAC-SHA256, HMAC-SHA512)",
                              french=f"suite d'algorithmes PSKC non prise en charge {suite!r} "
                                     "(HMAC-SHA1, HMAC-SHA256 ou HMAC-SHA512)")
    return algo


def _checked(record: ImportRecord, seen: set[str], where: str, ou: str) -> ImportRecord:
    """``record`` if the store will take it (the rules of ``Store.import_records``); else an ``ImportFileError``
    naming ``where`` (English) / ``ou`` (French): the line or key at fault. ``seen``: the serials read so far."""
    problem: tuple[str, str] | None = None
    if not SERIAL_RE.match(record.serial):
        problem = (f"serial {record.serial!r} is not 1 to 16 characters of A-Z, 0-9 and '-'",
                   f"numéro {record.serial!r} invalide (1 à 16 caractères parmi A-Z, 0-9 et -)")
    elif record.algo not in ALGORITHMS:
        problem = (f"algorithm {record.algo!r} is not one of {', '.join(ALGORITHMS)}",
                   f"algorithme {record.algo!r} non pris en charge ({', '.join(ALGORITHMS)})")
    elif record.digits not in (6, 8):
        problem = (f"a token shows 6 or 8 digits, not {record.digits}",
                   f"une clé affiche 6 ou 8 chiffres, pas {record.digits}")
    elif record.period not in (30, 60):
        problem = (f"a token's period is 30 or 60 seconds, not {record.period}",
                   f"la période d'une clé est de 30 ou 60 secondes, pas {record.period}")
    elif not 10 <= len(record.secret) <= 64:
        problem = ("a secret is 10 to 64 bytes", "un secret fait de 10 à 64 octets")
    elif record.serial in seen:
        problem = (f"serial {record.serial} appears twice in the file",
                   f"le numéro {record.serial} figure deux fois dans le fichier")
    if problem is not None:
        raise ImportFileError(f"{where}: {problem[0]}", french=f"{ou} : {problem[1]}")
    seen.add(record.serial)
    return record


def read_pskc(path: str | os.PathLike, *, password: str | None = None,
              psk: bytes | None = None) -> list[ImportRecord]:
    """The TOTP keys of a PSKC file, decrypted with a password (PBKDF2) or a pre-shared key; MAC checked."""
    import pskc
    from pskc.exceptions import PSKCError
    from pskc.parser import PSKCParser

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.__class__.__name__})",
                              french=f"{path} : fichier illisible ({exc.__class__.__name__})") from None
    root = pskc_compat.normalised(pskc_compat.parse_untrusted(data, path), path)
    try:
        # The tree already parsed safely and normalised goes to pskc's parser as it is: writing it out for pskc to
        # parse again (and copy, for XML signatures we do not check) took a third of a 100,000-key import.
        container = pskc.PSKC()
        PSKCParser.parse_document(container, root)
    except Exception as exc:  # untrusted input: whatever the pskc package trips on is the file's fault
        raise ImportFileError(f"{path}: not a readable PSKC file ({exc.__class__.__name__})",
                              french=f"{path} : fichier PSKC illisible ({exc.__class__.__name__})") from None
    try:
        if container.encryption.is_encrypted:
            if password is not None:
                iterations = container.encryption.derivation.pbkdf2_iterations or 0
                if iterations > MAX_PBKDF2_ITERATIONS:  # a hostile file must not hold the CPU for hours
                    raise ImportFileError(f"{path}: PBKDF2 iteration count {iterations} is too high",
                                          french=f"{path} : nombre d'itérations PBKDF2 trop élevé ({iterations}, "
                                                 f"au plus {MAX_PBKDF2_ITERATIONS})")
                container.encryption.derive_key(password)
            elif psk is not None:
                container.encryption.key = psk
            else:
                raise ImportFileError(f"{path}: the PSKC file is encrypted: give --password or --psk-hex",
                                      french=f"{path} : le fichier PSKC est chiffré : indiquez --password ou "
                                             "--psk-hex")
            # pskc decrypts the MAC key again for every value it checks: once is enough
            container.mac.key = container.mac.key
        records: list[ImportRecord] = []
        seen: set[str] = set()
        for key in container.keys:
            if key.algorithm != TOTP_URI:
                raise ImportFileError(f"{path}: key {key.serial or key.id!r} is not TOTP ({key.algorithm})",
                                      french=f"{path} : la clé {key.serial or key.id!r} n'est pas une clé TOTP "
                                             f"({key.algorithm})")
            secret = key.secret
            if not key.serial:
                raise ImportFileError(f"{path}: a key has no serial number",
                                      french=f"{path} : une clé n'a pas de numéro de série")
            try:
                algo = _algo_from_suite(key.algorithm_suite)
            except ImportFileError as exc:
                raise ImportFileError(f"{path}, key {key.serial}: {exc}",
                                      french=f"{path}, clé {key.serial} : {exc.french}") from None
            record = ImportRecord(
                serial=key.serial, secret=bytes(secret), algo=algo,
                digits=int(key.response_length or 6), period=int(key.time_interval or 30),
                drift=int(key.time_drift or 0), model=key.model,
            )
            records.append(_checked(record, seen, f"{path}, key {key.serial}", f"{path}, clé {key.serial}"))
    except ImportFileError:
        raise
    except PSKCError as exc:
        raise ImportFileError(f"{path}: cannot decrypt the PSKC file (wrong password or key, or a bad MAC: "
                              f"{exc.__class__.__name__})",
                              french=f"{path} : impossible de déchiffrer le fichier PSKC (mot de passe ou clé "
                                     f"erronés, ou MAC invalide : {exc.__class__.__name__})") from None
    except Exception as exc:  # untrusted input: a value the pskc package cannot decode (base64, numbers...)
        raise ImportFileError(f"{path}: not a readable PSKC file ({exc.__class__.__name__})",
                              french=f"{path} : fichier PSKC illisible ({exc.__class__.__name__})") from None
    if not records:
        raise ImportFileError(f"{path}: the PSKC file holds no key",
                              french=f"{path} : le fichier PSKC ne contient aucune clé")
    return records


def read_oath_csv(path: str | os.PathLike) -> list[ImportRecord]:
    """The tokens of an OATH CSV file (serial, hex key, totp, digits, period[, algorithm])."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{path}: cannot read the CSV file ({exc.__class__.__name__})",
                              french=f"{path} : fichier CSV illisible ({exc.__class__.__name__})") from None
    records: list[ImportRecord] = []
    seen: set[str] = set()
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() in ("serial", "serial number", "serialnumber"):
            continue
        where, ou = f"{path}, line {number}", f"{path}, ligne {number}"
        if len(cells) < 3:
            raise ImportFileError(f"{where}: expected serial,hexkey,totp[,digits[,period[,algo]]]",
                                  french=f"{ou} : attendu numéro,clé hexadécimale,totp[,chiffres[,période"
                                         "[,algorithme]]]")
        if cells[2].lower() != "totp":
            raise ImportFileError(f"{where}: only totp tokens are supported",
                                  french=f"{ou} : seules les clés totp sont prises en charge")
        try:
            secret = binascii.unhexlify(cells[1])
            digits = int(cells[3]) if len(cells) > 3 and cells[3] else 6
            period = int(cells[4]) if len(cells) > 4 and cells[4] else 30
        except (binascii.Error, ValueError):
            raise ImportFileError(f"{where}: the key must be hex, digits and period numbers",
                                  french=f"{ou} : la clé doit être en hexadécimal, le nombre de chiffres et la "
                                         "période des nombres entiers") from None
        algo = cells[5].lower() if len(cells) > 5 and cells[5] else "sha1"
        record = ImportRecord(serial=cells[0], secret=secret, algo=algo, digits=digits, period=period)
        records.append(_checked(record, seen, where, ou))
    if not records:
        raise ImportFileError(f"{path}: the CSV file holds no token",
                              french=f"{path} : le fichier CSV ne contient aucune clé")
    return records


def read_token_file(path: str | os.PathLike, *, password: str | None = None,
                    psk: bytes | None = None) -> list[ImportRecord]:
    """PSKC (XML) or OATH CSV, told apart by content."""
    try:
        head = Path(path).read_bytes()[:512].lstrip()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.__class__.__name__})",
                              french=f"{path} : fichier illisible ({exc.__class__.__name__})") from None
    if head.startswith(b"<") or head.startswith(b"\xef\xbb\xbf<"):
        return read_pskc(path, password=password, psk=psk)
    return read_oath_csv(path)
