"""The console's token and user lists at district size (issue 17): `/admin/cles` and `/admin/utilisateurs` with
their filters, rendered whole (query, template, session) through the Flask app, at 100,000 users and tokens.

Figures, on SQLite and on PostgreSQL: the p50 of each page at 100,000 users and tokens (``benchmarks/fleet_data.py``:
tokens in every state, two audit rows each; a class of 30 teachers in the booklet), against the same page over a
district of 1,000 in the same run (the ratio says what the size costs; goal: every page under 100 ms at 100,000).
``--quick`` uses 2,000 against 200 (a smoke run).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks.fleet_data import T0, build_fleet, fleet_database
from benchmarks.runner import Figure, median

#: the pages measured: (name, path); ``{klass}`` is the class of 30 teachers
PAGES = (
    ("token list, first page", "/admin/cles"),
    ("tokens: active, unused for 30 days, at least 1 failure, by failures",
     "/admin/cles?etat=active&inutilisee=30&echecs=1&tri=echecs"),
    ("tokens: search a login", "/admin/cles?q=prof.0042"),
    ("tokens: a class's teachers, active", "/admin/cles?classe={klass}&etat=active"),
    ("tokens: page 200", "/admin/cles?page=200"),
    ("users: search, teachers", "/admin/utilisateurs?q=0042&role=teacher"),
    ("users: without a token", "/admin/utilisateurs?cle=sans"),
)
ROUNDS = 15


def _sizes(quick: bool) -> tuple[int, int]:
    return (200, 2000) if quick else (1000, 100_000)


def _console(url: str, keys: Path, size: int):
    """A district of ``size`` in the database of ``url``, the booklet's schema beside it, a class of 30 teachers,
    and a test client logged in as an administrator. Returns (client, class id)."""
    from booklet_web import create_app, schema
    from booklet_web.db import open_database
    from booklet_web.tables import classes, teaching
    from tests.web.support import Clock
    from verifier.schema import users

    fleet = build_fleet(url, keys, users=size)
    database = open_database(url)
    schema.upgrade(database.engine)
    with database.writer.begin() as conn:
        klass = conn.execute(classes.insert().values(name="3A")).inserted_primary_key[0]
        teachers = [fleet.login(n) for n in range(1, size, max(size // 30, 1))][:30]
        ids = conn.execute(sa.select(users.c.id).where(users.c.login.in_(teachers))).scalars().all()
        conn.execute(teaching.insert(), [{"user_id": i, "class_id": klass} for i in ids])
        admin = conn.execute(sa.select(users.c.id).where(users.c.login == fleet.login(50))).scalar_one()
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as conn:
            # what autovacuum does on a live server after a bulk import: statistics, and the visibility map that
            # lets a count read an index alone
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
    database.dispose()
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "JETON_DB_URL": url, "JETON_KEYS_FILE": str(keys),
                      "JETON_CLOCK": Clock(T0), "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False})
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["uid"] = admin
        sess["since"] = sess["seen"] = T0
    return app, client, klass


def _page_times(client, path: str, rounds: int) -> float:
    answer = client.get(path)
    if answer.status_code != 200 or ("page 1 sur" not in answer.text and "Aucun" not in answer.text
                                     and "sur" not in answer.text):
        raise RuntimeError(f"benchmark sanity check failed: {path} answered {answer.status_code}")
    runs = []
    for _ in range(rounds):
        begin = time.perf_counter()
        client.get(path)
        runs.append(time.perf_counter() - begin)
    return median(runs) * 1e3


def _database_figures(kind: str, quick: bool) -> list[Figure]:
    small_n, large_n = _sizes(quick)
    rounds = 5 if quick else ROUNDS
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    measured: dict[int, dict[str, float]] = {}
    for size in (small_n, large_n):
        with fleet_database(kind) as url, tempfile.TemporaryDirectory(prefix="jeton-console-") as tmp:
            app, client, klass = _console(url, Path(tmp) / "keys.json", size)
            try:
                measured[size] = {name: _page_times(client, path.format(klass=klass), rounds)
                                  for name, path in PAGES}
            finally:
                app.extensions["jeton"].db.dispose()
                app.extensions["jeton"].store.close()
    return [Figure(f"{name}, {label}, {large_n:,} users and tokens", measured[large_n][name], "ms (p50)",
                   f"the same page, {small_n:,} users and tokens", measured[small_n][name], goal="< 100 ms")
            for name, _path in PAGES]


def run(quick: bool) -> list[Figure]:
    import os

    figures = _database_figures("sqlite", quick)
    if os.environ.get("JETON_TEST_POSTGRES_URL"):
        figures += _database_figures("postgresql", quick)
    return figures
