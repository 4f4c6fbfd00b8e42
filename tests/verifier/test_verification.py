"""Passcode verification as DESIGN.md §4 and the teacher's guide say, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.verifier.conftest import T0
from tests.verifier.helpers import PIN, assigned_token, first_use
from verifier import PinPolicyError, Settings, TicketError
from verifier.verification import Outcome, Verifier


def test_guide_first_use_code_alone_then_new_pin_then_pin_and_a_later_code(store, verifier, planted):
    codes = assigned_token(store, "JT-A", "mdupont", planted=planted)
    step = codes.step_of(T0)
    first = verifier.authenticate("mdupont", planted.value(codes.code(step)), T0)
    assert first.outcome is Outcome.NEW_PIN_REQUIRED and first.ticket
    assert store.get_token("JT-A").state == "assigned"
    verifier.set_pin(first.ticket, planted.value("739582"), "739582", T0 + 10)
    assert store.get_token("JT-A").state == "active"
    # The same code again is a replay, with or without the PIN: the guide says wait for the code to change.
    assert verifier.authenticate("mdupont", "739582" + codes.code(step), T0 + 12).outcome is Outcome.REJECT
    later = T0 + 31
    result = verifier.authenticate("mdupont", "739582" + planted.value(codes.code(step + 1)), later)
    assert result.outcome is Outcome.ACCEPT and result.login == "mdupont"
    assert result.user_id == store.get_user("mdupont").id and first.user_id is None and first.login is None


def _edges(store, verifier, codes, now, cases):
    """Try each (offset from the centre = now + learned drift, expected outcome), 20 steps apart."""
    step = codes.step_of(now)
    for offset, expected in cases:
        step += 20
        center = step + store.get_token("JT-A").drift
        outcome = verifier.authenticate("mdupont", PIN + codes.code(center + offset), step * 30 + 1).outcome
        assert outcome is expected, f"offset {offset:+d}"


def test_accepts_within_one_step_and_not_two(store, verifier, teacher):
    codes, now = teacher
    # ±1 accepted (and the drift learned each time), ±2: a correct code, so the next code is asked for
    _edges(store, verifier, codes, now, [(-1, Outcome.ACCEPT), (+1, Outcome.ACCEPT), (0, Outcome.ACCEPT),
                                         (+2, Outcome.NEXT_CODE_REQUIRED), (-2, Outcome.NEXT_CODE_REQUIRED)])


def test_resync_window_edges_ten_steps_ask_for_the_next_code_eleven_are_refused(store, verifier, teacher):
    codes, now = teacher
    base = codes.step_of(now) + 50
    t = base * 30 + 1
    assert verifier.authenticate("mdupont", PIN + codes.code(base + 11), t).outcome is Outcome.REJECT
    assert verifier.authenticate("mdupont", PIN + codes.code(base - 11), t).outcome is Outcome.REJECT
    result = verifier.authenticate("mdupont", PIN + codes.code(base + 10), t)
    assert result.outcome is Outcome.NEXT_CODE_REQUIRED
    # the next code learns the drift: +10 steps from now on
    assert verifier.next_code(result.ticket, codes.code(base + 11), t + 30).outcome is Outcome.ACCEPT
    token = store.get_token("JT-A")
    assert token.drift == 10 and token.fail_count == 0
    # a token running 10 steps ahead is now accepted at once, with ±1 around its drift
    t2 = (base + 5) * 30 + 1
    assert verifier.authenticate("mdupont", PIN + codes.code(base + 16), t2).outcome is Outcome.ACCEPT


def test_minus_ten_steps_too(store, verifier, teacher):
    codes, now = teacher
    base = codes.step_of(now) + 50
    result = verifier.authenticate("mdupont", PIN + codes.code(base - 10), base * 30 + 1)
    assert result.outcome is Outcome.NEXT_CODE_REQUIRED
    assert verifier.next_code(result.ticket, codes.code(base - 10 + 2), base * 30 + 20).outcome is Outcome.REJECT
    assert store.get_token("JT-A").fail_count == 1


def test_custom_window_edges(store, teacher):
    codes, now = teacher
    wide = Verifier(store, Settings(window=3, resync_window=5))
    _edges(store, wide, codes, now, [(+3, Outcome.ACCEPT), (-3, Outcome.ACCEPT), (+4, Outcome.NEXT_CODE_REQUIRED),
                                     (-5, Outcome.NEXT_CODE_REQUIRED), (+6, Outcome.REJECT), (-6, Outcome.REJECT)])


def test_replay_of_an_accepted_passcode_is_refused(store, verifier, teacher):
    codes, now = teacher
    step = codes.step_of(now) + 5
    t = step * 30 + 2
    assert verifier.authenticate("mdupont", PIN + codes.code(step), t).outcome is Outcome.ACCEPT
    assert verifier.authenticate("mdupont", PIN + codes.code(step), t + 1).outcome is Outcome.REJECT
    # an older code still inside the window is a replay too
    assert verifier.authenticate("mdupont", PIN + codes.code(step - 1), t + 2).outcome is Outcome.REJECT
    details = [e.detail for e in store.audit(login="mdupont", action="auth", limit=2)]
    assert all("replay" in d for d in details)


def test_wrong_pin_or_wrong_code_look_the_same(store, verifier, teacher):
    codes, now = teacher
    step = codes.step_of(now) + 3
    t = step * 30
    wrong_pin = verifier.authenticate("mdupont", "1357" + codes.code(step), t)
    wrong_code = verifier.authenticate("mdupont", PIN + f"{(int(codes.code(step)) + 1) % 10**6:06d}", t)
    unknown = verifier.authenticate("nobody", PIN + codes.code(step), t)
    assert wrong_pin == wrong_code == unknown
    assert wrong_pin.outcome is Outcome.REJECT and wrong_pin.ticket is None and wrong_pin.login is None


@pytest.mark.parametrize(
    "passcode", ["", "48", "4829", "4829abcdef", "48291234567890", "４８２９１２３４５６", " 4829123456"]
)
def test_malformed_passcodes_are_rejected_and_counted(store, verifier, teacher, passcode):
    assert verifier.authenticate("mdupont", passcode, teacher[1] + 60).outcome is Outcome.REJECT
    assert store.get_token("JT-A").fail_count == 1


def test_three_failures_then_the_correct_passcode_needs_the_next_code(store, verifier, teacher):
    codes, now = teacher
    step = codes.step_of(now) + 2
    t = step * 30
    for _ in range(3):
        assert verifier.authenticate("mdupont", "0000" + codes.code(step), t).outcome is Outcome.REJECT
    result = verifier.authenticate("mdupont", PIN + codes.code(step), t + 1)
    assert result.outcome is Outcome.NEXT_CODE_REQUIRED
    assert verifier.next_code(result.ticket, codes.code(step + 1), t + 31).outcome is Outcome.ACCEPT
    assert store.get_token("JT-A").fail_count == 0


def test_two_failures_do_not_ask_for_the_next_code(store, verifier, teacher):
    codes, now = teacher
    step = codes.step_of(now) + 2
    for _ in range(2):
        verifier.authenticate("mdupont", "0000" + codes.code(step), step * 30)
    assert verifier.authenticate("mdupont", PIN + codes.code(step), step * 30 + 1).outcome is Outcome.ACCEPT


def test_ten_failures_lock_until_an_administrator_unlocks(store, teacher):
    """The seed's policy, kept by the setting unlock_after=None: only an administrator unlocks."""
    codes, now = teacher
    verifier = Verifier(store, Settings(unlock_after=None))
    step = codes.step_of(now) + 2
    outcomes = [verifier.authenticate("mdupont", "1111" + codes.code(step), step * 30).outcome for _ in range(10)]
    assert outcomes == [Outcome.REJECT] * 9 + [Outcome.LOCKED]
    token = store.get_token("JT-A")
    assert token.state == "locked" and token.fail_count == 10
    # even the right passcode is refused while locked, and nothing more is counted
    assert verifier.authenticate("mdupont", PIN + codes.code(step), step * 30 + 1).outcome is Outcome.LOCKED
    assert verifier.authenticate("mdupont", PIN + codes.code(step), step * 30 + 10**6).outcome is Outcome.LOCKED
    assert store.get_token("JT-A").fail_count == 10
    store.unlock("JT-A", actor="admin:chef")
    assert store.get_token("JT-A").state == "active"
    later = step + 5
    assert verifier.authenticate("mdupont", PIN + codes.code(later), later * 30).outcome is Outcome.ACCEPT
    assert store.audit(serial="JT-A", action="token.unlock")[0].actor == "admin:chef"


def test_timed_unlock_by_default_then_longer_on_repeat(store, teacher):
    codes, now = teacher
    timed = Verifier(store)
    assert timed.settings.unlock_after == 900
    step = codes.step_of(now) + 2
    for _ in range(10):
        timed.authenticate("mdupont", "1111" + codes.code(step), step * 30)
    locked_at = store.get_token("JT-A").locked_at
    s2 = step + 20  # 600 s later: still locked
    assert timed.authenticate("mdupont", PIN + codes.code(s2), s2 * 30).outcome is Outcome.LOCKED
    s3 = int((locked_at + 900) // 30) + 1
    result = timed.authenticate("mdupont", PIN + codes.code(s3), s3 * 30)
    assert result.outcome is Outcome.NEXT_CODE_REQUIRED  # unlocked, but the next code proves the holder
    # the failures counted after a timed unlock start at next_code_after: 7 more lock it again, for 4 x 15 min
    s4 = s3 + 1
    for _ in range(7):
        timed.authenticate("mdupont", "1111" + codes.code(s4 + 3), s4 * 30)
    again = store.get_token("JT-A")
    assert again.state == "locked" and timed.lock_duration(2) == 3600
    s5 = int((again.locked_at + 900) // 30) + 1  # 15 min is no longer enough
    assert timed.authenticate("mdupont", PIN + codes.code(s5), s5 * 30).outcome is Outcome.LOCKED
    s6 = int((again.locked_at + 3600) // 30) + 1
    result = timed.authenticate("mdupont", PIN + codes.code(s6), s6 * 30)
    assert result.outcome is Outcome.NEXT_CODE_REQUIRED
    assert timed.next_code(result.ticket, codes.code(s6 + 1), s6 * 30 + 30).outcome is Outcome.ACCEPT
    # a successful login forgets the repeats: the next lock lasts 15 min again
    assert store.get_token("JT-A").state == "active"
    assert timed.lock_duration(1) == 900 and timed.lock_duration(10) == 86400  # capped at unlock_max


def test_new_pin_rules(store, verifier, planted):
    codes = assigned_token(store, "JT-B", "lmartin", planted=planted)
    ticket = verifier.authenticate("lmartin", codes.code(codes.step_of(T0)), T0).ticket
    for pin, confirm, reason in [("2468", "2469", "mismatch"), ("123", "123", "length"),
                                 ("1234567", "1234567", "length"), ("12a4", "12a4", "format"),
                                 ("0000", "0000", "trivial"), ("1234", "1234", "trivial"),
                                 ("987654", "987654", "trivial"), ("1212", "1212", "trivial")]:
        with pytest.raises(PinPolicyError) as refused:
            verifier.set_pin(ticket, pin, confirm, T0 + 5)
        assert refused.value.reason == reason
        assert pin not in str(refused.value)
    verifier.set_pin(ticket, planted.value("2468"), "2468", T0 + 6)  # the refusals did not use the ticket up
    with pytest.raises(TicketError):  # single use
        verifier.set_pin(ticket, "8642", "8642", T0 + 7)
    assert store.get_token("JT-B").state == "active"


def test_tickets_are_short_lived_and_bound_to_their_purpose(store, verifier, planted):
    codes = assigned_token(store, "JT-C", "pdurand", planted=planted)
    step = codes.step_of(T0)
    ticket = verifier.authenticate("pdurand", codes.code(step), T0).ticket
    with pytest.raises(TicketError):
        verifier.set_pin(ticket, "2468", "2468", T0 + verifier.settings.ticket_ttl + 1)
    assert verifier.next_code(ticket, codes.code(step + 1), T0 + 30).outcome is Outcome.REJECT  # wrong purpose
    with pytest.raises(TicketError):
        verifier.set_pin("not-a-ticket-at-all-but-long-enough", "2468", "2468", T0 + 2)
    # a reset in between makes an issued ticket useless
    ticket = verifier.authenticate("pdurand", codes.code(step + 1), T0 + 31).ticket
    store.reset_pin("JT-C")
    with pytest.raises(TicketError):
        verifier.set_pin(ticket, "2468", "2468", T0 + 33)


def test_next_code_ticket_is_single_use(store, verifier, teacher):
    codes, now = teacher
    step = codes.step_of(now) + 40
    result = verifier.authenticate("mdupont", PIN + codes.code(step + 5), step * 30)
    assert result.outcome is Outcome.NEXT_CODE_REQUIRED
    accepted = verifier.next_code(result.ticket, codes.code(step + 6), step * 30 + 30)
    assert (accepted.outcome, accepted.login, accepted.user_id) == (Outcome.ACCEPT, "mdupont",
                                                                    store.get_user("mdupont").id)
    assert verifier.next_code(result.ticket, codes.code(step + 6), step * 30 + 31).outcome is Outcome.REJECT


def test_new_pin_mode_outside_the_window_goes_through_the_next_code(store, verifier, planted):
    codes = assigned_token(store, "JT-D", "bleroy", planted=planted)
    step = codes.step_of(T0)
    result = verifier.authenticate("bleroy", codes.code(step + 4), T0)
    assert result.outcome is Outcome.NEXT_CODE_REQUIRED
    result = verifier.next_code(result.ticket, codes.code(step + 5), T0 + 30)
    assert result.outcome is Outcome.NEW_PIN_REQUIRED
    verifier.set_pin(result.ticket, "5173", "5173", T0 + 35)
    assert verifier.authenticate("bleroy", "5173" + codes.code(step + 6), T0 + 31).outcome is Outcome.ACCEPT


def test_unknown_users_take_the_same_path(store, verifier, teacher, monkeypatch):
    """Same work (one PIN check, the same windows of codes, one write and one audit row) for an unknown login."""
    import verifier.verification as v

    calls: list[tuple] = []
    real_matches, real_check = v.TokenCodes.matches, v.check_pin
    monkeypatch.setattr(v.TokenCodes, "matches", lambda self, c, center, radius: calls.append(("window", radius))
                        or real_matches(self, c, center, radius))
    monkeypatch.setattr(v, "check_pin",
                        lambda ring, pin, stored: calls.append(("pin",)) or real_check(ring, pin, stored))
    codes, now = teacher
    # Someone probing logins does not know the codes: a wrong PIN and a wrong code.
    wrong = f"{(int(codes.code(codes.step_of(now) + 2)) + 1) % 10**6:06d}"
    verifier.authenticate("mdupont", "1357" + wrong, now + 60)
    known = sorted(calls)
    calls.clear()
    verifier.authenticate("nobody", "1357" + wrong, now + 60)
    assert sorted(calls) == known == [("pin",), ("window", 1), ("window", 10)]
    entry = store.audit(action="auth", limit=1)[0]
    assert (entry.login, entry.outcome) == ("nobody", "REJECT")


def test_a_passcode_typed_into_the_login_field_is_not_audited(store, verifier, planted):
    verifier.authenticate(planted.value("4829123456"), "4829123456", T0)
    assert store.audit(action="auth")[0].login is None


def test_several_tokens_per_user_either_one_logs_in(store, verifier, planted):
    hard = assigned_token(store, "JT-E", "mdupont", planted=planted)
    t = first_use(verifier, "mdupont", hard, PIN, T0)
    soft, secret = store.create_software_token("mdupont", serial="SW-E")
    planted.secret(secret)
    from verifier.otp import TokenCodes

    soft_codes = TokenCodes(secret)
    result = verifier.authenticate("mdupont", soft_codes.code(soft_codes.step_of(t)), t)
    assert result.outcome is Outcome.NEW_PIN_REQUIRED  # the backup token gets its own PIN
    verifier.set_pin(result.ticket, "5926", "5926", t + 1)
    s = soft_codes.step_of(t) + 1
    assert verifier.authenticate("mdupont", "5926" + soft_codes.code(s), s * 30).outcome is Outcome.ACCEPT
    s += 1
    assert verifier.authenticate("mdupont", PIN + hard.code(s), s * 30).outcome is Outcome.ACCEPT
    # a failure counts against every token the user holds; a disabled token no longer logs in
    verifier.authenticate("mdupont", "0000000000", s * 30 + 1)
    assert [t.fail_count for t in store.list_tokens(login="mdupont")] == [1, 1]
    store.disable("JT-E", "volée")
    s += 1
    assert verifier.authenticate("mdupont", PIN + hard.code(s), s * 30).outcome is Outcome.REJECT
    assert verifier.authenticate("mdupont", "5926" + soft_codes.code(s), s * 30 + 1).outcome is Outcome.ACCEPT


def test_unassign_and_reassign_reset_pin_counters_and_drift(store, verifier, teacher):
    codes, now = teacher
    step = codes.step_of(now) + 50
    r = verifier.authenticate("mdupont", PIN + codes.code(step + 7), step * 30)
    verifier.next_code(r.ticket, codes.code(step + 8), step * 30 + 30)
    verifier.authenticate("mdupont", "0000" + codes.code(step), step * 30 + 31)
    before = store.get_token("JT-A")
    assert before.drift == 7 and before.fail_count == 1 and before.has_pin
    store.unassign("JT-A")
    store.add_user("lmartin", "Luc Martin")
    after = store.assign("JT-A", "lmartin")
    assert (after.state, after.login, after.drift, after.fail_count) == ("assigned", "lmartin", 0, 0)
    assert not after.has_pin
    s = step + 20
    assert verifier.authenticate("mdupont", PIN + codes.code(s), s * 30).outcome is Outcome.REJECT
    assert verifier.authenticate("lmartin", codes.code(s), s * 30).outcome is Outcome.NEW_PIN_REQUIRED


def test_reset_pin_returns_to_new_pin_mode(store, verifier, teacher):
    codes, now = teacher
    store.reset_pin("JT-A")
    s = codes.step_of(now) + 3
    assert verifier.authenticate("mdupont", PIN + codes.code(s), s * 30).outcome is Outcome.REJECT
    assert verifier.authenticate("mdupont", codes.code(s + 1), s * 30 + 30).outcome is Outcome.NEW_PIN_REQUIRED


def test_sha256_eight_digits_sixty_seconds(store, verifier, planted):
    codes = assigned_token(store, "JT-F", "mdupont", algo="sha256", digits=8, period=60, planted=planted)
    first_use(verifier, "mdupont", codes, "31415", T0)
    s = codes.step_of(T0) + 3
    assert verifier.authenticate("mdupont", "31415" + codes.code(s), s * 60).outcome is Outcome.ACCEPT


def test_scrypt_pins_work_the_same(store, planted):
    slow = Verifier(store, Settings(pin_kdf="scrypt", scrypt_n=2**10))
    codes = assigned_token(store, "JT-G", "mdupont", planted=planted)
    t = first_use(slow, "mdupont", codes, "8264", T0)
    s = codes.step_of(t) + 1
    assert slow.authenticate("mdupont", "8263" + codes.code(s), s * 30).outcome is Outcome.REJECT
    assert slow.authenticate("mdupont", "8264" + codes.code(s), s * 30 + 1).outcome is Outcome.ACCEPT
    # the default verifier reads the stored form, whatever KDF wrote it
    s += 1
    assert Verifier(store).authenticate("mdupont", "8264" + codes.code(s), s * 30).outcome is Outcome.ACCEPT


def test_every_attempt_writes_an_audit_row(store, verifier, teacher):
    codes, now = teacher
    before = len(store.audit(action="auth"))
    s = codes.step_of(now) + 2
    verifier.authenticate("mdupont", PIN + codes.code(s), s * 30, source="10.0.0.7")
    verifier.authenticate("mdupont", "0000" + codes.code(s), s * 30 + 1, source="10.0.0.7")
    verifier.authenticate("ghost", "0000" + codes.code(s), s * 30 + 2, source="10.0.0.8")
    rows = store.audit(action="auth")[: len(store.audit(action="auth")) - before]
    assert [(r.login, r.outcome, r.source) for r in rows] == [
        ("ghost", "REJECT", "10.0.0.8"), ("mdupont", "REJECT", "10.0.0.7"), ("mdupont", "ACCEPT", "10.0.0.7")]
    assert rows[2].serial == "JT-A"


def test_a_replay_stays_a_replay_when_its_code_equals_a_later_code(store, verifier, planted):
    """Six digits collide: find a step whose code comes back within the resync window, and replay it."""
    secret = planted.secret(bytes(range(20)))
    codes = assigned_token(store, "JT-H", "mdupont", secret=secret)
    first = codes.step_of(T0) + 100
    seen: dict[str, int] = {}
    step = collision = None
    for s in range(first, first + 400_000):
        code = codes.code(s)
        earlier = seen.get(code)
        if earlier is not None and 2 <= s - earlier <= 10:
            step, collision = earlier, s
            break
        seen[code] = s
    assert step is not None, "no collision found (odds against: about one in a thousand)"
    t = first_use(verifier, "mdupont", codes, PIN, step * 30 - 90)
    assert t < step * 30
    assert verifier.authenticate("mdupont", PIN + codes.code(step), step * 30 + 1).outcome is Outcome.ACCEPT
    again = verifier.authenticate("mdupont", PIN + codes.code(collision), step * 30 + 2)  # the same six digits
    assert again.outcome is Outcome.REJECT
    assert "replay" in store.audit(action="auth", limit=1)[0].detail
