"""jeton-admin: the token store's command line for IT staff (messages in French). Thin: the logic is the library's.

Every command takes ``--db URL`` (default: JETON_DB_URL or the embedded SQLite file) and ``--keys FILE`` (or
JETON_KEYS_FILE). Errors are one line on stderr and exit status 1; ``--verbose`` shows tracebacks.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime

import click
import sqlalchemy as sa

from verifier import audit as audit_log
from verifier.accounts import check_login
from verifier.clikit import JetonGroup, confirm, run, setting, state_fr
from verifier.clikit import actor as _actor
from verifier.clikit import store as _store
from verifier.errors import (
    AlreadyAssigned,
    DuplicateLogin,
    DuplicateSerial,
    InvalidInput,
    InvalidState,
    NoKeysError,
    PinPolicyError,
    ResyncError,
    SchemaError,
    TokenNotFound,
    UserNotFound,
    VerifierError,
)
from verifier.opening import init_store
from verifier.radius.admin_cli import radius_clients

EXPECTED_ERRORS = (VerifierError, sa.exc.SQLAlchemyError, OSError)
"""The errors a command line turns into one French line (anything else is a bug: a traceback)."""


def error_message(exc: Exception) -> str:
    """The one-line French message for one of ``EXPECTED_ERRORS`` (also used by ``jeton-web``)."""
    if isinstance(exc, sa.exc.SQLAlchemyError):
        return f"base de données inaccessible ou refusée ({exc.__class__.__name__})"
    if isinstance(exc, OSError):
        return f"fichier inaccessible : {exc.strerror or exc.__class__.__name__}"
    return _french(exc)


def _french(exc: Exception) -> str:
    """The one-line French message for an error (the library's English message when there is no translation)."""
    if isinstance(exc, NoKeysError):
        return ("aucun trousseau de clés : indiquez --keys FICHIER ou JETON_KEYS_FILE "
                "(`jeton-admin init --keys FICHIER` en crée un)")
    if isinstance(exc, TokenNotFound):
        return f"aucune clé OTP de numéro {exc.serial}"
    if isinstance(exc, UserNotFound):
        return f"aucun utilisateur d'identifiant {exc.login}"
    if isinstance(exc, DuplicateSerial):
        return f"une clé OTP de numéro {exc.serial} existe déjà"
    if isinstance(exc, DuplicateLogin):
        return f"un utilisateur d'identifiant {exc.login} existe déjà"
    if isinstance(exc, AlreadyAssigned):
        return f"la clé {exc.serial} est déjà attribuée ({state_fr(exc.state)}) : retirez-la d'abord"
    if isinstance(exc, InvalidState):
        return (f"la clé {exc.serial} est {state_fr(exc.state)} : action impossible "
                f"({exc.action})")
    if getattr(exc, "french", None):
        return exc.french
    if isinstance(exc, SchemaError):
        return f"base de données à préparer : lancez `jeton-admin init` ({exc})"
    if isinstance(exc, ResyncError):
        return "ces deux codes ne se suivent pas sur cette clé : relevez deux codes frais, l'un après l'autre"
    if isinstance(exc, PinPolicyError):
        return f"PIN refusé ({exc.reason})"
    return str(exc)


def _confirm(force: bool, question: str) -> None:
    if not force and not confirm(question):
        raise click.ClickException("non confirmé : rien n'a été modifié (--force pour ne pas demander)")


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _parse_time(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        # UsageError, not BadParameter: raised outside click's parsing, BadParameter would say "Invalid value:"
        raise click.UsageError(f"date invalide {value!r} (AAAA-MM-JJ[THH:MM[:SS]] UTC, ou secondes Unix)") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


@click.group(cls=JetonGroup)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Administration des clés OTP Jeton : base, import, attribution, déverrouillage, journal.

    --db, --keys et --verbose se placent avant ou après la sous-commande."""
    ctx.ensure_object(dict)


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Créer ou mettre à jour la base ; créer le trousseau de clés s'il n'existe pas (mode 0600)."""
    store, created, (before, after) = init_store(setting("db"), setting("keys"), actor=_actor())
    store.close()
    if created:
        click.echo(f"Trousseau de clés créé : {store.ring.path} (mode 0600). Sauvegardez-le à part de la base.")
    if before is None:
        click.echo(f"Base créée (schéma {after}).")
    elif before != after:
        click.echo(f"Base mise à jour (schéma {before} -> {after}).")
    else:
        click.echo(f"Base déjà à jour (schéma {after}).")


# -- users -----------------------------------------------------------------------------------------------------

@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
@click.pass_context
def users(ctx: click.Context, as_json: bool) -> None:
    """Lister les utilisateurs (ou : users add, users set-role)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = _store(ctx).list_users()
    if as_json:
        click.echo(json.dumps([{"login": u.login, "name": u.display_name, "role": u.role} for u in rows], indent=2))
        return
    for u in rows:
        click.echo(f"{u.login:<24} {u.role:<8} {u.display_name}")


@users.command("add")
@click.argument("login")
@click.option("--name", default="", help="Nom affiché (ex. « Marie Dupont »).")
@click.option("--role", type=click.Choice(["teacher", "admin"]), default="teacher", show_default=True,
              help="teacher : professeur ; admin : chef d'établissement / administrateur.")
@click.pass_context
def users_add(ctx: click.Context, login: str, name: str, role: str) -> None:
    """Ajouter un utilisateur."""
    try:
        check_login(login)
    except InvalidInput:
        raise click.UsageError(f"identifiant {login!r} invalide : 1 à 64 caractères (lettres, chiffres, . _ @ -), "
                               "pas uniquement des chiffres") from None
    _store(ctx).add_user(login, name, role, actor=_actor())
    click.echo(f"Utilisateur {login} ajouté ({role}).")


@users.command("set-role")
@click.argument("login")
@click.argument("role", type=click.Choice(["teacher", "admin"]))
@click.pass_context
def users_set_role(ctx: click.Context, login: str, role: str) -> None:
    """Changer le rôle d'un utilisateur."""
    _store(ctx).set_role(login, role, actor=_actor())
    click.echo(f"{login} : rôle {role}.")


# -- tokens ----------------------------------------------------------------------------------------------------

def _token_json(t) -> dict:
    return {
        "serial": t.serial, "state": t.state, "login": t.login, "kind": t.kind, "algo": t.algo, "digits": t.digits,
        "period": t.period, "model": t.model, "firmware": t.firmware, "has_pin": t.has_pin, "drift": t.drift,
        "fail_count": t.fail_count, "created_at": t.created_at, "provisioned_at": t.provisioned_at,
        "assigned_at": t.assigned_at, "clock_offset": t.clock_offset, "reason": t.state_reason,
    }


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON (serial, state, login, ...).")
@click.option("--state", default=None, help="Seulement les clés dans cet état (ready, active, locked...).")
@click.option("--user", "login", default=None, help="Seulement les clés de cet utilisateur.")
@click.pass_context
def tokens(ctx: click.Context, as_json: bool, state: str | None, login: str | None) -> None:
    """Lister les clés OTP (ou : tokens show NUMÉRO)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = _store(ctx).list_tokens(state=state, login=login)
    if as_json:
        click.echo(json.dumps([_token_json(t) for t in rows], indent=2))
        return
    for t in rows:
        click.echo(f"{t.serial:<16} {state_fr(t.state):<26} {t.login or '-':<20} "
                   f"échecs={t.fail_count} dérive={t.drift:+d}")


@tokens.command("show")
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def tokens_show(ctx: click.Context, serial: str, as_json: bool) -> None:
    """Détail d'une clé (jamais son secret)."""
    t = _store(ctx).get_token(serial)
    if as_json:
        click.echo(json.dumps(_token_json(t), indent=2))
        return
    lines = [
        ("Numéro", t.serial), ("État", state_fr(t.state)), ("Utilisateur", t.login or "-"),
        ("Type", f"{t.kind}, {t.algo}, {t.digits} chiffres, {t.period} s"),
        ("Modèle / firmware", f"{t.model or '-'} / {t.firmware or '-'}"), ("PIN défini", "oui" if t.has_pin else "non"),
        ("Échecs consécutifs", str(t.fail_count)), ("Dérive", f"{t.drift:+d} pas"),
        ("Créée", _when(t.created_at)), ("Provisionnée", _when(t.provisioned_at)),
        ("Attribuée", _when(t.assigned_at)), ("Verrouillée", _when(t.locked_at)),
        ("Motif", t.state_reason or "-"),
    ]
    for label, value in lines:
        click.echo(f"{label:<20} {value}")


@cli.command("import")
@click.argument("file", type=click.Path())
@click.option("--password", default=None, envvar="JETON_PSKC_PASSWORD",
              help="Mot de passe du fichier PSKC (PBKDF2) ; ou JETON_PSKC_PASSWORD, hors de la ligne de commande.")
@click.option("--psk-hex", default=None, metavar="HEX", help="Clé pré-partagée du fichier PSKC, en hexadécimal.")
@click.option("--dry-run", is_flag=True, help="Aperçu : ce que deviendrait chaque clé, sans rien écrire.")
@click.pass_context
def import_(ctx: click.Context, file: str, password: str | None, psk_hex: str | None, dry_run: bool) -> None:
    """Importer des clés OTP d'un fichier PSKC ou OATH CSV (tout ou rien ; --dry-run : aperçu)."""
    from verifier import import_plan
    from verifier.interchange import read_file, strict, token_entries

    psk = None
    if psk_hex is not None:
        try:
            psk = bytes.fromhex(psk_hex)
        except ValueError:
            raise click.UsageError("--psk-hex attend de l'hexadécimal") from None
    entries = token_entries(read_file(file), file, password=password, psk=psk)
    store = _store(ctx)
    if dry_run:
        plan = import_plan.plan(store, entries)
        words = {import_plan.ADD: "à ajouter", import_plan.PRESENT: "ignorée", import_plan.REFUSED: "refusée"}
        for row in plan.rows:
            click.echo(f"{row.serial:<16} {row.where:<22} {words[row.status]}"
                       + (f" : {row.reason}" if row.reason else ""))
        click.echo(f"Aperçu, rien n'a été écrit : {plan.summary(done=False)}.")
        return
    records = strict(entries, file)  # all or nothing: the first line or key refused stops the file
    import_plan.apply(store, import_plan.entries_of(records), source=file, actor=_actor(), strict=True)
    serials = [r.serial for r in records]
    shown = ", ".join(serials) if len(serials) <= 20 else f"{', '.join(serials[:3])} … {serials[-1]}"
    click.echo(f"{len(serials)} clé(s) importée(s), prêtes à attribuer : {shown}")


@cli.command()
@click.argument("serial")
@click.argument("login")
@click.pass_context
def assign(ctx: click.Context, serial: str, login: str) -> None:
    """Attribuer une clé prête à un utilisateur (il choisira son PIN à la première connexion)."""
    _store(ctx).assign(serial, login, actor=_actor())
    click.echo(f"Clé {serial} attribuée à {login} : PIN à choisir à la première connexion.")


@cli.command()
@click.argument("serial")
@click.option("-f", "--force", is_flag=True, help="Ne pas demander de confirmation.")
@click.pass_context
def unassign(ctx: click.Context, serial: str, force: bool) -> None:
    """Reprendre une clé à son utilisateur (PIN, compteurs et dérive remis à zéro)."""
    _confirm(force, f"Reprendre la clé {serial} à son utilisateur ?")
    _store(ctx).unassign(serial, actor=_actor())
    click.echo(f"Clé {serial} reprise : prête à attribuer.")


@cli.command()
@click.argument("serial")
@click.pass_context
def unlock(ctx: click.Context, serial: str) -> None:
    """Déverrouiller une clé après trop d'échecs."""
    t = _store(ctx).unlock(serial, actor=_actor())
    click.echo(f"Clé {serial} déverrouillée ({state_fr(t.state)}).")


@cli.command()
@click.argument("serial")
@click.pass_context
def lock(ctx: click.Context, serial: str) -> None:
    """Bloquer une clé (jusqu'au déblocage par un administrateur) ; ferme les sessions de son utilisateur."""
    _store(ctx).lock(serial, actor=_actor())
    click.echo(f"Clé {serial} bloquée ; les sessions de son utilisateur sont fermées.")


@cli.command()
@click.argument("login")
@click.option("--end", "end", is_flag=True, help="Fermer toutes ses sessions.")
@click.pass_context
def sessions(ctx: click.Context, login: str, end: bool) -> None:
    """Sessions web ouvertes d'un utilisateur (début, dernière activité, adresse, navigateur) ; --end les ferme."""
    from verifier.sessions import Sessions

    store = _store(ctx)
    user = store.get_user(login)
    web = Sessions(store.engine, store.settings)
    if end:
        ended = web.end_user(user.id)
        store.record("session.end", actor=_actor(), login=login, detail=f"{ended} session(s)")
        click.echo(f"{ended} session(s) de {login} fermée(s).")
        return
    for s in web.list(user_id=user.id, now=time.time()):
        click.echo(f"{_when(s.created_at)}  {_when(s.last_seen)}  {s.address or '-':<16} {s.agent or '-'}")


@cli.command()
@click.argument("serial")
@click.argument("code1")
@click.argument("code2")
@click.pass_context
def resync(ctx: click.Context, serial: str, code1: str, code2: str) -> None:
    """Resynchroniser une clé avec deux codes consécutifs lus sur elle."""
    t = _store(ctx).resync(serial, code1, code2, actor=_actor())
    click.echo(f"Clé {serial} resynchronisée (dérive {t.drift:+d} pas).")


@cli.command("reset-pin")
@click.argument("serial")
@click.option("-f", "--force", is_flag=True, help="Ne pas demander de confirmation.")
@click.pass_context
def reset_pin(ctx: click.Context, serial: str, force: bool) -> None:
    """Effacer le PIN : l'utilisateur en choisira un nouveau à la prochaine connexion."""
    _confirm(force, f"Effacer le PIN de la clé {serial} ?")
    _store(ctx).reset_pin(serial, actor=_actor())
    click.echo(f"PIN de la clé {serial} effacé : nouveau PIN à la prochaine connexion.")


@cli.command()
@click.argument("serial")
@click.option("--reason", default="perdue", show_default=True, help="Motif (perdue, volée...).")
@click.option("-f", "--force", is_flag=True, help="Ne pas demander de confirmation.")
@click.pass_context
def disable(ctx: click.Context, serial: str, reason: str, force: bool) -> None:
    """Désactiver une clé perdue ou volée."""
    _confirm(force, f"Désactiver la clé {serial} ({reason}) ?")
    _store(ctx).disable(serial, reason, actor=_actor())
    click.echo(f"Clé {serial} désactivée ({reason}).")


@cli.command()
@click.argument("serial")
@click.option("--reason", default="retirée", show_default=True, help="Motif (effacée, cassée...).")
@click.option("-f", "--force", is_flag=True, help="Ne pas demander de confirmation.")
@click.pass_context
def retire(ctx: click.Context, serial: str, reason: str, force: bool) -> None:
    """Retirer définitivement une clé (son secret est détruit dans la base)."""
    _confirm(force, f"Retirer définitivement la clé {serial} ?")
    _store(ctx).retire_token(serial, reason, actor=_actor())
    click.echo(f"Clé {serial} retirée.")


def _parse_until(value: str | None, timezone: str, now: float) -> float | None:
    """``HH:MM`` (today, local time), or an ISO date and time (local time unless it names its offset)."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    try:
        if len(value) <= 5 and ":" in value:
            hours, minutes = (int(part) for part in value.split(":"))
            parsed = datetime.fromtimestamp(now, zone).replace(hour=hours, minute=minutes, second=0, microsecond=0)
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.UsageError(f"--until : heure invalide {value!r} (HH:MM aujourd'hui, ou AAAA-MM-JJTHH:MM, "
                               f"heure de {timezone})") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).timestamp()


def _local(ts: float, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(ts, ZoneInfo(timezone)).strftime(f"%d/%m/%Y à %H:%M ({timezone})")


@cli.command()
@click.argument("login")
@click.option("--until", default=None, metavar="HEURE",
              help="Fin de validité : HH:MM aujourd'hui ou AAAA-MM-JJTHH:MM, heure locale (défaut : minuit).")
@click.option("--uses", type=click.IntRange(1, 100), default=None,
              help="Nombre de connexions permises (défaut : réglage emergency_uses, 1).")
@click.option("--end", "end", is_flag=True, help="Mettre fin à l'accès de secours (clé retrouvée).")
@click.pass_context
def emergency(ctx: click.Context, login: str, until: str | None, uses: int | None, end: bool) -> None:
    """Accès de secours (clé perdue ou oubliée) : un code temporaire, à taper après le PIN à la place du code de
    la clé ; affiché une seule fois. --end y met fin."""
    store = _store(ctx)
    if end:
        ended = store.end_emergency(login, actor=_actor())
        click.echo(f"Accès de secours de {login} terminé." if ended else f"{login} n'avait pas d'accès de secours.")
        return
    tz = store.settings.timezone
    issued = store.issue_emergency(login, until=_parse_until(until, tz, time.time()), uses=uses, actor=_actor())
    click.echo(f"Accès de secours pour {login} (clé {issued.serial}) : code {issued.code}")
    click.echo(f"À taper après son PIN, à la place du code de la clé ; valable jusqu'au "
               f"{_local(issued.expires_at, tz)}, {issued.uses} connexion(s). Ce code ne sera plus affiché.")


@cli.command()
@click.option("--user", "login", default=None, help="Seulement cet utilisateur.")
@click.option("--token", "serial", default=None, help="Seulement cette clé.")
@click.option("--since", default=None, help="Depuis (AAAA-MM-JJ[THH:MM], UTC, ou secondes Unix).")
@click.option("--until", default=None, help="Jusqu'à (exclu).")
@click.option("--action", default=None, help="Seulement les actions commençant par ceci (auth, token., user.).")
@click.option("--limit", type=int, default=None, help="Au plus N lignes (les plus récentes).")
@click.option("--csv", "as_csv", is_flag=True, help="Sortie CSV.")
@click.pass_context
def audit(ctx: click.Context, login, serial, since, until, action, limit, as_csv) -> None:
    """Journal : tentatives de connexion et actes d'administration."""
    entries = _store(ctx).audit(login=login, serial=serial, since=_parse_time(since), until=_parse_time(until),
                                action=action, limit=limit)
    if as_csv:
        click.echo(audit_log.to_csv(entries), nl=False)
        return
    for e in entries:
        click.echo(f"{_when(e.at)}  {e.action:<18} {e.outcome:<20} {e.login or '-':<16} {e.serial or '-':<16} "
                   f"{e.actor}  {e.detail or ''}".rstrip())


@cli.command("rotate-key")
@click.option("--keep-old", is_flag=True, help="Garder les anciennes clés dans le trousseau.")
@click.option("-f", "--force", is_flag=True, help="Ne pas demander de confirmation.")
@click.pass_context
def rotate_key(ctx: click.Context, keep_old: bool, force: bool) -> None:
    """Nouvelle clé de chiffrement : re-chiffrer tous les secrets, par lots (une rotation interrompue reprend)."""
    _confirm(force, "Créer une nouvelle clé et re-chiffrer tous les secrets ? (les autres serveurs devront "
                    "recevoir le nouveau trousseau)")
    new_id = _store(ctx).rotate_key(actor=_actor(), keep_old=keep_old)
    click.echo(f"Clé principale {new_id} : tous les secrets sont re-chiffrés. Copiez le trousseau sur les autres "
               "serveurs.")


cli.add_command(radius_clients)  # jeton-admin radius-clients add/list/remove (verifier/radius/admin_cli.py)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: one French line on stderr and status 1 on error (traceback with --verbose)."""
    return run(cli, "jeton-admin", argv, expected=EXPECTED_ERRORS, message=error_message)


if __name__ == "__main__":
    sys.exit(main())
