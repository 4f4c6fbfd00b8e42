"""Battery budget: how long the token lasts, from cited currents and the firmware's awake profile per press.

The model is deliberately small and every number in it is cited (hardware/figures.csv): a press wakes the token for
``awake_s`` seconds (the firmware benchmark's "Awake time per press"), plus the real Pico's boot (``pico_boot_s``,
CPU busy). While the code is shown the firmware lightsleeps between display updates; it wakes "Wake-ups per press"
times (the benchmark's other figure), each costing ``rp2040_wake_ms`` of CPU at 125 MHz; the display (the TM1637
keeps scanning on its own), the clock, the latch and the LED (when the board file lights it) draw all along.
Between presses the soft latch leaves only leakage. A cell also loses a fraction of its capacity every year on
its own (self-discharge).

    charge per press = boot x (I_busy + I_rest) + awake x (f x I_busy + (1 - f) x I_sleep + I_rest)
    f = wake-ups per awake second x rp2040_wake_ms (1 for a CPU that never sleeps)
    life_years = capacity / (365.25 * charge_per_day + capacity * self_discharge_per_year)

Run ``python -m hardware.battery`` (or ``make battery``) to print the budget, redraw hardware/battery.png
and rewrite the battery block of docs/hardware.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from hardware.docblock import GUIDE, HARDWARE, ROOT, write_block
from hardware.figures import BOARD_FILE, CITED, board_setting, cited

# TM1637 datasheet, display control command: brightness level 0..7 -> pulse width (duty) of the digits.
TM1637_DUTY_16THS = (1, 2, 4, 10, 11, 12, 13, 14)
BENCH_FILE = ROOT / "benchmarks" / "results" / "bench_firmware.json"
BENCH_FIGURE = "Awake time per press"
BENCH_WAKEUPS = "Wake-ups per press"
PLOT_FILE = HARDWARE / "battery.png"
GOAL_YEARS = 5.0
GOAL_PRESSES = 10
PRESSES = (1, 10, 50)
DAYS_PER_YEAR = 365.25
CPU_MHZ = 125.0  # MicroPython's default clock on the rp2 port; the firmware does not change it
# Used only while the firmware benchmark has not written its figures; the guide says which ones were used.
FALLBACK_AWAKE_S = 20.0
FALLBACK_NOTE = "fallback (no firmware benchmark yet): 1 s boot + a 19 s display, an assumption"
FALLBACK_WAKEUPS = 100.0
FALLBACK_WAKEUPS_NOTE = "fallback (no firmware benchmark yet): 100 wake-ups, an assumption"


@dataclass(frozen=True)
class Profile:
    """How the firmware runs the hardware while awake."""

    name: str
    display_duty: float  # TM1637 pulse width: 1/16, 2/16, 4/16, 10/16 ... 14/16
    led: bool = False  # the Pico's on-board LED lit while awake
    wakeups_per_s: float | None = None  # lightsleep between updates, woken this often; None: the CPU never sleeps

    def busy_share(self) -> float:
        """The share of the awake time (boot aside) the CPU runs at 125 MHz; the rest it lightsleeps."""
        if self.wakeups_per_s is None:
            return 1.0
        return min(1.0, self.wakeups_per_s * cited("rp2040_wake_ms") / 1000)


def firmware_profile(path: Path = BOARD_FILE, wakeups_per_s: float | None = None) -> Profile:
    """The firmware as configured: the board file's BRIGHTNESS and LED_WHILE_HELD, lightsleep between updates.

    ``wakeups_per_s`` defaults to the firmware benchmark's wake-ups per press over its awake time.
    """
    level = board_setting("BRIGHTNESS", path)
    if not isinstance(level, int) or not 0 <= level <= 7:
        raise ValueError(f"{path.name}: BRIGHTNESS must be a TM1637 level 0..7, got {level!r}")
    led = board_setting("LED_WHILE_HELD", path)
    if not isinstance(led, bool):
        raise ValueError(f"{path.name}: LED_WHILE_HELD must be True or False, got {led!r}")
    if wakeups_per_s is None:
        wakeups_per_s = wakeup_rate()
    sixteenths = TM1637_DUTY_16THS[level]
    return Profile(f"firmware as configured: lightsleep between updates, brightness level {level} ({sixteenths}/16),"
                   f" LED {'on' if led else 'off'}", sixteenths / 16, led, wakeups_per_s)


def busy_profile(path: Path = BOARD_FILE) -> Profile:
    """For comparison: the same display and LED, the CPU never sleeping (the firmware before lightsleep)."""
    fw = firmware_profile(path, wakeups_per_s=0.0)
    return Profile("for comparison, a CPU that never sleeps: 125 MHz busy, same display and LED",
                   fw.display_duty, fw.led, None)


@dataclass(frozen=True)
class Supply:
    """A main battery option."""

    name: str
    capacity_mah: float
    self_discharge: float  # fraction of capacity per year
    vsys: float  # planning voltage at the Pico's VSYS (after the Schottky)
    max_continuous_ma: float | None = None  # the cell's rating, when it has one that matters
    shelf_years: float | None = None


AAA2 = Supply("2 x AAA alkaline", cited("aaa_capacity_mah"), cited("alkaline_self_discharge"),
              cited("alkaline_pack_mid_v") - cited("schottky_drop_v"), shelf_years=cited("alkaline_shelf_years"))
CR2032 = Supply("CR2032 coin cell", cited("cr2032_capacity_mah"), cited("cr2032_self_discharge"),
                cited("cr2032_mid_v") - cited("schottky_drop_v"), cited("cr2032_max_continuous_ma"),
                cited("cr2032_shelf_years"))
AA2 = Supply("2 x AA alkaline (reference)", cited("aa_capacity_mah"), cited("alkaline_self_discharge"),
             cited("alkaline_pack_mid_v") - cited("schottky_drop_v"), shelf_years=cited("alkaline_shelf_years"))
SUPPLIES = (AA2, AAA2, CR2032)
REFERENCE = AA2  # the holder and cells of hardware/bom.csv (a test checks they agree)


def _lerp(x: float, x0: float, y0: float, x1: float, y1: float) -> float:
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def pico_current_ma(vsys: float, cpu_mhz: float | None) -> float:
    """Whole-Pico current at VSYS: the measured table, interpolated linearly in clock and in voltage.

    ``cpu_mhz=None`` is lightsleep: the measured sleeping power, drawn at ``vsys``.
    """
    if cpu_mhz is None:
        return cited("pico_lightsleep_mw") / vsys
    if not 10 <= cpu_mhz <= 125:
        raise ValueError(f"clock {cpu_mhz} MHz is outside the measured 10..125 MHz")
    if not 1.8 <= vsys <= 3.3:
        raise ValueError(f"VSYS {vsys} V is outside 1.8..3.3 V")
    at10 = _lerp(vsys, 2.0, cited("pico_10mhz_2v0"), 3.0, cited("pico_10mhz_3v0"))
    at125 = _lerp(vsys, 2.0, cited("pico_125mhz_2v0"), 3.0, cited("pico_125mhz_3v0"))
    return _lerp(cpu_mhz, 10.0, at10, 125.0, at125)


def display_current_ma(vsys: float, duty: float) -> float:
    """The display's average current as drawn from VSYS (it runs from the 3V3 rail)."""
    if not 0 < duty <= 14 / 16:
        raise ValueError(f"display duty {duty} is outside the TM1637's 1/16..14/16")
    on_3v3 = cited("segments_per_digit") * cited("segment_peak_ma") * duty
    return on_3v3 * cited("rail_3v3") / (vsys * cited("buck_boost_efficiency"))


def rest_current_ma(supply: Supply, profile: Profile) -> float:
    """Battery current while awake, the Pico aside: display, DS3231 on VCC, the latch's R1, the LED if lit."""
    through_regulator = cited("rail_3v3") / (supply.vsys * cited("buck_boost_efficiency"))  # 3V3 loads seen at VSYS
    clock = cited("ds3231_vcc_ua") / 1000 * through_regulator
    latch = (supply.vsys + cited("schottky_drop_v")) / cited("r1_ohm") * 1000
    led = cited("pico_led_ma") * through_regulator if profile.led else 0.0
    return display_current_ma(supply.vsys, profile.display_duty) + clock + latch + led


def _press_terms(supply: Supply, profile: Profile) -> tuple[float, float]:
    """(mAs per press whatever the awake time, mA per awake second): a press costs first + second x awake_s."""
    busy = pico_current_ma(supply.vsys, CPU_MHZ)
    rest = rest_current_ma(supply, profile)
    f = profile.busy_share()
    per_s = f * busy + (1 - f) * pico_current_ma(supply.vsys, None) + rest
    return cited("pico_boot_s") * (busy + rest), per_s


def press_charge_mah(supply: Supply, profile: Profile, awake_s: float) -> float:
    """Charge one press takes from the battery: the real Pico's boot, then ``awake_s`` showing the code."""
    fixed, per_s = _press_terms(supply, profile)
    return (fixed + per_s * awake_s) / 3600


def awake_current_ma(supply: Supply, profile: Profile, awake_s: float) -> float:
    """Mean battery current while the token is awake (boot included)."""
    return press_charge_mah(supply, profile, awake_s) * 3600 / (awake_s + cited("pico_boot_s"))


def off_current_ua() -> float:
    """Battery current between presses: leakage through the open soft latch."""
    return cited("q1_leak_ua") + cited("d3_leak_ua")


def life_years(capacity_mah: float, self_discharge: float, charge_mah_per_day: float,
               shelf_years: float | None = None) -> float:
    """Years until ``capacity_mah`` is spent by the daily charge and the yearly self-discharge."""
    if capacity_mah <= 0 or charge_mah_per_day < 0 or self_discharge < 0:
        raise ValueError("capacity must be positive, charge and self-discharge not negative")
    drain = DAYS_PER_YEAR * charge_mah_per_day + capacity_mah * self_discharge
    years = capacity_mah / drain if drain else float("inf")
    return min(years, shelf_years) if shelf_years else years


def charge_per_day_mah(supply: Supply, profile: Profile, awake_s: float, presses_per_day: float) -> float:
    return presses_per_day * press_charge_mah(supply, profile, awake_s) + 24 * off_current_ua() / 1000


def token_life_years(supply: Supply, profile: Profile, awake_s: float, presses_per_day: float) -> float:
    """Years a token lasts on ``supply`` at ``presses_per_day``."""
    if awake_s <= 0:
        raise ValueError("awake time per press must be positive")
    return life_years(supply.capacity_mah, supply.self_discharge,
                      charge_per_day_mah(supply, profile, awake_s, presses_per_day), supply.shelf_years)


def max_awake_s_for_goal(supply: Supply, profile: Profile) -> float:
    """The longest awake time per press that still gives GOAL_YEARS at GOAL_PRESSES presses a day."""
    budget_per_day = supply.capacity_mah * (1 / GOAL_YEARS - supply.self_discharge) / DAYS_PER_YEAR
    spare = budget_per_day - 24 * off_current_ua() / 1000
    fixed, per_s = _press_terms(supply, profile)
    return max(0.0, (spare / GOAL_PRESSES * 3600 - fixed) / per_s)


def rtc_cell_years(ibatt_ua: float) -> float:
    """Years the DS3231's own CR2032 keeps time (the token is off nearly all the time)."""
    return life_years(cited("cr2032_capacity_mah"), cited("cr2032_self_discharge"), 24 * ibatt_ua / 1000,
                      cited("cr2032_shelf_years"))


def _bench_figure(path: Path, name: str, unit: str) -> tuple[float, str] | None:
    """(value, description) of one figure of the firmware benchmark, or None if not measured yet."""
    if not path.exists():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    for figure in record.get("figures", []):
        if figure.get("name") == name:
            if figure.get("unit") != unit:
                raise ValueError(f"{path.name}: '{name}' is in {figure.get('unit')!r}, expected {unit!r}")
            value = round(float(figure["value"]), 2)  # hundredths: the guide prints what was used
            if value <= 0:
                raise ValueError(f"{path.name}: '{name}' must be positive, got {figure['value']}")
            return value, f"'{name}' from benchmarks/results/{path.name} ({record.get('when', 'undated')})"
    return None


def awake_from_bench(path: Path = BENCH_FILE) -> tuple[float, str] | None:
    """(seconds, description) of the firmware benchmark's awake time per press, or None if not measured yet."""
    return _bench_figure(path, BENCH_FIGURE, "s")


def awake_time(override: float | None = None, path: Path = BENCH_FILE) -> tuple[float, str]:
    """The awake time to use and where it comes from: an explicit value, the benchmark, or the fallback."""
    if override is not None:
        return round(override, 2), "given on the command line"
    found = awake_from_bench(path)
    return found if found is not None else (FALLBACK_AWAKE_S, FALLBACK_NOTE)


def wakeups(path: Path = BENCH_FILE) -> tuple[float, str]:
    """Wake-ups per press and where they come from: the firmware benchmark, or the fallback."""
    found = _bench_figure(path, BENCH_WAKEUPS, "count")
    return found if found is not None else (FALLBACK_WAKEUPS, FALLBACK_WAKEUPS_NOTE)


def wakeup_rate(path: Path = BENCH_FILE) -> float:
    """Wake-ups per awake second, both from the same benchmark run (or both fallbacks)."""
    return wakeups(path)[0] / awake_time(None, path)[0]


def _years(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def render(awake_s: float, source: str, wake: tuple[float, str] | None = None) -> str:
    """The battery block of docs/hardware.md, in Markdown; ``wake``: (wake-ups per press, where from)."""
    count, wake_source = wake if wake is not None else wakeups()
    fw = firmware_profile(wakeups_per_s=count / awake_s)
    f = fw.busy_share()
    lines = [
        f"Awake time per press used: **{awake_s:.2f} s**, {source}.",
        f"Wake-ups per press used: **{count:.2f}**, {wake_source}: at {cited('rp2040_wake_ms'):g} ms of CPU each, "
        f"the CPU runs {f * 100:.1f} % of the awake time and lightsleeps the rest (plus the "
        f"{cited('pico_boot_s'):g} s boot, busy).",
        "",
        "| supply | firmware profile | awake current (mA) | 1 press/day (years) | 10 presses/day (years)"
        " | 50 presses/day (years) | goal: 5 years at 10/day | longest awake time meeting the goal (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for supply in SUPPLIES:
        for profile in (fw, busy_profile()):
            current = awake_current_ma(supply, profile, awake_s)
            years = [token_life_years(supply, profile, awake_s, n) for n in PRESSES]
            goal = years[PRESSES.index(GOAL_PRESSES)] >= GOAL_YEARS
            verdict = "meets it" if goal else "misses it"
            if supply.max_continuous_ma is not None and current > supply.max_continuous_ma:
                verdict = f"not usable: {current:.0f} mA exceeds the cell's {supply.max_continuous_ma:g} mA rating"
            lines.append(
                f"| {supply.name} | {profile.name} | {current:.1f} | "
                + " | ".join(_years(y) for y in years)
                + f" | {verdict} | {max_awake_s_for_goal(supply, profile):.1f} |"
            )
    typ, worst = rtc_cell_years(cited("ds3231_ibatt_typ_ua")), rtc_cell_years(cited("ds3231_ibatt_max_ua"))
    lines += [
        "",
        f"DS3231 coin cell on its own (CR2032, timekeeping only, presses do not touch it): "
        f"**{_years(typ)} years** at the typical {cited('ds3231_ibatt_typ_ua')} uA (capped by the cell's "
        f"{cited('cr2032_shelf_years'):g}-year shelf life), **{_years(worst)} years** at the datasheet maximum "
        f"{cited('ds3231_ibatt_max_ua')} uA: {'meets' if worst >= GOAL_YEARS else 'misses'} the 5-year goal "
        "even in the worst case.",
        f"Between presses the main battery only feeds leakage: {off_current_ua():.3f} uA "
        f"({24 * off_current_ua() / 1000 * DAYS_PER_YEAR:.1f} mAh a year).",
        "",
        "Figures used (hardware/figures.csv):",
        "",
        "| figure | value | source | kind |",
        "| --- | ---: | --- | --- |",
    ]
    lines += [f"| {key} | {c.value:g} {c.unit} | {c.source} | {c.kind} |" for key, c in CITED.items()]
    return "\n".join(lines)


def plot(awake_s: float, path: Path = PLOT_FILE, wakeups_per_press: float | None = None) -> Path:
    """Years against presses a day, one line per supply and profile, with the goal marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    presses = [1 + i * 0.5 for i in range(0, 199)]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    count = wakeups_per_press if wakeups_per_press is not None else wakeups()[0]
    fw = firmware_profile(wakeups_per_s=count / awake_s)
    for supply, style in ((AA2, "-"), (AAA2, "-."), (CR2032, ":")):
        for profile, colour in zip((fw, busy_profile()), ("tab:blue", "tab:red"), strict=True):
            ys = [token_life_years(supply, profile, awake_s, n) for n in presses]
            ax.plot(presses, ys, style, color=colour, label=f"{supply.name}, {profile.name}")
    for ua, colour in ((cited("ds3231_ibatt_typ_ua"), "tab:green"), (cited("ds3231_ibatt_max_ua"), "tab:olive")):
        ax.axhline(rtc_cell_years(ua), color=colour, linestyle="--", label=f"DS3231 cell alone, {ua} uA")
    ax.axhline(GOAL_YEARS, color="black", linewidth=0.8)
    ax.axvline(GOAL_PRESSES, color="black", linewidth=0.8)
    ax.annotate("goal: 5 years at 10 presses/day", (GOAL_PRESSES, GOAL_YEARS), xytext=(12, 6),
                textcoords="offset points", fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("presses per day")
    ax.set_ylabel("years")
    ax.set_title(f"Jeton battery life, {awake_s:.1f} s awake per press")
    ax.grid(True, which="both", linewidth=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware.battery", description=__doc__.splitlines()[0])
    parser.add_argument("--awake-s", type=float, help="awake seconds per press (default: the firmware benchmark)")
    parser.add_argument("--bench", type=Path, default=BENCH_FILE, help="the firmware benchmark's results file")
    parser.add_argument("--guide", type=Path, default=GUIDE, help="the guide whose battery block is rewritten")
    parser.add_argument("--plot", type=Path, default=PLOT_FILE, help="where to draw the PNG")
    parser.add_argument("--no-write", action="store_true", help="print only; change no file")
    args = parser.parse_args(argv)
    try:
        if args.awake_s is not None and args.awake_s <= 0:
            raise ValueError("--awake-s must be positive")
        awake_s, source = awake_time(args.awake_s, args.bench)
        wake = wakeups(args.bench)
        block = render(awake_s, source, wake)
        if not args.no_write:
            plot(awake_s, args.plot, wake[0])
            write_block("battery", block, args.guide)
    except (ValueError, OSError) as exc:
        print(f"hardware.battery: {exc}", file=sys.stderr)
        return 1
    print(block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
