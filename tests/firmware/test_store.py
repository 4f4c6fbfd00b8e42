"""The store survives a power cut at any instant: old state or new, never a mix; damage shows as corrupt."""

from __future__ import annotations

import json

import pytest

from tests.firmware.helpers import DEVICE_PATH, MP_DIR


@pytest.fixture(scope="module")
def campaign(micropython, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("flash")
    out = micropython.run(script=MP_DIR / "store_runner.py", args=[str(scratch)], path=DEVICE_PATH, heapsize="16m")
    lines = [json.loads(line) for line in out.stdout.decode().splitlines()]
    return {rec["scenario"]: rec for rec in lines[:-2]}, lines[-1], lines[-2]["failed_wipe"]


@pytest.mark.micropython
@pytest.mark.parametrize("scenario", ["blank+seed", "seeded+lock", "locked+wipe", "seeded+wipe"])
def test_a_power_cut_at_every_step_of_a_write_leaves_the_old_state_or_the_new(campaign, scenario):
    rec = campaign[0][scenario]
    old, new, results = rec["old"], rec["new"], rec["results"]
    assert old != new
    # a cut at every byte written to the new file, then before the rename; the last run completes
    assert len(results) > 30
    assert all(found in (old, new) for found in results), [r for r in results if r not in (old, new)]
    assert results[0] == old
    assert results[-1] == new
    # once the rename happened the new state stays; before it, the old one
    first_new = results.index(new)
    assert all(found == old for found in results[:first_new])
    assert all(found == new for found in results[first_new:])


@pytest.mark.micropython
def test_wipe_leaves_no_secret_in_the_new_state(campaign):
    new = campaign[0]["locked+wipe"]["new"]
    assert new[:3] == ["blank", "", ""]


@pytest.mark.micropython
def test_a_store_file_truncated_at_any_byte_is_reported_corrupt_never_blank(campaign):
    trunc = campaign[1]
    record = trunc["record"]  # the record line; the rest pads the file to a data block of its own (store.PAD)
    assert record > 40 and trunc["length"] == 1024
    found = trunc["found"]
    assert len(found) == trunc["length"] + 1
    assert found[:record] == ["corrupt"] * record
    assert found[record:] == ["locked"] * (trunc["length"] + 1 - record)  # the padding carries nothing


@pytest.mark.micropython
def test_a_wipe_whose_write_fails_keeps_the_token_whole_in_ram(campaign):
    # the secret stays on flash, so the running token must keep using it, not an emptied copy
    for ok, held in campaign[2]:
        assert ok is False
        assert held == ["locked", "JT-000042", "3132333435363738393031323334353637383930", "sha1", 6, 30]
