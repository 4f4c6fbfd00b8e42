"""`jeton-provision software` warns when a token's parameters would be ignored by the common authenticator apps."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.cli.test_grammar import run


def _store(tmp_path) -> list[str]:
    args = ["--db", f"sqlite:///{tmp_path / 's.db'}", "--keys", str(tmp_path / "keys.json")]
    assert run("jeton-admin", "init", *args).returncode == 0
    assert run("jeton-admin", "users", "add", "mdupont", *args).returncode == 0
    return args


def test_sha256_8_digits_60_s_warns_and_names_apps_that_honour_them(tmp_path):
    args = _store(tmp_path)
    done = run("jeton-provision", "software", "mdupont", "--algo", "sha256", "--digits", "8", "--period", "60",
               "--no-terminal", "--uri", *args)
    assert done.returncode == 0, done.stderr
    warning = done.stderr.splitlines()[0]
    assert warning.startswith("attention : sha256, 8 chiffres, 60 s — Google Authenticator et Microsoft "
                              "Authenticator ignorent ce réglage")
    assert "FreeOTP" in warning and "Aegis" in warning
    query = parse_qs(urlparse(done.stdout.strip()).query)
    assert (query["algorithm"], query["digits"], query["period"]) == (["SHA256"], ["8"], ["60"])


def test_the_defaults_need_no_warning(tmp_path):
    args = _store(tmp_path)
    done = run("jeton-provision", "software", "mdupont", "--no-terminal", *args)
    assert done.returncode == 0, done.stderr
    assert "attention" not in done.stderr
