"""Compare-and-set under real concurrency: 8 processes (not threads) hit one token at once, on SQLite and
PostgreSQL, over many rounds."""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter

import pytest

from tests.verifier.conftest import T0
from tests.verifier.helpers import assigned_token, first_use
from verifier import Settings, open_store
from verifier.verification import Outcome, Verifier

WORKERS = 8
PIN = "4829"
_ctx = mp.get_context("fork")


def _worker(url: str, keys: str, settings: Settings, tasks, results, barrier) -> None:
    store = open_store(url, keys, settings=settings)
    verifier = Verifier(store)
    try:
        while (task := tasks.get()) is not None:
            kind, *args = task
            barrier.wait(timeout=60)  # all eight go at once
            if kind == "auth":
                results.put(verifier.authenticate(*args).outcome.value)
            else:
                results.put(verifier.next_code(*args).outcome.value)
    except Exception as exc:  # report, so the parent fails with the reason instead of waiting
        results.put(f"error: {exc.__class__.__name__}: {exc}")
    finally:
        store.close()


class Crowd:
    """Eight processes, each with its own store and verifier, running the same task at the same instant."""

    def __init__(self, url: str, keys: str, settings: Settings) -> None:
        self.results = _ctx.Queue()
        self.barrier = _ctx.Barrier(WORKERS)
        self.queues = [_ctx.Queue() for _ in range(WORKERS)]
        self.procs = [_ctx.Process(target=_worker, args=(url, keys, settings, q, self.results, self.barrier))
                      for q in self.queues]
        for p in self.procs:
            p.start()

    def run(self, *task) -> Counter:
        for q in self.queues:
            q.put(task)
        outcomes = Counter(self.results.get(timeout=120) for _ in range(WORKERS))
        assert not [o for o in outcomes if o.startswith("error")], outcomes
        return outcomes

    def close(self) -> None:
        for q in self.queues:
            q.put(None)
        for p in self.procs:
            p.join(timeout=60)
        assert all(p.exitcode == 0 for p in self.procs)


@pytest.fixture
def crowd_for(store, db_url, keys_file):
    crowds = []

    def start(settings: Settings) -> Crowd:
        store.close()  # no pooled connection crosses the fork (the store reconnects when used again)
        crowd = Crowd(db_url, str(keys_file), settings)
        crowds.append(crowd)
        return crowd

    yield start
    for crowd in crowds:
        crowd.close()


@pytest.mark.slow
def test_the_same_passcode_from_eight_processes_is_accepted_exactly_once(store, crowd_for, planted):
    codes = assigned_token(store, "JT-A", "mdupont", planted=planted)
    now = first_use(Verifier(store), "mdupont", codes, planted.value(PIN), T0)
    # Replays count as failures; lift the failure rules so that every round starts from a clean token.
    crowd = crowd_for(Settings(next_code_after=10_000, lockout_after=10_000))
    rounds = 40
    step = codes.step_of(now)
    for _ in range(rounds):
        step += 2
        outcomes = crowd.run("auth", "mdupont", PIN + codes.code(step), step * 30 + 1)
        assert outcomes == Counter({"ACCEPT": 1, "REJECT": WORKERS - 1})
    assert store.get_token("JT-A").last_step == step
    assert sum(e.outcome == "ACCEPT" for e in store.audit(action="auth")) == rounds + 1  # + first use


@pytest.mark.slow
def test_eight_processes_of_wrong_passcodes_never_pass_the_lockout_limit(store, crowd_for, planted):
    codes = assigned_token(store, "JT-A", "mdupont", planted=planted)
    now = first_use(Verifier(store), "mdupont", codes, planted.value(PIN), T0)
    settings = Settings()
    crowd = crowd_for(settings)
    step = codes.step_of(now)
    for _ in range(10):
        totals: Counter = Counter()
        for _ in range(3):  # 24 wrong passcodes per round, sent 8 at a time
            step += 1
            totals += crowd.run("auth", "mdupont", "1111" + codes.code(step), step * 30)
        token = store.get_token("JT-A")
        assert (token.state, token.fail_count) == ("locked", settings.lockout_after)
        assert totals == Counter({"REJECT": settings.lockout_after - 1,
                                  "LOCKED": 3 * WORKERS - settings.lockout_after + 1})
        store.unlock("JT-A")


@pytest.mark.slow
def test_one_next_code_ticket_sent_by_eight_processes_is_used_once(store, crowd_for, planted):
    codes = assigned_token(store, "JT-A", "mdupont", planted=planted)
    now = first_use(Verifier(store), "mdupont", codes, planted.value(PIN), T0)
    verifier = Verifier(store)
    crowd = crowd_for(Settings())
    step = codes.step_of(now)
    for _ in range(20):
        step += 20
        center = step + store.get_token("JT-A").drift
        result = verifier.authenticate("mdupont", PIN + codes.code(center + 3), step * 30)
        assert result.outcome is Outcome.NEXT_CODE_REQUIRED
        outcomes = crowd.run("next", result.ticket, codes.code(center + 4), step * 30 + 30)
        assert outcomes == Counter({"ACCEPT": 1, "REJECT": WORKERS - 1})


@pytest.mark.slow
def test_an_emergency_code_sent_by_eight_processes_is_used_as_many_times_as_issued(store, crowd_for, planted):
    codes = assigned_token(store, "JT-A", "mdupont", planted=planted)
    now = first_use(Verifier(store), "mdupont", codes, planted.value(PIN), T0)
    crowd = crowd_for(Settings(next_code_after=10_000, lockout_after=10_000))
    for round_ in range(12):
        uses = 1 + round_ % 3
        issued = store.issue_emergency("mdupont", uses=uses, actor="test", now=now + round_)
        planted.value(issued.code)
        outcomes = crowd.run("auth", "mdupont", PIN + issued.code, now + round_ + 0.5)
        assert outcomes == Counter({"ACCEPT": uses, "REJECT": WORKERS - uses}), (uses, outcomes)
        assert store.emergency_status("mdupont", now + round_ + 0.6) is None  # used up
