"""The token's loop as a user sees it: a press shows the code and its countdown, the code rolls over, the
display goes off and the power is released; errors show a glyph and never a code."""

from __future__ import annotations

import json

import pyotp
import pytest

from tests.firmware.helpers import DEVICE_PATH, MP_DIR
from tests.golden_frames import STARTS, T, frame

SHOW_S, AFTER_S = 10, 5  # app.SHOW_MS, app.AFTER_MS


def run_app(micropython, tmp_path, start: dict, steps: list) -> list[list]:
    job = json.dumps({"dir": str(tmp_path), "start": start, "steps": steps}).encode()
    out = micropython.run(script=MP_DIR / "app_runner.py", path=DEVICE_PATH, stdin=job, heapsize="256k")
    return [json.loads(line) for line in out.stdout.decode().splitlines()]


def run_sleeping(micropython, tmp_path, start: dict, presses: list[int], until_ms: int, phase_ms: int = 0,
                 frozen: bool = False) -> dict:
    """The real loop (a pass, then board.sleep) on a fake board whose sleeps move its time (mp/sleep_runner.py)."""
    job = {"dir": str(tmp_path), "start": start, "presses": presses, "until_ms": until_ms, "phase_ms": phase_ms,
           "frozen": frozen}
    out = micropython.run(script=MP_DIR / "sleep_runner.py", path=DEVICE_PATH, stdin=json.dumps(job).encode(),
                          heapsize="256k")
    return json.loads(out.stdout)


def code_at(start: dict, t: int) -> str:
    return pyotp.TOTP(start["secret_b32"], digits=start["digits"], interval=start["period"]).at(t)


@pytest.mark.micropython
def test_a_press_shows_the_code_with_a_countdown_then_goes_dark(micropython, tmp_path):
    start = dict(STARTS["locked"], time=T - 12 + 25)  # 5 s left in the step: the code rolls over 5 s in
    ticks = run_app(micropython, tmp_path, start, [["press"], ["advance", SHOW_S + 3]])
    assert ticks[0][1] is None and not ticks[0][3]  # nothing shown before the press
    pressed = ticks[1]
    assert pressed[1] == code_at(start, start["time"]) and pressed[3] is True
    for ms, text, dots, held, _, _ in ticks[1:]:
        seconds = ms // 1000
        if seconds < SHOW_S:
            now = start["time"] + seconds
            left = 30 - now % 30
            assert text == code_at(start, now), seconds
            lit = -(-left * 6 // 30)
            assert dots == ((1 << lit) - 1) << (6 - lit), seconds
            assert held
        else:
            assert text is None and not held, seconds
    shown = {t[1] for t in ticks[1:] if t[1]}
    assert shown == {code_at(start, start["time"]), code_at(start, start["time"] + 5)}  # rolled over, 5 s in


@pytest.mark.micropython
@pytest.mark.parametrize(("seconds_left", "phase_ms"), [(30, 0), (18, 400), (9, 999), (3, 500), (1, 700)])
def test_a_press_shows_the_code_for_the_display_time_wherever_it_falls_in_the_step(micropython, tmp_path,
                                                                                    seconds_left, phase_ms):
    start = dict(STARTS["locked"], time=T - T % 30 + 30 - seconds_left)
    run = run_sleeping(micropython, tmp_path, start, [0], 40000, phase_ms)
    assert [ms for what, ms in run["holds"] if what == "release"] == [SHOW_S * 1000]
    first, new = code_at(start, start["time"]), code_at(start, start["time"] + seconds_left)
    codes = [(ms, text) for ms, text in run["shows"] if text is not None]
    assert codes[0] == (0, first)
    roll_ms = seconds_left * 1000 - phase_ms  # when the clock reaches the next step
    if roll_ms < SHOW_S * 1000:
        rolled = next(ms for ms, text in codes if text == new)
        assert roll_ms <= rolled <= roll_ms + 250  # within one wake-up of the change, never before it
    assert all(text == first for ms, text in codes if ms < roll_ms)
    assert run["shows"][-1] == [SHOW_S * 1000, None]  # dark when the power goes


@pytest.mark.micropython
@pytest.mark.parametrize(("seconds_left", "phase_ms"), [(30, 0), (18, 400), (9, 999), (3, 500), (2, 700)])
def test_a_second_press_keeps_the_code_shown_until_it_changes_then_a_while(micropython, tmp_path, seconds_left,
                                                                           phase_ms):
    # The teachers' first-use step: "wait until the code on your token changes". A second press shows it.
    start = dict(STARTS["locked"], time=T - T % 30 + 30 - seconds_left)
    second = min(2000, seconds_left * 1000 - phase_ms - 300)  # while the first code is still shown
    run = run_sleeping(micropython, tmp_path, start, [0, second], 70000, phase_ms)
    codes = [(ms, text) for ms, text in run["shows"] if text is not None]
    first, new = code_at(start, start["time"]), code_at(start, start["time"] + seconds_left)
    roll_ms = seconds_left * 1000 - phase_ms
    rolled = next(ms for ms, text in codes if text == new)
    assert roll_ms <= rolled <= roll_ms + 250
    assert all(text == first for ms, text in codes if ms < rolled)
    released = [ms for what, ms in run["holds"] if what == "release"]
    assert len(released) == 1  # never dark in between
    pressed = [ms for what, ms in run["holds"] if what == "hold"][1]
    assert released[0] == max(pressed + SHOW_S * 1000, rolled + AFTER_S * 1000)
    assert run["shows"][-1] == [released[0], None]


@pytest.mark.micropython
def test_a_second_press_on_a_stopped_clock_still_lets_go_of_the_power(micropython, tmp_path):
    # a DS3231 that reads the same second forever (no oscillator-stop flag) never rolls the code over
    run = run_sleeping(micropython, tmp_path, STARTS["locked"], [0, 2000], 120000, frozen=True)
    released = [ms for what, ms in run["holds"] if what == "release"]
    assert released == [2000 + 62000]  # app.ROLL_WAIT_MS after the second press, then dark
    assert {text for _, text in run["shows"] if text} == {code_at(STARTS["locked"], T)}


@pytest.mark.micropython
def test_the_loop_sleeps_between_updates_instead_of_busy_waiting(micropython, tmp_path):
    run = run_sleeping(micropython, tmp_path, STARTS["locked"], [0], 30000, 300)
    # simulated time moves only by the loop's sleeps: every millisecond of the 30 s was slept
    assert sum(run["sleeps"]) >= 30000 and all(0 <= ms <= 250 for ms in run["sleeps"])
    held_passes = run["holds"][1][1] // 250 + 1
    # while shown, the clock and the HMAC are looked at only around a change, not on every wake-up
    assert run["clock_reads"] < held_passes
    assert len([s for s in run["shows"] if s[1]]) <= 4


@pytest.mark.micropython
@pytest.mark.parametrize(
    ("start", "glyph"), [("seeded-clock-lost", "Err CL"), ("corrupt", "Err St"), ("blank", "------")]
)
def test_a_lost_clock_a_corrupt_store_or_a_blank_token_never_shows_a_code(micropython, tmp_path, start, glyph):
    ticks = run_app(micropython, tmp_path, STARTS[start], [["press"], ["advance", 5]])
    assert {t[1] for t in ticks[1:]} == {glyph}
    assert all(t[2] == 0 for t in ticks[1:])


@pytest.mark.micropython
def test_an_eight_digit_code_shows_its_two_halves_in_turn(micropython, tmp_path):
    start = STARTS["locked-sha256-8-60"]
    ticks = run_app(micropython, tmp_path, start, [["press"], ["advance", 4]])
    code = pyotp.TOTP(start["secret_b32"], digits=8, interval=60, digest="sha256").at(T)
    shown = [t[1] for t in ticks[1:]]
    assert code[:4] + "  " in shown and "  " + code[4:] in shown


@pytest.mark.micropython
def test_ctrl_c_works_on_a_blank_token_and_is_disabled_once_seeded_or_locked(micropython, tmp_path):
    seed = frame("1 SEED JT-000042 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 6 30")
    steps = [["send", seed], ["send", frame("2 LOCK")], ["send", frame("3 WIPE JT-000042")]]
    ticks = run_app(micropython, tmp_path, STARTS["blank"], steps)
    assert [t[4] for t in ticks] == [True, False, False, True]
    assert [t[5][0].split("*")[0] for t in ticks[1:]] == ["1 OK state=seeded", "2 OK state=locked", "3 OK state=blank"]


@pytest.mark.micropython
def test_the_display_follows_the_state_changes_made_over_serial(micropython, tmp_path):
    seed = frame("1 SEED JT-000042 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ sha1 6 30")
    ticks = run_app(micropython, tmp_path, STARTS["blank"], [["press"], ["send", seed], ["tick"]])
    assert ticks[1][1] == "------"
    assert ticks[-1][1] == code_at(STARTS["seeded"], T)


@pytest.mark.micropython
def test_a_clock_reading_before_2020_counts_as_lost_even_without_the_flag(micropython, tmp_path):
    # e.g. a DS3231 back at 2000-01-01 after a cell swap, its flag cleared by hand: its time cannot be right
    start = dict(STARTS["locked"], time=946684800)
    ticks = run_app(
        micropython, tmp_path, start, [["press"], ["send", frame("1 HELLO")], ["send", frame("2 CODE")]]
    )  # fmt: skip
    assert {t[1] for t in ticks[1:]} == {"Err CL"}
    replies = [r.split("*")[0] for t in ticks for r in t[5]]
    assert replies == [
        "1 OK proto=1 fw=1.0.0 model=fake serial=JT-000042 state=locked clock=lost time=946684800",
        "2 ERR clock",
    ]
