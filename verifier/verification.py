"""Passcode verification and the PIN lifecycle (DESIGN.md §4): ``Verifier.authenticate``, ``set_pin``,
``next_code``.

Each attempt reads the user's tokens, decides in memory, then writes its decision with one conditional UPDATE
(compare-and-set on the token's ``version``, or an atomic, state-guarded failure increment) and an audit row in
the same transaction. A process that loses a compare-and-set re-reads and decides again, so the same code is
never accepted twice and the failure count never passes the lockout limit unnoticed, whatever the number of
processes or hosts sharing the database.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import sqlalchemy as sa

from verifier import audit as audit_log
from verifier import emergency as emergency_rule
from verifier import health, metrics
from verifier.errors import TicketError
from verifier.otp import TokenCodes
from verifier.pins import DummyPinHash, check_new_pin, check_pin, hash_pin
from verifier.schema import audit, tickets, tokens, users
from verifier.settings import Settings
from verifier.store import Store
from verifier.throttle import Throttle
from verifier.typed_login import TRIMMED_NOTE, login_part

_MAX_RETRIES = 50
_NEW_PIN, _NEXT_CODE = "new_pin", "next_code"


class Outcome(enum.StrEnum):
    """What the caller learns from an attempt, and nothing more."""

    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    NEW_PIN_REQUIRED = "NEW_PIN_REQUIRED"
    NEXT_CODE_REQUIRED = "NEXT_CODE_REQUIRED"
    LOCKED = "LOCKED"
    #: refused unverified: the source or the login is over its throttling budget (``Result.retry_after``)
    THROTTLED = "THROTTLED"


@dataclass(frozen=True)
class Result:
    """The outcome of an attempt; ``ticket`` for NEW_PIN_REQUIRED and NEXT_CODE_REQUIRED; ``login`` and
    ``user_id`` (``users.id``, so that an application need not look the user up again) on ACCEPT;
    ``retry_after`` (seconds) on THROTTLED."""

    outcome: Outcome
    ticket: str | None = None
    login: str | None = None
    user_id: int | None = None
    retry_after: float | None = None

    def __repr__(self) -> str:  # a ticket is a bearer credential: keep it out of logs
        return f"Result(outcome={self.outcome.value}, ticket={'<set>' if self.ticket else None}, login={self.login!r})"


@dataclass
class _Decision:
    outcome: Outcome
    token: object = None  # the row that matched
    step: int | None = None
    reason: str = ""


# Statements built once, with bound parameters: building them per attempt cost more than running them.
# Compare-and-set: the row changes only if nobody changed it since it was read (same version).
_CAS = (
    tokens.update()
    .where(tokens.c.id == sa.bindparam("b_id"), tokens.c.version == sa.bindparam("b_version"))
    .values({c: sa.bindparam(c) for c in ("version", "updated_at", "last_step", "drift", "fail_count", "state",
                                          "lock_count")})
)
_NEW_COUNT = tokens.c.fail_count + 1
# One atomic, state-guarded increment: a token locks exactly when its count reaches the limit, never past it.
_COUNT_FAILURE = (
    tokens.update()
    # one id per statement (a user has one token, rarely more): an expanding IN list is re-rendered every time
    .where(tokens.c.id == sa.bindparam("b_id"), sa.or_(tokens.c.state == "assigned", tokens.c.state == "active"))
    .values(fail_count=_NEW_COUNT, version=tokens.c.version + 1, updated_at=sa.bindparam("now", type_=sa.Float),
            state=sa.case((_NEW_COUNT >= sa.bindparam("limit"), "locked"), else_=tokens.c.state),
            locked_at=sa.case((_NEW_COUNT >= sa.bindparam("limit"), sa.bindparam("now", type_=sa.Float)),
                              else_=tokens.c.locked_at),
            lock_count=sa.case((_NEW_COUNT >= sa.bindparam("limit"), tokens.c.lock_count + 1),
                               else_=tokens.c.lock_count))
    .returning(tokens.c.id, tokens.c.fail_count, tokens.c.state)
)
# A refused attempt that counts no failure (a locked token) still writes its token row, as a counted one does.
_TOUCH = tokens.update().where(tokens.c.id == sa.bindparam("b_id")).values(
    updated_at=sa.bindparam("now", type_=sa.Float)).returning(tokens.c.id, tokens.c.fail_count, tokens.c.state)
# What a check reads: the user's live tokens, only the columns the decision needs.
_SELECT = (
    sa.select(tokens.c.id, tokens.c.serial, tokens.c.algo, tokens.c.digits, tokens.c.period, tokens.c.key_id,
              tokens.c.secret_ct, tokens.c.state, tokens.c.pin_hash, tokens.c.drift, tokens.c.last_step,
              tokens.c.fail_count, tokens.c.locked_at, tokens.c.lock_count, tokens.c.version, tokens.c.user_id,
              users.c.login)
    .select_from(tokens.join(users))
    # three equalities rather than IN (...): an IN list is re-rendered for every execution
    .where(users.c.login == sa.bindparam("login"),
           sa.or_(tokens.c.state == "assigned", tokens.c.state == "active", tokens.c.state == "locked"))
    .order_by(tokens.c.id)
)
_AUDIT_COLUMNS = ("at", "actor", "action", "outcome", "login", "serial", "source", "detail")


def _cas_then_audit(point: bool = False) -> sa.Insert:
    """PostgreSQL: the compare-and-set and its audit row as ONE statement (so one round trip, one transaction):
    ``WITH cas AS (UPDATE tokens ... WHERE id = :b_id AND version = :b_version RETURNING id) INSERT INTO audit
    SELECT ... FROM cas RETURNING id``. The audit row exists exactly when the UPDATE changed the token; the
    returned row (or none) says whether the compare-and-set won. ``point``: with the drift history's CTEs."""
    cas = _CAS.returning(tokens.c.id).cte("cas")
    row = sa.select(*(sa.bindparam(f"a_{c}", type_=audit.c[c].type) for c in _AUDIT_COLUMNS)).select_from(cas)
    into_audit = audit.insert().from_select(list(_AUDIT_COLUMNS), row)
    return into_audit.add_cte(cas, *health.ctes(cas, point)).returning(audit.c.id)


_CAS_THEN_AUDIT, _CAS_THEN_AUDIT_POINT = _cas_then_audit(), _cas_then_audit(point=True)


class _Retry(Exception):
    """A compare-and-set lost to another process: roll back, read again, decide again."""


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def _safe_login(login: object) -> str | None:
    """What the audit keeps of a login that names no account: its login part, never digits typed after it."""
    return login_part(login).login


def _unknown_detail(login: object) -> str:
    return "reason=unknown user or no token" + (f"; {TRIMMED_NOTE}" if login_part(login).trimmed else "")


class Verifier:
    """Checks passcodes against the store and runs the PIN lifecycle. Safe to share between threads."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or store.settings
        ring = store.ring
        # The work an unknown user costs, so that it costs the same as a known one.
        self._dummy_pin = DummyPinHash(ring, self.settings).value
        key_id, blob = ring.seal("DUMMY", secrets.token_bytes(20))
        # An active token nobody holds: an unknown login is decided against it, through the same code as a real one.
        self._dummy_row = SimpleNamespace(serial="DUMMY", key_id=key_id, secret_ct=blob, algo="sha1", digits=6,
                                          period=30, pin_hash=self._dummy_pin, drift=0, last_step=None,
                                          fail_count=0)
        # PostgreSQL: an attempt reads and, when it accepts, writes the compare-and-set with its audit row as ONE
        # statement (a data-modifying WITH), both on an autocommit connection: two round trips, no BEGIN/COMMIT.
        # Other writes (failures, tickets, unlocks) open a transaction. SQLite has no data-modifying WITH: an
        # attempt is one transaction, begun by its driver at the first write, the same two writes in-process.
        self._one_statement = store.autocommit_engine is not None
        self.throttle = Throttle(self.settings, store.engine.dialect.name)

    # -- authenticate ------------------------------------------------------------------------------------------

    def authenticate(self, login: str, passcode: str, now: float | None = None, *,
                     source: str | None = None) -> Result:
        """Check ``login`` with ``passcode`` (PIN + code, or the code alone in new-PIN mode).

        ``source`` names where the attempt comes from (the client's address; for RADIUS the NAS and the calling
        station): with it, the attempt goes through throttling first (``Settings.throttle``), and may come back
        THROTTLED, unverified, with ``retry_after`` seconds."""
        started = time.perf_counter()
        result = self._authenticate(login, passcode, now, source)
        metrics.observe_latency(result.outcome.value, time.perf_counter() - started)
        return result

    def _authenticate(self, login: str, passcode: str, now: float | None, source: str | None) -> Result:
        now = time.time() if now is None else float(now)
        passcode = passcode if isinstance(passcode, str) and passcode.isascii() and passcode.isdigit() else ""
        keys = self.throttle.keys(source, login) if self.settings.throttle and source is not None else None
        login_counted = False
        if keys:
            with self._connection() as conn:
                wait, login_counted = self.throttle.wait(conn, keys, now)
            if wait > 0:
                with self.store.transaction() as conn:
                    audit_log.write(conn, action="auth", outcome=Outcome.THROTTLED.value, actor="verifier",
                                    login=_safe_login(login), source=source, detail=f"wait={wait:.0f}s", now=now)
                return Result(Outcome.THROTTLED, retry_after=wait)
        result = None
        for _ in range(_MAX_RETRIES):
            result = self._attempt(login, passcode, now, source)
            if result is not None:
                break
        else:
            with self.store.transaction() as conn:  # pathological contention: refuse, loudly in the audit
                audit_log.write(conn, action="auth", outcome="REJECT", actor="verifier", login=_safe_login(login),
                                source=source, detail="reason=contention", now=now)
            result = Result(Outcome.REJECT)
        if keys:
            if result.outcome in (Outcome.REJECT, Outcome.LOCKED):
                with self.store.transaction() as conn:
                    self.throttle.failed(conn, keys, now)
            elif login_counted:
                with self.store.transaction() as conn:
                    self.throttle.succeeded(conn, keys)
        return result

    def _attempt(self, login: str, passcode: str, now: float, source: str | None) -> Result | None:
        try:
            return self._attempt_once(login, passcode, now, source)
        except _Retry:
            return None

    def _attempt_once(self, login: str, passcode: str, now: float, source: str | None) -> Result | None:
        """Read (one statement), decide in memory, then write the decision guarded by its compare-and-set."""
        with self._connection() as conn:
            rows = conn.execute(_SELECT, {"login": login}).all() if isinstance(login, str) else []
            if any(r.state == "locked" and self._unlock_due(r, now) for r in rows):
                with self._transaction(conn) as tx:
                    self._timed_unlock(tx, rows, now)
                return None  # the unlock commits; then read again
            if not rows:
                urgent = self._urgent(conn, login, now)
                if urgent:  # a disabled (lost) token, and emergency access issued for its holder
                    return self._emergency(conn, urgent, [], login, passcode, now, source, "")
                self._decide(self._dummy_row, passcode, now)  # the work of a real check, on no real token
                with self._transaction(conn) as tx:
                    self.throttle.decoy(tx, login, now)  # a one-row write, as a counted failure makes
                    audit_log.write(tx, action="auth", outcome="REJECT", actor="verifier", login=_safe_login(login),
                                    source=source, detail=_unknown_detail(login), now=now)
                return Result(Outcome.REJECT)
            live = [r for r in rows if r.state != "locked"]
            if not live:
                for r in rows:  # a locked token costs what a wrong passcode costs: decided, then ignored
                    self._decide(r, passcode, now)
                with self._transaction(conn) as tx:
                    tx.execute(_TOUCH, {"b_id": rows[0].id, "now": now}).all()
                    audit_log.write(tx, action="auth", outcome="LOCKED", actor="verifier", login=login,
                                    serial=rows[0].serial, source=source, detail="reason=locked", now=now)
                return Result(Outcome.LOCKED)
            decisions = [self._decide(r, passcode, now) for r in live]
            win = next((d for d in decisions if d.outcome is not Outcome.REJECT), None)
            if win is None:
                reason = ",".join(sorted({d.reason for d in decisions}))
                urgent = self._urgent(conn, login, now)
                if urgent:  # the token is at home: emergency access, typed after the PIN
                    return self._emergency(conn, urgent, live, login, passcode, now, source, reason)
                with self._transaction(conn) as tx:
                    return self._fail(tx, live, login, now, source, reason)
            return self._succeed(conn, win, login, now, source)

    def _urgent(self, conn: sa.Connection, login: object, now: float) -> list:
        """The login's live emergency access (read only once the token's code failed or there is no token)."""
        if not isinstance(login, str):
            return []
        return conn.execute(emergency_rule.SELECT_LIVE, {"login": login, "now": now}).all()

    def _emergency(self, conn: sa.Connection, urgent: list, live: list, login: str, passcode: str, now: float,
                   source: str | None, token_reason: str) -> Result:
        """PIN + emergency code: one use (compare-and-set) on a match; otherwise a failure on the emergency and on
        the user's token in service, as a wrong token code; ``lockout_after`` failures end the emergency."""
        ring, s = self.store.ring, self.settings
        hits = [r for r in urgent if emergency_rule.matches(ring, s, r, passcode)]
        if hits:
            hit = hits[0]
            with self._transaction(conn) as tx:
                left = tx.execute(emergency_rule.USE, {"b_id": hit.id, "b_version": hit.version, "now": now}).first()
                if left is None:
                    raise _Retry  # another process used it first: read again and decide again
                audit_log.write(tx, action="auth", outcome=Outcome.ACCEPT.value, actor="verifier", login=login,
                                serial=hit.serial, source=source, detail=f"emergency; uses_left={left[0]}", now=now)
            return Result(Outcome.ACCEPT, None, login, hit.user_id)
        with self._transaction(conn) as tx:
            counted = [tx.execute(emergency_rule.FAIL, {"b_id": r.id, "limit": s.lockout_after, "now": now}).first()
                       for r in urgent]
            ended = any(c is not None and c.ended_at is not None for c in counted)
            reason = ",".join(filter(None, (token_reason, "emergency")))
            if live:
                result = self._fail(tx, live, login, now, source, reason)
            else:
                result = Result(Outcome.LOCKED if ended else Outcome.REJECT)
                counts = ",".join(str(c.fail_count) for c in counted if c is not None) or "-"
                audit_log.write(tx, action="auth", outcome=result.outcome.value, actor="verifier", login=login,
                                serial=urgent[0].serial, source=source,
                                detail=f"reason={reason}; failures={counts}", now=now)
            if ended:
                audit_log.write(tx, action="emergency.end", outcome="ok", actor="verifier", login=login,
                                detail="too many failures", now=now)
        return result

    @contextmanager
    def _connection(self) -> Iterator[sa.Connection]:
        """The connection of one attempt: PostgreSQL, an autocommit one (each statement its own transaction);
        SQLite, one transaction for the whole attempt (committed at the end, rolled back on any error)."""
        if self._one_statement:
            with self.store.autocommit_engine.connect() as conn:
                yield conn
        else:
            with self.store.transaction() as conn:
                yield conn

    @contextmanager
    def _transaction(self, conn: sa.Connection) -> Iterator[sa.Connection]:
        """Writes that stand or fall together: SQLite's attempt already is one transaction; PostgreSQL opens one."""
        if self._one_statement:
            with self.store.transaction() as tx:
                yield tx
        else:
            yield conn

    def _decide(self, row, passcode: str, now: float) -> _Decision:
        s = self.settings
        codes = TokenCodes(self.store.ring.open(row.serial, row.key_id, row.secret_ct), algo=row.algo,
                           digits=row.digits, period=row.period)
        d = row.digits
        if row.pin_hash is None:  # new-PIN mode: the code alone
            well_formed = len(passcode) == d
            check_pin(self.store.ring, "", self._dummy_pin)  # the same work as a PIN check
            pin_ok = True
            code = passcode if well_formed else ""
        else:
            well_formed = s.pin_min + d <= len(passcode) <= s.pin_max + d
            pin_ok = check_pin(self.store.ring, passcode[:-d] if well_formed else "", row.pin_hash)
            code = passcode[-d:] if well_formed else ""
        center = codes.step_of(now) + row.drift
        # The accept window first; the wider resync window only when the code matches nothing in it. A code
        # that matches an already used step in the window is a replay, even if it also happens to equal some
        # farther step's code. This reveals nothing about the PIN (checked above in every case) and spares the
        # common case 18 HMACs.
        matches = codes.matches(code, center, s.window) if code else []
        fresh = [m for m in matches if row.last_step is None or m > row.last_step]
        if not matches and code:
            matches = codes.matches(code, center, s.resync_window)
            fresh = [m for m in matches if row.last_step is None or m > row.last_step]
        if not well_formed:
            return _Decision(Outcome.REJECT, reason="format")
        if not pin_ok:
            return _Decision(Outcome.REJECT, reason="pin" if fresh else "pin+code")
        if not fresh:
            return _Decision(Outcome.REJECT, reason="replay" if matches else "code")
        step = fresh[0]
        if abs(step - center) > s.window:
            return _Decision(Outcome.NEXT_CODE_REQUIRED, row, step, "outside window")
        if row.fail_count >= s.next_code_after:
            return _Decision(Outcome.NEXT_CODE_REQUIRED, row, step, f"after {row.fail_count} failures")
        if row.pin_hash is None:
            return _Decision(Outcome.NEW_PIN_REQUIRED, row, step, "new PIN")
        return _Decision(Outcome.ACCEPT, row, step)

    def _succeed(self, conn: sa.Connection, win: _Decision, login: str, now: float, source: str | None) -> Result:
        """One compare-and-set on the token's version and the audit row (and the ticket), in one transaction;
        _Retry when another process changed the token since it was read."""
        row, step = win.token, win.step
        now_step = int(now // row.period)
        values: dict = {"last_step": step}
        if win.outcome is Outcome.ACCEPT:
            values |= {"drift": step - now_step, "fail_count": 0, "state": "active", "lock_count": 0}
        elif win.outcome is Outcome.NEW_PIN_REQUIRED:
            values |= {"drift": step - now_step}
        cas = {"b_id": row.id, "b_version": row.version, "version": row.version + 1, "updated_at": now,
               "last_step": step, "drift": values.get("drift", row.drift),
               "fail_count": values.get("fail_count", row.fail_count), "state": values.get("state", row.state),
               "lock_count": values.get("lock_count", row.lock_count)}
        entry = audit_log.row(action="auth", outcome=win.outcome.value, actor="verifier", login=login,
                              serial=row.serial, source=source, detail=win.reason or None, now=now)
        if win.outcome is Outcome.ACCEPT and self._one_statement:
            # One statement, so one transaction on the autocommit connection: the token and its audit row, or
            # neither (when the compare-and-set finds another version).
            point = health.params(row, cas["drift"], now)  # {} when no drift point is due (most logins)
            written = conn.execute(_CAS_THEN_AUDIT_POINT if point else _CAS_THEN_AUDIT,
                                   cas | {f"a_{k}": v for k, v in entry.items()} | point).first()
            if written is None:
                raise _Retry  # another process changed the token first: read again and decide again
            audit_log.logged(entry)
            return Result(win.outcome, None, login, row.user_id)
        ticket = None
        with self._transaction(conn) as tx:
            if not tx.execute(_CAS, cas).rowcount:
                raise _Retry  # another process changed the token first: read again and decide again
            health.record(tx, row, values.get("drift"), now)  # the drift history, when this learned a drift
            if win.outcome is not Outcome.ACCEPT:
                purpose = _NEW_PIN if win.outcome is Outcome.NEW_PIN_REQUIRED else _NEXT_CODE
                ticket = self._issue(tx, row.id, purpose, step, now)
            tx.execute(audit_log.INSERT, entry)
        audit_log.logged(entry)
        if win.outcome is Outcome.ACCEPT:
            return Result(win.outcome, None, login, row.user_id)
        return Result(win.outcome, ticket)

    def _fail(self, conn: sa.Connection, live: list, login: str, now: float, source: str | None,
              reason: str) -> Result:
        counted = self._count_failure(conn, [r.id for r in live], now)
        locked = not counted or all(state == "locked" for _id, _count, state in counted)
        outcome = Outcome.LOCKED if locked else Outcome.REJECT
        counts = ",".join(str(c) for _id, c, _state in counted) or "-"
        audit_log.write(conn, action="auth", outcome=outcome.value, actor="verifier", login=login,
                        serial=live[0].serial if len(live) == 1 else None, source=source,
                        detail=f"reason={reason}; failures={counts}", now=now)
        return Result(outcome)

    def _count_failure(self, conn: sa.Connection, ids: list[int], now: float) -> list[tuple[int, int, str]]:
        """One atomic, state-guarded increment: a token locks exactly when its count reaches the limit."""
        limit = self.settings.lockout_after
        counted = [tuple(r) for token_id in ids
                   for r in conn.execute(_COUNT_FAILURE, {"b_id": token_id, "limit": limit, "now": now})]
        # the statement only counts tokens in service: one that comes back locked was locked by this failure
        metrics.count_locks(sum(1 for _id, _count, state in counted if state == "locked"))
        return counted

    def lock_duration(self, lock_count: int) -> float | None:
        """How long the ``lock_count``-th lock in a row lasts (seconds), or None: until an administrator unlocks."""
        s = self.settings
        if s.unlock_after is None:
            return None
        return min(s.unlock_after * s.lock_growth ** min(max(lock_count - 1, 0), 40), s.unlock_max)

    def _unlock_due(self, row, now: float) -> bool:
        after = self.lock_duration(row.lock_count)
        return after is not None and row.locked_at is not None and now >= row.locked_at + after

    def _timed_unlock(self, conn: sa.Connection, rows: list, now: float) -> None:
        """Unlock tokens whose lock has expired; the next correct passcode still needs the next code."""
        for row in rows:
            if row.state == "locked" and self._unlock_due(row, now):
                done = conn.execute(
                    tokens.update().where(tokens.c.id == row.id, tokens.c.version == row.version)
                    .values(version=row.version + 1, updated_at=now, locked_at=None,
                            state="active" if row.pin_hash else "assigned",
                            fail_count=self.settings.next_code_after)
                ).rowcount
                if done:
                    audit_log.write(conn, action="token.unlock", outcome="active" if row.pin_hash else "assigned",
                                    actor="verifier", login=row.login, serial=row.serial,
                                    detail="timed unlock", now=now)

    # -- tickets -----------------------------------------------------------------------------------------------

    def _issue(self, conn: sa.Connection, token_id: int, purpose: str, step: int, now: float) -> str:
        ticket = secrets.token_urlsafe(32)
        conn.execute(tickets.delete().where(tickets.c.expires_at < now - 86400))  # keep the table small
        conn.execute(tickets.insert().values(digest=_digest(ticket), token_id=token_id, purpose=purpose, step=step,
                                             expires_at=now + self.settings.ticket_ttl))
        return ticket

    def _consume(self, conn: sa.Connection, ticket: object, purpose: str, now: float):
        """Use a ticket once: one conditional UPDATE; None when unknown, used, expired or for another purpose."""
        if not isinstance(ticket, str) or not 20 <= len(ticket) <= 100:
            return None
        return conn.execute(
            tickets.update()
            .where(tickets.c.digest == _digest(ticket), tickets.c.purpose == purpose, tickets.c.used_at.is_(None),
                   tickets.c.expires_at > now)
            .values(used_at=now)
            .returning(tickets.c.token_id, tickets.c.step)
        ).first()

    def _ticket_token(self, conn: sa.Connection, token_id: int):
        return conn.execute(sa.select(tokens, users.c.login).select_from(tokens.join(users))
                            .where(tokens.c.id == token_id)).first()

    # -- next code ---------------------------------------------------------------------------------------------

    def next_code(self, ticket: str, code: str, now: float | None = None, *, source: str | None = None) -> Result:
        """Answer NEXT_CODE_REQUIRED with the code alone: it must be the code right after the one that earned the
        ticket. Then the token learns its drift. ACCEPT, or NEW_PIN_REQUIRED (+ ticket) for a token without PIN."""
        now = time.time() if now is None else float(now)
        with self.store.transaction() as conn:
            used = self._consume(conn, ticket, _NEXT_CODE, now)
            row = self._ticket_token(conn, used.token_id) if used else None
            if row is None or row.state not in ("assigned", "active") or row.last_step != used.step:
                audit_log.write(conn, action="next_code", outcome="REJECT", actor="verifier",
                                login=row.login if row else None, serial=row.serial if row else None, source=source,
                                detail="reason=invalid ticket", now=now)
                return Result(Outcome.REJECT)
            codes = TokenCodes(self.store.ring.open(row.serial, row.key_id, row.secret_ct), algo=row.algo,
                               digits=row.digits, period=row.period)
            step = used.step + 1
            given = code.encode("utf-8", "replace") if isinstance(code, str) else b""
            ok = hmac.compare_digest(codes.code(step).encode(), given)
            if not ok:
                counted = self._count_failure(conn, [row.id], now)
                outcome = Outcome.LOCKED if not counted or counted[0][2] == "locked" else Outcome.REJECT
                audit_log.write(conn, action="next_code", outcome=outcome.value, actor="verifier", login=row.login,
                                serial=row.serial, source=source,
                                detail=f"reason=code; failures={counted[0][1] if counted else '-'}", now=now)
                return Result(outcome)
            new_pin = row.pin_hash is None
            values = {"last_step": step, "drift": step - codes.step_of(now), "fail_count": 0}
            if not new_pin:
                values |= {"state": "active", "lock_count": 0}
            done = conn.execute(
                tokens.update().where(tokens.c.id == row.id, tokens.c.last_step == used.step,
                                      tokens.c.state.in_(("assigned", "active")))
                .values(version=tokens.c.version + 1, updated_at=now, **values)
            ).rowcount
            if not done:  # the token changed meanwhile: the ticket stays used, nothing else is written
                audit_log.write(conn, action="next_code", outcome="REJECT", actor="verifier", login=row.login,
                                serial=row.serial, source=source, detail="reason=changed meanwhile", now=now)
                return Result(Outcome.REJECT)
            health.record(conn, row, values["drift"], now, "next_code")
            outcome = Outcome.NEW_PIN_REQUIRED if new_pin else Outcome.ACCEPT
            new_ticket = self._issue(conn, row.id, _NEW_PIN, step, now) if new_pin else None
            audit_log.write(conn, action="next_code", outcome=outcome.value, actor="verifier", login=row.login,
                            serial=row.serial, source=source, detail=f"drift={values['drift']:+d}", now=now)
            return Result(outcome, new_ticket) if new_pin else Result(outcome, None, row.login, row.user_id)

    # -- new PIN -----------------------------------------------------------------------------------------------

    def set_pin(self, ticket: str, pin: str, confirm: str, now: float | None = None, *,
                source: str | None = None) -> None:
        """Record the PIN chosen after NEW_PIN_REQUIRED (typed twice). Then the user logs in with PIN + a code of
        a later step. TicketError for a bad ticket; PinPolicyError (ticket still valid) for a refused PIN."""
        now = time.time() if now is None else float(now)
        if not isinstance(ticket, str) or not 20 <= len(ticket) <= 100:
            raise TicketError()
        with self.store.engine.connect() as conn:
            found = conn.execute(sa.select(tickets.c.id).where(
                tickets.c.digest == _digest(ticket), tickets.c.purpose == _NEW_PIN, tickets.c.used_at.is_(None),
                tickets.c.expires_at > now)).first()
        if found is None:
            raise TicketError()
        check_new_pin(pin, confirm, self.settings)
        stored = hash_pin(self.store.ring, pin, self.settings)
        with self.store.transaction() as conn:
            used = self._consume(conn, ticket, _NEW_PIN, now)
            if used is None:
                raise TicketError()
            row = self._ticket_token(conn, used.token_id)
            done = conn.execute(
                tokens.update().where(tokens.c.id == used.token_id, tokens.c.state == "assigned",
                                      tokens.c.pin_hash.is_(None), tokens.c.last_step == used.step)
                .values(version=tokens.c.version + 1, updated_at=now, pin_hash=stored, state="active")
            ).rowcount
            if not done:
                raise TicketError()  # the token was reset, unassigned or used meanwhile: nothing written
            audit_log.write(conn, action="set_pin", outcome="ok", actor="verifier", login=row.login,
                            serial=row.serial, source=source, now=now)
