"""Take a token back: identify it, prove it holds its recorded secret, measure its clock, read its battery (the
reading is recorded for the fleet's health, ``verifier.health``), decide on reissue; and wipe one (the device
first, then the record is retired, which destroys the stored secret: a crash between the two leaves a record
without a secret on a device, and a rerun retires it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from provisioner.clockdrift import SEED_OFFSET_ERROR, Offset, drift_ppm, measure_offset, too_fast_or_slow
from provisioner.errors import DeviceError, TokenStateError
from provisioner.records import TokenRecords
from provisioner.seeding import code_matches, prove_matches
from provisioner.session import TokenSession
from verifier.health import battery_status

#: A token whose clock is further than this from the host's is not reissued without a reseed.
MAX_REISSUE_OFFSET = 10
#: Record states from which a token can be handed out again (assigned ones after `jeton-admin unassign`).
REISSUABLE = ("ready",)


@dataclass
class CheckReport:
    """What `check` found; ``reissuable`` and ``reasons`` say whether the token can go out again and why not."""

    port: str
    serial: str | None
    token_state: str
    firmware: str
    clock_ok: bool
    clock_offset: int
    record_state: str | None = None
    login: str | None = None
    holds_secret: bool | None = None
    code_ok: bool | None = None  # None: not compared (a locked token shows its code only after a press)
    drift_ppm: float | None = None  # the clock's drift since provisioning, and how far that figure is known
    drift_uncertainty_ppm: float | None = None
    days_since_provisioning: float | None = None
    battery_volts: float | None = None  # HELLO's battery= (VSYS), when the board reports it
    battery: str | None = None  # "low", "ok", or "usb" (the USB supply was read, not the cells)
    reasons: list[str] = field(default_factory=list)

    @property
    def reissuable(self) -> bool:
        return not self.reasons


def check_token(session: TokenSession, records: TokenRecords, *, now: Callable[[], float] = time.time) -> CheckReport:
    """Look at a returned token and its record; changes neither, but records the battery reading of a token that
    proved it holds its recorded secret (USB readings excepted: they say nothing of the cells)."""
    hello = session.hello()
    report = CheckReport(
        port=session.port,
        serial=hello.serial,
        token_state=hello.state,
        firmware=hello.firmware,
        clock_ok=hello.clock_ok,
        clock_offset=hello.time - int(now()),
        battery_volts=hello.battery,
        battery=None if hello.battery is None else battery_status(hello.battery),
    )
    if hello.state in ("blank", "corrupt") or hello.serial is None:
        blank = hello.state == "blank"
        report.reasons.append("clé vierge : à provisionner avec seed" if blank else "mémoire corrompue")
        return report
    record = records.find(hello.serial)
    if record is None:
        report.reasons.append("numéro inconnu de cette base")
        return report
    report.record_state, report.login = record.state, record.login
    secret = records.secret(record.serial)
    report.holds_secret = prove_matches(session, secret, record.algo)
    if not report.holds_secret:
        report.reasons.append("la clé ne détient pas le secret enregistré")
    elif report.battery in ("low", "ok"):
        records.record_battery(record.serial, report.battery_volts)
    if report.battery == "low":
        report.reasons.append(f"piles faibles ({report.battery_volts:.2f} V) : à remplacer")
    if not hello.clock_ok:
        report.reasons.append("horloge perdue : effacer et reprovisionner")
    elif report.holds_secret:
        try:
            report.code_ok = code_matches(session, secret, record.algo, record.digits, record.period, now())
        except DeviceError as exc:
            if exc.code != "presence":
                raise
            report.code_ok = None  # nobody pressed the button: PROVE has shown the secret, the clock is below
        if report.code_ok is False:
            report.reasons.append("code affiché différent du code attendu")
        _measure_drift(session, record, report, now)
    if hello.clock_ok and abs(report.clock_offset) > MAX_REISSUE_OFFSET:
        report.reasons.append(f"horloge décalée de {report.clock_offset:+d} s : effacer et reprovisionner")
    if hello.state != "locked":
        report.reasons.append("clé non verrouillée : relancer seed pour terminer")
    if record.state not in REISSUABLE:
        hint = " (jeton-admin unassign d'abord)" if record.login else ""
        report.reasons.append(f"fiche dans l'état {record.state}{hint}")
    return report


def _measure_drift(session: TokenSession, record, report: CheckReport, now: Callable[[], float]) -> None:
    """The drift since provisioning, from the offset recorded then and the one measured now."""
    if record.provisioned_at is None or record.clock_offset is None:
        return  # imported, or provisioned before offsets were recorded
    later = measure_offset(session, now=now)
    at = now()
    if at - record.provisioned_at <= 0:
        return
    then = Offset(record.clock_offset, SEED_OFFSET_ERROR)
    report.drift_ppm, report.drift_uncertainty_ppm = drift_ppm(then, record.provisioned_at, later, at)
    report.days_since_provisioning = (at - record.provisioned_at) / 86400
    if too_fast_or_slow(report.drift_ppm, report.drift_uncertainty_ppm):
        report.reasons.append(
            f"horloge qui dérive de {report.drift_ppm:+.1f} ppm depuis le provisionnement (un DS3231 authentique : "
            "±2 ppm) : module d'horloge à remplacer"
        )


@dataclass(frozen=True)
class WipeResult:
    """What `wipe` did."""

    serial: str | None
    was_state: str
    record_retired: bool


def wipe_token(session: TokenSession, records: TokenRecords, *, label: str | None = None) -> WipeResult:
    """Destroy the secret on the device, then retire its record. Rerunning converges.

    ``label`` is the serial printed on the token, for a token that cannot tell its own (a corrupt store): its
    record is retired too. A label that contradicts the serial the token reports is refused.
    """
    hello = session.hello()
    if label is not None and hello.serial is not None and label != hello.serial:
        raise TokenStateError(f"la clé annonce le numéro {hello.serial}, pas {label} : rien n'a été effacé")
    serial = hello.serial or label
    record = records.find(serial) if serial is not None else None
    if hello.state != "blank":
        session.wipe(hello.serial)
    retired = False
    if record is not None and record.state != "retired":
        records.retire(record.serial)
        retired = True
    return WipeResult(serial, hello.state, retired)
