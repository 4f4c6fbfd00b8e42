"""Boots the Pico board file on fake rp2 pins and I2C (mp/rp2/machine.py) with a seeded store in the current
directory and a DS3231 reading 2026-01-01T00:00:12Z; answers the requests on stdin (replies on stdout,
as over USB); writes JSON to stderr: the first pin written, all the pin traffic, the I2C traffic and the
lightsleeps, the watchdog's record and the bytes the display acknowledged. ``--battery``: VBUS (GP24) reads
low. ``--vsys=V``: VSYS reads V volts. ``--no-display``: no TM1637 on the bus. ``--fault``: the DS3231 raises
an unexpected error and the firmware's own boot loop (app.main) runs until it has let go of the power once."""

import json
import sys

import machine

machine.REGS[0:7] = bytes((0x12, 0x00, 0x00, 0x04, 0x01, 0x01, 0x26))  # 00:00:12, Thursday 1 Jan 2026

if "--no-rtc" in sys.argv:
    machine.unplug_rtc()
if "--fault" in sys.argv:
    machine.fault_rtc()
if "--battery" in sys.argv:
    machine.BUTTON_LEVEL[24] = 0
if "--no-display" in sys.argv:
    machine.CHIP.present = False
for arg in sys.argv:
    if arg.startswith("--vsys="):
        machine.VSYS[0] = float(arg[7:])

import app  # noqa: E402
import board_pico  # noqa: E402

pauses = []


def pause(ms):
    pauses.append([ms, len(machine.WIRE)])
    if len(pauses) == app.MAX_FAULTS:
        raise SystemExit  # not an Exception: ends app.main, as Ctrl-C would


if "--fault" in sys.argv:
    try:
        app.main(board_pico, pause)
    except SystemExit:
        pass
    first = list(machine.WIRE[:1])
elif "--alloc" in sys.argv:  # what 1000 looks at the serial line allocate (stdin is empty)
    import gc

    board = board_pico.make()
    first = []
    board.read()
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for _ in range(1000):
        board.read()
        board.sleep(1)
    pauses = [gc.mem_alloc() - before]
    gc.enable()
else:
    board = board_pico.make()
    first = list(machine.WIRE[:1])
    token = app.App(board)  # the press that powered the board shows the code
    for _ in range(20):
        token.step_loop()
out = {"first": first, "wire": machine.WIRE, "i2c": machine.I2C_LOG, "lightsleeps": machine.LIGHTSLEEPS,
       "pauses": pauses, "wdt": machine.WDT_LOG, "acks": machine.CHIP.acks}
sys.stderr.write(json.dumps(out) + "\n")
