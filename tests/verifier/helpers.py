"""Small helpers the verifier tests share: tokens handed out the way IT staff do it."""

from __future__ import annotations

import secrets

from verifier import Store
from verifier.otp import TokenCodes
from verifier.verification import Outcome, Verifier

#: the PIN the verifier tests' teacher chooses at first use
PIN = "4829"


def ready_token(store: Store, serial: str, *, secret: bytes | None = None, algo: str = "sha1", digits: int = 6,
                period: int = 30, planted=None) -> TokenCodes:
    """A token seeded and proven (pending -> ready); returns its codes."""
    secret = secret or secrets.token_bytes(20)
    if planted is not None:
        planted.secret(secret)
    store.create_pending_token(serial, secret, algo=algo, digits=digits, period=period, model="pico",
                               firmware="1.0", operator="it-staff")
    store.mark_ready(serial, clock_offset=0.2)
    return TokenCodes(secret, algo=algo, digits=digits, period=period)


def assigned_token(store: Store, serial: str, login: str, **kw) -> TokenCodes:
    """A token given to ``login`` (who is created when missing); the user has not chosen a PIN yet."""
    if store.find_user(login) is None:
        store.add_user(login, login.title(), "teacher")
    codes = ready_token(store, serial, **kw)
    store.assign(serial, login)
    return codes


def first_use(verifier: Verifier, login: str, codes: TokenCodes, pin: str, now: float) -> float:
    """The teacher guide's steps 2 to 4: code alone, new PIN twice, then PIN + a later code. Returns the time."""
    step = codes.step_of(now)
    result = verifier.authenticate(login, codes.code(step), now)
    assert result.outcome is Outcome.NEW_PIN_REQUIRED
    verifier.set_pin(result.ticket, pin, pin, now + 5)
    later = (step + 1) * codes.period + 1
    assert verifier.authenticate(login, pin + codes.code(step + 1), later).outcome is Outcome.ACCEPT
    return later
