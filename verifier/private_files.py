"""Files that hold secrets (key rings, exports, QR codes, the SQLite database): readable by their owner only.

A secret file is never written in place. :func:`write_private` creates a new file under a temporary name in the
same directory with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and mode 0600, writes it whole, flushes it to disk, then
renames it over the destination. So:

- the file is 0600 whatever the old one's mode was (``--force`` never keeps a 0644 file's mode);
- a symbolic link planted at the destination is replaced, never followed: its target is left untouched;
- a file or link planted at the temporary name makes the write fail instead of being reused;
- a reader sees the old file or the new one, never half of one (a crash leaves at most a ``.tmp`` file).

>>> write_private("/etc/jeton/export.pskc", data)                        # doctest: +SKIP
>>> write_private("/etc/jeton/keys.json", text.encode(), replace=False)   # doctest: +SKIP

:func:`private_sqlite_file` creates an SQLite database file 0600 before SQLite opens it; SQLite gives its
``-wal``, ``-shm`` and ``-journal`` files the database file's mode, so they are 0600 too.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

#: the mode of every file that holds a secret
PRIVATE_MODE = 0o600
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
#: the files SQLite keeps beside a database, which hold the same data
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a power cut right after it keeps the new name)."""
    with contextlib.suppress(OSError):  # some file systems refuse to open or sync a directory: best effort
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_private(path: str | os.PathLike, data: bytes, *, replace: bool = True) -> Path:
    """Write ``data`` to ``path`` as a new file of mode 0600 (see the module's docstring for how).

    ``replace=False`` refuses an existing destination (``FileExistsError``), even one created a moment ago by
    another process, and even a dangling symbolic link. OSError (a missing folder, no permission, a full disk)
    reaches the caller, which says it in French; nothing is left behind. A destination that is neither a regular file
    nor a link (``/dev/null``, a pipe, a folder) is refused with EINVAL: replacing it would break the system.
    """
    path = Path(path)
    with contextlib.suppress(FileNotFoundError):
        kind = stat.S_IFMT(os.lstat(path).st_mode)
        if kind not in (stat.S_IFREG, stat.S_IFLNK):  # a device, a pipe, a folder: never replaced by a file
            raise OSError(errno.EINVAL, "not a regular file: not replaced", str(path))
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, _CREATE, PRIVATE_MODE)
    try:
        try:
            os.fchmod(fd, PRIVATE_MODE)  # exactly 0600, whatever the umask took away
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(tmp, path)  # rename(2) replaces a link at ``path``, never writes through it
        else:
            os.link(tmp, path)  # link(2) fails on any existing name, dangling links too
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(path.parent)
    return path


def is_private(path: str | os.PathLike) -> bool:
    """True when ``path`` is a regular file (not a link) that neither its group nor others can use."""
    info = os.lstat(path)
    return stat.S_ISREG(info.st_mode) and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)


def private_sqlite_file(database: str | os.PathLike | None) -> None:
    """Before SQLite opens ``database``: create it empty with mode 0600 (in a folder made 0700 when it is new),
    or take group and other permissions away from an existing one of ours and from its side files (a database
    made by an older version with the umask's 0644). SQLite creates the side files with the database's mode.
    In-memory databases and ``file:`` URIs (which SQLite opens itself) are left alone."""
    if not database or str(database) == ":memory:" or str(database).startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, _CREATE, PRIVATE_MODE)
    except FileExistsError:
        pass
    else:
        try:
            os.fchmod(fd, PRIVATE_MODE)
        finally:
            os.close(fd)
        return
    uid = os.geteuid()
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_FILES)):
        try:
            info = candidate.stat()
        except FileNotFoundError:
            continue
        if info.st_uid == uid and stat.S_ISREG(info.st_mode) and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            os.chmod(candidate, stat.S_IMODE(info.st_mode) & ~(stat.S_IRWXG | stat.S_IRWXO))
