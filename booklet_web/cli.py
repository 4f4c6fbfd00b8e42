"""``jeton-web``: serve the booklet (gunicorn), create its tables, load the referential, import a roster.

Thin: every command calls the library and turns its errors into one French line on stderr (tracebacks with
--verbose), worded like ``jeton-admin``'s for the verifier's errors.
"""

from __future__ import annotations

import sys

import click

from booklet_web.db import open_database
from verifier import clikit

DB_OPTION = clikit.db_option(default="sqlite:///var/jeton.db")
KEYS_OPTION = clikit.keys_option()


@click.group(cls=clikit.JetonGroup)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """L'application web du Livret Personnel de Compétences (LPC).

    --db, --keys et --verbose se placent avant ou après la sous-commande."""
    ctx.obj = {}


def _booklet_database(db_url: str):
    """The database, refused in one clear line when the booklet's tables are not there yet."""
    from booklet_web import schema

    database = open_database(db_url)
    try:
        ready = schema.current_revision(database.engine) is not None
    except Exception:
        database.dispose()
        raise
    if not ready:
        database.dispose()
        raise click.ClickException("les tables du livret manquent : lancez `jeton-admin init` puis `jeton-web init-db`")
    return database


@cli.command("init-db")
@DB_OPTION
def init_db(db_url: str) -> None:
    """Créer ou mettre à jour les tables du livret et charger le référentiel (après `jeton-admin init`)."""
    import sqlalchemy as sa

    from booklet_web import schema

    database = open_database(db_url)
    try:
        if not sa.inspect(database.engine).has_table("users"):
            raise click.ClickException("les tables du vérificateur manquent : lancez d'abord `jeton-admin init`")
        before = schema.current_revision(database.engine)
        schema.upgrade(database.engine)
        comps, items = schema.load_referential_into(database.engine)
        after = schema.current_revision(database.engine)
    finally:
        database.dispose()
    click.echo(f"schéma du livret {before or 'aucun'} -> {after} ; référentiel : {comps} compétences, {items} items")


@cli.command("load-referential")
@DB_OPTION
def load_referential(db_url: str) -> None:
    """Charger (ou recharger) le référentiel du palier 3 dans la base."""
    from booklet_web import schema

    database = _booklet_database(db_url)
    try:
        comps, items = schema.load_referential_into(database.engine)
    finally:
        database.dispose()
    click.echo(f"référentiel chargé : {comps} compétences, {items} items")


@cli.command("import-roster")
@click.argument("csv_file", type=click.File("rb"))
@DB_OPTION
def import_roster(csv_file, db_url: str) -> None:
    """Importer classes, élèves et enseignants depuis CSV_FILE (voir docs/booklet.md) : tout ou rien."""
    from booklet_web import roster

    data = csv_file.read(roster.MAX_BYTES + 1)
    if len(data) > roster.MAX_BYTES:
        raise click.ClickException(f"fichier trop volumineux ({roster.MAX_BYTES // 1024 // 1024} Mo au plus)")
    database = _booklet_database(db_url)
    try:
        try:
            report = roster.import_roster(database.writer, data, roster.verifier_user_creator("jeton-web"))
        except roster.RosterError as exc:
            for line, message in exc.problems:
                click.echo(f"{csv_file.name}:{line}: {message}" if line else f"{csv_file.name}: {message}",
                           err=True)
            raise click.ClickException(f"{len(exc.problems)} ligne(s) en erreur : rien n'a été importé") from None
    finally:
        database.dispose()
    for note in report.notes:
        click.echo(note)
    click.echo(report.summary())


@cli.command()
@DB_OPTION
@KEYS_OPTION
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="Adresse:port d'écoute.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Nombre de processus.")
@click.option("--insecure-http", is_flag=True,
              help="Cookie de session aussi en HTTP simple (tests, démo) ; en production, servir derrière HTTPS.")
@click.option("--proxy", is_flag=True, help="Faire confiance aux X-Forwarded-* d'un proxy inverse (qui fait le TLS).")
@click.option("--ops-allow", envvar="JETON_OPS_ALLOW", default=None, metavar="RÉSEAUX",
              help="Adresses ou réseaux (séparés par des virgules) autorisés à lire /healthz et /metrics "
                   "(défaut : ce serveur seulement, 127.0.0.0/8 et ::1).")
def serve(db_url: str, keys_file: str | None, bind: str, workers: int, insecure_http: bool, proxy: bool,
          ops_allow: str | None) -> None:
    """Servir l'application avec gunicorn (plusieurs processus peuvent partager un PostgreSQL)."""
    from booklet_web.operations import allowed_networks
    from booklet_web.server import metrics_folder, run_gunicorn

    if not keys_file:
        raise click.ClickException("aucun trousseau de clés : indiquez --keys FICHIER ou JETON_KEYS_FILE")
    try:
        allowed_networks(ops_allow)
    except ValueError:
        raise click.ClickException(f"--ops-allow : adresse ou réseau invalide dans {ops_allow!r} "
                                   "(par exemple 127.0.0.1,10.0.0.0/8)") from None
    config = {"JETON_DB_URL": db_url, "JETON_KEYS_FILE": keys_file, "SESSION_COOKIE_SECURE": not insecure_http,
              "JETON_HTTPS": not insecure_http, "JETON_PROXY": proxy, "JETON_OPS_ALLOW": ops_allow}
    with metrics_folder():  # before the first metric exists: every worker's counts in one folder, summed
        # Build one app now so that a wrong database or key file is one clear error before any worker starts.
        from booklet_web import create_app

        create_app(config)
        click.echo(f"jeton-web: http{'' if insecure_http else 's'}://{bind}/ ({workers} worker(s))", err=True)
        run_gunicorn(config, bind=bind, workers=workers)


@cli.command()
@click.option("--fresh/--resume", default=False, show_default=True,
              help="Repartir de zéro (nouvelle base, nouvelles clés) ou reprendre la démo existante "
                   "(PIN et saisies gardés).")
@click.option("--dir", "directory", default="var/demo", show_default=True, type=click.Path(file_okay=False),
              help="Dossier de la démo : base SQLite, trousseau de clés et clés simulées.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port HTTP.")
def demo(fresh: bool, directory: str, port: int) -> None:
    """Démonstration complète avec des clés simulées : affiche l'adresse, les comptes et le PORT de chaque clé,
    puis sert jusqu'à l'arrêt (Ctrl-C ou SIGTERM)."""
    from pathlib import Path

    from booklet_web.demo import DemoError, DemoOptions, run_demo

    try:
        run_demo(DemoOptions(directory=Path(directory), port=port, fresh=fresh), sys.stdout)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None


def _message(exc: BaseException) -> str:
    from verifier.cli import EXPECTED_ERRORS, error_message

    return error_message(exc) if isinstance(exc, EXPECTED_ERRORS) else f"{exc.__class__.__name__} : {exc}"


def main(argv: list[str] | None = None) -> int:
    """Console entry point: one French line on stderr and a non-zero exit on error (traceback with --verbose)."""
    return clikit.run(cli, "jeton-web", argv, expected=(Exception,), message=_message, prefix="jeton-web: ")


if __name__ == "__main__":
    sys.exit(main())
