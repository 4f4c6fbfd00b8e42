"""Which USB serial ports `jeton-provision ports` and `batch` take for MicroPython boards.

There is no USB hardware here, so the ports are pyserial's own ``ListPortInfo`` objects, filled in as
``serial.tools.list_ports.comports()`` fills them on Linux. The ids come from Raspberry Pi's USB product id list
(raspberrypi/usb-pid: 2E8A:0005 "Raspberry Pi Pico MicroPython firmware (CDC)", 0003 the RP2040 boot ROM, 000A the
Pico SDK's CDC UART, 000B CircuitPython), the RP2350 datasheet §5.7.1 (boot ROM PID 000F), MicroPython's own vendor
id F055 (pyboard F055:9800) and Espressif's native USB vendor id 303A (USB-Serial-JTAG 303A:1001).
"""

from __future__ import annotations

import pytest
from serial.tools.list_ports_common import ListPortInfo

from provisioner.discovery import micropython_ports


def usb_port(device: str, vid: int | None, pid: int | None, product: str | None = None) -> ListPortInfo:
    """A port as pyserial lists it; ``vid``/``pid`` None is a port without USB ids (a UART, a pty)."""
    info = ListPortInfo(device, skip_link_detection=True)
    if vid is not None:
        info.vid, info.pid, info.product = vid, pid, product
        info.apply_usb_info()
    return info


MATCHING = [
    pytest.param("/dev/ttyACM0", 0x2E8A, 0x0005, "Board in FS mode", id="pico-micropython-2E8A:0005"),
    pytest.param("/dev/ttyACM1", 0xF055, 0x9800, "Pyboard Virtual Comm Port", id="pyboard-F055:9800"),
    pytest.param("/dev/ttyACM2", 0x303A, 0x1001, "USB JTAG/serial debug unit", id="esp32s3-usb-jtag-303A:1001"),
]

NOT_MATCHING = [
    pytest.param("/dev/ttyUSB0", 0x0403, 0x6001, "FT232R USB UART", id="ftdi-0403:6001"),
    pytest.param("/dev/ttyUSB1", 0x10C4, 0xEA60, "CP2102 USB to UART", id="cp2102-10C4:EA60"),
    pytest.param("/dev/ttyACM3", 0x2E8A, 0x000B, "Pico", id="pico-circuitpython-2E8A:000B"),
    pytest.param("/dev/ttyACM4", 0x2E8A, 0x000A, "Pico", id="pico-sdk-program-2E8A:000A"),
    pytest.param("/dev/ttyACM5", 0x2E8A, 0x000F, "RP2350 Boot", id="rp2350-bootrom-2E8A:000F"),
    pytest.param("/dev/ttyACM6", 0x2E8A, 0x0003, "RP2 Boot", id="rp2040-bootrom-2E8A:0003"),
    pytest.param("/dev/ttyACM7", 0x239A, 0x0005, "another vendor's product 0005", id="other-vendor-239A:0005"),
    pytest.param("/dev/ttyS0", None, None, None, id="no-usb-ids"),
]


@pytest.mark.parametrize(("device", "vid", "pid", "product"), MATCHING)
def test_micropython_board_is_found(device, vid, pid, product):
    assert micropython_ports([usb_port(device, vid, pid, product)]) == [device]


@pytest.mark.parametrize(("device", "vid", "pid", "product"), NOT_MATCHING)
def test_other_port_is_left_alone(device, vid, pid, product):
    assert micropython_ports([usb_port(device, vid, pid, product)]) == []


def test_a_mixed_bus_gives_only_the_boards_sorted():
    ports = [usb_port(*p.values) for p in [*NOT_MATCHING, *reversed(MATCHING)]]
    assert micropython_ports(ports) == ["/dev/ttyACM0", "/dev/ttyACM1", "/dev/ttyACM2"]
    assert micropython_ports([]) == []


def test_usb_info_is_what_pyserial_shows():
    """The objects above are filled like comports() fills them (a check on the test's own ports)."""
    assert usb_port("/dev/ttyACM0", 0x2E8A, 0x0005).usb_info().startswith("USB VID:PID=2E8A:0005")
