"""Provision every token plugged in, as it comes, several at once; one failure never stops the others.

:class:`BatchRunner` polls the candidate ports, starts a worker for each port that newly appears, and
reports each result through ``on_event``. A port is taken again only after it has disappeared (unplugged)
and come back. :meth:`BatchRunner.stop` (the CLI calls it on Ctrl-C) starts nothing new and lets the tokens
in progress finish.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from provisioner.errors import ProvisionerError
from provisioner.records import TokenRecords
from provisioner.seeding import SeedOptions, seed_token
from provisioner.session import TokenSession


@dataclass(frozen=True)
class TokenOutcome:
    """One token's result in a batch: ``result`` is a seeding outcome, or ``failed`` with ``error``."""

    port: str
    serial: str | None
    result: str
    seconds: float
    error: str | None = None
    firmware: str | None = None
    clock_offset: int | None = None

    @property
    def ok(self) -> bool:
        return self.result != "failed"


class BatchRunner:
    """Watch ``discover()`` for ports and seed each new one with ``options`` (serial left to the scheme)."""

    def __init__(
        self,
        records: TokenRecords,
        options: SeedOptions,
        discover: Callable[[], list[str]],
        *,
        workers: int = 4,
        poll: float = 0.3,
        on_event: Callable[[str, str, TokenOutcome | None], None] | None = None,
        timeout: float = 2.0,
    ) -> None:
        self.records = records
        self.options = SeedOptions(**{**options.__dict__, "serial": None})
        self.discover = discover
        self.poll = poll
        self.timeout = timeout
        self.on_event = on_event or (lambda kind, port, outcome: None)
        self.outcomes: list[TokenOutcome] = []
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jeton-batch")
        self._busy: dict[str, Future] = {}
        self._handled: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def stop(self) -> None:
        """Start no new token; those in progress finish."""
        self._stop.set()

    def run(self, *, count: int | None = None, idle_exit: float | None = None) -> list[TokenOutcome]:
        """Run until :meth:`stop`, ``count`` tokens done, or ``idle_exit`` seconds with nothing to do."""
        idle_since = time.monotonic()
        try:
            while not self._stop.is_set():
                present = set(self.discover())
                self._handled &= present  # an unplugged port may come back with another token
                for port in sorted(present - self._handled - set(self._busy)):
                    if count is not None and len(self.outcomes) + len(self._busy) >= count:
                        break
                    self._busy[port] = self._pool.submit(self._one, port)
                    self.on_event("start", port, None)
                self._reap()
                if count is not None and len(self.outcomes) >= count:
                    break
                if self._busy or present - self._handled:
                    idle_since = time.monotonic()
                elif idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                    break
                self._stop.wait(self.poll)
        finally:
            self._pool.shutdown(wait=True)
            self._reap()
        return list(self.outcomes)

    def _reap(self) -> None:
        for port, future in list(self._busy.items()):
            if future.done():
                del self._busy[port]
                self._handled.add(port)
                outcome = future.result()
                self.outcomes.append(outcome)
                self.on_event("done", port, outcome)

    def _one(self, port: str) -> TokenOutcome:
        start = time.monotonic()
        serial = None

        def on_step(name: str, known: str | None) -> None:
            nonlocal serial
            serial = known

        try:
            with TokenSession.open(port, timeout=self.timeout) as token:
                result = seed_token(token, self.records, self.options, on_step=on_step)
            return TokenOutcome(
                port, result.serial, result.outcome, time.monotonic() - start,
                firmware=result.firmware, clock_offset=result.clock_offset,
            )
        except ProvisionerError as exc:
            return TokenOutcome(port, serial, "failed", time.monotonic() - start, error=str(exc))
        except Exception as exc:  # one broken token (or a store hiccup) must never stop the batch
            return TokenOutcome(port, serial, "failed", time.monotonic() - start, error=_short(exc))


def _short(exc: BaseException) -> str:
    """A one-line description of an unexpected error that cannot carry a secret (class name and first line)."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{exc.__class__.__name__}: {first[:120]}"
