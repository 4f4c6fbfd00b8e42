"""Opening the token store: the database at its URL and the key ring of its file, checked or created.

``open_store`` for every program that uses an existing store (it refuses a missing key ring or an old schema);
``init_store`` for ``jeton-admin init``, which creates or upgrades both.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from verifier import audit as audit_log
from verifier import db
from verifier.errors import NoKeysError
from verifier.keyring import KeyRing, create_keyring, load_keyring
from verifier.settings import Settings
from verifier.store import Store


def _keys_path(keys_file: str | os.PathLike | None) -> Path:
    keys_file = keys_file or os.environ.get("JETON_KEYS_FILE")
    if not keys_file:
        raise NoKeysError()
    return Path(keys_file)


def _with_web_key(ring: KeyRing) -> KeyRing:
    """A key ring of an earlier release has no web signing key: give it one, taking over the separate
    ``<keys>.web-secret`` file of that release (then removed) so that open forms keep working."""
    if ring.web_primary is not None:
        return ring
    legacy = ring.path.with_name(f"{ring.path.name}.web-secret")
    key = legacy.read_bytes() if legacy.is_file() else None
    ring = ring.with_web_key(key, now=time.time(), grace=0)
    ring.save(ring.path)
    legacy.unlink(missing_ok=True)
    return ring


def open_store(url: str | None = None, keys_file: str | os.PathLike | None = None, *,
               settings: Settings | None = None) -> Store:
    """Open the token store at ``url`` (default: JETON_DB_URL or the embedded SQLite file) with the key ring of
    ``keys_file`` (default: JETON_KEYS_FILE). Refuses to start without keys or with an old schema."""
    ring = load_keyring(_keys_path(keys_file))
    engine = db.make_engine(url)
    try:
        db.check_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, ring, settings)


def init_store(url: str | None = None, keys_file: str | os.PathLike | None = None, *,
               settings: Settings | None = None, actor: str = "system") -> tuple[Store, bool, tuple]:
    """Create or upgrade the database and, when the key file does not exist, create a key ring there (0600).

    Returns (store, whether a key ring was created, (revision before, revision after)).
    """
    path = _keys_path(keys_file)
    created = not path.exists()
    ring = create_keyring(path) if created else _with_web_key(load_keyring(path))
    engine = db.make_engine(url)
    try:
        revisions = db.upgrade(engine)
        with engine.begin() as conn:
            audit_log.write(conn, action="db.init", outcome="ok", actor=actor,
                            detail=f"schema {revisions[0] or 'none'} -> {revisions[1]}"
                            + ("; new key ring" if created else ""))
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, ring, settings), created, revisions
