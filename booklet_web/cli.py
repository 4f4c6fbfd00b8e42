"""``jeton-web``: serve the booklet (gunicorn), create its tables, load the referential, import a roster.

Thin: every command calls the library and turns its errors into one line on stderr (tracebacks with
--verbose).
"""

from __future__ import annotations

import sys

import click

from booklet_web.db import open_database

DB_OPTION = click.option("--db", "db_url", envvar="JETON_DB_URL", default="sqlite:///var/jeton.db",
                         show_default=True, help="database URL (SQLite file or PostgreSQL), shared with the verifier")
KEYS_OPTION = click.option("--keys", "keys_file", envvar="JETON_KEYS_FILE", type=click.Path(dir_okay=False),
                           help="key ring file of the verifier (or JETON_KEYS_FILE)")


@click.group()
@click.option("--verbose", is_flag=True, help="show tracebacks on errors")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """The LPC booklet web application (Livret Personnel de Compétences)."""
    ctx.obj = {"verbose": verbose}


@cli.command("init-db")
@DB_OPTION
def init_db(db_url: str) -> None:
    """Create or upgrade the booklet's tables and load the referential (run `jeton-admin init` first)."""
    import sqlalchemy as sa

    from booklet_web import schema

    database = open_database(db_url)
    try:
        if not sa.inspect(database.engine).has_table("users"):
            raise click.ClickException("the verifier's tables are missing: run `jeton-admin init` first")
        before = schema.current_revision(database.engine)
        schema.upgrade(database.engine)
        comps, items = schema.load_referential_into(database.engine)
        after = schema.current_revision(database.engine)
    finally:
        database.dispose()
    click.echo(f"booklet schema {before or 'none'} -> {after}; referential: {comps} compétences, {items} items")


@cli.command("load-referential")
@DB_OPTION
def load_referential(db_url: str) -> None:
    """Load (or refresh) the palier 3 referential into the database."""
    from booklet_web import schema

    database = open_database(db_url)
    try:
        comps, items = schema.load_referential_into(database.engine)
    finally:
        database.dispose()
    click.echo(f"referential loaded: {comps} compétences, {items} items")


@cli.command("import-roster")
@click.argument("csv_file", type=click.File("rb"))
@DB_OPTION
def import_roster(csv_file, db_url: str) -> None:
    """Import classes, pupils and teachers from CSV_FILE (see docs/booklet.md); all or nothing."""
    from booklet_web import roster

    data = csv_file.read(roster.MAX_BYTES + 1)
    if len(data) > roster.MAX_BYTES:
        raise click.ClickException(f"file too large (at most {roster.MAX_BYTES // 1024 // 1024} MB)")
    database = open_database(db_url)
    try:
        try:
            report = roster.import_roster(database.writer, data, roster.verifier_user_creator("jeton-web"))
        except roster.RosterError as exc:
            for line, message in exc.problems:
                click.echo(f"{csv_file.name}:{line}: {message}" if line else f"{csv_file.name}: {message}",
                           err=True)
            raise click.ClickException(f"{len(exc.problems)} bad line(s): nothing was imported") from None
    finally:
        database.dispose()
    for note in report.notes:
        click.echo(note)
    click.echo(report.summary())


@cli.command()
@DB_OPTION
@KEYS_OPTION
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="address:port to listen on")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="worker processes")
@click.option("--insecure-http", is_flag=True,
              help="send the session cookie over plain HTTP (tests, demo); in production serve behind HTTPS")
@click.option("--proxy", is_flag=True, help="trust X-Forwarded-* from one reverse proxy (TLS terminated there)")
def serve(db_url: str, keys_file: str | None, bind: str, workers: int, insecure_http: bool, proxy: bool) -> None:
    """Serve the application with gunicorn (several processes may share one PostgreSQL)."""
    from booklet_web.server import run_gunicorn

    if not keys_file:
        raise click.ClickException("no key file: pass --keys FILE or set JETON_KEYS_FILE")
    config = {"JETON_DB_URL": db_url, "JETON_KEYS_FILE": keys_file, "SESSION_COOKIE_SECURE": not insecure_http,
              "JETON_PROXY": proxy}
    # Build one app now so that a wrong database or key file is one clear error before any worker starts.
    from booklet_web import create_app

    create_app(config)
    click.echo(f"jeton-web: http{'' if insecure_http else 's'}://{bind}/ ({workers} worker(s))", err=True)
    run_gunicorn(config, bind=bind, workers=workers)


@cli.command()
@click.option("--fresh/--resume", default=False, show_default=True,
              help="start over (new database, keys and tokens) or resume the existing demo (PINs and records kept)")
@click.option("--dir", "directory", default="var/demo", show_default=True, type=click.Path(file_okay=False),
              help="folder of the demo's SQLite database, key file and simulated tokens")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="HTTP port")
def demo(fresh: bool, directory: str, port: int) -> None:
    """The whole product with simulated tokens: prints the URL, the logins and each token's PORT, serves until
    stopped (Ctrl-C or SIGTERM)."""
    from pathlib import Path

    from booklet_web.demo import DemoError, DemoOptions, run_demo

    try:
        run_demo(DemoOptions(directory=Path(directory), port=port, fresh=fresh), sys.stdout)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    """Console entry point: one line on stderr and a non-zero exit on error."""
    verbose = "--verbose" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="jeton-web", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        click.echo(f"jeton-web: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except Exception as exc:
        if verbose:
            raise
        click.echo(f"jeton-web: {exc.__class__.__name__}: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
