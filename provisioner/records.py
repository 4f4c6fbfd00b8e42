"""The provisioner's view of the token store of ``verifier`` (DESIGN.md §4): the one store, never a second.

:class:`TokenRecords` names what provisioning needs; :class:`StoreRecords` implements it on the verifier's store
(``verifier.open_store``). Serial numbers: the default scheme is ``PREFIX-NNNNNN`` (e.g. ``JT-000042``), the next
free number, short and unambiguous enough to print on a label.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from provisioner.errors import RecordError

T = TypeVar("T")


@dataclass(frozen=True)
class Record:
    """A token as the store holds it, without its secret."""

    serial: str
    state: str
    algo: str
    digits: int
    period: int
    kind: str = "hardware"
    login: str | None = None
    drift: int = 0
    provisioned_at: float | None = None  # Unix time the token was marked ready
    clock_offset: float | None = None  # token clock minus host clock then, in seconds (for the drift in check)


class TokenRecords(Protocol):
    """What the services need from the token store."""

    def find(self, serial: str | None) -> Record | None:
        """The record of ``serial``, or None."""

    def secret(self, serial: str) -> bytes:
        """The decrypted secret of ``serial`` (kept in memory only as long as needed)."""

    def create_pending(
        self,
        serial: str | None,
        secret: bytes,
        *,
        algo: str,
        digits: int,
        period: int,
        operator: str,
        firmware: str,
        prefix: str = "JT",
        model: str = "jeton",
    ) -> Record:
        """Record a new token as pending (secret encrypted); a None serial takes the next of the default scheme.
        ``model`` and ``firmware`` are HELLO's (``pico`` for the reference token, ``host`` for the simulator)."""

    def mark_ready(self, serial: str, *, operator: str, firmware: str, clock_offset: float) -> None:
        """pending -> ready, with the provisioning time, operator, firmware and measured clock offset."""

    def mark_failed(self, serial: str, reason: str) -> None:
        """pending -> failed (the device was wiped, or never received the secret)."""

    def retire(self, serial: str) -> None:
        """Any state -> retired (the device was wiped)."""

    def list(self, states: tuple[str, ...] = ()) -> list[Record]:
        """Every record (hardware and software), optionally only those in ``states``."""

    def create_software(self, login: str, *, algo: str, digits: int, period: int, operator: str):
        """A software token assigned to ``login``: (serial, secret)."""

    def record_battery(self, serial: str, volts: float) -> None:
        """Keep the battery reading (volts) ``check`` took from the token's HELLO, audited."""


def _store_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Turn the verifier's and the database's errors into one French :class:`RecordError` line.

    The verifier's :class:`~verifier.errors.ConfigurationError` (no key ring, a key file missing or readable by
    others, an unreachable database, a schema to upgrade) goes through unchanged: it carries its own French wording
    (``.french``), which ``jeton-provision`` prints as ``jeton-admin`` does."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import sqlalchemy as sa

        from verifier.errors import (
            ConfigurationError,
            DuplicateSerial,
            InvalidState,
            TokenNotFound,
            UserNotFound,
            VerifierError,
        )

        try:
            return fn(*args, **kwargs)
        except ConfigurationError:
            raise  # no key ring, a bad key file, an unreachable database, an old schema: the verifier's own words
        except DuplicateSerial as exc:
            raise RecordError(f"le numéro de série {exc.serial} est déjà utilisé") from None
        except TokenNotFound as exc:
            raise RecordError(f"aucun jeton {exc.serial} dans la base") from None
        except UserNotFound as exc:
            raise RecordError(f"aucun utilisateur {exc.login} dans la base (jeton-admin users add)") from None
        except InvalidState as exc:
            raise RecordError(f"le jeton {exc.serial} est dans l'état {exc.state} : action impossible") from None
        except VerifierError as exc:
            raise RecordError(f"base des jetons : {exc}") from None
        except sa.exc.OperationalError as exc:
            raise RecordError(
                f"base de données injoignable ou pleine ({exc.orig.__class__.__name__}) : "
                "relancez la même commande une fois la base rétablie"
            ) from None
        except sa.exc.SQLAlchemyError as exc:
            raise RecordError(f"erreur de la base de données ({exc.__class__.__name__})") from None

    return wrapper


def open_records(db_url: str | None, keys_file: str | None) -> StoreRecords:
    """The token store at ``db_url`` with the key ring ``keys_file`` (None: JETON_DB_URL / JETON_KEYS_FILE).

    Raises the verifier's ``ConfigurationError`` when the store cannot start (see :func:`_store_errors`)."""
    from verifier import open_store

    return StoreRecords(_store_errors(open_store)(db_url, keys_file))


class StoreRecords:
    """:class:`TokenRecords` on the verifier's ``Store``."""

    def __init__(self, store) -> None:
        self.store = store
        self._serials = threading.Lock()  # batch workers allocate default serials one at a time

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> StoreRecords:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def _record(info) -> Record:
        return Record(info.serial, info.state, info.algo, info.digits, info.period, info.kind, info.login, info.drift,
                      info.provisioned_at, info.clock_offset)

    @_store_errors
    def find(self, serial: str | None) -> Record | None:
        if serial is None:
            return None
        info = self.store.find_token(serial)
        return None if info is None else self._record(info)

    @_store_errors
    def secret(self, serial: str) -> bytes:
        return self.store.token_secret(serial, actor="jeton-provision", purpose="provisioning")

    @_store_errors
    def create_pending(self, serial, secret, *, algo, digits, period, operator, firmware, prefix="JT",
                       model="jeton") -> Record:
        from verifier.errors import DuplicateSerial

        if serial is not None:
            info = self.store.create_pending_token(
                serial, secret, algo=algo, digits=digits, period=period, firmware=firmware, operator=operator,
                model=model, reuse=True,
            )
            return self._record(info)
        with self._serials:
            number = self._next_number(prefix)
            for attempt in range(50):  # another host may take numbers at the same time: step past them
                candidate = f"{prefix}-{number + attempt:06d}"
                try:
                    info = self.store.create_pending_token(
                        candidate, secret, algo=algo, digits=digits, period=period, firmware=firmware,
                        operator=operator, model=model,
                    )
                    return self._record(info)
                except DuplicateSerial:
                    continue
        raise RecordError("impossible de réserver un numéro de série libre")

    def _next_number(self, prefix: str) -> int:
        pattern = re.compile(rf"^{re.escape(prefix)}-(\d{{6}})$")
        numbers = [int(m.group(1)) for t in self.store.list_tokens() if (m := pattern.match(t.serial))]
        return max(numbers, default=0) + 1

    @_store_errors
    def mark_ready(self, serial: str, *, operator: str, firmware: str, clock_offset: float) -> None:
        self.store.mark_ready(serial, clock_offset=float(clock_offset), operator=operator)

    @_store_errors
    def mark_failed(self, serial: str, reason: str) -> None:
        self.store.mark_failed(serial, reason, operator="jeton-provision")

    @_store_errors
    def retire(self, serial: str) -> None:
        self.store.retire_token(serial, "wiped by jeton-provision", actor="jeton-provision")

    @_store_errors
    def list(self, states: tuple[str, ...] = ()) -> list[Record]:
        return [self._record(t) for t in self.store.list_tokens() if not states or t.state in states]

    @_store_errors
    def create_software(self, login: str, *, algo: str, digits: int, period: int, operator: str):
        info, secret = self.store.create_software_token(login, algo=algo, digits=digits, period=period, actor=operator)
        return info.serial, secret

    @_store_errors
    def record_battery(self, serial: str, volts: float) -> None:
        from verifier.health import record_battery

        record_battery(self.store, serial, volts, actor="jeton-provision")
