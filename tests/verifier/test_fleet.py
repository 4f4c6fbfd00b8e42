"""The fleet's lists (issue 17, item 1): tokens and users by search, filters, sort and page, with the total count,
on SQLite and PostgreSQL; and the indexes of migration 0006 are those of the schema."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from verifier import fleet
from verifier.fleet import TokenQuery, UserQuery
from verifier.schema import metadata, tokens

T0 = 1_800_000_000.0
DAY = 86_400


@pytest.fixture
def district(store):
    """Twelve teachers and two administrators; tokens in every state the console filters on.

    - JT-0001..JT-0012 imported on day -150, assigned to prof01..prof12 on day -100;
      prof01..prof04 logged in on day -1, prof05..prof08 on day -40, prof09..prof12 never since assignment;
    - JT-0005 locked after 10 failures, JT-0006 with 3 failures; JT-0012 disabled (lost);
    - JT-0100, JT-0101 ready (created on day -200 and day -2), JT-0102 retired.
    Times are planted directly in the rows, as the verifier writes them at each accepted login."""
    for i in range(1, 13):
        store.add_user(f"prof{i:02d}", f"Professeur {'Éloïse' if i == 3 else 'Jean'} Dupont{i:02d}", "teacher",
                       now=T0 - 300 * DAY)
    store.add_user("chef", "Anne Durand", "admin", now=T0 - 300 * DAY)
    store.add_user("adjoint", "Paul Martin", "admin", now=T0 - 200 * DAY)
    for i in range(1, 13):
        serial = f"JT-{i:04d}"
        store.import_token(serial, secrets.token_bytes(20), now=T0 - 150 * DAY)
        store.assign(serial, f"prof{i:02d}", now=T0 - 100 * DAY)
    for serial, created in (("JT-0100", T0 - 200 * DAY), ("JT-0101", T0 - 2 * DAY), ("JT-0102", T0 - 50 * DAY)):
        store.import_token(serial, secrets.token_bytes(20), now=created)
    store.retire_token("JT-0102", now=T0 - DAY)
    store.disable("JT-0012", "lost", now=T0 - DAY)
    with store.transaction() as conn:
        for i in range(1, 9):
            used = T0 - (DAY if i <= 4 else 40 * DAY)
            conn.execute(tokens.update().where(tokens.c.serial == f"JT-{i:04d}")
                         .values(last_step=int(used // 30), state="active"))
        conn.execute(tokens.update().where(tokens.c.serial == "JT-0005").values(state="locked", fail_count=10,
                                                                                 locked_at=T0 - 3600))
        conn.execute(tokens.update().where(tokens.c.serial == "JT-0006").values(fail_count=3))
    return store


def page(store, q: TokenQuery | None = None, **kw):
    with store.engine.connect() as conn:
        return fleet.token_page(conn, q or TokenQuery(), now=T0, **kw)


def users(store, q: UserQuery | None = None, **kw):
    with store.engine.connect() as conn:
        return fleet.user_page(conn, q or UserQuery(), **kw)


def serials(found) -> list[str]:
    return [r.serial for r in found.rows]


def test_the_whole_fleet_by_serial_with_holders_and_no_secret(district):
    found = page(district)
    assert found.total == 15 and found.pages == 1 and found.page == 1 and (found.first, found.last) == (1, 15)
    assert serials(found)[:3] == ["JT-0001", "JT-0002", "JT-0003"] and serials(found)[-1] == "JT-0102"
    first = found.rows[0]
    assert (first.login, first.display_name, first.state) == ("prof01", "Professeur Jean Dupont01", "active")
    assert first.last_used_at == pytest.approx(T0 - DAY, abs=30)
    assert not any(hasattr(r, "secret_ct") or hasattr(r, "pin_hash") for r in found.rows)
    assert page(district, TokenQuery(search="JT-0100")).rows[0].login is None


@pytest.mark.parametrize("term, expected", [
    ("jt-001", ["JT-0010", "JT-0011", "JT-0012"]),       # part of a serial, any case
    ("0102", ["JT-0102"]),
    ("PROF07", ["JT-0007"]),                               # the holder's login
    ("dupont1", ["JT-0010", "JT-0011", "JT-0012"]),       # part of the holder's name
    ("loïse", ["JT-0003"]),                                # accented letters as they are written
    ("100%", []), ("_", []), ("   ", None),               # LIKE's wildcards are plain characters; blank: all
])
def test_search_by_serial_login_or_name(district, term, expected):
    found = page(district, TokenQuery(search=term))
    if expected is None:
        assert found.total == 15
    else:
        assert serials(found) == expected and found.total == len(expected)


def test_filters_by_state_holder_use_and_failures(district):
    assert serials(page(district, TokenQuery(states=("ready",)))) == ["JT-0100", "JT-0101"]
    assert serials(page(district, TokenQuery(states=("locked", "disabled")))) == ["JT-0005", "JT-0012"]
    assert page(district, TokenQuery(states=("no-such-state",))).total == 0
    ids = {u.login: u.id for u in district.list_users()}
    held = page(district, TokenQuery(holder_ids=(ids["prof02"], ids["prof09"], ids["chef"])))
    assert serials(held) == ["JT-0002", "JT-0009"]
    assert page(district, TokenQuery(holder_ids=())).total == 0  # a class with no teacher: nothing
    # never used since assigned (or ever): the three assigned tokens without a login, the two ready, the retired
    assert serials(page(district, TokenQuery(never_used=True))) == ["JT-0009", "JT-0010", "JT-0011", "JT-0012",
                                                                    "JT-0100", "JT-0101", "JT-0102"]
    # idle 30 days: used 40 days ago, assigned 100 days ago and never used, the ready token of day -200, the
    # retired one (imported day -50); not the one used yesterday, nor the token created two days ago
    idle = serials(page(district, TokenQuery(unused_days=30)))
    assert idle == ["JT-0005", "JT-0006", "JT-0007", "JT-0008", "JT-0009", "JT-0010", "JT-0011", "JT-0012",
                    "JT-0100", "JT-0102"]
    assert serials(page(district, TokenQuery(unused_days=150))) == ["JT-0100"]
    assert serials(page(district, TokenQuery(min_failures=3))) == ["JT-0005", "JT-0006"]
    assert serials(page(district, TokenQuery(min_failures=10))) == ["JT-0005"]
    both = page(district, TokenQuery(states=("active",), unused_days=30, min_failures=1, search="prof0"))
    assert serials(both) == ["JT-0006"]


def test_sorts(district):
    assert serials(page(district, TokenQuery(sort="failures")))[:2] == ["JT-0005", "JT-0006"]
    by_state = page(district, TokenQuery(sort="state"))
    assert [r.state for r in by_state.rows] == sorted(r.state for r in by_state.rows)
    by_use = serials(page(district, TokenQuery(sort="last_use", states=("active", "locked", "disabled"))))
    assert by_use[0] == "JT-0012" and by_use[-4:] == ["JT-0001", "JT-0002", "JT-0003", "JT-0004"]
    assert serials(page(district, TokenQuery(sort="nonsense"))) == serials(page(district))


def test_pages_of_the_list_with_the_total(district):
    first = page(district, per_page=4)
    assert (first.total, first.pages, first.page, serials(first)) == (15, 4, 1, ["JT-0001", "JT-0002",
                                                                                 "JT-0003", "JT-0004"])
    third = page(district, page=3, per_page=4)
    assert serials(third) == ["JT-0009", "JT-0010", "JT-0011", "JT-0012"] and (third.first, third.last) == (9, 12)
    last = page(district, page=4, per_page=4)
    assert serials(last) == ["JT-0100", "JT-0101", "JT-0102"] and (last.first, last.last) == (13, 15)
    assert page(district, page=99, per_page=4).page == 4  # past the end: the last page
    assert page(district, page=-3, per_page=4).page == 1
    empty = page(district, TokenQuery(search="nothing-like-it"))
    assert (empty.total, empty.pages, empty.page, empty.rows, empty.first) == (0, 1, 1, [], 0)
    assert fleet.PER_PAGE == 50


def test_users_by_search_role_ids_and_tokens(district):
    everyone = users(district)
    assert everyone.total == 14 and everyone.rows[0].login == "adjoint"
    prof05 = next(u for u in everyone.rows if u.login == "prof05")
    assert prof05.tokens == (("JT-0005", "locked"),)
    assert next(u for u in everyone.rows if u.login == "chef").tokens == ()
    assert [u.login for u in users(district, UserQuery(role="admin")).rows] == ["adjoint", "chef"]
    assert users(district, UserQuery(role="root")).total == 0
    assert [u.login for u in users(district, UserQuery(search="DUPONT1")).rows] == ["prof10", "prof11", "prof12"]
    assert [u.login for u in users(district, UserQuery(search="durand")).rows] == ["chef"]
    ids = {u.login: u.id for u in district.list_users()}
    assert [u.login for u in users(district, UserQuery(ids=(ids["prof03"], ids["chef"]))).rows] == ["chef", "prof03"]
    assert users(district, UserQuery(ids=())).total == 0
    assert [u.login for u in users(district, UserQuery(has_token=False)).rows] == ["adjoint", "chef"]
    assert users(district, UserQuery(has_token=False)).total == 2
    assert users(district, UserQuery(has_token=True)).total == 12
    assert [u.login for u in users(district, UserQuery(sort="created")).rows][0] == "adjoint"
    assert [u.login for u in users(district, UserQuery(sort="name")).rows][0] == "chef"  # Anne Durand
    second = users(district, page=2, per_page=5)
    assert second.pages == 3 and [u.login for u in second.rows] == ["prof04", "prof05", "prof06", "prof07",
                                                                    "prof08"]
    with district.engine.connect() as conn:
        assert fleet.count_administrators(conn) == 2


def test_a_page_costs_a_few_queries_whatever_its_size(district):
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    users(district, UserQuery(search="dupont"))  # SQLite: once a connection, whether its trigram index is there
    sa.event.listen(district.engine, "before_cursor_execute", seen)
    try:
        assert users(district).total == 14
        assert len(statements) == 3  # count, users, their tokens: never one query per user
        statements.clear()
        assert page(district, TokenQuery(search="prof")).total == 12
        assert len(statements) == 4  # users matching, count, rows, their holders
        statements.clear()
        assert page(district, TokenQuery(states=("ready",))).total == 2
        assert len(statements) == 2  # count, rows (no holder to look up)
    finally:
        sa.event.remove(district.engine, "before_cursor_execute", seen)


# the expression indexes of migration 0007, which SQLAlchemy does not reflect (it says so, in a warning)
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_migrated_database_has_the_indexes_of_the_schema(store):
    """Migration 0006 and verifier/schema.py declare the same indexes for the lists; 0007 adds the expression
    indexes of the "unused for N days" filter."""
    with store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in ("tokens", "users"):
            migrated = {i["name"]: tuple(i["column_names"]) for i in inspector.get_indexes(table)}
            declared = {i.name: tuple(c.name for c in i.columns) for i in metadata.tables[table].indexes}
            for name, columns in declared.items():
                assert migrated.get(name) == columns, (table, name)
        names = set(conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'index'") if
                                 conn.dialect.name == "sqlite" else sa.text("SELECT indexname FROM pg_indexes")
                                 ).scalars())
        assert {"ix_tokens_idle_since", "ix_tokens_state_idle_since"} <= names
    assert {"ix_tokens_state_serial", "ix_tokens_fail_count"} <= {i.name for i in metadata.tables["tokens"].indexes}
    assert "ix_users_role" in {i.name for i in metadata.tables["users"].indexes}


def test_a_search_matching_many_users_finds_the_same_tokens(district, monkeypatch):
    """Past HOLDERS_INLINE users matched, their ids are a subquery instead of a list: the same answer."""
    few = serials(page(district, TokenQuery(search="dupont")))
    monkeypatch.setattr(fleet, "HOLDERS_INLINE", 2)
    assert serials(page(district, TokenQuery(search="dupont"))) == few and len(few) == 12
    active = [s for s in few[:8] if s != "JT-0005"]  # JT-0005 is locked
    assert serials(page(district, TokenQuery(search="dupont", states=("active",)))) == active


@pytest.mark.postgres
def test_postgresql_searches_through_trigram_indexes_and_migrates_back(postgres_base_url):
    """Migrations 0006 and 0007 give PostgreSQL trigram indexes for the search (pg_trgm, a trusted extension), one a
    column, and the search uses them; they go down to 0006 (its two-column index back), 0004, and up again."""
    from alembic import command

    from tests.support import require, throwaway_postgres_database
    from verifier import db

    with throwaway_postgres_database(postgres_base_url) as url:
        engine = db.make_engine(url.render_as_string(hide_password=False))
        try:
            with engine.connect() as conn:
                available = conn.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"))
                require(available.first() is not None, "PostgreSQL's pg_trgm extension (postgresql-contrib)")
            db.upgrade(engine)
            with engine.connect() as conn:
                names = set(conn.execute(sa.text("SELECT indexname FROM pg_indexes")).scalars())
                assert {"ix_tokens_serial_trgm", "ix_users_login_trgm", "ix_users_name_trgm",
                        "ix_tokens_state_serial"} <= names
                assert "ix_users_search_trgm" not in names  # 0006's, which the planner never took: 0007 drops it
                conn.execute(sa.text("SET enable_seqscan = off"))  # a tiny table: make the planner show its way
                users_query = fleet._holders_matching(conn, "Dupont")
                plan = "\n".join(conn.execute(sa.text("EXPLAIN " + str(users_query.compile(
                    conn, compile_kwargs={"literal_binds": True})))).scalars())
                assert "ix_users_login_trgm" in plan and "ix_users_name_trgm" in plan, plan
            with engine.begin() as conn:
                command.downgrade(db._config(conn), "0006")
            with engine.connect() as conn:
                names = set(conn.execute(sa.text("SELECT indexname FROM pg_indexes")).scalars())
                assert "ix_users_search_trgm" in names and not names & {"ix_users_login_trgm", "ix_tokens_idle_since"}
            with engine.begin() as conn:
                command.downgrade(db._config(conn), "0004")
            with engine.connect() as conn:
                names = set(conn.execute(sa.text("SELECT indexname FROM pg_indexes")).scalars())
                assert not names & {"ix_tokens_serial_trgm", "ix_users_search_trgm", "ix_tokens_state_serial",
                                    "ix_users_login_trgm", "ix_users_name_trgm", "ix_tokens_state_idle_since"}
            assert db.upgrade(engine) == ("0004", db.head_revision())
        finally:
            engine.dispose()


def _plans(store, run) -> str:
    """The query plans of the statements ``run(conn)`` executes (on PostgreSQL, with sequential scans disabled: the
    test tables are tiny, and the planner is to show the way it would take at 100,000)."""
    seen: list[tuple] = []

    def note(conn, cursor, statement, parameters, *args) -> None:
        seen.append((statement, parameters))

    with store.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if not sqlite:
            conn.execute(sa.text("SET enable_seqscan = off"))
        sa.event.listen(conn, "before_cursor_execute", note)
        run(conn)
        sa.event.remove(conn, "before_cursor_execute", note)
        explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
        return "\n".join(str(row[-1]) for statement, parameters in seen
                         for row in conn.exec_driver_sql(explain + statement, parameters))


def test_the_idle_filter_and_a_class_go_through_indexes(district):
    """At 100,000 tokens, "active + unused for 30 days" is read off the expression index of migration 0007 (not every
    active token by state), and a class's teachers' tokens off ``tokens.user_id`` (the state filter beside it is not
    allowed to take the state's index, which holds nearly every token)."""
    idle = _plans(district, lambda conn: fleet.token_page(conn, TokenQuery(states=("active",), unused_days=30,
                                                                           min_failures=1, sort="failures"), now=T0))
    assert "ix_tokens_state_idle_since" in idle, idle
    alone = _plans(district, lambda conn: fleet.token_page(conn, TokenQuery(unused_days=30), now=T0))
    assert "ix_tokens_idle_since" in alone, alone
    ids = tuple(u.id for u in district.list_users() if u.login in ("prof02", "prof05", "prof09"))
    klass = TokenQuery(holder_ids=ids, states=("active",))
    assert serials(page(district, klass)) == ["JT-0002"]  # JT-0005 is locked, JT-0009 assigned
    plan = _plans(district, lambda conn: fleet.token_page(conn, klass, now=T0))
    assert "ix_tokens_user_id" in plan and "ix_tokens_state_serial" not in plan, plan


def test_the_counts_of_users_with_or_without_a_token_alone_and_with_other_filters(district):
    """Alone, "with a token" and "without" are counted off the holders' index; with a role or a search beside them,
    row by row: the same totals either way."""
    assert users(district, UserQuery(has_token=False)).total == 2
    assert users(district, UserQuery(has_token=False, role="admin")).total == 2
    assert users(district, UserQuery(has_token=False, role="teacher")).total == 0
    assert users(district, UserQuery(has_token=True, role="teacher")).total == 12
    assert users(district, UserQuery(has_token=True, search="dupont1")).total == 3
    assert users(district, UserQuery(role="teacher")).total == 12
    district.add_user("stagiaire", "Zoé Stagiaire", "teacher", now=T0)
    district.unassign("JT-0001", now=T0)
    assert [u.login for u in users(district, UserQuery(has_token=False)).rows] == ["adjoint", "chef", "prof01",
                                                                                "stagiaire"]
    assert users(district, UserQuery(has_token=False)).total == 4
    assert users(district, UserQuery(has_token=True)).total == 11


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL's: test_postgresql_searches_through_...
def test_sqlite_searches_users_through_a_trigram_index_kept_by_triggers(district):
    """On SQLite, migration 0007's FTS5 trigram index answers a search of 3 characters or more, the same users as
    the LIKE of shorter ones; triggers keep it as users are added, renamed and removed."""
    assert district.engine.dialect.name == "sqlite"
    plan = _plans(district, lambda conn: fleet.user_page(conn, UserQuery(search="dupont1")))
    assert "users_search" in plan, plan
    assert [u.login for u in users(district, UserQuery(search="dupont1")).rows] == ["prof10", "prof11", "prof12"]
    assert [u.login for u in users(district, UserQuery(search="an")).rows] == ["chef", "prof01", "prof02", "prof04",
                                                                              "prof05", "prof06", "prof07", "prof08",
                                                                              "prof09", "prof10", "prof11", "prof12"]
    assert users(district, UserQuery(search='"pro')).total == 0  # a quote is a character like any other
    assert users(district, UserQuery(search="ÉLOÏSE")).rows[0].login == "prof03"
    assert serials(page(district, TokenQuery(search="dupont1"))) == ["JT-0010", "JT-0011", "JT-0012"]
    district.add_user("remplacant", "Zoé Bernard", "teacher", now=T0)
    assert [u.login for u in users(district, UserQuery(search="bernard")).rows] == ["remplacant"]
    with district.transaction() as conn:
        conn.execute(sa.text("UPDATE users SET display_name = 'Zoé Lefèvre' WHERE login = 'remplacant'"))
    assert users(district, UserQuery(search="bernard")).total == 0
    assert [u.login for u in users(district, UserQuery(search="lefèvre")).rows] == ["remplacant"]
    with district.transaction() as conn:
        conn.execute(sa.text("DELETE FROM users WHERE login = 'remplacant'"))
    assert users(district, UserQuery(search="lefèvre")).total == 0


def test_sqlite_migration_0007_goes_down_and_up_again(tmp_path, keys_file):
    """Down to 0006: no trigram index, triggers nor idle indexes (a user added then is searched by LIKE); up again:
    the index is rebuilt from the users, that one included."""
    from alembic import command

    from verifier import db, init_store

    store = init_store(f"sqlite:///{tmp_path / 'down.db'}", keys_file)[0]
    try:
        store.add_user("prof01", "Jean Dupont", "teacher", now=T0)
        with store.engine.begin() as conn:
            command.downgrade(db._config(conn), "0006")
        with store.engine.connect() as conn:
            names = set(conn.execute(sa.text("SELECT name FROM sqlite_master")).scalars())
        assert not names & {"users_search", "users_search_insert", "ix_tokens_idle_since", "ix_tokens_state_idle_since"}
        store.add_user("prof02", "Anne Durand", "teacher", now=T0)
        store.engine.dispose()  # a new connection: it finds no index and searches by LIKE
        assert [u.login for u in users(store, UserQuery(search="durand")).rows] == ["prof02"]
        assert db.upgrade(store.engine) == ("0006", db.head_revision())
        store.engine.dispose()
        assert [u.login for u in users(store, UserQuery(search="durand")).rows] == ["prof02"]
        assert "users_search" in _plans(store, lambda conn: fleet.user_page(conn, UserQuery(search="dupont")))
        assert [u.login for u in users(store, UserQuery(search="dupont")).rows] == ["prof01"]
    finally:
        store.close()
