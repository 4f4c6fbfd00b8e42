"""Seed a token and SIGKILL ourselves right after one step: ``python -m tests.provisioner.kill_driver DB KEYS PORT
STEP [SERIAL]``. Prints ``RESERVED <serial>`` as soon as a serial is known (as the CLI announces it)."""

from __future__ import annotations

import os
import signal
import sys

from provisioner.records import open_records
from provisioner.seeding import SeedOptions, seed_token
from provisioner.session import TokenSession


def main() -> None:
    db, keys, port, target = sys.argv[1:5]
    serial = sys.argv[5] if len(sys.argv) > 5 else None

    def on_step(name: str, known: str | None) -> None:
        if known:
            print(f"RESERVED {known}", flush=True)
        if name == target:
            os.kill(os.getpid(), signal.SIGKILL)

    with open_records(db, keys) as records, TokenSession.open(port) as token:
        seed_token(token, records, SeedOptions(serial=serial, operator="kill-test"), on_step=on_step)
    print("FINISHED", flush=True)


if __name__ == "__main__":
    main()
