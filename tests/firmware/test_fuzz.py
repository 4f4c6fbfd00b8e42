"""At least 10,000 random and mutated frames sent to the real firmware under MicroPython (48 KB heap):
one reply per line, every reply a well-formed frame, the state untouched, the secret never written."""

from __future__ import annotations

import base64
import random
import zlib

import pytest

from tests.firmware.helpers import reply_lines, seed_store
from tests.golden_frames import GOLDEN_FRAMES, RFC_SHA1_KEY, STARTS

VERBS = ["HELLO", "TIME", "SEED", "PROVE", "CODE", "LOCK", "WIPE", "hello", "SEEDS", "", "WIPE\x00"]
WORDS = [
    "JT-000042", "JT-000043", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "sha1", "sha256", "md5", "6", "8", "7", "30", "60",
    "1767225612", "99999999999", "-1", "00112233445566778899aabbccddeeff", "zz", "", "*", "=", "\x03", "é",
]  # fmt: skip


def _frame(body: bytes) -> bytes:
    return body + b"*" + f"{zlib.crc32(body):08x}".encode()


def _mutate(rng: random.Random, line: bytes) -> bytes:
    data = bytearray(line)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[pos:pos] = bytes([rng.randrange(256)])
        elif op == 2 and data:
            del data[min(pos, len(data) - 1)]
        elif op == 3:
            data = data[:pos]
        else:
            data[pos:pos] = data[: rng.randrange(1, 40)]
    return bytes(data).replace(b"\n", b"")


def _changes_state(line: bytes, state: str) -> bool:
    """Whether ``line`` is a valid request that may legitimately change this token (the test leaves those out:
    a mutation can make one, e.g. by flipping the case of a CRC digit)."""
    body, star, check = line.removesuffix(b"\r").rpartition(b"*")
    if not star or check.lower() != f"{zlib.crc32(body):08x}".encode():
        return False
    words = body.split(b" ")[1:]
    if not words:
        return False
    verb, args = words[0], words[1:]
    if verb == b"WIPE" and args == [b"JT-000042"]:
        return True
    return state == "seeded" and verb in (b"LOCK", b"TIME")


def fuzz_input(seed: int, n: int, state: str) -> tuple[bytes, int]:
    rng = random.Random(seed)
    golden = [r.encode() for r, _, _ in GOLDEN_FRAMES]
    out, lines = [], 0
    while lines < n:
        kind = rng.randrange(6)
        if kind == 0:  # random bytes, any value but the newline
            line = bytes(rng.randrange(256) for _ in range(rng.randint(0, 260))).replace(b"\n", b"")
        elif kind == 1:  # a golden frame, mutated (its CRC no longer matches, almost always)
            line = _mutate(rng, rng.choice(golden))
        elif kind in (2, 3):  # a well-formed frame with a valid CRC and random words
            words = [str(rng.randint(-5, 12000)), rng.choice(VERBS)]
            words += [rng.choice(WORDS) for _ in range(rng.randint(0, 6))]
            line = _frame(" ".join(words).encode("utf-8"))
        elif kind == 4:  # an over-long line
            line = b"1 HELLO " + b"A" * rng.randint(193, 600)
        else:  # a frame with a valid CRC over random bytes
            line = _frame(bytes(rng.randrange(1, 256) for _ in range(rng.randint(0, 150))).replace(b"\n", b""))
        if _changes_state(line, state):
            continue
        out.append(line + rng.choice([b"\n", b"\r\n"]))
        lines += 1
    return b"".join(out), lines


@pytest.mark.micropython
@pytest.mark.slow
@pytest.mark.parametrize(("state", "seed", "count"), [("locked", 1, 6000), ("seeded", 2, 4500)])
def test_random_and_mutated_frames_change_nothing_and_leak_nothing(micropython, firmware, tmp_path, state, seed, count):
    seed_store(micropython, tmp_path, STARTS[state])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    data, lines = fuzz_input(seed, count, state)
    hello = _frame(b"9999 HELLO") + b"\n"
    proc = firmware.run(tmp_path, data + hello)  # 48 KB heap
    replies = reply_lines(proc.stdout)
    assert len(replies) == data.count(b"\n") + 1  # one reply per line, nothing else, no crash
    assert replies[-1].startswith("9999 OK proto=1 fw=")
    assert f" serial=JT-000042 state={state} " in replies[-1]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # the flash is untouched
    b32 = base64.b32encode(RFC_SHA1_KEY)
    secret_forms = [RFC_SHA1_KEY, RFC_SHA1_KEY.hex().encode(), b32, b32.lower()]
    for form in secret_forms:
        assert form not in proc.stdout and form not in proc.stderr
    codes = [r for r in replies if " OK code=" in r]
    assert all(r.split()[2].startswith("code=") for r in codes)
    assert lines >= count


def test_the_fuzz_campaign_is_big_and_varied():
    total = 0
    for state, seed, count in [("locked", 1, 6000), ("seeded", 2, 4500)]:
        data, lines = fuzz_input(seed, count, state)
        total += lines
        assert b"\x03" in data and b"\xff" in data and b"\r\n" in data
    assert total >= 10_000
