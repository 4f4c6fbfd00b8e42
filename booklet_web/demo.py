"""The demo behind ``jeton-web demo``: the whole product on an embedded SQLite file, with simulated tokens.

:func:`run_demo` creates (or resumes) ``var/demo/``: the database and its key ring (mode 0600), the palier 3
referential, a small school (a head, two teachers, three classes of 25 fictitious pupils, some items already
recorded); it starts one simulated token per demo user (the real firmware under MicroPython on a pty), seeds
and locks each one through the provisioner's own code path over its pty, assigns it in new-PIN mode, serves
the booklet, prints in French what to do and each token's ``PORT <path>``, draws the tokens' displays in the
terminal, and stops everything on Ctrl-C or SIGTERM. Every step uses the parts' libraries: roster import,
``seed_token``, ``Store.assign``, ``save_items``; nothing here re-implements them.

>>> run_demo(DemoOptions(directory=Path("var/demo"), port=8000))   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from booklet_web.db import Database

DB_FILE = "demo.db"
KEYS_FILE = "keys.json"
MANIFEST = "demo.json"
LOCK_FILE = "demo.lock"  # also marks a folder the demo made, so the only one it may clear
TOKENS_DIR = "tokens"
OPERATOR = "jeton-web demo"


class DemoError(Exception):
    """The demo cannot start; the message (French) says what to do."""


@dataclass(frozen=True)
class DemoUser:
    login: str
    first_name: str
    last_name: str
    role: str  # "admin" or "teacher"
    classes: tuple[str, ...]
    label: str  # what the user is, in French


#: The demo school's accounts, in the order their tokens and ``PORT`` lines are printed.
USERS = (
    DemoUser("jdupont", "Jean", "Dupont", "teacher", ("3A", "3B"), "professeur (3A, 3B)"),
    DemoUser("mmartin", "Marie", "Martin", "teacher", ("3B", "3C"), "professeure (3B, 3C)"),
    DemoUser("adurand", "Anne", "Durand", "admin", (), "cheffe d'établissement, administratrice"),
)
CLASSES = ("3A", "3B", "3C")
PUPILS_PER_CLASS = 25
_FIRST = ("Léa", "Hugo", "Chloé", "Lucas", "Emma", "Nathan", "Inès", "Tom", "Jade", "Louis", "Manon", "Gabriel",
          "Camille", "Arthur", "Sarah", "Raphaël", "Lina", "Jules", "Zoé", "Adam", "Alice", "Noah", "Lou", "Ethan",
          "Rose")
_LAST = ("Bernard", "Petit", "Robert", "Richard", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia",
         "Roux", "Fournier", "Girard", "Bonnet", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefort",
         "Faure", "André", "Mercier", "Blanc", "Guérin")


@dataclass(frozen=True)
class DemoOptions:
    """Where the demo lives, where it listens, and whether it starts over."""

    directory: Path = Path("var/demo")
    host: str = "127.0.0.1"
    port: int = 8000
    fresh: bool = False


@dataclass
class DemoToken:
    user: DemoUser
    serial: str
    sim: object  # token_firmware.sim.SimulatedToken

    @property
    def port(self) -> str:
        return self.sim.port


# --- the school ------------------------------------------------------------------------------------------------

def school_roster() -> bytes:
    """The demo school as a roster CSV (the booklet's own import format): accounts, classes, 75 pupils."""
    lines = ["type;classe;nom;prenom;identifiant"]
    for user in USERS:
        kind = "administrateur" if user.role == "admin" else "enseignant"
        for klass in user.classes or ("",):
            lines.append(f"{kind};{klass};{user.last_name};{user.first_name};{user.login}")
    for c, klass in enumerate(CLASSES):
        for i in range(PUPILS_PER_CLASS):  # a permutation of the names in each class: fictitious pupils
            last, first = _LAST[(i + 7 * c) % len(_LAST)], _FIRST[(3 * i + 5 * c) % len(_FIRST)]
            lines.append(f"eleve;{klass};{last};{first};E{klass}{i + 1:02d}")
    return ("\n".join(lines) + "\n").encode()


@contextlib.contextmanager
def _school_database(url: str, keys_file: Path) -> Iterator[Database]:
    """The verifier's store and key ring, the booklet's schema and referential, all at head; the database is
    disposed of afterwards."""
    from booklet_web import schema
    from booklet_web.db import open_database
    from verifier import init_store

    store, _created, _revisions = init_store(url, keys_file, actor=OPERATOR)
    store.close()
    database = open_database(url)
    try:
        schema.upgrade(database.engine)
        schema.load_referential_into(database.engine)
        yield database
    finally:
        database.dispose()


def create_school(url: str, keys_file: Path) -> None:
    """Database, key ring, booklet schema, referential, roster, and a few items recorded by the demo users."""
    import sqlalchemy as sa

    from booklet_web import livret
    from booklet_web.referential import load_referential
    from booklet_web.roster import import_roster, verifier_user_creator
    from booklet_web.tables import classes, pupils

    with _school_database(url, keys_file) as database:
        import_roster(database.writer, school_roster(), verifier_user_creator(OPERATOR))
        ref, now = load_referential(), datetime.now(UTC)
        with database.engine.connect() as conn:
            class_ids = {r.name: r.id for r in conn.execute(sa.select(classes.c.id, classes.c.name))}
            pupil_ids = {name: list(conn.execute(sa.select(pupils.c.id).where(pupils.c.class_id == cid)
                                                 .order_by(pupils.c.last_name)).scalars())
                         for name, cid in class_ids.items()}
            actors = {u.login: livret.actor_by_login(conn, u.login) for u in USERS}
        # What a school has in its booklet after a few weeks: some items, one validated compétence.
        c1 = [item.id for item in ref.competence("C1").items[:3]]
        c3 = [item.id for item in ref.competence("C3").items[:2]]
        livret.save_items(database.writer, ref, actors["jdupont"], class_ids["3A"], pupil_ids["3A"][:10], "C1",
                          c1, [], now)
        livret.save_items(database.writer, ref, actors["mmartin"], class_ids["3C"], pupil_ids["3C"], "C3",
                          c3, [], now)
        livret.validate_competence(database.writer, ref, actors["adurand"], class_ids["3A"], pupil_ids["3A"][0],
                                   "C7", None, now)


def upgrade_school(url: str, keys_file: Path) -> None:
    """A resumed demo made by an older checkout: both schemas brought to head, the referential refreshed."""
    with _school_database(url, keys_file):
        pass


# --- the tokens --------------------------------------------------------------------------------------------------

def _simulator_class():
    try:
        from token_firmware.sim import SimulatedToken
    except ImportError as exc:
        raise DemoError(f"le simulateur de clé est introuvable (token_firmware.sim) : {exc}") from None
    return SimulatedToken


def start_simulators(stack: contextlib.ExitStack, tokens_dir: Path) -> dict[str, object]:
    """One running simulated token per demo user (state kept in ``tokens_dir/<login>``), started in parallel."""
    cls = _simulator_class()
    tokens_dir.mkdir(parents=True, exist_ok=True)

    def start(user: DemoUser):
        sim = cls(tokens_dir / user.login, always_on=True)  # a locked token answers CODE only while it shows it
        sim.__enter__()
        return sim

    with ThreadPoolExecutor(len(USERS)) as pool:
        futures = [pool.submit(start, user) for user in USERS]
    sims = {}
    for user, future in zip(USERS, futures, strict=True):
        if future.exception() is None:  # every started one is stopped with the stack, even if another failed
            sims[user.login] = future.result()
            stack.callback(sims[user.login].__exit__, None, None, None)
    for future in futures:
        if future.exception() is not None:
            raise DemoError(f"une clé simulée n'a pas démarré : {future.exception()}")
    return sims


def seed_and_assign(url: str, keys_file: Path, sims: dict[str, object], known: dict[str, str] | None) -> list:
    """Seed and lock each token through the provisioner (``seed_token`` over its pty), then assign it.

    With ``known`` (resuming: login -> serial), each token must already be the one recorded for its user:
    ``seed_token`` proves it holds its secret and changes nothing.
    """
    from provisioner.errors import ProvisionerError
    from provisioner.records import open_records
    from provisioner.seeding import SeedOptions, seed_token
    from provisioner.session import TokenSession
    from verifier import open_store

    tokens = []
    with open_records(url, str(keys_file)) as records:
        for user in USERS:
            sim = sims[user.login]
            try:
                with TokenSession.open(sim.port) as session:
                    result = seed_token(session, records, SeedOptions(operator=OPERATOR))
            except ProvisionerError as exc:
                raise DemoError(f"clé de {user.login} : {exc} (relancez avec --fresh)") from None
            if known is not None and (result.outcome != "already" or result.serial != known.get(user.login)):
                raise DemoError(f"la clé de {user.login} n'est plus celle de la démo enregistrée : "
                                "relancez avec --fresh")
            tokens.append(DemoToken(user, result.serial, sim))
    if known is None:
        with open_store(url, str(keys_file)) as store:
            for token in tokens:  # new-PIN mode: the first login takes the code alone (guide, step 2)
                store.assign(token.serial, token.user.login, actor=OPERATOR)
    return tokens


# --- the terminal ------------------------------------------------------------------------------------------------

def _shown(sim) -> tuple[str | None, int]:
    """(text, dots) the simulated token's display shows now; (None, 0) when it is dark."""
    text = sim.display()
    return (None, 0) if text is None else (text, sim.dots())


class Panel:
    """The tokens' displays, redrawn in place at the bottom of a terminal."""

    def __init__(self, out: TextIO, tokens: list[DemoToken]) -> None:
        from token_firmware.sim_cli import render

        self.render = render
        self.out = out
        self.tokens = tokens
        self.height = 0
        self.last: list[str] = []

    def refresh(self) -> None:
        """Wake every dark display (a press, as a user would) and redraw when anything changed."""
        lines = []
        for token in self.tokens:
            text, dots = _shown(token.sim)
            if text is None:
                token.sim.press()
            rows = self.render(text, dots)  # the simulator's own drawing of a 7-segment display
            head = f"  {token.user.login:<8} {token.serial:<10}"
            lines += [head + "  " + rows[0], " " * len(head) + "  " + rows[1], " " * len(head) + "  " + rows[2], ""]
        if lines == self.last:
            return
        up = f"\x1b[{self.height}F" if self.height else ""
        self.out.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        self.out.flush()
        self.height, self.last = len(lines), lines


# --- the whole demo ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _lock(directory: Path) -> Iterator[None]:
    """Hold the demo folder: one demo at a time, and never in a folder the demo did not make (it deletes files)."""
    lock = directory / LOCK_FILE
    if directory.is_dir() and not lock.exists() and any(directory.iterdir()):
        raise DemoError(f"{directory} n'est pas un dossier de démo (il contient d'autres fichiers) : "
                        "choisissez un dossier vide ou nouveau avec --dir")
    directory.mkdir(parents=True, exist_ok=True)
    # The tokens' flash under it holds their secrets in clear, as a real token's flash does: owner only.
    directory.chmod(0o700)
    with open(lock, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoError(f"une démo tourne déjà dans {directory} : arrêtez-la d'abord (Ctrl-C)") from None
        yield


def _clear(directory: Path) -> None:
    """Forget a previous demo: its database, keys, manifest and token flash (nothing else in the folder)."""
    for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", f"{DB_FILE}-journal", KEYS_FILE,
                 f"{KEYS_FILE}.web-secret", MANIFEST):
        (directory / name).unlink(missing_ok=True)
    shutil.rmtree(directory / TOKENS_DIR, ignore_errors=True)


def _read_manifest(directory: Path) -> dict[str, str] | None:
    try:
        data = json.loads((directory / MANIFEST).read_text())
        known = {entry["login"]: entry["serial"] for entry in data["tokens"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if set(known) != {u.login for u in USERS} or not all((directory / n).exists() for n in (DB_FILE, KEYS_FILE)):
        return None
    return known


def _check_port(host: str, port: int) -> None:
    """Refuse at once (before any token starts) when something already listens on the port."""
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise DemoError(f"impossible d'écouter sur {host}:{port} ({exc.strerror}) : essayez --port") from None


def _make_server(app, host: str, port: int):
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log over the drawn displays
    try:
        return make_server(host, port, app, threaded=True)
    except OSError as exc:
        raise DemoError(f"impossible d'écouter sur {host}:{port} ({exc.strerror}) : essayez --port") from None


def _say_what_to_do(out: TextIO, url: str, tokens: list[DemoToken], resumed: bool, directory: Path,
                    seconds: float, tty: bool) -> None:
    how = ("démo reprise : PIN et livrets conservés ; --fresh pour repartir de zéro" if resumed
           else "démo neuve : chaque compte choisira son PIN à la première connexion")
    w = out.write
    w(f"\nJeton — démonstration ({how})\nBase SQLite et trousseau de clés : {directory}/\n\n")
    w(f"Ouvrez {url} dans un navigateur.\n\nComptes de démonstration, chacun avec sa clé simulée :\n")
    for t in tokens:
        name = f"{t.user.first_name} {t.user.last_name}"
        w(f"  {t.user.login:<8}  {name:<13}  {t.user.label:<40}  clé {t.serial}\n")
    w("\nLe code est le nombre à 6 chiffres affiché par la clé ; il change toutes les 30 secondes.\n"
      "Première connexion (guide de la clé OTP, partie 1) :\n"
      "  Étape 2 : votre identifiant (ex. jdupont) et, dans « Mot de Passe ou Passcode OTP »,\n"
      "            uniquement les 6 chiffres de la clé ; Valider.\n"
      "  Étape 3 : choisissez un code PIN de 4 à 6 chiffres, saisi deux fois ; Valider.\n"
      "  Étape 4 : attendez que le code de la clé change, puis saisissez votre PASSCODE :\n"
      "            le PIN suivi des 6 chiffres affichés.\n"
      "Ensuite (partie 2) : identifiant, puis PIN suivi des 6 chiffres. Partie 3 : choisissez une classe,\n"
      "des élèves, le livret ; cliquez sur les étoiles, puis « Enregistrer ».\n\n"
      "Ports série des clés, pour les scripts (dans l'ordre des comptes ci-dessus) :\n")
    for t in tokens:
        w(f"PORT {t.port}\n")
    if not tty:
        w("(Les codes des clés sont dessinés ici quand la sortie est un terminal ; "
          "un script les lit par CODE sur chaque PORT.)\n")
    w("Les mêmes clés ouvrent aussi un VPN ou SSH par RADIUS : `make radius-demo` dans un autre terminal.\n")
    w(f"\nDémo prête en {seconds:.1f} s. Ctrl-C pour tout arrêter.\n".replace(".", ",", 1))
    if tty:
        w("\nÉcrans des clés (simulées : elles se rallument seules ; les points s'éteignent "
          "à mesure que le code vieillit) :\n\n")
    out.flush()


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, a service manager, a closed terminal
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_demo(options: DemoOptions, out: TextIO, *, stop: threading.Event | None = None,
             tty: bool | None = None) -> None:
    """Start the demo, tell the user what to do, serve until ``stop`` is set (or Ctrl-C/SIGTERM), then stop all.

    Resumes the demo found in ``options.directory`` unless ``options.fresh`` (or it is missing or incomplete).
    Raises :class:`DemoError` with a French message when it cannot start; whatever was started is stopped.
    """
    started = time.monotonic()
    stop = stop or threading.Event()
    tty = out.isatty() if tty is None else tty
    directory = options.directory.resolve()
    url = f"sqlite:///{directory / DB_FILE}"
    keys_file = directory / KEYS_FILE
    with _stop_on_signals(stop), _lock(directory), contextlib.ExitStack() as stack:
        _check_port(options.host, options.port)
        known = None if options.fresh else _read_manifest(directory)
        if known is None:
            _clear(directory)
        with ThreadPoolExecutor(1) as pool:  # the simulators boot while the database is made
            booting = pool.submit(start_simulators, stack, directory / TOKENS_DIR)
            try:
                (create_school if known is None else upgrade_school)(url, keys_file)
            finally:
                sims = booting.result()
        tokens = [] if stop.is_set() else seed_and_assign(url, keys_file, sims, known)
        if stop.is_set():  # stopped while starting: everything started is stopped below
            return
        (directory / MANIFEST).write_text(json.dumps(
            {"tokens": [{"login": t.user.login, "serial": t.serial} for t in tokens]}, indent=1))

        from booklet_web import create_app

        app = create_app({"JETON_DB_URL": url, "JETON_KEYS_FILE": str(keys_file), "SESSION_COOKIE_SECURE": False})
        stack.callback(app.extensions["jeton"].store.close)
        stack.callback(app.extensions["jeton"].db.dispose)
        server = _make_server(app, options.host, options.port)
        serving = threading.Thread(target=server.serve_forever, name="jeton-demo-http", daemon=True)
        serving.start()
        stack.callback(server.server_close)
        stack.callback(serving.join, 10)
        stack.callback(server.shutdown)
        _say_what_to_do(out, f"http://{options.host}:{options.port}/", tokens, known is not None, directory,
                        time.monotonic() - started, tty)
        panel = Panel(out, tokens) if tty else None
        while not stop.is_set():
            if panel is not None:
                with contextlib.suppress(OSError, ValueError):  # a token stopped by Ctrl-C before us
                    panel.refresh()
            stop.wait(0.25)
        _say(out, "\nArrêt de la démo…\n")
    _say(out, "Démo arrêtée.\n")


def _say(out: TextIO, text: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # the terminal may be gone (SIGHUP): stop all the same
        out.write(text)
        out.flush()
