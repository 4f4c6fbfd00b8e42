"""``make radius-demo``: jeton-radius over the demo's database, its gateway declared once, its secret owner-only."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys

import pyrad.packet as rp

from tests.radius.client import exchange, free_udp_port, request
from verifier import init_store


def test_radius_demo_serves_the_demo_database_and_says_how_to_try_it(tmp_path):
    demo = tmp_path / "var" / "demo"
    demo.mkdir(parents=True)
    store, _created, _revs = init_store(f"sqlite:///{demo / 'demo.db'}", demo / "keys.json")
    store.close()
    listen = f"127.0.0.1:{free_udp_port()}"
    proc = subprocess.Popen([sys.executable, "-m", "verifier.radius.demo", listen], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        said = [proc.stdout.readline() for _ in range(4)]
        assert said[0].startswith(f"Serveur RADIUS de la démo sur {listen}")
        assert said[1].startswith(f"Essai : radtest jdupont PIN+CODE {listen} 0")
        assert said[3].strip() == f"LISTEN {listen}"
        secret_file = demo / "radius-secret"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = secret_file.read_text().strip().encode()
        host, port = listen.split(":")
        reply = exchange((host, int(port)), request(None, None, code=rp.StatusServer, secret=secret))
        assert reply is not None and reply.kind == "Access-Accept"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_radius_demo_without_a_demo_says_what_to_run(tmp_path):
    done = subprocess.run([sys.executable, "-m", "verifier.radius.demo"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1 and "lancez d'abord `make demo`" in done.stderr and "Traceback" not in done.stderr
