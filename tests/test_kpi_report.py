"""KPIs, daily summary, plots and the HTML report of a simulated run (hpdsl/sim/kpi.py, report.py).

The trends here are built by hand with numpy so that every KPI has a value that can be worked
out on paper: three days at one-minute steps with a known number of defrosts, mode switches
and aux on-times, and constant powers, so that the COP is an exact ratio.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.image
import numpy as np
import numpy.typing as npt
import pytest

from hpdsl.sim import kpi, report
from hpdsl.sim.trend import Column, Trend

MINUTES_PER_DAY = 1440
START = np.datetime64("2024-03-01T00:00", "ms")


def stamps(count: int, step_s: float = 60.0, start: np.datetime64 = START) -> npt.NDArray[np.datetime64]:
    return start + np.arange(count) * np.timedelta64(int(step_s * 1000), "ms")


def add_real(trend: Trend, name: str, values: npt.ArrayLike, unit: str, role: str = "plant") -> None:
    trend.add(Column(name, "real", unit, np.asarray(values, dtype=np.float64), role))  # type: ignore[arg-type]


def add_flag(trend: Trend, name: str, values: npt.ArrayLike, role: str = "plant") -> None:
    trend.add(Column(name, "bool", "", np.asarray(values, dtype=bool), role))  # type: ignore[arg-type]


def on_rows(count: int, *spans: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """A flag that is on for rows begin .. end - 1 of each span."""
    flag = np.zeros(count, dtype=bool)
    for begin, end in spans:
        flag[begin:end] = True
    return flag


# The three-day trend and what its KPIs must be. Row r is minute r of the run.
N = 3 * MINUTES_PER_DAY
DAY1, DAY2 = MINUTES_PER_DAY, 2 * MINUTES_PER_DAY
# Day 2 hunts: Cooling at noon, back to Heating at 13:00, Cooling again at 14:00 (3 switches).
COOLING_ROWS = on_rows(N, (DAY2 + 720, DAY2 + 780), (DAY2 + 840, N))
# Three defrosts of 10 minutes on day 0; one on day 1 and one that starts at 23:50 on day 1
# and runs into day 2: it counts on day 1, where it began.
DEFROST_ROWS = on_rows(
    N, (100, 110), (300, 310), (500, 510), (DAY1 + 200, DAY1 + 210), (DAY2 - 10, DAY2 + 10)
)
AUX_STAGE_1 = on_rows(N, (0, 120), (DAY1 + 600, DAY1 + 630))
AUX_STAGE_2 = on_rows(N, (60, 180))
BACKUP_ROWS = on_rows(N, (0, 30))
HEAT_KW, DEFROST_KW, COOLING_KW = 6.0, -2.0, -4.0
HEATING_POWER_KW, COOLING_POWER_KW = 2.0, 1.6


def three_days() -> Trend:
    trend = Trend(stamps(N))
    minute = np.arange(N) % MINUTES_PER_DAY
    outdoor = np.empty(N)
    outdoor[:DAY1] = np.where(minute[:DAY1] < 720, -10.0, 0.0)
    outdoor[DAY1:DAY2] = 5.0
    outdoor[DAY2:] = np.where(minute[DAY2:] < 720, 20.0, 10.0)
    add_real(trend, kpi.OUTDOOR_TEMP, outdoor, "C", "weather")
    add_real(trend, kpi.CONTROLLER_OUTDOOR_TEMP, outdoor, "C", "input")
    indoor = np.full(N, 21.0)
    indoor[0:60] = 18.0  # an hour 2 K below the band
    indoor[DAY2 + 600 : DAY2 + 630] = 26.0  # half an hour 1 K above it
    add_real(trend, kpi.INDOOR_TEMP, indoor, "C")
    add_real(trend, kpi.COMFORT_LOW, np.full(N, 20.0), "C")
    add_real(trend, kpi.COMFORT_HIGH, np.full(N, 25.0), "C")
    add_real(trend, "Occupancy.heating_setpoint", np.full(N, 21.0), "C", "output")
    trend.add(
        Column(kpi.SYSTEM_MODE, "enum", "", COOLING_ROWS.astype(np.int64), "output", ("Heating", "Cooling"))
    )
    add_flag(trend, kpi.DEFROST_ACTIVE, DEFROST_ROWS, "output")
    add_flag(trend, kpi.COMPRESSOR_ON, minute % 60 < 45)  # 45 minutes of every hour, from 00:00
    hp_heat = np.where(COOLING_ROWS, COOLING_KW, np.where(DEFROST_ROWS, DEFROST_KW, HEAT_KW))
    add_real(trend, kpi.HP_HEAT, hp_heat, "kW")
    add_real(trend, kpi.HP_POWER, np.where(COOLING_ROWS, COOLING_POWER_KW, HEATING_POWER_KW), "kW")
    add_flag(trend, kpi.AUX_STAGES[0], AUX_STAGE_1, "output")
    add_flag(trend, kpi.AUX_STAGES[1], AUX_STAGE_2, "output")
    add_flag(trend, "AuxHeat.backup_heat_enable", BACKUP_ROWS, "output")
    add_real(trend, kpi.AUX_HEAT, 5.0 * AUX_STAGE_1 + 5.0 * AUX_STAGE_2, "kW")
    add_real(trend, kpi.BACKUP_HEAT, 8.0 * BACKUP_ROWS, "kW")
    add_real(trend, "plant.coil_temp", outdoor - 6.0, "C")
    add_real(trend, "plant.frost", np.where(DEFROST_ROWS, 0.0, (np.arange(N) % 200) / 400.0), "kg")
    # Alarms: one raised twice (10 + 5 minutes), one on from the first row (raised by the first scan).
    add_flag(trend, "Alarms.high_pressure", on_rows(N, (10, 20), (1000, 1005)), "alarm")
    add_flag(trend, "Alarms.low_flow", on_rows(N, (0, 2)), "alarm")
    add_flag(trend, "Alarms.never", np.zeros(N, dtype=bool), "alarm")
    return trend


def values_by_key(kpis: list[kpi.Kpi]) -> dict[str, float]:
    return {item.key: item.value for item in kpis}


def notes_by_key(kpis: list[kpi.Kpi]) -> dict[str, str]:
    return {item.key: item.note for item in kpis}


# ---------------------------------------------------------------------------------------------
# KPIs, worked out by hand


def test_kpis_of_three_days_are_exact() -> None:
    heating_rows = N - int(COOLING_ROWS.sum())  # 3660: every defrost falls in Heating mode
    assert heating_rows == 3660 and not np.any(DEFROST_ROWS & COOLING_ROWS)
    hp_heat = ((heating_rows - 60) * HEAT_KW + 60 * DEFROST_KW) / 60.0  # kWh; 60 defrost minutes
    heating_electricity = heating_rows * HEATING_POWER_KW / 60.0
    cooling = 660 * -COOLING_KW / 60.0
    cooling_electricity = 660 * COOLING_POWER_KW / 60.0
    aux = (120 + 120 + 30) * 5.0 / 60.0  # stage 1: 2 h + 0.5 h, stage 2: 2 h, 5 kW each
    backup = 30 * 8.0 / 60.0
    expected = {
        "cop_heating": hp_heat / heating_electricity,
        "cop_heating_system": (hp_heat + aux) / (heating_electricity + aux),
        "eer_cooling": 2.5,
        "hp_heat_share": 100.0 * hp_heat / (hp_heat + aux + backup),
        "compressor_hours_per_day": 18.0,
        "compressor_hours_max_day": 18.0,
        "compressor_starts_per_day": 24.0,
        "compressor_starts_max_day": 24.0,
        "aux_hours_per_day": (3.0 + 0.5) / 3.0,  # day 0: 00:00-03:00 with a stage on, day 1: 30 min
        "aux_hours_max_day": 3.0,
        "defrosts_per_day": 5.0 / 3.0,
        "defrosts_max_day": 3.0,
        "mode_switches_per_day": 1.0,
        "mode_switches_max_day": 3.0,
        "comfort_hours_outside": 1.5,
        "comfort_hours_below": 1.0,
        "comfort_hours_above": 0.5,
        "comfort_kelvin_hours": 2.0 * 1.0 + 1.0 * 0.5,
        "peak_aux_power": 10.0,
        "peak_backup_power": 8.0,
        "peak_electric_power": HEATING_POWER_KW + 10.0,
        "energy_hp_heat": hp_heat,
        "energy_environment": hp_heat - heating_electricity,
        "energy_hp_cooling": cooling,
        "energy_aux": aux,
        "energy_backup": backup,
        "energy_hp_electricity": heating_electricity + cooling_electricity,
        "energy_electricity": heating_electricity + cooling_electricity + aux,
        "alarms_raised": 3.0,
        "alarm_hours": 17.0 / 60.0,
    }
    assert hp_heat == 358.0 and heating_electricity == 122.0
    values = values_by_key(kpi.compute(three_days()))
    for key, value in expected.items():
        assert values[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
    # The plant has no water-loop boiler: that KPI is kept, without a value, and says why.
    assert math.isnan(values["energy_loop_boiler"])
    assert set(values) == set(expected) | {"energy_loop_boiler"}


def test_kpis_come_in_the_order_of_the_definitions_with_titles_and_units() -> None:
    kpis = kpi.compute(three_days())
    assert [item.key for item in kpis] == [definition.key for definition in kpi.DEFINITIONS]
    assert len({item.key for item in kpis}) == len(kpis)
    units = {item.key: item.unit for item in kpis}
    assert units["cop_heating"] == "" and units["energy_aux"] == "kWh" and units["defrosts_per_day"] == "1/d"
    assert all(item.title and item.note for item in kpis)
    assert set(kpi.SECTION_OF) == {item.key for item in kpis}


def test_a_missing_column_leaves_its_kpis_out_with_a_note() -> None:
    notes = notes_by_key(kpi.compute(three_days()))
    assert notes["energy_loop_boiler"] == "Not computed: the run has no `plant.loop_boiler_heat` column."


def test_ground_source_run_without_frost_defrost_mode_or_aux() -> None:
    full = three_days()
    trend = Trend(full.time)
    for name in (kpi.OUTDOOR_TEMP, kpi.INDOOR_TEMP, kpi.HP_HEAT, kpi.HP_POWER, kpi.COMPRESSOR_ON):
        trend.add(full[name])
    kpis = kpi.compute(trend)
    values, notes = values_by_key(kpis), notes_by_key(kpis)
    assert [item.key for item in kpis] == [definition.key for definition in kpi.DEFINITIONS]
    for key in ("defrosts_per_day", "defrosts_max_day"):
        assert math.isnan(values[key])
        assert notes[key] == "Not computed: the run has no `DefrostControl.defrost_cycle_active` column."
    assert math.isnan(values["aux_hours_per_day"])
    assert "`AuxHeat.aux_stage_1`, `AuxHeat.aux_stage_2`, `plant.aux_heat`" in notes["aux_hours_per_day"]
    assert (
        math.isnan(values["comfort_hours_outside"])
        and "`plant.comfort_low`" in notes["comfort_hours_outside"]
    )
    assert math.isnan(values["alarms_raised"]) and "no alarm columns" in notes["alarms_raised"]
    # Without a mode column every row counts as Heating, cooling included, and the note says so.
    all_heat = float(np.sum(full[kpi.HP_HEAT].values)) / 60.0
    all_power = float(np.sum(full[kpi.HP_POWER].values)) / 60.0
    assert values["cop_heating"] == pytest.approx(all_heat / all_power, rel=1e-12)
    assert "every row counted as Heating" in notes["cop_heating"]
    assert values["hp_heat_share"] == pytest.approx(100.0)  # no aux or backup columns: nothing else heats
    assert values["compressor_starts_per_day"] == pytest.approx(24.0)


def test_aux_run_time_falls_back_on_aux_heat_without_stage_columns() -> None:
    full = three_days()
    trend = Trend(full.time)
    trend.add(full[kpi.AUX_HEAT])
    values = values_by_key(kpi.compute(trend))
    assert values["aux_hours_per_day"] == pytest.approx(3.5 / 3.0, rel=1e-12)
    assert values["aux_hours_max_day"] == pytest.approx(3.0, rel=1e-12)


def test_no_cooling_gives_no_eer_and_says_so() -> None:
    full = three_days()
    full.columns[kpi.SYSTEM_MODE].values = np.zeros(N, dtype=np.int64)
    kpis = kpi.compute(full)
    values, notes = values_by_key(kpis), notes_by_key(kpis)
    assert math.isnan(values["eer_cooling"]) and notes["eer_cooling"] == "No compressor cooling in this run."
    assert values["energy_hp_cooling"] == 0.0
    assert values["mode_switches_per_day"] == 0.0


def test_an_empty_trend_gives_every_kpi_without_a_value() -> None:
    trend = Trend(np.array([], dtype="datetime64[ms]"))
    kpis = kpi.compute(trend)
    assert [item.key for item in kpis] == [definition.key for definition in kpi.DEFINITIONS]
    assert all(math.isnan(item.value) for item in kpis)
    assert len(kpi.daily(trend)) == 0


def test_time_stamps_out_of_order_are_refused() -> None:
    trend = Trend(START + np.array([0, 120_000, 60_000], dtype="timedelta64[ms]"))
    with pytest.raises(ValueError, match="ascending"):
        kpi.compute(trend)


# ---------------------------------------------------------------------------------------------
# Time steps and calendar days


def test_each_row_holds_until_the_next_and_the_last_for_the_median_step() -> None:
    trend = Trend(START + np.array([0, 60_000, 180_000, 480_000], dtype="timedelta64[ms]"))
    assert kpi.held_seconds(trend).tolist() == [60.0, 120.0, 300.0, 120.0]
    add_real(trend, kpi.HP_POWER, [1.0, 2.0, 0.0, 3.0], "kW")
    add_real(trend, kpi.HP_HEAT, [3.0, 6.0, 0.0, 9.0], "kW")
    values = values_by_key(kpi.compute(trend))
    electricity = (1.0 * 60 + 2.0 * 120 + 3.0 * 120) / 3600.0
    assert values["energy_hp_electricity"] == pytest.approx(electricity, rel=1e-12)
    assert values["cop_heating"] == pytest.approx(3.0, rel=1e-12)


def test_the_daily_summary_splits_at_midnight() -> None:
    # Hourly rows from 22:00 to 02:00: two on the first day, three on the second.
    trend = Trend(stamps(5, 3600.0, np.datetime64("2024-03-01T22:00", "ms")))
    add_flag(trend, kpi.COMPRESSOR_ON, [True, False, True, True, False])
    add_flag(trend, kpi.DEFROST_ACTIVE, [False, True, True, False, True])  # raised at 23:00 and at 02:00
    add_real(trend, kpi.OUTDOOR_TEMP, [-1.0, -3.0, 2.0, 4.0, 6.0], "C")
    day = kpi.daily(trend)
    assert day.date.tolist() == [np.datetime64("2024-03-01"), np.datetime64("2024-03-02")]
    assert day.hours.tolist() == [2.0, 3.0]
    assert day.compressor_hours.tolist() == [1.0, 2.0]
    assert day.compressor_starts.tolist() == [1.0, 1.0]
    assert day.defrosts.tolist() == [1.0, 1.0]  # the defrost on at midnight began the day before
    assert day.outdoor_min.tolist() == [-3.0, 2.0] and day.outdoor_max.tolist() == [-1.0, 6.0]
    assert day.outdoor_mean.tolist() == [-2.0, 4.0]
    assert np.all(np.isnan(day.indoor_mean)) and np.all(np.isnan(day.mode_switches))


def test_the_daily_summary_of_three_days() -> None:
    day = kpi.daily(three_days())
    assert len(day) == 3 and day.hours.tolist() == [24.0, 24.0, 24.0]
    assert day.outdoor_min.tolist() == [-10.0, 5.0, 10.0]
    assert day.outdoor_mean.tolist() == [-5.0, 5.0, 15.0]
    assert day.outdoor_max.tolist() == [0.0, 5.0, 20.0]
    assert day.indoor_min.tolist() == [18.0, 21.0, 21.0] and day.indoor_max.tolist() == [21.0, 21.0, 26.0]
    assert day.defrosts.tolist() == [3.0, 2.0, 0.0]
    assert day.mode_switches.tolist() == [0.0, 0.0, 3.0]
    assert day.aux_hours.tolist() == [3.0, 0.5, 0.0]
    assert day.compressor_hours.tolist() == [18.0, 18.0, 18.0]
    assert day.aux_kwh.tolist() == pytest.approx([20.0, 2.5, 0.0], abs=1e-12)
    assert day.backup_kwh.tolist() == pytest.approx([4.0, 0.0, 0.0], abs=1e-12)
    # Day 0: 30 defrost minutes, day 1: 20, day 2: 10 in Heating for 780 minutes.
    assert day.hp_heat_kwh.tolist() == pytest.approx(
        [(1410 * 6.0 - 30 * 2.0) / 60, (1420 * 6.0 - 20 * 2.0) / 60, (770 * 6.0 - 10 * 2.0) / 60], abs=1e-9
    )
    assert day.cop.tolist() == pytest.approx(
        [day.hp_heat_kwh[0] / 48.0, day.hp_heat_kwh[1] / 48.0, day.hp_heat_kwh[2] / 26.0], rel=1e-12
    )
    assert day.hp_cooling_kwh.tolist() == pytest.approx([0.0, 0.0, 44.0], abs=1e-12)
    assert day.comfort_below_hours.tolist() == [1.0, 0.0, 0.0]
    assert day.comfort_above_hours.tolist() == [0.0, 0.0, 0.5]


def test_top_alarms_by_times_raised() -> None:
    trend = three_days()
    assert kpi.top_alarms(trend) == [("Alarms.high_pressure", 2), ("Alarms.low_flow", 1)]
    assert kpi.top_alarms(trend, 1) == [("Alarms.high_pressure", 2)]
    assert kpi.alarm_counts(trend)["Alarms.never"] == 0


def test_docs_define_every_kpi_with_its_title_and_unit(repo_root: Path) -> None:
    text = (repo_root / "docs" / "kpis.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \|", text, re.MULTILINE)
    documented = {
        key: (title.strip(), "" if unit.strip() == "\u2013" else unit.strip()) for key, title, unit in rows
    }
    assert documented == {d.key: (d.title, d.unit) for d in kpi.DEFINITIONS}
    assert [key for key, _, _ in rows] == [d.key for d in kpi.DEFINITIONS]  # in the order compute gives


# ---------------------------------------------------------------------------------------------
# JSON


def test_json_is_ordered_rounded_and_has_null_for_no_value() -> None:
    kpis = kpi.compute(three_days())
    text = kpi.to_json(kpis)
    assert text == kpi.to_json(kpi.compute(three_days()))
    items = json.loads(text)
    assert [item["key"] for item in items] == [item.key for item in kpis]
    by_key = {item["key"]: item for item in items}
    assert by_key["cop_heating"]["value"] == 2.93443  # 358 / 122, six significant digits
    assert by_key["energy_loop_boiler"]["value"] is None
    assert by_key["defrosts_max_day"] == {
        "key": "defrosts_max_day",
        "title": "Defrosts, highest day",
        "value": 3.0,
        "unit": "",
        "note": "Defrost cycles started: the calendar day with the most.",
    }
    assert kpi.rounded(-0.0) == 0.0 and str(kpi.rounded(-0.0)) == "0.0"
    assert kpi.rounded(123456789.0) == 123457000.0


# ---------------------------------------------------------------------------------------------
# Speed


def a_year() -> Trend:
    """A year at one-minute steps with the columns of a full run and 95 alarm columns."""
    count = 365 * MINUTES_PER_DAY
    rng = np.random.default_rng(7)
    trend = Trend(stamps(count, start=np.datetime64("2023-01-01T00:00", "ms")))
    day = np.arange(count) / MINUTES_PER_DAY
    outdoor = 8.0 - 12.0 * np.cos(2 * np.pi * day / 365.0) + 5.0 * np.sin(2 * np.pi * day)
    add_real(trend, kpi.OUTDOOR_TEMP, outdoor, "C", "weather")
    add_real(trend, kpi.INDOOR_TEMP, 21.0 + rng.normal(0.0, 0.5, count), "C")
    add_real(trend, kpi.COMFORT_LOW, np.full(count, 20.0), "C")
    add_real(trend, kpi.COMFORT_HIGH, np.full(count, 24.0), "C")
    cooling = outdoor > 21.0
    trend.add(Column(kpi.SYSTEM_MODE, "enum", "", cooling.astype(np.int64), "output", ("Heating", "Cooling")))
    defrost = ~cooling & (outdoor < 5.0) & (np.arange(count) % 90 < 5)
    add_flag(trend, kpi.DEFROST_ACTIVE, defrost, "output")
    add_flag(trend, kpi.COMPRESSOR_ON, np.arange(count) % 30 < 20)
    add_real(trend, kpi.HP_HEAT, np.where(cooling, -3.0, np.clip(20.0 - outdoor, 0.0, None)), "kW")
    add_real(trend, kpi.HP_POWER, np.full(count, 2.0), "kW")
    add_flag(trend, kpi.AUX_STAGES[0], outdoor < -5.0, "output")
    add_flag(trend, kpi.AUX_STAGES[1], outdoor < -10.0, "output")
    add_real(trend, kpi.AUX_HEAT, 5.0 * (outdoor < -5.0), "kW")
    add_real(trend, kpi.BACKUP_HEAT, 10.0 * (outdoor < -15.0), "kW")
    for index in range(95):
        add_flag(trend, f"Alarms.alarm_{index:02d}", rng.random(count) < 0.001, "alarm")
    return trend


@pytest.mark.slow
def test_a_year_at_one_minute_steps_computes_quickly() -> None:
    trend = a_year()
    began = time.perf_counter()
    kpis = kpi.compute(trend)
    elapsed = time.perf_counter() - began
    assert elapsed < 5.0  # a sanity bound; it takes about 0.1 s
    values = values_by_key(kpis)
    assert len(kpi.daily(trend)) == 365
    assert values["compressor_hours_per_day"] == pytest.approx(16.0, rel=1e-9)
    assert values["alarms_raised"] > 0


# ---------------------------------------------------------------------------------------------
# Plots and the report


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def draw(trend: Trend, folder: Path) -> list[report.Plot]:
    return report.plots(trend, folder, heating_below=15.0, cooling_above=21.0)


def write_report(trend: Trend, folder: Path, plots: list[report.Plot]) -> Path:
    path = folder / "report.html"
    report.write_html(
        path,
        title="Heat pump <Test> & Co",
        run=[("Rules", "rules/"), ("Weather", "synthetic <3 days>"), ("Step", "60 s")],
        kpis=kpi.compute(trend),
        plots=plots,
        parameters=[("Changeover.heating_below", "15 °C", "Heating is selected below this.")],
        alarms=kpi.top_alarms(trend),
    )
    return path


@dataclass(frozen=True)
class Drawn:
    """The three-day run drawn and reported twice, in two folders (drawing takes a second or two)."""

    trend: Trend
    plots: tuple[list[report.Plot], list[report.Plot]]
    reports: tuple[Path, Path]


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> Drawn:
    trend = three_days()
    folders = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    first, second = draw(trend, folders[0]), draw(trend, folders[1])
    reports = write_report(trend, folders[0], first), write_report(trend, folders[1], second)
    return Drawn(trend, (first, second), reports)


@pytest.mark.slow
def test_plots_are_valid_pngs_and_byte_identical_when_drawn_again(drawn: Drawn) -> None:
    first, second = drawn.plots
    assert [plot.key for plot in first] == ["3_days", "cold_day", "changeover"]
    assert first[0].title == "The 3 days at a glance"
    for one, other in zip(first, second, strict=True):
        assert one.path is not None and other.path is not None and one.path != other.path
        data = one.path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        image = matplotlib.image.imread(one.path)
        assert image.shape[1] == 1100 and image.shape[0] > 500  # 10 in at 110 dpi
        assert data == other.path.read_bytes(), one.key
        assert one.caption and one.title


@pytest.mark.slow
def test_the_cold_day_is_the_coldest_with_a_defrost(drawn: Drawn, tmp_path: Path) -> None:
    cold_day = {plot.key: plot for plot in drawn.plots[0]}["cold_day"]
    assert cold_day.title == "A cold day: 2024-03-01"
    assert "the coldest day with a defrost" in cold_day.caption and "3 defrosts" in cold_day.caption
    # Without defrosts on day 0 the choice moves to day 1 (5 °C, with defrosts), not to the coldest day.
    trend = three_days()
    trend.columns[kpi.DEFROST_ACTIVE].values = DEFROST_ROWS & (np.arange(N) >= DAY1)
    cold_day = {plot.key: plot for plot in draw(trend, tmp_path)}["cold_day"]
    assert cold_day.title == "A cold day: 2024-03-02"
    assert "2 defrosts" in cold_day.caption


@pytest.mark.slow
def test_the_changeover_plot_shows_the_days_with_the_most_switches(drawn: Drawn) -> None:
    changeover = {plot.key: plot for plot in drawn.plots[0]}["changeover"]
    assert changeover.caption.startswith("Top: the days with the most mode switches")
    assert "each of the 3 mode switches" in changeover.caption


@pytest.mark.slow
def test_plots_without_mode_or_defrost_are_left_out_or_noted(tmp_path: Path) -> None:
    full = three_days()
    trend = Trend(full.time)
    for name in (kpi.OUTDOOR_TEMP, kpi.INDOOR_TEMP, kpi.HP_HEAT, kpi.HP_POWER):
        trend.add(full[name])
    plots = {plot.key: plot for plot in draw(trend, tmp_path)}
    assert plots["changeover"].path is None
    assert plots["changeover"].caption == "Left out: the run has no `Changeover.system_mode` column."
    cold_day = plots["cold_day"].path
    assert cold_day is not None and cold_day.read_bytes().startswith(PNG_SIGNATURE)
    assert "the coldest day" in plots["cold_day"].caption and "no frost" in plots["cold_day"].caption
    assert plots["3_days"].path is not None and "no defrost column" in plots["3_days"].caption


def test_the_overview_is_named_for_the_run() -> None:
    assert [report.period_name(days) for days in (1, 2, 7, 14, 30, 60, 365, 366, 400)] == [
        "day",
        "2_days",
        "week",
        "14_days",
        "month",
        "60_days",
        "year",
        "year",
        "400_days",
    ]


@pytest.mark.slow
def test_a_run_of_whole_days_has_no_extra_day_and_a_ground_source_no_frost(tmp_path: Path) -> None:
    """Three whole days and the row at midnight that ends them: three days, not four; and a ground
    source's cold day shows the source, not an outdoor coil and its frost."""
    full = three_days()
    end = full.time[-1].astype("datetime64[D]") + 1
    trend = Trend(np.append(full.time, end.astype(full.time.dtype)))
    for column in full.columns.values():
        values = np.append(column.values, column.values[-1:])
        trend.add(type(column)(column.name, column.kind, column.unit, values, column.role, column.members))
    plots = {
        plot.key: plot
        for plot in report.plots(
            trend, tmp_path, heating_below=15.0, cooling_above=21.0, source_type="Ground"
        )
    }
    assert "3_days" in plots and "4_days" not in plots
    assert plots["3_days"].caption.startswith("3 calendar days.")
    cold_day = plots["cold_day"]
    assert "A ground source has no outdoor coil" in cold_day.caption
    assert "Frost should build up" not in cold_day.caption


def test_an_empty_trend_draws_no_plots(tmp_path: Path) -> None:
    plots = draw(Trend(np.array([], dtype="datetime64[ms]")), tmp_path)
    assert [plot.path for plot in plots] == [None, None, None]
    assert all(plot.caption.startswith("Left out:") for plot in plots)


@pytest.mark.slow
def test_the_report_holds_every_kpi_and_embeds_the_plots(drawn: Drawn) -> None:
    text = drawn.reports[0].read_text(encoding="utf-8")
    for item in kpi.compute(drawn.trend):
        assert html.escape(item.title) in text
        assert f">{report.format_value(item.value)}</td>" in text, item.key
    for plot in drawn.plots[0]:
        assert plot.path is not None
        assert base64.b64encode(plot.path.read_bytes()).decode("ascii") in text
    assert text.count('src="data:image/png;base64,') == 3
    assert "<script" not in text.lower()
    assert "http://" not in text and "https://" not in text  # nothing to fetch
    assert "<link" not in text.lower()
    assert "<title>Heat pump &lt;Test&gt; &amp; Co</title>" in text
    assert "<td>synthetic &lt;3 days&gt;</td>" in text
    assert "<code>Changeover.heating_below</code>" in text
    assert '<tr><td><code>Alarms.high_pressure</code></td><td class="num">2</td></tr>' in text
    assert "—" in text  # the loop boiler's missing value
    assert "<code>plant.loop_boiler_heat</code>" in text  # code spans in notes
    assert str(drawn.reports[0].parent) not in text  # no path of this machine


@pytest.mark.slow
def test_the_report_is_byte_identical_when_written_again(drawn: Drawn) -> None:
    first, second = drawn.reports
    assert first != second and first.read_bytes() == second.read_bytes()


def test_a_plot_left_out_shows_its_note_in_the_report(tmp_path: Path) -> None:
    note = "Left out: the run has no `Changeover.system_mode` column."
    text = write_report(
        three_days(), tmp_path, [report.Plot("changeover", "Changeover", None, note)]
    ).read_text(encoding="utf-8")
    assert (
        '<p class="absent">Left out: the run has no <code>Changeover.system_mode</code> column.</p>' in text
    )
    assert "data:image/png" not in text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2.934426, "2.93"),
        (16.0, "16"),
        (48.0164, "48.0"),
        (33166.59, "33\u202f167"),
        (-2.5, "\u22122.50"),
        (-0.001, "0.00"),
        (math.nan, "—"),
    ],
)
def test_values_are_shown_with_a_few_digits(value: float, shown: str) -> None:
    assert report.format_value(value) == shown
