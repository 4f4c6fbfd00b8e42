"""jeton-radius: the RADIUS server in front of the verifier (DESIGN.md §4.1, §6). Thin: the logic is the
library's. Prints ``LISTEN HOST:PORT`` on stdout once it answers, then serves until SIGTERM."""

from __future__ import annotations

import logging
import sys

import click

from verifier import clikit
from verifier.cli import EXPECTED_ERRORS, error_message
from verifier.opening import open_store
from verifier.radius.clients import load_clients
from verifier.radius.handler import RadiusHandler
from verifier.radius.server import run
from verifier.verification import Verifier


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise click.UsageError(f"adresse d'écoute invalide {value!r} (HÔTE:PORT, ex. 0.0.0.0:1812)")
    return host, int(port)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--listen", default="0.0.0.0:1812", show_default=True, metavar="HÔTE:PORT",  # noqa: S104
              help="Adresse et port UDP d'écoute (port 0 : choisi par le système).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Nombre de processus sur ce port (SO_REUSEPORT).")
@click.option("--db", "db_url", metavar="URL", default=None,
              help="Base de données (défaut : JETON_DB_URL ou le fichier SQLite var/jeton.db).")
@click.option("--keys", "keys_file", metavar="FICHIER", envvar="JETON_KEYS_FILE", default=None,
              help="Fichier du trousseau de clés (ou JETON_KEYS_FILE).")
@click.option("-v", "--verbose", is_flag=True, help="Journal détaillé et trace complète des erreurs.")
def cli(listen: str, workers: int, db_url: str | None, keys_file: str | None, verbose: bool) -> None:
    """Serveur RADIUS (PAP, défis du premier usage) : les clés Jeton devant un VPN, un portail Wi-Fi, SSH."""
    host, port = _listen(listen)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    store = open_store(db_url, keys_file)  # checked once here: a bad key file or schema is one line, not N
    try:
        count = len(load_clients(store))
    finally:
        store.close()
    if count == 0:
        click.echo("jeton-radius : attention : aucun client RADIUS déclaré, tout paquet sera ignoré "
                   "(`jeton-admin radius-clients add`)", err=True)

    def factory() -> RadiusHandler:
        own = open_store(db_url, keys_file)
        return RadiusHandler(Verifier(own), load_clients(own))

    def announce(address: str) -> None:
        click.echo(f"LISTEN {address}")
        sys.stdout.flush()

    run(host, port, workers, factory, announce=announce)


def main(argv: list[str] | None = None) -> int:
    """Console entry point (verifier.clikit, like every Jeton CLI): one French line on stderr and status 1 on error
    (traceback with --verbose)."""
    args = sys.argv[1:] if argv is None else list(argv)

    def message(exc: BaseException) -> str:
        if isinstance(exc, OSError) and exc.errno is not None and not exc.filename:
            return f"impossible d'écouter sur {args and _safe_listen(args)} : {exc.strerror}"
        return error_message(exc)

    return clikit.run(cli, "jeton-radius", args, expected=EXPECTED_ERRORS, message=message)


def _safe_listen(args: list[str]) -> str:
    for i, arg in enumerate(args):
        if arg == "--listen" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--listen="):
            return arg.split("=", 1)[1]
    return "0.0.0.0:1812"  # noqa: S104


if __name__ == "__main__":
    sys.exit(main())
