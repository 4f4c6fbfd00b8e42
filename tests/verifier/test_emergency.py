"""Emergency access for a lost or forgotten token (DESIGN.md §4, §6), on SQLite and PostgreSQL: an administrator
issues a temporary code; the user types it after the PIN; it expires, is used up, ends, and a guess is a failure."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tests.verifier.helpers import PIN, assigned_token
from verifier import InvalidInput, Settings, UserNotFound
from verifier.emergency import EmergencyError, end_of_day
from verifier.schema import emergency
from verifier.verification import Outcome, Verifier


def _issue(store, planted, now, **kw):
    issued = store.issue_emergency("mdupont", actor="admin", now=now, **kw)
    planted.value(issued.code)
    return issued


def test_token_left_at_home_pin_and_emergency_code_log_in_once(store, verifier, teacher, planted):
    now = teacher[1] + 1
    issued = _issue(store, planted, now)
    assert len(issued.code) == 8 and issued.code.isdigit() and issued.uses == 1 and issued.serial == "JT-A"
    result = verifier.authenticate("mdupont", PIN + issued.code, now + 60)
    assert result.outcome is Outcome.ACCEPT and result.login == "mdupont"
    assert result.user_id == store.get_user("mdupont").id
    token = store.get_token("JT-A")
    assert (token.state, token.fail_count) == ("active", 0)  # the token itself is left as it was
    # used up: the same passcode again is refused (and counts as a failure, like any wrong passcode)
    assert verifier.authenticate("mdupont", PIN + issued.code, now + 120).outcome is Outcome.REJECT
    assert store.get_token("JT-A").fail_count == 1
    assert store.emergency_status("mdupont", now + 120) is None
    rows = store.audit(login="mdupont", since=now)
    assert [(r.action, r.outcome) for r in reversed(rows)] == [
        ("emergency.issue", "ok"), ("auth", "ACCEPT"), ("auth", "REJECT")]
    assert rows[1].detail == "emergency; uses_left=0" and rows[2].actor == "admin"
    assert rows[2].detail == "until=2027-01-15T23:00:00+00:00; uses=1" and rows[2].serial == "JT-A"


def test_a_token_disabled_as_lost_still_lets_emergency_access_in(store, verifier, teacher, planted):
    now = teacher[1]
    store.disable("JT-A", "perdue", actor="admin", now=now)
    issued = _issue(store, planted, now, uses=2)
    assert verifier.authenticate("mdupont", PIN + issued.code, now + 10).outcome is Outcome.ACCEPT
    assert verifier.authenticate("mdupont", PIN + issued.code, now + 20).outcome is Outcome.ACCEPT
    assert verifier.authenticate("mdupont", PIN + issued.code, now + 30).outcome is Outcome.REJECT


def test_the_pin_is_still_required(store, verifier, teacher, planted):
    now = teacher[1]
    issued = _issue(store, planted, now)
    assert verifier.authenticate("mdupont", issued.code, now + 10).outcome is Outcome.REJECT
    assert verifier.authenticate("mdupont", "7391" + issued.code, now + 20).outcome is Outcome.REJECT
    assert verifier.authenticate("mmartin", PIN + issued.code, now + 30).outcome is Outcome.REJECT
    assert verifier.authenticate("mdupont", PIN + issued.code, now + 40).outcome is Outcome.ACCEPT


def test_by_default_it_ends_at_midnight_in_paris(store, verifier, teacher, planted):
    now = teacher[1]  # 2027-01-15, morning in Paris (UTC+1)
    issued = _issue(store, planted, now)
    assert issued.expires_at == end_of_day(now, "Europe/Paris") == 1_800_054_000.0  # 2027-01-16 00:00 Paris
    assert verifier.authenticate("mdupont", PIN + issued.code, issued.expires_at + 1).outcome is Outcome.REJECT
    assert verifier.authenticate("mdupont", PIN + issued.code, issued.expires_at - 60).outcome is Outcome.ACCEPT


def test_an_end_time_and_uses_are_settings_and_options(store, teacher, planted):
    now = teacher[1]
    v = Verifier(store, Settings(emergency_uses=3))
    store.settings = v.settings
    issued = _issue(store, planted, now, until=now + 3600)
    assert (issued.uses, issued.expires_at) == (3, now + 3600)
    assert v.authenticate("mdupont", PIN + issued.code, now + 3599).outcome is Outcome.ACCEPT
    assert v.authenticate("mdupont", PIN + issued.code, now + 3601).outcome is Outcome.REJECT
    for bad in ({"until": now - 1}, {"until": now + 15 * 86400}, {"uses": 0}):
        with pytest.raises(InvalidInput):
            store.issue_emergency("mdupont", now=now, **bad)


def test_an_administrator_ends_it_and_a_new_one_replaces_the_old(store, verifier, teacher, planted):
    now = teacher[1]
    first = _issue(store, planted, now)
    second = _issue(store, planted, now + 5)
    assert verifier.authenticate("mdupont", PIN + first.code, now + 10).outcome is Outcome.REJECT
    assert store.end_emergency("mdupont", actor="admin", now=now + 20) == 1
    assert verifier.authenticate("mdupont", PIN + second.code, now + 30).outcome is Outcome.REJECT
    assert store.end_emergency("mdupont", actor="admin", now=now + 40) == 0
    ends = store.audit(action="emergency.end")
    assert [e.detail for e in reversed(ends)] == ["replaced by a new one", "ended by an administrator"]


@pytest.mark.parametrize("found", ["unlock", "unassign", "assign"])
def test_it_ends_when_the_token_is_found_or_replaced(store, verifier, teacher, planted, found):
    now = teacher[1]
    if found == "unlock":
        store.lock("JT-A", actor="admin", now=now)
        store.unlock("JT-A", actor="admin", now=now)  # locked meanwhile: unlock first, then issue
    issued = _issue(store, planted, now + 1)
    if found == "unlock":
        store.lock("JT-A", actor="admin", now=now + 2)
        store.unlock("JT-A", actor="admin", now=now + 3)
    elif found == "unassign":
        store.unassign("JT-A", actor="admin", now=now + 3)
    else:
        store.disable("JT-A", "perdue", actor="admin", now=now + 2)
        assigned_token(store, "JT-B", "mdupont")  # a replacement token
    assert store.emergency_status("mdupont", now + 4) is None
    assert verifier.authenticate("mdupont", PIN + issued.code, now + 10).outcome is not Outcome.ACCEPT
    assert store.audit(action="emergency.end", limit=1)[0].detail.startswith("token JT-")


def test_issuing_needs_a_token_with_a_pin_that_is_not_locked(store, teacher, planted):
    now = teacher[1]
    assigned_token(store, "JT-N", "newbie")
    with pytest.raises(EmergencyError) as refused:
        store.issue_emergency("newbie", now=now)
    assert "n'a pas de clé avec un PIN" in refused.value.french
    store.lock("JT-A", actor="admin", now=now)
    with pytest.raises(EmergencyError) as refused:
        store.issue_emergency("mdupont", now=now)
    assert "déverrouillez-la" in refused.value.french
    with pytest.raises(UserNotFound):
        store.issue_emergency("nobody", now=now)


def test_the_code_is_stored_peppered_and_never_logged(store, verifier, teacher, planted, caplog):
    caplog.set_level(logging.DEBUG, logger="verifier")
    now = teacher[1]
    issued = _issue(store, planted, now)
    verifier.authenticate("mdupont", PIN + issued.code, now + 10)
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(emergency.c.code_hash)).scalar_one()
    assert issued.code not in stored and stored.startswith("h1$")
    assert issued.code not in repr(issued)
    # the planted-value fixtures scan every log record and audit row for the code at the end of the test


def test_a_guessed_emergency_code_is_a_failure_and_ends_it_at_the_lockout(store, teacher, planted):
    now = teacher[1]
    store.disable("JT-A", "perdue", actor="admin", now=now)  # no token in service: the emergency counts alone
    issued = _issue(store, planted, now)
    v = Verifier(store, Settings(throttle=False))
    outcomes = [v.authenticate("mdupont", PIN + f"{guess:08d}", now + 1 + guess).outcome for guess in range(10)]
    assert outcomes == [Outcome.REJECT] * 9 + [Outcome.LOCKED]
    assert v.authenticate("mdupont", PIN + issued.code, now + 30).outcome is Outcome.REJECT
    assert store.audit(action="emergency.end", limit=1)[0].detail == "too many failures"


def test_a_guess_counts_on_the_token_in_service_too(store, verifier, teacher, planted):
    now = teacher[1]
    _issue(store, planted, now)
    verifier.authenticate("mdupont", PIN + "00000000", now + 1)
    assert store.get_token("JT-A").fail_count == 1
    assert "emergency" in store.audit(action="auth", limit=1)[0].detail


def test_guessing_emergency_codes_is_throttled(store, teacher, planted):
    now = teacher[1]
    store.disable("JT-A", "perdue", actor="admin", now=now)
    issued = _issue(store, planted, now)
    v = Verifier(store, Settings(throttle_free_login=2))
    for guess in range(2):
        assert v.authenticate("mdupont", PIN + f"{guess:08d}", now + 1, source="10.1.1.1").outcome is Outcome.REJECT
    assert v.authenticate("mdupont", PIN + "00000009", now + 1.5, source="10.1.1.2").outcome is Outcome.REJECT
    # now the login waits: even the right emergency code is refused unverified, from any address
    result = v.authenticate("mdupont", PIN + issued.code, now + 2, source="10.1.1.3")
    assert result.outcome is Outcome.THROTTLED and result.retry_after > 0
    assert v.authenticate("mdupont", PIN + issued.code, now + 600, source="10.1.1.3").outcome is Outcome.ACCEPT
