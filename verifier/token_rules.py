"""What makes a token record acceptable, whichever way it enters the store (seeding, import): its serial and its
parameters. ``verifier.store`` re-exports these names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from verifier.errors import InvalidInput
from verifier.schema import ALGORITHMS

SERIAL_RE = re.compile(r"^[A-Z0-9-]{1,16}$")


@dataclass(frozen=True)
class ImportRecord:
    """A token read from an interchange file (PSKC or OATH CSV)."""

    serial: str
    secret: bytes = field(repr=False)
    algo: str = "sha1"
    digits: int = 6
    period: int = 30
    drift: int = 0
    model: str | None = None


def check_serial(serial: str) -> str:
    if not isinstance(serial, str) or not SERIAL_RE.match(serial):
        raise InvalidInput("a serial is 1 to 16 characters of A-Z, 0-9 and '-'",
                           french="un numéro de clé a 1 à 16 caractères parmi A-Z, 0-9 et « - »")
    return serial


def check_token_params(algo: str, digits: int, period: int) -> None:
    if algo not in ALGORITHMS:
        raise InvalidInput(f"algorithm must be one of {', '.join(ALGORITHMS)}",
                           french=f"algorithme inconnu : {', '.join(ALGORITHMS)} seulement")
    if digits not in (6, 8):
        raise InvalidInput("a token shows 6 or 8 digits", french="une clé affiche 6 ou 8 chiffres")
    if period not in (30, 60):
        raise InvalidInput("a token's period is 30 or 60 seconds",
                           french="le code d'une clé change toutes les 30 ou 60 secondes")
