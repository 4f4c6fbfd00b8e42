"""Reading token files: PSKC (RFC 6030, through the ``pskc`` package) and OATH CSV.

OATH CSV, one token a line (a header line and ``#`` comments are skipped)::

    serial,hex key,totp[,digits[,period[,algorithm]]]      e.g.  JT-0001,3132...,totp,6,30,sha1

Every record is checked here (serial, algorithm, digits, period, secret size, duplicates). ``token_entries`` reads
a document into one :class:`Entry` per record, each either its record or why it is refused (for a preview, see
``verifier.import_plan``); ``read_token_file`` is all or nothing and refuses a file with the line (CSV) or the key
(PSKC) at fault. A file that cannot be read as a whole is an ``ImportFileError``. Each carries its French wording
(``.french``) for the command lines and pages; no wording ever holds a secret or a password.
"""

from __future__ import annotations

import binascii
import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

from verifier import pskc_compat
from verifier.errors import ImportFileError, PasswordNeeded
from verifier.schema import ALGORITHMS
from verifier.token_rules import SERIAL_RE, ImportRecord

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


@dataclass(frozen=True)
class Entry:
    """One record of a token file as read: its ``record`` when the store would take it, else ``problem``.

    ``where`` names the line (CSV) or the key (PSKC) in French, for a preview's table; ``problem`` is (English,
    French) with the file's name in front, as the command line says it, and ``reason`` the French words alone.
    None of them ever holds a secret."""

    serial: str
    where: str
    record: ImportRecord | None = None
    problem: tuple[str, str] | None = None
    reason: str | None = None
    model: str | None = None
    algo: str | None = None


def _record_problem(record: ImportRecord) -> tuple[str, str] | None:
    """Why the store would not take ``record`` (the rules of ``Store.import_records``, duplicates aside)."""
    if not SERIAL_RE.match(record.serial):
        return (f"serial {record.serial!r} is not 1 to 16 characters of A-Z, 0-9 and '-'",
                f"numéro {record.serial!r} invalide (1 à 16 caractères parmi A-Z, 0-9 et -)")
    if record.algo not in ALGORITHMS:
        return (f"algorithm {record.algo!r} is not one of {', '.join(ALGORITHMS)}",
                f"algorithme {record.algo!r} non pris en charge ({', '.join(ALGORITHMS)})")
    if record.digits not in (6, 8):
        return (f"a token shows 6 or 8 digits, not {record.digits}",
                f"une clé affiche 6 ou 8 chiffres, pas {record.digits}")
    if record.period not in (30, 60):
        return (f"a token's period is 30 or 60 seconds, not {record.period}",
                f"la période d'une clé est de 30 ou 60 secondes, pas {record.period}")
    if not 10 <= len(record.secret) <= 64:
        return ("a secret is 10 to 64 bytes", "un secret fait de 10 à 64 octets")
    return None


def _entry(record: ImportRecord, where: str, ou: str, where_fr: str) -> Entry:
    """The entry of a record read at ``where`` (English) / ``ou`` (French, with the file's name), checked."""
    problem = _record_problem(record)
    if problem is None:
        return Entry(record.serial, where_fr, record=record, model=record.model, algo=record.algo)
    return _refused(record.serial, where_fr, (f"{where}: {problem[0]}", f"{ou} : {problem[1]}"), problem[1],
                    model=record.model, algo=record.algo)


def _refused(serial: str, where_fr: str, problem: tuple[str, str], reason: str, **facts) -> Entry:
    return Entry(serial[:40], where_fr, problem=problem, reason=reason, **facts)


def strict(entries: list[Entry], path: object) -> list[ImportRecord]:
    """The records of ``entries``, or an ``ImportFileError`` for the first record refused or repeated (all or
    nothing, as ``jeton-admin import`` reads a file)."""
    records: list[ImportRecord] = []
    seen: set[str] = set()
    for entry in entries:
        if entry.problem is not None:
            raise ImportFileError(entry.problem[0], french=entry.problem[1])
        if entry.serial in seen:
            raise ImportFileError(f"{path}, {_english(entry.where)}: serial {entry.serial} appears twice in the file",
                                  french=f"{path}, {entry.where} : le numéro {entry.serial} figure deux fois dans "
                                         "le fichier")
        seen.add(entry.serial)
        records.append(entry.record)
    return records


def _english(where_fr: str) -> str:
    return where_fr.replace("ligne", "line").replace("clé", "key")


def read_file(path: str | os.PathLike) -> bytes:
    """The bytes of a token file; an ``ImportFileError`` when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.__class__.__name__})",
                              french=f"{path} : fichier illisible ({exc.__class__.__name__})") from None


def pskc_entries(data: bytes, path: object, *, password: str | None = None,
                 psk: bytes | None = None) -> list[Entry]:
    """Every key of a PSKC document, decrypted with a password (PBKDF2) or a pre-shared key, MAC checked; a key
    the store would not take is an entry with its problem. A file that cannot be read or decrypted as a whole is
    an ``ImportFileError`` (``PasswordNeeded`` when it is encrypted and neither was given)."""
    import pskc
    from pskc.exceptions import PSKCError
    from pskc.parser import PSKCParser

    root = pskc_compat.normalised(pskc_compat.parse_untrusted(data, path), path)
    try:
        # The tree already parsed safely and normalised goes to pskc's parser as it is: writing it out for pskc to
        # parse again (and copy, for XML signatures we do not check) took a third of a 100,000-key import.
        container = pskc.PSKC()
        PSKCParser.parse_document(container, root)
    except Exception as exc:  # untrusted input: whatever the pskc package trips on is the file's fault
        raise ImportFileError(f"{path}: not a readable PSKC file ({exc.__class__.__name__})",
                              french=f"{path} : fichier PSKC illisible ({exc.__class__.__name__})") from None
    entries: list[Entry] = []
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
                raise PasswordNeeded(f"{path}: the PSKC file is encrypted: give --password or --psk-hex",
                                     french=f"{path} : le fichier PSKC est chiffré : indiquez --password ou "
                                            "--psk-hex")
            # pskc decrypts the MAC key again for every value it checks: once is enough
            container.mac.key = container.mac.key
        for number, key in enumerate(container.keys, start=1):
            name = str(key.serial or key.id or f"n° {number}")[:40]
            if key.algorithm != TOTP_URI:
                entries.append(_refused(
                    name, f"clé {name}",
                    (f"{path}: key {name!r} is not TOTP ({key.algorithm})",
                     f"{path} : la clé {name!r} n'est pas une clé TOTP ({key.algorithm})"),
                    f"ce n'est pas une clé TOTP ({str(key.algorithm)[:80]})", model=key.model))
                continue
            secret = key.secret
            if not key.serial:
                entries.append(_refused(name, f"clé {name}", (f"{path}: a key has no serial number",
                                                              f"{path} : une clé n'a pas de numéro de série"),
                                        "pas de numéro de série", model=key.model))
                continue
            try:
                algo = _algo_from_suite(key.algorithm_suite)
            except ImportFileError as exc:
                problem = (f"{path}, key {key.serial}: {exc}", f"{path}, clé {key.serial} : {exc.french}")
                entries.append(_refused(key.serial, f"clé {key.serial}", problem, exc.french, model=key.model))
                continue
            record = ImportRecord(
                serial=key.serial, secret=bytes(secret), algo=algo,
                digits=int(key.response_length or 6), period=int(key.time_interval or 30),
                drift=int(key.time_drift or 0), model=key.model,
            )
            entries.append(_entry(record, f"{path}, key {key.serial}", f"{path}, clé {key.serial}",
                                  f"clé {key.serial}"))
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
    if not entries:
        raise ImportFileError(f"{path}: the PSKC file holds no key",
                              french=f"{path} : le fichier PSKC ne contient aucune clé")
    return entries


def csv_entries(data: bytes, path: object) -> list[Entry]:
    """Every line of an OATH CSV file (serial, hex key, totp, digits, period[, algorithm]) as an entry."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: cannot read the CSV file ({exc.__class__.__name__})",
                              french=f"{path} : fichier CSV illisible ({exc.__class__.__name__})") from None
    entries: list[Entry] = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text), strict=True), start=1):
            cells = [c.strip() for c in row]
            if not cells or not any(cells) or cells[0].startswith("#"):
                continue
            if number == 1 and cells[0].lower() in ("serial", "serial number", "serialnumber"):
                continue
            entries.append(_csv_entry(cells, number, path))
    except csv.Error as exc:
        raise ImportFileError(f"{path}: not a readable CSV file ({exc.__class__.__name__})",
                              french=f"{path} : fichier CSV illisible (guillemets mal fermés ou caractère "
                                     "nul)") from None
    if not entries:
        raise ImportFileError(f"{path}: the CSV file holds no token",
                              french=f"{path} : le fichier CSV ne contient aucune clé")
    return entries


def _csv_entry(cells: list[str], number: int, path: object) -> Entry:
    where, ou, here = f"{path}, line {number}", f"{path}, ligne {number}", f"ligne {number}"
    serial = cells[0]
    if len(cells) < 3:
        return _refused(serial, here, (f"{where}: expected serial,hexkey,totp[,digits[,period[,algo]]]",
                                       f"{ou} : attendu numéro,clé hexadécimale,totp[,chiffres[,période"
                                       "[,algorithme]]]"),
                        "attendu numéro,clé hexadécimale,totp[,chiffres[,période[,algorithme]]]")
    if cells[2].lower() != "totp":
        return _refused(serial, here, (f"{where}: only totp tokens are supported",
                                       f"{ou} : seules les clés totp sont prises en charge"),
                        "seules les clés totp sont prises en charge")
    algo = cells[5].lower() if len(cells) > 5 and cells[5] else "sha1"
    try:
        secret = binascii.unhexlify(cells[1])
        digits = int(cells[3]) if len(cells) > 3 and cells[3] else 6
        period = int(cells[4]) if len(cells) > 4 and cells[4] else 30
    except (binascii.Error, ValueError):
        return _refused(serial, here, (f"{where}: the key must be hex, digits and period numbers",
                                       f"{ou} : la clé doit être en hexadécimal, le nombre de chiffres et la "
                                       "période des nombres entiers"),
                        "la clé doit être en hexadécimal, le nombre de chiffres et la période des nombres entiers",
                        algo=algo[:10])
    return _entry(ImportRecord(serial=serial, secret=secret, algo=algo, digits=digits, period=period), where, ou,
                  here)


def token_entries(data: bytes, path: object, *, password: str | None = None,
                  psk: bytes | None = None) -> list[Entry]:
    """The entries of a PSKC (XML) or OATH CSV document, told apart by content."""
    head = data[:512].lstrip()
    if head.startswith(b"<") or head.startswith(b"\xef\xbb\xbf<"):
        return pskc_entries(data, path, password=password, psk=psk)
    return csv_entries(data, path)


def read_pskc(path: str | os.PathLike, *, password: str | None = None,
              psk: bytes | None = None) -> list[ImportRecord]:
    """The TOTP keys of a PSKC file (all or nothing: the first key refused is an ``ImportFileError``)."""
    return strict(pskc_entries(read_file(path), path, password=password, psk=psk), path)


def read_oath_csv(path: str | os.PathLike) -> list[ImportRecord]:
    """The tokens of an OATH CSV file (all or nothing: the first line refused is an ``ImportFileError``)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the CSV file ({exc.__class__.__name__})",
                              french=f"{path} : fichier CSV illisible ({exc.__class__.__name__})") from None
    return strict(csv_entries(data, path), path)


def read_token_file(path: str | os.PathLike, *, password: str | None = None,
                    psk: bytes | None = None) -> list[ImportRecord]:
    """PSKC (XML) or OATH CSV, told apart by content; all or nothing."""
    return strict(token_entries(read_file(path), path, password=password, psk=psk), path)
