"""Jeton token firmware.

The files that go onto the token live in ``device/`` (MicroPython only). The modules beside this one are
CPython helpers: they locate and compile the device files and launch the software token simulator.
"""

from pathlib import Path

DEVICE_DIR = Path(__file__).resolve().parent / "device"


def device_files() -> list[Path]:
    """Return the MicroPython source files that are flashed onto a token, sorted by name."""
    return sorted(DEVICE_DIR.glob("*.py"))
