"""The commissioning scorecard of a run: what a commissioning engineer checks in a year of trends
before signing off a plant, each measure with its goal and a verdict.

The measures read the trend as the KPIs do (each row's values held until the next row):

- compressor starts in any hour and runs shorter than the minimum on time, per stage;
- supply water within 3 K of its target (Q5) once the heat pump has settled, where its capacity
  allows (not while the supply is below its target with the loop asking for everything);
- occupied time colder than the heating setpoint less 1 K;
- electric aux heat above the balance point (Q2), and in unoccupied time while the zone is warmer
  than its setback;
- raises of each alarm;
- defrosts started on a coil without frost;
- mode switches in a day (hunting).

A measure whose columns the run did not record is "not computed" and fails `--check`; one with
nothing to judge (no defrost in a ground-source year, no heating in a summer week) is "n/a".
The goals and where they come from are in docs/kpis.md.

May import: hpdsl.sim.kpi, hpdsl.sim.trend, numpy.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from hpdsl.sim import kpi
from hpdsl.sim.trend import Trend

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

Verdict = Literal["met", "missed", "n/a", "not computed"]

STAGES = ("CompressorStaging.stage_1_speed", "CompressorStaging.stage_2_speed")
STAGE_OFF = "Off"
SUPPLY = "plant.supply_temp"
SUPPLY_TARGET = "plant.supply_target"
LOAD_DEMAND = "plant.load_demand"
OCCUPIED = "Occupancy.occupied"
HEATING_SETPOINT = "Occupancy.heating_setpoint"
ABOVE_BALANCE_POINT = "AuxHeat.above_balance_point"
FROST = "plant.frost"

MAX_STARTS_PER_HOUR = 4  # manufacturers allow 3 to 6 starts an hour; a scroll compressor's life is in starts
MIN_RUN_S = 180.0  # 3 min: oil return and the motor's heat need a run of at least this
SUPPLY_BAND_K = 3.0  # Q5
SUPPLY_SHARE = 0.95  # of settled heating time
SETTLE_S = 900.0  # after a compressor start or a defrost the supply water needs 15 min
SATURATED_DEMAND = 95.0  # % of load demand: the loop asks for all the plant has
COLD_MARGIN_K = 1.0
COLD_SHARE = 0.01  # of occupied time
AUX_KWH = 1.0  # where aux should never run: a rounding error of energy, no more
SETBACK_MARGIN_K = 1.0
MAX_RAISES = 5  # per alarm in the run: a healthy plant raises an alarm a handful of times a year at most
DRY_FROST_KG = 0.5
DRY_SHARE = 0.05  # of defrosts
MAX_SWITCHES_PER_DAY = 4


@dataclass(frozen=True)
class Goal:
    """One measure of the scorecard: its value, its goal, and whether the run met it."""

    key: str
    title: str
    value: float
    unit: str
    goal: str  # as shown: `≤ 4`, `≥ 95 %`
    verdict: Verdict
    detail: str  # where it was worst, or why it was not computed


def compute(trend: Trend) -> list[Goal]:
    """Every measure of the scorecard for a run, in a fixed order."""
    held = kpi.held_seconds(trend)
    goals: list[Goal] = []
    for number, column in enumerate(STAGES, start=1):
        goals.extend(_stage(trend, column, number, held))
    goals.append(_supply(trend, held))
    goals.append(_comfort(trend, held))
    goals.extend(_aux(trend, held))
    goals.append(_alarms(trend))
    goals.append(_dry_defrosts(trend))
    goals.append(_hunting(trend))
    return goals


# A controller's recorded trend has no plant model: its own readings stand for the plant's.
RECORDED_AS_PLANT = {
    SUPPLY: "PlantSignals.supply_water_temp",
    SUPPLY_TARGET: "SupplyTemperatureCheck.supply_temp_target",
    LOAD_DEMAND: "PlantSignals.load_demand",
    kpi.COMPRESSOR_ON: "PlantSignals.compressor_running",
    kpi.INDOOR_TEMP: "PlantSignals.space_temp",
}


def recorded_goals(trend: Trend) -> tuple[Goal, Goal]:
    """Q5 (supply within its band) and the occupied comfort measure of a controller's recorded trend.

    The same measures as a simulation's scorecard, with the controller's readings of the supply
    water, its target, the load demand, the compressor and the zone in place of the plant
    model's (RECORDED_AS_PLANT).
    """
    view = Trend(trend.time, dict(trend.columns))
    for plant, recorded in RECORDED_AS_PLANT.items():
        if plant not in view and recorded in trend:
            view.add(dataclasses.replace(trend[recorded], name=plant))
    held = kpi.held_seconds(view)
    return _supply(view, held), _comfort(view, held)


def met(goals: list[Goal]) -> bool:
    """Every goal met (or with nothing to judge)."""
    return all(goal.verdict in ("met", "n/a") for goal in goals)


def _verdict(value: float, limit: float, at_most: bool) -> Verdict:
    if math.isnan(value):
        return "n/a"
    return "met" if (value <= limit if at_most else value >= limit) else "missed"


def _missing(key: str, title: str, unit: str, goal: str, columns: list[str]) -> Goal:
    return Goal(
        key, title, math.nan, unit, goal, "not computed", "no column " + ", ".join(f"`{c}`" for c in columns)
    )


def _absent(trend: Trend, *columns: str) -> list[str]:
    return [column for column in columns if column not in trend]


def _on_runs(
    on: BoolArray, seconds: FloatArray, held: FloatArray
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """(start times, durations, ended before the trend did) of every run of `on`."""
    edges = np.diff(np.concatenate(([0], on.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # exclusive
    cumulative = np.concatenate(([0.0], np.cumsum(held)))
    durations = cumulative[ends] - cumulative[starts]
    ended = ends < len(on)
    return seconds[starts], durations, ended


def _stage(trend: Trend, column: str, number: int, held: FloatArray) -> list[Goal]:
    starts_goal = f"≤ {MAX_STARTS_PER_HOUR}"
    short_goal = "0"
    titles = (f"Stage {number}: most starts in an hour", f"Stage {number}: runs shorter than 3 min")
    keys = (f"stage_{number}_starts_per_hour", f"stage_{number}_short_runs")
    if column not in trend:
        return [
            _missing(keys[0], titles[0], "1/h", starts_goal, [column]),
            _missing(keys[1], titles[1], "", short_goal, [column]),
        ]
    stage = trend[column]
    off = stage.members.index(STAGE_OFF) if STAGE_OFF in stage.members else 0
    on = np.asarray(stage.values) != off
    seconds = trend.seconds()
    start_times, durations, ended = _on_runs(on, seconds, held)
    if len(start_times):
        window_ends = np.searchsorted(start_times, start_times + 3600.0, side="left")
        counts = window_ends - np.arange(len(start_times))
        worst = int(np.argmax(counts))
        most = float(counts[worst])
        when = str(trend.time[0] + np.timedelta64(int(start_times[worst] * 1000), "ms"))[:16]
        detail = f"{int(most)} start{'s' if most != 1 else ''} in the hour from {when}"
    else:
        most, detail = 0.0, "the stage never started"
    short = ended & (durations < MIN_RUN_S)
    count = float(np.count_nonzero(short))
    short_detail = f"{int(count)} of {len(durations)} runs" if len(durations) else "the stage never ran"
    return [
        Goal(keys[0], titles[0], most, "1/h", starts_goal, _verdict(most, MAX_STARTS_PER_HOUR, True), detail),
        Goal(keys[1], titles[1], count, "", short_goal, _verdict(count, 0.0, True), short_detail),
    ]


def _since(flag: BoolArray, seconds: FloatArray, rising: bool) -> FloatArray:
    """Seconds since `flag` last turned on (rising) or was last on; inf before it ever was."""
    marks = kpi.rising_edges(flag) if rising else flag
    last = np.where(marks, seconds, -np.inf)
    np.maximum.accumulate(last, out=last)
    return np.asarray(seconds - last, dtype=np.float64)


def _supply(trend: Trend, held: FloatArray) -> Goal:
    key, title, goal = (
        "supply_within_3k",
        "Supply water within 3 K of its target (Q5)",
        f"≥ {SUPPLY_SHARE:.0%}",
    )
    missing = _absent(trend, SUPPLY, SUPPLY_TARGET, LOAD_DEMAND, kpi.COMPRESSOR_ON, kpi.SYSTEM_MODE)
    if missing:
        return _missing(key, title, "%", goal, missing)
    modes = kpi.mode_rows(trend)
    assert modes is not None
    heating = modes[0]
    on = np.asarray(trend[kpi.COMPRESSOR_ON].values).astype(bool)
    seconds = trend.seconds()
    defrost = _defrost(trend)
    settled = (
        heating
        & on
        & ~defrost
        & (_since(on, seconds, rising=True) >= SETTLE_S)
        & (_since(defrost, seconds, rising=False) >= SETTLE_S)
    )
    deviation = trend[SUPPLY].as_float() - trend[SUPPLY_TARGET].as_float()
    # Below the target with the loop asking for everything: the plant is at its capacity.
    short = (deviation < -SUPPLY_BAND_K) & (trend[LOAD_DEMAND].as_float() >= SATURATED_DEMAND)
    judged = settled & ~short
    weight = held[judged]
    settled_hours = held[settled].sum() / 3600.0
    if weight.sum() <= 0.0:
        return Goal(key, title, math.nan, "%", goal, "n/a", "no settled heating within capacity in the run")
    error = np.abs(deviation)[judged]
    share = float(weight[error <= SUPPLY_BAND_K].sum() / weight.sum())
    hours = weight.sum() / 3600.0
    return Goal(
        key,
        title,
        share * 100.0,
        "%",
        goal,
        _verdict(share, SUPPLY_SHARE, False),
        f"of {hours:.0f} h settled heating within capacity; {settled_hours - hours:.0f} h at capacity",
    )


def _comfort(trend: Trend, held: FloatArray) -> Goal:
    key, title, goal = "cold_occupied", "Occupied time colder than setpoint - 1 K", f"≤ {COLD_SHARE:.0%}"
    missing = _absent(trend, OCCUPIED, HEATING_SETPOINT, kpi.INDOOR_TEMP)
    if missing:
        return _missing(key, title, "%", goal, missing)
    occupied = np.asarray(trend[OCCUPIED].values).astype(bool)
    weight = held[occupied]
    if weight.sum() <= 0.0:
        return Goal(key, title, math.nan, "%", goal, "n/a", "no occupied time in the run")
    cold = (trend[kpi.INDOOR_TEMP].as_float() < trend[HEATING_SETPOINT].as_float() - COLD_MARGIN_K)[occupied]
    share = float(weight[cold].sum() / weight.sum())
    detail = f"{weight[cold].sum() / 3600.0:.1f} h of {weight.sum() / 3600.0:.0f} h occupied"
    return Goal(key, title, share * 100.0, "%", goal, _verdict(share, COLD_SHARE, True), detail)


def _defrost(trend: Trend) -> BoolArray:
    """The rows in a defrost; none when the run has no defrost column (a unit that never defrosts)."""
    if kpi.DEFROST_ACTIVE not in trend:
        return np.zeros(len(trend.time), dtype=bool)
    return np.asarray(trend[kpi.DEFROST_ACTIVE].values).astype(bool)


def _aux(trend: Trend, held: FloatArray) -> list[Goal]:
    goal = f"≤ {AUX_KWH:g}"
    measures = (
        ("aux_above_balance_kwh", "Aux heat above the balance point (Q2)", (ABOVE_BALANCE_POINT,)),
        (
            "aux_unoccupied_kwh",
            "Aux heat unoccupied, zone above setback + 1 K",
            (OCCUPIED, HEATING_SETPOINT, kpi.INDOOR_TEMP),
        ),
    )
    energy = trend[kpi.AUX_HEAT].as_float() * held / 3600.0 if kpi.AUX_HEAT in trend else None
    defrost = _defrost(trend)
    results: list[Goal] = []
    for key, title, columns in measures:
        missing = _absent(trend, kpi.AUX_HEAT, *columns)
        if missing or energy is None:
            results.append(_missing(key, title, "kWh", goal, missing))
            continue
        if key == "aux_above_balance_kwh":
            rows = np.asarray(trend[ABOVE_BALANCE_POINT].values).astype(bool)
        else:
            unoccupied = ~np.asarray(trend[OCCUPIED].values).astype(bool)
            setpoint = trend[HEATING_SETPOINT].as_float()
            rows = unoccupied & (trend[kpi.INDOOR_TEMP].as_float() > setpoint + SETBACK_MARGIN_K)
        value = float(np.sum(energy[rows & ~defrost]))
        verdict = _verdict(value, AUX_KWH, True)
        results.append(Goal(key, title, value, "kWh", goal, verdict, "defrost tempering aside"))
    return results


def _alarms(trend: Trend) -> Goal:
    key, title, goal = "alarm_raises_max", "Most raises of one alarm", f"≤ {MAX_RAISES}"
    counts = kpi.alarm_counts(trend)
    if not counts:
        return _missing(key, title, "", goal, ["(alarms: a trend read from CSV carries no roles)"])
    name, most = max(counts.items(), key=lambda item: (item[1], item[0]))
    raised = sum(1 for n in counts.values() if n > MAX_RAISES)
    detail = f"{name}: {most}" + (f"; {raised} alarms over the goal" if raised > 1 else "")
    if most == 0:
        detail = "no alarm raised"
    return Goal(key, title, float(most), "", goal, _verdict(float(most), MAX_RAISES, True), detail)


def _dry_defrosts(trend: Trend) -> Goal:
    key, title, goal = "dry_defrosts", "Defrosts started with less than 0.5 kg of frost", f"≤ {DRY_SHARE:.0%}"
    missing = _absent(trend, kpi.DEFROST_ACTIVE, FROST)
    if missing:
        return _missing(key, title, "%", goal, missing)
    starts = np.flatnonzero(kpi.rising_edges(_defrost(trend)))
    if not len(starts):
        return Goal(key, title, math.nan, "%", goal, "n/a", "no defrost in the run")
    frost = trend[FROST].as_float()
    before = np.maximum(starts - 1, 0)  # the coil as the defrost began
    dry = int(np.count_nonzero(frost[before] < DRY_FROST_KG))
    share = dry / len(starts)
    detail = f"{dry} of {len(starts)} defrosts"
    return Goal(key, title, share * 100.0, "%", goal, _verdict(share, DRY_SHARE, True), detail)


def _hunting(trend: Trend) -> Goal:
    key, title, goal = "mode_switches_max_day", "Most mode switches in a day", f"≤ {MAX_SWITCHES_PER_DAY}"
    if kpi.SYSTEM_MODE not in trend:
        return _missing(key, title, "1/d", goal, [kpi.SYSTEM_MODE])
    day = kpi.daily(trend)
    if not len(day):
        return Goal(key, title, math.nan, "1/d", goal, "n/a", "no rows")
    switches = np.nan_to_num(day.mode_switches)
    worst = int(np.argmax(switches))
    most = float(switches[worst])
    detail = f"{int(most)} on {day.date[worst]}" if most else "the mode never switched"
    return Goal(key, title, most, "1/d", goal, _verdict(most, MAX_SWITCHES_PER_DAY, True), detail)


def to_json_items(goals: list[Goal]) -> dict[str, Any]:
    """The scorecard for kpis.json: whether every goal was met, and each measure."""
    return {
        "met": met(goals),
        "goals": [
            {
                "key": g.key,
                "title": g.title,
                "value": kpi.rounded(g.value),
                "unit": g.unit,
                "goal": g.goal,
                "verdict": g.verdict,
                "detail": g.detail,
            }
            for g in goals
        ],
    }


def shown(value: float) -> str:
    """A measure's value as the report shows it: `—` when there is none, whole above 100."""
    if math.isnan(value):
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def render_text(goals: list[Goal]) -> str:
    """The scorecard as lines for the terminal."""
    width = max(len(g.title) for g in goals)
    lines = ["Commissioning scorecard"]
    for g in goals:
        value = shown(g.value)
        lines.append(
            f"  {g.title:<{width}}  {value:>7} {g.unit:<4} goal {g.goal:<7} {g.verdict}  ({g.detail})"
        )
    lines.append(
        "  every goal met"
        if met(goals)
        else "  goals missed: " + ", ".join(g.key for g in goals if g.verdict in ("missed", "not computed"))
    )
    return "\n".join(lines)
