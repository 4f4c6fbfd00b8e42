"""Prometheus metrics of the verifier (DESIGN.md §6): attempts by outcome and reason, locks, throttled attempts,
and the latency of ``Verifier.authenticate``. Every front end that calls the verifier (the booklet's login, RADIUS)
counts the same way, with no code of its own.

Counts are taken where the facts are: an attempt's outcome and reason from the audit row it writes (every audit
row goes through :func:`verifier.audit.logged`, which calls :func:`count_audit`), a lock where the failure that
locks is counted, the latency around ``authenticate``. They live in the process; a server with several processes
(gunicorn's workers) sets ``PROMETHEUS_MULTIPROC_DIR`` before this module is imported, and prometheus_client then
keeps each process's counts in a file of that folder, summed at each scrape (see :func:`exposition`).

Why not count from the audit table at each scrape instead: a ``COUNT(*) ... GROUP BY`` over months of audit rows
costs more at every scrape as the table grows, every host would report the whole cluster's total (Prometheus sums
the hosts: counted twice), and a latency histogram cannot be read from it anyway.
"""

from __future__ import annotations

import os
import threading
from types import SimpleNamespace

#: reasons an attempt is refused, as the ``reason`` label says them (a bounded set: anything else is ``other``)
REASONS = ("format", "pin", "code", "pin+code", "replay", "unknown", "locked", "emergency", "ticket", "contention")
_DETAIL_REASONS = {"unknown user or no token": "unknown", "invalid ticket": "ticket", "changed meanwhile": "contention"}
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

_lock = threading.Lock()
_made: SimpleNamespace | None = None


def _metrics() -> SimpleNamespace:
    """The metrics, made at their first use: prometheus_client decides at its import whether counts go to files
    (``PROMETHEUS_MULTIPROC_DIR``), so it is imported only once a server had the chance to set that variable."""
    global _made
    if _made is None:
        with _lock:
            if _made is None:
                from prometheus_client import Counter, Histogram

                _made = SimpleNamespace(
                    attempts=Counter("jeton_auth_attempts", "Authentication attempts by outcome (ACCEPT, REJECT, "
                                     "LOCKED, THROTTLED, NEW_PIN_REQUIRED, NEXT_CODE_REQUIRED) and reason (why "
                                     "refused; token or emergency when accepted)", ["outcome", "reason"]),
                    locks=Counter("jeton_token_locks", "Locks: a token by consecutive failures or by an "
                                  "administrator; an emergency access ended by failures", ["cause"]),
                    throttled=Counter("jeton_throttled_requests", "Attempts refused unverified because their "
                                      "source or login was throttled"),
                    latency=Histogram("jeton_authenticate_seconds", "Time of one Verifier.authenticate call, by "
                                      "outcome", ["outcome"], buckets=BUCKETS),
                )
    return _made


def _reason(outcome: str, detail: str | None) -> str:
    detail = detail or ""
    if outcome == "ACCEPT":
        return "emergency" if detail.startswith("emergency") else "token"
    if outcome not in ("REJECT", "LOCKED"):
        return "none"
    if not detail.startswith("reason="):
        return "other"
    words = detail[len("reason="):].split(";")[0].strip()
    if words in _DETAIL_REASONS:
        return _DETAIL_REASONS[words]
    # several tokens may give several reasons ("code,pin"): the first known one, in the order of REASONS
    found = {w.strip() for w in words.split(",")}
    return next((r for r in REASONS if r in found), "other")


#: the labelled children already looked up, by (metric, labels...): ``labels()`` validates its arguments and takes a
#: lock at every call, which cost as much as the count itself (every check counts twice)
_children: dict[tuple, object] = {}


def _child(metric: str, *labels: str):
    child = _children.get((metric, *labels))
    if child is None:  # two threads may both look it up: labels() gives them the same child
        child = _children[(metric, *labels)] = getattr(_metrics(), metric).labels(*labels)
    return child


def count_audit(values: dict) -> None:
    """Count one audit row: an attempt (``auth``, ``next_code``), or an administrator's lock."""
    action = values["action"]
    if action in ("auth", "next_code"):
        outcome = values["outcome"]
        _child("attempts", outcome, _reason(outcome, values["detail"])).inc()
        if outcome == "THROTTLED":
            _metrics().throttled.inc()
    elif action == "token.lock":
        _metrics().locks.labels("administrator").inc()
    elif action == "emergency.end" and values["detail"] == "too many failures":
        _metrics().locks.labels("emergency").inc()


def count_locks(count: int) -> None:
    """Tokens that the failure just counted has locked."""
    if count:
        _metrics().locks.labels("failures").inc(count)


def observe_latency(outcome: str, seconds: float) -> None:
    """One ``authenticate`` call took ``seconds``."""
    _child("latency", outcome).observe(seconds)


def multiprocess() -> bool:
    """Whether counts are kept in files shared by several processes (``PROMETHEUS_MULTIPROC_DIR``)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> tuple[bytes, str]:
    """The Prometheus text of every count (of every process, in multiprocess mode) and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    _metrics()  # every metric named, at zero, from the first scrape
    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
