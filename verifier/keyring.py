"""The key ring: AES-256-GCM keys for token secrets (key ids, one primary), the PIN pepper, and the web
application's signing keys (CSRF tokens).

The ring lives in a JSON file outside the database, readable by its owner only (mode 0600)::

    {"format": "jeton-keyring/1", "primary": "k-3f9a0c21",
     "keys": {"k-3f9a0c21": "<base64 of 32 bytes>"},
     "pepper": {"id": "p-77d2e810", "key": "<base64 of 32 bytes>"},
     "web": {"primary": "w-0c1d2e3f", "keys": {"w-0c1d2e3f": "<base64 of 32 bytes>"}, "retired": {}}}

``web`` is rotated with the token keys (``jeton-admin rotate-key``): the old web key is kept, marked retired at
that time, for one session lifetime, so that forms already open still submit; then the next rotation drops it.

Each secret is sealed with a random 96-bit nonce and associated data binding it to its token serial and key id,
so a ciphertext copied onto another row does not decrypt. The pepper never enters the database.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from verifier.errors import KeyRingError
from verifier.private_files import write_private

FORMAT = "jeton-keyring/1"
_NONCE = 12


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _associated_data(serial: str, key_id: str) -> bytes:
    return f"jeton-token-secret\x00{serial}\x00{key_id}".encode()


@dataclass
class KeyRing:
    """Encryption keys by id (one primary) and the PIN pepper."""

    keys: dict[str, bytes]
    primary: str
    pepper_id: str
    pepper: bytes
    path: Path | None = None
    #: web signing keys by id, the one that signs, and when each other one was retired (Unix seconds)
    web_keys: dict[str, bytes] = field(default_factory=dict, repr=False)
    web_primary: str | None = None
    web_retired: dict[str, float] = field(default_factory=dict)
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.primary not in self.keys:
            raise KeyRingError("key ring: the primary key id is not among the keys")
        for key_id, key in self.keys.items():
            if len(key) != 32:
                raise KeyRingError(f"key ring: key {key_id} is not 32 bytes (AES-256)")
        if len(self.pepper) < 32:
            raise KeyRingError("key ring: the pepper is shorter than 32 bytes")
        if self.web_keys and self.web_primary not in self.web_keys:
            raise KeyRingError("key ring: the primary web key id is not among the web keys")
        if any(len(k) < 32 for k in self.web_keys.values()):
            raise KeyRingError("key ring: a web key is shorter than 32 bytes")

    def __repr__(self) -> str:  # never show key material
        return f"KeyRing(primary={self.primary!r}, key_ids={sorted(self.keys)!r}, pepper_id={self.pepper_id!r})"

    @classmethod
    def generate(cls) -> KeyRing:
        """A new ring with one fresh primary key and a fresh pepper, from the OS CSPRNG."""
        key_id, web_id = _new_id("k"), _new_id("w")
        return cls(keys={key_id: AESGCM.generate_key(256)}, primary=key_id, pepper_id=_new_id("p"),
                   pepper=secrets.token_bytes(32), web_keys={web_id: secrets.token_bytes(32)}, web_primary=web_id)

    def _copy(self, **changes) -> KeyRing:
        values = {"keys": self.keys, "primary": self.primary, "pepper_id": self.pepper_id, "pepper": self.pepper,
                  "path": self.path, "web_keys": self.web_keys, "web_primary": self.web_primary,
                  "web_retired": self.web_retired}
        return KeyRing(**(values | changes))

    def with_web_key(self, key: bytes | None = None, *, now: float, grace: float) -> KeyRing:
        """A copy with a new web signing key (``key``, or a fresh one) made primary; the previous primary is kept,
        retired now, and keys retired more than ``grace`` seconds ago are dropped."""
        web_id = _new_id("w")
        retired = {k: t for k, t in self.web_retired.items() if t > now - grace and k in self.web_keys}
        if self.web_primary is not None:
            retired[self.web_primary] = now
        keys = {k: v for k, v in self.web_keys.items() if k in retired}
        keys[web_id] = secrets.token_bytes(32) if key is None else bytes(key)
        return self._copy(web_keys=keys, web_primary=web_id, web_retired=retired)

    def web_signing_keys(self, now: float, grace: float) -> list[bytes]:
        """The web keys to accept, oldest first, the signing key last (itsdangerous' order); [] when none."""
        if self.web_primary is None:
            return []
        old = sorted((t, k) for k, t in self.web_retired.items() if t > now - grace and k in self.web_keys)
        return [self.web_keys[k] for _t, k in old] + [self.web_keys[self.web_primary]]

    def _cipher(self, key_id: str) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            if key_id not in self.keys:
                raise KeyRingError(
                    f"the key ring has no key {key_id!r}: a token was sealed with a key missing from this key file"
                )
            cipher = self._ciphers[key_id] = AESGCM(self.keys[key_id])
        return cipher

    def seal(self, serial: str, secret: bytes) -> tuple[str, bytes]:
        """Encrypt a token secret under the primary key: (key id, nonce + ciphertext + tag)."""
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._cipher(self.primary).encrypt(nonce, bytes(secret), _associated_data(serial, self.primary))
        return self.primary, nonce + sealed

    def open(self, serial: str, key_id: str, blob: bytes) -> bytes:
        """Decrypt a token secret; a wrong key, serial or a tampered blob raises KeyRingError."""
        cipher = self._cipher(key_id)
        try:
            return cipher.decrypt(blob[:_NONCE], blob[_NONCE:], _associated_data(serial, key_id))
        except InvalidTag:
            raise KeyRingError(f"the secret of token {serial!r} does not decrypt (tampered, or another key)") from None

    def with_new_primary(self) -> KeyRing:
        """A copy of this ring with one more key, made primary (the old keys stay for reading)."""
        key_id = _new_id("k")
        keys = dict(self.keys)
        keys[key_id] = AESGCM.generate_key(256)
        return self._copy(keys=keys, primary=key_id)

    def without(self, key_ids: set[str]) -> KeyRing:
        """A copy without the given (non-primary) keys."""
        if self.primary in key_ids:
            raise KeyRingError("cannot drop the primary key")
        keys = {k: v for k, v in self.keys.items() if k not in key_ids}
        return self._copy(keys=keys)

    # -- files ---------------------------------------------------------------------------------------------

    def to_json(self) -> str:
        b64 = base64.b64encode
        data = {
            "format": FORMAT,
            "primary": self.primary,
            "keys": {k: b64(v).decode() for k, v in sorted(self.keys.items())},
            "pepper": {"id": self.pepper_id, "key": b64(self.pepper).decode()},
        }
        if self.web_primary is not None:
            data["web"] = {"primary": self.web_primary,
                           "keys": {k: b64(v).decode() for k, v in sorted(self.web_keys.items())},
                           "retired": dict(sorted(self.web_retired.items()))}
        return json.dumps(data, indent=2) + "\n"

    def save(self, path: str | os.PathLike, *, replace: bool = True) -> None:
        """Write the ring atomically: a new file of mode 0600, renamed over the old one (never written through a
        link); ``replace=False`` refuses an existing file, even one another process made a moment ago."""
        self.path = write_private(path, self.to_json().encode(), replace=replace)


def load_keyring(path: str | os.PathLike) -> KeyRing:
    """Read a key file; refuse a missing, malformed or group/world-readable one with a clear message."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyRingError(f"key file {path} does not exist (`jeton-admin init --keys {path}` creates one)",
                           french=f"le trousseau de clés {path} n'existe pas (`jeton-admin init --keys {path}` "
                                  "le crée)") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyRingError(f"key file {path} is readable by others (mode {stat.S_IMODE(mode):04o}): chmod 600 it",
                           french=f"le trousseau de clés {path} est lisible par d'autres (mode "
                                  f"{stat.S_IMODE(mode):04o}) : chmod 600 {path}")
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise ValueError("format")
        web = data.get("web") or {"primary": None, "keys": {}, "retired": {}}
        ring = KeyRing(
            keys={k: base64.b64decode(v, validate=True) for k, v in data["keys"].items()},
            primary=data["primary"],
            pepper_id=data["pepper"]["id"],
            pepper=base64.b64decode(data["pepper"]["key"], validate=True),
            path=path,
            web_keys={k: base64.b64decode(v, validate=True) for k, v in web["keys"].items()},
            web_primary=web["primary"],
            web_retired={k: float(t) for k, t in web.get("retired", {}).items()},
        )
    except KeyRingError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError):
        raise KeyRingError(f"key file {path} is not a Jeton key ring ({FORMAT})",
                           french=f"{path} n'est pas un trousseau de clés Jeton ({FORMAT})") from None
    return ring


def create_keyring(path: str | os.PathLike) -> KeyRing:
    """Create a new key file (mode 0600); refuse to overwrite an existing one."""
    path = Path(path)
    if os.path.lexists(path):
        raise KeyRingError(f"key file {path} already exists: not overwritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    ring = KeyRing.generate()
    try:
        ring.save(path, replace=False)
    except FileExistsError:
        raise KeyRingError(f"key file {path} already exists: not overwritten") from None
    return ring
