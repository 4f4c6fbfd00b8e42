"""The shared fixtures work: real MicroPython, real PostgreSQL, real chromium, free ports, the bench runner."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest
import sqlalchemy as sa

from benchmarks import runner
from tests.support import postgres_database_exists, require, throwaway_postgres_database


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
