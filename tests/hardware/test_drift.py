"""Clock drift: the DS3231's ppm in seconds and steps, against the verifier's own windows."""

from __future__ import annotations

import pytest

from hardware import docblock, drift
from verifier.settings import Settings


def test_two_ppm_is_about_a_minute_a_year():
    assert drift.drift_seconds(2.0, 365.25) == pytest.approx(2e-6 * 365.25 * 86400)
    assert 63 < drift.drift_seconds(2.0, 365.25) < 63.2


def test_days_until_a_step_at_two_ppm():
    assert drift.days_until(30, 2.0) == pytest.approx(30 / (2e-6 * 86400))
    with pytest.raises(ValueError):
        drift.days_until(30, 0)


def test_windows_are_the_verifiers_defaults():
    windows = drift.verifier_windows()
    assert (windows.window, windows.resync_window) == (Settings().window, Settings().resync_window)


def test_guide_drift_block_is_current():
    block = docblock.read_block(docblock.GUIDE.read_text(encoding="utf-8"), "drift")
    assert block == drift.render(drift.verifier_windows()), "docs/hardware.md is stale: run `make battery`"
    assert "±63.1" in block
