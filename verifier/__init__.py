"""Jeton verifier: token store, secrets at rest, PIN + code verification, PIN lifecycle, audit.

Public API (DESIGN.md §6)::

    from verifier import open_store, Verifier, Outcome

    store = open_store("sqlite:///var/jeton.db", "/etc/jeton/keys.json")
    result = Verifier(store).authenticate("mdupont", "4821" + "123456")
    if result.outcome is Outcome.ACCEPT: ...

See docs/verifier.md for the rules, the token states, the settings and the store functions.
"""

from __future__ import annotations

import importlib

# Names load on first use (PEP 562), so that `import verifier.errors` or the command lines' shared plumbing
# (verifier.clikit) do not pay for SQLAlchemy and the store when a command never opens it.
_ERRORS = (
    "AlreadyAssigned", "ConcurrentChange", "ConfigurationError", "ConflictError", "DuplicateLogin",
    "DuplicateSerial", "ImportFileError", "InvalidInput", "InvalidState", "KeyRingError", "LastAdministrator",
    "NoKeysError",
    "NotFoundError", "PinPolicyError", "ResyncError", "SchemaError", "TicketError", "TokenNotFound",
    "UserNotFound", "VerifierError",
)
_HOMES = {
    **dict.fromkeys(_ERRORS, "verifier.errors"),
    "Settings": "verifier.settings",
    **dict.fromkeys(("Store", "TokenInfo"), "verifier.store"),
    **dict.fromkeys(("UserInfo", "insert_user"), "verifier.accounts"),
    **dict.fromkeys(("init_store", "open_store"), "verifier.opening"),
    **dict.fromkeys(("Outcome", "Result", "Verifier"), "verifier.verification"),
}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'verifier' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "AlreadyAssigned", "ConcurrentChange", "ConfigurationError", "ConflictError", "DuplicateLogin",
    "DuplicateSerial", "ImportFileError", "InvalidInput", "InvalidState", "KeyRingError", "LastAdministrator",
    "NoKeysError", "NotFoundError", "PinPolicyError", "ResyncError", "SchemaError", "TicketError", "TokenNotFound",
    "UserNotFound", "VerifierError", "Settings", "Store", "TokenInfo", "UserInfo", "init_store", "insert_user",
    "open_store", "Outcome", "Result", "Verifier",
]
