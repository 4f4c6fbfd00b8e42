"""``jeton-provision``: the IT staff's command line (click lives here only; the work is in the library).

Messages for people go to stderr, in French; data (serials, --json) goes to stdout. Errors are one line and a
non-zero exit; ``--verbose`` shows the traceback.
"""

from __future__ import annotations

import errno
import getpass
import json
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path

import click

from provisioner.errors import ExportError, ProvisionerError
from verifier import clikit

EXIT_ERROR = clikit.EXIT_ERROR


def say(message: str) -> None:
    """A line for people (stderr)."""
    click.echo(message, err=True)


def emit(data: object, as_json: bool, text: str | None = None) -> None:
    """Data for scripts (stdout): JSON with --json, else ``text`` when given."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))
    elif text is not None:
        click.echo(text)


def store_options(fn):
    """--db and --keys as parameters, with jeton-admin's meaning (DESIGN.md §6); accepted before or after the
    subcommand (verifier.clikit)."""
    return clikit.db_option()(clikit.keys_option()(fn))


def token_options(fn):
    for option in reversed([
        click.option("--algo", type=click.Choice(["sha1", "sha256"]), default="sha1", show_default=True,
                     help="Algorithme HMAC du TOTP."),
        click.option("--digits", type=click.Choice(["6", "8"]), default="6", show_default=True,
                     help="Nombre de chiffres affichés."),
        click.option("--period", type=click.Choice(["30", "60"]), default="30", show_default=True,
                     help="Durée d'un code, en secondes."),
        click.option("--operator", default=None, help="Nom de l'opérateur enregistré (défaut : l'utilisateur)."),
    ]):
        fn = option(fn)
    return fn


def _operator(value: str | None) -> str:
    if value:
        return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "inconnu"


_WRITE_REASONS = {errno.ENOENT: "dossier introuvable", errno.EACCES: "accès refusé", errno.EPERM: "accès refusé",
                  errno.EISDIR: "c'est un dossier", errno.ENOSPC: "disque plein",
                  errno.EINVAL: "ce n'est pas un fichier ordinaire"}


def _cannot_write(path: Path, err: int | None, text: str | None = None) -> ExportError:
    """One French line for a file that cannot be written."""
    return ExportError(f"impossible d'écrire {path} : {_WRITE_REASONS.get(err, text or 'erreur du système')}")


def _check_writable(path: Path) -> None:
    """Refuse, before anything is changed, a file that cannot be created (missing folder, a folder's name)."""
    if path.is_dir():
        raise _cannot_write(path, errno.EISDIR)
    if not path.parent.is_dir():
        raise _cannot_write(path, errno.ENOENT)
    if not os.access(path.parent, os.W_OK):
        raise _cannot_write(path, errno.EACCES)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as a new file readable by its owner only (it holds secrets): never through a
    link planted there, never keeping an old file's mode (verifier.private_files)."""
    from verifier.private_files import write_private

    try:
        write_private(path, data)
    except OSError as exc:
        raise _cannot_write(path, exc.errno, exc.strerror) from None


def _records(db_url: str | None, keys_file: str | None):
    from provisioner.records import open_records

    return open_records(db_url, keys_file)


@click.group(cls=clikit.JetonGroup)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Provisionner les clés Jeton : flasher, initialiser (seed), contrôler, effacer, exporter.

    --db, --keys et --verbose se placent avant ou après la sous-commande."""
    ctx.obj = {}


@cli.command()
@click.option("--port", "patterns", multiple=True, metavar="MOTIF",
              help="Ports à sonder en plus (chemin ou motif, ex. '/dev/ttyACM*'). Répétable.")
@click.option("--no-usb", is_flag=True, help="Ne pas chercher les cartes MicroPython USB.")
@click.option("--json", "as_json", is_flag=True, help="Une ligne JSON par port sur stdout.")
def ports(patterns: tuple[str, ...], no_usb: bool, as_json: bool) -> None:
    """Lister les clés branchées (chaque port est interrogé par HELLO)."""
    from provisioner.discovery import candidate_ports, probe_port

    found = candidate_ports(patterns, usb=not no_usb)
    if not found:
        say("Aucune carte MicroPython trouvée.")
    for port in found:
        report = probe_port(port)
        hello = report.hello
        data = {"port": port, "problem": report.problem, "hello": asdict(hello) if hello else None}
        if hello:
            line = (f"{port}  {hello.serial or '-':<16} {clikit.state_fr(hello.state):<12} firmware {hello.firmware}  "
                    f"horloge {'ok' if hello.clock_ok else 'PERDUE'}")
        else:
            line = f"{port}  ne répond pas : {report.problem}"
        if as_json:
            emit(data, True)
        else:
            click.echo(line)


@cli.command()
@click.argument("port")
@click.option("--source", is_flag=True, help="Copier les fichiers .py sans les compiler avec mpy-cross.")
@click.option("--json", "as_json", is_flag=True, help="Résultat en JSON sur stdout.")
def flash(port: str, source: bool, as_json: bool) -> None:
    """Installer le firmware Jeton sur une carte MicroPython (refusé sur une clé verrouillée)."""
    from provisioner.flashing import flash as do_flash

    say(f"Flash de {port}…")
    result = do_flash(port, compile_mpy=not source)
    say(f"Firmware {result.firmware} installé sur {port} ({len(result.files)} fichiers, "
        f"{'mpy' if result.compiled else 'source'}) ; la clé est {clikit.state_fr(result.hello.state)}.")
    emit({"port": port, "firmware": result.firmware, "files": list(result.files), "state": result.hello.state},
         as_json)


@cli.command()
@click.argument("port")
@click.option("--serial", default=None, help="Numéro de série (défaut : le suivant, ex. JT-000042).")
@token_options
@click.option("--prefix", default="JT", show_default=True, help="Préfixe des numéros de série automatiques.")
@click.option("--force", is_flag=True,
              help="Reculer l'horloge de la clé si besoin ; effacer une clé inconnue de cette base.")
@click.option("--timeout", default=2.0, show_default=True, help="Secondes d'attente d'une réponse de la clé.")
@click.option("--json", "as_json", is_flag=True, help="Résultat en JSON sur stdout.")
@store_options
@click.pass_context
def seed(ctx, port, serial, algo, digits, period, operator, prefix, force, timeout, as_json, db_url, keys_file):
    """Initialiser une clé : secret, enregistrement, heure, SEED, preuve, verrouillage.

    Relancer la commande après une interruption termine le travail (ou efface la clé et marque la fiche en
    échec)."""
    from provisioner.seeding import SeedOptions, seed_token
    from provisioner.session import TokenSession

    options = SeedOptions(serial=serial.upper() if serial else None, algo=algo, digits=int(digits),
                          period=int(period), operator=_operator(operator), force=force, prefix=prefix)
    reserved: list[str] = []

    def on_step(name: str, serial: str | None) -> None:
        if name == "pending":
            reserved.append(serial)
            say(f"Numéro {serial} réservé pour la clé de {port}.")
        elif clikit.setting("verbose"):
            say(f"  … {name}")

    with _records(db_url, keys_file) as records, TokenSession.open(port, timeout=timeout) as token:
        try:
            result = seed_token(token, records, options, on_step=on_step)
        except KeyboardInterrupt:
            if reserved:
                say(f"Interrompu : pour terminer, relancez `jeton-provision seed {port} --serial {reserved[0]}`.")
            raise
    words = {"provisioned": "provisionnée", "completed": "terminée (reprise)", "already": "déjà provisionnée"}
    say(f"Clé {result.serial} {words[result.outcome]} — firmware {result.firmware}, "
        f"horloge {result.clock_offset:+d} s. Écrivez {result.serial} sur l'étiquette.")
    emit(asdict(result), as_json, result.serial)


@cli.command()
@click.option("--port", "patterns", multiple=True, metavar="MOTIF",
              help="Ports à surveiller en plus des cartes USB (chemin ou motif). Répétable.")
@click.option("--no-usb", is_flag=True, help="Ne pas chercher les cartes MicroPython USB.")
@token_options
@click.option("--prefix", default="JT", show_default=True, help="Préfixe des numéros de série.")
@click.option("--workers", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Clés traitées en même temps.")
@click.option("--count", type=click.IntRange(min=1), default=None, help="S'arrêter après ce nombre de clés.")
@click.option("--idle-exit", type=float, default=None, metavar="SECONDES",
              help="S'arrêter quand aucune clé n'est arrivée depuis ce temps.")
@click.option("--json", "as_json", is_flag=True, help="Une ligne JSON par clé sur stdout.")
@store_options
def batch(patterns, no_usb, algo, digits, period, operator, prefix, workers, count, idle_exit, as_json, db_url,
          keys_file):
    """Provisionner chaque clé branchée, au fur et à mesure (Ctrl-C : finir les clés en cours et s'arrêter)."""
    from provisioner.batch import BatchRunner
    from provisioner.discovery import candidate_ports
    from provisioner.seeding import SeedOptions

    options = SeedOptions(algo=algo, digits=int(digits), period=int(period), operator=_operator(operator),
                          prefix=prefix)
    with _records(db_url, keys_file) as records:
        tally = {"ok": 0, "failed": 0, "busy": 0}

        def on_event(kind, port, outcome):
            if kind == "start":
                tally["busy"] += 1
            else:
                tally["busy"] -= 1
                tally["ok" if outcome.ok else "failed"] += 1
                if outcome.ok:
                    say(f"  OK    {outcome.serial:<16} {port}  {outcome.result}  {outcome.seconds:.1f} s")
                else:
                    say(f"  ÉCHEC {outcome.serial or '-':<16} {port}  {outcome.error}")
                emit(asdict(outcome), as_json)
            say(f"[{tally['ok']} ok, {tally['failed']} échec(s), {tally['busy']} en cours]")

        runner = BatchRunner(records, options, lambda: candidate_ports(patterns, usb=not no_usb),
                             workers=workers, on_event=on_event)
        previous = signal.signal(signal.SIGINT, lambda *_: (say("Arrêt demandé : fin des clés en cours…"),
                                                            runner.stop()))
        say("Branchez les clés (Ctrl-C pour terminer)…")
        try:
            outcomes = runner.run(count=count, idle_exit=idle_exit)
        finally:
            signal.signal(signal.SIGINT, previous)
    say(_summary(outcomes))
    if any(not o.ok for o in outcomes):
        sys.exit(EXIT_ERROR)


def _summary(outcomes) -> str:
    rows = [("numéro", "port", "résultat", "durée")]
    for o in outcomes:
        rows.append((o.serial or "-", o.port, o.result if o.ok else f"échec : {o.error}", f"{o.seconds:.1f} s"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3] for r in rows]
    ok = sum(o.ok for o in outcomes)
    return "\n".join(["Résumé :", *lines, f"{ok} clé(s) prête(s), {len(outcomes) - ok} échec(s)."])


#: what ``check`` says of a battery reading (``verifier.health.battery_status``)
BATTERY_WORDS = {"low": "{:.2f} V (faibles : à remplacer)", "ok": "{:.2f} V (bonnes)",
                 "usb": "non mesurables, la clé est alimentée par l'USB ({:.2f} V)"}


@cli.command()
@click.argument("port")
@click.option("--json", "as_json", is_flag=True, help="Rapport en JSON sur stdout.")
@store_options
def check(port, as_json, db_url, keys_file):
    """Contrôler une clé rendue : identité, secret, horloge ; peut-elle être réattribuée ?"""
    from provisioner.checking import check_token
    from provisioner.session import TokenSession

    with _records(db_url, keys_file) as records, TokenSession.open(port) as token:
        report = check_token(token, records)
    say(f"Clé {report.serial or '(vierge)'} sur {port} : état {clikit.state_fr(report.token_state)}, "
        f"firmware {report.firmware}, "
        f"horloge {'ok' if report.clock_ok else 'PERDUE'} ({report.clock_offset:+d} s)")
    if report.record_state:
        holder = f", utilisateur {report.login}" if report.login else ""
        proved = "oui" if report.holds_secret else "NON"
        say(f"  fiche : {clikit.state_fr(report.record_state)}{holder} ; secret prouvé : {proved}")
    if report.holds_secret and report.clock_ok and report.code_ok is None:
        say("  code : non comparé (appuyez sur le bouton de la clé pendant check pour le comparer)")
    if report.battery_volts is not None:
        say(f"  piles : {BATTERY_WORDS[report.battery].format(report.battery_volts)}")
    if report.drift_ppm is not None:
        say(f"  dérive de l'horloge : {report.drift_ppm:+.1f} ppm (±{report.drift_uncertainty_ppm:.1f}) "
            f"en {report.days_since_provisioning:.1f} jour(s) depuis le provisionnement")
    say("  Réattribuable." if report.reissuable else "  Non réattribuable : " + " ; ".join(report.reasons))
    emit({**asdict(report), "reissuable": report.reissuable}, as_json)
    if not report.reissuable:
        sys.exit(EXIT_ERROR)


@cli.command()
@click.argument("ports", nargs=-1, required=True)
@click.option("--hours", type=click.FloatRange(min=0, min_open=True), default=24.0, show_default=True,
              help="Durée du rodage.")
@click.option("--json", "as_json", is_flag=True, help="Résultats en JSON sur stdout.")
def burnin(ports, hours, as_json):
    """Roder un lot de clés : mesurer la dérive de leur horloge et lister celles à écarter (DS3231 contrefaits)."""
    from provisioner.clockdrift import MAX_DRIFT_PPM
    from provisioner.clockdrift import burnin as run_burnin

    say(f"Rodage de {len(ports)} clé(s) pendant {hours:g} h : laissez-les branchées.")

    def waiting(left: float) -> None:
        say(f"  encore {left / 3600:.2f} h")

    results = run_burnin(list(ports), hours * 3600, on_wait=waiting)
    for r in results:
        who = f"{r.serial or '(vierge)'} sur {r.port}"
        drift = f"{r.ppm:+.1f} ppm (±{r.uncertainty:.1f})" if r.ppm is not None else "dérive inconnue"
        say(f"  {who} : {drift} : " + (f"À ÉCARTER : {r.reason}" if r.rejected else "bonne"))
    rejected = [r for r in results if r.rejected]
    say(f"{len(results) - len(rejected)} bonne(s), {len(rejected)} à écarter (seuil : ±{MAX_DRIFT_PPM:g} ppm).")
    emit([{**asdict(r), "rejected": r.rejected} for r in results], as_json,
         "\n".join(r.port for r in rejected) or None)
    if rejected:
        sys.exit(EXIT_ERROR)


@cli.command()
@click.argument("port")
@click.option("--force", "-f", is_flag=True, help="Ne pas demander de confirmation.")
@click.option("--serial", "label", default=None,
              help="Numéro de l'étiquette, pour retirer la fiche d'une clé qui ne connaît plus le sien (corrompue).")
@store_options
def wipe(port, force, label, db_url, keys_file):
    """Effacer le secret d'une clé et retirer sa fiche (demande confirmation)."""
    from provisioner.checking import wipe_token
    from provisioner.session import TokenSession

    with _records(db_url, keys_file) as records, TokenSession.open(port) as token:
        hello = token.hello()
        if not force:
            clikit.confirm(f"Effacer définitivement la clé {hello.serial or '(vierge)'} "
                           f"({clikit.state_fr(hello.state)}) sur {port} ?", abort=True)
        result = wipe_token(token, records, label=label.upper() if label else None)
    retired = " ; fiche retirée" if result.record_retired else ""
    say(f"Clé {result.serial or '(vierge)'} effacée{retired}.")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["pskc", "csv"]), default="pskc", show_default=True,
              help="PSKC (RFC 6030, chiffré) ou CSV OATH (en clair !).")
@click.option("--password", default=None, envvar="JETON_EXPORT_PASSWORD",
              help="Mot de passe du fichier PSKC (PBKDF2) ; demandé s'il manque.")
@click.option("--psk-hex", default=None, help="Clé partagée AES-128 en hexadécimal (32 chiffres), au lieu du mot "
              "de passe.")
@click.option("--serial", "serials", multiple=True, help="Exporter seulement ce jeton. Répétable.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Fichier à écrire.")
@click.option("--force", "-f", is_flag=True, help="Remplacer le fichier s'il existe.")
@store_options
def export(fmt, password, psk_hex, serials, output, force, db_url, keys_file):
    """Exporter les jetons pour un serveur (privacyIDEA, jeton-admin import)."""
    from provisioner.exporting import collect, read_pskc, to_oath_csv, to_pskc

    path = Path(output)
    if os.path.lexists(path) and not force:  # a link counts, even one to nothing
        raise ExportError(f"{path} existe déjà (--force pour le remplacer)")
    _check_writable(path)
    psk = None
    if fmt == "pskc":
        if psk_hex:
            try:
                psk = bytes.fromhex(psk_hex)
            except ValueError:
                raise ExportError("--psk-hex : 32 chiffres hexadécimaux attendus") from None
        elif password is None:
            password = click.prompt("Mot de passe du fichier", hide_input=True, confirmation_prompt=True, err=True)
    with _records(db_url, keys_file) as records:
        items = collect(records, list(serials) or None)
    if fmt == "pskc":
        data = to_pskc(items, password=None if psk else password, psk=psk)
        if len(read_pskc(data, password=None if psk else password, psk=psk)) != len(items):
            raise ExportError("relecture du fichier PSKC incomplète")
    else:
        data = to_oath_csv(items)
    _write_private(path, data)
    say(f"{len(items)} jeton(s) exporté(s) vers {path} ({fmt}{', EN CLAIR' if fmt == 'csv' else ''}).")


@cli.command()
@click.argument("login")
@token_options
@click.option("--png", type=click.Path(dir_okay=False), default=None, help="Écrire le QR code dans ce fichier PNG.")
@click.option("--no-terminal", is_flag=True, help="Ne pas dessiner le QR code dans le terminal.")
@click.option("--uri", "show_uri", is_flag=True, help="Écrire l'URI otpauth:// sur stdout (elle contient le secret).")
@store_options
def software(login, algo, digits, period, operator, png, no_terminal, show_uri, db_url, keys_file):
    """Créer un jeton logiciel (FreeOTP, Aegis...) pour LOGIN et afficher son QR code."""
    from provisioner.software import create_software_token, parameters_warning, qr_png, qr_terminal

    warning = parameters_warning(algo, int(digits), int(period))
    if warning:
        say(warning)

    if png:
        _check_writable(Path(png))  # before the token exists: a PNG that cannot be written changes nothing
    with _records(db_url, keys_file) as records:
        token = create_software_token(records, login, algo=algo, digits=int(digits), period=int(period),
                                      operator=_operator(operator))
    if png:
        _write_private(Path(png), qr_png(token.uri))
    if not no_terminal:
        say(qr_terminal(token.uri))
    say(f"Jeton logiciel {token.serial} créé pour {login} : à scanner une seule fois, puis détruire le PNG.")
    emit({"serial": token.serial, "login": login, "uri": token.uri}, False, token.uri if show_uri else token.serial)


def _message(exc: BaseException) -> str:
    """The French line of an error: the provisioner's own, or the verifier's wording (as jeton-admin prints it)."""
    errors = sys.modules.get("verifier.errors")
    if errors is not None and isinstance(exc, errors.VerifierError):
        from verifier.cli import error_message

        return error_message(exc)
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``jeton-provision``: one line per error, a non-zero exit, tracebacks with --verbose."""
    from verifier.errors import VerifierError

    return clikit.run(cli, "jeton-provision", argv, expected=(ProvisionerError, VerifierError, ValueError),
                      message=_message, prefix="erreur : ")


if __name__ == "__main__":
    sys.exit(main())
