"""Keys (issue 12, item 3): the web signing keys live in the key ring, rotate with `jeton-admin rotate-key` (the old
one accepted for one session lifetime), a key file readable by others stops every program, and a CSRF token
dated in the future is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

import verifier
from booklet_web import create_app
from tests.web.support import csrf_token
from verifier.keyring import load_keyring

BIN = Path(sys.executable).parent


def app_for(world):
    """A web process of the installation, as a restart would build it: its keys read from the key ring."""
    return create_app({"TESTING": True, "JETON_DB_URL": world.url, "JETON_KEYS_FILE": str(world.keys),
                       "JETON_CLOCK": world.clock, "SESSION_COOKIE_SECURE": False})


def test_a_form_opened_before_rotate_key_still_submits_then_the_old_key_is_dropped(world):
    before = app_for(world)
    client = before.test_client()
    world.log_in(client, "jdupont")
    page = client.get("/connexion/sessions").text
    token = csrf_token(page)
    cookie = client.get_cookie("jeton_session").value

    world.store.rotate_key(actor="test", now=time.time())
    ring = load_keyring(world.keys)
    assert len(ring.web_keys) == 2 and ring.web_primary not in ring.web_retired

    after = app_for(world).test_client()  # the restarted process signs with the new key
    after.set_cookie("jeton_session", cookie)
    done = after.post("/connexion/sessions", data={"csrf_token": token, "session": "autres"})
    assert done.status_code == 302  # the old key still verifies the form opened before the rotation
    assert csrf_token(after.get("/connexion/sessions").text) != token

    # a session lifetime later, the next rotation drops the old key: the old form is refused
    world.store.rotate_key(actor="test", now=time.time() + 8 * 3600 + 1)
    assert len(load_keyring(world.keys).web_keys) == 2  # the previous primary, and the new one
    later = app_for(world).test_client()
    later.set_cookie("jeton_session", cookie)
    refused = later.post("/connexion/sessions", data={"csrf_token": token, "session": "autres"})
    assert refused.status_code == 400 and "Le formulaire a expiré" in refused.text


def test_a_csrf_token_dated_in_the_future_is_refused(world):
    app = app_for(world)
    client = app.test_client()
    world.log_in(client, "jdupont")
    client.get("/connexion/sessions")
    with client.session_transaction() as sess:
        raw = sess["csrf_token"]

    class Tomorrow(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) + 86400

    forged = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token", signer=Tomorrow).dumps(raw)
    page = client.post("/connexion/sessions", data={"csrf_token": forged, "session": "autres"})
    assert page.status_code == 400
    honest = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)
    assert client.post("/connexion/sessions", data={"csrf_token": honest, "session": "autres"}).status_code == 302


@pytest.mark.parametrize("mode", [0o640, 0o604])
def test_every_program_refuses_a_key_file_readable_by_others(world, mode, tmp_path):
    os.chmod(world.keys, mode)
    env = {**os.environ, "JETON_KEYS_FILE": str(world.keys)}
    for argv in (["jeton-web", "serve", "--db", world.url, "--bind", "127.0.0.1:1", "--insecure-http"],
                 ["jeton-admin", "--db", world.url, "tokens"]):
        done = subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True, env=env, timeout=60)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1 and len(lines) == 1, done.stderr
        assert f"lisible par d'autres (mode {mode:04o}) : chmod 600 {world.keys}" in lines[0]
        assert "Traceback" not in done.stderr
    with pytest.raises(verifier.KeyRingError):
        app_for(world)


def test_init_takes_the_previous_releases_web_secret_file_into_the_key_ring(tmp_path):
    keys = tmp_path / "keys.json"
    ring = verifier.init_store(f"sqlite:///{tmp_path / 'jeton.db'}", keys)[0]
    ring.close()
    data = json.loads(keys.read_text())
    del data["web"]  # a key file of the previous release
    keys.write_text(json.dumps(data))
    legacy = tmp_path / "keys.json.web-secret"
    legacy.write_bytes(b"ab" * 32)
    os.chmod(legacy, 0o600)
    store = verifier.init_store(f"sqlite:///{tmp_path / 'jeton.db'}", keys)[0]
    store.close()
    ring = load_keyring(keys)
    assert ring.web_keys[ring.web_primary] == b"ab" * 32  # forms signed with it keep working
    assert not legacy.exists() and oct(keys.stat().st_mode & 0o777) == "0o600"
