"""Find tokens: serial ports whose USB ids are those of a MicroPython board, plus ports named by glob patterns
(``/dev/ttyACM*``, or a simulator's pty), each probed with HELLO."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass

from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from provisioner.errors import NoReplyError, ProvisionerError
from provisioner.session import Hello, TokenSession

#: USB vendor:product ids of boards running MicroPython (product None = any product of that vendor).
#: 2E8A:0005 is Raspberry Pi's id for its MicroPython firmware (raspberrypi/usb-pid), the default of MicroPython's
#: rp2 port on both Pico (RP2040) and Pico 2 (RP2350). Other 2E8A products are not matched: 0003 and 000F are the
#: RP2040 and RP2350 boot ROMs (BOOTSEL, no serial port), 000B CircuitPython, 000A a bare Pico SDK program.
MICROPYTHON_USB_IDS = (
    (0x2E8A, 0x0005),  # Raspberry Pi Pico / Pico 2 (rp2 port) with MicroPython
    (0xF055, None),  # MicroPython's own vendor id (pyboard, generic USB CDC builds)
    (0x303A, None),  # Espressif native USB (ESP32-S2/S3/C3 running MicroPython)
)


def micropython_ports(infos: Iterable[ListPortInfo]) -> list[str]:
    """Device paths, sorted, of the ports in ``infos`` whose USB ids match a MicroPython board."""
    found = []
    for info in infos:
        if info.vid is None:
            continue
        if any(info.vid == vid and (pid is None or info.pid == pid) for vid, pid in MICROPYTHON_USB_IDS):
            found.append(info.device)
    return sorted(found)


def usb_ports() -> list[str]:
    """Device paths of this machine's serial ports whose USB ids match a MicroPython board."""
    return micropython_ports(list_ports.comports())


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
