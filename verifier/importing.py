"""Importing tokens read from a file (PSKC, OATH CSV) into the store, fast at district size (100,000 tokens).

All or nothing, as ``Store.import_records`` promises: every record is checked before anything is written, then the
tokens and their ``token.import`` audit rows go in with a few multi-row statements (``executemany``) in ONE
transaction. A serial already in the database (or inserted by another process meanwhile) is a DuplicateSerial
naming the first such serial of the file, and nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import sqlalchemy as sa

from verifier import audit as audit_log
from verifier.errors import DuplicateSerial, InvalidInput
from verifier.schema import audit, tokens
from verifier.token_rules import ImportRecord, check_serial, check_token_params

if TYPE_CHECKING:
    from verifier.store import Store

#: serials per ``IN (...)`` look-up (well under SQLite's and PostgreSQL's bound-parameter limits)
_LOOKUP = 500
_INSERT = tokens.insert()


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def check_records(records: list[ImportRecord]) -> None:
    """The rules every imported record must meet (serial, parameters, secret size, no serial twice); InvalidInput
    for the first record that breaks one, before anything is written."""
    seen: set[str] = set()
    for rec in records:
        check_serial(rec.serial)
        check_token_params(rec.algo, rec.digits, rec.period)
        if not 10 <= len(rec.secret) <= 64:
            raise InvalidInput(f"token {rec.serial}: a secret is 10 to 64 bytes",
                               french=f"clé {rec.serial} : le secret doit avoir 10 à 64 octets")
        if rec.serial in seen:
            raise InvalidInput(f"token {rec.serial} appears twice in the file",
                               french=f"la clé {rec.serial} figure deux fois dans le fichier")
        seen.add(rec.serial)


def first_existing(conn: sa.Connection, serials: list[str]) -> str | None:
    """The first of ``serials`` (in their order) that the database already holds, or None."""
    for chunk in _chunks(serials, _LOOKUP):
        found = set(conn.execute(sa.select(tokens.c.serial).where(tokens.c.serial.in_(chunk))).scalars())
        if found:
            return next(s for s in chunk if s in found)
    return None


def import_records(store: Store, records: list[ImportRecord], *, source: str, actor: str = "system",
                   now: float | None = None) -> list[str]:
    """Record ``records`` as ``ready`` tokens, sealed under the store's primary key, with one audit row each, all
    in one transaction. Returns the serials, in the file's order."""
    now = time.time() if now is None else float(now)
    check_records(records)
    if not records:
        return []  # (an empty executemany would be one INSERT of no values)
    serials = [rec.serial for rec in records]
    ring = store.ring
    rows, entries = [], []
    for rec in records:
        key_id, blob = ring.seal(rec.serial, rec.secret)
        rows.append(dict(serial=rec.serial, key_id=key_id, secret_ct=blob, state="ready", kind="hardware",
                         algo=rec.algo, digits=rec.digits, period=rec.period, model=rec.model, firmware=None,
                         operator=actor, created_at=now, updated_at=now, provisioned_at=now, drift=int(rec.drift or 0),
                         last_step=None, fail_count=0, pin_hash=None, user_id=None, locked_at=None,
                         state_reason=None, clock_offset=None, assigned_at=None))
        entries.append(audit_log.row(action="token.import", outcome="ready", actor=actor, serial=rec.serial,
                                     detail=f"from={source}", now=now))
    try:
        with store.transaction() as conn:
            taken = first_existing(conn, serials)
            if taken is not None:
                raise DuplicateSerial(taken)
            conn.execute(_INSERT, rows)
            conn.execute(audit.insert(), entries)
    except sa.exc.IntegrityError:
        # another process inserted one of these serials meanwhile: everything was rolled back; name it
        with store.engine.connect() as conn:
            taken = first_existing(conn, serials)
        if taken is None:
            raise
        raise DuplicateSerial(taken) from None
    for entry in entries:  # logged and counted once committed
        audit_log.logged(entry)
    return serials
