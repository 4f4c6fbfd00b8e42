"""Audit rows: every authentication attempt and every administrative act. Never a secret, PIN or code."""

from __future__ import annotations

import csv
import io
import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from verifier.csv_cells import safe_cell
from verifier.metrics import count_audit
from verifier.schema import audit

log = logging.getLogger("verifier.audit")
INSERT = audit.insert()  # built once: statement construction costs more than the insert itself


@dataclass(frozen=True)
class AuditEntry:
    """One audit row. ``at`` is Unix seconds (UTC)."""

    id: int
    at: float
    actor: str
    action: str
    outcome: str
    login: str | None
    serial: str | None
    source: str | None
    detail: str | None

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.at, UTC)


def _clip(value: str | None, size: int) -> str | None:
    return None if value is None else str(value)[:size]


def row(*, action: str, outcome: str, actor: str = "system", login: str | None = None, serial: str | None = None,
        source: str | None = None, detail: str | None = None, now: float | None = None) -> dict:
    """The values of one audit row, clipped to the column sizes (for :func:`write` or a statement of its own)."""
    return {"at": time.time() if now is None else now, "actor": _clip(actor, 64) or "system", "action": action,
            "outcome": outcome, "login": _clip(login, 64), "serial": _clip(serial, 16), "source": _clip(source, 100),
            "detail": _clip(detail, 500)}


def logged(values: dict) -> None:
    """Log the facts of an audit row written by the caller (the same line :func:`write` logs), and count it in the
    metrics (``verifier.metrics``)."""
    count_audit(values)
    log.info("%s %s actor=%s login=%s serial=%s%s", values["action"], values["outcome"], values["actor"],
             values["login"], values["serial"], f" ({values['detail']})" if values["detail"] else "")


def write(conn: sa.Connection, *, action: str, outcome: str, actor: str = "system", login: str | None = None,
          serial: str | None = None, source: str | None = None, detail: str | None = None,
          now: float | None = None) -> None:
    """Insert one audit row in the caller's transaction (and log the same facts)."""
    values = row(action=action, outcome=outcome, actor=actor, login=login, serial=serial, source=source,
                 detail=detail, now=now)
    conn.execute(INSERT, values)
    logged(values)


def query(conn: sa.Connection, *, login: str | None = None, serial: str | None = None, since: float | None = None,
          until: float | None = None, action: str | None = None, limit: int | None = None,
          outcomes: tuple[str, ...] | None = None) -> list[AuditEntry]:
    """Audit rows, newest first, filtered by login, token serial, time range [since, until), action prefix and
    outcomes."""
    stmt = sa.select(audit).order_by(audit.c.at.desc(), audit.c.id.desc())
    if outcomes:
        stmt = stmt.where(audit.c.outcome.in_(outcomes))
    if login is not None:
        stmt = stmt.where(audit.c.login == login)
    if serial is not None:
        stmt = stmt.where(audit.c.serial == serial)
    if since is not None:
        stmt = stmt.where(audit.c.at >= since)
    if until is not None:
        stmt = stmt.where(audit.c.at < until)
    if action is not None:
        stmt = stmt.where(audit.c.action.startswith(action, autoescape=True))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [AuditEntry(**row._mapping) for row in conn.execute(stmt)]


def to_csv(entries: list[AuditEntry]) -> str:
    """CSV with a header; times in ISO 8601 UTC; no cell a spreadsheet would run as a formula."""
    out = io.StringIO()
    fields = ["id", "when", "actor", "action", "outcome", "login", "serial", "source", "detail"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        row = asdict(entry)
        row["when"] = entry.when.isoformat(timespec="seconds")
        del row["at"]
        writer.writerow({name: safe_cell(value) for name, value in row.items()})
    return out.getvalue()
