"""The battery budget: known inputs give the lives computed here by hand, and the guide shows the current budget."""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil
import subprocess
import sys

import pytest

from hardware import battery, bom, docblock, latch
from hardware import figures as figures_module
from tests.support import ROOT


def figures() -> dict[str, float]:
    """hardware/figures.csv read directly, not through hardware.battery."""
    with (ROOT / "hardware" / "figures.csv").open(newline="", encoding="utf-8") as handle:
        return {row["key"]: float(row["value"]) for row in csv.DictReader(handle)}


def test_every_figure_is_cited_with_a_kind():
    with (ROOT / "hardware" / "figures.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        assert row["source"].strip(), f"{row['key']} has no source"
        assert row["kind"] in ("datasheet", "measurement (third party)", "measurement (this project)", "design value",
                               "estimate"), row["key"]


def test_life_of_a_known_battery():
    assert battery.life_years(1000, 0.0, 1.0) == pytest.approx(1000 / 365.25)
    assert battery.life_years(1000, 0.03, 1.0) == pytest.approx(1000 / (365.25 + 30))
    assert battery.life_years(225, 0.01, 0.0, shelf_years=10) == 10


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        battery.life_years(0, 0.0, 1.0)
    with pytest.raises(ValueError, match="awake time"):
        battery.token_life_years(battery.AA2, battery.firmware_profile(wakeups_per_s=4.0), 0, 10)
    with pytest.raises(ValueError, match="outside the measured"):
        battery.pico_current_ma(2.5, 200)
    with pytest.raises(ValueError, match="duty"):
        battery.display_current_ma(2.5, 1.0)


def firmware_setting(name: str):
    tree = ast.parse((ROOT / "token_firmware" / "device" / "board_pico.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"no {name} in the board file")


def by_hand(f: dict[str, float], capacity: float, awake_s: float, presses: int, busy_share: float | None) -> tuple:
    """(mean awake current in mA, years) for 2 alkaline cells, recomputed from figures.csv and the board file.

    ``busy_share`` None: the CPU never sleeps.
    """
    # TM1637 datasheet, display control: level 0..7 -> 1, 2, 4, 10, 11, 12, 13, 14 sixteenths.
    duty = {0: 1, 1: 2, 2: 4, 3: 10, 4: 11, 5: 12, 6: 13, 7: 14}[firmware_setting("BRIGHTNESS")] / 16
    vsys = f["alkaline_pack_mid_v"] - f["schottky_drop_v"]
    share = (vsys - 2.0) / (3.0 - 2.0)
    busy = f["pico_125mhz_2v0"] + (f["pico_125mhz_3v0"] - f["pico_125mhz_2v0"]) * share
    asleep = f["pico_lightsleep_mw"] / vsys
    through_regulator = f["rail_3v3"] / (vsys * f["buck_boost_efficiency"])
    display = f["segments_per_digit"] * f["segment_peak_ma"] * duty * through_regulator
    clock = f["ds3231_vcc_ua"] / 1000 * through_regulator
    latch_ma = f["alkaline_pack_mid_v"] / f["r1_ohm"] * 1000
    led = f["pico_led_ma"] * through_regulator if firmware_setting("LED_WHILE_HELD") else 0.0
    rest = display + clock + latch_ma + led
    cpu = busy if busy_share is None else busy_share * busy + (1 - busy_share) * asleep
    mas = f["pico_boot_s"] * (busy + rest) + awake_s * (cpu + rest)
    per_day = presses * mas / 3600 + 24 * (f["q1_leak_ua"] + f["d3_leak_ua"]) / 1000
    years = capacity / (365.25 * per_day + capacity * f["alkaline_self_discharge"])
    return mas / (awake_s + f["pico_boot_s"]), years


def test_firmware_profile_at_ten_presses_computed_by_hand():
    f = figures()
    # 4 wake-ups a second at rp2040_wake_ms each: the CPU runs that share of the awake time, lightsleeps the rest
    profile = battery.firmware_profile(wakeups_per_s=4.0)
    current, years = by_hand(f, f["aa_capacity_mah"], 12, 10, 4.0 * f["rp2040_wake_ms"] / 1000)
    assert battery.awake_current_ma(battery.AA2, profile, 12) == pytest.approx(current)
    assert battery.token_life_years(battery.AA2, profile, 12, 10) == pytest.approx(years)
    current, years = by_hand(f, f["aaa_capacity_mah"], 12, 10, 4.0 * f["rp2040_wake_ms"] / 1000)
    assert battery.token_life_years(battery.AAA2, profile, 12, 10) == pytest.approx(years)


def test_a_cpu_that_never_sleeps_computed_by_hand():
    f = figures()
    current, years = by_hand(f, f["aaa_capacity_mah"], 12, 10, None)
    profile = battery.busy_profile()
    assert battery.awake_current_ma(battery.AAA2, profile, 12) == pytest.approx(current)
    assert battery.token_life_years(battery.AAA2, profile, 12, 10) == pytest.approx(years)


def test_the_firmware_profile_follows_the_board_file():
    profile = battery.firmware_profile(wakeups_per_s=4.0)
    assert profile.display_duty == (1, 2, 4, 10, 11, 12, 13, 14)[firmware_setting("BRIGHTNESS")] / 16
    assert profile.led is firmware_setting("LED_WHILE_HELD")
    assert f"LED {'on' if profile.led else 'off'}" in profile.name


def test_a_board_file_without_brightness_is_refused(tmp_path):
    board = tmp_path / "board_pico.py"
    board.write_text("PINS = {}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no module-level BRIGHTNESS"):
        battery.firmware_profile(board, 4.0)
    board.write_text("BRIGHTNESS = 9\n", encoding="utf-8")
    with pytest.raises(ValueError, match="level 0..7"):
        battery.firmware_profile(board, 4.0)
    board.write_text("BRIGHTNESS = 0\nLED_WHILE_HELD = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="True or False"):
        battery.firmware_profile(board, 4.0)


def test_lightsleep_profile_uses_the_sleeping_power():
    f = figures()
    vsys = f["alkaline_pack_mid_v"] - f["schottky_drop_v"]
    assert battery.pico_current_ma(vsys, None) == pytest.approx(f["pico_lightsleep_mw"] / vsys)


def test_more_presses_never_last_longer():
    profile = battery.firmware_profile(wakeups_per_s=4.0)
    lives = [battery.token_life_years(battery.AAA2, profile, 15, n) for n in (1, 10, 50)]
    assert lives[0] > lives[1] > lives[2]


def test_sleeping_between_updates_lasts_longer_than_busy_waiting():
    sleeping = battery.token_life_years(battery.AA2, battery.firmware_profile(wakeups_per_s=4.0), 10, 10)
    assert sleeping > 2 * battery.token_life_years(battery.AA2, battery.busy_profile(), 10, 10)


def test_longest_awake_time_meeting_the_goal_gives_exactly_five_years():
    for supply in (battery.AAA2, battery.AA2):
        for profile in (battery.firmware_profile(wakeups_per_s=4.0), battery.busy_profile()):
            limit = battery.max_awake_s_for_goal(supply, profile)
            years = battery.token_life_years(supply, profile, limit, battery.GOAL_PRESSES)
            assert years == pytest.approx(battery.GOAL_YEARS)


def test_the_bom_battery_is_the_reference_and_meets_the_goal_with_the_measured_firmware():
    cells = next(line for line in bom.load() if line.reference == "BT1a")
    holder = next(line for line in bom.load() if line.reference == "BT1")
    assert battery.REFERENCE is battery.AA2
    assert "AA (LR6)" in cells.part and cells.quantity == 2 and "2 x AA," in holder.part
    awake_s, _ = battery.awake_time()
    profile = battery.firmware_profile()  # the board file and the benchmark's wake-ups
    assert battery.token_life_years(battery.REFERENCE, profile, awake_s, battery.GOAL_PRESSES) >= battery.GOAL_YEARS
    # and two AAA cells honestly do not: the guide says so
    assert battery.token_life_years(battery.AAA2, profile, awake_s, battery.GOAL_PRESSES) < battery.GOAL_YEARS


def test_rtc_cell_alone_computed_by_hand():
    f = figures()
    worst = f["cr2032_capacity_mah"] / (24 * f["ds3231_ibatt_max_ua"] / 1000 * 365.25
                                        + f["cr2032_capacity_mah"] * f["cr2032_self_discharge"])
    assert battery.rtc_cell_years(f["ds3231_ibatt_max_ua"]) == pytest.approx(worst)
    assert battery.rtc_cell_years(f["ds3231_ibatt_typ_ua"]) == f["cr2032_shelf_years"]


def test_coin_cell_as_main_supply_is_called_unusable():
    block = battery.render(10.0, "test")
    coin_rows = [line for line in block.splitlines() if line.startswith("| CR2032")]
    assert coin_rows and all("not usable" in line for line in coin_rows)


def test_latch_resistor_in_the_figures_is_the_bom_one():
    r1 = next(line for line in bom.load() if line.reference == "R1")
    assert latch.part_value(r1.part) == figures()["r1_ohm"]


def write_bench(path, figures_list):
    path.write_text(json.dumps({"benchmark": "bench_firmware", "when": "2026-11-28T00:00:00+00:00",
                                "figures": figures_list}), encoding="utf-8")


def test_awake_time_comes_from_the_firmware_benchmark(tmp_path):
    bench = tmp_path / "bench_firmware.json"
    write_bench(bench, [{"name": "Time to compute a code", "value": 0.01, "unit": "s"},
                        {"name": "Awake time per press", "value": 7.4321, "unit": "s"}])
    seconds, source = battery.awake_time(None, bench)
    assert seconds == 7.43
    assert "Awake time per press" in source and "bench_firmware.json" in source


def test_wakeups_come_from_the_firmware_benchmark(tmp_path):
    bench = tmp_path / "bench_firmware.json"
    write_bench(bench, [{"name": "Awake time per press", "value": 10.0, "unit": "s"},
                        {"name": "Wake-ups per press", "value": 40.004, "unit": "count"}])
    count, source = battery.wakeups(bench)
    assert count == 40.0 and "Wake-ups per press" in source
    assert battery.wakeup_rate(bench) == pytest.approx(4.0)
    write_bench(bench, [{"name": "Wake-ups per press", "value": 40, "unit": "s"}])
    with pytest.raises(ValueError, match="expected 'count'"):
        battery.wakeups(bench)
    assert battery.wakeups(tmp_path / "absent.json") == (battery.FALLBACK_WAKEUPS, battery.FALLBACK_WAKEUPS_NOTE)


def test_awake_time_in_the_wrong_unit_is_refused(tmp_path):
    bench = tmp_path / "bench_firmware.json"
    write_bench(bench, [{"name": "Awake time per press", "value": 7400, "unit": "ms"}])
    with pytest.raises(ValueError, match="expected 's'"):
        battery.awake_time(None, bench)


def test_without_the_benchmark_the_documented_fallback_is_used(tmp_path):
    seconds, source = battery.awake_time(None, tmp_path / "absent.json")
    assert seconds == battery.FALLBACK_AWAKE_S and source == battery.FALLBACK_NOTE


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "hardware.battery", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_cli_writes_the_guide_block_and_the_plot(tmp_path):
    guide, png = tmp_path / "hardware.md", tmp_path / "battery.png"
    shutil.copy(docblock.GUIDE, guide)
    proc = run_cli("--awake-s", "12", "--guide", str(guide), "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    block = docblock.read_block(guide.read_text(encoding="utf-8"), "battery")
    assert block.startswith("Awake time per press used: **12.00 s**, given on the command line.")
    assert block == battery.render(12.0, "given on the command line")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_refuses_a_negative_awake_time_and_changes_nothing(tmp_path):
    guide, png = tmp_path / "hardware.md", tmp_path / "battery.png"
    shutil.copy(docblock.GUIDE, guide)
    before = guide.read_bytes()
    proc = run_cli("--awake-s", "-3", "--guide", str(guide), "--plot", str(png))
    assert proc.returncode == 1
    assert proc.stderr.strip() == "hardware.battery: --awake-s must be positive"
    assert guide.read_bytes() == before and not png.exists()


def test_guide_shows_the_budget_for_the_awake_time_it_states():
    block = docblock.read_block(docblock.GUIDE.read_text(encoding="utf-8"), "battery")
    match = re.match(r"Awake time per press used: \*\*([0-9.]+) s\*\*, (.*)\.\n", block)
    assert match, "the battery block must start with the awake time used"
    seconds, source = float(match.group(1)), match.group(2)
    assert block == battery.render(seconds, source), "docs/hardware.md is stale: run `make battery`"
    if battery.awake_from_bench() is not None:
        assert "from benchmarks/results/bench_firmware.json" in source, "the benchmark exists: run `make battery`"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("q1_leak_ua,1,uA,,datasheet", "source and kind are all required"),
        ("q1_leak_ua,1,uA,DMG2305UX datasheet,hearsay", "kind must be one of"),
        ("q1_leak_ua,one,uA,DMG2305UX datasheet,datasheet", "is not a number"),
    ],
)
def test_an_uncited_or_malformed_figure_is_refused(tmp_path, row, message):
    path = tmp_path / "figures.csv"
    path.write_text("key,value,unit,source,kind\n" + row + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        figures_module.load_figures(path)


def test_the_verdicts_written_by_hand_quote_the_computed_lives():
    """The prose beside the generated block (the verdicts, the French summary) says the years the budget computes."""
    text = " ".join(docblock.GUIDE.read_text(encoding="utf-8").split())
    awake_s, _source = battery.awake_time()
    profile = battery.firmware_profile()
    aa = battery.token_life_years(battery.AA2, profile, awake_s, battery.GOAL_PRESSES)
    aaa = battery.token_life_years(battery.AAA2, profile, awake_s, battery.GOAL_PRESSES)
    assert f"about {aa:.1f} years at 10 presses a day" in text, "update the verdicts after `make battery`"
    assert f"about {aaa:.1f} years at 10 presses a day" in text, "update the verdicts after `make battery`"
    assert f"environ {aa:.1f} ans à 10 appuis par jour".replace(".", ",") in text, "update the Résumé"
    assert f"(environ {aaa:.1f} ans)".replace(".", ",") in text, "update the Résumé"
    assert f"up to about {battery.max_awake_s_for_goal(battery.AA2, profile):.0f} s awake per press" in text
    assert f"it would need {battery.max_awake_s_for_goal(battery.AAA2, profile):.1f} s or less per press" in text
