"""What a person sees in the Reply-Message of each answer (French, the words of the teacher's guide and the web).

docs/radius.md lists them for IT staff; tests assert them as a VPN client or a login prompt shows them.
"""

from __future__ import annotations

from verifier.settings import Settings


def choose_pin(settings: Settings) -> str:
    return f"Choisissez un code PIN de {settings.pin_min} à {settings.pin_max} chiffres"


CONFIRM_PIN = "Confirmez votre nouveau code PIN"
PASSCODE = "Attendez que le code de votre clé change, puis saisissez votre PASSCODE"
NEXT_CODE = "Attendez que le code de votre clé change, puis saisissez les 6 chiffres affichés"
#: REJECT, LOCKED and THROTTLED alike: the answer never tells which
REJECTED = "Identifiant ou passcode incorrect"
STATUS = "Jeton RADIUS en service"

#: why a new PIN was refused (``PinPolicyError.reason``), before asking again
PIN_REFUSALS = {
    "mismatch": "Les deux codes PIN saisis sont différents.",
    "format": "Le code PIN ne doit contenir que des chiffres (de {min} à {max}).",
    "length": "Le code PIN doit contenir de {min} à {max} chiffres.",
    "trivial": "Ce code PIN est trop simple (par exemple 0000 ou 1234) : choisissez-en un autre.",
}


def pin_refused(reason: str, settings: Settings) -> str:
    why = PIN_REFUSALS.get(reason, PIN_REFUSALS["format"]).format(min=settings.pin_min, max=settings.pin_max)
    return f"{why} {choose_pin(settings)}"
