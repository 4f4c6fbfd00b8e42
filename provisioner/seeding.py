"""Two-phase seeding (DESIGN.md §3): no device holds a secret without a record, no ready record lacks its device.

1. HELLO; a CSPRNG secret (20 bytes for sha1, 32 for sha256) recorded ``pending`` (encrypted) in the store;
2. TIME (UTC; refuse to move the clock backwards more than :data:`MAX_BACKWARDS` seconds unless forced), SEED;
3. PROVE with a fresh nonce (constant-time compare), CODE compared with pyotp's code for the same step;
4. LOCK, then the record becomes ``ready`` with the time, the operator, the firmware and the measured offset.

Rerunning after a crash, a kill or an unplug at any step converges (:func:`seed_token` starts by looking at what
the token holds): a seeded or locked token whose pending record it proves is completed; one holding a secret that
its record does not match is wiped and the record marked failed; a blank token given the serial of a pending
record receives that record's secret. A link failure, or a reply the protocol does not allow, never marks a record
failed (the device state is unknown): the record stays pending until a rerun settles it, and the error says so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp

from provisioner.clockdrift import Offset, measure_offset, set_clock
from provisioner.errors import (
    BadReplyError,
    ClockError,
    DeviceError,
    NoReplyError,
    ProvisionerError,
    RecordError,
    TokenStateError,
    TransportError,
    VerificationError,
)
from provisioner.records import Record, TokenRecords
from provisioner.session import Hello, TokenSession, valid_serial

#: The most a token's clock may be moved backwards without ``force`` (a host clock behind is the likelier fault).
MAX_BACKWARDS = 5
#: Steps seeding goes through, in order; ``on_step(step, serial)`` is called after each (tests kill the process
#: there); a rerun that completes an interrupted run goes through hello, prove, code, lock, ready.
STEPS = ("hello", "pending", "time", "seed", "prove", "code", "lock", "ready")
SECRET_BYTES = {"sha1": 20, "sha256": 32}


@dataclass(frozen=True)
class SeedOptions:
    """What the operator asked for."""

    serial: str | None = None
    algo: str = "sha1"
    digits: int = 6
    period: int = 30
    operator: str = "inconnu"
    force: bool = False
    prefix: str = "JT"


@dataclass(frozen=True)
class SeedResult:
    """What happened to one token: ``outcome`` is ``provisioned``, ``completed`` (a rerun finished an
    interrupted run) or ``already`` (nothing to do: the token is locked and holds its ready record's secret)."""

    serial: str
    outcome: str
    firmware: str
    clock_offset: int
    wiped_orphan: bool = False


def prove_matches(session: TokenSession, secret: bytes, algo: str) -> bool:
    """Ask the token to PROVE it holds ``secret`` with a fresh 16-byte nonce; constant-time comparison."""
    nonce = secrets.token_bytes(16)
    expected = hmac.new(secret, b"jeton-prove:" + nonce, getattr(hashlib, algo)).digest()
    return hmac.compare_digest(session.prove(nonce), expected)


def code_matches(session: TokenSession, secret: bytes, algo: str, digits: int, period: int, now: float) -> bool:
    """CODE from the token equals pyotp's code for the token's step, and that step is within one of ours."""
    shown = session.code()
    totp = pyotp.TOTP(base64.b32encode(secret).decode(), digits=digits, digest=getattr(hashlib, algo), interval=period)
    ours = totp.at(shown.step * period)
    return abs(shown.step - int(now) // period) <= 1 and hmac.compare_digest(shown.code.encode(), ours.encode())


def seed_token(
    session: TokenSession,
    records: TokenRecords,
    options: SeedOptions,
    *,
    now: Callable[[], float] = time.time,
    on_step: Callable[[str, str | None], None] | None = None,
) -> SeedResult:
    """Provision the token on ``session`` (or finish an interrupted provisioning); see the module docstring."""
    step = _Progress(on_step)
    hello = session.hello()
    step.serial = hello.serial
    step("hello")
    if hello.proto != 1:
        raise TokenStateError(f"protocole {hello.proto} inconnu de ce provisionneur (firmware {hello.firmware})")
    if hello.state == "corrupt":
        raise TokenStateError("mémoire de la clé corrompue : effacez-la avec `jeton-provision wipe --force`")
    wiped = False
    try:
        if hello.state in ("seeded", "locked"):
            done = _recover(session, records, hello, options, now, step)
            if done is not None:
                return done
            wiped = True
            hello = session.hello()
        return _provision_blank(session, records, hello, options, now, step, wiped)
    except (TransportError, NoReplyError, BadReplyError) as exc:  # what the token did is unknown
        record = records.find(step.serial) if step.serial is not None else None
        if record is None or record.state != "pending":  # no record left pending: nothing for a rerun to settle
            raise
        raise SeedInterrupted(step.serial, session.port, exc) from None


class SeedInterrupted(ProvisionerError):
    """The link failed, or the token gave a reply the protocol does not allow, once a record existed: the token and
    its record are settled by a rerun."""

    def __init__(self, serial: str, port: str, cause: ProvisionerError) -> None:
        super().__init__(
            f"{cause} — la fiche {serial} reste en attente : rebranchez la clé et relancez "
            f"`jeton-provision seed {port} --serial {serial}`"
        )
        self.serial = serial
        self.cause = cause


class _Progress:
    """Calls ``on_step(step, serial)`` after each step, with the serial once it is known."""

    def __init__(self, on_step: Callable[[str, str | None], None] | None) -> None:
        self.on_step = on_step
        self.serial: str | None = None

    def __call__(self, name: str) -> None:
        if self.on_step is not None:
            self.on_step(name, self.serial)


def _recover(session, records, hello: Hello, options, now, step) -> SeedResult | None:
    """A token that already holds a secret: complete, confirm, or wipe it. None when it is now blank."""
    record = records.find(hello.serial)
    if record is None:
        if not options.force:
            raise TokenStateError(
                f"la clé {hello.serial} contient déjà un secret inconnu de cette base "
                "(autre base ? utilisez --db, ou `wipe` pour la remettre à zéro)"
            )
        session.wipe(hello.serial)
        return None
    if record.state in ("failed", "retired"):
        session.wipe(hello.serial)  # a secret its record already gave up on (and destroyed)
        return None
    secret = records.secret(record.serial)
    holds = prove_matches(session, secret, record.algo)
    if record.state == "pending":
        if holds:
            step("prove")
            try:
                precise = None
                if hello.state == "seeded":  # still unlocked: its clock may be (re)set
                    precise = _set_clock(session, hello, options, now)
                _check_clock_then_code(session, record, secret, now, step)
            except VerificationError:
                holds = False
            except ClockError:
                if hello.state == "seeded":
                    raise  # refused to move the clock back: the operator decides (--force)
                holds = False  # locked with a lost clock: it can never show a right code again
        if not holds:
            # The token holds something other than what the record says, or cannot be completed: take it back.
            session.wipe(hello.serial)
            records.mark_failed(record.serial, "la clé ne pouvait pas être terminée")
            return None
        if hello.state == "seeded":
            session.lock()
        step("lock")
        offset = session.hello().time - int(now())
        if precise is None:
            precise = measure_offset(session, now=now)
        records.mark_ready(record.serial, operator=options.operator, firmware=hello.firmware,
                           clock_offset=precise.seconds)
        step("ready")
        return SeedResult(record.serial, "completed", hello.firmware, offset)
    if holds and hello.state == "locked":
        return SeedResult(record.serial, "already", hello.firmware, hello.time - int(now()))
    raise TokenStateError(
        f"la clé {hello.serial} est enregistrée ({record.state}) mais ne prouve pas son secret : "
        "vérifiez-la avec `jeton-provision check`"
    )


def _check_clock_then_code(session, record: Record, secret: bytes, now, step) -> None:
    hello = session.hello()
    if not hello.clock_ok:
        raise ClockError(f"horloge de la clé {record.serial} perdue : relancez seed pour la remettre à l'heure")
    if hello.state == "locked":
        # Already locked (a rerun after a crash past LOCK): it answers CODE only after a press of its button.
        # PROVE has shown the secret; its clock must then be as right as a code check would have shown.
        if abs(hello.time - int(now())) > record.period:
            raise VerificationError(record.serial, "horloge de la clé décalée : elle ne donnerait pas le bon code")
        step("code")
        return
    if not code_matches(session, secret, record.algo, record.digits, record.period, now()):
        raise VerificationError(record.serial, "le code affiché ne correspond pas au code attendu")
    step("code")


def _provision_blank(session, records, hello: Hello, options: SeedOptions, now, step, wiped: bool) -> SeedResult:
    if hello.state != "blank":
        raise TokenStateError(f"la clé est dans l'état {hello.state} au lieu de vierge après effacement")
    _refuse_backwards(hello, options, now)  # before any record: refusing here leaves nothing behind
    record, secret = _pending_record(records, hello, options)
    step.serial = record.serial
    step("pending")
    try:
        precise = _set_clock(session, hello, options, now)
        step("time")
        session.seed(record.serial, secret, record.algo, record.digits, record.period)
    except DeviceError as exc:
        # A definite refusal before the token took the secret: the record can be closed at once.
        records.mark_failed(record.serial, f"{exc.verb} {exc.code}")
        raise
    step("seed")
    try:
        if not prove_matches(session, secret, record.algo):
            raise VerificationError(record.serial, "la preuve (PROVE) ne correspond pas au secret envoyé")
        step("prove")
        _check_clock_then_code(session, record, secret, now, step)
        session.lock()
    except (VerificationError, ClockError, DeviceError) as exc:
        # A definite answer from the token: take the secret back, then say the record failed.
        session.wipe(record.serial)
        records.mark_failed(record.serial, exc.__class__.__name__)
        raise
    step("lock")
    after = session.hello()
    offset = after.time - int(now())
    # the offset to the millisecond (TIME restarted the token's second), for the drift `check` measures later
    records.mark_ready(record.serial, operator=options.operator, firmware=after.firmware,
                       clock_offset=precise.seconds)
    step("ready")
    return SeedResult(record.serial, "provisioned", after.firmware, offset, wiped_orphan=wiped)


def _refuse_backwards(hello: Hello, options: SeedOptions, now) -> None:
    ahead = hello.time - int(now())
    if hello.clock_ok and ahead > MAX_BACKWARDS and not options.force:
        raise ClockError(
            f"l'horloge de la clé est en avance de {ahead} s sur celle de ce poste : "
            "vérifiez l'heure du poste (ou --force pour reculer l'horloge de la clé)"
        )


def _set_clock(session: TokenSession, hello: Hello, options: SeedOptions, now) -> Offset:
    _refuse_backwards(hello, options, now)
    return set_clock(session, int(now()), now=now)


def _pending_record(records: TokenRecords, hello: Hello, options: SeedOptions) -> tuple[Record, bytes]:
    """The pending record this blank token will receive: a new one, or the given serial's pending one."""
    if options.serial is not None:
        if not valid_serial(options.serial):
            raise RecordError("numéro de série invalide : 1 à 16 caractères A-Z, 0-9 et '-'")
        existing = records.find(options.serial)
        if existing is not None and existing.state == "pending":
            return existing, records.secret(existing.serial)
        if existing is not None and existing.state not in ("failed", "retired"):  # those numbers may be reused
            raise RecordError(f"le numéro {options.serial} est déjà utilisé ({existing.state})")
    secret = secrets.token_bytes(SECRET_BYTES[options.algo])
    record = records.create_pending(
        options.serial,
        secret,
        algo=options.algo,
        digits=options.digits,
        period=options.period,
        operator=options.operator,
        firmware=hello.firmware,
        prefix=options.prefix,
        model=hello.model,
    )
    return record, secret
