"""Users in the token store: the login rule and the creation of a user inside a caller's transaction.

Shared by :class:`verifier.store.Store` (``add_user``) and the booklet's roster import (many users, one transaction),
and by :mod:`verifier.typed_login` (what a login looks like). Needs no key ring.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import sqlalchemy as sa

from verifier import audit as audit_log
from verifier.errors import DuplicateLogin, InvalidInput
from verifier.schema import ROLES, users

# Logins are never digits only, so a passcode typed into the login field is never mistaken for one.
LOGIN_RE = re.compile(r"^(?![0-9]+$)[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class UserInfo:
    id: int
    login: str
    display_name: str
    role: str
    created_at: float


def check_login(login: str) -> str:
    if not isinstance(login, str) or not LOGIN_RE.match(login):
        raise InvalidInput("a login is 1 to 64 characters (letters, digits, . _ @ -), not digits only",
                           french="un identifiant a 1 à 64 caractères (lettres, chiffres, . _ @ -), "
                                  "pas uniquement des chiffres")
    return login


def insert_user(conn: sa.Connection, login: str, display_name: str = "", role: str = "teacher", *,
                actor: str = "system", now: float | None = None) -> UserInfo:
    """Create a user inside the caller's transaction: the login and role checks, the ``users`` row and its
    ``user.add`` audit row. Nothing is committed here, so a caller importing many users (the booklet's roster)
    keeps all-or-nothing. Needs no key ring. InvalidInput for a bad login or role and DuplicateLogin for a login
    that exists, both before anything is written; a concurrent insert of the same login also ends in
    DuplicateLogin, and then the caller's transaction must be rolled back (let the error propagate)."""
    check_login(login)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}",
                           french=f"rôle inconnu : {', '.join(ROLES)} seulement")
    if conn.execute(sa.select(users.c.id).where(users.c.login == login)).first() is not None:
        raise DuplicateLogin(login)
    now = time.time() if now is None else float(now)
    try:
        new_id = conn.execute(
            users.insert().values(login=login, display_name=display_name or "", role=role, created_at=now)
        ).inserted_primary_key[0]
    except sa.exc.IntegrityError:
        raise DuplicateLogin(login) from None
    audit_log.write(conn, action="user.add", outcome="ok", actor=actor, login=login, detail=f"role={role}", now=now)
    return UserInfo(new_id, login, display_name or "", role, now)
