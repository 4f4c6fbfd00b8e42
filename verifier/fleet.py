"""The fleet's lists: tokens and users found by search and filters, sorted, a page at a time with the total count.

One rule for every front end (the booklet's console today, ``jeton-admin`` tomorrow). A page costs three queries
(the count, the rows, their holders or their tokens), and a search one more (the users it matches): never one
query per row. Fast at 100,000
tokens and users on SQLite and PostgreSQL: besides the unique serial and login and ``tokens.user_id``, migration
0006 indexes ``tokens (state, serial)``, ``tokens (fail_count)`` and ``users (role)``.

    from verifier import fleet
    with store.engine.connect() as conn:
        found = fleet.token_page(conn, fleet.TokenQuery(search="dup", states=("active",)), page=2, now=now)
    found.rows, found.total, found.page, found.pages

The verifier knows nothing of classes: a front end that filters by class passes the ids of the class's teachers
(``holder_ids`` for tokens, ``ids`` for users).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import sqlalchemy as sa

from verifier.schema import ROLES, TOKEN_STATES, tokens, users

PER_PAGE = 50
DAY = 86_400.0
#: the longest search text; a longer one is cut (a serial is 16 characters, a login 64)
SEARCH_MAX = 64
#: a search matching at most this many users passes their ids to the token query; more, a subquery
HOLDERS_INLINE = 1000

Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a list: its rows, the number of rows matching in all, this page's number (1-based, at most
    ``pages``) and the number of pages (at least 1)."""

    rows: list[Row]
    total: int
    page: int
    pages: int
    per_page: int = PER_PAGE

    @property
    def first(self) -> int:
        """The position of this page's first row in the whole list (1-based; 0 when the list is empty)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)


@dataclass(frozen=True)
class TokenQuery:
    """Which tokens, in what order. Every filter is optional; given filters combine (AND).

    ``search``: part of the serial, or of the holder's login or name (case-insensitive).
    ``states``: any of these states. ``holder_ids``: held by one of these users (an empty tuple matches nothing).
    ``never_used``: no accepted code since its assignment (or ever, for a token never assigned).
    ``unused_days``: idle for at least that many days: neither an accepted code, nor an assignment, nor its
    creation in that time. ``min_failures``: at least that many failures in a row (``fail_count``).
    ``sort``: ``serial`` (default), ``state``, ``failures`` (most first) or ``last_use`` (least recent first).
    """

    search: str = ""
    states: tuple[str, ...] = ()
    holder_ids: tuple[int, ...] | None = None
    never_used: bool = False
    unused_days: int | None = None
    min_failures: int | None = None
    sort: str = "serial"


@dataclass(frozen=True)
class TokenRow:
    """A token as a list shows it (never its secret or PIN)."""

    serial: str
    state: str
    kind: str
    model: str | None
    login: str | None
    display_name: str | None
    fail_count: int
    #: when its last accepted code was current (Unix seconds), or None when it never accepted one
    last_used_at: float | None
    assigned_at: float | None
    locked_at: float | None
    state_reason: str | None


@dataclass(frozen=True)
class UserQuery:
    """Which users, in what order. ``search``: part of the login or name (case-insensitive); ``role``: ``teacher``
    or ``admin``; ``ids``: only these users (an empty tuple matches nothing); ``has_token``: True for users holding
    at least one token, False for those holding none; ``sort``: ``login`` (default), ``name`` or ``created``
    (newest first)."""

    search: str = ""
    role: str | None = None
    ids: tuple[int, ...] | None = None
    has_token: bool | None = None
    sort: str = "login"


@dataclass(frozen=True)
class UserRow:
    id: int
    login: str
    display_name: str
    role: str
    created_at: float
    #: the tokens the user holds, as (serial, state), by serial
    tokens: tuple[tuple[str, str], ...] = field(default=())


TOKEN_SORTS = ("serial", "state", "failures", "last_use")
USER_SORTS = ("login", "name", "created")

_last_use = tokens.c.last_step * tokens.c.period  # within a step of the time the code was accepted (drift aside)


_ZERO = sa.literal_column("0")  # inline, not a bound parameter: an expression index matches literals only


def _idle_since(conn: sa.Connection):
    """When a token was last active: its last accepted code, its assignment or its creation, whichever is latest.
    Written exactly as the expression indexes of migration 0007 (``ix_tokens_idle_since``, after the state
    ``ix_tokens_state_idle_since``): SQLite's scalar max(), PostgreSQL's GREATEST."""
    greatest = sa.func.max if conn.dialect.name == "sqlite" else sa.func.greatest
    return greatest(sa.func.coalesce(_last_use, _ZERO), sa.func.coalesce(tokens.c.assigned_at, _ZERO),
                    tokens.c.created_at)


def _unindexed(column):
    """``column`` as an expression no index serves (``column || ''``): for a filter that keeps most rows (the
    teachers among users, the active tokens of a class's teachers), so that the planner, without statistics, does
    not walk that filter's index (a lookup per row) instead of a better one or a plain scan."""
    return column.op("||")(sa.literal_column("''"))


def _like(term: str) -> str:
    return term.strip()[:SEARCH_MAX]


#: SQLite: the trigram index of users' logins and names (migration 0007), when this SQLite could make it
_users_search = sa.table("users_search", sa.column("rowid"), sa.column("users_search"))
TRIGRAM = 3  # a trigram index finds terms of at least 3 characters


def _has_users_search(conn: sa.Connection) -> bool:
    found = conn.info.get("jeton_users_search")
    if found is None:
        found = conn.info["jeton_users_search"] = conn.execute(sa.text(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users_search'")).first() is not None
    return found


def _user_matches(conn: sa.Connection, term: str):
    """The user's login or name contains ``term``, ignoring case. On SQLite, a term of 3 characters or more is
    looked up in the trigram index ``users_search`` (migration 0007: an FTS5 phrase of the term is exactly "contains
    it"; its case folding covers letters beyond ASCII too); else, as on PostgreSQL, a LIKE on each."""
    if conn.dialect.name == "sqlite" and len(term) >= TRIGRAM and _has_users_search(conn):
        phrase = '"' + term.replace('"', '""') + '"'
        return users.c.id.in_(sa.select(_users_search.c.rowid).where(_users_search.c.users_search.match(phrase)))
    return sa.or_(_contains(conn, users.c.login, term), _contains(conn, users.c.display_name, term))


def _contains(conn: sa.Connection, column, term: str):
    """``column`` contains ``term``, ignoring case: SQLite's LIKE already ignores the case of ASCII letters (and its
    ``lower()`` knows no other); on PostgreSQL, ``lower(column) LIKE``, which the trigram indexes of migration 0007
    serve (``ix_users_login_trgm``, ``ix_users_name_trgm``)."""
    if conn.dialect.name == "sqlite":
        return column.contains(term, autoescape=True)
    return sa.func.lower(column).contains(term.lower(), autoescape=True)


def _holders_matching(conn: sa.Connection, term: str):
    """The ids of the users whose login or name contains ``term`` (one pass over users, not one per token)."""
    return sa.select(users.c.id).where(_user_matches(conn, term))


def _search(conn: sa.Connection, term: str) -> tuple:
    """(the serial contains ``term``, the holder's login or name contains it), as two clauses on ``tokens``.

    Serials are upper case: on SQLite a plain substring test, cheaper than LIKE; on PostgreSQL a LIKE, which the
    trigram index of migration 0006 serves (``ix_tokens_serial_trgm``). The users matching are read once, here,
    when they are few (then each test is an index lookup); when many, the second clause is a subquery."""
    upper = term.upper()
    serial = (sa.func.instr(tokens.c.serial, upper) > 0 if conn.dialect.name == "sqlite"
              else tokens.c.serial.contains(upper, autoescape=True))
    found = conn.execute(_holders_matching(conn, term).limit(HOLDERS_INLINE + 1)).scalars().all()
    if len(found) > HOLDERS_INLINE:
        return serial, tokens.c.user_id.in_(_holders_matching(conn, term))
    return serial, tokens.c.user_id.in_(found) if found else sa.false()


def _token_filters(conn: sa.Connection, q: TokenQuery, now: float) -> tuple[list, tuple | None]:
    """The WHERE clauses of ``q`` but the search (on ``tokens`` alone: the count needs no join), and the search's
    two clauses (see :func:`_search`), or None."""
    where = []
    term = _like(q.search)
    search = _search(conn, term) if term else None
    states = tuple(s for s in q.states if s in TOKEN_STATES)
    if q.states:  # with a few holders, their tokens by ``tokens.user_id``, not every active token by state
        state = _unindexed(tokens.c.state) if q.holder_ids is not None else tokens.c.state
        where.append(state.in_(states) if states else sa.false())
    if q.holder_ids is not None:
        where.append(tokens.c.user_id.in_(q.holder_ids) if q.holder_ids else sa.false())
    if q.never_used:
        where.append(sa.or_(tokens.c.last_step.is_(None),
                            sa.and_(tokens.c.assigned_at.is_not(None), _last_use < tokens.c.assigned_at)))
    if q.unused_days is not None:
        where.append(_idle_since(conn) < now - max(0, q.unused_days) * DAY)
    if q.min_failures is not None:
        where.append(tokens.c.fail_count >= q.min_failures)
    return where, search


def _order(q: TokenQuery) -> list:
    if q.sort == "state":
        return [tokens.c.state, tokens.c.serial]
    if q.sort == "failures":
        return [tokens.c.fail_count.desc(), tokens.c.serial]
    if q.sort == "last_use":
        return [_last_use.asc().nulls_first(), tokens.c.serial]
    return [tokens.c.serial]


def _paged(total: int, page: int, per_page: int) -> tuple[int, int, int]:
    """(page clamped to 1..pages, pages, offset): a page past the end is the last one."""
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, int(page)), pages)
    return page, pages, (page - 1) * per_page


def token_page(conn: sa.Connection, q: TokenQuery = TokenQuery(), *, page: int = 1, per_page: int = PER_PAGE,
               now: float) -> Page[TokenRow]:
    """The tokens matching ``q``, page ``page`` (``per_page`` rows), with their holders; ``now`` (Unix seconds)
    is the time the idle filters count from."""
    where, search = _token_filters(conn, q, now)
    if search is None:
        count = sa.select(sa.func.count()).select_from(tokens).where(*where)
    else:  # counted as a union: each half is one cheap pass (the serials' index, the holders' lookups)
        count = sa.select(sa.func.count()).select_from(
            sa.union(*(sa.select(tokens.c.id).where(half, *where) for half in search)).subquery())
        where = [*where, sa.or_(*search)]
    total = conn.execute(count).scalar_one()
    page, pages, offset = _paged(total, page, per_page)
    if not total:
        return Page([], 0, page, pages, per_page)
    found = conn.execute(sa.select(tokens.c.serial, tokens.c.state, tokens.c.kind, tokens.c.model, tokens.c.user_id,
                                   tokens.c.fail_count, tokens.c.last_step, tokens.c.period, tokens.c.assigned_at,
                                   tokens.c.locked_at, tokens.c.state_reason)
                         .where(*where).order_by(*_order(q)).limit(per_page).offset(offset)).all()
    # the holders of this page only, once the page is cut (a join before the OFFSET would look up every row skipped)
    held = {r.user_id for r in found} - {None}
    holders = {u.id: u for u in conn.execute(sa.select(users.c.id, users.c.login, users.c.display_name)
                                             .where(users.c.id.in_(held)))} if held else {}
    rows = []
    for r in found:
        holder = holders.get(r.user_id)
        rows.append(TokenRow(r.serial, r.state, r.kind, r.model, holder and holder.login,
                             holder and holder.display_name, r.fail_count,
                             None if r.last_step is None else float(r.last_step * r.period), r.assigned_at,
                             r.locked_at, r.state_reason))
    return Page(rows, total, page, pages, per_page)


def _user_filters(conn: sa.Connection, q: UserQuery) -> list:
    where = []
    term = _like(q.search)
    if term:
        where.append(_user_matches(conn, term))
    if q.role is not None:  # the administrators are few (``ix_users_role``), the teachers nearly everyone
        role = users.c.role if q.role == "admin" else _unindexed(users.c.role)
        where.append(role == q.role if q.role in ROLES else sa.false())
    if q.ids is not None:
        where.append(users.c.id.in_(q.ids) if q.ids else sa.false())
    if q.has_token is not None:
        holds = sa.select(tokens.c.id).where(tokens.c.user_id == users.c.id).exists()
        where.append(holds if q.has_token else ~holds)
    return where


def _user_count(q: UserQuery, where: list):
    """How many users match. "With a token" or "without" alone is counted from the holders' index (the users
    minus, or just, the distinct ``tokens.user_id``): one pass over an index rather than a lookup per user."""
    if q.has_token is not None and not _like(q.search) and q.role is None and q.ids is None:
        holders = sa.select(sa.func.count(tokens.c.user_id.distinct())).scalar_subquery()
        if q.has_token:
            return sa.select(holders)
        return sa.select(sa.select(sa.func.count()).select_from(users).scalar_subquery() - holders)
    return sa.select(sa.func.count()).select_from(users).where(*where)


def user_page(conn: sa.Connection, q: UserQuery = UserQuery(), *, page: int = 1,
              per_page: int = PER_PAGE) -> Page[UserRow]:
    """The users matching ``q``, page ``page``, each with the tokens they hold."""
    where = _user_filters(conn, q)
    total = conn.execute(_user_count(q, where)).scalar_one()
    page, pages, offset = _paged(total, page, per_page)
    order = {"name": [users.c.display_name, users.c.login], "created": [users.c.created_at.desc(), users.c.login]}
    stmt = (sa.select(users.c.id, users.c.login, users.c.display_name, users.c.role, users.c.created_at)
            .where(*where).order_by(*order.get(q.sort, [users.c.login])).limit(per_page).offset(offset))
    found = conn.execute(stmt).all() if total else []
    held: dict[int, list[tuple[str, str]]] = {}
    if found:
        for r in conn.execute(sa.select(tokens.c.user_id, tokens.c.serial, tokens.c.state)
                              .where(tokens.c.user_id.in_([u.id for u in found])).order_by(tokens.c.serial)):
            held.setdefault(r.user_id, []).append((r.serial, r.state))
    rows = [UserRow(u.id, u.login, u.display_name, u.role, u.created_at, tuple(held.get(u.id, ()))) for u in found]
    return Page(rows, total, page, pages, per_page)


def count_administrators(conn: sa.Connection) -> int:
    """How many users are administrators (``users.role`` is indexed: no scan of every user)."""
    return conn.execute(sa.select(sa.func.count()).select_from(users).where(users.c.role == "admin")).scalar_one()
