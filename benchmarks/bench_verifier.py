"""Verifier throughput: passcode checks per second against the raw cost of their primitives, same run.

Figures:
- successful checks/s, one process, SQLite (goal >= 3,000/s);
- successful checks/s, two processes, PostgreSQL (goal >= 2,000/s);
- failing checks/s (wrong PIN), one process, SQLite;
- successful checks/s with the optional scrypt PIN KDF, against the default;
- the time of a refused attempt on a locked token, and for an unknown login, against a wrong passcode on an
  active token (the caller must not tell them apart by time: ratios near 1);
- what issue 17 adds: successful checks/s with the Prometheus counts against the same without them (rounds
  interleaved), and the CPU the counts take per check against a whole check; failing checks/s with the
  emergency-access look-up against the same without it (ratios near 1);
- the drift history (token health, ``verifier.health``), SQLite and PostgreSQL: successful checks/s keeping it, as
  shipped (a point at the first login of a day or at a drift change: here, rarely), and with a point at every
  login (the worst case), each against the same checks keeping no history (ratios near 1).
Baseline ("floor"): the primitives of one check alone: AES-GCM decrypt of the secret, the peppered PIN hash, the
HMAC window (±1 step; a failing check also computes the ±10 resync window), and one commit of a one-row UPDATE on
the same database, in the same number of processes as the figure. On PostgreSQL the floor's UPDATE commits on its
own (autocommit: one round trip, the cheapest commit there is); the note also gives the floor as it was first
defined (BEGIN + UPDATE + COMMIT, three round trips, one process times two). Figures are medians of three runs
(the machine is shared).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import secrets
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from benchmarks.runner import Figure, median
from tests.support import throwaway_postgres_database
from verifier import Settings, init_store, open_store
from verifier.otp import TokenCodes
from verifier.pins import check_pin
from verifier.schema import tokens
from verifier.verification import Outcome, Verifier

T0 = 1_800_000_000.0
PIN = "4829"
USERS = 50
# Replays and failures are part of a real load, but here each figure measures one path only.
NO_LIMITS = Settings(next_code_after=10**9, lockout_after=10**9)
ROUNDS = 6  # interleaved rounds of a with/without comparison


def _populate(url: str, keys: Path, settings: Settings = NO_LIMITS) -> list[tuple[str, bytes]]:
    store = init_store(url, keys, settings=settings)[0]
    verifier = Verifier(store)
    users = []
    for n in range(USERS):
        login, serial, secret = f"user{n}", f"JT-B{n}", secrets.token_bytes(20)
        store.add_user(login)
        store.create_pending_token(serial, secret)
        store.mark_ready(serial)
        store.assign(serial, login)
        codes = TokenCodes(secret)
        ticket = verifier.authenticate(login, codes.code(codes.step_of(T0)), T0).ticket
        verifier.set_pin(ticket, PIN, PIN, T0)
        users.append((login, secret))
    store.close()
    return users


def _checks(url: str, keys: Path, users, count: int, start_step: int, *, good: bool = True,
            settings: Settings = NO_LIMITS) -> float:
    """Seconds for ``count`` checks cycling through ``users``; each success uses a fresh, later step."""
    store = open_store(url, keys, settings=settings)
    verifier = Verifier(store)
    codes = [(login, TokenCodes(secret)) for login, secret in users]
    expected = Outcome.ACCEPT if good else Outcome.REJECT
    pin = PIN if good else "1357"
    plan = []
    for i in range(count):
        login, c = codes[i % len(codes)]
        step = start_step + i // len(codes)
        plan.append((login, pin + c.code(step), step * 30.0 + 1))
    begin = time.perf_counter()
    for login, passcode, now in plan:
        outcome = verifier.authenticate(login, passcode, now).outcome
        if outcome is not expected:
            raise RuntimeError(f"unexpected outcome in the benchmark: {outcome} for {login} at {now}")
    elapsed = time.perf_counter() - begin
    store.close()
    return elapsed


def _floor(url: str, keys: Path, count: int, settings: Settings = NO_LIMITS, *, failing: bool = False,
           autocommit: bool = False, row_number: int = 0) -> float:
    """Seconds per check for the primitives alone: decrypt, PIN hash, the accept window (and, for a failing
    check, the resync window too, as the verifier computes it), one one-row commit (``autocommit``, PostgreSQL
    only: the UPDATE is its own transaction, one round trip; else BEGIN + UPDATE + COMMIT) of the ``row_number``-th
    token (each process its own row, as each checks its own users)."""
    store = open_store(url, keys, settings=settings)
    engine = store.autocommit_engine if autocommit else store.engine
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(tokens).order_by(tokens.c.id).offset(row_number).limit(1)).first()
    ring = store.ring
    begin = time.perf_counter()
    for i in range(count):
        secret = ring.open(row.serial, row.key_id, row.secret_ct)
        check_pin(ring, PIN, row.pin_hash)
        c = TokenCodes(secret)
        c.matches("123456", c.step_of(T0) + i, settings.window)
        if failing:
            c.matches("123456", c.step_of(T0) + i, settings.resync_window)
        with engine.begin() as conn:
            conn.execute(tokens.update().where(tokens.c.id == row.id).values(updated_at=float(i)))
    elapsed = time.perf_counter() - begin
    store.close()
    return elapsed / count


def _worker(args) -> float:
    url, keys, users, count, start_step = args
    return _checks(url, keys, users, count, start_step)


def _floor_worker(args) -> float:
    url, keys, count, row_number = args
    return _floor(url, keys, count, autocommit=True, row_number=row_number) * count


def _sqlite_figures(tmp: Path, quick: bool) -> list[Figure]:
    count = 300 if quick else 3000
    url, keys = f"sqlite:///{tmp / 'bench.db'}", tmp / "keys.json"
    users = _populate(url, keys)
    start = TokenCodes(b"x" * 20).step_of(T0) + 2
    floor = median([_floor(url, keys, count // 3) for _ in range(3)])
    floor_fail = median([_floor(url, keys, count // 3, failing=True) for _ in range(3)])
    good = median([_checks(url, keys, users, count, start + i * 1000) for i in range(3)])
    bad = median([_checks(url, keys, users, count, start + 10_000, good=False) for _ in range(3)])
    floor_rate = 1 / floor
    figures = [
        Figure("successful checks/s, SQLite, 1 process", count / good, "checks/s",
               "floor: primitives + 1 commit (SQLite)", floor_rate, goal=">= 3000/s"),
        Figure("failing checks/s (wrong PIN), SQLite, 1 process", count / bad, "checks/s",
               "floor: primitives with both windows + 1 commit (SQLite)", 1 / floor_fail),
    ]
    # The optional slow KDF: its cost per successful check against the default, same database.
    scrypt = Settings(pin_kdf="scrypt", next_code_after=10**9, lockout_after=10**9)
    kurl, kkeys = f"sqlite:///{tmp / 'kdf.db'}", tmp / "kdf-keys.json"
    kusers = _populate(kurl, kkeys, scrypt)
    kcount = 30 if quick else 200
    slow = _checks(kurl, kkeys, kusers, kcount, start, settings=scrypt)
    figures.append(Figure("successful checks/s, SQLite, scrypt PIN KDF (n=2^14)", kcount / slow, "checks/s",
                          "the default (pepper only)", count / good, note="optional, off by default"))
    figures += _refusal_times(url, keys, users, start, 60 if quick else 600)
    figures += _console_costs(url, keys, users, start + 20_000, count)
    figures += _history_costs(url, keys, users, start + 40_000, count, "SQLite")
    return figures


def _history_costs(url: str, keys: Path, users, start: int, count: int, db: str) -> list[Figure]:
    """Successful checks keeping the drift history, as shipped and with a point at every login, against the same
    checks keeping none (``health.record`` a no-op; ``health.params`` says no point is ever due, so PostgreSQL runs
    its one statement without the history's CTEs)."""
    from verifier import health

    def nothing(*_args, **_kw):
        return {}

    runs: dict[str, list[float]] = {"shipped": [], "every": [], "none": []}
    for i in range(3):  # interleaved: the machine's noise falls on all three
        first = start + i * 3000
        runs["shipped"].append(_checks(url, keys, users, count, first))
        with _without(health, "should_record", lambda *_a: True):
            runs["every"].append(_checks(url, keys, users, count, first + 1000))
        with _without(health, "record", nothing), _without(health, "params", nothing):
            runs["none"].append(_checks(url, keys, users, count, first + 2000))
    none = count / median(runs["none"])
    return [
        Figure(f"successful checks/s, {db}, keeping the drift history", count / median(runs["shipped"]), "checks/s",
               "the same checks, keeping no history", none),
        Figure(f"successful checks/s, {db}, a drift point at every login (worst case)", count / median(runs["every"]),
               "checks/s", "the same checks, keeping no history", none),
    ]


@contextmanager
def _without(obj, name: str, replacement):
    """``obj.name`` replaced for the baseline of a figure (the shipped code measured against itself without one
    part, in the same run)."""
    saved = getattr(obj, name)
    setattr(obj, name, replacement)
    try:
        yield
    finally:
        setattr(obj, name, saved)


def _console_costs(url: str, keys: Path, users, start: int, count: int) -> list[Figure]:
    """What issue 17 adds to a check: the Prometheus counts (every check), and the emergency-access look-up (a
    failing check reads the login's live emergency access before it counts the failure)."""
    from verifier import audit, metrics

    def no_count(*_args, **_kw):
        return None

    count_audit, observe_latency = audit.count_audit, metrics.observe_latency

    # Interleaved check by check: one check with the counts, the next without, on the same store, so that the noise
    # of the shared machine falls on both alike; medians of per-round rates.
    store = open_store(url, keys, settings=NO_LIMITS)
    verifier = Verifier(store)
    codes = [(login, TokenCodes(secret)) for login, secret in users]
    counted, silent = [], []
    per_round = max(count // 3, 2 * len(users))
    step = start
    try:
        for _round in range(ROUNDS + 1):  # the first round warms up and is not counted
            spent = [0.0, 0.0]
            for i in range(per_round):
                login, c = codes[i % len(codes)]
                if i % len(codes) == 0:
                    step += 1
                passcode, now = PIN + c.code(step), step * 30.0 + 1
                quiet = i % 2 == 1
                if quiet:
                    audit.count_audit, metrics.observe_latency = no_count, no_count
                try:
                    began = time.perf_counter()
                    outcome = verifier.authenticate(login, passcode, now).outcome
                    spent[quiet] += time.perf_counter() - began
                finally:
                    audit.count_audit, metrics.observe_latency = count_audit, observe_latency
                if outcome is not Outcome.ACCEPT:
                    raise RuntimeError(f"unexpected outcome in the benchmark: {outcome} for {login} at {now}")
            if _round:
                counted.append(per_round / 2 / spent[0])
                silent.append(per_round / 2 / spent[1])
    finally:
        store.close()
    ratios = [c / q for c, q in zip(counted, silent, strict=True)]
    per_check = _metrics_cpu_per_check()
    looked = median([_checks(url, keys, users, count, start + 10_000, good=False) for _ in range(3)])
    with _without(Verifier, "_urgent", lambda *_a: []):
        skipped = median([_checks(url, keys, users, count, start + 10_000, good=False) for _ in range(3)])
    return [
        Figure("successful checks/s, SQLite, with the Prometheus counts", median(counted), "checks/s",
               "the same checks, counting nothing", median(silent), goal="ratio near 1",
               note=f"{ROUNDS} rounds of {per_round} checks, every other one counting nothing; median of the "
                    f"per-round ratios {median(ratios):.3f}"),
        Figure("Prometheus counts of one successful check, CPU", per_check * 1e6, "us",
               "one successful check, SQLite, 1 process", 1e6 / median(silent),
               note="count_audit + observe_latency, 100,000 calls (process time)"),
        Figure("failing checks/s (wrong PIN), SQLite, with the emergency-access look-up", count / looked,
               "checks/s", "the same checks, without the look-up", count / skipped),
    ]


def _metrics_cpu_per_check(calls: int = 100_000) -> float:
    """Process seconds of what the metrics do for one successful check: count its audit row, observe its latency."""
    from verifier import audit, metrics

    entry = audit.row(action="auth", outcome="ACCEPT", actor="verifier", login="user0", serial="JT-B0")
    metrics.count_audit(entry)
    metrics.observe_latency("ACCEPT", 0.001)
    began = time.process_time()
    for _ in range(calls):
        metrics.count_audit(entry)
        metrics.observe_latency("ACCEPT", 0.001)
    return (time.process_time() - began) / calls


def _refusal_times(url: str, keys: Path, users, start: int, count: int) -> list[Figure]:
    """Median seconds of one refused attempt: wrong passcode (active token), locked token, unknown login."""
    store = open_store(url, keys, settings=NO_LIMITS)
    verifier = Verifier(store)
    (active, _s1), (locked, _s2) = users[0], users[1]
    store.lock(store.list_tokens(login=locked)[0].serial, actor="bench")
    cases = {"wrong": (active, Outcome.REJECT), "locked": (locked, Outcome.LOCKED),
             "unknown": ("nobody", Outcome.REJECT)}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(count):
        for name, (login, expected) in cases.items():  # interleaved: the machine's noise falls on all three
            now = (start + 20_000 + i) * 30.0 + 1
            begin = time.perf_counter()
            outcome = verifier.authenticate(login, "1357" + "000000", now).outcome
            times[name].append(time.perf_counter() - begin)
            if outcome is not expected:
                raise RuntimeError(f"unexpected outcome for {name}: {outcome}")
    store.unlock(store.list_tokens(login=locked)[0].serial, actor="bench")
    store.close()
    wrong = median(times["wrong"]) * 1e3
    return [Figure(f"refused attempt, {name}, SQLite, p50", median(times[name]) * 1e3, "ms",
                   "wrong passcode on an active token, p50", wrong, goal="ratio near 1 (same time)",
                   note=f"{count} attempts each, interleaved")
            for name in ("locked", "unknown")]


def _postgres_figures(quick: bool) -> list[Figure]:
    base = os.environ.get("JETON_TEST_POSTGRES_URL")
    if not base:
        raise RuntimeError("JETON_TEST_POSTGRES_URL is not set: no PostgreSQL figure")
    count = 200 if quick else 2000
    with throwaway_postgres_database(base) as url, tempfile.TemporaryDirectory() as tmp:
        rendered = url.render_as_string(hide_password=False)
        keys = Path(tmp) / "keys.json"
        users = _populate(rendered, keys)
        half = len(users) // 2
        start = TokenCodes(b"x" * 20).step_of(T0) + 2
        first_floor = median([_floor(rendered, keys, count // 4) for _ in range(3)])
        rates, floors = [], []
        with mp.get_context("fork").Pool(2) as pool:
            for run_number in range(3):
                first = start + run_number * 1000
                jobs = [(rendered, keys, users[:half], count, first), (rendered, keys, users[half:], count, first)]
                # both processes run at once; the slower one sets the pace
                rates.append(2 * count / max(pool.map(_worker, jobs)))
                floor_jobs = [(rendered, keys, count, 0), (rendered, keys, count, half)]
                floors.append(2 * count / max(pool.map(_floor_worker, floor_jobs)))
        return [Figure("successful checks/s, PostgreSQL, 2 processes", median(rates), "checks/s",
                       "floor: primitives + 1 autocommit UPDATE (PostgreSQL), 2 processes at once", median(floors),
                       goal=">= 2000/s",
                       note=f"first floor definition (BEGIN + UPDATE + COMMIT, 1 process x 2): "
                            f"{2 / first_floor:.0f}/s")] + _history_costs(rendered, keys, users, start + 40_000,
                                                                            count, "PostgreSQL, 1 process")


def run(quick: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        figures = _sqlite_figures(Path(tmp), quick)
    return figures + _postgres_figures(quick)
