"""jeton-radius against Debian's real RADIUS clients: radclient and radtest (freeradius-utils), a PAM login with
pam_radius_auth (through pamtester) that answers the challenge prompts, and FreeRADIUS proxying to jeton-radius.
Each client starts from the test and stops after it; the codes are computed from the real clock."""

from __future__ import annotations

import time

from tests.radius.client import SECRET, free_udp_port
from tests.radius.conftest import start_server
from tests.radius.debian import freeradius_proxy, pam_service, pamtester, radclient, radtest, require_tools
from tests.verifier.helpers import assigned_token
from verifier import Verifier
from verifier.radius.clients import add_client, remove_client

SECRET_TEXT = SECRET.decode()


def _active(store, serial: str, login: str, pin: str, planted):
    """A teacher who already chose a PIN (guide steps 2-3 done on the web), and the step their code was at."""
    codes = assigned_token(store, serial, login, planted=planted)
    verifier = Verifier(store)
    step = codes.step_of(time.time())
    verifier.set_pin(verifier.authenticate(login, planted.value(codes.code(step))).ticket, pin, pin)
    return codes, step


def _attrs(login: str, password: str, state: str | None = None) -> str:
    lines = [f'User-Name = "{login}"', f'User-Password = "{password}"', "Message-Authenticator = 0x00"]
    if state:
        lines.append(f"State = {state}")
    return "\n".join(lines) + "\n"


def test_radclient_accept_reject_and_status_server(store, server, planted):
    codes, step = _active(store, "RC-0001", "mdupont", "4821", planted)
    passcode = "4821" + planted.value(codes.code(step + 1))
    kind, _attrs_, _out = radclient(server.address, _attrs("mdupont", passcode), SECRET_TEXT)
    assert kind == "Access-Accept"
    kind, attrs, _out = radclient(server.address, _attrs("mdupont", passcode), SECRET_TEXT)  # the same code again
    assert kind == "Access-Reject"
    assert attrs["Reply-Message"] == "Identifiant ou passcode incorrect"
    kind, attrs, out = radclient(server.address, "Message-Authenticator = 0x00\n", SECRET_TEXT, code="status")
    assert kind == "Access-Accept", out
    assert "Message-Authenticator" in attrs


def test_radtest_as_it_staff_troubleshoot(store, server, planted):
    codes, step = _active(store, "RC-0002", "mdupont", "4821", planted)
    assert radtest(server.address, "mdupont", "4821000000", SECRET_TEXT)[0] == "Access-Reject"
    assert radtest(server.address, "mdupont", "4821" + planted.value(codes.code(step + 1)),
                   SECRET_TEXT)[0] == "Access-Accept"
    assert radtest(server.address, "mdupont", "4821123456", "not-the-right-secret-0000")[0] is None  # dropped


def test_radclient_first_use_with_the_challenges_of_the_guide(store, server, planted):
    codes = assigned_token(store, "RC-0003", "mdupont", planted=planted)
    step = codes.step_of(time.time())
    kind, attrs, out = radclient(server.address, _attrs("mdupont", planted.value(codes.code(step))), SECRET_TEXT)
    assert kind == "Access-Challenge", out
    assert attrs["Reply-Message"] == "Choisissez un code PIN de 4 à 6 chiffres"
    kind, attrs, _ = radclient(server.address, _attrs("mdupont", planted.value("4821"), attrs["State"]), SECRET_TEXT)
    assert (kind, attrs["Reply-Message"]) == ("Access-Challenge", "Confirmez votre nouveau code PIN")
    kind, attrs, _ = radclient(server.address, _attrs("mdupont", "4821", attrs["State"]), SECRET_TEXT)
    assert (kind, attrs["Reply-Message"]) == (
        "Access-Challenge", "Attendez que le code de votre clé change, puis saisissez votre PASSCODE")
    # too soon: the PIN with the code that chose it is told again to wait, not refused outright
    too_soon = "4821" + planted.value(codes.code(step))
    kind, attrs, _ = radclient(server.address, _attrs("mdupont", too_soon, attrs["State"]), SECRET_TEXT)
    assert (kind, attrs["Reply-Message"]) == (
        "Access-Challenge", "Attendez que le code de votre clé change, puis saisissez votre PASSCODE")
    passcode = "4821" + planted.value(codes.code(step + 1))
    kind, _, out = radclient(server.address, _attrs("mdupont", passcode, attrs["State"]), SECRET_TEXT)
    assert kind == "Access-Accept", out


def test_a_request_without_message_authenticator_gets_no_answer(store, server):
    kind, _, _ = radclient(server.address, 'User-Name = "mdupont"\nUser-Password = "4821123456"\n', SECRET_TEXT,
                           timeout=1)
    assert kind is None
    assert "dropped_no_message_authenticator=1" in server.stop()


def test_pam_login_answers_the_challenge_prompts(store, db_url, keys_file, tmp_path, planted):
    """A Linux host (sshd, sudo) with pam_radius_auth: the first login runs the guide's steps at the prompts."""
    require_tools("pamtester")
    remove_client(store, "vpn-test")  # pam_radius_auth 2.0 (Debian 12) sends no Message-Authenticator: legacy
    add_client(store, "linux-host", "127.0.0.1", SECRET, legacy=True)
    codes = assigned_token(store, "PAM-0001", "mdupont", planted=planted)
    srv = start_server(db_url, keys_file)
    try:
        with pam_service(tmp_path, srv.address, SECRET_TEXT) as service:
            step = codes.step_of(time.time())
            # step 4 first typed too soon (the PIN with the code that chose it), then right
            answers = [planted.value(codes.code(step)), planted.value("4821"), "4821",
                       "4821" + planted.value(codes.code(step)), "4821" + planted.value(codes.code(step + 1))]
            done = pamtester(service, "mdupont", answers)
            assert done.returncode == 0, done.stdout + done.stderr
            shown = done.stdout + done.stderr
            assert "Choisissez un code PIN de 4 à 6 chiffres" in shown
            assert "Confirmez votre nouveau code PIN" in shown
            assert shown.count("Attendez que le code de votre clé change, puis saisissez votre PASSCODE") == 2
            assert "successfully authenticated" in shown
            refused = pamtester(service, "mdupont", ["4821000000"])
            assert refused.returncode != 0
    finally:
        srv.stop()


def test_freeradius_proxies_to_jeton_radius(store, server, tmp_path, planted):
    """The "existing RADIUS server" set-up: gateways keep talking to FreeRADIUS, which proxies to jeton-radius."""
    front = "front-secret-of-freeradius-42"
    port = free_udp_port()
    codes = assigned_token(store, "FR-0001", "mdupont", planted=planted)
    with freeradius_proxy(tmp_path, port, server.address, SECRET_TEXT, front):
        step = codes.step_of(time.time())
        address = ("127.0.0.1", port)
        kind, attrs, out = radclient(address, _attrs("mdupont", planted.value(codes.code(step))), front)
        assert (kind, attrs.get("Reply-Message")) == (
            "Access-Challenge", "Choisissez un code PIN de 4 à 6 chiffres"), out
        kind, attrs, _ = radclient(address, _attrs("mdupont", planted.value("4821"), attrs["State"]), front)
        kind, attrs, _ = radclient(address, _attrs("mdupont", "4821", attrs["State"]), front)
        passcode = "4821" + planted.value(codes.code(step + 1))
        kind, _, out = radclient(address, _attrs("mdupont", passcode, attrs["State"]), front)
        assert kind == "Access-Accept", out
        kind, _, _ = radclient(address, _attrs("mdupont", passcode), front)
        assert kind == "Access-Reject"
