"""The verifier's exceptions: one base, each error carrying facts and saying what to do next.

Messages never contain a secret, a PIN, a code or a ticket.
"""

from __future__ import annotations


class VerifierError(Exception):
    """Base of every error raised by the verifier package. The message is English, for developers and logs;
    ``french``, when given, is the same fact worded for the French screens and command lines."""

    def __init__(self, *args: object, french: str | None = None) -> None:
        super().__init__(*args)
        self.french = french


class ConfigurationError(VerifierError):
    """The store cannot start: no key ring, an unreadable key file, an unknown database URL."""


class NoKeysError(ConfigurationError):
    """No key ring was configured; the store refuses to start."""

    def __init__(self) -> None:
        super().__init__(
            "no key ring configured: pass --keys FILE or set JETON_KEYS_FILE "
            "(`jeton-admin init --keys FILE` creates one)"
        )


class KeyRingError(ConfigurationError):
    """The key file is missing, malformed, too widely readable, or lacks a key the database needs."""


class SchemaError(ConfigurationError):
    """The database has no Jeton schema, or an older one: run `jeton-admin init`."""


class NotFoundError(VerifierError):
    """A user or token that does not exist."""


class UserNotFound(NotFoundError):
    def __init__(self, login: str) -> None:
        super().__init__(f"no user with login {login!r}")
        self.login = login


class TokenNotFound(NotFoundError):
    def __init__(self, serial: str) -> None:
        super().__init__(f"no token with serial {serial!r}")
        self.serial = serial


class ConflictError(VerifierError):
    """The change conflicts with what the database holds (duplicate, wrong state, concurrent change)."""


class DuplicateSerial(ConflictError):
    def __init__(self, serial: str) -> None:
        super().__init__(f"a token with serial {serial!r} already exists")
        self.serial = serial


class DuplicateLogin(ConflictError):
    def __init__(self, login: str) -> None:
        super().__init__(f"a user with login {login!r} already exists")
        self.login = login


class InvalidState(ConflictError):
    """The token is not in a state that allows this action."""

    def __init__(self, serial: str, state: str, action: str, allowed: tuple[str, ...] = ()) -> None:
        hint = f" (allowed from: {', '.join(allowed)})" if allowed else ""
        super().__init__(f"token {serial!r} is {state}: cannot {action}{hint}")
        self.serial = serial
        self.state = state
        self.action = action


class AlreadyAssigned(InvalidState):
    def __init__(self, serial: str, state: str) -> None:
        super().__init__(serial, state, "assign it: unassign it first", ("ready",))


class LastAdministrator(ConflictError):
    """The change would leave no administrator: another one must be named first."""

    def __init__(self, login: str) -> None:
        super().__init__(f"{login!r} is the last administrator: make someone else an administrator first",
                         french=f"{login} est le seul administrateur : nommez d'abord un autre administrateur")
        self.login = login


class ConcurrentChange(ConflictError):
    """Another process changed the row first; nothing was written. Retry the action."""


class InvalidInput(VerifierError):
    """A value the caller gave is malformed (serial, login, role, algorithm, file)."""


class PinPolicyError(InvalidInput):
    """A new PIN was refused; ``reason`` is one of ``mismatch``, ``format``, ``length``, ``trivial``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class TicketError(VerifierError):
    """A ticket is unknown, already used, expired, or for another step of the login."""

    def __init__(self) -> None:
        super().__init__("the ticket is invalid, already used or expired: log in again with your code")


class ResyncError(VerifierError):
    """The two codes were not found as consecutive codes of the token near the current time."""


class ImportFileError(InvalidInput):
    """A PSKC or CSV file could not be read, decrypted or understood."""


class PasswordNeeded(ImportFileError):
    """The PSKC file is encrypted and neither its password nor its pre-shared key was given."""
