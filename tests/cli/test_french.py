"""French for IT staff, as the screens are: o/oui/n/non confirmations, click's own messages, state words."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_grammar import run


@pytest.fixture
def store(tmp_path):
    """A store with one ready token JT-FR1 (imported from an OATH CSV); the options that reach it."""
    args = ["--db", f"sqlite:///{tmp_path / 'fr.db'}", "--keys", str(tmp_path / "keys.json")]
    assert run("jeton-admin", "init", *args).returncode == 0
    csv = tmp_path / "t.csv"
    csv.write_text("JT-FR1," + "31" * 20 + ",totp,6,30,sha1\n")
    assert run("jeton-admin", "import", str(csv), *args).returncode == 0
    return args


def _state(store) -> str:
    return json.loads(run("jeton-admin", "tokens", "--json", *store).stdout)[0]["state"]


@pytest.mark.parametrize("answer", ["n", "non", ""])
def test_a_no_in_french_or_english_changes_nothing(store, answer):
    done = run("jeton-admin", "retire", "JT-FR1", *store, input=f"{answer}\n")
    assert done.returncode == 1
    assert "Retirer définitivement la clé JT-FR1 ? [o/N]" in done.stderr and "non confirmé" in done.stderr
    assert _state(store) == "ready"


@pytest.mark.parametrize("answer", ["o", "Oui", "y"])
def test_a_yes_in_french_or_english_confirms(store, answer):
    done = run("jeton-admin", "retire", "JT-FR1", *store, input=f"{answer}\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Clé JT-FR1 retirée.\n"
    assert _state(store) == "retired"


def test_an_answer_that_is_neither_is_asked_again_in_french(store):
    done = run("jeton-admin", "retire", "JT-FR1", *store, input="peut-être\no\n")
    assert "Erreur : répondez o (oui) ou n (non)" in done.stderr and "invalid input" not in done.stderr
    assert done.returncode == 0 and _state(store) == "retired"


@pytest.mark.parametrize("prog", ["jeton-admin", "jeton-provision", "jeton-web"])
def test_click_speaks_french_in_help_and_usage_errors(prog):
    helped = run(prog, "--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith(f"Utilisation : {prog} [OPTIONS] COMMAND")
    assert "\nOptions:\n" in helped.stdout or "\nOptions :\n" in helped.stdout
    assert "Afficher cette aide et quitter." in helped.stdout and "Show this message" not in helped.stdout
    assert "\nCommandes" in helped.stdout
    wrong = run(prog, "--nope")
    assert wrong.returncode == 2 and "No such option" not in wrong.stderr
    assert wrong.stderr.count("\n") == 1 and "Option inconnue : '--nope'" in wrong.stderr
    assert f"(aide : {prog} --help)" in wrong.stderr
    missing = run(prog, "pas-une-commande")
    assert "Commande inconnue : 'pas-une-commande'" in missing.stderr


def test_human_output_says_the_state_in_french_and_json_keeps_the_ids(store):
    listing = run("jeton-admin", "tokens", *store)
    assert listing.stdout.startswith("JT-FR1") and "prête (non attribuée)" in listing.stdout
    assert "ready" not in listing.stdout
    assert _state(store) == "ready"
