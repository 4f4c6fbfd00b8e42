"""Token health at scale (issue 17): the four lists of the console's "Santé des clés" over 100,000 tokens.

Figures, on SQLite and on PostgreSQL, each the median of five runs of one ``verifier.fleet`` query (clocks leaving
the window within 90 days, unused for 60 days, repeated failures with the last 7 days of the audit, low batteries),
against one full scan of the same ``tokens`` table in the same run (``SELECT count(*) ... WHERE state IN ...``):
the ratio says how many table scans a list costs. The fleet: 100,000 users and tokens, each token with its running
drift sums (60 daily points of a rate drawn around 0 with a spread of 0.1 s a day, about a DS3231's +-2 ppm, and
1 % of clone clocks at 3 s a day), used in the last 14 days (5 % in the last 120), 1 % with 4 failures in a row, a
third with a battery reading (1 % of them low), and 100,000 audit rows over the last week (a tenth refused). Rows
are bulk-inserted, not made through logins: what is measured is the reading. A list sorts all its matches before
it keeps the first 200: a fleet where a third of the tokens match costs more (about 3x here, measured while
writing this benchmark).
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks.runner import Figure, median
from tests.support import throwaway_postgres_database
from verifier import fleet_health, health, init_store
from verifier.schema import audit, token_health, tokens, users

NOW = 1_800_000_000.0
DAY = 86400.0


def _populate(store, size: int) -> None:
    rng = random.Random(17)
    user_rows = [{"id": i + 1, "login": f"u{i}", "display_name": "", "role": "teacher", "created_at": NOW - 400 * DAY}
                 for i in range(size)]
    token_rows, sums, audit_rows = [], [], []
    for i in range(size):
        last_use = NOW - rng.uniform(0, 120 if rng.random() < 0.05 else 14) * DAY
        token_rows.append({
            "id": i + 1, "serial": f"JT-{i:06d}", "kind": "hardware", "algo": "sha1", "digits": 6, "period": 30,
            "key_id": "k", "secret_ct": b"", "state": "active", "user_id": i + 1, "created_at": NOW - 400 * DAY,
            "assigned_at": NOW - 300 * DAY, "drift": 0, "last_step": int(last_use // 30),
            "fail_count": 4 if rng.random() < 0.01 else rng.choice((0, 0, 0, 1)), "lock_count": 0, "version": 1})
        rate = 3.0 if rng.random() < 0.01 else rng.gauss(0, 0.1)
        points = [(last_use - d * DAY, 30.0 * round(rate * (60 - d) / 30)) for d in range(60)]
        ts = [(at - health.T_REF) / DAY for at, _x in points]
        fit = health.fit_points(points)
        sums.append({"token_id": i + 1, "points": 60, "first_at": points[-1][0], "last_at": points[0][0],
                     "sum_t": sum(ts), "sum_x": sum(x for _a, x in points), "sum_tt": sum(t * t for t in ts),
                     "sum_tx": sum(t * x for t, (_a, x) in zip(ts, points, strict=True)), "rate": fit.rate,
                     "battery_volts": (rng.uniform(1.9, 2.2) if rng.random() < 0.03 else rng.uniform(2.3, 3.0))
                     if i % 3 == 0 else None, "battery_at": NOW - 10 * DAY if i % 3 == 0 else None})
        audit_rows.append({"at": NOW - rng.uniform(0, 7) * DAY, "actor": "verifier", "action": "auth",
                           "outcome": "REJECT" if rng.random() < 0.1 else "ACCEPT", "login": f"u{i}",
                           "serial": f"JT-{i:06d}", "source": None, "detail": None})
    with store.transaction() as conn:
        for table, rows in ((users, user_rows), (tokens, token_rows), (token_health, sums), (audit, audit_rows)):
            for start in range(0, len(rows), 10_000):
                conn.execute(table.insert(), rows[start:start + 10_000])
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))


def _time(fn, repeat: int) -> float:
    fn()  # warm the caches
    runs = []
    for _ in range(repeat):
        begin = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - begin)
    return median(runs) * 1e3


def _figures(url: str, keys: Path, size: int, repeat: int, db: str) -> list[Figure]:
    store = init_store(url, keys)[0]
    _populate(store, size)
    s = store.settings
    try:
        with store.engine.connect() as conn:
            scan = _time(lambda: conn.execute(sa.select(sa.func.count()).select_from(tokens)
                                              .where(tokens.c.state.in_(fleet_health.FOLLOWED))).scalar(), repeat)
            queries = {
                "clocks leaving the window within 90 days": lambda: fleet_health.drifting(conn, s, NOW),
                "unused for 60 days": lambda: fleet_health.unused(conn, NOW),
                "repeated failures (and 7 days of audit)": lambda: fleet_health.failing(conn, s, NOW),
                "low batteries": lambda: fleet_health.low_batteries(conn),
            }
            found = {name: len(q()) for name, q in queries.items()}
            return [Figure(f"Santé des clés, {name}, {db}, {size:,} tokens", _time(q, repeat), "ms",
                           "one scan of the tokens table (count)", scan, goal="a few scans",
                           note=f"{found[name]} token(s) listed (at most {fleet_health.LIMIT})")
                    for name, q in queries.items()]
    finally:
        store.close()


def run(quick: bool) -> list[Figure]:
    size, repeat = (10_000, 3) if quick else (100_000, 5)
    with tempfile.TemporaryDirectory() as tmp:
        figures = _figures(f"sqlite:///{Path(tmp) / 'health.db'}", Path(tmp) / "keys.json", size, repeat, "SQLite")
        base = os.environ.get("JETON_TEST_POSTGRES_URL")
        if not base:
            raise RuntimeError("JETON_TEST_POSTGRES_URL is not set: no PostgreSQL figure")
        with throwaway_postgres_database(base) as url:
            figures += _figures(url.render_as_string(hide_password=False), Path(tmp) / "pg-keys.json", size, repeat,
                                "PostgreSQL")
    return figures
