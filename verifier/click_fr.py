"""The French catalogue of click's own messages (Usage, Options, "No such option", prompts), for IT staff.

click marks its messages with ``gettext`` (``_()`` and ``ngettext()`` imported into each of its modules);
:func:`verifier.clikit.install_french` points those names at this catalogue, for click only (the process's gettext
domain is left alone). No click import here: a catalogue is data.
A message missing here stays in English. Keys are click's msgids, exactly as click 8 writes them.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "Usage:": "Utilisation :",
    "Options": "Options",
    "Commands": "Commandes",
    "Positional arguments": "Arguments",
    "Show this message and exit.": "Afficher cette aide et quitter.",
    "Show the version and exit.": "Afficher la version et quitter.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l'aide.",
    "Error: {message}": "Erreur : {message}",
    "Aborted!": "Abandon.",
    "Missing command.": "Commande manquante.",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "No such option {name!r}.": "Option inconnue : {name!r}.",
    "Did you mean {possibility}?": "Vouliez-vous dire {possibility} ?",
    "(Did you mean one of: {possibilities}?)": "(Vouliez-vous dire l'une de : {possibilities} ?)",
    "Option {name!r} does not take a value.": "L'option {name!r} ne prend pas de valeur.",
    "Option {name!r} requires an argument.": "L'option {name!r} attend une valeur.",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "Missing {param_type}": "{param_type} manquant",
    "argument": "argument",
    "option": "option",
    "parameter": "paramètre",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Got unexpected extra argument ({args})": "Argument en trop ({args})",
    "Got unexpected extra arguments ({args})": "Arguments en trop ({args})",
    "{value!r} is not one of {choices}.": "{value!r} n'est pas l'une des valeurs {choices}.",
    "{value!r} is not {choice}.": "{value!r} n'est pas {choice}.",
    "{value!r} is not a valid {number_type}.": "{value!r} n'est pas un {number_type} valide.",
    "integer": "entier",
    "float": "nombre décimal",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "{value!r} n'est pas un booléen valide. Valeurs reconnues : {states}",
    "{value!r} does not match the format {format}.": "{value!r} ne suit pas le format {format}.",
    "{value!r} does not match the formats {formats}.": "{value!r} ne suit aucun des formats {formats}.",
    "Could not open file {filename!r}: {message}": "Impossible d'ouvrir le fichier {filename!r} : {message}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} n'existe pas.",
    "{name} {filename!r} is a file.": "{name} {filename!r} est un fichier.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} est un dossier.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} n'est pas lisible.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} n'est pas accessible en écriture.",
    "{name} {filename!r} is not executable.": "{name} {filename!r} n'est pas exécutable.",
    "file": "fichier",
    "directory": "dossier",
    "path": "chemin",
    "default": "défaut",
    "default: {default}": "défaut : {default}",
    "env var: {var}": "variable d'environnement : {var}",
    "required": "obligatoire",
    "range": "intervalle",
    "(dynamic)": "(dynamique)",
    "deprecated": "obsolète",
    "Repeat for confirmation": "Répétez pour confirmer",
    "Error: The two entered values do not match.": "Erreur : les deux saisies diffèrent.",
    "Error: invalid input": "Erreur : réponse invalide",
    "Press any key to continue...": "Appuyez sur une touche pour continuer…",
    "Do you want to continue?": "Voulez-vous continuer ?",
    "Confirm the action without prompting.": "Confirmer l'action sans demander.",
    "unknown error": "erreur inconnue",
}

PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("Option {name!r} requires {nargs} arguments.", "Option {name!r} requires {nargs} arguments."):
        ("L'option {name!r} attend {nargs} valeurs.", "L'option {name!r} attend {nargs} valeurs."),
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("Argument en trop ({args})", "Arguments en trop ({args})"),
    ("Missing parameter", "Missing parameters"): ("Paramètre manquant", "Paramètres manquants"),
}

def gettext(message: str) -> str:
    """The French form of one of click's messages (the message itself when the catalogue lacks it)."""
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The French singular or plural form of one of click's messages (French: 0 and 1 take the singular)."""
    forms = PLURALS.get((singular, plural))
    if forms is None:
        return gettext(singular if n == 1 else plural)
    return forms[0] if n <= 1 else forms[1]
