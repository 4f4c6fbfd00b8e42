"""``jeton-admin radius-clients``: declare, list and remove the gateways jeton-radius answers (French messages).

The shared secret is read from standard input (one line), never from the command line, where ``ps`` and shell
histories would show it.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from verifier.clikit import actor as _actor
from verifier.clikit import store as _store
from verifier.radius.clients import add_client, list_clients, remove_client


@click.group("radius-clients", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
@click.pass_context
def radius_clients(ctx: click.Context, as_json: bool) -> None:
    """Passerelles RADIUS autorisées (VPN, portail Wi-Fi, serveurs Linux) ; sans sous-commande : la liste."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_, as_json=as_json)


@radius_clients.command("add")
@click.argument("name")
@click.argument("network", metavar="ADRESSE_OU_RÉSEAU")
@click.option("--legacy", is_flag=True,
              help="Accepter les requêtes sans Message-Authenticator (ancien équipement ; déconseillé).")
@click.pass_context
def add(ctx: click.Context, name: str, network: str, legacy: bool) -> None:
    """Déclarer une passerelle ; son secret partagé est lu sur l'entrée standard (jamais en argument)."""
    stream = sys.stdin
    if stream.isatty():
        secret = click.prompt("Secret partagé", hide_input=True, err=True)
    else:
        secret = stream.readline().rstrip("\r\n")
    client = add_client(_store(ctx), name, network, secret.encode("utf-8", "replace"), legacy=legacy,
                        actor=_actor())
    warn = " (mode ancien : sans Message-Authenticator, vulnérable à BlastRADIUS)" if legacy else ""
    click.echo(f"Client RADIUS {client.name} déclaré pour {client.network}{warn}. Redémarrez jeton-radius.")


@radius_clients.command("list")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Lister les passerelles déclarées (sans leurs secrets)."""
    clients = list_clients(_store(ctx))
    if as_json:
        click.echo(json.dumps([c.as_dict() for c in clients], indent=2))
        return
    if not clients:
        click.echo("Aucun client RADIUS déclaré.")
    for c in clients:
        when = datetime.fromtimestamp(c.created_at, UTC).strftime("%Y-%m-%d")
        click.echo(f"{c.name:<20} {c.network:<24} {'ancien (sans Message-Authenticator)' if c.legacy else 'sûr'}"
                   f"  déclaré le {when}")


@radius_clients.command("remove")
@click.argument("name")
@click.option("-f", "--force", is_flag=True, help="Ne pas demander de confirmation.")
@click.pass_context
def remove(ctx: click.Context, name: str, force: bool) -> None:
    """Retirer une passerelle (effectif au redémarrage de jeton-radius)."""
    if not force and not click.confirm(f"Retirer le client RADIUS {name} ?", default=False, err=True):
        raise click.ClickException("non confirmé : rien n'a été modifié (--force pour ne pas demander)")
    remove_client(_store(ctx), name, actor=_actor())
    click.echo(f"Client RADIUS {name} retiré. Redémarrez jeton-radius.")
