"""Find tokens: serial ports whose USB ids are those of a MicroPython board, plus ports named by glob patterns
(``/dev/ttyACM*``, or a simulator's pty), each probed with HELLO."""

from __future__ import annotations

import glob
from dataclasses import dataclass

from serial.tools import list_ports

from provisioner.errors import NoReplyError, ProvisionerError
from provisioner.session import Hello, TokenSession

#: USB vendor:product ids of boards running MicroPython (product None = any product of that vendor).
MICROPYTHON_USB_IDS = (
    (0x2E8A, 0x0005),  # Raspberry Pi Pico / RP2040 with MicroPython
    (0x2E8A, 0x000F),  # RP2350 boards with MicroPython
    (0xF055, None),  # MicroPython's own vendor id (pyboard, generic USB CDC builds)
    (0x303A, None),  # Espressif native USB (ESP32-S2/S3/C3 running MicroPython)
)


def usb_ports() -> list[str]:
    """Device paths of serial ports whose USB ids match a MicroPython board."""
    found = []
    for info in list_ports.comports():
        if info.vid is None:
            continue
        if any(info.vid == vid and (pid is None or info.pid == pid) for vid, pid in MICROPYTHON_USB_IDS):
            found.append(info.device)
    return sorted(found)


def candidate_ports(patterns: tuple[str, ...] = (), *, usb: bool = True) -> list[str]:
    """USB MicroPython ports (unless ``usb`` is False) and the existing paths matching ``patterns``."""
    ports = set(usb_ports()) if usb else set()
    for pattern in patterns:
        ports.update(glob.glob(pattern))  # a plain path matches itself when it exists
    return sorted(ports)


@dataclass(frozen=True)
class PortReport:
    """One port as `ports` lists it: its HELLO, or why there is none."""

    port: str
    hello: Hello | None
    problem: str | None = None


def probe_port(port: str, timeout: float = 1.0) -> PortReport:
    """HELLO on ``port``; a silent or foreign port is reported, never raised."""
    try:
        with TokenSession.open(port, timeout=timeout) as token:
            return PortReport(port, token.hello())
    except NoReplyError as exc:
        return PortReport(port, None, "muet" if exc.silent else "ne parle pas le protocole Jeton")
    except ProvisionerError as exc:
        return PortReport(port, None, str(exc))
