"""WIPE erases the secret from the flash itself, not only from the file system (issue 13, item 6).

littlefs writes each new version of a file to other blocks and leaves the old ones as they were, so the
secret of a wiped token could be read from its flash later (BOOTSEL dump). These tests run the firmware's
loop on MicroPython's own littlefs, on a RAM flash with a real flash's erase and program rules, formatted as
the rp2 port formats its flash, and look for the secret in the raw image.
"""

from __future__ import annotations

import json

import pytest

from tests.firmware.helpers import DEVICE_PATH, MP_DIR

pytestmark = pytest.mark.micropython


def wipe_on_littlefs(micropython, mode: str) -> dict:
    out = micropython.run(script=MP_DIR / "lfs_runner.py", args=[mode], path=DEVICE_PATH, heapsize="2m")
    return json.loads(out.stdout)


def test_without_the_scrub_the_old_secret_stays_readable_in_the_flash(micropython):
    rec = wipe_on_littlefs(micropython, "noscrub")  # what WIPE did before: replace the file
    assert rec["replies"][1].startswith("2 OK state=blank")
    assert rec["after"] == [False, True]  # the secret's hex, as the record held it, is still in the image


def test_after_wipe_the_secret_is_nowhere_in_the_flash_image(micropython):
    rec = wipe_on_littlefs(micropython, "scrub")
    assert rec["before"] == [False, True]  # the record holds the secret in hex; never in the clear
    assert rec["replies"][1].startswith("2 OK state=blank")
    assert rec["after"] == [False, False]
    assert rec["state"] == "blank" and rec["files"] == ["jeton.dat"]  # the filler and its marker are gone


def test_a_power_cut_before_the_scrub_finishes_it_at_the_next_boot(micropython):
    rec = wipe_on_littlefs(micropython, "cut")
    assert rec["replies"][1].startswith("2 OK state=blank")
    assert rec["after_cut"] == [False, True]  # cut: the old blocks are still there...
    assert rec["after"] == [False, False]  # ...until the next boot, which owes and runs the scrub
    assert rec["state"] == "blank" and rec["files"] == ["jeton.dat"]
