"""The shared fixtures work: real MicroPython, real PostgreSQL, real chromium, free ports, the bench runner."""

from __future__ import annotations

import ast
import http.server
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from benchmarks import runner
from tests.support import ROOT, postgres_database_exists, require, throwaway_postgres_database


@pytest.mark.micropython
def test_interpreter_is_micropython_and_reports_its_version(micropython):
    name, version = micropython.version()
    assert name == "micropython"
    assert "MicroPython" in version


@pytest.mark.micropython
def test_heapsize_is_applied(micropython):
    grab = "b = bytearray(40 * 1024); print(len(b))"
    small = micropython.run(grab, heapsize="16k", check=False)
    assert small.returncode != 0
    assert b"MemoryError" in small.stderr + small.stdout
    big = micropython.run(grab, heapsize="256k")
    assert big.stdout.strip() == b"40960"


@pytest.mark.micropython
def test_runs_a_module_with_its_import_path(micropython, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "greet.py").write_text("def hello(who):\n    return 'bonjour ' + who\n")
    script = tmp_path / "main.py"
    script.write_text("import sys, greet\nprint(greet.hello(sys.argv[1]))\n")
    out = micropython.run(script=script, args=["jdupont"], path=[lib])
    assert out.stdout.decode().strip() == "bonjour jdupont"


@pytest.mark.micropython
def test_micropython_errors_are_shown(micropython):
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        micropython.run("1/0")


def test_sqlite_engine_is_a_file_in_a_temp_dir(sqlite_engine, tmp_path):
    with sqlite_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        conn.execute(sa.text("INSERT INTO t VALUES (42)"))
    assert (tmp_path / "jeton-test.db").exists()
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT x FROM t")).scalar_one() == 42


@pytest.mark.postgres
def test_postgres_answers_a_query(postgres_engine):
    with postgres_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 6 * 7")).scalar_one() == 42
        assert "jeton_test_" in conn.execute(sa.text("SELECT current_database()")).scalar_one()


@pytest.mark.postgres
def test_throwaway_database_is_gone_afterwards(postgres_base_url):
    with throwaway_postgres_database(postgres_base_url) as url:
        name = url.database
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        engine.dispose()
        assert postgres_database_exists(postgres_base_url, name)
    assert not postgres_database_exists(postgres_base_url, name)


def test_free_port_can_be_bound(port):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.browser
def test_browser_renders_a_local_page(page, tmp_path, port):
    (tmp_path / "index.html").write_text(
        "<!doctype html><html lang=fr><meta charset=utf-8><title>Jeton</title><link rel=icon href=\"data:,\">"
        "<button onclick=\"document.body.dataset.ok='oui'\">Valider</button></html>",
        encoding="utf-8",
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{port}/index.html")
        assert page.title() == "Jeton"
        page.get_by_role("button", name="Valider").click()
        assert page.locator("body").get_attribute("data-ok") == "oui"
    finally:
        server.shutdown()
        server.server_close()


def test_bench_runner_prints_each_figure_beside_its_baseline():
    figures = [runner.Figure("codes", 3.0, "ms", "floor", 1.5, goal="< 5 ms")]
    table = runner.format_table(figures)
    assert "codes" in table and "floor: 1.5 ms" in table and "2.00x" in table and "< 5 ms" in table
    assert runner.p95([float(i) for i in range(101)]) == 95.0
    assert runner.discover(["interpreters"]) == ["bench_interpreters"]


def test_a_missing_real_part_fails_under_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="missing under CI: PostgreSQL"):
        require(False, "PostgreSQL")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="missing: PostgreSQL"):
        require(False, "PostgreSQL")
    require(True, "PostgreSQL")  # present: nothing happens


# --- DESIGN.md §1: the dependency arrows ---------------------------------------------------------------------------

PACKAGES = ("token_firmware", "provisioner", "verifier", "booklet_web")
# Which other packages each may import (DESIGN.md §1). The one documented exception is the demo (docs/developers.md).
ALLOWED = {
    "booklet_web": {"verifier"},
    "provisioner": {"verifier", "token_firmware"},
    "verifier": set(),
    "token_firmware": set(),
}
DEMO_EXCEPTION = ("booklet_web/demo.py", {"provisioner", "token_firmware"})
NEVER = {"click"} | {"tests", "benchmarks", "hardware"}  # click: CLIs only; the others are not installed


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(top-level module, imported at module level?) for every absolute import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(name.split(".")[0], id(node) in top_level) for name in names]
    return found


def import_graph_violations(root: Path = ROOT) -> list[str]:
    """Every import that breaks DESIGN.md §1's arrows, as 'file: imports X' lines (empty when the graph is right)."""
    problems = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            for module, at_top in _imports(path):
                if module == "click" and path.name in ("cli.py", "clikit.py", "admin_cli.py"):  # CLIs, their plumbing
                    continue
                if module in NEVER:
                    problems.append(f"{rel}: imports {module}")
                elif module in PACKAGES and module != package and module not in ALLOWED[package]:
                    if rel == DEMO_EXCEPTION[0] and module in DEMO_EXCEPTION[1] and not at_top:
                        continue  # the demo's orchestration, imported lazily so the web app never pulls it in
                    problems.append(f"{rel}: imports {module}")
    return problems


def test_dependencies_point_the_way_design_says():
    assert import_graph_violations() == []


def test_the_import_check_catches_a_wrong_arrow(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "verifier" / "store.py").write_text("from booklet_web import create_app\n")
    (tmp_path / "provisioner" / "seeding.py").write_text("import click\n")
    (tmp_path / "provisioner" / "cli.py").write_text("import click\nfrom provisioner import seeding\n")
    (tmp_path / "booklet_web" / "demo.py").write_text("import provisioner\n\ndef f():\n    import token_firmware\n")
    (tmp_path / "booklet_web" / "auth.py").write_text("def f():\n    from provisioner import session\n")
    assert import_graph_violations(tmp_path) == [
        "provisioner/seeding.py: imports click",
        "verifier/store.py: imports booklet_web",
        "booklet_web/auth.py: imports provisioner",
        "booklet_web/demo.py: imports provisioner",
    ]


def test_the_web_application_alone_loads_neither_the_provisioner_nor_the_firmware():
    modules = sorted(p.stem for p in (ROOT / "booklet_web").glob("*.py") if p.stem not in ("__init__", "demo"))
    assert {"auth", "admin", "cli", "server"} <= set(modules)
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module('booklet_web.' + m)\n"
            "print(sorted(m for m in ('provisioner', 'token_firmware', 'click') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "['click']"  # the CLI's click, and nothing of the provisioner's side


def test_every_benchmark_is_documented_with_its_committed_results():
    guide = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    names = runner.discover()
    assert "bench_interpreters" in names
    for name in names:
        assert f"| `{name}.py` |" in guide, f"docs/benchmarks.md has no row for {name}"
        assert f"(../benchmarks/results/{name}.json)" in guide, f"docs/benchmarks.md does not link {name}'s results"
        assert (runner.RESULTS / f"{name}.json").exists(), f"run `make bench` and commit results/{name}.json"


def test_every_relative_link_in_the_readme_and_docs_resolves():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert len(pages) > 5
    assert broken == []


def test_every_test_named_in_the_security_table_exists():
    """docs/security.md's "attack -> answer -> test" table names real test functions (file::name, parameters aside)."""
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)", text.split("## Attacks and answers", 1)[1])
    missing = [f"{path}::{name}" for path, name in named
               if not re.search(rf"^def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.MULTILINE)]
    assert named and missing == []
