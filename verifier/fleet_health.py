"""The fleet's health at a glance (issue 17): tokens whose clock will leave the window soon, tokens unused for a
long time, tokens with repeated failures, low batteries; and one token's drift history with its rate.

Each list is filtered and ordered in the database (over ``tokens`` and ``token_health``, one row per token, with
the slope kept beside the sums; the failures through two indexes, ``ix_tokens_fail_count`` and the audit's partial
``ix_audit_refusals``), so that a fleet of 100,000 tokens costs at most a scan, never a Python loop over every
token; Python only formats the rows a page shows (``benchmarks/bench_health.py``). The rules and their numbers:

- clock: a rate needs :data:`verifier.health.MIN_POINTS` points over :data:`verifier.health.MIN_SPAN_DAYS` days;
  listed when, at that rate, the clock leaves the verification window (``Settings.window`` steps and a half from
  the drift last learned) within :data:`HORIZON_DAYS` days of now;
- unused: a token held by a user (assigned, active, locked) whose last accepted code, or its assignment when no
  code was accepted since, is more than :data:`UNUSED_DAYS` days old;
- failures: ``fail_count`` at or over ``Settings.next_code_after`` (the next login already needs the next code;
  a token locked after failures has more), or :data:`FAILURES_IN_WEEK` refused attempts or more in the audit over
  the last :data:`FAILURE_DAYS` days (failures a successful login has since reset included);
- battery: the last reading ``jeton-provision check`` recorded is below :data:`verifier.health.BATTERY_LOW`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from verifier import health
from verifier.errors import TokenNotFound
from verifier.schema import audit, drift_points, token_health, tokens, users
from verifier.settings import Settings

HORIZON_DAYS = 90
UNUSED_DAYS = 60
FAILURE_DAYS = 7
FAILURES_IN_WEEK = 5
#: tokens of the fleet whose health is followed (not retired, failed or still pending)
FOLLOWED = ("ready", "assigned", "active", "locked", "disabled")
IN_SERVICE = ("assigned", "active", "locked")
LIMIT = 200
#: the audit's refusals, written as ``ix_audit_refusals``'s condition so that the planners use that partial index
_REFUSED = sa.text("audit.outcome IN ('REJECT', 'LOCKED')")

_T = token_health.c


@dataclass(frozen=True)
class Drifting:
    serial: str
    login: str | None
    state: str
    fit: health.Fit
    leaves_window: float  # Unix time
    leaves_resync: float


def drifting(conn: sa.Connection, settings: Settings, now: float, *, horizon_days: float = HORIZON_DAYS,
             limit: int = LIMIT) -> list[Drifting]:
    """Tokens whose clock leaves the verification window within ``horizon_days``, soonest first."""
    margin = (settings.window + 0.5) * tokens.c.period
    speed = sa.func.abs(_T.rate, type_=sa.Float)
    # leaves at last_at + margin / |rate| days; compared without dividing: |rate| * (horizon - last_at) > margin
    rows = conn.execute(
        sa.select(tokens.c.serial, tokens.c.state, tokens.c.period, users.c.login, _T.points, _T.sum_t, _T.sum_x,
                  _T.sum_tt, _T.sum_tx, _T.first_at, _T.last_at)
        .select_from(token_health.join(tokens, tokens.c.id == _T.token_id).outerjoin(users))
        .where(_T.points >= health.MIN_POINTS, _T.last_at - _T.first_at >= health.MIN_SPAN_DAYS * health.DAY,
               _T.rate != 0, speed * (now + horizon_days * health.DAY - _T.last_at) > margin * health.DAY,
               tokens.c.state.in_(FOLLOWED))
        .order_by(_T.last_at + margin / speed * health.DAY, tokens.c.serial).limit(limit)
    ).all()
    found = []
    for r in rows:
        fit = health.fit_sums(r.points, r.sum_t, r.sum_x, r.sum_tt, r.sum_tx, r.first_at, r.last_at)
        if fit is None or fit.rate == 0:  # the database's rounding found a slope Python's does not
            continue
        window, resync = health.margins(settings.window, settings.resync_window, r.period)
        found.append(Drifting(r.serial, r.login, r.state, fit, fit.leaves(window), fit.leaves(resync)))
    return found


@dataclass(frozen=True)
class Unused:
    serial: str
    login: str | None
    state: str
    since: float  # last accepted code, or the assignment
    never_used: bool


def unused(conn: sa.Connection, now: float, *, days: float = UNUSED_DAYS, limit: int = LIMIT) -> list[Unused]:
    """Tokens held by a user and unused for ``days`` (never used since assignment counts), longest first."""
    last_use = (tokens.c.last_step - tokens.c.drift) * tokens.c.period
    assigned = sa.func.coalesce(tokens.c.assigned_at, tokens.c.created_at)
    never = sa.or_(tokens.c.last_step.is_(None), last_use < assigned)
    since = sa.case((never, assigned), else_=last_use)
    rows = conn.execute(
        sa.select(tokens.c.serial, tokens.c.state, users.c.login, since.label("since"), never.label("never"))
        .select_from(tokens.outerjoin(users))
        .where(tokens.c.state.in_(IN_SERVICE), since < now - days * health.DAY)
        .order_by(since, tokens.c.serial).limit(limit)
    ).all()
    return [Unused(r.serial, r.login, r.state, float(r.since), bool(r.never)) for r in rows]


@dataclass(frozen=True)
class Failing:
    serial: str
    login: str | None
    state: str
    fail_count: int
    refused_week: int


def failing(conn: sa.Connection, settings: Settings, now: float, *, limit: int = LIMIT) -> list[Failing]:
    """Tokens with repeated failures: ``next_code_after`` in a row or more now (a token locked after failures has
    ``lockout_after``, or ``next_code_after`` once its lock has expired), or many refusals this week. Three small
    queries on indexes (``ix_tokens_fail_count``, the audit's partial ``ix_audit_refusals``), merged here."""
    since = now - FAILURE_DAYS * health.DAY
    columns = (tokens.c.serial, tokens.c.state, users.c.login, tokens.c.fail_count)
    now_failing = conn.execute(
        sa.select(*columns).select_from(tokens.outerjoin(users))
        .where(tokens.c.fail_count >= settings.next_code_after, tokens.c.state.in_(IN_SERVICE))
        .order_by(tokens.c.fail_count.desc(), tokens.c.serial).limit(limit)).all()
    week = (sa.select(audit.c.serial, sa.func.count().label("refused"))
            .where(_REFUSED, audit.c.at >= since, audit.c.serial.is_not(None),
                   audit.c.action.in_(("auth", "next_code")))
            .group_by(audit.c.serial))
    often = week.having(sa.func.count() >= FAILURES_IN_WEEK).subquery()
    refused = {r.serial: r.refused for r in conn.execute(
        sa.select(*columns, often.c.refused).select_from(often.join(tokens, tokens.c.serial == often.c.serial)
                                                          .outerjoin(users))
        .where(tokens.c.state.in_(IN_SERVICE)).order_by(often.c.refused.desc()).limit(limit))}
    rows = {r.serial: r for r in now_failing}
    missing = [serial for serial in refused if serial not in rows]
    if missing:
        rows |= {r.serial: r for r in conn.execute(sa.select(*columns).select_from(tokens.outerjoin(users))
                                                    .where(tokens.c.serial.in_(missing)))}
    unknown = [serial for serial in rows if serial not in refused]
    if unknown:
        refused |= dict(conn.execute(week.where(audit.c.serial.in_(unknown))).all())
    found = [Failing(r.serial, r.login, r.state, r.fail_count, int(refused.get(r.serial, 0))) for r in rows.values()]
    return sorted(found, key=lambda f: (-f.fail_count, -f.refused_week, f.serial))[:limit]


@dataclass(frozen=True)
class LowBattery:
    serial: str
    login: str | None
    state: str
    volts: float
    at: float


def low_batteries(conn: sa.Connection, *, limit: int = LIMIT) -> list[LowBattery]:
    """Tokens whose last recorded battery reading is below the firmware's threshold, lowest first."""
    rows = conn.execute(
        sa.select(tokens.c.serial, tokens.c.state, users.c.login, _T.battery_volts, _T.battery_at)
        .select_from(token_health.join(tokens, tokens.c.id == _T.token_id).outerjoin(users))
        .where(tokens.c.state.in_(FOLLOWED), _T.battery_volts < health.BATTERY_LOW)
        .order_by(_T.battery_volts, tokens.c.serial).limit(limit)
    ).all()
    return [LowBattery(r.serial, r.login, r.state, r.battery_volts, r.battery_at) for r in rows]


# -- one token ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TokenHealth:
    """One token's health: its drift points ``(at, drift in steps, source)`` oldest first, the fit (None: not
    enough points yet), when it leaves the windows at that rate, and its last battery reading."""

    serial: str
    login: str | None
    state: str
    period: int
    drift: int  # the drift the verifier learned last (steps)
    points: list[tuple[float, int, str]]
    fit: health.Fit | None
    leaves_window: float | None
    leaves_resync: float | None
    battery_volts: float | None
    battery_at: float | None


def health_of(conn: sa.Connection, settings: Settings, serial: str) -> TokenHealth:
    """The health of ``serial``; TokenNotFound when there is no such token."""
    row = conn.execute(
        sa.select(tokens.c.id, tokens.c.serial, tokens.c.state, tokens.c.period, tokens.c.drift, users.c.login,
                  _T.battery_volts, _T.battery_at)
        .select_from(tokens.outerjoin(users).outerjoin(token_health, _T.token_id == tokens.c.id))
        .where(tokens.c.serial == serial)
    ).first()
    if row is None:
        raise TokenNotFound(serial)
    points = [(p.at, p.drift, p.source) for p in conn.execute(
        sa.select(drift_points.c.at, drift_points.c.drift, drift_points.c.source)
        .where(drift_points.c.token_id == row.id).order_by(drift_points.c.at, drift_points.c.id))]
    fit = health.fit_points([(at, float(d * row.period)) for at, d, _s in points])
    window, resync = health.margins(settings.window, settings.resync_window, row.period)
    return TokenHealth(row.serial, row.login, row.state, row.period, row.drift, points, fit,
                       fit.leaves(window) if fit else None, fit.leaves(resync) if fit else None,
                       row.battery_volts, row.battery_at)
