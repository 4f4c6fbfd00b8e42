"""Golden frames of the serial protocol v1 (DESIGN.md section 2.1), shared by the firmware and the provisioner.

Each entry is ``(request line, expected reply line, starting state)``: the request line as the host writes
it (without its newline), the one reply line the token writes back (without its newline), and the name of
a state in ``STARTS`` that the token is in *before* that one request. Every entry stands alone: a token is
freshly put in its starting state for each one. Request ids are arbitrary; replies echo them, or say 0
when the request could not be read.

A starting state with ``"pressed": True`` is a token whose button was pressed and whose display shows the
code when the request arrives (DESIGN.md section 2.1: a locked token answers CODE only then).

The starting states all read the clock at ``T`` = 2026-01-01T00:00:12Z. Their secrets are the RFC 4226 /
RFC 6238 test keys, so anyone can recompute every code and every PROVE mac by hand.

``crc(body)`` and ``frame(body)`` compute frame CRCs with zlib (the same CRC-32 as ``binascii.crc32``),
independently of the firmware.
"""

from __future__ import annotations

import zlib

T = 1767225612  # 2026-01-01T00:00:12Z: step 58907520 of 30 s (18 s left), step 29453760 of 60 s (48 s left)
RFC_SHA1_KEY = b"12345678901234567890"  # RFC 4226 / RFC 6238 test key (20 bytes)
RFC_SHA256_KEY = b"12345678901234567890123456789012"  # RFC 6238 SHA-256 test key (32 bytes)
NONCE = "00112233445566778899aabbccddeeff"  # PROVE nonce used below

STARTS: dict[str, dict] = {
    "blank": {"state": "blank", "time": T},
    "blank-clock-lost": {"state": "blank", "time": T, "clock": "lost"},
    "seeded": {
        "state": "seeded",
        "serial": "JT-000042",
        "secret_b32": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "algo": "sha1",
        "digits": 6,
        "period": 30,
        "time": T,
    },
    "seeded-clock-lost": {
        "state": "seeded",
        "serial": "JT-000042",
        "secret_b32": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "algo": "sha1",
        "digits": 6,
        "period": 30,
        "time": T,
        "clock": "lost",
    },
    "locked": {
        "state": "locked",
        "serial": "JT-000042",
        "secret_b32": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "algo": "sha1",
        "digits": 6,
        "period": 30,
        "time": T,
    },
    # the button was pressed: the display shows the code, so CODE answers
    "locked-pressed": {
        "state": "locked",
        "serial": "JT-000042",
        "secret_b32": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "algo": "sha1",
        "digits": 6,
        "period": 30,
        "time": T,
        "pressed": True,
    },
    # pressed, but the clock lost power: the display shows Err CL, and clock wins over presence
    "locked-clock-lost": {
        "state": "locked",
        "serial": "JT-000042",
        "secret_b32": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "algo": "sha1",
        "digits": 6,
        "period": 30,
        "time": T,
        "clock": "lost",
    },
    "locked-sha256-8-60": {
        "pressed": True,
        "state": "locked",
        "serial": "JT-000043",
        "secret_b32": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA",
        "algo": "sha256",
        "digits": 8,
        "period": 60,
        "time": T,
    },
    # a store file that fails its integrity check
    "corrupt": {"state": "corrupt", "time": T},
}

GOLDEN_FRAMES: list[tuple[str, str, str]] = [
    # starting state: blank
    (
        "1 HELLO*93b2e785",
        "1 OK proto=1 fw=1.0.0 model=host serial=- state=blank clock=ok time=1767225612*75398cc8",
        "blank",
    ),
    ("2 TIME 1767225700*62f3b320", "2 OK time=1767225700*70c5e387", "blank"),
    ("3 SEED JT-000042 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 6 30*facaeb13", "3 OK state=seeded*85d97959", "blank"),
    ("4 SEED JT-000042 gezdgnbvgy3tqojqgezdgnbvgy3tqojq== sha1 6 30*d142af80", "4 OK state=seeded*a54b0512", "blank"),
    (
        "5 SEED JT-000042 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA sha256 8 60*0a81cd21",
        "5 OK state=seeded*22edce51",
        "blank",
    ),
    ("6 CODE*c2e46827", "6 ERR state*b15459de", "blank"),
    ("7 PROVE 00112233445566778899aabbccddeeff*ee979b9e", "7 ERR state*70da861e", "blank"),
    ("8 LOCK*0874a2c1", "8 ERR state*e32272d8", "blank"),
    ("9 WIPE JT-000042*d2a6040d", "9 OK state=blank*7d46d7d5", "blank"),
    ("10 WIPE ANY-SERIAL*19a57de2", "10 OK state=blank*3b3d0327", "blank"),
    ("11 SEED jt-42 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 6 30*cba1382b", "11 ERR arg serial*cd4b572b", "blank"),
    ("12 SEED JT-42 GEZDGNBV sha1 6 30*a5ccb807", "12 ERR arg secret*6b55c2e0", "blank"),
    ("13 SEED JT-42 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ md5 6 30*861aeade", "13 ERR arg algo*f72471dd", "blank"),
    ("14 SEED JT-42 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 7 30*40a2f0b0", "14 ERR arg digits*b14b1953", "blank"),
    ("15 SEED JT-42 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 6 45*e536468d", "15 ERR arg period*0fb6ccbe", "blank"),
    ("16 SEED JT-42 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 6*09acd189", "16 ERR arg count*20b4d4ea", "blank"),
    ("17 TIME 1577836799*6012bd58", "17 ERR arg time*95be9a14", "blank"),
    ("18 TIME 4102444800*8901a24b", "18 ERR arg time*c32a2ee2", "blank"),
    ("19 TIME 12ab*fae5573b", "19 ERR arg time*5e25cf94", "blank"),
    ("20 FLASH*93bd41a3", "20 ERR verb*1ace1cce", "blank"),
    ("21 hello*5b407122", "21 ERR verb*f50c77f0", "blank"),
    ("22 HELLO extra*88699363", "22 ERR arg count*8300057b", "blank"),
    (
        "23 SEED JT-0123456789ABCDEF GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 6 30*76cc08d8",
        "23 ERR arg serial*197129cc",
        "blank",
    ),
    ("24 SEED JT-42 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1 sha1 6 30*8e753594", "24 ERR arg secret*6b5ef080", "blank"),
    (
        "9999 HELLO*524d89c7",
        "9999 OK proto=1 fw=1.0.0 model=host serial=- state=blank clock=ok time=1767225612*262de40e",
        "blank",
    ),
    ("10000 HELLO*e9c507e8", "0 ERR syntax*c6a4090a", "blank"),
    ("0 HELLO*35c5ec31", "0 ERR syntax*c6a4090a", "blank"),
    ("007 HELLO*20fb8ac0", "0 ERR syntax*c6a4090a", "blank"),
    ("x HELLO*4221d72f", "0 ERR syntax*c6a4090a", "blank"),
    ("25  HELLO*e4940e62", "25 ERR syntax*4d83a693", "blank"),
    ("26*6313d317", "26 ERR syntax*3a1d7463", "blank"),
    ("1 HELLO*00000000", "0 ERR crc*07f92872", "blank"),
    ("1 HELLO", "0 ERR syntax*c6a4090a", "blank"),
    ("1 HELLO*xyz", "0 ERR syntax*c6a4090a", "blank"),
    (
        "1 HELLO*93B2E785",
        "1 OK proto=1 fw=1.0.0 model=host serial=- state=blank clock=ok time=1767225612*75398cc8",
        "blank",
    ),
    ("A" * 201, "0 ERR toolong*4f244774", "blank"),
    ("A" * 200, "0 ERR syntax*c6a4090a", "blank"),
    (
        "27 HELLO*cfc486a8\r",
        "27 OK proto=1 fw=1.0.0 model=host serial=- state=blank clock=ok time=1767225612*fd57829c",
        "blank",
    ),
    ("28 SEED JT-42 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 6 30 extra*62265ba3", "28 ERR arg count*e40f786d", "blank"),
    # starting state: blank-clock-lost
    (
        "1 HELLO*93b2e785",
        "1 OK proto=1 fw=1.0.0 model=host serial=- state=blank clock=lost time=1767225612*fbef6ef3",
        "blank-clock-lost",
    ),
    ("2 TIME 1767225700*62f3b320", "2 OK time=1767225700*70c5e387", "blank-clock-lost"),
    # starting state: seeded
    (
        "1 HELLO*93b2e785",
        "1 OK proto=1 fw=1.0.0 model=host serial=JT-000042 state=seeded clock=ok time=1767225612*27e076cb",
        "seeded",
    ),
    ("2 CODE*59752a31", "2 OK code=745690 step=58907520 left=18*82fb7e2b", "seeded"),
    (
        "3 PROVE 00112233445566778899aabbccddeeff*3e16d841",
        "3 OK mac=32ff08a950bc90b30c2b6ccd6b27a6e219ff07fa*4db28576",
        "seeded",
    ),
    ("4 PROVE 0011*62f909d5", "4 ERR arg nonce*dbd72f24", "seeded"),
    ("5 PROVE 00112233445566778*b7c8f543", "5 ERR arg nonce*622cf4cc", "seeded"),
    (
        "6 PROVE ababababababababababababababababababababababababababababababababab*10524e52",
        "6 ERR arg nonce*73519eb5",
        "seeded",
    ),
    ("7 PROVE 00112233445566zz*ee42c80a", "7 ERR arg nonce*caaa455d", "seeded"),
    ("8 SEED JT-000042 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 6 30*bd9cc60a", "8 ERR state*e32272d8", "seeded"),
    ("9 TIME 1767225700*d779a73a", "9 OK time=1767225700*42b778ff", "seeded"),
    ("11 LOCK*0dc12332", "11 OK state=locked*f5a135a9", "seeded"),
    # starting state: seeded-clock-lost
    (
        "1 HELLO*93b2e785",
        "1 OK proto=1 fw=1.0.0 model=host serial=JT-000042 state=seeded clock=lost time=1767225612*8daa74eb",
        "seeded-clock-lost",
    ),
    ("2 CODE*59752a31", "2 ERR clock*1c654635", "seeded-clock-lost"),
    (
        "3 PROVE 00112233445566778899aabbccddeeff*3e16d841",
        "3 OK mac=32ff08a950bc90b30c2b6ccd6b27a6e219ff07fa*4db28576",
        "seeded-clock-lost",
    ),
    ("4 TIME 1767225612*33103e72", "4 OK time=1767225612*02314408", "seeded-clock-lost"),
    # starting state: locked
    (
        "1 HELLO*93b2e785",
        "1 OK proto=1 fw=1.0.0 model=host serial=JT-000042 state=locked clock=ok time=1767225612*4e663457",
        "locked",
    ),
    ("2 CODE*59752a31", "2 ERR presence*932ada34", "locked"),  # nobody pressed the button
    ("3 TIME 1767225700*e5557863", "3 ERR state*c003f59c", "locked"),
    ("4 TIME 1*b29120f8", "4 ERR arg time*9aebbfd6", "locked"),
    ("5 SEED JT-000042 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 6 30*5613f174", "5 ERR state*28b63fdf", "locked"),
    ("6 LOCK*327ec3b1", "6 ERR state*b15459de", "locked"),
    (
        "7 PROVE 00112233445566778899aabbccddeeff*ee979b9e",
        "7 OK mac=32ff08a950bc90b30c2b6ccd6b27a6e219ff07fa*1d4133f9",
        "locked",
    ),
    ("8 WIPE JT-000099*5eb23259", "8 ERR arg serial*8b3083d9", "locked"),
    ("9 WIPE bad_serial*26b5208f", "9 ERR arg serial*25581248", "locked"),
    ("10 WIPE JT-000042*94ddd0ff", "10 OK state=blank*3b3d0327", "locked"),
    # starting state: locked-pressed
    ("2 CODE*59752a31", "2 OK code=745690 step=58907520 left=18*82fb7e2b", "locked-pressed"),
    ("3 TIME 1767225700*e5557863", "3 ERR state*c003f59c", "locked-pressed"),
    (
        "7 PROVE 00112233445566778899aabbccddeeff*ee979b9e",
        "7 OK mac=32ff08a950bc90b30c2b6ccd6b27a6e219ff07fa*1d4133f9",
        "locked-pressed",
    ),
    # starting state: locked-clock-lost
    (
        "1 HELLO*93b2e785",
        "1 OK proto=1 fw=1.0.0 model=host serial=JT-000042 state=locked clock=lost time=1767225612*c88cf8c7",
        "locked-clock-lost",
    ),
    ("2 CODE*59752a31", "2 ERR clock*1c654635", "locked-clock-lost"),
    ("3 TIME 1767225700*e5557863", "3 ERR state*c003f59c", "locked-clock-lost"),
    # starting state: locked-sha256-8-60 (pressed)
    (
        "1 HELLO*93b2e785",
        "1 OK proto=1 fw=1.0.0 model=host serial=JT-000043 state=locked clock=ok time=1767225612*00ef3ffe",
        "locked-sha256-8-60",
    ),
    ("2 CODE*59752a31", "2 OK code=30962343 step=29453760 left=48*ba46e2a1", "locked-sha256-8-60"),
    (
        "3 PROVE 00112233445566778899aabbccddeeff*3e16d841",
        "3 OK mac=c3ae99ebfef69fbed3a0ae6e5a1a93882ec0eb9878b2dc5af621a6784d17a889*b7ed5326",
        "locked-sha256-8-60",
    ),
    # starting state: corrupt
    (
        "1 HELLO*93b2e785",
        "1 OK proto=1 fw=1.0.0 model=host serial=- state=corrupt clock=ok time=1767225612*76e875a5",
        "corrupt",
    ),
    ("2 CODE*59752a31", "2 ERR storage*065ae92a", "corrupt"),
    ("3 TIME 1767225612*13824239", "3 ERR storage*dbcc30af", "corrupt"),
    ("4 SEED JT-000042 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 6 30*3f5ff485", "4 ERR storage*a6bf36f7", "corrupt"),
    ("5 PROVE 00112233445566778899aabbccddeeff*6b6fb951", "5 ERR storage*7b29ef72", "corrupt"),
    ("6 LOCK*327ec3b1", "6 ERR storage*c6e383bc", "corrupt"),
    ("7 FOO*9084c20c", "7 ERR verb*00192cf0", "corrupt"),
    ("8 WIPE*0db66278", "8 ERR arg count*a9df505f", "corrupt"),
    ("9 WIPE JT-000001*2fc390b3", "9 OK state=blank*7d46d7d5", "corrupt"),
]


def crc(body: str) -> str:
    """The 8 lowercase hex digits of the CRC-32 of a frame body."""
    return f"{zlib.crc32(body.encode('ascii')):08x}"


def frame(body: str) -> str:
    """The frame line (without newline) carrying ``body``."""
    return f"{body}*{crc(body)}"
