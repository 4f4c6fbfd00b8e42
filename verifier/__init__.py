"""Jeton verifier: token store, secrets at rest, PIN + code verification, PIN lifecycle, audit.

Public API (DESIGN.md §6)::

    from verifier import open_store, Verifier, Outcome

    store = open_store("sqlite:///var/jeton.db", "/etc/jeton/keys.json")
    result = Verifier(store).authenticate("mdupont", "4821" + "123456")
    if result.outcome is Outcome.ACCEPT: ...

See docs/verifier.md for the rules, the token states, the settings and the store functions.
"""

from verifier.errors import (
    AlreadyAssigned,
    ConcurrentChange,
    ConfigurationError,
    ConflictError,
    DuplicateLogin,
    DuplicateSerial,
    ImportFileError,
    InvalidInput,
    InvalidState,
    KeyRingError,
    LastAdministrator,
    NoKeysError,
    NotFoundError,
    PinPolicyError,
    ResyncError,
    SchemaError,
    TicketError,
    TokenNotFound,
    UserNotFound,
    VerifierError,
)
from verifier.settings import Settings
from verifier.store import Store, TokenInfo, UserInfo, init_store, insert_user, open_store
from verifier.verification import Outcome, Result, Verifier

__all__ = [
    "AlreadyAssigned", "ConcurrentChange", "ConfigurationError", "ConflictError", "DuplicateLogin",
    "DuplicateSerial", "ImportFileError", "InvalidInput", "InvalidState", "KeyRingError", "LastAdministrator",
    "NoKeysError", "NotFoundError", "PinPolicyError", "ResyncError", "SchemaError", "TicketError", "TokenNotFound",
    "UserNotFound", "VerifierError", "Settings", "Store", "TokenInfo", "UserInfo", "init_store", "insert_user",
    "open_store", "Outcome", "Result", "Verifier",
]
