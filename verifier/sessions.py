"""Web sessions as rows of the shared database (DESIGN.md §5, §9), for every web process and host alike.

The browser holds only a random id (256 bits). The row is found by a digest of that id, and the session's data is
sealed (AES-256-GCM) under a key derived from the id, so someone who reads the table can neither present a session
nor read what it holds (a ticket between the first-login steps, the CSRF token). Idle timeout and absolute
lifetime are checked here, on the server's clock; a row dated in the future is refused. Ending a session is
deleting its row: every process sees it at the next request. The store ends a user's sessions in the same
transaction as any administrative act that changes what the user may do (see ``end_user_sessions``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from verifier.schema import sessions, users
from verifier.settings import Settings

#: clocks of two hosts may differ by this much before a session dated in the future is refused
CLOCK_SKEW = 60.0
#: last_seen is written at most this often for a session that did not change (fewer writes per page)
TOUCH_EVERY = 60.0
_NONCE = 12


def new_id() -> str:
    """A fresh session id for the cookie (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def well_formed(raw: object) -> bool:
    return isinstance(raw, str) and 40 <= len(raw) <= 64 and raw.isascii()


def digest(raw: str) -> str:
    """The row key of a session id."""
    return hashlib.sha256(b"jeton-session-id\x00" + raw.encode()).hexdigest()


def _key(raw: str) -> bytes:
    return hashlib.sha256(b"jeton-session-key\x00" + raw.encode()).digest()


def seal(raw: str, data: dict) -> bytes:
    nonce = secrets.token_bytes(_NONCE)
    return nonce + AESGCM(_key(raw)).encrypt(nonce, json.dumps(data, separators=(",", ":")).encode(), None)


def unseal(raw: str, blob: bytes) -> dict | None:
    try:
        data = json.loads(AESGCM(_key(raw)).decrypt(blob[:_NONCE], blob[_NONCE:], None))
    except (InvalidTag, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class Loaded:
    """A live session read from its row."""

    data: dict
    user_id: int | None
    created_at: float
    last_seen: float


@dataclass(frozen=True)
class SessionInfo:
    """What a user or an administrator sees of an open session (never its id: ``ref`` is a digest prefix)."""

    ref: str
    login: str | None
    user_id: int | None
    created_at: float
    last_seen: float
    address: str | None
    agent: str | None


_LOAD = sa.select(sessions.c.data, sessions.c.user_id, sessions.c.created_at, sessions.c.last_seen).where(
    sessions.c.digest == sa.bindparam("digest"))
_DELETE = sessions.delete().where(sessions.c.digest == sa.bindparam("digest"))
_INSERT = sessions.insert()
_UPDATE = sessions.update().where(sessions.c.digest == sa.bindparam("b_digest"))


def end_user_sessions(conn: sa.Connection, user_id: int | None, *, keep: str | None = None) -> int:
    """End every session of a user (but ``keep``, a session id), in the caller's transaction; how many ended."""
    if user_id is None:
        return 0
    stmt = sessions.delete().where(sessions.c.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(sessions.c.digest != digest(keep))
    return conn.execute(stmt).rowcount


class Sessions:
    """Create, read, refresh and end web sessions in the store's database."""

    def __init__(self, engine: sa.Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def expired(self, created_at: float, last_seen: float, now: float) -> bool:
        s = self.settings
        return (now - last_seen > s.session_idle or now - created_at > s.session_lifetime
                or created_at > now + CLOCK_SKEW or last_seen > now + CLOCK_SKEW)

    def load(self, raw: str, now: float) -> Loaded | None:
        """The live session of a cookie's id; None (and the row deleted) when unknown, expired or unreadable."""
        if not well_formed(raw):
            return None
        key = digest(raw)
        with self.engine.connect() as conn:
            row = conn.execute(_LOAD, {"digest": key}).first()
        if row is None:
            return None
        data = unseal(raw, row.data)
        if data is None or self.expired(row.created_at, row.last_seen, now):
            with self.engine.begin() as conn:
                conn.execute(_DELETE, {"digest": key})
            return None
        return Loaded(data, row.user_id, row.created_at, row.last_seen)

    def create(self, data: dict, *, user_id: int | None, now: float, address: str | None = None,
               agent: str | None = None, replaces: str | None = None) -> str:
        """Store a new session (ending ``replaces``, the id it takes over from, in the same transaction)."""
        raw = new_id()
        with self.engine.begin() as conn:
            if replaces is not None and well_formed(replaces):
                conn.execute(_DELETE, {"digest": digest(replaces)})
            conn.execute(_INSERT, {"digest": digest(raw), "user_id": user_id, "created_at": now, "last_seen": now,
                                   "address": (address or "")[:100] or None, "agent": (agent or "")[:200] or None,
                                   "data": seal(raw, data)})
        return raw

    def save(self, raw: str, data: dict | None, *, user_id: int | None, now: float) -> bool:
        """Write a session's new data (or only its last_seen when ``data`` is None); False when it has ended."""
        values = {"b_digest": digest(raw), "last_seen": now}
        stmt = _UPDATE.values(last_seen=sa.bindparam("last_seen"))
        if data is not None:
            values |= {"data": seal(raw, data), "user_id": user_id}
            stmt = _UPDATE.values(last_seen=sa.bindparam("last_seen"), data=sa.bindparam("data"),
                                  user_id=sa.bindparam("user_id"))
        with self.engine.begin() as conn:
            return bool(conn.execute(stmt, values).rowcount)

    def delete(self, raw: str) -> None:
        if well_formed(raw):
            with self.engine.begin() as conn:
                conn.execute(_DELETE, {"digest": digest(raw)})

    def list(self, *, user_id: int | None = None, now: float) -> list[SessionInfo]:
        """Open sessions of logged-in users (one user's, or everybody's), most recently seen first."""
        s = self.settings
        stmt = (sa.select(sessions.c.digest, sessions.c.user_id, sessions.c.created_at, sessions.c.last_seen,
                          sessions.c.address, sessions.c.agent, users.c.login)
                .select_from(sessions.join(users))
                .where(sessions.c.last_seen >= now - s.session_idle, sessions.c.created_at >= now - s.session_lifetime)
                .order_by(sessions.c.last_seen.desc()))
        if user_id is not None:
            stmt = stmt.where(sessions.c.user_id == user_id)
        with self.engine.connect() as conn:
            return [SessionInfo(r.digest[:16], r.login, r.user_id, r.created_at, r.last_seen, r.address, r.agent)
                    for r in conn.execute(stmt)]

    def end(self, ref: str, *, user_id: int | None = None) -> bool:
        """End the session whose ``ref`` is given (only among ``user_id``'s when given)."""
        if not (isinstance(ref, str) and len(ref) == 16 and all(c in "0123456789abcdef" for c in ref)):
            return False
        stmt = sessions.delete().where(sessions.c.digest.startswith(ref, autoescape=True),
                                       sessions.c.user_id.is_not(None))
        if user_id is not None:
            stmt = stmt.where(sessions.c.user_id == user_id)
        with self.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount)

    def end_user(self, user_id: int, *, keep: str | None = None) -> int:
        with self.engine.begin() as conn:
            return end_user_sessions(conn, user_id, keep=keep)

    def purge(self, now: float) -> int:
        """Delete the rows of sessions that can no longer be used (idle or too old)."""
        s = self.settings
        with self.engine.begin() as conn:
            return conn.execute(sessions.delete().where(sa.or_(
                sessions.c.last_seen < now - s.session_idle,
                sessions.c.created_at < now - s.session_lifetime))).rowcount
