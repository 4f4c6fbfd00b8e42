"""Helpers for the firmware tests: where the device code is, and running it under MicroPython or CPython."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from token_firmware import DEVICE_DIR

MP_DIR = Path(__file__).resolve().parent / "mp"
DEVICE_PATH = [DEVICE_DIR, MP_DIR]


def run_cpython(script: Path, stdin: bytes, cwd: Path | None = None, timeout: float = 60) -> bytes:
    """Run a device-side script under CPython with the device files importable; return its stdout."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(p) for p in DEVICE_PATH))
    proc = subprocess.run(
        [sys.executable, str(script)], input=stdin, capture_output=True, env=env, cwd=cwd, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def run_golden(micropython, flash_dir: Path, start: dict, requests: list[str], *, fresh: bool, cpython=False):
    """Replies (one list of reply lines per request) and the final state, from mp/golden_runner.py."""
    job = json.dumps({"dir": str(flash_dir), "start": start, "requests": requests, "fresh": fresh}).encode()
    script = MP_DIR / "golden_runner.py"
    if cpython:
        out = run_cpython(script, job)
    else:
        # from .py sources, compiled at import: more room than the deployed .mpy firmware's 48 KB (test_protocol)
        out = micropython.run(script=script, path=DEVICE_PATH, stdin=job, heapsize="96k").stdout
    lines = out.decode().splitlines()
    assert lines[-1].startswith("STATE ")
    return [json.loads(line) for line in lines[:-1]], lines[-1].split()[1]


class Firmware:
    """The real firmware entry point (main.py, host board) in ``directory``, run with stdin as its serial line.

    The firmware answers everything it reads and powers off at the end of the input.
    """

    def __init__(self, micropython, directory: Path):
        self.micropython = micropython
        self.directory = directory

    def run(self, flash_dir: Path, stdin: bytes, *, heapsize: str = "48k", check: bool = True):
        import subprocess

        env = dict(os.environ, JETON_FLASH=str(flash_dir), MICROPYPATH=f"{self.directory}:.frozen")
        env.pop("JETON_DISPLAY_FD", None)
        env.pop("JETON_BUTTON_FD", None)
        cmd = [self.micropython.executable, "-X", f"heapsize={heapsize}", str(self.directory / "main.py")]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env, cwd=flash_dir, timeout=120)
        if check:
            assert proc.returncode == 0, (proc.stdout + proc.stderr).decode(errors="replace")[-3000:]
        return proc


def seed_store(micropython, flash_dir: Path, start: dict) -> None:
    """Put the token whose flash is ``flash_dir`` in a golden starting state (through the firmware's store)."""
    run_golden(micropython, flash_dir, start, [], fresh=False)


def reply_lines(stdout: bytes) -> list[str]:
    """The reply frames in ``stdout``, each checked for its CRC (zlib, independent of the firmware)."""
    import zlib

    lines = stdout.decode("ascii").split("\n")
    assert lines[-1] == "", "output must end with a newline"
    bodies = []
    for line in lines[:-1]:
        body, star, check = line.rpartition("*")
        assert star and check == f"{zlib.crc32(body.encode()):08x}", line
        bodies.append(body)
    return bodies
