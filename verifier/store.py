"""The token store: users, tokens and their lifecycle, secrets sealed under the key ring, audit.

Every state change is one conditional UPDATE (compare-and-set on the row's ``version``), so two processes or two
hosts sharing the database never both apply a change computed from the same old row: the loser gets
ConcurrentChange and nothing is written.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from verifier import audit as audit_log
from verifier import db, emergency, rotation
from verifier.accounts import UserInfo, insert_user
from verifier.errors import (
    AlreadyAssigned,
    ConcurrentChange,
    DuplicateSerial,
    InvalidInput,
    InvalidState,
    LastAdministrator,
    ResyncError,
    TokenNotFound,
    UserNotFound,
)
from verifier.keyring import KeyRing
from verifier.schema import KINDS, ROLES, tickets, tokens, users
from verifier.sessions import end_user_sessions
from verifier.settings import Settings, settings_from_env
from verifier.token_rules import SERIAL_RE, ImportRecord, check_serial, check_token_params  # noqa: F401 (re-exported)

#: states whose token is held by a user (and counts for login)
HELD = ("assigned", "active", "locked")
#: states from which a token can be assigned
ASSIGNABLE = ("ready",)


@dataclass(frozen=True)
class TokenInfo:
    """What the store knows about a token, without its secret."""

    serial: str
    state: str
    kind: str
    login: str | None
    algo: str
    digits: int
    period: int
    model: str | None
    firmware: str | None
    operator: str | None
    created_at: float
    provisioned_at: float | None
    clock_offset: float | None
    state_reason: str | None
    assigned_at: float | None
    has_pin: bool
    drift: int
    last_step: int | None
    fail_count: int
    locked_at: float | None
    key_id: str

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


_TOKEN_COLUMNS = [c for c in tokens.c if c.name not in ("secret_ct",)]


def _token_info(row) -> TokenInfo:
    m = row._mapping
    return TokenInfo(
        serial=m["serial"], state=m["state"], kind=m["kind"], login=m["login"], algo=m["algo"], digits=m["digits"],
        period=m["period"], model=m["model"], firmware=m["firmware"], operator=m["operator"],
        created_at=m["created_at"], provisioned_at=m["provisioned_at"], clock_offset=m["clock_offset"],
        state_reason=m["state_reason"], assigned_at=m["assigned_at"], has_pin=m["pin_hash"] is not None,
        drift=m["drift"], last_step=m["last_step"], fail_count=m["fail_count"], locked_at=m["locked_at"],
        key_id=m["key_id"],
    )


@contextmanager
def _unique_serial(serial: str) -> Iterator[None]:
    """Turn the database's unique-serial violation (a concurrent insert) into DuplicateSerial."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        if "serial" in str(exc.orig).lower() or "unique" in str(exc.orig).lower():
            raise DuplicateSerial(serial) from None
        raise


def _now(now: float | None) -> float:
    return time.time() if now is None else float(now)


class Store:
    """Users, tokens and audit in one database, token secrets sealed under a key ring.

    Open it with :func:`verifier.open_store`. Methods taking ``actor`` write an audit row naming it.
    """

    def __init__(self, engine: sa.Engine, ring: KeyRing, settings: Settings | None = None) -> None:
        self.engine = engine
        self.ring = ring
        self.settings = settings or settings_from_env()
        #: PostgreSQL: a second pool whose connections commit each statement on its own, for the verifier's
        #: reads and one-statement writes (no BEGIN/COMMIT round trips); None on SQLite
        self.autocommit_engine: sa.Engine | None = (
            db.make_engine(engine.url, autocommit=True) if engine.dialect.name == "postgresql" else None)

    def close(self) -> None:
        """Close every pooled connection (also before forking: no connection may cross a fork)."""
        self.engine.dispose()
        if self.autocommit_engine is not None:
            self.autocommit_engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One database transaction (committed on success, rolled back on any error)."""
        with self.engine.begin() as conn:
            yield conn

    # -- users -----------------------------------------------------------------------------------------------

    def add_user(self, login: str, display_name: str = "", role: str = "teacher", *, actor: str = "system",
                 now: float | None = None) -> UserInfo:
        """Create a user (role ``teacher`` or ``admin``) in a transaction of its own; DuplicateLogin when the
        login exists. To create users inside a larger transaction, see :func:`insert_user`."""
        with self.transaction() as conn:
            return insert_user(conn, login, display_name, role, actor=actor, now=now)

    def find_user(self, login: str) -> UserInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.login == login)).first()
        return UserInfo(**row._mapping) if row else None

    def get_user(self, login: str) -> UserInfo:
        user = self.find_user(login)
        if user is None:
            raise UserNotFound(login)
        return user

    def list_users(self) -> list[UserInfo]:
        with self.engine.connect() as conn:
            return [UserInfo(**r._mapping) for r in conn.execute(sa.select(users).order_by(users.c.login))]

    def update_user(self, login: str, *, display_name: str | None = None, role: str | None = None,
                    actor: str = "system", now: float | None = None) -> UserInfo:
        """Change a user's display name and/or role."""
        if role is not None and role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}",
                           french=f"rôle inconnu : {', '.join(ROLES)} seulement")
        values = {k: v for k, v in (("display_name", display_name), ("role", role)) if v is not None}
        with self.transaction() as conn:
            found = conn.execute(sa.select(users.c.id, users.c.role).where(users.c.login == login)).first()
            if found is None:
                raise UserNotFound(login)
            change = users.update().where(users.c.id == found.id).values(**values)
            if found.role == "admin" and role not in (None, "admin"):
                # Demoting: one conditional UPDATE (only while another administrator exists), so that two
                # administrators demoting each other at once never leave none. PostgreSQL first locks the
                # administrators' rows (its UPDATEs would each see the other's row unchanged); SQLite's single
                # writer runs the two UPDATEs one after the other.
                conn.execute(sa.select(users.c.id).where(users.c.role == "admin").with_for_update()).all()
                other = users.alias("other")
                change = change.where(sa.select(other.c.id).where(other.c.role == "admin",
                                                                  other.c.id != found.id).exists())
                if not conn.execute(change).rowcount:
                    raise LastAdministrator(login)
            elif values:
                conn.execute(change)
            if role is not None and role != found.role:
                end_user_sessions(conn, found.id)  # what the user may do changed: every session ends now
            audit_log.write(conn, action="user.update", outcome="ok", actor=actor, login=login,
                            detail=", ".join(f"{k}={v}" for k, v in values.items()), now=_now(now))
        return self.get_user(login)

    def set_role(self, login: str, role: str, *, actor: str = "system") -> UserInfo:
        """Make a user a ``teacher`` or an ``admin``."""
        return self.update_user(login, role=role, actor=actor)

    # -- reading tokens --------------------------------------------------------------------------------------

    def _token_select(self):
        return sa.select(*_TOKEN_COLUMNS, users.c.login).select_from(tokens.outerjoin(users))

    def find_token(self, serial: str) -> TokenInfo | None:
        """The token with this serial, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(self._token_select().where(tokens.c.serial == serial)).first()
        return _token_info(row) if row else None

    def get_token(self, serial: str) -> TokenInfo:
        """The token with this serial; TokenNotFound otherwise."""
        token = self.find_token(serial)
        if token is None:
            raise TokenNotFound(serial)
        return token

    def list_tokens(self, *, state: str | None = None, login: str | None = None) -> list[TokenInfo]:
        """Tokens by serial, optionally only one state or one user's."""
        stmt = self._token_select().order_by(tokens.c.serial)
        if state is not None:
            stmt = stmt.where(tokens.c.state == state)
        if login is not None:
            stmt = stmt.where(users.c.login == login)
        with self.engine.connect() as conn:
            return [_token_info(r) for r in conn.execute(stmt)]

    def token_secret(self, serial: str, *, actor: str = "system", purpose: str = "read",
                     now: float | None = None) -> bytes:
        """The decrypted secret of a token (for a device check or an export); the read is audited."""
        with self.transaction() as conn:
            row = conn.execute(sa.select(tokens).where(tokens.c.serial == serial)).first()
            if row is None:
                raise TokenNotFound(serial)
            if row.state in ("retired", "failed"):
                raise InvalidState(serial, row.state, "read its secret (it was destroyed)")
            secret = self.ring.open(row.serial, row.key_id, row.secret_ct)
            audit_log.write(conn, action="token.secret_read", outcome="ok", actor=actor, serial=serial,
                            detail=f"purpose={purpose}", now=now)
        return secret

    # -- creating tokens -------------------------------------------------------------------------------------

    def _insert_token(self, conn: sa.Connection, serial: str, secret: bytes, state: str, now: float,
                      reuse: bool, **facts) -> int:
        key_id, blob = self.ring.seal(serial, secret)
        values = dict(serial=serial, key_id=key_id, secret_ct=blob, state=state, created_at=now, updated_at=now,
                      drift=0, last_step=None, fail_count=0, pin_hash=None, user_id=None, locked_at=None,
                      state_reason=None, provisioned_at=None, clock_offset=None, assigned_at=None, **facts)
        if reuse:
            old = conn.execute(sa.select(tokens.c.id, tokens.c.state, tokens.c.version)
                               .where(tokens.c.serial == serial)).first()
            if old is not None:
                if old.state not in ("failed", "retired"):
                    raise DuplicateSerial(serial)
                done = conn.execute(tokens.update().where(tokens.c.id == old.id, tokens.c.version == old.version)
                                    .values(version=old.version + 1, **values)).rowcount
                if not done:
                    raise ConcurrentChange(f"token {serial!r} changed meanwhile: try again",
                                       french=f"la clé {serial} a changé entre-temps : recommencez")
                return old.id
        if conn.execute(sa.select(tokens.c.id).where(tokens.c.serial == serial)).first() is not None:
            raise DuplicateSerial(serial)
        # a concurrent insert of the same serial still meets the unique constraint (see _unique_serial)
        return conn.execute(tokens.insert().values(**values)).inserted_primary_key[0]

    def create_pending_token(self, serial: str, secret: bytes, *, algo: str = "sha1", digits: int = 6,
                             period: int = 30, model: str | None = None, firmware: str | None = None,
                             operator: str | None = None, kind: str = "hardware", reuse: bool = False,
                             now: float | None = None) -> TokenInfo:
        """Phase 1 of seeding: record a token as ``pending``, its secret sealed, before the device holds it.

        DuplicateSerial when the serial exists (with ``reuse=True``, a ``failed`` or ``retired`` record of that
        serial is replaced instead).
        """
        check_serial(serial)
        check_token_params(algo, digits, period)
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
        if not 16 <= len(secret) <= 64:
            raise InvalidInput("a token secret is 16 to 64 bytes", french="le secret d'une clé a 16 à 64 octets")
        now = _now(now)
        with _unique_serial(serial), self.transaction() as conn:
            self._insert_token(conn, serial, secret, "pending", now, reuse, kind=kind, algo=algo, digits=digits,
                               period=period, model=model, firmware=firmware, operator=operator)
            audit_log.write(conn, action="token.create", outcome="pending", actor=operator or "system",
                            serial=serial, detail=f"model={model} firmware={firmware}", now=now)
        return self.get_token(serial)

    def import_token(self, serial: str, secret: bytes, *, algo: str = "sha1", digits: int = 6, period: int = 30,
                     drift: int = 0, model: str | None = None, source: str = "import", actor: str = "system",
                     now: float | None = None) -> TokenInfo:
        """Record a token that already holds its secret (PSKC or CSV import) as ``ready``."""
        check_serial(serial)
        check_token_params(algo, digits, period)
        if not 10 <= len(secret) <= 64:
            raise InvalidInput(f"token {serial}: a secret is 10 to 64 bytes",
                               french=f"clé {serial} : le secret doit avoir 10 à 64 octets")
        now = _now(now)
        with _unique_serial(serial), self.transaction() as conn:
            token_id = self._insert_token(conn, serial, secret, "ready", now, False, kind="hardware", algo=algo,
                                          digits=digits, period=period, model=model, operator=actor)
            conn.execute(tokens.update().where(tokens.c.id == token_id).values(drift=int(drift), provisioned_at=now))
            audit_log.write(conn, action="token.import", outcome="ready", actor=actor, serial=serial,
                            detail=f"from={source}", now=now)
        return self.get_token(serial)

    def create_software_token(self, login: str, *, serial: str | None = None, algo: str = "sha1", digits: int = 6,
                              period: int = 30, actor: str = "system",
                              now: float | None = None) -> tuple[TokenInfo, bytes]:
        """A software token (phone app) for ``login``, assigned at once (new PIN required): (token, secret).

        The caller shows the secret once, as an otpauth:// URI or QR code (:func:`verifier.otp.otpauth_uri`).
        """
        user = self.get_user(login)
        serial = serial or f"SW-{secrets.token_hex(5).upper()}"
        check_serial(serial)
        check_token_params(algo, digits, period)
        secret = secrets.token_bytes(32 if algo != "sha1" else 20)
        now = _now(now)
        with _unique_serial(serial), self.transaction() as conn:
            token_id = self._insert_token(conn, serial, secret, "assigned", now, False, kind="software", algo=algo,
                                          digits=digits, period=period, operator=actor)
            conn.execute(tokens.update().where(tokens.c.id == token_id)
                         .values(user_id=user.id, assigned_at=now, provisioned_at=now))
            audit_log.write(conn, action="token.create", outcome="assigned", actor=actor, serial=serial,
                            login=login, detail="software token", now=now)
        return self.get_token(serial), secret

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def _change(self, serial: str, action: str, allowed: tuple[str, ...] | None, values: dict, *, actor: str,
                now: float | None, login: str | None = None, detail: str | None = None,
                refuse=None, end_sessions: bool = False, end_emergency: bool = False) -> TokenInfo:
        """Read the token, check its state, then one compare-and-set UPDATE and an audit row; with
        ``end_sessions``, every session of the token's holder ends in the same transaction; with
        ``end_emergency`` (the token is found or replaced), the emergency access of its holder, old or new."""
        now = _now(now)
        with self.transaction() as conn:
            row = conn.execute(
                sa.select(tokens, users.c.login).select_from(tokens.outerjoin(users)).where(tokens.c.serial == serial)
            ).first()
            if row is None:
                raise TokenNotFound(serial)
            if allowed is not None and row.state not in allowed:
                if refuse is not None:
                    raise refuse(serial, row.state)
                raise InvalidState(serial, row.state, action, allowed)
            new = {k: (v(row) if callable(v) else v) for k, v in values.items()}
            done = conn.execute(
                tokens.update().where(tokens.c.id == row.id, tokens.c.version == row.version)
                .values(version=row.version + 1, updated_at=now, **new)
            ).rowcount
            if not done:
                raise ConcurrentChange(f"token {serial!r} changed meanwhile: try again",
                                       french=f"la clé {serial} a changé entre-temps : recommencez")
            conn.execute(tickets.delete().where(tickets.c.token_id == row.id, tickets.c.used_at.is_(None)))
            if end_sessions:
                end_user_sessions(conn, row.user_id)
            if end_emergency:
                for holder in {row.user_id, new.get("user_id")} - {None}:
                    emergency.end_for_user(conn, holder, login=login or row.login, actor=actor,
                                           reason=f"token {serial} {action}", now=now)
            audit_log.write(conn, action=f"token.{action}", outcome=new.get("state", row.state), actor=actor,
                            serial=serial, login=login or row.login, detail=detail, now=now)
        return self.get_token(serial)

    def mark_ready(self, serial: str, *, provisioned_at: float | None = None, clock_offset: float | None = None,
                   operator: str = "system", now: float | None = None) -> TokenInfo:
        """Phase 2 of seeding: the device proved it holds the secret and is locked; the token is ``ready``."""
        now = _now(now)
        return self._change(serial, "ready", ("pending",), {
            "state": "ready", "provisioned_at": now if provisioned_at is None else provisioned_at,
            "clock_offset": clock_offset, "state_reason": None,
        }, actor=operator, now=now, detail=None if clock_offset is None else f"clock_offset={clock_offset:+.1f}s")

    def mark_failed(self, serial: str, reason: str, *, operator: str = "system",
                    now: float | None = None) -> TokenInfo:
        """Seeding could not complete (device wiped): the record is ``failed`` and its secret destroyed."""
        return self._change(serial, "failed", ("pending",), {
            "state": "failed", "state_reason": reason[:200], "secret_ct": b"", "pin_hash": None,
        }, actor=operator, now=now, detail=reason)

    def retire_token(self, serial: str, reason: str = "retired", *, actor: str = "system",
                     now: float | None = None) -> TokenInfo:
        """Take a token out of service for good (wiped, broken): its secret and PIN are destroyed."""
        return self._change(serial, "retire", tuple(s for s in ("pending", "ready", "assigned", "active",
                                                                    "locked", "disabled", "failed")), {
            "state": "retired", "state_reason": reason[:200], "secret_ct": b"", "pin_hash": None, "user_id": None,
        }, actor=actor, now=now, detail=reason, end_sessions=True)

    def assign(self, serial: str, login: str, *, actor: str = "system", now: float | None = None) -> TokenInfo:
        """Give a ``ready`` token to a user; it then needs a new PIN. AlreadyAssigned if someone holds it."""
        user = self.get_user(login)
        now = _now(now)
        return self._change(serial, "assign", ASSIGNABLE, {
            "state": "assigned", "user_id": user.id, "assigned_at": now, "pin_hash": None, "fail_count": 0,
            "drift": 0, "locked_at": None, "lock_count": 0, "state_reason": None,
        }, actor=actor, now=now, login=login,
            refuse=lambda s, st: AlreadyAssigned(s, st) if st in HELD else InvalidState(s, st, "assign", ASSIGNABLE),
            end_emergency=True)

    def unassign(self, serial: str, *, actor: str = "system", now: float | None = None) -> TokenInfo:
        """Take a token back from its user: ``ready`` again, PIN, counters and drift reset."""
        return self._change(serial, "unassign", (*HELD, "disabled"), {
            "state": "ready", "user_id": None, "assigned_at": None, "pin_hash": None, "fail_count": 0, "drift": 0,
            "locked_at": None, "lock_count": 0, "state_reason": None,
        }, actor=actor, now=now, end_sessions=True, end_emergency=True)

    def unlock(self, serial: str, *, actor: str = "system", now: float | None = None) -> TokenInfo:
        """Unlock a locked token: failures reset, back to ``active`` (or ``assigned`` when it has no PIN)."""
        return self._change(serial, "unlock", ("locked",), {
            "state": lambda r: "active" if r.pin_hash else "assigned", "fail_count": 0, "locked_at": None,
            "lock_count": 0,
        }, actor=actor, now=now, end_emergency=True)

    def lock(self, serial: str, reason: str = "locked by an administrator", *, actor: str = "system",
             now: float | None = None) -> TokenInfo:
        """Lock a held token until an administrator unlocks it (no timer); its holder's sessions end."""
        return self._change(serial, "lock", ("assigned", "active"), {
            "state": "locked", "locked_at": None, "state_reason": reason[:200],
        }, actor=actor, now=now, detail=reason, end_sessions=True)

    def reset_pin(self, serial: str, *, actor: str = "system", now: float | None = None) -> TokenInfo:
        """Forget the PIN: the user chooses a new one at the next login (new-PIN mode), failures reset."""
        return self._change(serial, "reset_pin", HELD, {
            "state": "assigned", "pin_hash": None, "fail_count": 0, "locked_at": None, "lock_count": 0,
        }, actor=actor, now=now, end_sessions=True)

    def disable(self, serial: str, reason: str = "lost", *, actor: str = "system",
                now: float | None = None) -> TokenInfo:
        """Block a lost or stolen token at once (it keeps its user until unassigned)."""
        return self._change(serial, "disable", ("pending", "ready", *HELD), {
            "state": "disabled", "state_reason": reason[:200],
        }, actor=actor, now=now, detail=reason, end_sessions=True)

    def resync(self, serial: str, code1: str, code2: str, *, actor: str = "system",
               now: float | None = None) -> TokenInfo:
        """Learn a token's drift from two consecutive codes read off it (``admin_resync_window`` steps around
        now); failures reset. ResyncError when the pair is not found (or is older than the last accepted code)."""
        from verifier.otp import TokenCodes

        now = _now(now)
        token = self.get_token(serial)
        if token.state not in HELD:
            raise InvalidState(serial, token.state, "resync", HELD)
        codes = TokenCodes(self.token_secret(serial, actor=actor, purpose="resync", now=now), algo=token.algo,
                           digits=token.digits, period=token.period)
        now_step = codes.step_of(now)
        found = [s for s in codes.matches(str(code1), now_step, self.settings.admin_resync_window)
                 if codes.code(s + 1) == str(code2) and (token.last_step is None or s > token.last_step)]
        if not found:
            raise ResyncError(f"token {serial!r}: these two codes are not consecutive codes of this token near now "
                              "(read two fresh codes, one after the other)")
        step = found[0] + 1
        return self._change(serial, "resync", HELD, {
            "drift": step - now_step, "last_step": step, "fail_count": 0, "locked_at": None,
            "state": lambda r: "active" if r.pin_hash else "assigned",
        }, actor=actor, now=now, detail=f"drift={step - now_step:+d} steps")

    # -- emergency access (verifier.emergency) -------------------------------------------------------------

    def issue_emergency(self, login: str, *, until: float | None = None, uses: int | None = None,
                        actor: str = "system", now: float | None = None):
        """Emergency access for a user whose token is lost or at home: see :func:`verifier.emergency.issue`."""
        return emergency.issue(self, login, until=until, uses=uses, actor=actor, now=now)

    def end_emergency(self, login: str, *, actor: str = "system", now: float | None = None) -> int:
        """End a user's emergency access (0 when there was none)."""
        return emergency.end(self, login, actor=actor, now=now)

    def emergency_status(self, login: str, now: float | None = None):
        """The user's live emergency access, without its code, or None."""
        return emergency.status(self, login, now)

    # -- import and keys ---------------------------------------------------------------------------------------

    def import_records(self, records: list[ImportRecord], *, source: str, actor: str = "system",
                       now: float | None = None) -> list[str]:
        """Record tokens read from a file as ``ready``, all in one transaction: one bad or duplicate record and
        nothing is written (a preview that adds some and skips others: ``verifier.import_plan``). Returns the
        serials."""
        from verifier import import_plan  # batch inserts, one transaction (it imports this module)

        import_plan.check_records(records)
        if not records:
            return []
        import_plan.apply(self, import_plan.entries_of(records), source=source, actor=actor, now=now, strict=True)
        return [r.serial for r in records]

    def rotate_key(self, *, actor: str = "system", keep_old: bool = False, now: float | None = None) -> str:
        """Write a new primary key to the key file, re-encrypt every secret under it in batches, then (unless
        ``keep_old``) drop the old keys no row uses any more; a rotation that was interrupted is finished instead.
        Returns the primary key id. Every row stays readable with the key file on disk at every instant; other
        nodes must load the new key file (restart them). See :mod:`verifier.rotation`."""
        return rotation.rotate_key(self, actor=actor, keep_old=keep_old, now=now)

    # -- audit -------------------------------------------------------------------------------------------------

    def audit(self, *, login: str | None = None, serial: str | None = None, since: float | None = None,
              until: float | None = None, action: str | None = None, limit: int | None = None,
              outcomes: tuple[str, ...] | None = None) -> list[audit_log.AuditEntry]:
        """Audit rows, newest first (see :func:`verifier.audit.query`)."""
        with self.engine.connect() as conn:
            return audit_log.query(conn, login=login, serial=serial, since=since, until=until, action=action,
                                   limit=limit, outcomes=outcomes)

    def record(self, action: str, outcome: str = "ok", *, actor: str = "system", login: str | None = None,
               serial: str | None = None, source: str | None = None, detail: str | None = None) -> None:
        """Write an audit row for an act done elsewhere (e.g. an administrator's act in the web application)."""
        with self.transaction() as conn:
            audit_log.write(conn, action=action, outcome=outcome, actor=actor, login=login, serial=serial,
                            source=source, detail=detail)
