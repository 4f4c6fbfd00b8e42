"""Token health (issue 17): the drift history the verifier keeps at accepted logins, the clock's rate and when it
leaves the window, and the fleet's lists, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.verifier.conftest import T0
from tests.verifier.helpers import PIN, assigned_token, first_use, ready_token
from verifier import fleet_health, health
from verifier.schema import drift_points, token_health, tokens
from verifier.verification import Outcome

DAY = 86400


def points(store, serial="JT-A"):
    with store.engine.connect() as conn:
        return fleet_health.health_of(conn, store.settings, serial).points


def sums(store):
    with store.engine.connect() as conn:
        return conn.execute(sa.select(token_health.c.points)).scalars().all()


def test_an_accept_writes_a_point_a_refusal_none_and_the_same_drift_once_a_day(store, verifier, teacher):
    codes, now = teacher
    # the first code (new PIN) wrote the first point; the login that followed, same drift, same day: none
    assert [(d, s) for _at, d, s in points(store)] == [(0, "login")]
    step = codes.step_of(now) + 2
    assert verifier.authenticate("mdupont", "1111" + codes.code(step), step * 30 + 1).outcome is Outcome.REJECT
    replay = PIN + codes.code(codes.step_of(now))  # the code of the last login again
    assert verifier.authenticate("mdupont", replay, step * 30 + 1).outcome is Outcome.REJECT
    assert len(points(store)) == 1
    # same drift, later the same day: nothing; the next day: one point
    step += 20
    assert verifier.authenticate("mdupont", PIN + codes.code(step), step * 30 + 1).outcome is Outcome.ACCEPT
    assert len(points(store)) == 1
    step += DAY // 30
    assert verifier.authenticate("mdupont", PIN + codes.code(step), step * 30 + 1).outcome is Outcome.ACCEPT
    # the clock one step ahead: accepted, and the changed drift is a point at once
    assert verifier.authenticate("mdupont", PIN + codes.code(step + 2), step * 30 + 31).outcome is Outcome.ACCEPT
    history = points(store)
    assert [d for _at, d, _s in history] == [0, 0, 1]
    assert history[1][0] == step * 30 + 1 and history[2][0] == step * 30 + 31
    assert sums(store) == [3]  # the running sums counted the same points


def test_the_next_code_after_a_resync_is_a_point_of_its_own(store, verifier, teacher):
    codes, now = teacher
    base = codes.step_of(now) + 50
    t = base * 30 + 1
    result = verifier.authenticate("mdupont", PIN + codes.code(base + 5), t)
    assert result.outcome is Outcome.NEXT_CODE_REQUIRED
    assert len(points(store)) == 1  # asking for the next code learns nothing yet
    assert verifier.next_code(result.ticket, codes.code(base + 6), t + 30).outcome is Outcome.ACCEPT
    assert [(d, s) for _at, d, s in points(store)][-1] == (5, "next_code")


def test_rate_and_projection_on_known_points():
    # 2 s a day, 23.1 ppm, measured every other day
    pts = [(T0 + day * DAY, 10.0 + 2.0 * day) for day in range(0, 61, 2)]
    fit = health.fit_points(pts)
    assert fit.rate == pytest.approx(2.0) and fit.ppm == pytest.approx(23.148, abs=1e-3)
    assert fit.at(T0) == pytest.approx(10.0) and fit.points == 31
    # whole steps only (30 s more every 15 days): the same rate, within what the steps allow
    assert health.fit_points([(T0 + d * DAY, 30.0 * (d // 15)) for d in range(90)]).rate == pytest.approx(2, abs=0.2)
    # the window (±1 step and a half = 45 s from the drift last learned) is left 45 / 2 days after the last point
    window, resync = health.margins(1, 10, 30)
    assert (window, resync) == (45.0, 315.0)
    assert (fit.leaves(window) - fit.last_at) / DAY == pytest.approx(45 / fit.rate)
    # the running sums give the same line
    ts = [(at - health.T_REF) / DAY for at, _x in pts]
    same = health.fit_sums(len(pts), sum(ts), sum(x for _a, x in pts), sum(t * t for t in ts),
                           sum(t * x for t, (_a, x) in zip(ts, pts, strict=True)), pts[0][0], pts[-1][0])
    assert same.rate == pytest.approx(fit.rate, rel=1e-9) and same.offset == pytest.approx(fit.offset, rel=1e-9)
    # a clock that does not move never leaves; too few points or days give no rate
    assert health.fit_points([(T0 + d * DAY, 0.0) for d in range(10)]).leaves(window) is None
    assert health.fit_points(pts[:2]) is None and health.fit_points(pts[:3]) is None  # 2 points; 4 days


def daily_logins(verifier, codes, login: str, days: int, rate_s_per_day: float, start: float) -> float:
    """A teacher logging in once a day with a token whose clock gains ``rate_s_per_day``; the last time."""
    t = start
    for day in range(days):
        t = start + day * DAY
        shown = codes.step_of(t + rate_s_per_day * day)  # the token's own clock
        assert verifier.authenticate(login, PIN + codes.code(shown), t).outcome is Outcome.ACCEPT
    return t


def test_a_fast_clock_is_measured_and_listed_a_steady_one_is_not(store, verifier, planted):
    fast = assigned_token(store, "JT-FAST", "fast", planted=planted)
    steady = assigned_token(store, "JT-OK", "steady", planted=planted)
    start = first_use(verifier, "fast", fast, PIN, T0) + DAY
    first_use(verifier, "steady", steady, PIN, T0)
    daily_logins(verifier, fast, "fast", 60, 3.0, start)  # 35 ppm: a clone DS3231
    last = daily_logins(verifier, steady, "steady", 60, 0.0, start)
    with store.engine.connect() as conn:
        one = fleet_health.health_of(conn, store.settings, "JT-FAST")
        listed = fleet_health.drifting(conn, store.settings, last)
    assert one.fit.rate == pytest.approx(3.0, abs=0.4)
    assert one.drift == one.points[-1][1] in (5, 6)  # 177 s in 59 days
    assert [d.serial for d in listed] == ["JT-FAST"]
    assert listed[0].fit.rate == pytest.approx(one.fit.rate, rel=1e-6)  # the sums and the points agree
    with store.engine.connect() as conn:  # and the slope kept beside the sums, which the fleet filters on
        assert conn.execute(sa.select(token_health.c.rate).join(tokens).where(tokens.c.serial == "JT-FAST")
                            ).scalar() == pytest.approx(one.fit.rate, rel=1e-6)
    assert listed[0].leaves_window == pytest.approx(one.leaves_window)
    assert last < listed[0].leaves_window < last + 90 * DAY < listed[0].leaves_resync
    with store.engine.connect() as conn:  # nothing for the steady token, even over ten years
        assert [d.serial for d in fleet_health.drifting(conn, store.settings, last, horizon_days=3650)] == ["JT-FAST"]
        # and at 90 days from a date far enough ahead, the fast one is past it already: still listed, first
        assert fleet_health.drifting(conn, store.settings, last + 200 * DAY)[0].serial == "JT-FAST"


def test_unused_tokens_never_used_since_assignment_included(store, verifier, planted):
    def handed_out(serial, login):  # on the test's clock
        store.add_user(login)
        codes = ready_token(store, serial, planted=planted)
        store.assign(serial, login, now=T0)
        return codes

    used, _never, recent = handed_out("JT-USED", "used"), handed_out("JT-NEVER", "never"), handed_out("JT-RECENT",
                                                                                                   "recent")
    first_use(verifier, "used", used, PIN, T0)
    first_use(verifier, "recent", recent, PIN, T0 + 59 * DAY)
    with store.engine.connect() as conn:
        found = fleet_health.unused(conn, T0 + 61 * DAY)
        assert fleet_health.unused(conn, T0 + 30 * DAY) == []
    assert [(u.serial, u.never_used) for u in found] == [("JT-NEVER", True), ("JT-USED", False)]
    assert found[1].since == pytest.approx(T0 + 31, abs=30)
    # a token reassigned after use counts from its new assignment
    store.unassign("JT-USED", now=T0 + 100 * DAY)
    store.assign("JT-USED", "used", now=T0 + 100 * DAY)
    with store.engine.connect() as conn:
        again = {u.serial: u for u in fleet_health.unused(conn, T0 + 161 * DAY)}
    assert again["JT-USED"].never_used and again["JT-USED"].since == T0 + 100 * DAY


def test_repeated_failures_now_or_this_week(store, verifier, planted):
    codes = {login: assigned_token(store, f"JT-{login.upper()}", login, planted=planted)
             for login in ("calm", "now", "week")}
    for login, c in codes.items():
        first_use(verifier, login, c, PIN, T0)
    t = T0 + 120
    for _ in range(3):
        assert verifier.authenticate("now", "9999000000", t).outcome is Outcome.REJECT
    for i in range(5):  # five failures, then a good login (with the next code): the counter is back to 0
        assert verifier.authenticate("week", "9999000000", t + i).outcome is Outcome.REJECT
    step = codes["week"].step_of(t) + 2
    asked = verifier.authenticate("week", PIN + codes["week"].code(step), step * 30 + 1)
    assert verifier.next_code(asked.ticket, codes["week"].code(step + 1), step * 30 + 31).outcome is Outcome.ACCEPT
    with store.engine.connect() as conn:
        found = {f.serial: f for f in fleet_health.failing(conn, store.settings, t + 3600)}
        later = fleet_health.failing(conn, store.settings, t + 8 * DAY)
    assert set(found) == {"JT-NOW", "JT-WEEK"}
    assert found["JT-NOW"].fail_count == 3 and found["JT-WEEK"].refused_week == 5 and found["JT-WEEK"].fail_count == 0
    assert [f.serial for f in later] == ["JT-NOW"]  # the week has passed; the consecutive failures remain


def test_low_batteries_recorded_and_audited_usb_readings_ignored(store, planted):
    for serial in ("JT-LOW", "JT-FINE", "JT-USB"):
        assigned_token(store, serial, serial.lower(), planted=planted)
    assert health.record_battery(store, "JT-LOW", 2.05, actor="it", now=T0) == "low"
    assert health.record_battery(store, "JT-FINE", 2.91, actor="it", now=T0) == "ok"
    assert health.record_battery(store, "JT-USB", 4.71, actor="it", now=T0) == "usb"
    with store.engine.connect() as conn:
        low = fleet_health.low_batteries(conn)
        assert fleet_health.health_of(conn, store.settings, "JT-USB").battery_volts is None
    assert [(b.serial, b.volts, b.at) for b in low] == [("JT-LOW", 2.05, T0)]
    rows = store.audit(action="token.battery")
    assert sorted((r.serial, r.outcome, r.detail, r.actor) for r in rows) == [
        ("JT-FINE", "ok", "battery=2.91V", "it"), ("JT-LOW", "low", "battery=2.05V", "it")]
    # a new reading replaces the last one
    health.record_battery(store, "JT-LOW", 2.6, actor="it", now=T0 + 60)
    with store.engine.connect() as conn:
        assert fleet_health.low_batteries(conn) == []


def test_the_threshold_is_the_firmwares():
    import ast
    from pathlib import Path

    import token_firmware

    source = Path(token_firmware.__file__).with_name("device").joinpath("board_pico.py").read_text()
    board = {t.id: n.value.value for n in ast.parse(source).body if isinstance(n, ast.Assign)
             for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
    assert health.BATTERY_LOW == board["BATTERY_LOW"]


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")  # 0007's indexes
def test_the_tables_match_the_migration(store):
    with store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in (drift_points, token_health):
            assert [c["name"] for c in inspector.get_columns(table.name)] == [c.name for c in table.c]
        assert "ix_drift_points_token_at" in {i["name"] for i in inspector.get_indexes("drift_points")}
        assert "ix_tokens_fail_count" in {i["name"] for i in inspector.get_indexes("tokens")}
        assert "ix_audit_refusals" in {i["name"] for i in inspector.get_indexes("audit")}
