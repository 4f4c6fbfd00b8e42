"""The last administrator keeps her role (issue 17, item 1), even when two administrators demote each other at
the same instant, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from verifier import LastAdministrator


def _demote(store, login: str, barrier: threading.Barrier, outcomes: dict) -> None:
    barrier.wait()
    try:
        store.set_role(login, "teacher", actor="test")
        outcomes[login] = "done"
    except LastAdministrator:
        outcomes[login] = "last"


def test_two_administrators_demoting_each_other_at_once_leave_one(store):
    for round_ in range(8):
        a, b = f"chef{round_}a", f"chef{round_}b"
        store.add_user(a, role="admin")
        store.add_user(b, role="admin")
        if round_:  # only this round's two are administrators
            for login in (f"chef{round_ - 1}a", f"chef{round_ - 1}b"):
                if store.get_user(login).role == "admin":
                    store.set_role(login, "teacher")
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}
        threads = [threading.Thread(target=_demote, args=(store, login, barrier, outcomes)) for login in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(outcomes.values()).count("done") == 1, outcomes
        assert [u.login for u in store.list_users() if u.role == "admin"] in ([a], [b])


def test_promoting_or_renaming_needs_no_other_administrator(store):
    store.add_user("chef", role="admin")
    store.update_user("chef", display_name="La cheffe", role="admin")
    assert store.get_user("chef").display_name == "La cheffe"
    with pytest.raises(LastAdministrator):
        store.set_role("chef", "teacher")
