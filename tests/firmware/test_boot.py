"""Boot on a real board (issue 13, items 1 and 2): Ctrl-C is off and the soft latch held before anything else
runs, and an exception on a token that is not blank resets the board instead of opening the REPL."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.firmware.helpers import MP_DIR
from tests.firmware.test_drivers import board_setting
from token_firmware import DEVICE_DIR


def boot(platform: str, behaviour: str = "ok", state: str = "locked") -> dict:
    proc = subprocess.run(
        [sys.executable, str(MP_DIR / "boot_order.py"), platform, behaviour, state, str(DEVICE_DIR / "main.py")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_ctrl_c_is_disabled_by_the_very_first_statement_then_the_power_is_held():
    events = boot("rp2")["events"]
    assert events[0] == ["import", "micropython"]
    assert events[1] == ["call", "micropython.kbd_intr", [-1], {}]  # before any other import or call
    hold = board_setting("PINS")["power_hold"]
    assert events[2:5] == [["import", "sys"], ["import", "machine"], ["call", "machine.Pin", [hold, 1], {"value": 1}]]
    assert events[5] == ["import", "boot_token"]  # only now the board, the drivers, the store and the app
    assert events[6][1] == "boot_token.run"


def test_the_simulator_boots_with_ctrl_c_off_first_and_no_pin_to_hold():
    events = boot("linux")["events"]
    assert events[:2] == [["import", "micropython"], ["call", "micropython.kbd_intr", [-1], {}]]
    assert not any(e[0] == "import" and e[1] == "machine" for e in events)


@pytest.mark.parametrize("behaviour", ["ctrl-c", "error"])
def test_a_ctrl_c_or_a_bug_on_a_locked_token_resets_the_board_instead_of_opening_the_repl(behaviour):
    out = boot("rp2", behaviour, "locked")
    assert out["outcome"] == "exit:reset"
    assert out["events"][-1][1] == "machine.reset"


def test_a_blank_token_still_lets_ctrl_c_through_to_the_repl():
    out = boot("rp2", "ctrl-c", "blank")
    assert out["outcome"] == "raised:KeyboardInterrupt"
    assert not any(e[1] == "machine.reset" for e in out["events"] if e[0] == "call")
