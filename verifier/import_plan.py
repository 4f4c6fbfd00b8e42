"""Importing a token file in two steps: a plan that says what each record would become, then applying it.

The rule is shared by ``jeton-admin import`` and the console's page "Importer des clés" (booklet_web)::

    entries = interchange.token_entries(data, name, password=...)   # one Entry per record, or why it is refused
    plan = import_plan.plan(store, entries)                           # reads the store, writes nothing
    done = import_plan.apply(store, entries, source=name, actor=...)  # plans again, adds, audits, one transaction

Each record is ``add`` (to add), ``present`` (its serial is in the store with the same secret and settings: the same
token, skipped) or ``refused``, with a French reason that names the serial and never the secret: invalid, in the
file more than once, or its serial already in the store with another secret, other settings, or no secret left
(retired). Applying plans again inside its transaction, so that what it writes matches the store at that instant,
inserts the tokens to add in batches (no query per record: 100,000 tokens are a few hundred statements) and writes
one ``token.import`` audit row per token added and one ``token.import_file`` row with the counts.
"""

from __future__ import annotations

import hmac
import time
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

from verifier import audit as audit_log
from verifier.db import StoreHandle as Store
from verifier.errors import ConcurrentChange, DuplicateSerial, InvalidInput, KeyRingError
from verifier.interchange import Entry
from verifier.keyring import KeyRing
from verifier.schema import tokens
from verifier.token_rules import ImportRecord, check_serial, check_token_params

ADD, PRESENT, REFUSED = "add", "present", "refused"
#: serials per SELECT ... IN (...) and rows per INSERT batch
CHUNK = 500
_STATES = {"pending": "en préparation", "ready": "prête", "assigned": "affectée", "active": "active",
           "locked": "bloquée", "disabled": "désactivée", "retired": "retirée", "failed": "en échec"}


@dataclass(frozen=True)
class PlanRow:
    """What one record of the file becomes. ``reason``: French, for ``present`` and ``refused`` rows."""

    serial: str
    where: str
    status: str
    reason: str | None = None
    model: str | None = None
    algo: str | None = None
    record: ImportRecord | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ImportPlan:
    rows: tuple[PlanRow, ...]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def to_add(self) -> list[ImportRecord]:
        return [r.record for r in self.rows if r.status == ADD]

    def summary(self, *, done: bool = True) -> str:
        """``N ajoutées, M ignorées, K refusées`` (``à ajouter`` before it is applied)."""
        added = "ajoutée(s)" if done else "à ajouter"
        return (f"{self.count(ADD)} {added}, {self.count(PRESENT)} ignorée(s) (déjà présentes), "
                f"{self.count(REFUSED)} refusée(s)")


def check_records(records: list[ImportRecord]) -> None:
    """The rules every record handed to ``Store.import_records`` must meet (serial, parameters, secret size, no
    serial twice); InvalidInput for the first record that breaks one, before anything is written."""
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


def entries_of(records: list[ImportRecord]) -> list[Entry]:
    """Entries for records already checked (``interchange.read_token_file``)."""
    return [Entry(r.serial, f"clé {r.serial}", record=r, model=r.model, algo=r.algo) for r in records]


def _existing(conn: sa.Connection, serials: list[str]) -> dict[str, sa.Row]:
    c = tokens.c
    found: dict[str, sa.Row] = {}
    for start in range(0, len(serials), CHUNK):
        chunk = serials[start:start + CHUNK]
        # The serials as literals (checked against SERIAL_RE: A-Z, 0-9, '-'): a prepared statement's generic plan
        # with 500 parameters scans the whole table on PostgreSQL (a second per query at 20,000 tokens).
        wanted = sa.bindparam("serials", chunk, expanding=True, literal_execute=True)
        for row in conn.execute(sa.select(c.serial, c.state, c.key_id, c.secret_ct, c.algo, c.digits, c.period)
                                .where(c.serial.in_(wanted))):
            found[row.serial] = row
    return found


def _against(row: sa.Row, record: ImportRecord, ring: KeyRing) -> tuple[str, str]:
    """(status, reason) of a record whose serial is in the store as ``row``."""
    serial = record.serial
    if not row.secret_ct:
        return REFUSED, f"le numéro {serial} existe déjà ({_STATES.get(row.state, row.state)}, secret détruit)"
    try:
        same = hmac.compare_digest(ring.open(serial, row.key_id, row.secret_ct), record.secret)
    except KeyRingError:
        return REFUSED, f"le numéro {serial} existe déjà (son secret est illisible avec ce trousseau)"
    if not same:
        return REFUSED, f"le numéro {serial} existe déjà avec un autre secret"
    if (row.algo, row.digits, row.period) != (record.algo, record.digits, record.period):
        return REFUSED, (f"le numéro {serial} existe déjà avec d'autres réglages ({row.algo}, {row.digits} "
                         f"chiffres, {row.period} s)")
    return PRESENT, f"déjà présente (même clé, {_STATES.get(row.state, row.state)})"


def classify(conn: sa.Connection, ring: KeyRing, entries: list[Entry]) -> ImportPlan:
    """The plan of ``entries`` against the store as ``conn`` sees it (reads only)."""
    times = Counter(e.serial for e in entries)
    wanted = sorted({e.serial for e in entries if e.record is not None and times[e.serial] == 1})
    existing = _existing(conn, wanted)
    rows = []
    for e in entries:
        facts = {"serial": e.serial, "where": e.where, "model": e.model, "algo": e.algo}
        if e.record is None:
            rows.append(PlanRow(status=REFUSED, reason=e.reason, **facts))
        elif times[e.serial] > 1:
            rows.append(PlanRow(status=REFUSED, reason=f"le numéro {e.serial} figure {times[e.serial]} fois dans "
                                                        "le fichier", **facts))
        elif e.serial in existing:
            status, reason = _against(existing[e.serial], e.record, ring)
            rows.append(PlanRow(status=status, reason=reason, **facts))
        else:
            rows.append(PlanRow(status=ADD, record=e.record, **facts))
    return ImportPlan(tuple(rows))


def plan(store: Store, entries: list[Entry]) -> ImportPlan:
    """What importing ``entries`` would do now; nothing is written."""
    with store.engine.connect() as conn:
        return classify(conn, store.ring, entries)


def apply(store: Store, entries: list[Entry], *, source: str, actor: str = "system", now: float | None = None,
          strict: bool = False) -> ImportPlan:
    """Plan ``entries`` again and add the tokens to add as ``ready``, all in one transaction, with their audit
    rows and one row of counts. With ``strict`` (the command line), anything but a token to add writes nothing:
    DuplicateSerial for a serial already in the store. ConcurrentChange when another process added one of these
    serials meanwhile (nothing written)."""
    now = time.time() if now is None else float(now)
    source = source[:200]
    try:
        with store.transaction() as conn:
            done = classify(conn, store.ring, entries)
            if strict and (done.count(PRESENT) or done.count(REFUSED)):
                raise DuplicateSerial(next(r.serial for r in done.rows if r.status != ADD))
            _insert(conn, store.ring, done.to_add, actor=actor, source=source, now=now)
            values = audit_log.row(action="token.import_file", outcome="ok", actor=actor,
                                   detail=f"{done.summary()} ; fichier={source}", now=now)
            conn.execute(audit_log.INSERT, values)
            audit_log.logged(values)
    except sa.exc.IntegrityError:
        raise ConcurrentChange("a token of this file was added meanwhile: nothing imported, try again",
                               french="une clé de ce fichier a été ajoutée entre-temps : rien n'a été importé, "
                                      "recommencez") from None
    return done


def _insert(conn: sa.Connection, ring: KeyRing, records: list[ImportRecord], *, actor: str, source: str,
            now: float) -> None:
    operator = actor[:64]
    for start in range(0, len(records), CHUNK):
        batch = records[start:start + CHUNK]
        rows, audits = [], []
        for rec in batch:
            key_id, blob = ring.seal(rec.serial, rec.secret)
            rows.append({  # the other columns are NULL or their default: fewer parameters per row
                "serial": rec.serial, "kind": "hardware", "algo": rec.algo, "digits": rec.digits,
                "period": rec.period, "key_id": key_id, "secret_ct": blob, "state": "ready",
                "model": rec.model[:64] if rec.model else None, "operator": operator, "created_at": now,
                "provisioned_at": now, "drift": int(rec.drift or 0), "updated_at": now,
            })
            audits.append(audit_log.row(action="token.import", outcome="ready", actor=actor, serial=rec.serial,
                                        detail=f"from={source}", now=now))
        conn.execute(tokens.insert(), rows)
        conn.execute(audit_log.INSERT, audits)
        for values in audits:
            audit_log.logged(values)
