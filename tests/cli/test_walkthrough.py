"""docs/it-staff.md's walkthrough ("Premier lot, pas à pas"), run command by command as a new administrator would
copy it, with a simulated token in place of /dev/ttyACM0 and temporary files in place of /etc and var/."""

from __future__ import annotations

import shlex

import pytest

from tests.cli.test_grammar import run
from tests.provisioner.conftest import simulator_class
from tests.support import ROOT

GUIDE = ROOT / "docs" / "it-staff.md"


def walkthrough() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    block = text.split("<!-- walkthrough:start -->", 1)[1].split("<!-- walkthrough:end -->", 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("```")]


@pytest.mark.micropython
@pytest.mark.slow
def test_the_it_guide_walkthrough_runs_end_to_end(tmp_path):
    lines = walkthrough()
    assert lines[1].startswith("jeton-admin init --keys") and lines[-1].startswith("jeton-provision wipe")
    substitutions = {"sqlite:///var/jeton.db": f"sqlite:///{tmp_path / 'jeton.db'}",
                     "/etc/jeton/keys.json": str(tmp_path / "keys.json")}
    env: dict[str, str] = {}
    with simulator_class()(tmp_path / "token") as token:
        substitutions["/dev/ttyACM0"] = token.port
        for line in lines:
            for doc_value, here in substitutions.items():
                line = line.replace(doc_value, here)
            words = shlex.split(line)
            if words[0] == "export":
                name, _, value = words[1].partition("=")
                env[name] = value
                continue
            done = run(words[0], *words[1:], cwd=tmp_path, env=env)
            assert done.returncode == 0, f"`{line}` failed:\n{done.stderr}"
            if words[:2] == ["jeton-admin", "tokens"]:
                assert done.stdout.startswith("JT-000001") and "prête (non attribuée)" in done.stdout
            if words[:2] == ["jeton-provision", "check"]:
                assert "Réattribuable." in done.stderr
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0
    assert (tmp_path / "jetons.pskcxml").exists()
