"""Emergency access for a lost or forgotten token (DESIGN.md §4; RSA Authentication Manager's "emergency
tokencode" is the model).

An administrator issues a temporary code for a user; the user types it after the PIN, in place of the token's
code, until it expires (by default at midnight, in the installation's time zone) or has been used its number of
times. The code is shown once and stored only peppered and salted, like a PIN (``verifier.pins``): a stolen
database alone reveals nothing. The PIN checked is that of the user's token when the code was issued, so the
emergency code alone opens nothing. It ends when used up, when an administrator ends it, and when the token is
found or replaced (unlock, assign, unassign: see ``Store._change``).

The rule lives here and in ``Verifier.authenticate``, so every front end (the booklet's login, RADIUS) gets it with
no code of its own: an attempt goes through the same throttling, a wrong emergency code counts as a failure on
the emergency (and on the user's token when it is in service), and ``lockout_after`` failures end the emergency.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from verifier import audit as audit_log
from verifier.errors import ConflictError, InvalidInput, UserNotFound
from verifier.pins import check_pin, hash_pin
from verifier.schema import emergency, tokens, users
from verifier.settings import Settings

#: token states whose PIN an emergency code may be typed after (in service, or disabled as lost)
USABLE = ("active", "disabled")
_MAX_USES = 100


class EmergencyError(ConflictError):
    """Emergency access cannot be issued to this user now (no token with a PIN, or a locked token)."""


@dataclass(frozen=True)
class IssuedCode:
    """A freshly issued emergency code: show ``code`` once, never store or log it."""

    login: str
    serial: str
    code: str = field(repr=False)
    expires_at: float
    uses: int


@dataclass(frozen=True)
class EmergencyStatus:
    """A live emergency access, without its code."""

    login: str
    serial: str
    issued_at: float
    issued_by: str
    expires_at: float
    uses_left: int


def end_of_day(now: float, timezone: str) -> float:
    """The next midnight after ``now`` in ``timezone`` (Unix seconds)."""
    zone = ZoneInfo(timezone)
    local = datetime.fromtimestamp(now, zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return midnight.timestamp()


def _check_terms(settings: Settings, now: float, until: float | None, uses: int | None) -> tuple[float, int]:
    expires = end_of_day(now, settings.timezone) if until is None else float(until)
    if not now < expires <= now + settings.emergency_max_days * 86400:
        raise InvalidInput("the end of an emergency access must be in the future, within "
                           f"{settings.emergency_max_days:g} days",
                           french="la fin de l'accès de secours doit être dans le futur, dans les "
                                  f"{settings.emergency_max_days:g} jours")
    uses = settings.emergency_uses if uses is None else uses
    if not isinstance(uses, int) or not 1 <= uses <= _MAX_USES:
        raise InvalidInput(f"an emergency access allows 1 to {_MAX_USES} logins",
                           french=f"un accès de secours permet de 1 à {_MAX_USES} connexions")
    return expires, uses


def issue(store, login: str, *, until: float | None = None, uses: int | None = None, actor: str = "system",
          now: float | None = None) -> IssuedCode:
    """Issue emergency access for ``login``: a new code, valid until ``until`` (default: the end of the day)
    for ``uses`` logins (default: ``Settings.emergency_uses``). A live emergency access of the user ends first.
    EmergencyError when the user has no token with a PIN in service or disabled, or when it is locked."""
    settings = store.settings
    now = time.time() if now is None else float(now)
    expires, uses = _check_terms(settings, now, until, uses)
    code = f"{secrets.randbelow(10 ** settings.emergency_digits):0{settings.emergency_digits}d}"
    stored = hash_pin(store.ring, code, settings)
    with store.transaction() as conn:
        user = conn.execute(sa.select(users.c.id).where(users.c.login == login)).first()
        if user is None:
            raise UserNotFound(login)
        held = conn.execute(sa.select(tokens.c.id, tokens.c.serial, tokens.c.state, tokens.c.pin_hash)
                            .where(tokens.c.user_id == user.id, tokens.c.state.in_((*USABLE, "locked", "assigned")))
                            .order_by(tokens.c.assigned_at.desc(), tokens.c.id.desc())).all()
        token = next((t for t in held if t.state in USABLE and t.pin_hash), None)
        if token is None:
            if any(t.state == "locked" for t in held):
                raise EmergencyError(f"{login}'s token is locked: unlock it first",
                                     french=f"la clé de {login} est verrouillée : déverrouillez-la d'abord")
            raise EmergencyError(f"{login} has no token with a PIN: the emergency code is typed after the PIN",
                                 french=f"{login} n'a pas de clé avec un PIN : le code de secours se tape après le "
                                        "PIN ; attribuez-lui plutôt une clé de remplacement")
        end_for_user(conn, user.id, login=login, actor=actor, reason="replaced by a new one", now=now)
        conn.execute(emergency.insert().values(user_id=user.id, token_id=token.id, code_hash=stored, issued_at=now,
                                               issued_by=(actor or "system")[:64], expires_at=expires,
                                               uses_left=uses, fail_count=0, ended_at=None, version=0))
        until_text = datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds")
        audit_log.write(conn, action="emergency.issue", outcome="ok", actor=actor, login=login, serial=token.serial,
                        detail=f"until={until_text}; uses={uses}", now=now)
    return IssuedCode(login, token.serial, code, expires, uses)


def end_for_user(conn: sa.Connection, user_id: int | None, *, login: str | None, actor: str, reason: str,
                 now: float) -> int:
    """End the user's live emergency access in the caller's transaction (audited when there was one)."""
    if user_id is None:
        return 0
    ended = conn.execute(emergency.update().where(emergency.c.user_id == user_id, emergency.c.ended_at.is_(None))
                         .values(ended_at=now, version=emergency.c.version + 1)).rowcount
    if ended:
        audit_log.write(conn, action="emergency.end", outcome="ok", actor=actor, login=login, detail=reason, now=now)
    return ended


def end(store, login: str, *, actor: str = "system", reason: str = "ended by an administrator",
        now: float | None = None) -> int:
    """End ``login``'s emergency access; returns how many were live (0 or 1). UserNotFound for an unknown login."""
    now = time.time() if now is None else float(now)
    with store.transaction() as conn:
        user_id = conn.execute(sa.select(users.c.id).where(users.c.login == login)).scalar()
        if user_id is None:
            raise UserNotFound(login)
        return end_for_user(conn, user_id, login=login, actor=actor, reason=reason, now=now)


_LIVE = (emergency.c.ended_at.is_(None), emergency.c.uses_left > 0)


def status(store, login: str, now: float | None = None) -> EmergencyStatus | None:
    """The user's live emergency access (never its code), or None."""
    now = time.time() if now is None else float(now)
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(users.c.login, tokens.c.serial, emergency.c.issued_at, emergency.c.issued_by,
                      emergency.c.expires_at, emergency.c.uses_left)
            .select_from(emergency.join(users).join(tokens, tokens.c.id == emergency.c.token_id))
            .where(users.c.login == login, emergency.c.expires_at > now, *_LIVE)
            .order_by(emergency.c.id.desc())).first()
    return EmergencyStatus(*row) if row else None


# -- the rule, as Verifier.authenticate applies it ------------------------------------------------------------

#: the live emergency access of a login, with the PIN it is typed after
SELECT_LIVE = (
    sa.select(emergency.c.id, emergency.c.version, emergency.c.code_hash, emergency.c.uses_left,
              emergency.c.fail_count, emergency.c.user_id, tokens.c.pin_hash, tokens.c.serial)
    .select_from(emergency.join(users).join(tokens, tokens.c.id == emergency.c.token_id))
    .where(users.c.login == sa.bindparam("login"), emergency.c.expires_at > sa.bindparam("now", type_=sa.Float),
           *_LIVE, tokens.c.user_id == emergency.c.user_id, tokens.c.state.in_(USABLE),
           tokens.c.pin_hash.is_not(None))
    .order_by(emergency.c.id)
)
_USE_LEFT = emergency.c.uses_left - 1
#: one use, guarded by the version read: two processes never both use the last use
USE = (
    emergency.update()
    .where(emergency.c.id == sa.bindparam("b_id"), emergency.c.version == sa.bindparam("b_version"),
           emergency.c.ended_at.is_(None), emergency.c.uses_left > 0)
    .values(uses_left=_USE_LEFT, fail_count=0, version=emergency.c.version + 1,
            ended_at=sa.case((_USE_LEFT <= 0, sa.bindparam("now", type_=sa.Float)), else_=None))
    .returning(emergency.c.uses_left)
)
_NEW_COUNT = emergency.c.fail_count + 1
#: one failure, atomically; the ``lockout_after``-th ends the emergency access
FAIL = (
    emergency.update()
    .where(emergency.c.id == sa.bindparam("b_id"), emergency.c.ended_at.is_(None))
    .values(fail_count=_NEW_COUNT, version=emergency.c.version + 1,
            ended_at=sa.case((_NEW_COUNT >= sa.bindparam("limit"), sa.bindparam("now", type_=sa.Float)),
                             else_=None))
    .returning(emergency.c.fail_count, emergency.c.ended_at)
)


def matches(ring, settings: Settings, row, passcode: str) -> bool:
    """Whether ``passcode`` is the row's PIN followed by its emergency code (both checked in every case)."""
    d = settings.emergency_digits
    well_formed = settings.pin_min + d <= len(passcode) <= settings.pin_max + d
    pin_ok = check_pin(ring, passcode[:-d] if well_formed else "", row.pin_hash)
    code_ok = check_pin(ring, passcode[-d:] if well_formed else "", row.code_hash)
    return well_formed and pin_ok and code_ok
