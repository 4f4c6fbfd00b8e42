"""The provisioner against the golden frames the firmware is tested with (tests/golden_frames.py).

Every reply line decodes; every request the provisioner can make is encoded byte for byte as in the table,
and its golden reply, played back on a pty, becomes the facts (or the DeviceError) the session returns.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pyotp
import pytest

from provisioner.errors import ClockError, DeviceError
from provisioner.protocol import decode_reply, encode_request
from provisioner.session import TokenSession
from tests.golden_frames import GOLDEN_FRAMES, STARTS, T
from tests.provisioner.scripted import ScriptedDevice


def b32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


IDS = [f"{start}:{request[:40]}" for request, _, start in GOLDEN_FRAMES]


def session_call(verb: str, args: list[str]):
    """The session method (and its arguments) that writes this request, or None if the provisioner never would."""
    if verb == "HELLO" and not args:
        return lambda s: s.hello()
    if verb == "TIME" and len(args) == 1 and args[0].isdigit():
        return lambda s: s.set_time(int(args[0]))
    if verb == "SEED" and len(args) == 5:
        serial, b32, algo, digits, period = args
        if b32 != b32.upper().rstrip("="):
            return None  # the provisioner writes base32 in upper case without padding

        def seed(s):
            try:
                secret = base64.b32decode(b32.upper().rstrip("=") + "=" * (-len(b32.rstrip("=")) % 8))
            except ValueError:
                raise ValueError("not base32") from None
            return s.seed(serial, secret, algo, int(digits) if digits.isdigit() else 0, int(period))

        return seed
    if verb == "PROVE" and len(args) == 1:
        return lambda s: s.prove(bytes.fromhex(args[0]))
    if verb in ("CODE", "LOCK") and not args:
        return lambda s: getattr(s, verb.lower())()
    if verb == "WIPE" and len(args) == 1:
        return lambda s: s.wipe(args[0])
    return None


def provisioner_request(request: str):
    """(id, verb, args, call) when ``request`` is a request this provisioner writes exactly, else None."""
    body, _, _ = request.partition("*")
    words = body.split(" ")
    if len(words) < 2 or not words[0].isdigit() or not 1 <= int(words[0]) <= 9999 or words[0].startswith("0"):
        return None
    rid, verb, args = int(words[0]), words[1], words[2:]
    call = session_call(verb, args)
    try:
        ours = encode_request(rid, verb, *args)
    except ValueError:
        return None
    if call is None or ours != request.encode() + b"\n":
        return None
    return rid, verb, args, call


@pytest.mark.parametrize(("request_line", "reply", "start"), GOLDEN_FRAMES, ids=IDS)
def test_every_golden_reply_decodes(request_line, reply, start):
    decoded = decode_reply(reply.encode())
    assert str(decoded.request_id) == reply.split(" ")[0]
    assert decoded.ok == (reply.split(" ")[1] == "OK")


WRITTEN = [entry for entry in GOLDEN_FRAMES if provisioner_request(entry[0]) is not None]


def test_the_table_covers_every_verb_the_provisioner_writes():
    verbs = {provisioner_request(request)[1] for request, _, _ in WRITTEN}
    assert verbs == {"HELLO", "TIME", "SEED", "PROVE", "CODE", "LOCK", "WIPE"}


@pytest.mark.parametrize(("request_line", "reply", "start"), WRITTEN, ids=[f"{s}:{r[:40]}" for r, _, s in WRITTEN])
def test_the_session_writes_the_golden_request_and_reads_its_reply(request_line, reply, start):
    rid, verb, args, call = provisioner_request(request_line)

    def device(line: bytes) -> bytes:
        assert line == request_line.encode()  # byte for byte what the firmware's table expects
        return reply.encode() + b"\n"

    with ScriptedDevice(device) as scripted:
        with TokenSession.open(scripted.port, timeout=2) as session:
            session.channel._next_id = rid
            if " ERR arg " in reply:
                # refused before sending (ValueError), or sent and refused by the token: never accepted
                with pytest.raises((ValueError, ClockError, DeviceError)):
                    call(session)
                return
            if " ERR " in reply:
                with pytest.raises(DeviceError) as caught:
                    call(session)
                assert caught.value.code == reply.split(" ")[2].split("*")[0]
                return
            result = call(session)
    state = STARTS[start]
    if verb == "HELLO":
        assert (result.proto, result.time, result.state) == (1, T, state["state"])
        assert result.clock_ok == (state.get("clock") != "lost")
        assert result.serial == (state.get("serial") if state["state"] in ("seeded", "locked") else None)
    elif verb == "PROVE":
        secret = b32(state["secret_b32"])
        nonce = bytes.fromhex(args[0])
        assert hmac.compare_digest(result, hmac.new(secret, b"jeton-prove:" + nonce, state["algo"]).digest())
    elif verb == "CODE":
        secret = b32(state["secret_b32"])
        totp = pyotp.TOTP(state["secret_b32"], digits=state["digits"], digest=getattr(hashlib, state["algo"]),
                          interval=state["period"])
        assert len(secret) in (20, 32)
        assert (result.code, result.step) == (totp.at(T), T // state["period"])
    elif verb == "TIME":
        assert result == int(args[0])
