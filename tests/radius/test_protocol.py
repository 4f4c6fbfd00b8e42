"""The RADIUS rules, packet by packet, through the server's handler (no sockets; time is a parameter)."""

from __future__ import annotations

import pyrad.packet as rp
import pytest

from tests.radius.client import SECRET, decode, encode, request
from tests.radius.conftest import audit_count
from tests.verifier.helpers import assigned_token
from verifier import Outcome, Result, Verifier
from verifier.radius.clients import add_client, load_clients
from verifier.radius.handler import RadiusHandler

T0 = 1_800_000_000.0
NAS = ("127.0.0.1", 40000)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def handler(store, clock) -> RadiusHandler:
    return RadiusHandler(Verifier(store), load_clients(store), clock=clock)


def send(handler: RadiusHandler, pkt: rp.AuthPacket, address=NAS):
    raw = handler.handle(encode(pkt), address)
    return None if raw is None else decode(pkt, raw)


def test_first_use_from_a_vpn_client_follows_the_guide_steps_2_to_4(store, handler, clock, planted):
    codes = assigned_token(store, "MD-0001", "mdupont", planted=planted)
    step = codes.step_of(T0)
    first = send(handler, request("mdupont", planted.value(codes.code(step))))
    assert (first.kind, first.message) == ("Access-Challenge", "Choisissez un code PIN de 4 à 6 chiffres")
    assert first.state
    clock.now += 5
    again = send(handler, request("mdupont", planted.value("4821"), state=first.state))
    assert (again.kind, again.message) == ("Access-Challenge", "Confirmez votre nouveau code PIN")
    clock.now += 5
    done = send(handler, request("mdupont", "4821", state=again.state))
    assert (done.kind, done.message) == (
        "Access-Challenge", "Attendez que le code de votre clé change, puis saisissez votre PASSCODE")
    clock.now = (step + 1) * 30 + 1
    last = send(handler, request("mdupont", "4821" + planted.value(codes.code(step + 1)), state=done.state))
    assert last.kind == "Access-Accept"
    assert store.get_token("MD-0001").state == "active"


def test_the_pin_with_the_code_that_chose_it_is_told_to_wait_within_that_first_use_only(store, handler, clock,
                                                                                        planted):
    """Guide step 4 typed too soon: PIN + the code just used to choose the PIN. Within the challenges of that first
    use the answer is "wait for the code to change" (a new challenge, the attempt refused and counted); the same
    passcode from anyone else, or with another code, is the bare refusal."""
    codes = assigned_token(store, "MD-0010", "mdupont", planted=planted)
    step = codes.step_of(T0)
    first_code = planted.value(codes.code(step))
    first = send(handler, request("mdupont", first_code))
    again = send(handler, request("mdupont", "4821", state=first.state))
    done = send(handler, request("mdupont", "4821", state=again.state))
    assert done.message == "Attendez que le code de votre clé change, puis saisissez votre PASSCODE"
    clock.now += 3
    too_soon = send(handler, request("mdupont", "4821" + first_code, state=done.state))
    assert (too_soon.kind, too_soon.message) == (
        "Access-Challenge", "Attendez que le code de votre clé change, puis saisissez votre PASSCODE")
    assert store.get_token("MD-0010").fail_count == 1  # refused as a replay all the same
    wrong = send(handler, request("mdupont", "4821" + "000000", state=too_soon.state))
    assert (wrong.kind, wrong.message) == ("Access-Reject", "Identifiant ou passcode incorrect")
    clock.now = (step + 1) * 30 + 1
    last = send(handler, request("mdupont", "4821" + planted.value(codes.code(step + 1)), state=too_soon.state))
    assert last.kind == "Access-Accept"
    stranger = send(handler, request("mdupont", "4821" + first_code))  # no State: not this first use
    assert (stranger.kind, stranger.message) == ("Access-Reject", "Identifiant ou passcode incorrect")
    assert first_code.encode() not in too_soon.state and b"4821" not in done.state  # sealed, and only a mark of it


def test_a_trivial_or_mistyped_new_pin_is_asked_again(store, handler, planted):
    codes = assigned_token(store, "MD-0002", "mdupont", planted=planted)
    first = send(handler, request("mdupont", planted.value(codes.code(codes.step_of(T0)))))
    trivial = send(handler, request("mdupont", "1234", state=first.state))
    assert trivial.kind == "Access-Challenge"
    assert trivial.message.startswith("Ce code PIN est trop simple")
    typed = send(handler, request("mdupont", "4821", state=trivial.state))
    mistyped = send(handler, request("mdupont", "4812", state=typed.state))
    assert mistyped.message == ("Les deux codes PIN saisis sont différents. "
                                "Choisissez un code PIN de 4 à 6 chiffres")
    assert store.get_token("MD-0002").has_pin is False


def test_wrong_passcode_and_locked_token_get_the_same_access_reject(store, handler, clock, planted):
    codes = assigned_token(store, "MD-0003", "mdupont", planted=planted)
    wrong = send(handler, request("mdupont", "4821000000"))
    store.lock("MD-0003", actor="test")  # (failures through RADIUS are throttled long before the 10th)
    assert store.get_token("MD-0003").state == "locked"
    locked = send(handler, request("mdupont", planted.value(codes.code(codes.step_of(T0)))))
    unknown = send(handler, request("nobody", "4821123456"))
    assert {(r.kind, r.message) for r in (wrong, locked, unknown)} == {
        ("Access-Reject", "Identifiant ou passcode incorrect")}


def test_a_drifted_token_is_asked_for_its_next_code(store, handler, clock, planted):
    codes = assigned_token(store, "MD-0004", "mdupont", planted=planted)
    step = codes.step_of(T0) + 5  # the token runs 2.5 minutes ahead
    first = send(handler, request("mdupont", planted.value(codes.code(step))))
    assert (first.kind, first.message) == (
        "Access-Challenge", "Attendez que le code de votre clé change, puis saisissez les 6 chiffres affichés")
    then = send(handler, request("mdupont", planted.value(codes.code(step + 1)), state=first.state))
    assert (then.kind, then.message) == ("Access-Challenge", "Choisissez un code PIN de 4 à 6 chiffres")


def test_a_code_used_on_the_vpn_is_a_replay_on_the_web(store, handler, planted):
    codes = assigned_token(store, "MD-0005", "mdupont", planted=planted)
    verifier = Verifier(store)
    step = codes.step_of(T0)
    ticket = verifier.authenticate("mdupont", codes.code(step), T0).ticket
    verifier.set_pin(ticket, "4821", "4821", T0)
    passcode = "4821" + planted.value(codes.code(step + 1))
    assert send(handler, request("mdupont", passcode)).kind == "Access-Accept"
    assert verifier.authenticate("mdupont", passcode, T0 + 1).outcome is Outcome.REJECT


def test_every_request_writes_the_audit_row_with_the_gateway_and_the_caller(store, handler, planted):
    assigned_token(store, "MD-0006", "mdupont", planted=planted)
    send(handler, request("mdupont", "4821000000", calling="203.0.113.7"))
    row = store.audit(action="auth", limit=1)[0]
    assert (row.outcome, row.login, row.source) == ("REJECT", "mdupont", "radius:vpn-test@127.0.0.1 203.0.113.7")


def test_status_server_answers_for_health_checks(handler):
    reply = send(handler, request(None, None, code=rp.StatusServer))
    assert (reply.kind, reply.message) == ("Access-Accept", "Jeton RADIUS en service")


def test_requests_without_message_authenticator_are_dropped_unless_the_client_is_legacy(store, handler, clock):
    before = audit_count(store)
    assert handler.handle(encode(request("mdupont", "4821123456", message_authenticator=False)), NAS) is None
    assert handler.handle(encode(request(None, None, code=rp.StatusServer, message_authenticator=False)),
                          NAS) is None
    assert audit_count(store) == before
    assert handler.counts["dropped_no_message_authenticator"] == 2
    add_client(store, "old-switch", "192.0.2.0/24", SECRET, legacy=True)
    legacy = RadiusHandler(Verifier(store), load_clients(store), clock=clock)
    pkt = request("mdupont", "4821123456", message_authenticator=False)
    assert decode(pkt, legacy.handle(encode(pkt), ("192.0.2.9", 1812))).kind == "Access-Reject"


def test_bad_authenticator_wrong_secret_and_unknown_clients_are_dropped_before_the_store(store, handler):
    before = audit_count(store)
    forged = bytearray(encode(request("mdupont", "4821123456")))
    forged[-1] ^= 1  # the last byte is in an attribute after the Message-Authenticator
    assert handler.handle(bytes(forged), NAS) is None
    assert handler.handle(encode(request("mdupont", "4821123456", secret=b"another-secret-0123456")), NAS) is None
    assert handler.handle(encode(request("mdupont", "4821123456")), ("198.51.100.1", 1812)) is None
    assert audit_count(store) == before
    assert handler.counts["dropped_bad_message_authenticator"] == 2
    assert handler.counts["dropped_unknown_client"] == 1


def test_a_forged_expired_or_foreign_state_is_rejected(store, handler, clock, planted):
    codes = assigned_token(store, "MD-0007", "mdupont", planted=planted)
    first = send(handler, request("mdupont", planted.value(codes.code(codes.step_of(T0)))))
    tampered = bytes([first.state[0] ^ 1]) + first.state[1:]
    assert send(handler, request("mdupont", "4821", state=tampered)).kind == "Access-Reject"
    assert send(handler, request("other", "4821", state=first.state)).kind == "Access-Reject"
    clock.now += 181  # the ticket's lifetime
    assert send(handler, request("mdupont", "4821", state=first.state)).kind == "Access-Reject"
    assert store.get_token("MD-0007").has_pin is False


def test_a_retransmitted_request_gets_the_cached_reply_and_is_not_verified_again(store, handler, planted):
    codes = assigned_token(store, "MD-0008", "mdupont", planted=planted)
    verifier = Verifier(store)
    step = codes.step_of(T0)
    verifier.set_pin(verifier.authenticate("mdupont", codes.code(step), T0).ticket, "4821", "4821", T0)
    pkt = request("mdupont", "4821" + planted.value(codes.code(step + 1)))
    data = encode(pkt)
    before = audit_count(store)
    first = handler.handle(data, NAS)
    second = handler.handle(data, NAS)
    assert decode(pkt, first).kind == "Access-Accept"
    assert second == first
    assert audit_count(store) == before + 1
    assert handler.counts["duplicate"] == 1
    # the same code in a new request (new authenticator) is a replay
    assert send(handler, request("mdupont", "4821" + codes.code(step + 1))).kind == "Access-Reject"


class _Refusing(Verifier):
    """The verifier as it answers when its shared throttle refuses an attempt (issue 12's THROTTLED; LOCKED where
    that outcome does not exist yet): records each call and the source it was given."""

    def __init__(self, store) -> None:
        super().__init__(store)
        self.calls: list[tuple[str, str | None]] = []

    def authenticate(self, login, passcode, now=None, *, source=None):
        self.calls.append(("authenticate", source))
        return Result(getattr(Outcome, "THROTTLED", Outcome.LOCKED))


def test_a_throttled_attempt_is_the_same_access_reject_and_is_not_verified_again(store, clock):
    refusing = _Refusing(store)
    handler = RadiusHandler(refusing, load_clients(store), clock=clock)
    reply = send(handler, request("mdupont", "4821123456", calling="203.0.113.9"))
    assert (reply.kind, reply.message) == ("Access-Reject", "Identifiant ou passcode incorrect")
    assert refusing.calls == [("authenticate", "radius:vpn-test@127.0.0.1 203.0.113.9")]
