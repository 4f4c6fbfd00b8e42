"""Fixtures of the interoperability tests: the tools of the field, found or installed by the project's Makefile.

Each test that exchanges tokens with a tool records one row ("tool → direction → parameters → result") with the
``interop_table`` fixture; at the end of a session in which every row's test ran, the table in docs/interop.md
is rewritten between its markers, so that the page shows what the tests saw.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.support import ROOT, require

PI_PYTHON = ROOT / ".venv-privacyidea" / "bin" / "python"
PI_DRIVER = Path(__file__).with_name("privacyidea_driver.py")
DOC = ROOT / "docs" / "interop.md"
START, END = "<!-- interop-table:start -->", "<!-- interop-table:end -->"
_ROWS: dict[tuple[str, str, str], str] = {}


@pytest.fixture
def interop_table():
    """``record(tool, direction, parameters, result)``: one row of docs/interop.md's table."""

    def record(tool: str, direction: str, parameters: str, result: str) -> None:
        _ROWS[(tool, direction, parameters)] = result

    return record


def pytest_sessionfinish(session, exitstatus):
    """Rewrite docs/interop.md's table with the rows of a passing session (rows of tests that did not run this
    time, e.g. under -k, are kept as they were)."""
    if not _ROWS or exitstatus != 0 or not DOC.exists():
        return
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return
    head, _, rest = text.partition(START)
    body, _, tail = rest.partition(END)
    rows = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 4 and cells[0] not in ("outil", "---"):
            rows[tuple(cells[:3])] = cells[3]
    rows.update(_ROWS)
    table = ["| outil | sens | paramètres | résultat |", "| --- | --- | --- | --- |"]
    table += [f"| {t} | {d} | {p} | {r} |" for (t, d, p), r in sorted(rows.items())]
    DOC.write_text(head + START + "\n" + "\n".join(table) + "\n" + END + tail, encoding="utf-8")


def tool(name: str) -> str:
    """The path of a Debian tool that `make interop-tools` installs (a skip naming it, a failure under CI)."""
    path = shutil.which(name)
    require(path is not None, f"{name} (Debian package; `make interop-tools` installs it)")
    return path


def _registry_reachable() -> bool:
    try:
        with urllib.request.urlopen("https://pypi.org/simple/privacyidea/", timeout=10):  # noqa: S310
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def privacyidea(tmp_path_factory):
    """``run(job) -> answer``: privacyIDEA 3.14's own library in .venv-privacyidea (`make privacyidea` creates it;
    skipped with the reason only when PyPI cannot be reached to create it)."""
    if not PI_PYTHON.exists():
        made = subprocess.run(["make", "-s", "privacyidea"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
        if made.returncode != 0:
            if not _registry_reachable():
                pytest.skip("privacyIDEA 3.14 cannot be installed: the PyPI registry cannot be reached")
            pytest.fail(f"`make privacyidea` failed:\n{made.stdout}\n{made.stderr}")
    workdir = tmp_path_factory.mktemp("privacyidea")

    def run(job: dict) -> dict:
        done = subprocess.run([str(PI_PYTHON), str(PI_DRIVER)], input=json.dumps({**job, "workdir": str(workdir)}),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run
