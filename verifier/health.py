"""Token health: the drift history learned at accepted logins, the clock's rate from it, and battery readings.

The verifier learns a token's drift (in steps) at each accepted login (``verifier.verification``). Here that drift
is kept as points in ``drift_points``, written in the transaction of the accept itself, but only when it changed or
when the token's previous accepted code was on an earlier (UTC) day: decided from the token row the check has
already read, so it costs no query, and most logins write nothing. Each point also adds to the token's running
least-squares sums in ``token_health`` (time ``t`` in days since :data:`T_REF`, drift ``x`` in seconds), so that
the rate of every token of the fleet is one scan of that table (``verifier.fleet``), never of the history.

The rate is the least-squares slope of the drift over time, in seconds a day (and ppm). A token "leaves the
window" when, at that rate, its clock has moved more than ``Settings.window`` steps and a half away from the drift
the verifier last learned, since the last point: from then on its codes are outside the accepted window and its
holder is asked for the next code; beyond ``Settings.resync_window`` steps and a half, only an administrator's
resync brings it back. A token used regularly relearns its drift at each login, so these dates say what happens if
it is not used until then.

Battery: HELLO's ``battery=VOLTS`` is the Pico's VSYS (the 2 x AA cells through D1). :data:`BATTERY_LOW` is the
firmware's threshold, under which a press shows ``bAtt`` (``BATTERY_LOW`` in the board file; a test keeps the two
equal). On USB power VSYS is about 4.7 V, which says nothing about the cells: readings from :data:`BATTERY_USB`
up are reported as such and not recorded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from verifier import audit as audit_log
from verifier.errors import TokenNotFound
from verifier.schema import drift_points, token_health, tokens

#: the origin of ``t`` in the running sums (2020-01-01 UTC): days since then keep the sums small and exact enough
T_REF = 1_577_836_800.0
DAY = 86400.0
#: a rate needs at least this many points over at least this many days
MIN_POINTS = 3
MIN_SPAN_DAYS = 7.0
#: the firmware's low-battery threshold on VSYS, in volts (token_firmware/device/board_pico.py ``BATTERY_LOW``:
#: 2 x AA through the Schottky diode, about 1.25 V a cell, the knee of an alkaline cell)
BATTERY_LOW = 2.2
#: from this VSYS up, the token runs from USB (about 4.7 V): two fresh AA cells through D1 give at most ~3 V
BATTERY_USB = 4.0


# -- recording the drift -----------------------------------------------------------------------------------------

def should_record(old_drift: int, new_drift: int, last_step: int | None, period: int, now: float) -> bool:
    """Whether an accept that learns ``new_drift`` writes a point: the first accept, a changed drift, or the first
    accept of a (UTC) day. ``last_step`` is the step of the token's previous accepted code (read by the check)."""
    if last_step is None or new_drift != old_drift:
        return True
    previous = (last_step - old_drift) * period  # when the previous code was accepted, on the verifier's clock
    return int(previous // DAY) != int(now // DAY)


def _values(token_id, drift: int, period: int, now: float) -> dict:
    t = (now - T_REF) / DAY
    x = float(drift * period)
    return {"h_id": token_id, "h_at": now, "h_drift": drift, "h_t": t, "h_x": x, "h_tt": t * t, "h_tx": t * x}


_SUM_COLUMNS = ("token_id", "points", "first_at", "last_at", "sum_t", "sum_x", "sum_tt", "sum_tx")


def slope(n, sum_t, sum_x, sum_tt, sum_tx):
    """The least-squares slope (SQL expression) from the sums, NULL when it is not defined."""
    n = sa.cast(n, sa.Float)
    den = n * sum_tt - sum_t * sum_t
    return sa.case((sa.and_(n >= 2, den > 0), (n * sum_tx - sum_t * sum_x) / sa.func.nullif(den, 0)), else_=None)


def _upsert(dialect):
    """INSERT ... ON CONFLICT (token_id) DO UPDATE: the point added to the token's sums (and its slope), creating
    its row."""
    ins = dialect.insert(token_health)
    excluded = ins.excluded
    sums = {c: token_health.c[c] + excluded[c] for c in ("sum_t", "sum_x", "sum_tt", "sum_tx")}
    points = token_health.c.points + 1
    return ins, {"points": points,
                 "first_at": sa.func.coalesce(token_health.c.first_at, excluded.first_at),
                 "last_at": excluded.last_at, **sums,
                 "rate": slope(points, sums["sum_t"], sums["sum_x"], sums["sum_tt"], sums["sum_tx"])}


def _bind(name: str, type_=sa.Float) -> sa.BindParameter:
    return sa.bindparam(name, type_=type_)


_SUM_VALUES = {"token_id": _bind("h_id", sa.Integer), "points": 1, "first_at": _bind("h_at"),
               "last_at": _bind("h_at"), "sum_t": _bind("h_t"), "sum_x": _bind("h_x"), "sum_tt": _bind("h_tt"),
               "sum_tx": _bind("h_tx")}
_POINT = drift_points.insert().values(token_id=_bind("h_id", sa.Integer), at=_bind("h_at"),
                                      drift=_bind("h_drift", sa.Integer), source=_bind("h_source", sa.String))


def _sums_statement(dialect):
    ins, changes = _upsert(dialect)
    return ins.values(_SUM_VALUES).on_conflict_do_update(index_elements=[token_health.c.token_id], set_=changes)


# built once per dialect: statement construction costs more than the insert itself
_SUMS = {"sqlite": _sums_statement(sqlite), "postgresql": _sums_statement(postgresql)}


def record(conn: sa.Connection, row, drift: int | None, now: float, source: str = "login") -> bool:
    """In the caller's transaction: the point and the sums for the accept of ``row`` (the token as the check read
    it: ``id``, ``drift``, ``last_step``, ``period``) that learned ``drift`` (None: it learned none), when
    :func:`should_record` says so."""
    if drift is None or not should_record(row.drift, drift, row.last_step, row.period, now):
        return False
    values = _values(row.id, drift, row.period, now) | {"h_source": source}
    conn.execute(_POINT, values)
    conn.execute(_SUMS[conn.dialect.name], values)
    return True


def ctes(cas: sa.CTE, point: bool = True) -> tuple[sa.CTE, ...]:
    """PostgreSQL's one-statement accept (``WITH cas AS (UPDATE tokens ...) INSERT INTO audit ...``): with
    ``point``, the point and the sums as two more data-modifying CTEs on ``cas`` (bound values: :func:`params`),
    which write nothing when the compare-and-set changed no row. The verifier builds the statement both ways and
    runs the one with the CTEs only when a point is due, so most logins run the statement they ran before."""
    if not point:
        return ()
    point_cte = drift_points.insert().from_select(
        ["token_id", "at", "drift", "source"],
        sa.select(cas.c.id, _bind("h_at"), _bind("h_drift", sa.Integer), sa.literal("login")),
    ).cte("drift_point")
    ins, changes = _upsert(postgresql)
    sums = ins.from_select(
        list(_SUM_COLUMNS),
        sa.select(cas.c.id, sa.literal(1), _bind("h_at"), _bind("h_at"), _bind("h_t"), _bind("h_x"), _bind("h_tt"),
                  _bind("h_tx")),
    ).on_conflict_do_update(index_elements=[token_health.c.token_id], set_=changes).cte("drift_sums")
    return point_cte, sums


def params(row, drift: int, now: float) -> dict:
    """The bound values of :func:`ctes` for the accept of ``row`` that learns ``drift``; {} when no point is due
    (:func:`should_record`)."""
    if not should_record(row.drift, drift, row.last_step, row.period, now):
        return {}
    return _values(row.id, drift, row.period, now)


# -- the rate ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fit:
    """The least-squares line through a token's drift points: ``rate`` in seconds a day, ``offset`` in seconds at
    ``T_REF`` (so the drift at ``at`` is ``offset + rate * days``), over ``points`` points from ``first_at`` to
    ``last_at``."""

    points: int
    first_at: float
    last_at: float
    rate: float
    offset: float

    @property
    def ppm(self) -> float:
        return self.rate / DAY * 1e6

    def at(self, when: float) -> float:
        """The fitted drift (seconds) at Unix time ``when``."""
        return self.offset + self.rate * (when - T_REF) / DAY

    def leaves(self, margin: float) -> float | None:
        """When, at this rate, the clock will have moved ``margin`` seconds from where it was at the last point
        (Unix time), or None when it does not move."""
        if self.rate == 0:
            return None
        return self.last_at + margin / abs(self.rate) * DAY


def fit_sums(n: int, sum_t: float, sum_x: float, sum_tt: float, sum_tx: float, first_at: float | None,
             last_at: float | None) -> Fit | None:
    """The fit from running sums (``token_health``), or None with too few points or days for a rate."""
    if n < MIN_POINTS or first_at is None or last_at is None or last_at - first_at < MIN_SPAN_DAYS * DAY:
        return None
    den = n * sum_tt - sum_t * sum_t
    if den <= 0:
        return None
    rate = (n * sum_tx - sum_t * sum_x) / den
    return Fit(n, first_at, last_at, rate, (sum_x - rate * sum_t) / n)


def fit_points(points: list[tuple[float, float]]) -> Fit | None:
    """The fit of ``(at, drift_seconds)`` points, computed directly (the same figures as :func:`fit_sums`)."""
    if not points:
        return None
    ts = [(at - T_REF) / DAY for at, _x in points]
    xs = [x for _at, x in points]
    tx = sum(t * x for t, x in zip(ts, xs, strict=True))
    return fit_sums(len(points), sum(ts), sum(xs), sum(t * t for t in ts), tx, min(at for at, _x in points),
                    max(at for at, _x in points))


def margins(window: int, resync_window: int, period: int) -> tuple[float, float]:
    """Seconds the clock may move from the learned drift before it leaves the window, then the resync window."""
    return (window + 0.5) * period, (resync_window + 0.5) * period


# -- battery -----------------------------------------------------------------------------------------------------

def battery_status(volts: float) -> str:
    """``usb`` (the reading is the USB supply, not the cells), ``low`` (below the firmware's threshold) or ``ok``."""
    if volts >= BATTERY_USB:
        return "usb"
    return "low" if volts < BATTERY_LOW else "ok"


def record_battery(store, serial: str, volts: float, *, actor: str = "system", now: float | None = None) -> str:
    """Record the battery reading of ``serial`` (the last one is kept), audited; a USB reading records nothing.
    Returns :func:`battery_status`. TokenNotFound for an unknown serial."""
    status = battery_status(volts)
    if status == "usb":
        return status
    now = time.time() if now is None else float(now)
    with store.transaction() as conn:
        token_id = conn.execute(sa.select(tokens.c.id).where(tokens.c.serial == serial)).scalar()
        if token_id is None:
            raise TokenNotFound(serial)
        ins = (sqlite if conn.dialect.name == "sqlite" else postgresql).insert(token_health)
        conn.execute(ins.values(token_id=token_id, battery_volts=volts, battery_at=now).on_conflict_do_update(
            index_elements=[token_health.c.token_id], set_={"battery_volts": volts, "battery_at": now}))
        audit_log.write(conn, action="token.battery", outcome=status, actor=actor, serial=serial,
                        detail=f"battery={volts:.2f}V", now=now)
    return status
