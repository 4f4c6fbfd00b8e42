"""Throttling in front of the verifier (DESIGN.md §4, §9; NIST 800-63B §5.2.2): per source and per login.

Every failed attempt counts once for its source (``s:<address>``) and once for its login (``l:<login>``, known or
not, so the answer says nothing about which logins exist). Past a key's free failures, each further failure makes
that key wait a delay that doubles, up to a ceiling; an attempt made while one of its keys waits is refused without
being verified, so it neither reveals anything nor counts toward the token's lockout. That is what keeps one
address from locking every account, and a crowd of addresses from locking one account faster than its timer.

The counters are rows in the shared database, so every process and host sees the same budget; the free failures
and the delay are computed from a row's count and its last failure, so a failure is one upsert statement.
"""

from __future__ import annotations

import hashlib
import random

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from verifier.schema import throttle
from verifier.settings import Settings

_SELECT = sa.select(throttle.c.key, throttle.c.failures, throttle.c.last_at).where(
    throttle.c.key.in_(sa.bindparam("keys", expanding=True)))
_FORGET = throttle.delete().where(throttle.c.key == sa.bindparam("key"))
_PURGE = throttle.delete().where(throttle.c.last_at < sa.bindparam("before"))


def _upsert(dialect: str) -> sa.Insert:
    """INSERT a key with one failure, or add one to its count (starting again from one when it went stale)."""
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(throttle)
    stmt = insert.values(key=sa.bindparam("key"), failures=1, last_at=sa.bindparam("now", type_=sa.Float))
    return stmt.on_conflict_do_update(index_elements=[throttle.c.key], set_={
        "failures": sa.case((throttle.c.last_at < sa.bindparam("stale", type_=sa.Float), 1),
                            else_=throttle.c.failures + 1),
        "last_at": stmt.excluded.last_at,
    })


class Throttle:
    """The throttling rule, over the ``throttle`` table of one store's database."""

    def __init__(self, settings: Settings, dialect: str) -> None:
        self.settings = settings
        self._upsert = _upsert(dialect)

    def keys(self, source: str, login: object) -> dict[str, int]:
        """The keys an attempt counts for, each with its free failures. A login is kept as a digest: what people
        type there (a PIN and a code after their login, by mistake) never reaches the table."""
        s = self.settings
        keys = {f"s:{source}"[:120]: s.throttle_free_source}
        if isinstance(login, str) and login:
            digest = hashlib.sha256(login.strip().lower().encode("utf-8", "replace")).hexdigest()
            keys[f"l:{digest}"] = s.throttle_free_login
        return keys

    def delay(self, failures: int, free: int) -> float:
        """How long a key waits after its ``failures``-th failure: 0 while free, then doubling to the ceiling."""
        s = self.settings
        if failures <= free:
            return 0.0
        return min(s.throttle_delay * 2.0 ** min(failures - free - 1, 40), s.throttle_max_delay)

    def wait(self, conn: sa.Connection, keys: dict[str, int], now: float) -> tuple[float, bool]:
        """(seconds the attempt must still wait, 0 when it may go on; whether the login key has a live count)."""
        stale = now - self.settings.throttle_window
        wait, login_counted = 0.0, False
        for key, failures, last_at in conn.execute(_SELECT, {"keys": list(keys)}):
            if last_at < stale:
                continue
            login_counted |= key.startswith("l:")
            wait = max(wait, last_at + self.delay(failures, keys[key]) - now)
        return max(wait, 0.0), login_counted

    def failed(self, conn: sa.Connection, keys: dict[str, int], now: float) -> None:
        """Count one failure for each key (one upsert each, in the caller's transaction)."""
        stale = now - self.settings.throttle_window
        for key in keys:
            conn.execute(self._upsert, {"key": key, "now": now, "stale": stale})
        if random.random() < 0.01:  # noqa: S311 - housekeeping, not security: keep the table small
            conn.execute(_PURGE, {"before": stale})

    def decoy(self, conn: sa.Connection, login: object, now: float) -> None:
        """The one-row write an unknown login makes, so that it costs what a wrong passcode costs (which counts
        a failure on its token row): one upsert of a row of its own, forgotten like the others."""
        key = "u:" + hashlib.sha256(str(login).strip().lower().encode("utf-8", "replace")).hexdigest()
        conn.execute(self._upsert, {"key": key, "now": now, "stale": now - self.settings.throttle_window})

    def succeeded(self, conn: sa.Connection, keys: dict[str, int]) -> None:
        """A login that succeeds forgets its own count (not its source's)."""
        for key in keys:
            if key.startswith("l:"):
                conn.execute(_FORGET, {"key": key})
