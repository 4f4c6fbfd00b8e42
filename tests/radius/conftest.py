"""RADIUS fixtures: a store on SQLite or PostgreSQL with one declared gateway (127.0.0.1), a teacher whose token
is assigned, and a real ``jeton-radius`` process on a free port."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.radius.client import SECRET
from verifier import init_store
from verifier.radius.clients import add_client
from verifier.schema import audit

JETON_RADIUS = str(Path(sys.executable).with_name("jeton-radius"))


@pytest.fixture(autouse=True)
def _logs_never_hold_planted_values(planted, caplog):
    caplog.set_level(logging.DEBUG, logger="verifier")
    yield
    planted.assert_not_in_logs(caplog)


@pytest.fixture
def store(db_url, keys_file, planted):
    """An initialised store with the gateway 127.0.0.1 declared (Message-Authenticator required)."""
    st, _created, _revs = init_store(db_url, keys_file)
    add_client(st, "vpn-test", "127.0.0.1", SECRET)
    yield st
    try:
        planted.assert_not_in_rows(st.engine, audit)
    finally:
        st.close()


def audit_count(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(audit)).scalar()


@dataclass
class RunningServer:
    process: subprocess.Popen
    host: str
    port: int

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def stop(self) -> str:
        """SIGTERM, wait, and return what it printed on stderr (its STATS lines)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _out, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _out, err = self.process.communicate()
        return err


def start_server(db_url: str, keys_file, *, workers: int = 1, port: int = 0, extra: tuple = ()) -> RunningServer:
    """``jeton-radius`` as IT staff start it; returns once it printed ``LISTEN HOST:PORT``."""
    cmd = [JETON_RADIUS, "--db", db_url, "--keys", str(keys_file), "--listen", f"127.0.0.1:{port}",
           "--workers", str(workers), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = proc.stdout.readline()
    if not line.startswith("LISTEN "):
        proc.kill()
        raise AssertionError(f"jeton-radius did not start: {line!r} {proc.communicate()[1]}")
    host, _, port_text = line.split()[1].rpartition(":")
    return RunningServer(proc, host, int(port_text))


@pytest.fixture
def server(store, db_url, keys_file):
    srv = start_server(db_url, keys_file)
    yield srv
    srv.stop()
