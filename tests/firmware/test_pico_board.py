"""The Pico board file wires the firmware to the pins of PINS: run under the unix port with a stand-in for
the rp2 ``machine`` module (mp/rp2/machine.py) that records the pins and holds a DS3231's registers."""

from __future__ import annotations

import json
import os
import subprocess

import pyotp
import pytest

from tests.firmware.helpers import DEVICE_PATH, MP_DIR, reply_lines, seed_store
from tests.firmware.test_drivers import board_setting, decode_tm1637, shown
from tests.golden_frames import STARTS, T, frame

pytestmark = pytest.mark.micropython


def boot_pico(micropython, flash, stdin: bytes, *args: str):
    env = dict(os.environ, MICROPYPATH=f"{MP_DIR / 'rp2'}:{DEVICE_PATH[0]}:{MP_DIR}:.frozen")
    proc = subprocess.run(
        # the recorded pin traffic needs room; the firmware itself runs in 48k (test_protocol.py)
        [micropython.executable, "-X", "heapsize=512k", str(MP_DIR / "pico_runner.py"), *args],
        input=stdin, capture_output=True, env=env, cwd=flash, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return reply_lines(proc.stdout), json.loads(proc.stderr)


def test_power_up_holds_power_first_reads_the_ds3231_and_shows_the_code(micropython, tmp_path):
    pins = board_setting("PINS")
    seed_store(micropython, tmp_path, STARTS["locked"])
    replies, rec = boot_pico(micropython, tmp_path, frame("1 HELLO").encode() + b"\n")
    assert rec["first"] == [[pins["power_hold"], 1]]  # the soft latch is held before anything else
    hello = "1 OK proto=1 fw=1.0.0 model=pico serial=JT-000042 state=locked clock=ok time=1767225612"
    assert replies == [hello + " display=ok battery=4.75"]
    assert rec["i2c"][0] == ["init", 0, pins["i2c_sda"], pins["i2c_scl"]]
    text, dots, brightness = tm1637_text(rec, pins)
    assert text == pyotp.TOTP(STARTS["locked"]["secret_b32"]).at(T)
    assert dots == 0b111100  # 18 s of 30 left: four points
    assert brightness == board_setting("BRIGHTNESS")
    assert [pins["led"], 1] not in rec["wire"]  # the on-board LED stays off (LED_WHILE_HELD = False)
    assert board_setting("LED_WHILE_HELD") is False
    assert rec["lightsleeps"] == []  # VBUS is high: on USB the board never lightsleeps (the serial line would drop)


def tm1637_text(rec, pins, since=0):
    names = {pins["tm1637_clk"]: "clk", pins["tm1637_dio"]: "dio"}
    wire = [(names[gpio], level) for gpio, level in rec["wire"][since:] if gpio in names]
    frames = decode_tm1637(wire)
    while len(frames) > 1 and frames[0] == frames[1] == [0x40]:
        frames.pop(0)  # HELLO before the first screen probed the module with a data command
    return shown(frames)


def test_on_battery_it_lightsleeps_between_updates_keeping_the_power_held(micropython, tmp_path):
    pins = board_setting("PINS")
    seed_store(micropython, tmp_path, STARTS["locked"])
    _, rec = boot_pico(micropython, tmp_path, b"", "--battery")
    assert len(rec["lightsleeps"]) == 20  # one after each pass of the loop
    for ms, levels in rec["lightsleeps"]:
        assert 0 < ms <= 250
        assert dict(levels)[pins["power_hold"]] == 1  # the soft latch stays held through every sleep
    assert tm1637_text(rec, pins, 2)[0] == pyotp.TOTP(STARTS["locked"]["secret_b32"]).at(T)


def test_repeated_faults_show_the_fault_glyph_then_release_the_power(micropython, tmp_path):
    pins = board_setting("PINS")
    seed_store(micropython, tmp_path, STARTS["locked"])
    _, rec = boot_pico(micropython, tmp_path, b"", "--fault", "--battery")
    hold = [(i, level) for i, (gpio, level) in enumerate(rec["wire"]) if gpio == pins["power_hold"]]
    assert hold[0] == (0, 1)
    releases = [i for i, level in hold if level == 0]
    assert len(rec["pauses"]) == 3  # three faults, a pause after each
    before_last = rec["pauses"][1][1]  # the wire as it was after the second fault's pause
    assert releases and all(i >= before_last for i in releases)  # held through the first two faults only
    assert releases[-1] == len(rec["wire"]) - 1  # the last thing the firmware did was to let go
    text, dots, _ = tm1637_text(rec, pins, before_last)
    assert (text, dots) == ("Err FL", 0)


def test_time_sets_the_ds3231_in_bcd_and_clears_its_lost_flag(micropython, tmp_path):
    seed_store(micropython, tmp_path, STARTS["seeded"])
    replies, rec = boot_pico(micropython, tmp_path, frame("1 TIME 1767225700").encode() + b"\n")
    assert replies == ["1 OK time=1767225700"]
    write = next(entry for entry in rec["i2c"] if entry[0] == "w" and entry[2] == 0)
    assert write[1] == 0x68
    # 2026-01-01 00:01:40, a Thursday (4): seconds, minutes, hours, weekday, date, month, year in BCD
    assert write[3] == [0x40, 0x01, 0x00, 0x04, 0x01, 0x01, 0x26]
    assert any(entry[0] == "w" and entry[2] == 0x0F and not entry[3][0] & 0x80 for entry in rec["i2c"])


def test_a_clock_that_does_not_answer_is_lost_and_never_gives_a_code(micropython, tmp_path):
    seed_store(micropython, tmp_path, STARTS["locked"])
    stdin = b"".join(
        frame(b).encode() + b"\n" for b in ("1 HELLO", "2 CODE", "3 PROVE 00112233445566778899aabbccddeeff")
    )
    replies, rec = boot_pico(micropython, tmp_path, stdin, "--no-rtc")
    assert replies[0].endswith("state=locked clock=lost time=0 display=ok battery=4.75")
    assert replies[1] == "2 ERR clock"
    assert replies[2].startswith("3 OK mac=")
    assert tm1637_text(rec, board_setting("PINS"))[:2] == ("Err CL", 0)


def test_the_display_module_acknowledges_every_byte_the_board_sends(micropython, tmp_path):
    seed_store(micropython, tmp_path, STARTS["locked"])
    _, rec = boot_pico(micropython, tmp_path, b"")
    assert rec["acks"] >= 9  # the stand-in chip acknowledged each byte of the first screen (data, address + 6, control)
    assert tm1637_text(rec, board_setting("PINS"))[0].isdigit()


def test_a_missing_display_shows_in_hello_and_the_token_keeps_answering(micropython, tmp_path):
    seed_store(micropython, tmp_path, STARTS["seeded"])
    stdin = b"".join(frame(b).encode() + b"\n" for b in ("1 HELLO", "2 CODE"))
    replies, rec = boot_pico(micropython, tmp_path, stdin, "--no-display")
    assert replies[0].endswith("state=seeded clock=ok time=1767225612 display=missing battery=4.75")
    assert replies[1] == "2 OK code=745690 step=58907520 left=18"
    assert rec["acks"] == 0


def test_low_cells_show_batt_for_a_second_before_the_code(micropython, tmp_path):
    pins = board_setting("PINS")
    seed_store(micropython, tmp_path, STARTS["locked"])
    replies, rec = boot_pico(micropython, tmp_path, frame("1 HELLO").encode() + b"\n", "--battery", "--vsys=2.1")
    assert replies[0].endswith(" display=ok battery=2.10")
    assert tm1637_text(rec, pins)[:2] == ("bAtt  ", 0)  # the first thing the press shows (test_app: then the code)


def test_cells_above_the_threshold_show_the_code_at_once(micropython, tmp_path):
    seed_store(micropython, tmp_path, STARTS["locked"])
    _, rec = boot_pico(micropython, tmp_path, b"", "--battery", "--vsys=2.6")
    assert tm1637_text(rec, board_setting("PINS"))[0] == pyotp.TOTP(STARTS["locked"]["secret_b32"]).at(T)


def test_a_locked_token_runs_under_the_watchdog_and_each_pass_feeds_it(micropython, tmp_path):
    seed_store(micropython, tmp_path, STARTS["locked"])
    _, rec = boot_pico(micropython, tmp_path, b"")
    assert rec["wdt"][0] == ["new", board_setting("WATCHDOG_MS")]
    assert 8000 <= board_setting("WATCHDOG_MS") <= 8388  # about 8 s, the RP2040's longest
    assert rec["wdt"].count("feed") >= 20  # at least once per pass of the loop


def test_a_blank_token_starts_no_watchdog_so_mpremote_can_work(micropython, tmp_path):
    _, rec = boot_pico(micropython, tmp_path, b"")
    assert rec["wdt"] == []


def test_looking_at_the_serial_line_allocates_nothing(micropython, tmp_path):
    env = dict(os.environ, MICROPYPATH=f"{MP_DIR / 'rp2'}:{DEVICE_PATH[0]}:{MP_DIR}:.frozen")
    proc = subprocess.Popen(  # the serial line stays open and quiet, as a host that sends nothing
        [micropython.executable, "-X", "heapsize=512k", str(MP_DIR / "pico_runner.py"), "--alloc"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        err = proc.stderr.read()  # the runner writes its record there, then exits
    finally:
        proc.stdin.close()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    assert json.loads(err)["pauses"] == [0]  # select.ipoll: no list per poll, so no garbage in every pass
