"""The golden frames (tests/golden_frames.py) are right, and the firmware answers each of them exactly."""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict

import pyotp
import pytest

from tests.firmware.helpers import run_golden
from tests.golden_frames import GOLDEN_FRAMES, NONCE, RFC_SHA1_KEY, RFC_SHA256_KEY, STARTS, T, crc


def _by_start():
    groups = defaultdict(list)
    for request, reply, start in GOLDEN_FRAMES:
        groups[start].append((request, reply))
    return groups


def test_every_reply_carries_its_own_crc():
    for _request, reply, _start in GOLDEN_FRAMES:
        body, _, check = reply.rpartition("*")
        assert check == crc(body), reply


def test_table_covers_every_verb_and_every_error_code():
    text = " ".join(request + " " + reply for request, reply, _ in GOLDEN_FRAMES)
    for verb in ("HELLO", "TIME", "SEED", "PROVE", "CODE", "LOCK", "WIPE"):
        assert f" {verb}" in text
    for code in ("crc", "syntax", "verb", "arg", "state", "clock", "toolong", "storage", "presence"):
        assert f" ERR {code}" in text, code
    assert set(STARTS) == {start for _, _, start in GOLDEN_FRAMES}


def test_codes_and_macs_in_the_table_are_the_rfc_keys_own():
    keys = {"sha1": RFC_SHA1_KEY, "sha256": RFC_SHA256_KEY}
    digests = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
    seen = 0
    for _request, reply, start in GOLDEN_FRAMES:
        s = STARTS[start]
        body = reply.rpartition("*")[0]
        fields = dict(w.split("=", 1) for w in body.split()[2:] if "=" in w)
        if "code" in fields:
            totp = pyotp.TOTP(
                s["secret_b32"],
                digits=s["digits"],
                interval=s["period"],
                digest=digests[s["algo"]],
            )
            assert fields["code"] == totp.at(T)
            assert int(fields["step"]) == T // s["period"]
            assert int(fields["left"]) == s["period"] - T % s["period"]
            seen += 1
        if "mac" in fields:
            expected = hmac.new(keys[s["algo"]], b"jeton-prove:" + bytes.fromhex(NONCE), s["algo"]).hexdigest()
            assert fields["mac"] == expected
            seen += 1
    assert seen >= 5


@pytest.mark.micropython
@pytest.mark.parametrize("start", sorted(STARTS))
def test_firmware_answers_every_golden_frame_under_micropython(micropython, tmp_path, start):
    frames = _by_start()[start]
    replies, _ = run_golden(micropython, tmp_path, STARTS[start], [r for r, _ in frames], fresh=True)
    for (request, expected), got in zip(frames, replies, strict=True):
        assert got == [expected + "\n"], request


def test_firmware_answers_every_golden_frame_under_cpython(tmp_path):
    for start, frames in _by_start().items():
        d = tmp_path / start
        d.mkdir()
        replies, _ = run_golden(None, d, STARTS[start], [r for r, _ in frames], fresh=True, cpython=True)
        for (request, expected), got in zip(frames, replies, strict=True):
            assert got == [expected + "\n"], request
