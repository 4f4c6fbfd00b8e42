"""The plumbing every Jeton command line shares (jeton-admin, jeton-provision, jeton-web, jeton-radius).

A CLI module, not a library one: click is allowed here, and only the CLIs import this module.

- :class:`JetonGroup`: ``--db``, ``--keys`` and ``-v/--verbose`` are accepted before the subcommand and after it,
  on the group and on every subcommand (nested groups too). The value given last on the line wins; then the
  environment (``JETON_DB_URL``, ``JETON_KEYS_FILE``); read it with :func:`setting`. A command that names the
  option itself (``@db_option()``) gets the same value as a parameter.
- :func:`run`: the console entry point: one French line on stderr and a non-zero exit for an error, a traceback
  only with ``--verbose``.
- :func:`confirm`: a yes/no question that takes o/oui/n/non as well as y/yes/n/no.
- click's own messages (Usage, Options, "No such option"...) in French (:mod:`verifier.click_fr`).

A new CLI (e.g. ``jeton-radius``) uses it like this::

    @click.group(cls=clikit.JetonGroup)
    def cli(): ...

    def main(argv=None):
        return clikit.run(cli, "jeton-radius", argv, expected=(RadiusError,))
"""

from __future__ import annotations

import getpass
import os
import sys
import traceback
from collections.abc import Callable, Sequence

import click

from verifier import click_fr

_CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types", "utils",
                  "shell_completion", "_termui_impl")


def install_french() -> None:
    """Make click speak French: its modules' ``_`` and ``ngettext`` become :mod:`verifier.click_fr`'s
    (idempotent; the process's gettext domain is left alone)."""
    for name in _CLICK_MODULES:
        module = sys.modules.get(f"click.{name}")
        if module is None:
            continue
        if hasattr(module, "_"):
            module._ = click_fr.gettext
        if hasattr(module, "ngettext"):
            module.ngettext = click_fr.ngettext


install_french()

_META = "jeton.common"
ENVIRONMENT = {"db": "JETON_DB_URL", "keys": "JETON_KEYS_FILE"}
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


#: Token and record states as people read them (JSON output keeps the English ids).
STATES_FR = {
    "blank": "vierge", "seeded": "initialisée", "corrupt": "corrompue",
    "pending": "en cours de provisionnement", "ready": "prête (non attribuée)", "assigned": "attribuée (nouveau PIN)",
    "active": "active", "locked": "verrouillée", "disabled": "désactivée", "retired": "retirée", "failed": "en échec",
}


def state_fr(state: str | None) -> str:
    """The French word for a token's or a record's state (the id itself when unknown)."""
    return STATES_FR.get(state or "", state or "-")


def _remember(ctx: click.Context, param: click.Parameter, value):
    """Callback of the common options: keep the value given (the last one on the line wins)."""
    if value is not None and value is not False and value != ():
        ctx.find_root().meta.setdefault(_META, {})[param.name] = value
    return value


def _common_options() -> list[click.Option]:
    """Fresh copies of the common options (a click parameter belongs to one command)."""
    return [
        click.Option(["--db", "db"], metavar="URL", default=None, expose_value=False, callback=_remember,
                     is_eager=True, help="Base de données (défaut : JETON_DB_URL ou le fichier SQLite var/jeton.db)."),
        click.Option(["--keys", "keys"], metavar="FICHIER", default=None, expose_value=False, callback=_remember,
                     is_eager=True, help="Fichier du trousseau de clés (défaut : JETON_KEYS_FILE)."),
        click.Option(["-v", "--verbose", "verbose"], is_flag=True, default=False, expose_value=False,
                     callback=_remember, is_eager=True, help="Afficher la trace complète des erreurs."),
    ]


def setting(name: str, default: str | None = None, ctx: click.Context | None = None):
    """The value of a common option (``db``, ``keys``, ``verbose``): from the line, else the environment, else
    ``default``."""
    ctx = ctx or click.get_current_context()
    value = ctx.find_root().meta.get(_META, {}).get(name)
    if value is None and name in ENVIRONMENT:
        value = os.environ.get(ENVIRONMENT[name]) or None
    if name == "verbose":
        return bool(value)
    return default if value is None else value


def actor() -> str:
    """Who the audit names for an act done at a command line: ``cli:<system user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def store(ctx: click.Context):
    """The token store of ``--db`` and ``--keys``, opened once per command line and closed with it."""
    from verifier.opening import open_store

    obj = ctx.ensure_object(dict)
    if "store" not in obj:
        obj["store"] = open_store(setting("db", ctx=ctx), setting("keys", ctx=ctx))
        ctx.call_on_close(obj["store"].close)
    return obj["store"]


def db_option(param: str = "db_url", default: str | None = None):
    """``--db`` as a parameter of one command (its value: this command's ``--db``, else the group's, else
    JETON_DB_URL, else ``default``)."""
    return click.option("--db", param, metavar="URL", default=lambda: setting("db", default),
                        show_default=default or False, callback=_remember,
                        help="Base de données (défaut : JETON_DB_URL ou le fichier SQLite var/jeton.db).")


def keys_option(param: str = "keys_file"):
    """``--keys`` as a parameter of one command (same precedence as :func:`db_option`)."""
    return click.option("--keys", param, metavar="FICHIER", default=lambda: setting("keys"), callback=_remember,
                        help="Fichier du trousseau de clés (défaut : JETON_KEYS_FILE).")


def _add_common(command: click.Command) -> None:
    taken = {opt for p in command.params for opt in getattr(p, "opts", ())}
    for option in _common_options():
        if not taken.intersection(option.opts):
            command.params.append(option)


class JetonGroup(click.Group):
    """A click group whose every command (and itself) takes ``--db``, ``--keys`` and ``--verbose``."""

    group_class = type  # nested groups are JetonGroups too

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("context_settings", dict(CONTEXT_SETTINGS))
        super().__init__(*args, **kwargs)
        _add_common(self)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _add_common(cmd)
        cmd.context_settings = {**CONTEXT_SETTINGS, **cmd.context_settings}
        super().add_command(cmd, name)


class OuiNon(click.ParamType):
    """o/oui/y/yes or n/non/no, any case."""

    name = "o/n"
    YES = ("o", "oui", "y", "yes")
    NO = ("n", "non", "no")

    def convert(self, value, param, ctx):
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in self.YES:
            return True
        if word in self.NO:
            return False
        self.fail("répondez o (oui) ou n (non)", param, ctx)


def confirm(question: str, *, default: bool = False, abort: bool = False) -> bool:
    """Ask ``question`` on stderr; o/oui/y/yes is yes, n/non/no is no, Enter is ``default``. With ``abort`` a
    no raises :class:`click.Abort` (``run`` then says that nothing was changed)."""
    answer = click.prompt(f"{question} [{'O/n' if default else 'o/N'}]", default="o" if default else "n",
                          show_default=False, type=OuiNon(), err=True)
    if abort and not answer:
        raise click.Abort()
    return answer


def _verbose_in(args: Sequence[str]) -> bool:
    args = list(args)
    if "--" in args:
        args = args[:args.index("--")]
    return "-v" in args or "--verbose" in args


def run(cli: click.Command, prog: str, argv: Sequence[str] | None = None, *,
        expected: tuple[type[BaseException], ...] = (), message: Callable[[BaseException], str] = str,
        prefix: str | None = None) -> int:
    """Run ``cli`` as the console command ``prog``; the exit status.

    Errors of the ``expected`` types and click's (usage, abort) become one line on stderr, ``prefix`` then the
    French text (``message(exc)`` for the expected ones); anything else is a bug and keeps its traceback. With
    ``--verbose`` the traceback of an expected error is printed too.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = _verbose_in(args)
    lead = f"{prog} : erreur : " if prefix is None else prefix

    def say(text: str) -> None:
        click.echo(text, err=True)

    try:
        cli.main(args=args, prog_name=prog, standalone_mode=False)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            say(f"{prog} : interrompu.")
            return EXIT_INTERRUPTED
        say(f"{prog} : abandon, rien n'a été modifié.")
        return EXIT_ERROR
    except click.exceptions.UsageError as exc:  # one line too; where to find help when click's parser refused it
        parser_error = type(exc) is not click.exceptions.UsageError  # NoSuchOption, MissingParameter, BadParameter...
        hint = f" (aide : {exc.ctx.command_path} --help)" if parser_error and exc.ctx is not None else ""
        say(f"{lead}{exc.format_message()}{hint}")
        return exc.exit_code
    except click.ClickException as exc:
        say(f"{lead}{exc.format_message()}")
        return exc.exit_code or EXIT_ERROR
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        say(f"{prog} : interrompu.")
        return EXIT_INTERRUPTED
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except expected as exc:
        if verbose:
            traceback.print_exc()
        say(f"{lead}{message(exc)}")
        return EXIT_ERROR
    return 0
