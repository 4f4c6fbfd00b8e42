"""The fleet's health at a glance (issue 17): tokens whose clock will leave the window soon, tokens unused for a
long time, tokens with repeated failures, low batteries; and one token's drift history with its rate.

Each list is one SQL statement that filters and orders in the database (over ``tokens`` and ``token_health``, one
row per token; the audit through its time index), so that a fleet of 100,000 tokens costs one scan, never a Python
loop over every token; Python only formats the rows a page shows. The rules and their numbers:

- clock: a rate needs :data:`verifier.health.MIN_POINTS` points over :data:`verifier.health.MIN_SPAN_DAYS` days;
  listed when, at that rate, the clock leaves the verification window (``Settings.window`` steps and a half from
  the drift last learned) within :data:`HORIZON_DAYS` days of now;
- unused: a token held by a user (assigned, active, locked) whose last accepted code, or its assignment when no
  code was accepted since, is more than :data:`UNUSED_DAYS` days old;
- failures: ``fail_count`` at or over ``Settings.next_code_after`` (the next login already needs the next code),
  or a token locked after failures, or :data:`FAILURES_IN_WEEK` refused attempts or more in the audit over the
  last :data:`FAILURE_DAYS` days (failures a successful login has since reset included);
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

_T = token_health.c


def _sums(c=_T):
    """n, the numerator and the denominator of the least-squares slope (seconds a day = num / den)."""
    n = sa.cast(c.points, sa.Float)
    return n, n * c.sum_tx - c.sum_t * c.sum_x, n * c.sum_tt - c.sum_t * c.sum_t


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
    n, num, den = _sums()
    margin = (settings.window + 0.5) * tokens.c.period
    days_ahead = (now + horizon_days * health.DAY - _T.last_at) / health.DAY
    # leaves = last_at + margin / |rate| days, rate = num / den; compared without dividing: |num| * days > margin * den
    leaves = _T.last_at + margin * den / sa.func.abs(num) * health.DAY
    rows = conn.execute(
        sa.select(tokens.c.serial, tokens.c.state, tokens.c.period, users.c.login, _T.points, _T.sum_t, _T.sum_x,
                  _T.sum_tt, _T.sum_tx, _T.first_at, _T.last_at)
        .select_from(token_health.join(tokens, tokens.c.id == _T.token_id).outerjoin(users))
        .where(tokens.c.state.in_(FOLLOWED), _T.points >= health.MIN_POINTS,
               _T.last_at - _T.first_at >= health.MIN_SPAN_DAYS * health.DAY, den > 0, num != 0,
               sa.func.abs(num) * days_ahead > margin * den)
        .order_by(leaves, tokens.c.serial).limit(limit)
    ).all()
    found = []
    for r in rows:
        fit = health.fit_sums(r.points, r.sum_t, r.sum_x, r.sum_tt, r.sum_tx, r.first_at, r.last_at)
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
    """Tokens with repeated failures: consecutive ones now, a lock after failures, or many refusals this week."""
    week = (
        sa.select(audit.c.serial, sa.func.count().label("refused"))
        .where(audit.c.at >= now - FAILURE_DAYS * health.DAY, audit.c.serial.is_not(None),
               audit.c.action.in_(("auth", "next_code")), audit.c.outcome.in_(("REJECT", "LOCKED")))
        .group_by(audit.c.serial).subquery()
    )
    refused = sa.func.coalesce(week.c.refused, 0)
    rows = conn.execute(
        sa.select(tokens.c.serial, tokens.c.state, users.c.login, tokens.c.fail_count, refused.label("refused"))
        .select_from(tokens.outerjoin(users).outerjoin(week, week.c.serial == tokens.c.serial))
        .where(tokens.c.state.in_(IN_SERVICE),
               sa.or_(tokens.c.fail_count >= settings.next_code_after,
                      sa.and_(tokens.c.state == "locked", tokens.c.locked_at.is_not(None)),
                      refused >= FAILURES_IN_WEEK))
        .order_by(tokens.c.fail_count.desc(), refused.desc(), tokens.c.serial).limit(limit)
    ).all()
    return [Failing(r.serial, r.login, r.state, r.fail_count, int(r.refused)) for r in rows]


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
