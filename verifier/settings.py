"""Every number of the verification rules, with its default (DESIGN.md §4; docs/verifier.md lists them)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Settings:
    """Verification and PIN settings. Defaults follow RSA SecurID practice and RFC 6238."""

    #: steps accepted on either side of the token's learned drift
    window: int = 1
    #: a correct code this many steps away (but outside ``window``) asks for the next code and learns the drift
    resync_window: int = 10
    #: consecutive failures after which a correct passcode also needs the next code
    next_code_after: int = 3
    #: consecutive failures that lock the token (for ``unlock_after`` seconds, or until an administrator unlocks it)
    lockout_after: int = 10
    #: seconds after which a locked token unlocks by itself (NIST 800-63B §5.2.2); ``None`` keeps the policy
    #: "until an administrator unlocks"
    unlock_after: float | None = 900.0
    #: each lock that follows another without a successful login in between lasts this many times longer ...
    lock_growth: float = 4.0
    #: ... up to this many seconds
    unlock_max: float = 86400.0
    #: throttling in front of the verifier (NIST 800-63B §5.2.2), per source address and per login, both counted
    #: at each failure: a source has ``throttle_free_source`` free failures, a login ``throttle_free_login``; each
    #: further failure makes that key wait ``throttle_delay`` seconds, doubled at each failure, at most
    #: ``throttle_max_delay``; attempts during the wait are refused unverified (THROTTLED) and count for nothing.
    #: A key's count is forgotten ``throttle_window`` seconds after its last failure (a login's also on success).
    throttle: bool = True
    throttle_free_source: int = 20
    throttle_free_login: int = 5
    throttle_delay: float = 2.0
    throttle_max_delay: float = 900.0
    throttle_window: float = 3600.0
    #: web sessions (rows in the shared database): idle timeout and absolute lifetime, in seconds
    session_idle: float = 1800.0
    session_lifetime: float = 8 * 3600.0
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
    #: emergency access (a lost or forgotten token): digits of the temporary code typed after the PIN, logins it
    #: allows by default, and the longest it may last (days); by default it ends at midnight in ``timezone``
    emergency_digits: int = 8
    emergency_uses: int = 1
    emergency_max_days: float = 14.0
    #: the installation's time zone: end of day for emergency access, times on screens
    timezone: str = "Europe/Paris"

    def __post_init__(self) -> None:
        if not 0 <= self.window <= self.resync_window:
            raise ValueError("settings: need 0 <= window <= resync_window")
        if not 1 <= self.next_code_after <= self.lockout_after:
            raise ValueError("settings: need 1 <= next_code_after <= lockout_after")
        if not 1 <= self.pin_min <= self.pin_max:
            raise ValueError("settings: need 1 <= pin_min <= pin_max")
        if self.pin_kdf not in (None, "scrypt"):
            raise ValueError("settings: pin_kdf is None or 'scrypt'")
        if self.unlock_after is not None and not 0 < self.unlock_after <= self.unlock_max:
            raise ValueError("settings: need 0 < unlock_after <= unlock_max (or unlock_after None)")
        if self.lock_growth < 1:
            raise ValueError("settings: lock_growth must be at least 1")
        if min(self.throttle_free_source, self.throttle_free_login) < 0:
            raise ValueError("settings: throttle_free_source and throttle_free_login must be >= 0")
        if not 0 < self.throttle_delay <= self.throttle_max_delay <= self.throttle_window:
            raise ValueError("settings: need 0 < throttle_delay <= throttle_max_delay <= throttle_window")
        if not 0 < self.session_idle <= self.session_lifetime:
            raise ValueError("settings: need 0 < session_idle <= session_lifetime")
        if self.ticket_ttl <= 0:
            raise ValueError("settings: ticket_ttl must be positive")
        if not 8 <= self.emergency_digits <= 12:
            raise ValueError("settings: emergency_digits is 8 to 12 (more than a token's code)")
        if self.emergency_uses < 1 or self.emergency_max_days <= 0:
            raise ValueError("settings: need emergency_uses >= 1 and emergency_max_days > 0")
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(self.timezone)
        except (ValueError, KeyError, OSError):
            raise ValueError(f"settings: unknown time zone {self.timezone!r}") from None


def settings_from_env(environ: dict | None = None) -> Settings:
    """The settings of this installation: the defaults, overridden by ``JETON_SETTINGS``, a JSON object of
    field names and values (e.g. ``{"unlock_after": null}`` keeps the policy "until an administrator unlocks").
    Every process of one installation (web, RADIUS, jeton-admin) must be given the same value."""
    raw = (os.environ if environ is None else environ).get("JETON_SETTINGS", "").strip()
    if not raw:
        return Settings()
    try:
        values = json.loads(raw)
        if not isinstance(values, dict):
            raise ValueError("not an object")
        known = {f.name for f in fields(Settings)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown setting {unknown[0]!r}")
        return Settings(**values)
    except (ValueError, TypeError) as exc:
        from verifier.errors import ConfigurationError

        raise ConfigurationError(f"JETON_SETTINGS is not valid: {exc}",
                                 french=f"JETON_SETTINGS n'est pas valide : {exc}") from None
