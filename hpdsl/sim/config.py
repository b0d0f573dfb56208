"""The plant model file: the plant's parameters, and where its sensors and commands meet the rules.

A TOML file with one table per part of the plant; every value carries its unit and is
converted to the unit the model computes in, so `ua = "16500 BTU/h/F"` would do as well as
`"4.84 kW/K"` if hpdsl knew the unit. Parameters left out keep their defaults (the documents'
balance-point example: a 150 kW building at -10C and a 50 kW heat pump)::

    [building]
    building_ua = "4.84 kW/K"

    [heat_pump]
    rated_capacity = "50 kW"
    capacity_curve = [["-20C", "20 %"], ["-10C", "40 %"], ["-5C", "60 %"], ["5C", "100 %"]]

    [source]
    source_type = "Ground"

    [points]                         # only for a package whose points are named otherwise
    outdoor_temp = "PlantSignals.outdoor_temp_sensor"

`docs/simulate.md` lists every parameter; `hpdsl simulate --plant FILE` reads it.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.files import UsageError, read_checked
from hpdsl.base.source import SourceFile, Span
from hpdsl.compile.site import load_toml, toml_places, toml_positions, toml_value
from hpdsl.language import units as units_
from hpdsl.language.values import Target, ValueProblem, convert, range_problem
from hpdsl.sim import faults as faults_
from hpdsl.sim.plant import PlantParameters

# Each parameter: its table, its unit (the unit the model computes in; "" for a plain number,
# "member" for a name), and the range a plant can sensibly have.
_PARAMETERS: dict[str, tuple[str, str, float, float]] = {
    "building_ua": ("building", "kW/K", 0.01, 1000.0),
    "indoor_capacity": ("building", "kWh/K", 0.1, 10000.0),
    "mass_capacity": ("building", "kWh/K", 0.1, 100000.0),
    "mass_coupling": ("building", "kW/K", 0.01, 10000.0),
    "internal_gains_occupied": ("building", "kW", 0.0, 10000.0),
    "internal_gains_unoccupied": ("building", "kW", 0.0, 10000.0),
    "solar_gain_full_sun": ("building", "kW", 0.0, 10000.0),
    "emitter_ua": ("building", "kW/K", 0.01, 10000.0),
    "initial_indoor_temp": ("building", "C", 0.0, 40.0),
    "water_capacity": ("water", "kWh/K", 0.05, 10000.0),
    "load_flow": ("water", "l/s", 0.01, 100.0),
    "fluid_heat_capacity": ("water", "kJ/l/K", 3.0, 4.3),
    "rated_capacity": ("heat_pump", "kW", 1.0, 2000.0),
    "rated_cooling_capacity": ("heat_pump", "kW", 1.0, 2000.0),
    "carnot_efficiency": ("heat_pump", "", 0.1, 0.8),
    "condensing_approach": ("heat_pump", "K", 0.5, 20.0),
    "evaporating_approach_air": ("heat_pump", "K", 0.5, 20.0),
    "evaporating_approach_water": ("heat_pump", "K", 0.5, 20.0),
    "max_cop": ("heat_pump", "", 1.0, 15.0),
    "fan_power": ("heat_pump", "kW", 0.0, 100.0),
    "supply_voltage": ("heat_pump", "V", 100.0, 1000.0),
    "power_factor": ("heat_pump", "", 0.5, 1.0),
    "variable_speed_min": ("heat_pump", "", 0.05, 0.5),
    "coil_airflow": ("frost", "kg/s", 0.1, 200.0),
    "frost_deposit_share": ("frost", "", 0.0, 1.0),
    "frost_capacity": ("frost", "kg", 0.1, 1000.0),
    "frost_capacity_loss": ("frost", "", 0.0, 0.9),
    "frost_approach": ("frost", "K", 0.0, 20.0),
    "defrost_heat_draw": ("frost", "kW", 0.0, 1000.0),
    "defrost_power": ("frost", "kW", 0.0, 1000.0),
    "coil_heat_capacity": ("frost", "kJ/K", 1.0, 10000.0),
    "coil_air_conductance": ("frost", "kW/K", 0.01, 100.0),
    "coil_time_constant": ("frost", "s", 1.0, 3600.0),
    "aux_stage_capacity": ("aux", "kW", 0.0, 5000.0),
    "backup_capacity": ("aux", "kW", 0.0, 5000.0),
    "source_type": ("source", "member", 0.0, 0.0),
    "ground_mean_temp": ("source", "C", -5.0, 30.0),
    "ground_swing": ("source", "K", 0.0, 15.0),
    "ground_warmest_day": ("source", "", 1.0, 365.0),
    "borefield_resistance": ("source", "K/kW", 0.0, 5.0),
    "borefield_capacity": ("source", "kWh/K", 1.0, 1e7),
    "borefield_recovery": ("source", "kW/K", 0.0, 1000.0),
    "loop_capacity": ("source", "kWh/K", 1.0, 1e6),
    "loop_other_units": ("source", "kW", -5000.0, 5000.0),
    "loop_other_units_ua": ("source", "kW/K", 0.0, 1000.0),
    "loop_boiler_capacity": ("source", "kW", 0.0, 5000.0),
    "loop_tower_ua": ("source", "kW/K", 0.0, 1000.0),
    "initial_source_temp": ("source", "C", -10.0, 40.0),
    "reset_design_outdoor": ("bas", "C", -40.0, 10.0),
    "reset_design_supply": ("bas", "C", 20.0, 70.0),
    "reset_mild_outdoor": ("bas", "C", 0.0, 25.0),
    "reset_mild_supply": ("bas", "C", 15.0, 60.0),
    "reset_room_gain": ("bas", "", 0.0, 10.0),
    "supply_min": ("bas", "C", 10.0, 60.0),
    "supply_max": ("bas", "C", 20.0, 70.0),
    "cooling_supply": ("bas", "C", 4.0, 20.0),
    "cooling_setpoint": ("bas", "C", 18.0, 30.0),
    "demand_gain": ("bas", "", 0.1, 100.0),
    "demand_integral_time": ("bas", "s", 10.0, 36000.0),
    "recovery_gain": ("bas", "kW/K", 0.0, 1000.0),
    "comfort_margin": ("bas", "K", 0.0, 5.0),
    "operator_reset_after": ("bas", "s", 0.0, 30 * 86400.0),
    "commissioned_days_before": ("bas", "d", 0.0, 36500.0),
}
_CURVE = ("heat_pump", "capacity_curve")
SOURCE_TYPES = ("Air", "WaterLoop", "Ground")

# Where the plant meets the rules: each sensor feeds a field input, each command reads an
# output. The defaults are the shipped package's points.
SENSOR_POINTS: dict[str, str] = {
    "outdoor_temp": "PlantSignals.outdoor_temp_sensor",
    "outdoor_coil_temp": "PlantSignals.outdoor_coil_temp_sensor",
    "compressor_running": "PlantSignals.compressor_running_status",
    "load_demand": "PlantSignals.load_demand_signal",
    "supply_temp": "PlantSignals.supply_water_temp_sensor",
    "return_temp": "PlantSignals.return_water_temp_sensor",
    "source_water_temp": "PlantSignals.source_water_temp_sensor",
    "electrical_power": "PlantSignals.electrical_power_meter",
    "alarm_reset": "PlantSignals.alarm_reset_button",
    "occupancy_override": "Occupancy.occupancy_override",
    "discharge_temp": "EquipmentProtection.discharge_temp",
    "suction_pressure": "EquipmentProtection.suction_pressure",
    "discharge_pressure": "EquipmentProtection.discharge_pressure",
    "compressor_current": "EquipmentProtection.compressor_current",
    "load_flow": "Performance.load_flow",
    "outdoor_humidity": "DefrostControl.outdoor_humidity",
    "coil_outlet_temp": "DefrostControl.coil_outlet_temp",
    "space_temp": "PlantSignals.space_temp_sensor",
    "required_heat": "AuxHeat.required_heat",
    "supply_temp_target": "SupplyTemperatureCheck.supply_temp_target",
    "days_since_commissioning": "PerformanceTracking.time_since_commissioning",
    "aux_stage_1_proof": "AuxHeat.aux_stage_1_proven",
    "aux_stage_2_proof": "AuxHeat.aux_stage_2_proven",
}
# Sensors bound by default only where the package has the point: a package written before
# them, or without such proof, simulates as it did.
OPTIONAL_SENSORS = frozenset({"aux_stage_1_proof", "aux_stage_2_proof"})
COMMAND_POINTS: dict[str, str] = {
    "stage_1": "CompressorStaging.stage_1_speed",
    "stage_2": "CompressorStaging.stage_2_speed",
    "reversed_cycle": "ReversingValve.reversing_valve_cooling",
    "outdoor_fan": "DefrostControl.outdoor_fan_release",
    "aux_stage_1": "AuxHeat.aux_stage_1",
    "aux_stage_2": "AuxHeat.aux_stage_2",
    "backup": "AuxHeat.backup_heat_enable",
    "loop_boiler": "Sources.loop_heat_injection",
    "loop_tower": "Sources.loop_heat_rejection",
    "cooling_mode": "Changeover.system_mode",
    "heating_setpoint": "Occupancy.heating_setpoint",
    "occupied": "Occupancy.occupied",
}
# The parameter the plant's source type defaults to.
SOURCE_PARAMETER = ("Sources", "installed_source")


@dataclass
class PlantFile:
    """A plant model file read: the parameters, the point bindings, and what was wrong."""

    name: str
    parameters: PlantParameters = field(default_factory=PlantParameters)
    points: dict[str, str] = field(default_factory=dict)  # sensor or command -> `Program.point` ("" = none)
    spans: dict[str, Span] = field(default_factory=dict)  # where each binding is written
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: SourceFile | None = None

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    def binding(self, name: str) -> str:
        """The point a sensor or command is bound to."""
        if name in self.points:
            return self.points[name]
        return SENSOR_POINTS.get(name) or COMMAND_POINTS[name]


def defaults() -> PlantFile:
    return PlantFile("<defaults>")


def read(path: Path) -> PlantFile:
    """Read and check a plant model file; problems become `plant-file` diagnostics."""
    if not path.is_file():
        raise UsageError(f"no such plant model file: `{path}`")
    return read_checked(path, PlantFile, check)


def check(source: SourceFile) -> PlantFile:
    """The plant model of a file's text."""
    result = PlantFile(source.name, source=source)
    hint = 'a value with a unit is a string: `building_ua = "4.84 kW/K"`'
    data = load_toml(source, messages.PLANT_FILE, hint, result.diagnostics)
    if data is None:
        return result
    positions = toml_positions(source)
    sections = {section for section, _, _, _ in _PARAMETERS.values()} | {"points"}
    changes: dict[str, object] = {}
    for section, table in data.items():
        if section == "fault":
            changes["faults"] = faults_.read_faults(
                table, toml_places(source), SENSOR_UNITS, result.diagnostics
            )
            continue
        table_span = positions.get((section, None), Span.point(source.name, 1, 1))
        if section not in sections or not isinstance(table, dict):
            result.diagnostics.append(
                messages.PLANT_FILE.at(
                    table_span,
                    problem=f"`{section}` is not a table of the plant model",
                    hint=f"the tables are {', '.join(f'[{s}]' for s in sorted(sections))} and [[fault]]",
                )
            )
            continue
        for key, raw in table.items():
            key_span = positions.get((section, key), table_span)
            value_span = positions.get((section, f"={key}"), key_span)
            if section == "points":
                _binding(result, key, raw, key_span, value_span)
                continue
            problem, advice = _parameter(section, key, raw, value_span, changes)
            if problem is not None:
                span = key_span if problem.startswith(f"`{key}`") else value_span
                result.diagnostics.append(messages.PLANT_FILE.at(span, problem=problem, hint=advice))
    if result.ok:
        result.parameters = dataclasses.replace(PlantParameters(), **changes)  # type: ignore[arg-type]
    return result


def _binding(result: PlantFile, key: str, raw: object, key_span: Span, value_span: Span) -> None:
    known = {**SENSOR_POINTS, **COMMAND_POINTS}
    if key not in known:
        result.diagnostics.append(
            messages.PLANT_FILE.at(
                key_span,
                problem=f"the plant has no sensor or command `{key}`",
                hint=messages.did_you_mean(key, known) or "the names are listed in docs/simulate.md",
            )
        )
    elif not isinstance(raw, str) or (raw and raw.count(".") != 1):
        result.diagnostics.append(
            messages.PLANT_FILE.at(
                value_span,
                problem=f'`{key}` must name a point as "Program.point" (or "" for none)',
                hint=f'for example `{key} = "{known[key]}"`',
            )
        )
    else:
        result.points[key] = raw
        result.spans[key] = value_span


def _parameter(
    section: str, key: str, raw: object, span: Span, changes: dict[str, object]
) -> tuple[str | None, str | None]:
    """Convert one parameter into `changes`; (problem, hint) when it does not fit."""
    if (section, key) == _CURVE:
        curve = _curve(raw, span)
        if isinstance(curve, str):
            return curve, 'write `capacity_curve = [["-20C", "20 %"], ["5C", "100 %"]]`, colder first'
        changes[key] = curve
        return None, None
    entry = _PARAMETERS.get(key)
    if entry is None or entry[0] != section:
        names = [name for name, (s, _, _, _) in _PARAMETERS.items() if s == section]
        if entry is not None:
            return f"`{key}` belongs in [{entry[0]}], not [{section}]", f"move it under [{entry[0]}]"
        return f"`{key}` is not a parameter of [{section}]", messages.did_you_mean(key, names)
    _, unit, low, high = entry
    if unit == "member":
        if raw not in SOURCE_TYPES:
            return f"`{raw}` is not a source type", "write one of " + ", ".join(SOURCE_TYPES)
        changes[key] = raw
        return None, None
    if isinstance(raw, dict | list):
        return f"`{key}` holds a list or table", f'write one value: `{key} = "..."`'
    shown = f"{getattr(PlantParameters(), key):g} {unit}".strip()
    example = f'`{key} = "{shown}"`'
    try:
        value = convert(toml_value(raw, span), Target("real", unit))
    except ValueProblem as problem:
        return f"[{section}] {key}: {problem.problem}", problem.hint or f"write it as {example}"
    assert isinstance(value, float)
    out_of_range = range_problem(value, low, high, unit)
    if out_of_range is not None:
        return f"[{section}] {key}: {out_of_range}", "check the value and its unit"
    changes[key] = int(value) if key == "ground_warmest_day" else value
    return None, None


def _curve(raw: object, span: Span) -> tuple[tuple[float, float], ...] | str:
    if not isinstance(raw, list) or len(raw) < 2:
        return "the capacity curve needs at least two points"
    points: list[tuple[float, float]] = []
    for point in raw:
        if not isinstance(point, list) or len(point) != 2:
            return "each point of the capacity curve is a pair [temperature, capacity]"
        try:
            temperature = convert(toml_value(point[0], span), Target("real", "C"))
            share = convert(toml_value(point[1], span), Target("real", "%"))
        except ValueProblem as problem:
            return f"capacity curve: {problem.problem}"
        assert isinstance(temperature, float) and isinstance(share, float)
        points.append((temperature, share / 100.0))
    if any(b[0] <= a[0] for a, b in itertools.pairwise(points)):
        return "the capacity curve's temperatures must rise from point to point"
    if any(not 0.0 < share <= 2.0 for _, share in points):
        return "a capacity share must lie between 0 % and 200 %"
    return tuple(points)


def section_of(name: str) -> str:
    """The table of the plant file a parameter is written in."""
    return _PARAMETERS[name][0]


def unit_of(name: str) -> str:
    """The unit a parameter is written in (for the documentation and the report)."""
    return _PARAMETERS[name][1] if name in _PARAMETERS else ""


def described(parameters: PlantParameters) -> list[tuple[str, str]]:
    """Every parameter as (`[table] name`, value with unit), for the report."""
    rows: list[tuple[str, str]] = []
    for name, (section, unit, _, _) in _PARAMETERS.items():
        value = getattr(parameters, name)
        if unit == "member":
            shown = str(value) or "from the rules"
        else:
            symbol = units_.lookup(unit) if unit else None
            shown = units_.format_quantity(float(value), symbol) if symbol else f"{value:g}"
        rows.append((f"[{section}] {name}", shown))
    curve = ", ".join(f"{t:g}C: {share * 100:g} %" for t, share in parameters.capacity_curve)
    rows.append(("[heat_pump] capacity_curve", curve))
    rows += [(f"[[fault]] {fault.kind}", fault.describe()) for fault in parameters.faults]
    return rows


# The unit each sensor reads in, as the plant model computes it.
SENSOR_UNITS: dict[str, str] = {
    "outdoor_temp": "C",
    "outdoor_coil_temp": "C",
    "compressor_running": "",
    "load_demand": "%",
    "supply_temp": "C",
    "return_temp": "C",
    "source_water_temp": "C",
    "electrical_power": "kW",
    "alarm_reset": "",
    "occupancy_override": "",
    "discharge_temp": "C",
    "suction_pressure": "bar",
    "discharge_pressure": "bar",
    "compressor_current": "A",
    "load_flow": "l/s",
    "outdoor_humidity": "%",
    "coil_outlet_temp": "C",
    "space_temp": "C",
    "required_heat": "kW",
    "supply_temp_target": "C",
    "days_since_commissioning": "d",
    "aux_stage_1_proof": "",
    "aux_stage_2_proof": "",
}


def sensor_unit(sensor: str) -> str:
    return SENSOR_UNITS[sensor]


def converted(expression: str, unit: str, into: str) -> str:
    """Python text converting `expression` from `unit` into `into`; ValueError if they do not convert."""
    if unit == into or not unit or not into:
        return expression
    source, target = units_.lookup(unit), units_.lookup(into)
    if source is None or target is None:
        raise ValueError(f"unknown unit `{unit if source is None else into}`")
    try:
        scale, offset = source.factor_to(target)
    except units_.UnitError as exc:
        raise ValueError(str(exc)) from exc
    text = f"({expression}) * {scale!r}" if scale != 1.0 else f"({expression})"
    return f"{text} + {offset!r}" if offset else text
