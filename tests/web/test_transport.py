"""Transport and headers (issue 12, item 6): slow or idle clients do not block `jeton-web serve`; every page
forbids framing and leaks no referrer; over HTTPS, HSTS and a `__Host-` session cookie."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import free_port
from tests.web.support import PIN, code_for, csrf_token

BIN = Path(sys.executable).parent


def _get(port: int, timeout: float) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET /connexion/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return int(s.recv(64).split()[1])


@pytest.mark.slow
def test_idle_and_slow_clients_do_not_block_the_site(world, tmp_path):
    port = free_port()
    env = {**os.environ, "JETON_KEYS_FILE": str(world.keys)}
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen([str(BIN / "jeton-web"), "serve", "--db", world.url, "--bind", f"127.0.0.1:{port}",
                                   "--insecure-http"], stdout=log, stderr=log, env=env)
    idle = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _get(port, 5) == 200
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        # as many silent connections as there are worker processes, and as many that stop mid-request
        for _ in range(2):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            slow = socket.create_connection(("127.0.0.1", port), timeout=5)
            slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            idle.append(slow)
        time.sleep(0.5)
        for _ in range(5):  # the site still answers, at once, while they hang on
            assert _get(port, 10) == 200
    finally:
        for s in idle:
            s.close()
        server.terminate()
        server.wait(30)


def test_every_page_forbids_framing_and_referrers(client):
    page = client.get("/connexion/")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in page.headers  # plain HTTP: a browser would ignore it anyway


def test_over_https_hsts_and_a_host_prefixed_cookie(world):
    from booklet_web import create_app

    app = create_app({"TESTING": True, "JETON_DB_URL": world.url, "JETON_KEYS_FILE": str(world.keys),
                      "JETON_CLOCK": world.clock, "JETON_HTTPS": True})
    client = app.test_client()
    world.activate("jdupont")
    page = client.get("/connexion/", base_url="https://booklet.example")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    answer = client.post("/connexion/", base_url="https://booklet.example",
                         headers={"Referer": "https://booklet.example/connexion/"}, data={
        "csrf_token": csrf_token(page.text), "identifiant": "jdupont",
        "passcode": PIN + code_for("jdupont", world.clock.t)})
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("__Host-jeton_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert client.get("/", base_url="https://booklet.example").status_code == 200
