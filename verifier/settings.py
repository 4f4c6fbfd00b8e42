"""Every number of the verification rules, with its default (DESIGN.md §4; docs/verifier.md lists them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Verification and PIN settings. Defaults follow RSA SecurID practice and RFC 6238."""

    #: steps accepted on either side of the token's learned drift
    window: int = 1
    #: a correct code this many steps away (but outside ``window``) asks for the next code and learns the drift
    resync_window: int = 10
    #: consecutive failures after which a correct passcode also needs the next code
    next_code_after: int = 3
    #: consecutive failures that lock the token until an administrator unlocks it
    lockout_after: int = 10
    #: seconds after which a locked token unlocks by itself; ``None`` = only an administrator unlocks
    unlock_after: float | None = None
    #: lifetime of a NEW_PIN / NEXT_CODE ticket, in seconds
    ticket_ttl: float = 180.0
    #: PIN length bounds, in digits
    pin_min: int = 4
    pin_max: int = 6
    #: optional slow KDF under the pepper: ``None`` (default) or ``"scrypt"``
    pin_kdf: str | None = None
    #: scrypt cost parameter n (a power of two) when ``pin_kdf == "scrypt"``
    scrypt_n: int = 2**14
    #: steps searched on either side of now by ``jeton-admin resync``
    admin_resync_window: int = 120

    def __post_init__(self) -> None:
        if not 0 <= self.window <= self.resync_window:
            raise ValueError("settings: need 0 <= window <= resync_window")
        if not 1 <= self.next_code_after <= self.lockout_after:
            raise ValueError("settings: need 1 <= next_code_after <= lockout_after")
        if not 1 <= self.pin_min <= self.pin_max:
            raise ValueError("settings: need 1 <= pin_min <= pin_max")
        if self.pin_kdf not in (None, "scrypt"):
            raise ValueError("settings: pin_kdf is None or 'scrypt'")
        if self.ticket_ttl <= 0:
            raise ValueError("settings: ticket_ttl must be positive")
