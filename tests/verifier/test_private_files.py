"""Files that hold secrets are owner-only and never written through a planted link (issue 12, item 4): the key
ring, any file written with ``write_private``, and the SQLite database with its -wal and -shm."""

from __future__ import annotations

import contextlib
import errno
import os
import stat

import pytest
import sqlalchemy as sa

from booklet_web.db import open_database
from verifier import init_store, open_store
from verifier.keyring import create_keyring, load_keyring
from verifier.private_files import is_private, private_sqlite_file, write_private


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@contextlib.contextmanager
def umask(value: int):
    """The process's umask for the block (a careless administrator's 000, or the usual 022)."""
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def test_a_link_planted_at_the_destination_is_replaced_and_its_target_left_untouched(tmp_path):
    target = tmp_path / "bashrc"
    target.write_text("the victim's file\n")
    target.chmod(0o644)
    planted = tmp_path / "export.csv"
    planted.symlink_to(target)
    write_private(planted, b"JT-0001,3132333435363738393031323334353637383930\n")
    assert target.read_text() == "the victim's file\n" and mode(target) == 0o644
    assert not planted.is_symlink() and is_private(planted) and mode(planted) == 0o600
    assert planted.read_bytes().startswith(b"JT-0001,")


def test_an_existing_world_readable_file_is_replaced_by_a_0600_one_whatever_the_umask(tmp_path):
    old = tmp_path / "tokens.pskcxml"
    old.write_text("old export")
    old.chmod(0o644)
    with umask(0):
        write_private(old, b"<KeyContainer/>")
    assert mode(old) == 0o600 and old.read_bytes() == b"<KeyContainer/>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.pskcxml"]  # no temporary file left behind


def test_a_link_planted_at_a_temporary_name_cannot_capture_the_write(tmp_path, monkeypatch):
    """Even an attacker who guessed the temporary name (here: forced) gets a failure, not the secret."""
    import verifier.private_files as private_files

    target = tmp_path / "attacker-readable"
    monkeypatch.setattr(private_files.secrets, "token_hex", lambda _n: "guessed")
    (tmp_path / ".keys.json.guessed.tmp").symlink_to(target)
    with pytest.raises(FileExistsError):
        write_private(tmp_path / "keys.json", b"secret")
    assert not target.exists() and not (tmp_path / "keys.json").exists()


def test_a_device_or_a_pipe_at_the_destination_is_never_replaced(tmp_path):
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    with pytest.raises(OSError) as refused:
        write_private(fifo, b"secret")
    assert refused.value.errno == errno.EINVAL and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]


def test_no_replace_refuses_any_existing_name_even_a_dangling_link(tmp_path):
    dangling = tmp_path / "keys.json"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError):
        write_private(dangling, b"secret", replace=False)
    assert not (tmp_path / "nowhere").exists() and dangling.is_symlink()
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]


def test_a_new_key_ring_is_0600_under_a_permissive_umask_and_never_created_through_a_link(tmp_path):
    with umask(0):
        create_keyring(tmp_path / "keys.json")
    assert mode(tmp_path / "keys.json") == 0o600
    load_keyring(tmp_path / "keys.json")  # and it loads (the loader refuses group/other bits)
    trap = tmp_path / "trap.json"
    trap.symlink_to(tmp_path / "stolen.json")
    with pytest.raises(Exception, match="already exists"):
        create_keyring(trap)
    assert not (tmp_path / "stolen.json").exists()


def test_a_key_rotation_rewrites_the_ring_0600_even_when_someone_loosened_it(tmp_path):
    store, _, _ = init_store(f"sqlite:///{tmp_path / 'jeton.db'}", tmp_path / "keys.json")
    store.close()
    with open_store(f"sqlite:///{tmp_path / 'jeton.db'}", tmp_path / "keys.json") as store:
        (tmp_path / "keys.json").chmod(0o640)  # loosened while the store runs
        store.rotate_key()
    assert mode(tmp_path / "keys.json") == 0o600


def sqlite_files(path) -> dict[str, int]:
    return {p.name: mode(p) for p in path.parent.iterdir() if p.name.startswith(path.name)}


@pytest.mark.parametrize("opener", ["verifier", "booklet"])
def test_the_sqlite_database_and_its_wal_and_shm_are_created_0600(tmp_path, opener):
    path = tmp_path / "var" / "jeton.db"
    url = f"sqlite:///{path}"
    with umask(0o022):  # the usual umask, which gives 0644 files
        if opener == "verifier":
            store, _, _ = init_store(url, tmp_path / "keys.json")
            engine = store.engine
        else:
            database = open_database(url)
            engine = database.engine
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO probe VALUES (1)"))
        with engine.connect() as conn:  # an open connection keeps the -wal and -shm files
            conn.execute(sa.text("SELECT count(*) FROM probe")).scalar()
            files = sqlite_files(path)
        (store.close() if opener == "verifier" else database.dispose())
    assert set(files) >= {"jeton.db", "jeton.db-wal", "jeton.db-shm"}, files
    assert set(files.values()) == {0o600}, files
    assert mode(path.parent) == 0o700  # the folder it made for the database


def test_an_older_world_readable_database_is_tightened_when_opened(tmp_path):
    path = tmp_path / "jeton.db"
    for name in ("jeton.db", "jeton.db-wal", "jeton.db-shm"):
        (tmp_path / name).touch()
        (tmp_path / name).chmod(0o644)
    private_sqlite_file(path)
    assert set(sqlite_files(path).values()) == {0o600}


def test_memory_databases_and_uris_are_left_to_sqlite(tmp_path):
    for database in (None, "", ":memory:", f"file:{tmp_path / 'x.db'}?mode=ro"):
        private_sqlite_file(database)
    assert list(tmp_path.iterdir()) == []
