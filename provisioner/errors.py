"""The provisioner's error tree: one base, each error carrying the facts a caller needs.

Messages are in French because IT staff read them as they are (``jeton-provision`` prints ``str(exc)``); they
never contain a secret, a code or a raw frame that could carry one.
"""

from __future__ import annotations


class ProvisionerError(Exception):
    """Base of every error the provisioner raises on purpose."""


# --- the link: transport and framing -------------------------------------------------------------------------


class TransportError(ProvisionerError):
    """The port cannot be opened, or it went away (unplugged, simulator stopped)."""

    def __init__(self, port: str, reason: str) -> None:
        super().__init__(f"port {port} : {reason}")
        self.port = port
        self.reason = reason


class NoReplyError(ProvisionerError, TimeoutError):
    """The device said nothing we could use before the deadline."""

    def __init__(self, port: str, verb: str, timeout: float, *, noise_lines: int = 0) -> None:
        if noise_lines:
            what = f"ne parle pas le protocole Jeton ({noise_lines} ligne(s) illisible(s))"
        else:
            what = f"aucune réponse en {timeout:g} s"
        super().__init__(f"port {port} : {what} à {verb} — est-ce bien une clé Jeton flashée ?")
        self.port = port
        self.verb = verb
        self.timeout = timeout
        self.noise_lines = noise_lines

    @property
    def silent(self) -> bool:
        """True when nothing at all came back (as opposed to lines that were not protocol frames)."""
        return self.noise_lines == 0


class BadReplyError(ProvisionerError):
    """A reply to our request id arrived but does not say what the protocol says it must."""

    def __init__(self, verb: str, what: str) -> None:
        super().__init__(f"réponse incohérente de la clé à {verb} : {what}")
        self.verb = verb
        self.what = what


class DeviceError(ProvisionerError):
    """The device answered ``ERR CODE``: the request was understood and refused."""

    MEANINGS = {
        "crc": "trame abîmée en route (câble ?)",
        "syntax": "trame illisible",
        "verb": "commande inconnue de ce firmware",
        "arg": "argument refusé",
        "state": "refusé dans l'état actuel de la clé",
        "clock": "horloge de la clé perdue",
        "toolong": "trame trop longue",
        "storage": "mémoire de la clé corrompue",
        "presence": "appuyez sur le bouton de la clé : une clé verrouillée ne donne son code que s'il est affiché",
    }

    def __init__(self, verb: str, code: str, words: tuple[str, ...] = ()) -> None:
        meaning = self.MEANINGS.get(code, "erreur inconnue")
        super().__init__(f"la clé refuse {verb} : {code} ({meaning})")
        self.verb = verb
        self.code = code
        self.words = words


# --- the token and its record ----------------------------------------------------------------------------------


class TokenStateError(ProvisionerError):
    """The token is not in a state where the operation makes sense (e.g. flashing a locked token)."""


class ClockError(ProvisionerError):
    """The token's clock is lost, or setting it would move it backwards more than allowed."""


class VerificationError(ProvisionerError):
    """The token does not hold the secret we recorded (PROVE), or its code differs from ours (CODE)."""

    def __init__(self, serial: str, what: str) -> None:
        super().__init__(f"clé {serial} : {what}")
        self.serial = serial
        self.what = what


class RecordError(ProvisionerError):
    """The token store refused or could not be reached, or holds nothing for this token."""


class FlashError(ProvisionerError):
    """Deploying the firmware failed."""


class ExportError(ProvisionerError):
    """Nothing to export, or the export options are inconsistent."""
