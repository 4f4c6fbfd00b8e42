"""Sessions end when they should (issue 12, item 1), over HTTP, with two `jeton-web serve` processes on one
database (SQLite and PostgreSQL): a teacher logs in on server A, an attacker keeps a copy of her cookie, an act
is done (logout; an administrator's act in the web console of server B; the same act with `jeton-admin`), and
the copied cookie, replayed on either server, gets the login page."""

from __future__ import annotations

import base64
import http.client
import os
import re
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest

import verifier
from booklet_web import schema
from booklet_web.db import open_database
from tests.support import free_port, throwaway_postgres_database
from tests.web.support import PIN
from verifier.verification import Verifier

pytestmark = [pytest.mark.slow]
BIN = Path(sys.executable).parent
WEB_ACTS = {"desactiver": "disable", "bloquer": "lock", "desaffecter": "unassign", "reinitialiser-pin": "reset_pin"}
CLI_ACTS = {"disable": ["disable", "{serial}", "--force"], "lock": ["lock", "{serial}"],
            "unassign": ["unassign", "{serial}", "--force"], "reset-pin": ["reset-pin", "{serial}", "--force"],
            "set-role": ["users", "set-role", "{login}", "admin"], "sessions-end": ["sessions", "{login}", "--end"]}


@dataclass
class Browser:
    """A browser's cookie for one site (several servers of one installation share the cookie's name)."""

    cookie: str = ""
    last_status: int = 0
    headers: dict = field(default_factory=dict)

    def request(self, port: int, method: str, path: str, form: dict | None = None) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            headers = {"Cookie": self.cookie} if self.cookie else {}
            body = None
            if form is not None:
                body = urllib.parse.urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode()
            self.last_status, self.headers = resp.status, dict(resp.getheaders())
            set_cookie = resp.getheader("Set-Cookie")
            if set_cookie:
                value = set_cookie.split(";", 1)[0]
                self.cookie = "" if value.endswith("=") else value
            return text
        finally:
            conn.close()

    def form(self, port: int, page: str, action: str, data: dict) -> str:
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                          self.request(port, "GET", page)).group(1)
        return self.request(port, "POST", action, {"csrf_token": token, **data})

    def opens_the_booklet(self, port: int) -> bool:
        self.request(port, "GET", "/")
        if self.last_status == 200:
            return True
        assert self.last_status == 302 and self.headers["Location"].endswith("/connexion/")
        return False


@dataclass
class Installation:
    url: str
    keys: Path
    ports: tuple[int, int]
    secrets: dict[str, str]
    serials: dict[str, str]

    def log_in(self, login: str, port: int) -> Browser:
        browser = Browser()
        browser.form(port, "/connexion/", "/connexion/",
                     {"identifiant": login, "passcode": PIN + pyotp.TOTP(self.secrets[login]).now()})
        assert browser.last_status == 302 and browser.headers["Location"].endswith("/"), browser.last_status
        return browser

    def admin(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "jeton-admin"), "--db", self.url, "--keys", str(self.keys), *args],
                              capture_output=True, text=True, timeout=60)


def _prepare(url: str, keys: Path, logins: list[str]) -> tuple[dict, dict]:
    store, _created, _revs = verifier.init_store(url, keys)
    database = open_database(url)
    schema.upgrade(database.engine)
    schema.load_referential_into(database.engine)
    database.dispose()
    secrets_b32, serials = {}, {}
    past = time.time() - 90  # first use and new PIN three steps ago: the login below uses a later code
    v = Verifier(store)
    for i, login in enumerate(logins):
        store.add_user(login, login.title(), role="admin" if login == "chef" else "teacher")
        serial = f"RV-{i:04d}"
        secret = os.urandom(20)
        store.import_token(serial, secret)
        store.assign(serial, login)
        first = v.authenticate(login, pyotp.TOTP(base64.b32encode(secret).decode()).at(int(past)), now=past)
        v.set_pin(first.ticket, PIN, PIN, now=past)
        secrets_b32[login], serials[login] = base64.b32encode(secret).decode(), serial
    store.close()
    return secrets_b32, serials


def _serve(url: str, keys: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "JETON_KEYS_FILE": str(keys)}
    with log.open("w") as err:
        return subprocess.Popen([str(BIN / "jeton-web"), "serve", "--db", url, "--bind", f"127.0.0.1:{port}",
                                 "--workers", "1", "--insecure-http"], stdout=subprocess.DEVNULL, stderr=err,
                                env=env)


def _wait(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited ({proc.returncode})")
        try:
            Browser().request(port, "GET", "/connexion/")
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not answer")


LOGINS = ["chef", "logout", "autre", "fermee", *(f"web-{a}" for a in WEB_ACTS), "web-role",
          *(f"cli-{a}" for a in CLI_ACTS)]


@pytest.fixture(params=["sqlite", "postgresql"])
def installation(request, tmp_path):
    if request.param == "sqlite":
        yield from _installation(f"sqlite:///{tmp_path / 'jeton.db'}", tmp_path)
    else:
        base = request.getfixturevalue("postgres_base_url")
        with throwaway_postgres_database(base) as url:
            yield from _installation(url.render_as_string(hide_password=False), tmp_path)


def _installation(url: str, tmp_path: Path):
    keys = tmp_path / "keys.json"
    secrets_b32, serials = _prepare(url, keys, LOGINS)
    ports = (free_port(), free_port())
    servers = [_serve(url, keys, p, tmp_path / f"server-{p}.log") for p in ports]
    try:
        for port, proc in zip(ports, servers, strict=True):
            _wait(port, proc)
        yield Installation(url, keys, ports, secrets_b32, serials)
    finally:
        for proc in servers:
            proc.terminate()
        for proc in servers:
            proc.wait(30)


def test_a_copied_cookie_dies_with_every_act_on_both_servers(installation):
    a, b = installation.ports
    chef = installation.log_in("chef", b)

    def stolen_after(login: str, act) -> Browser:
        victim = installation.log_in(login, a)
        copy = Browser(cookie=victim.cookie)
        assert copy.opens_the_booklet(a) and copy.opens_the_booklet(b)  # the copy works until the act
        act(victim)
        return copy

    copies = {"logout": stolen_after("logout", lambda v: v.form(a, "/", "/connexion/deconnexion", {}))}
    for action in WEB_ACTS:
        login = f"web-{action}"
        copies[login] = stolen_after(login, lambda _v, s=installation.serials[login], act=action: chef.form(
            b, "/admin/cles", "/admin/cles/action", {"serie": s, "action": act, "confirme": "oui"}))
    copies["web-role"] = stolen_after("web-role", lambda _v: chef.form(
        b, "/admin/cles", "/admin/cles/action", {"identifiant": "web-role", "action": "role", "role": "admin",
                                                 "confirme": "oui"}))
    for name, argv in CLI_ACTS.items():
        login = f"cli-{name}"

        def by_cli(_v, argv=argv, login=login):
            done = installation.admin(*[x.format(serial=installation.serials[login], login=login) for x in argv])
            assert done.returncode == 0, done.stderr
        copies[login] = stolen_after(login, by_cli)
    # an administrator ends all of a user's sessions in the console, or one of them
    copies["fermee"] = stolen_after("fermee", lambda _v: chef.form(
        b, "/admin/sessions", "/admin/sessions", {"identifiant": "fermee"}))

    def end_one(_v):
        page = chef.request(b, "GET", "/admin/sessions")
        ref = re.search(r'name="session" value="([0-9a-f]{16})" aria-label="Fermer cette session de autre"', page)
        chef.form(b, "/admin/sessions", "/admin/sessions", {"session": ref.group(1)})
    copies["autre"] = stolen_after("autre", end_one)

    for login, copy in copies.items():
        for port in (a, b):
            assert not copy.opens_the_booklet(port), f"{login}: the copied cookie still opens the booklet"
    assert chef.opens_the_booklet(a)  # the administrator's own session is untouched
