"""HOTP (RFC 4226) and TOTP (RFC 6238) with HMAC-SHA1 and HMAC-SHA256, for MicroPython and CPython.

MicroPython hash objects cannot be copied, so every HMAC builds two fresh hash objects.

    >>> import otp
    >>> otp.hotp(b"12345678901234567890", 0)
    '755224'
"""

import hashlib

_BLOCK = 64  # both SHA-1 and SHA-256 have a 64-byte block
_DIGEST_SIZE = {"sha1": 20, "sha256": 32}
_POW10 = (1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000)
_B32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _new(algo):
    if algo == "sha1":
        return hashlib.sha1()
    if algo == "sha256":
        return hashlib.sha256()
    raise ValueError("algo")


def hmac(algo, key, msg):
    """HMAC-ALGO(key, msg) as bytes."""
    if len(key) > _BLOCK:
        h = _new(algo)
        h.update(key)
        key = h.digest()
    ipad = bytearray(_BLOCK)
    opad = bytearray(_BLOCK)
    for i in range(len(key)):
        ipad[i] = key[i]
        opad[i] = key[i]
    for i in range(_BLOCK):
        ipad[i] ^= 0x36
        opad[i] ^= 0x5C
    inner = _new(algo)
    inner.update(ipad)
    inner.update(msg)
    outer = _new(algo)
    outer.update(opad)
    outer.update(inner.digest())
    return outer.digest()


def hotp(key, counter, digits=6, algo="sha1"):
    """The HOTP value for ``counter`` as a zero-padded string of ``digits`` digits."""
    msg = bytearray(8)
    c = counter
    for i in range(7, -1, -1):
        msg[i] = c & 0xFF
        c >>= 8
    mac = hmac(algo, key, msg)
    off = mac[-1] & 0x0F
    value = ((mac[off] & 0x7F) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3]
    s = str(value % _POW10[digits])
    return "0" * (digits - len(s)) + s


def totp(key, unix, period=30, digits=6, algo="sha1"):
    """The TOTP value at Unix time ``unix`` (seconds, UTC)."""
    return hotp(key, int(unix) // period, digits, algo)


def b32decode(text):
    """Decode base32 (either case, padding optional); raise ValueError on anything else."""
    data = text.upper().rstrip("=") if isinstance(text, str) else text.decode().upper().rstrip("=")
    if len(data) % 8 in (1, 3, 6):
        raise ValueError("b32 length")
    out = bytearray()
    acc = 0
    bits = 0
    for ch in data:
        v = _B32.find(ord(ch).to_bytes(1, "big"))
        if v < 0:
            raise ValueError("b32 char")
        acc = ((acc << 5) | v) & 0xFFFF
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return bytes(out)
