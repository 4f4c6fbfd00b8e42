"""The token's clock against the host's: its offset to a few milliseconds, its drift in ppm, and burn-in.

Many ZS-042 DS3231 modules carry clones that drift 30 s a day (about 350 ppm); a genuine DS3231 keeps ±2 ppm.
HELLO gives the token's time in whole seconds, so one reading knows the offset to a second only. Two ways to
know it to a few milliseconds, both using the DS3231 (and the simulator) the same way:

- when TIME sets the clock, the DS3231 restarts its second at the write: the token's clock then reads the
  time sent exactly at the moment the request arrived (the middle of the exchange, seen from the host);
- otherwise, HELLO is asked in a tight loop until the token's second changes: the change happened between
  the two exchanges that saw it, and the token's clock read a whole second then.

The drift since provisioning is (offset now - offset then) / (time between), in parts per million; the
uncertainty of the two offsets over that time says how far the figure can be trusted (a day gives ±0.5 ppm,
ten seconds ±5000). ``burnin`` measures a batch twice, some hours apart, and names the tokens to reject.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from provisioner.errors import ClockError, ProvisionerError
from provisioner.session import TokenSession

#: A genuine DS3231 is within ±2 ppm from 0 to 40 °C: above this the module is a clone (or broken).
MAX_DRIFT_PPM = 5.0
#: How well an offset recorded at seeding is known (TIME's exchange on a USB serial line), in seconds.
SEED_OFFSET_ERROR = 0.05
#: Give up looking for the token's second to change after this long (it would be a stopped clock).
EDGE_TIMEOUT = 2.5


@dataclass(frozen=True)
class Offset:
    """Token clock minus host clock, in seconds, and how far it may be off (``error``, seconds)."""

    seconds: float
    error: float


def set_clock(session: TokenSession, unix: int, *, now: Callable[[], float] = time.time) -> Offset:
    """TIME ``unix``; the token's clock restarts its second when written, at the middle of the exchange."""
    before = now()
    session.set_time(unix)
    after = now()
    return Offset(unix - (before + after) / 2, (after - before) / 2)


def measure_offset(session: TokenSession, *, now: Callable[[], float] = time.time) -> Offset:
    """Ask HELLO until the token's second changes; the offset at that change, to half an exchange or so."""
    before = now()
    last_time = session.hello().time
    last_before = before
    deadline = time.monotonic() + EDGE_TIMEOUT  # real time, whatever clock ``now`` reads
    while True:
        before = now()
        reading = session.hello().time
        after = now()
        if reading != last_time:
            # the token read its clock somewhere in each exchange: the second turned between the start of the
            # previous one and the end of this one, and the clock read ``reading`` exactly then
            return Offset(reading - (last_before + after) / 2, (after - last_before) / 2)
        last_time, last_before = reading, before
        if time.monotonic() > deadline:
            raise ClockError("l'horloge de la clé ne bat pas : elle est arrêtée")


def drift_ppm(then: Offset, then_at: float, later: Offset, later_at: float) -> tuple[float, float]:
    """(drift in ppm, its uncertainty in ppm) between two offsets measured ``later_at - then_at`` seconds apart."""
    span = later_at - then_at
    if span <= 0:
        raise ValueError("the second measurement must come after the first")
    return ((later.seconds - then.seconds) / span * 1e6, (later.error + then.error) / span * 1e6)


def too_fast_or_slow(ppm: float, uncertainty: float) -> bool:
    """True when the drift is beyond MAX_DRIFT_PPM whatever the uncertainty of the measurement."""
    return abs(ppm) - uncertainty > MAX_DRIFT_PPM


@dataclass
class BurninResult:
    """One token's burn-in: its drift over the run, and whether to reject it (``reason`` says why)."""

    port: str
    serial: str | None = None
    seconds: float = 0.0
    ppm: float | None = None
    uncertainty: float | None = None
    reason: str | None = None

    @property
    def rejected(self) -> bool:
        return self.reason is not None


def burnin(
    ports: Sequence[str],
    seconds: float,
    *,
    open_session: Callable[[str], TokenSession] = TokenSession.open,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_wait: Callable[[float], None] | None = None,
) -> list[BurninResult]:
    """Measure every token's offset, wait ``seconds``, measure again; a bad token never stops the others."""
    results = [BurninResult(port) for port in ports]
    first: dict[str, tuple[Offset, float]] = {}
    for result in results:
        try:
            with open_session(result.port) as session:
                hello = session.hello()
                result.serial = hello.serial
                if not hello.clock_ok:
                    result.reason = "horloge perdue (pile du DS3231 ?)"
                    continue
                first[result.port] = (measure_offset(session, now=now), now())
        except (ProvisionerError, OSError) as exc:
            result.reason = f"illisible au départ : {exc}"
    end = now() + seconds
    while (left := end - now()) > 0:
        if on_wait is not None:
            on_wait(left)
        sleep(min(left, 60.0))
    for result in results:
        if result.port not in first:
            continue
        start, start_at = first[result.port]
        try:
            with open_session(result.port) as session:
                later = measure_offset(session, now=now)
        except (ProvisionerError, OSError) as exc:
            result.reason = f"illisible à la fin : {exc}"
            continue
        later_at = now()
        result.seconds = later_at - start_at
        result.ppm, result.uncertainty = drift_ppm(start, start_at, later, later_at)
        if too_fast_or_slow(result.ppm, result.uncertainty):
            result.reason = f"horloge qui dérive de {result.ppm:+.1f} ppm (un DS3231 authentique : ±2 ppm)"
    return results
