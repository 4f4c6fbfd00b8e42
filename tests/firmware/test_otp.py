"""The firmware's own HOTP/TOTP: every RFC 4226 and RFC 6238 vector, under MicroPython and CPython, and
agreement with pyotp (and the standard library) on random keys, times and settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random

import pyotp
import pytest

from tests.firmware.helpers import DEVICE_PATH, MP_DIR, run_cpython

# RFC 4226 appendix D: secret "12345678901234567890", counters 0..9, 6 digits.
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]

# RFC 6238 appendix B (8 digits, 30 s): time -> (SHA-1, SHA-256). The SHA-512 column is not supported.
RFC6238 = {
    59: ("94287082", "46119246"),
    1111111109: ("07081804", "68084774"),
    1111111111: ("14050471", "67062674"),
    1234567890: ("89005924", "91819424"),
    2000000000: ("69279037", "90698825"),
    20000000000: ("65353130", "77737706"),
}
KEY_SHA1 = b"12345678901234567890"
KEY_SHA256 = b"12345678901234567890123456789012"


def _ops_rfc():
    ops = [["hotp", KEY_SHA1.hex(), c, 6, "sha1"] for c in range(10)]
    for t in RFC6238:
        ops.append(["totp", KEY_SHA1.hex(), t, 30, 8, "sha1"])
        ops.append(["totp", KEY_SHA256.hex(), t, 30, 8, "sha256"])
    return ops


def _expected_rfc():
    out = list(RFC4226)
    for sha1, sha256 in RFC6238.values():
        out += [sha1, sha256]
    return out


def _run(micropython, ops, cpython=False):
    stdin = json.dumps(ops).encode()
    if cpython:
        return json.loads(run_cpython(MP_DIR / "otp_runner.py", stdin))
    # a big heap for the batch of cases (the 48 KB heap is tested on the firmware itself, test_heap.py)
    proc = micropython.run(script=MP_DIR / "otp_runner.py", path=DEVICE_PATH, stdin=stdin, heapsize="2m")
    return json.loads(proc.stdout)


@pytest.mark.micropython
def test_every_rfc_vector_under_micropython(micropython):
    assert _run(micropython, _ops_rfc()) == _expected_rfc()


def test_every_rfc_vector_under_cpython():
    assert _run(None, _ops_rfc(), cpython=True) == _expected_rfc()


def _random_cases(seed: int, n: int):
    rng = random.Random(seed)
    ops, expected = [], []
    for _ in range(n):
        algo = rng.choice(["sha1", "sha256"])
        key = rng.randbytes(rng.choice([16, 20, 32, 64, rng.randint(16, 64)]))
        digits = rng.choice([6, 8])
        period = rng.choice([30, 60])
        t = rng.randint(1577836800, 4102444799)
        ops.append(["totp", key.hex(), t, period, digits, algo])
        totp = pyotp.TOTP(base64.b32encode(key).decode(), digits=digits, interval=period, digest=getattr(hashlib, algo))
        expected.append(totp.at(t))
        # HMAC on its own, with keys longer than a block too (hashed first, RFC 2104)
        long_key = rng.randbytes(rng.randint(0, 100))
        msg = rng.randbytes(rng.randint(0, 80))
        ops.append(["hmac", algo, long_key.hex(), msg.hex()])
        expected.append(hmac.new(long_key, msg, algo).hexdigest())
    return ops, expected


@pytest.mark.micropython
def test_agrees_with_pyotp_on_random_keys_and_times_under_micropython(micropython):
    ops, expected = _random_cases(20261128, 300)
    assert _run(micropython, ops) == expected


def test_agrees_with_pyotp_on_random_keys_and_times_under_cpython():
    ops, expected = _random_cases(4226, 300)
    assert _run(None, ops, cpython=True) == expected


@pytest.mark.micropython
def test_base32_decoding_matches_the_standard_library(micropython):
    rng = random.Random(6238)
    ops, expected = [], []
    for n in list(range(0, 70)) + [rng.randint(1, 64) for _ in range(30)]:
        data = rng.randbytes(n)
        text = base64.b32encode(data).decode()
        for variant in (text, text.lower(), text.rstrip("=")):
            ops.append(["b32", variant])
            expected.append(data.hex())
    for bad in ["GEZDGNB1", "A", "ABC", "ABCDEF", "GEZ DGNBV", "GEZDGNBV!", "é"]:
        ops.append(["b32", bad])
        expected.append("ValueError")
    assert _run(micropython, ops) == expected
