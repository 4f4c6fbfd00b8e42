"""The throttling rule of the verifier (shared by the web login and RADIUS): per source and per login, a doubling
wait past the free failures, refused attempts unverified and uncounted, a login's count forgotten on success."""

from __future__ import annotations

from tests.verifier.helpers import PIN
from verifier import Outcome, Settings, Verifier


def test_past_the_free_failures_a_login_waits_a_doubling_delay(store, teacher):
    codes, now = teacher
    v = Verifier(store, Settings(throttle_free_login=3, throttle_delay=2))
    waits, failures = [], 0
    while failures < 6 or len(waits) < 3:
        result = v.authenticate("mdupont", PIN + "000000", now, source="10.1.1.1")
        if result.outcome is Outcome.THROTTLED:
            waits.append(round(result.retry_after))
            now += result.retry_after  # the attacker waits exactly as told
            continue
        assert result.outcome is Outcome.REJECT
        failures += 1
    assert waits == [2, 4, 8]  # told after the 4th, 5th and 6th failures; those tries counted nothing
    assert store.get_token("JT-A").fail_count == 6
    # another address gets the same answer for this login: the login's budget is spent, wherever from
    assert v.authenticate("mdupont", PIN + "000000", now, source="10.1.1.1").outcome is Outcome.REJECT
    assert v.authenticate("mdupont", PIN + "000000", now, source="10.9.9.9").outcome is Outcome.THROTTLED


def test_a_success_forgets_the_logins_count_but_not_the_sources(store, teacher):
    codes, now = teacher
    v = Verifier(store, Settings(throttle_free_login=2, throttle_free_source=2))
    for _ in range(2):
        v.authenticate("mdupont", PIN + "000000", now, source="10.1.1.1")
    step = codes.step_of(now) + 1
    ok = v.authenticate("mdupont", PIN + codes.code(step), step * 30, source="10.2.2.2")
    assert ok.outcome is Outcome.ACCEPT
    # the login starts again with its free failures...
    assert v.authenticate("mdupont", PIN + "000000", step * 30 + 1, source="10.2.2.2").outcome is Outcome.REJECT
    # ...the first source still has none left
    later = v.authenticate("someone", PIN + "000000", step * 30 + 1, source="10.1.1.1")
    assert later.outcome is Outcome.REJECT  # its second... then the third waits
    assert v.authenticate("someone", PIN + "000000", step * 30 + 1, source="10.1.1.1").outcome is Outcome.THROTTLED


def test_counts_are_forgotten_after_the_window_and_off_without_a_source(store, teacher):
    codes, now = teacher
    v = Verifier(store, Settings(throttle_free_login=1, throttle_window=600, throttle_max_delay=600))
    v.authenticate("mdupont", PIN + "000000", now, source="a")
    v.authenticate("mdupont", PIN + "000000", now, source="b")
    assert v.authenticate("mdupont", PIN + "000000", now + 1, source="c").outcome is Outcome.THROTTLED
    assert v.authenticate("mdupont", PIN + "000000", now + 700, source="c").outcome is Outcome.REJECT
    # a library caller without a source (jeton-admin, tests) is not throttled; lockout still applies
    assert Verifier(store, Settings(throttle_free_login=0)).authenticate(
        "mdupont", PIN + "000000", now + 701).outcome is Outcome.REJECT


def test_throttled_attempts_are_audited_without_the_passcode(store, teacher, planted):
    codes, now = teacher
    v = Verifier(store, Settings(throttle_free_source=0))
    typed = planted.value(PIN + codes.code(codes.step_of(now) + 1))
    v.authenticate("mdupont", PIN + "000000", now, source="10.3.3.3")
    assert v.authenticate("mdupont", typed, now + 0.5, source="10.3.3.3").outcome is Outcome.THROTTLED
    row = store.audit(action="auth", limit=1)[0]
    assert (row.outcome, row.source, row.login) == ("THROTTLED", "10.3.3.3", "mdupont")
