"""The token's state in one small file, replaced atomically (write new, then rename), with a CRC-32.

Record (one ASCII line): ``JETON1;STATE;SERIAL;SECRET_HEX;ALGO;DIGITS;PERIOD*CRC``. No file means a blank
token fresh from flashing; a file that fails its check means a corrupt store, never a blank one.

WIPE must erase the secret from the flash, not only from the file system: littlefs writes every new version
of a file to other blocks and leaves the old ones as they were until it reuses them. So the record is padded
to ``PAD`` bytes, more than littlefs keeps inline in its directory logs (at most block/8 = 512 bytes on the
rp2 port), so that each version lives in a data block of its own; and after WIPE, ``scrub`` fills the free
space with a file of zeros, which makes littlefs erase and rewrite every free block (the old versions among
them), then removes it. A marker file says a scrub is owed, so a power cut during one finishes it at the
next boot. The simulator's flash is a host directory, not a littlefs: there ``scrub`` is off (the board says),
and tests/firmware/test_wipe.py runs this code on MicroPython's own littlefs.
"""

import binascii
import os

NAME = "jeton.dat"
TMP = "jeton.tmp"
SCRUB = "scrub.tmp"  # the filler, while a scrub runs
OWED = "scrub.owe"  # exists from a WIPE until its scrub has finished
MAGIC = "JETON1"
PAD = 1024
_CHUNK = 512


def _join(d, name):
    return name if not d else d.rstrip("/") + "/" + name


class Store:
    """Loads and saves the token's state in directory ``root``.

    ``fs`` gives the file operations (``open``, ``rename``, ``remove``); the default is the built-ins and
    ``os``, and tests pass one that stops at a chosen step to play a power cut.
    """

    def __init__(self, root, fs=None, scrub=False):
        self.root = root
        self.fs = fs if fs is not None else _Fs()
        self.path = _join(root, NAME)
        self.tmp = _join(root, TMP)
        self.scrubs = scrub  # the board's file system keeps old blocks (littlefs): erase them after WIPE
        self.owed = False  # a WIPE's scrub is still to run (owes_scrub() reads it from the flash at boot)
        self._clear()

    def _clear(self):
        self.state = "blank"
        self.serial = ""
        self.secret = b""
        self.algo = "sha1"
        self.digits = 6
        self.period = 30

    def load(self):
        """Read the file; set and return the state (blank, seeded, locked or corrupt)."""
        self._clear()
        try:
            f = self.fs.open(self.path, "rb")
        except OSError:
            return self.state  # no file: never seeded
        try:
            data = f.read(PAD)
        finally:
            f.close()
        end = data.find(b"\n")
        rec = decode(data[: end + 1] if end >= 0 else data)
        if rec is None:
            self.state = "corrupt"
            return self.state
        self.state, self.serial, self.secret, self.algo, self.digits, self.period = rec
        return self.state

    def save(self, state, serial, secret, algo, digits, period):
        """Replace the file atomically; True on success (and the new state is live), False otherwise."""
        data = encode(state, serial, secret, algo, digits, period)
        try:
            f = self.fs.open(self.tmp, "wb")
            try:
                f.write(data)
                f.write(b" " * (PAD - len(data)))  # a data block of its own, never inline in a directory log
            finally:
                f.close()
            self.fs.rename(self.tmp, self.path)
        except OSError:
            return False
        self.state, self.serial, self.secret, self.algo, self.digits, self.period = (
            state, serial, secret, algo, digits, period)
        return True

    def wipe(self):
        """Destroy the secret: forget it in RAM, then replace the file by a blank record (a scrub is owed)."""
        self.secret = b""
        self.serial = ""
        ok = True
        if self.scrubs:
            try:
                self.fs.open(_join(self.root, OWED), "wb").close()
            except OSError:
                ok = False
        ok = ok and self.save("blank", "", b"", "sha1", 6, 30)
        if ok:
            self._clear()
            self.owed = self.scrubs
        else:
            self.load()  # the write failed: the flash still holds the old state; never run on a half-cleared one
        return ok

    def owes_scrub(self):
        """At boot: does the flash say a WIPE's scrub was cut short?"""
        if not self.scrubs:
            return False
        try:
            self.fs.open(_join(self.root, OWED), "rb").close()
        except OSError:
            return False
        self.owed = True
        return True

    def scrub(self, feed=None):
        """Erase the free blocks of the file system (the old versions of the record with them): fill the free
        space with zeros, then remove the filler and the marker. ``feed`` is called between chunks (watchdog)."""
        path = _join(self.root, SCRUB)
        chunk = bytes(_CHUNK)
        try:
            f = self.fs.open(path, "wb")
        except OSError:
            return False
        try:
            while True:
                if feed is not None:
                    feed()
                try:
                    if f.write(chunk) != _CHUNK:
                        break
                except OSError:  # ENOSPC: every free block has been rewritten
                    break
        finally:
            try:
                f.close()
            except OSError:
                pass
        try:
            self.fs.remove(path)
            self.fs.remove(_join(self.root, OWED))
        except OSError:
            return False
        self.owed = False
        return True


def encode(state, serial, secret, algo, digits, period):
    body = ";".join((MAGIC, state, serial, binascii.hexlify(secret).decode(), algo, str(digits), str(period)))
    body = body.encode()
    return body + b"*" + ("%08x" % (binascii.crc32(body) & 0xFFFFFFFF)).encode() + b"\n"


def decode(data):
    """The fields of a record, or None when it fails any check."""
    if not data.endswith(b"\n"):
        return None
    star = data.rfind(b"*")
    if star < 0 or len(data) != star + 10:
        return None
    body = data[:star]
    if data[star + 1 : star + 9] != ("%08x" % (binascii.crc32(body) & 0xFFFFFFFF)).encode():
        return None
    try:
        parts = body.decode().split(";")
        if len(parts) != 7 or parts[0] != MAGIC:
            return None
        magic, state, serial, secret_hex, algo, digits, period = parts
        secret = binascii.unhexlify(secret_hex)
        digits = int(digits)
        period = int(period)
    except (ValueError, UnicodeError):
        return None
    if state == "blank":
        if serial or secret:
            return None
    elif state in ("seeded", "locked"):
        if not serial or not 16 <= len(secret) <= 64:
            return None
    else:
        return None
    if algo not in ("sha1", "sha256") or digits not in (6, 8) or period not in (30, 60):
        return None
    return state, serial, secret, algo, digits, period


class _Fs:
    def open(self, path, mode):
        return open(path, mode)

    def rename(self, a, b):
        os.rename(a, b)

    def remove(self, path):
        os.remove(path)
