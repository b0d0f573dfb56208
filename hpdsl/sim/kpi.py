"""Key performance indicators of a simulated run, and its summary per calendar day.

Every quantity is integrated with the value held over its row: row `i` stands for the time
from its own stamp to the next one, and the last row for the median step. A row belongs to
the calendar day of its stamp, so a day runs from its first row at or after midnight to the
last row before the next midnight. A rate "per day" is the run's total divided by the run's
length in days, and the "max day" is the largest total of one calendar day.

Definitions, formulas and the choices made (why defrost counts against the COP, why an
alarm that is on at the first row counts as raised) are in `docs/kpis.md`. A KPI whose
columns the run did not record is still listed, in its place, with the value NaN and a note
naming the missing column, so that two runs always give the same keys in the same order.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from hpdsl.sim.trend import Trend

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# The columns the KPIs read (see hpdsl/sim/trend.py for the naming).
OUTDOOR_TEMP = "weather.temp_air"
CONTROLLER_OUTDOOR_TEMP = "PlantSignals.outdoor_temp"
INDOOR_TEMP = "plant.indoor_temp"
COMFORT_LOW = "plant.comfort_low"
COMFORT_HIGH = "plant.comfort_high"
HP_HEAT = "plant.hp_heat"
HP_POWER = "plant.hp_power"
AUX_HEAT = "plant.aux_heat"
BACKUP_HEAT = "plant.backup_heat"
LOOP_BOILER_HEAT = "plant.loop_boiler_heat"
COMPRESSOR_ON = "plant.compressor_on"
SYSTEM_MODE = "Changeover.system_mode"
DEFROST_ACTIVE = "DefrostControl.defrost_cycle_active"
AUX_STAGES = ("AuxHeat.aux_stage_1", "AuxHeat.aux_stage_2")
HEATING = "Heating"
COOLING = "Cooling"

_SECONDS_PER_HOUR = 3600.0
_SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Kpi:
    """One indicator of a run: NaN as the value means it could not be computed, and the note says why."""

    key: str
    title: str
    value: float
    unit: str
    note: str


@dataclass(frozen=True)
class DailySummary:
    """The run per calendar day: one element per day in every array, NaN where a column is missing.

    Energies are in kWh, times in hours, events as counts (float, so that NaN can mark a
    quantity the run did not record).
    """

    date: npt.NDArray[np.datetime64]  # datetime64[D]
    hours: FloatArray  # hours of the day the trend covers (24 except perhaps the first and last)
    outdoor_min: FloatArray
    outdoor_mean: FloatArray
    outdoor_max: FloatArray
    indoor_min: FloatArray
    indoor_mean: FloatArray
    indoor_max: FloatArray
    hp_heat_kwh: FloatArray  # heat pump heat in Heating mode, defrost's negative heat included
    hp_cooling_kwh: FloatArray  # heat the heat pump removed in Cooling mode (positive)
    aux_kwh: FloatArray
    backup_kwh: FloatArray
    loop_boiler_kwh: FloatArray
    hp_heating_electricity_kwh: FloatArray  # heat pump electricity in Heating mode
    hp_cooling_electricity_kwh: FloatArray  # heat pump electricity in Cooling mode
    hp_electricity_kwh: FloatArray  # heat pump electricity in any mode
    electricity_kwh: FloatArray  # heat pump + electric aux
    cop: FloatArray  # hp_heat_kwh / hp_heating_electricity_kwh; NaN on a day without heating
    defrosts: FloatArray
    mode_switches: FloatArray
    compressor_hours: FloatArray
    compressor_starts: FloatArray
    aux_hours: FloatArray
    comfort_below_hours: FloatArray
    comfort_above_hours: FloatArray

    def __len__(self) -> int:
        return len(self.date)


# ---------------------------------------------------------------------------------------------
# Shared groundwork: the time each row holds, and the calendar days


@dataclass(frozen=True)
class _Basis:
    dt: FloatArray  # seconds each row's values hold
    starts: npt.NDArray[np.intp]  # the first row of each calendar day
    dates: npt.NDArray[np.datetime64]

    @property
    def days(self) -> int:
        return len(self.starts)

    def per_day(self, amount: FloatArray) -> FloatArray:
        """The sum of a per-row amount over each calendar day."""
        if self.days == 0:
            return np.zeros(0)
        return np.add.reduceat(amount, self.starts)

    def nan_per_day(self) -> FloatArray:
        return np.full(self.days, np.nan)


def held_seconds(trend: Trend) -> FloatArray:
    """The seconds each row's values hold: the time to the next row, the median step for the last."""
    seconds = trend.seconds()
    if len(seconds) == 0:
        return np.zeros(0)
    steps = np.diff(seconds)
    last = float(np.median(steps)) if len(steps) else 0.0
    return np.append(steps, last)


def _basis(trend: Trend) -> _Basis:
    time = trend.time.astype("datetime64[ms]")
    if len(time) > 1 and bool(np.any(time[1:] < time[:-1])):
        raise ValueError("the trend's time stamps are not in ascending order")
    days = time.astype("datetime64[D]")
    new_day = np.ones(len(days), dtype=bool)
    new_day[1:] = days[1:] != days[:-1]
    starts = np.flatnonzero(new_day)
    return _Basis(held_seconds(trend), starts, days[starts])


def rising_edges(on: BoolArray) -> BoolArray:
    """True where a state turns on; the state before the first row counts as off.

    A run starts from rest (outputs and alarms initialised false), so a state already on at
    the first row was switched on by the first scan.
    """
    edges = on.copy()
    edges[1:] &= ~on[:-1]
    return edges


def changes(codes: npt.NDArray[Any]) -> BoolArray:
    """True where a value differs from the row before; never at the first row."""
    changed = np.zeros(len(codes), dtype=bool)
    changed[1:] = codes[1:] != codes[:-1]
    return changed


def _real(trend: Trend, name: str) -> FloatArray | None:
    return trend[name].as_float() if name in trend else None


def _flag(trend: Trend, name: str) -> BoolArray | None:
    if name not in trend:
        return None
    return np.asarray(trend[name].values).astype(bool)


def mode_rows(trend: Trend) -> tuple[BoolArray, BoolArray] | None:
    """Rows in Heating and rows in Cooling mode, or None without a mode column."""
    if SYSTEM_MODE not in trend:
        return None
    column = trend[SYSTEM_MODE]
    codes = np.asarray(column.values)
    members = column.members

    def rows_in(member: str) -> BoolArray:
        if member not in members:
            return np.zeros(len(codes), dtype=bool)
        return np.asarray(codes == members.index(member), dtype=bool)

    return rows_in(HEATING), rows_in(COOLING)


def _aux_on(trend: Trend) -> BoolArray | None:
    """Rows with any electric aux stage on: the AuxHeat stages, else aux heat above zero."""
    stages = [flag for flag in (_flag(trend, name) for name in AUX_STAGES) if flag is not None]
    if stages:
        on = stages[0].copy()
        for stage in stages[1:]:
            on |= stage
        return on
    aux = _real(trend, AUX_HEAT)
    return None if aux is None else aux > 0.0


def _divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Elementwise numerator / denominator, NaN where the denominator is not positive."""
    result = np.full(len(numerator), np.nan)
    np.divide(numerator, denominator, out=result, where=denominator > 0.0)
    return result


# ---------------------------------------------------------------------------------------------
# The summary per day


def daily(trend: Trend) -> DailySummary:
    """The run per calendar day: temperatures, energies by source, COP, events and run times."""
    return _daily(trend, _basis(trend))


def _daily(trend: Trend, basis: _Basis) -> DailySummary:
    dt = basis.dt
    kwh_per_kw = dt / _SECONDS_PER_HOUR  # a power in kW times this is the row's energy in kWh
    modes = mode_rows(trend)
    heating, cooling = (
        modes if modes is not None else (np.ones(len(dt), dtype=bool), np.zeros(len(dt), dtype=bool))
    )

    def temperatures(*names: str) -> tuple[FloatArray, FloatArray, FloatArray]:
        for name in names:
            values = _real(trend, name)
            if values is not None and basis.days:
                mean = _divide(basis.per_day(values * dt), basis.per_day(dt))
                # A day whose rows hold no time (a one-row trend) gets the plain mean of its rows.
                rows = np.diff(np.append(basis.starts, len(values)))
                mean = np.where(np.isnan(mean), np.add.reduceat(values, basis.starts) / rows, mean)
                return (
                    np.minimum.reduceat(values, basis.starts),
                    mean,
                    np.maximum.reduceat(values, basis.starts),
                )
        return basis.nan_per_day(), basis.nan_per_day(), basis.nan_per_day()

    def energy(name: str, rows: BoolArray | None = None, sign: float = 1.0) -> FloatArray:
        power = _real(trend, name)
        if power is None:
            return basis.nan_per_day()
        amount = sign * power * kwh_per_kw
        return basis.per_day(amount if rows is None else np.where(rows, amount, 0.0))

    def hours(on: BoolArray | None) -> FloatArray:
        return basis.nan_per_day() if on is None else basis.per_day(np.where(on, dt, 0.0)) / _SECONDS_PER_HOUR

    def count(events: BoolArray | None) -> FloatArray:
        return basis.nan_per_day() if events is None else basis.per_day(events.astype(np.float64))

    outdoor = temperatures(OUTDOOR_TEMP, CONTROLLER_OUTDOOR_TEMP)
    indoor = temperatures(INDOOR_TEMP)
    hp_heat = energy(HP_HEAT, heating)
    hp_cooling = energy(HP_HEAT, cooling, -1.0) if modes is not None else basis.nan_per_day()
    heating_electricity = energy(HP_POWER, heating)
    cooling_electricity = energy(HP_POWER, cooling) if modes is not None else basis.nan_per_day()
    hp_electricity = energy(HP_POWER)
    aux = energy(AUX_HEAT)
    electricity = hp_electricity + np.nan_to_num(aux) if HP_POWER in trend else aux

    compressor = _flag(trend, COMPRESSOR_ON)
    defrost = _flag(trend, DEFROST_ACTIVE)
    mode_codes = np.asarray(trend[SYSTEM_MODE].values) if SYSTEM_MODE in trend else None
    indoor_temp = _real(trend, INDOOR_TEMP)
    low, high = _real(trend, COMFORT_LOW), _real(trend, COMFORT_HIGH)
    below = None if indoor_temp is None or low is None else indoor_temp < low
    above = None if indoor_temp is None or high is None else indoor_temp > high

    return DailySummary(
        date=basis.dates,
        hours=basis.per_day(dt) / _SECONDS_PER_HOUR,
        outdoor_min=outdoor[0],
        outdoor_mean=outdoor[1],
        outdoor_max=outdoor[2],
        indoor_min=indoor[0],
        indoor_mean=indoor[1],
        indoor_max=indoor[2],
        hp_heat_kwh=hp_heat,
        hp_cooling_kwh=hp_cooling,
        aux_kwh=aux,
        backup_kwh=energy(BACKUP_HEAT),
        loop_boiler_kwh=energy(LOOP_BOILER_HEAT),
        hp_heating_electricity_kwh=heating_electricity,
        hp_cooling_electricity_kwh=cooling_electricity,
        hp_electricity_kwh=hp_electricity,
        electricity_kwh=electricity,
        cop=_divide(hp_heat, heating_electricity),
        defrosts=count(None if defrost is None else rising_edges(defrost)),
        mode_switches=count(None if mode_codes is None else changes(mode_codes)),
        compressor_hours=hours(compressor),
        compressor_starts=count(None if compressor is None else rising_edges(compressor)),
        aux_hours=hours(_aux_on(trend)),
        comfort_below_hours=hours(below),
        comfort_above_hours=hours(above),
    )


# ---------------------------------------------------------------------------------------------
# Alarms


def alarm_counts(trend: Trend) -> dict[str, int]:
    """How often each alarm column (role "alarm") was raised: its rising edges, in column order."""
    return {
        column.name: int(np.count_nonzero(rising_edges(np.asarray(column.values).astype(bool))))
        for column in trend.columns.values()
        if column.role == "alarm"
    }


def top_alarms(trend: Trend, count: int = 5) -> list[tuple[str, int]]:
    """The alarms raised most often, most first (ties by name); alarms never raised are left out."""
    raised = [(name, n) for name, n in alarm_counts(trend).items() if n > 0]
    return sorted(raised, key=lambda item: (-item[1], item[0]))[:count]


# ---------------------------------------------------------------------------------------------
# The KPIs


@dataclass(frozen=True)
class Definition:
    """What a KPI is: its key, title, unit, one-line definition and the columns it needs."""

    key: str
    section: str
    title: str
    unit: str
    note: str
    needs: tuple[str, ...] = ()  # every one of these columns
    needs_any: tuple[str, ...] = ()  # at least one of these columns
    by_mode: bool = False  # split by the system mode: says so when the run has no mode column
    when_nan: str = ""  # why the value is NaN although every column is there


def _per_day(
    key: str, title: str, unit: str, what: str, needs: tuple[str, ...] = (), needs_any: tuple[str, ...] = ()
) -> tuple[Definition, ...]:
    """A quantity per day as two KPIs: its mean over the run and its highest calendar day."""
    return (
        Definition(
            f"{key}_per_day",
            "Operation",
            f"{title}, mean per day",
            f"{unit}/d",
            f"{what} ÷ days of the run.",
            needs,
            needs_any,
        ),
        Definition(
            f"{key}_max_day",
            "Operation",
            f"{title}, highest day",
            "" if unit == "1" else unit,
            f"{what}: the calendar day with the most.",
            needs,
            needs_any,
        ),
    )


_COMFORT = (INDOOR_TEMP, COMFORT_LOW, COMFORT_HIGH)

# The KPIs in the order `compute` gives them; docs/kpis.md explains each one.
DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        "cop_heating",
        "Efficiency",
        "Seasonal COP, heating",
        "",
        "Heat pump heat ÷ heat pump electricity in Heating mode; the heat a defrost takes back counts.",
        needs=(HP_HEAT, HP_POWER),
        by_mode=True,
        when_nan="The heat pump used no electricity in Heating mode.",
    ),
    Definition(
        "cop_heating_system",
        "Efficiency",
        "Seasonal COP, heating with electric aux",
        "",
        "(Heat pump heat + aux heat) ÷ (heat pump electricity + aux electricity) in Heating mode.",
        needs=(HP_HEAT, HP_POWER, AUX_HEAT),
        by_mode=True,
        when_nan="No electricity was used in Heating mode.",
    ),
    Definition(
        "eer_cooling",
        "Efficiency",
        "Seasonal EER, cooling",
        "",
        "Heat removed ÷ heat pump electricity in Cooling mode (kW per kW, not Btu/Wh).",
        needs=(HP_HEAT, HP_POWER, SYSTEM_MODE),
        when_nan="No compressor cooling in this run.",
    ),
    Definition(
        "hp_heat_share",
        "Efficiency",
        "Heat from the heat pump",
        "%",
        "Heat pump heat ÷ (heat pump + electric aux + fossil backup heat).",
        needs=(HP_HEAT,),
        by_mode=True,
        when_nan="No heat was delivered.",
    ),
    *_per_day(
        "compressor_hours", "Compressor run time", "h", "Hours with the compressor on", needs=(COMPRESSOR_ON,)
    ),
    *_per_day("compressor_starts", "Compressor starts", "1", "Compressor starts", needs=(COMPRESSOR_ON,)),
    *_per_day(
        "aux_hours",
        "Electric aux run time",
        "h",
        "Hours with any aux stage on",
        needs_any=(*AUX_STAGES, AUX_HEAT),
    ),
    *_per_day("defrosts", "Defrosts", "1", "Defrost cycles started", needs=(DEFROST_ACTIVE,)),
    *_per_day("mode_switches", "Mode switches", "1", "Changes of the system mode", needs=(SYSTEM_MODE,)),
    Definition(
        "comfort_hours_outside",
        "Comfort",
        "Hours outside the comfort band",
        "h",
        "Indoor temperature below comfort_low or above comfort_high.",
        needs=_COMFORT,
    ),
    Definition(
        "comfort_hours_below",
        "Comfort",
        "Hours below the comfort band",
        "h",
        "Indoor temperature below comfort_low: too cold.",
        needs=(INDOOR_TEMP, COMFORT_LOW),
    ),
    Definition(
        "comfort_hours_above",
        "Comfort",
        "Hours above the comfort band",
        "h",
        "Indoor temperature above comfort_high: too warm.",
        needs=(INDOOR_TEMP, COMFORT_HIGH),
    ),
    Definition(
        "comfort_kelvin_hours",
        "Comfort",
        "Kelvin-hours outside the comfort band",
        "K·h",
        "How far and how long the indoor temperature left the band.",
        needs=_COMFORT,
    ),
    Definition(
        "peak_aux_power",
        "Peaks",
        "Peak electric aux heat",
        "kW",
        "Highest electric aux heat (= its electric power).",
        needs=(AUX_HEAT,),
    ),
    Definition(
        "peak_backup_power",
        "Peaks",
        "Peak fossil backup heat",
        "kW",
        "Highest fossil-fuel backup heat.",
        needs=(BACKUP_HEAT,),
    ),
    Definition(
        "peak_electric_power",
        "Peaks",
        "Peak electric power",
        "kW",
        "Highest heat pump + electric aux power at one time: what the supply must carry.",
        needs=(HP_POWER,),
    ),
    Definition(
        "energy_hp_heat",
        "Energy",
        "Heat pump heat, heating",
        "kWh",
        "Heat the heat pump delivered in Heating mode, net of defrost.",
        needs=(HP_HEAT,),
        by_mode=True,
    ),
    Definition(
        "energy_environment",
        "Energy",
        "Heat pump heat from the environment",
        "kWh",
        "Heat pump heat minus heat pump electricity in Heating mode: the renewable part.",
        needs=(HP_HEAT, HP_POWER),
        by_mode=True,
    ),
    Definition(
        "energy_hp_cooling",
        "Energy",
        "Heat pump cooling",
        "kWh",
        "Heat the heat pump removed in Cooling mode.",
        needs=(HP_HEAT, SYSTEM_MODE),
    ),
    Definition(
        "energy_aux",
        "Energy",
        "Electric aux heat",
        "kWh",
        "Electric auxiliary heat (= its electricity).",
        needs=(AUX_HEAT,),
    ),
    Definition(
        "energy_backup",
        "Energy",
        "Fossil backup heat",
        "kWh",
        "Heat from the fossil-fuel backup.",
        needs=(BACKUP_HEAT,),
    ),
    Definition(
        "energy_loop_boiler",
        "Energy",
        "Water-loop boiler heat",
        "kWh",
        "Heat the boiler put into the source water loop.",
        needs=(LOOP_BOILER_HEAT,),
    ),
    Definition(
        "energy_hp_electricity",
        "Energy",
        "Heat pump electricity",
        "kWh",
        "Compressor and fan, in every mode.",
        needs=(HP_POWER,),
    ),
    Definition(
        "energy_electricity",
        "Energy",
        "Total electricity",
        "kWh",
        "Heat pump + electric aux, in every mode.",
        needs=(HP_POWER,),
    ),
    Definition(
        "alarms_raised", "Alarms", "Alarms raised", "", "Times any alarm turned on, over all alarm columns."
    ),
    Definition(
        "alarm_hours", "Alarms", "Alarm hours", "h", "Hours each alarm was on, summed over all alarms."
    ),
)

SECTION_OF: dict[str, str] = {definition.key: definition.section for definition in DEFINITIONS}

_NO_ALARMS = "Not computed: the run has no alarm columns (a trend read from CSV carries no roles)."


def _missing(trend: Trend, definition: Definition) -> str:
    """Why a KPI cannot be computed from this trend, or "" if it can."""
    absent = [name for name in definition.needs if name not in trend]
    if definition.needs_any and not any(name in trend for name in definition.needs_any):
        absent.extend(definition.needs_any)
    if not absent:
        return ""
    listed = ", ".join(f"`{name}`" for name in absent)
    either = " (any one of the last)" if definition.needs_any and len(absent) > 1 else ""
    return f"Not computed: the run has no {listed} column{'s' if len(absent) > 1 else ''}{either}."


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0.0 else math.nan


def _max(values: FloatArray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.max()) if len(finite) else math.nan


def _peak(values: FloatArray | None) -> float:
    return math.nan if values is None or len(values) == 0 else float(np.max(values))


def compute(trend: Trend) -> list[Kpi]:
    """The KPIs of a run, always the keys of `DEFINITIONS` in their order (see `docs/kpis.md`)."""
    basis = _basis(trend)
    day = _daily(trend, basis)
    values = _values(trend, basis, day)
    mode_note = f" No `{SYSTEM_MODE}` column: every row counted as Heating."
    alarms = any(column.role == "alarm" for column in trend.columns.values())
    kpis: list[Kpi] = []
    for definition in DEFINITIONS:
        note = _missing(trend, definition)
        if not note and definition.section == "Alarms" and not alarms:
            note = _NO_ALARMS
        value = math.nan if note else values[definition.key]
        if not note:
            note = definition.when_nan if math.isnan(value) and definition.when_nan else definition.note
            if definition.by_mode and SYSTEM_MODE not in trend:
                note += mode_note
        kpis.append(Kpi(definition.key, definition.title, value, definition.unit, note))
    return kpis


def _values(trend: Trend, basis: _Basis, day: DailySummary) -> dict[str, float]:
    """Every KPI's value by key; NaN (or any number) where its columns are missing, which `compute` notes."""
    run_days = float(np.sum(basis.dt)) / _SECONDS_PER_DAY

    def total(values: FloatArray) -> float:
        return float(np.sum(values))

    def zero_if_absent(name: str, values: FloatArray) -> float:
        return total(values) if name in trend else 0.0

    hp_heat = total(day.hp_heat_kwh)
    heating_electricity = total(day.hp_heating_electricity_kwh)
    aux = zero_if_absent(AUX_HEAT, day.aux_kwh)
    backup = zero_if_absent(BACKUP_HEAT, day.backup_kwh)
    values = {
        "cop_heating": _ratio(hp_heat, heating_electricity),
        "cop_heating_system": _ratio(hp_heat + aux, heating_electricity + aux),
        "eer_cooling": _ratio(total(day.hp_cooling_kwh), total(day.hp_cooling_electricity_kwh)),
        "hp_heat_share": 100.0 * _ratio(hp_heat, hp_heat + aux + backup),
    }
    per_day = {
        "compressor_hours": day.compressor_hours,
        "compressor_starts": day.compressor_starts,
        "aux_hours": day.aux_hours,
        "defrosts": day.defrosts,
        "mode_switches": day.mode_switches,
    }
    for key, daily_values in per_day.items():
        values[f"{key}_per_day"] = total(daily_values) / run_days if run_days > 0.0 else math.nan
        values[f"{key}_max_day"] = _max(daily_values)
    below, above = total(day.comfort_below_hours), total(day.comfort_above_hours)
    hp_power, aux_heat = _real(trend, HP_POWER), _real(trend, AUX_HEAT)
    electric_power = hp_power if hp_power is None or aux_heat is None else hp_power + aux_heat
    alarm_flags = [np.asarray(c.values).astype(bool) for c in trend.columns.values() if c.role == "alarm"]
    alarm_seconds = sum(float(np.sum(basis.dt[flags])) for flags in alarm_flags)
    values.update(
        {
            "comfort_hours_outside": below + above,
            "comfort_hours_below": below,
            "comfort_hours_above": above,
            "comfort_kelvin_hours": _kelvin_hours(trend, basis),
            "peak_aux_power": _peak(aux_heat),
            "peak_backup_power": _peak(_real(trend, BACKUP_HEAT)),
            "peak_electric_power": _peak(electric_power),
            "energy_hp_heat": hp_heat,
            "energy_environment": hp_heat - heating_electricity,
            "energy_hp_cooling": total(day.hp_cooling_kwh),
            "energy_aux": aux,
            "energy_backup": backup,
            "energy_loop_boiler": total(day.loop_boiler_kwh),
            "energy_hp_electricity": total(day.hp_electricity_kwh),
            "energy_electricity": total(day.electricity_kwh),
            "alarms_raised": float(sum(alarm_counts(trend).values())),
            "alarm_hours": alarm_seconds / _SECONDS_PER_HOUR,
        }
    )
    return values


def _kelvin_hours(trend: Trend, basis: _Basis) -> float:
    indoor, low, high = (_real(trend, name) for name in _COMFORT)
    if indoor is None or low is None or high is None:
        return math.nan
    outside = np.maximum(low - indoor, 0.0) + np.maximum(indoor - high, 0.0)
    return float(np.sum(outside * basis.dt)) / _SECONDS_PER_HOUR


# ---------------------------------------------------------------------------------------------
# JSON


def rounded(value: float, digits: int = 6) -> float | None:
    """A value to `digits` significant digits for a file meant to be compared; None for NaN."""
    if math.isnan(value) or math.isinf(value):
        return None
    if value == 0.0:
        return 0.0  # also turns -0.0 into 0.0
    return float(f"{value:.{digits}g}")


def to_json(kpis: list[Kpi], scorecard: dict[str, Any] | None = None) -> str:
    """The KPIs as JSON in the given order, values to 6 significant digits, NaN as null.

    With a scorecard (`hpdsl.sim.scorecard.to_json_items`) the file is an object of the two,
    `{"kpis": [...], "scorecard": {"met": ..., "goals": [...]}}`; without, the array of KPIs.
    """
    items: list[dict[str, Any]] = []
    for kpi in kpis:
        item = {f.name: getattr(kpi, f.name) for f in fields(kpi)}
        item["value"] = rounded(kpi.value)
        items.append(item)
    document: Any = items if scorecard is None else {"kpis": items, "scorecard": scorecard}
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
