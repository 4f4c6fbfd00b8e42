"""`jeton-web init-db` and `jeton-web serve`: gunicorn with several worker processes on one PostgreSQL, a real
login over HTTP with a code of the real clock."""

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

import verifier
from tests.support import throwaway_postgres_database
from tests.web.support import PIN, SECRETS, SERIALS, code_for, sample_roster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
JETON_WEB = str(Path(sys.executable).with_name("jeton-web"))


def run(*args, **kw):
    return subprocess.run([JETON_WEB, *args], capture_output=True, text=True, timeout=120, **kw)


def wait_for(url, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError("server did not answer")


def test_init_db_then_serve_with_two_workers_on_postgresql(postgres_base_url, tmp_path, port):
    keys = tmp_path / "keys.json"
    with throwaway_postgres_database(postgres_base_url) as url:
        db = url.render_as_string(hide_password=False)
        proc = run("init-db", "--db", db)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert proc.stderr.strip() == ("jeton-web: les tables du vérificateur manquent : lancez d'abord "
                                       "`jeton-admin init`")
        store, _, _ = verifier.init_store(db, keys)
        proc = run("init-db", "--db", db)
        assert proc.returncode == 0, proc.stderr
        assert "schéma du livret aucun -> b0001 ; référentiel : 7 compétences, 98 items" in proc.stdout
        assert run("init-db", "--db", db).stdout.startswith("schéma du livret b0001 -> b0001")
        roster = tmp_path / "roster.csv"
        roster.write_bytes(sample_roster())
        assert run("import-roster", str(roster), "--db", db).returncode == 0
        store.import_token(SERIALS["jdupont"], SECRETS["jdupont"])
        store.assign(SERIALS["jdupont"], "jdupont")
        from verifier.verification import Verifier

        past = time.time() - 90  # the first login and the new PIN, three steps ago
        first = Verifier(store).authenticate("jdupont", code_for("jdupont", past), now=past)
        Verifier(store).set_pin(first.ticket, PIN, PIN, now=past)
        store.close()

        env = {**os.environ, "JETON_KEYS_FILE": str(keys)}
        server = subprocess.Popen([JETON_WEB, "serve", "--db", db, "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                   "--insecure-http"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/connexion/", server)
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            page = opener.open(f"{base}/connexion/").read().decode()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            form = urllib.parse.urlencode({"csrf_token": token, "identifiant": "jdupont",
                                           "passcode": PIN + code_for("jdupont", time.time())}).encode()
            home = opener.open(f"{base}/connexion/", data=form).read().decode()
            assert "Accès au livret - OTP" in home and "Jean Dupont" in home
            for _ in range(6):  # whichever worker answers knows the session (one signing key on disk)
                assert "3A" in opener.open(f"{base}/").read().decode()
            assert len([c for c in jar if c.name == "jeton_session"]) == 1
        finally:
            server.terminate()
            out, err = server.communicate(timeout=30)
        assert "Booting worker" in err and err.count("Booting worker") >= 2
        assert PIN not in err and PIN not in out
