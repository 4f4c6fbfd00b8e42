"""The loop's defences on a real board (issue 13), on the fake board: codes over USB only after a press, the
low-battery warning, --always-on, and the watchdog that a hang trips and normal use never does."""

from __future__ import annotations

import json

import pyotp
import pytest

from tests.firmware.helpers import DEVICE_PATH, MP_DIR
from tests.golden_frames import STARTS, T, frame

pytestmark = pytest.mark.micropython
SHOW_S = 10  # app.SHOW_MS


def run(micropython, tmp_path, start: dict, steps: list, board: dict | None = None):
    job = {"dir": str(tmp_path), "start": start, "steps": steps, "board": board or {}, "report": True}
    out = micropython.run(script=MP_DIR / "app_runner.py", path=DEVICE_PATH, stdin=json.dumps(job).encode(),
                          heapsize="256k")
    lines = [json.loads(line) for line in out.stdout.decode().splitlines()]
    return lines[:-1], lines[-1]


def replies(ticks) -> list[str]:
    return [r.rpartition("*")[0].split(" ", 1)[1] for t in ticks for r in t[5]]


def code_at(t: int) -> str:
    return pyotp.TOTP(STARTS["locked"]["secret_b32"]).at(t)


def test_a_locked_token_answers_code_only_while_a_press_shows_it(micropython, tmp_path):
    ticks, _ = run(micropython, tmp_path, STARTS["locked"], [
        ["send", frame("1 CODE")],  # malware asks: nobody pressed
        ["press"], ["send", frame("2 CODE")],  # the teacher presses: the code is on the display
        ["advance", SHOW_S + 1], ["send", frame("3 CODE")],  # the display went dark
        ["send", frame("4 PROVE 00112233445566778899aabbccddeeff")],
    ])  # fmt: skip
    got = replies(ticks)
    assert got[0] == "ERR presence"
    assert got[1] == f"OK code={code_at(T)} step={T // 30} left=18"
    assert ticks[2][1] == code_at(T)  # what the display showed when CODE answered
    assert got[2] == "ERR presence"
    assert got[3].startswith("OK mac=")  # PROVE unchanged


def test_a_seeded_token_being_provisioned_answers_code_without_a_press(micropython, tmp_path):
    ticks, _ = run(micropython, tmp_path, STARTS["seeded"], [["send", frame("1 CODE")]])
    assert replies(ticks) == [f"OK code={code_at(T)} step={T // 30} left=18"]


def test_low_cells_show_batt_for_a_second_then_the_code(micropython, tmp_path):
    ticks, _ = run(micropython, tmp_path, STARTS["locked"], [
        ["press"], ["send", frame("1 CODE")], ["advance", 1], ["send", frame("2 CODE")], ["advance", SHOW_S + 1],
    ], board={"volts": 2.1})  # fmt: skip
    assert ticks[1][1] == "bAtt  " and ticks[1][3]  # the press: the warning, power held
    assert replies(ticks)[:2] == ["ERR presence", f"OK code={code_at(T + 1)} step={T // 30} left=17"]
    assert ticks[3][1] == code_at(T + 1)  # a second later: the code
    shown = [t for t in ticks if t[1] == code_at(T + 1)]
    assert len(shown) >= SHOW_S - 1  # the code still gets its full display time
    assert ticks[-1][1] is None and not ticks[-1][3]


def test_good_cells_show_the_code_at_once(micropython, tmp_path):
    ticks, _ = run(micropython, tmp_path, STARTS["locked"], [["press"]], board={"volts": 2.6})
    assert ticks[1][1] == code_at(T)


def test_always_on_shows_the_code_without_a_press_and_never_goes_dark(micropython, tmp_path):
    ticks, _ = run(micropython, tmp_path, STARTS["locked"], [["advance", 40], ["send", frame("1 CODE")]],
                   board={"always_on": True})
    assert all(t[1] and t[1].isdigit() and t[3] for t in ticks)
    assert replies(ticks)[0].startswith("OK code=")


def test_normal_use_feeds_the_watchdog_and_never_trips_it(micropython, tmp_path):
    steps = []
    for n in range(20):  # ten minutes of presses and provisioning traffic
        steps += [["press"], ["advance", 12], ["send", frame(f"{n + 1} HELLO")], ["advance", 18]]
    ticks, report = run(micropython, tmp_path, STARTS["locked"], steps)
    assert report["watched"] and report["resets"] == []
    assert report["feeds"] >= len(ticks)


def test_a_stuck_loop_trips_the_watchdog_which_resets_the_board(micropython, tmp_path):
    _, report = run(micropython, tmp_path, STARTS["locked"], [["advance", 5]], board={"hang_at": [3, 9000]})
    assert report["resets"] == [2000 + 8000]  # fed at the second pass (2 s), then nothing for 9 s


def test_a_blank_token_is_not_watched_so_tools_can_use_its_repl(micropython, tmp_path):
    _, report = run(micropython, tmp_path, STARTS["blank"], [["advance", 3]], board={"hang_at": [2, 20000]})
    assert not report["watched"] and report["resets"] == []
