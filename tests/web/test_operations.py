"""Operations (issue 17, item 5): `/metrics` in Prometheus format and `/healthz`, for this host and the configured
networks only; under `jeton-web serve`, the counts of every worker process summed."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from booklet_web import create_app
from tests.web.support import PIN, code_for, csrf_token


def value(text: str, name: str, **labels) -> float:
    """One sample of a Prometheus text page (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def scrape(client) -> str:
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    return answer.text


def web_login(world, login: str, passcode: str, address: str = "192.0.2.10"):
    client = world.app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/connexion/")
    return client.post("/connexion/", data={"csrf_token": csrf_token(page.text), "identifiant": login,
                                            "passcode": passcode})


def test_metrics_count_accepts_rejects_by_reason_locks_throttling_and_latency(any_world):
    world = any_world
    ops = world.app.test_client()
    before = scrape(ops)
    world.activate("jdupont")  # the code alone: NEW_PIN_REQUIRED
    assert web_login(world, "jdupont", PIN + code_for("jdupont", world.clock.t)).status_code == 302
    assert web_login(world, "jdupont", PIN + code_for("jdupont", world.clock.t)).status_code == 401  # replay
    world.clock.step()
    assert web_login(world, "jdupont", "7391" + code_for("jdupont", world.clock.t)).status_code == 401  # PIN
    assert web_login(world, "personne", PIN + "123456").status_code == 401  # unknown login
    v = world.app.extensions["jeton"].verifier
    world.activate("mmartin")
    for _ in range(10):  # no source: not throttled; the tenth failure locks the token
        v.authenticate("mmartin", PIN + "000000", now=world.clock.t)
    world.store.lock("JT-0001", actor="adurand", now=world.clock.t)
    statuses = [web_login(world, "adurand", PIN + "000000", "192.0.2.77").status_code for _ in range(8)]
    assert 429 in statuses
    after = scrape(ops)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("jeton_auth_attempts_total", outcome="ACCEPT", reason="token") == 1
    assert delta("jeton_auth_attempts_total", outcome="NEW_PIN_REQUIRED", reason="none") == 2
    assert delta("jeton_auth_attempts_total", outcome="REJECT", reason="replay") == 1
    assert delta("jeton_auth_attempts_total", outcome="REJECT", reason="pin") >= 1
    assert delta("jeton_auth_attempts_total", outcome="REJECT", reason="unknown") == 1
    assert delta("jeton_auth_attempts_total", outcome="LOCKED", reason="code") == 1  # the right PIN, no code
    assert delta("jeton_token_locks_total", cause="failures") == 1
    assert delta("jeton_token_locks_total", cause="administrator") == 1
    throttled = statuses.count(429)
    assert delta("jeton_throttled_requests_total") == throttled
    assert delta("jeton_auth_attempts_total", outcome="THROTTLED", reason="none") == throttled
    calls = 2 + 4 + 10 + len(statuses)
    assert sum(delta("jeton_authenticate_seconds_count", outcome=o) for o in
               ("ACCEPT", "REJECT", "LOCKED", "THROTTLED", "NEW_PIN_REQUIRED", "NEXT_CODE_REQUIRED")) == calls
    assert "jeton_authenticate_seconds_bucket" in after and 'le="0.01"' in after


def test_healthz_says_ok_then_503_when_the_database_is_gone(world):
    ops = world.app.test_client()
    answer = ops.get("/healthz")
    assert answer.status_code == 200 and answer.json == {"status": "ok", "database": "ok", "keys": "ok"}
    assert "Set-Cookie" not in answer.headers and answer.headers["Cache-Control"] == "no-store"
    path = Path(world.url.removeprefix("sqlite:///"))
    path.rename(path.with_name("moved.db"))  # the file replaced by an empty one
    world.app.extensions["jeton"].store.engine.dispose()
    answer = ops.get("/healthz")
    assert answer.status_code == 503
    assert answer.json == {"status": "indisponible", "database": "SchemaError", "keys": "ok"}


def test_only_this_host_and_configured_networks_may_read_them(world):
    for url in ("/metrics", "/healthz"):
        far = world.app.test_client()
        far.environ_base["REMOTE_ADDR"] = "203.0.113.5"
        assert far.get(url).status_code == 403
        relayed = world.app.test_client()  # through a proxy the application was not told about
        assert relayed.get(url, headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 403
        assert world.app.test_client().get(url).status_code == 200  # 127.0.0.1
    app = create_app({"TESTING": True, "JETON_DB_URL": world.url, "JETON_KEYS_FILE": str(world.keys),
                      "JETON_OPS_ALLOW": "10.0.0.0/8, 2001:db8::/32", "SECRET_KEY": "test"})
    try:
        for address, status in (("10.1.2.3", 200), ("2001:db8::7", 200), ("127.0.0.1", 403), ("11.0.0.1", 403)):
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = address
            assert client.get("/metrics").status_code == status, address
    finally:
        app.extensions["jeton"].store.close()
        app.extensions["jeton"].db.dispose()


def test_a_malformed_ops_allow_is_one_french_line():
    proc = subprocess.run([str(Path(sys.executable).with_name("jeton-web")), "serve", "--keys", "k.json",
                           "--ops-allow", "10.0.0.0/33"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr == ("jeton-web: --ops-allow : adresse ou réseau invalide dans '10.0.0.0/33' (par exemple "
                           "127.0.0.1,10.0.0.0/8)\n")


@pytest.mark.slow
def test_serve_sums_the_counts_of_every_worker(tmp_path, port):
    from tests.web.support import prepare_database

    db = f"sqlite:///{tmp_path / 'jeton.db'}"
    prepare_database(db, tmp_path / "keys.json").close()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    server = subprocess.Popen([str(Path(sys.executable).with_name("jeton-web")), "serve", "--db", db, "--keys",
                               str(tmp_path / "keys.json"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "--insecure-http"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()  # noqa: S310 - our own server
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline and server.poll() is None, "server did not answer"
                time.sleep(0.2)
        for n in range(12):  # each request on a new connection: the two workers share them out
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
            with opener.open(f"{base}/connexion/") as answer:
                page = answer.read().decode()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            form = urllib.parse.urlencode({"csrf_token": token, "identifiant": f"inconnu{n}",
                                           "passcode": PIN + "123456"}).encode()
            with pytest.raises(urllib.error.HTTPError) as refused:
                opener.open(f"{base}/connexion/", data=form)
            refused.value.close()
            assert refused.value.code == 401
        for _ in range(6):  # whichever worker answers, it tells the sum
            with urllib.request.urlopen(f"{base}/metrics", timeout=5) as answer:  # noqa: S310 - our own server
                text = answer.read().decode()
            assert value(text, "jeton_auth_attempts_total", outcome="REJECT", reason="unknown") == 12
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    assert err.count("Booting worker") >= 2
