"""One tool, one grammar: the common options go before or after the subcommand in every CLI, and every command
line the docs show parses."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from booklet_web.cli import cli as web_group
from provisioner.cli import cli as provision_group
from tests.support import ROOT
from verifier.cli import cli as admin_group

CLIS = {"jeton-admin": admin_group, "jeton-provision": provision_group, "jeton-web": web_group}
MODULES = {"jeton-admin": "verifier.cli", "jeton-provision": "provisioner.cli", "jeton-web": "booklet_web.cli"}
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def run(prog: str, *args: str, cwd: Path | None = None, input: str | None = None, env: dict | None = None):
    """Run a console command as IT staff would (its own process); the completed process."""
    import os

    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for name in ("JETON_KEYS_FILE", "JETON_DB_URL"):
        if env is None or name not in env:
            full_env.pop(name, None)
    return subprocess.run([sys.executable, "-m", MODULES[prog], *args], capture_output=True, text=True,
                          input=input, cwd=cwd or ROOT, env=full_env, timeout=120)


def parse(prog: str, args: list[str]) -> None:
    """Parse ``args`` as ``prog`` would, down to the last subcommand, without running anything (UsageError if not).
    A bare command name (prose such as "`jeton-admin users add` creates...") names a command: it parses when the
    command exists."""
    command: click.Command = CLIS[prog]
    group = command
    names = list(args)
    for word in args:  # how many leading words are (sub)command names
        if not isinstance(group, click.Group) or group.get_command(None, word) is None:
            break
        group = group.get_command(None, word)
        names.remove(word)
    if not names:
        return  # `jeton-admin users add`: the name of a command that exists
    ctx = command.make_context(prog, list(args))
    with ctx:
        while isinstance(command, click.Group):
            rest = [*ctx._protected_args, *ctx.args]
            if not rest:
                return
            name, command, rest = command.resolve_command(ctx, rest)
            ctx = command.make_context(name, rest, parent=ctx)


def documented_command_lines() -> list[tuple[str, str]]:
    """(where, command line) for every ``jeton-admin|provision|web`` line of README.md and docs/*.md: in code
    blocks, and in inline code spans."""
    found = []
    pattern = re.compile(r"(?:^|`|\$ |\.venv/bin/)(jeton-(?:admin|provision|web)\b[^`\n]*)")
    for doc in DOCS:
        in_block = False
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
            if line.lstrip().startswith("```"):
                in_block = not in_block
                continue
            candidates = pattern.findall(line.strip()) if in_block else re.findall(r"`(jeton-(?:admin|provision|web)"
                                                                                  r"\b[^`]*)`", line)
            for text in candidates:
                found.append((f"{doc.relative_to(ROOT)}:{number}", text))
    return found


def _words(text: str) -> list[str] | None:
    """The words of a documented command line, or None when it is a pattern rather than a command."""
    text = re.split(r"\s+#|\s&&\s|\s\|\s|\s>\s|\s<\s|\s\|$", text)[0]  # a shell's operators end the command
    if any(mark in text for mark in ("…", "...", "/--", "COMMAND")):
        return None  # an elided example or a syntax summary, not a command to copy
    text = re.sub(r"\[[^\]]*\]", "", text)  # optional parts of a synopsis
    text = re.sub(r"<[^>]*>", "X", text)  # <placeholders>
    try:
        return shlex.split(text)
    except ValueError:
        return None


def test_the_docs_show_command_lines_to_check():
    assert len(documented_command_lines()) > 60


@pytest.mark.parametrize(("where", "line"), documented_command_lines(), ids=lambda v: str(v)[:60])
def test_every_command_line_in_the_docs_parses(where, line):
    words = _words(line)
    if words is None or len(words) < 2:
        return  # a bare name (`jeton-admin`) or a syntax summary: nothing to parse
    try:
        parse(words[0], words[1:])
    except click.exceptions.Exit:
        pass  # --help
    except click.BadParameter as exc:
        if not isinstance(getattr(exc.param, "type", None), click.File | click.Path):
            pytest.fail(f"{where}: `{line}` does not parse: {exc.format_message()}")
        # the grammar holds; the example's file just does not exist here
    except click.UsageError as exc:
        pytest.fail(f"{where}: `{line}` does not parse: {exc.format_message()}")


def test_jeton_admin_takes_db_and_keys_after_the_subcommand_as_the_it_guide_writes_it(tmp_path):
    keys = tmp_path / "keys.json"
    done = run("jeton-admin", "init", "--keys", str(keys), "--db", f"sqlite:///{tmp_path / 'a.db'}")
    assert done.returncode == 0, done.stderr
    assert keys.exists() and "Base créée" in done.stdout
    again = run("jeton-admin", "--db", f"sqlite:///{tmp_path / 'a.db'}", "users", "--keys", str(keys))
    assert again.returncode == 0, again.stderr


def test_jeton_provision_takes_db_and_keys_before_the_subcommand(tmp_path):
    db, keys = f"sqlite:///{tmp_path / 'p.db'}", str(tmp_path / "keys.json")
    assert run("jeton-admin", "init", "--db", db, "--keys", keys).returncode == 0
    out = tmp_path / "x.csv"
    before = run("jeton-provision", "--db", db, "--keys", keys, "export", "--format", "csv", "-o", str(out))
    after = run("jeton-provision", "export", "--format", "csv", "-o", str(out), "--db", db, "--keys", keys)
    # the store was reached both ways: it is empty, so both say there is nothing to export
    assert (before.returncode, before.stderr) == (1, "erreur : aucun jeton à exporter\n")
    assert (after.returncode, after.stderr) == (1, "erreur : aucun jeton à exporter\n")


def test_jeton_web_takes_db_before_or_after_the_subcommand(tmp_path):
    db, keys = f"sqlite:///{tmp_path / 'w.db'}", str(tmp_path / "keys.json")
    assert run("jeton-admin", "--db", db, "--keys", keys, "init").returncode == 0
    first = run("jeton-web", "--db", db, "init-db")
    second = run("jeton-web", "load-referential", "--db", db)
    assert first.returncode == 0 and "référentiel" in first.stdout, first.stderr
    assert second.returncode == 0 and "référentiel chargé" in second.stdout, second.stderr


def test_the_last_db_on_the_line_wins_and_the_environment_comes_after_the_line(tmp_path):
    good, bad = f"sqlite:///{tmp_path / 'g.db'}", f"sqlite:///{tmp_path / 'missing' / 'b.db'}"
    keys = str(tmp_path / "keys.json")
    assert run("jeton-admin", "init", "--db", good, "--keys", keys).returncode == 0
    assert run("jeton-admin", "--db", bad, "users", "--db", good, "--keys", keys).returncode == 0
    via_env = run("jeton-admin", "users", "--keys", keys, env={"JETON_DB_URL": good})
    assert via_env.returncode == 0, via_env.stderr
    line_wins = run("jeton-admin", "users", "--db", bad, "--keys", keys, env={"JETON_DB_URL": good})
    assert line_wins.returncode == 1 and line_wins.stderr.startswith("jeton-admin : erreur : ")
