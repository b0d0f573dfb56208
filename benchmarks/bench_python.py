"""How fast the generated Python runs: one scan of each program, a simulated year, and the
same logic written by hand.

    python3 benchmarks/bench_python.py [--repeat N] [--year-repeat N] [--quick]

The rules in rules/ are compiled with `hpdsl.codegen.compiler.compile_paths(..., "python")`, the module
is written to a temporary folder and imported; nothing else of hpdsl runs while timing.

1. One scan of every program of the package, standalone: each class instantiated with its
   default parameters, every input set to a plausible in-range value (from its POINTS
   entry, or a table of typical readings below), then `scan(60.0)` called many times. A
   standalone program checks every input in every scan (a missing or out-of-range value is a
   sensor fault), so this is the cost of a program used on its own. The `Package.scan` row
   runs all of them wired together, with the same field values.
2. A simulated year of one-minute scans (525,600) of the whole `Package`: the field inputs
   (every POINTS input that no wire feeds) follow a deterministic synthetic weather and plant
   trace computed from the minute index (seasonal and daily outdoor temperature, humidity, a
   coil a few K below outdoor while the compressor runs, load from the outdoor temperature,
   water temperatures, power, refrigerant readings, a rare over-current trip that latches
   until the daily 08:00 reset, ...). The trace is computed a month at a time before that
   month is timed, so only setting the inputs and scanning are measured. The target is a
   year in under 10 s. --quick runs January only and multiplies by 12 (January is the
   busiest month: defrosts and auxiliary heat), and says so.
3. The reference: Changeover, AuxHeat and DefrostControl written by hand below as plain,
   readable Python classes (enums, `self.` attributes, two small timer helpers, no input
   checks beyond the ranges and fallbacks the rules declare). The generated classes, used
   standalone, and the hand-written ones are fed the same inputs for one simulated month,
   recorded beforehand from a run of the whole `Package` over that month, through the same
   feeding loop. Before any timing the two must agree on every output, machine state, alarm
   and event-log entry at every scan of that month (floats within 1e-9), so the reference
   cannot drift from the rules; the generated code is the specification. The ratio
   generated / hand-written is the cost of generating the code; the target is 1.25 or less.
   The column "generated, wired" is the same generated class with its wired inputs marked as
   `Package` marks them (`_wired`: no per-scan input checks), for information only.

Machines are noisy, so every comparison is between numbers measured in the same run, each
the best (minimum) of --repeat runs with the cyclic garbage collector paused. Not a test:
the numbers go into the README, not into assertions (only the agreement check asserts).
"""

from __future__ import annotations

import argparse
import enum
import gc
import math
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import hpdsl  # noqa: E402
from hpdsl.codegen.compiler import compile_paths, import_generated  # noqa: E402

MODULE_NAME = "hpdsl_bench_rules"
SCAN_S = 60.0
MINUTES_PER_DAY = 1440
MINUTES_PER_YEAR = 365 * MINUTES_PER_DAY  # 525,600 one-minute scans
MONTH = MINUTES_PER_YEAR // 12  # 43,800 scans: the year is timed a month at a time
YEAR_TARGET_S = 10.0
RATIO_TARGET = 1.25
STANDALONE_SCANS = 20_000
# The month of part 3 starts on day 270 (27 September to 26 October: the last warm afternoons
# and the first frosts), a month of the synthetic year in which the changeover goes both ways,
# the economizer and the cooling compressor take turns, aux heat stages and is held by its
# minimum on/off times, and defrosts end in each of their three ways (REQUIRED_COVERAGE).
REFERENCE_START_DAY = 270
REFERENCE_DAYS = 30


# --------------------------------------------------------------------------------------------
# The generated module
# --------------------------------------------------------------------------------------------


@dataclass
class Generated:
    """The imported module, the inputs its package wires, and the module's length."""

    module: ModuleType
    wired: set[tuple[str, str]]  # (program, input) pairs that a wire feeds
    lines: int


def load_generated() -> Generated:
    result = compile_paths([REPO / "rules"], "python")
    if not result.ok or result.package is None:
        for diagnostic in result.diagnostics:
            print(diagnostic, file=sys.stderr)
        raise SystemExit("the rules in rules/ do not compile")
    text = result.files["rules.py"]
    module = import_generated(text, MODULE_NAME)
    wired = {(wire.program, wire.input) for wire in result.package.wires}
    return Generated(module, wired, text.count("\n"))


def input_points(cls: Any) -> list[Any]:
    return [point for point in cls.POINTS if point.kind == "input"]


def field_inputs(generated: Generated) -> set[tuple[str, str]]:
    """Every (program, input) of the package that no wire feeds: the plant's field points."""
    package = generated.module.Package
    return {
        (cls.NAME, point.name)
        for cls in package.PROGRAMS
        for point in input_points(cls)
        if (cls.NAME, point.name) not in generated.wired
    }


def programs_by_name(package: Any) -> dict[str, Any]:
    return {type(program).NAME: program for program in package.programs()}


def timed(action: Callable[[], object]) -> float:
    """Seconds `action` takes, with the cyclic garbage collector paused."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        action()
        return time.perf_counter() - start
    finally:
        gc.enable()


# --------------------------------------------------------------------------------------------
# 1. One scan of each program, standalone
# --------------------------------------------------------------------------------------------

# Typical readings of a running air-source unit on a cold, damp day; inputs not named here
# get the middle of their range, false, or the first member of their enumeration.
PLAUSIBLE: dict[str, float | bool] = {
    # field points
    "outdoor_temp_sensor": 2.0,
    "outdoor_coil_temp_sensor": -3.0,
    "compressor_running_status": True,
    "load_demand_signal": 55.0,
    "supply_water_temp_sensor": 41.0,
    "return_water_temp_sensor": 36.0,
    "source_water_temp_sensor": 12.0,
    "electrical_power_meter": 9.0,
    "discharge_temp": 62.0,
    "suction_pressure": 5.5,
    "discharge_pressure": 26.0,
    "compressor_current": 9.0,
    "load_flow": 1.5,
    "outdoor_humidity": 80.0,
    "coil_outlet_temp": -1.0,
    "space_temp": 20.5,
    "required_heat": 85.0,
    "supply_temp_target": 40.0,
    "time_since_commissioning": 200.0,
    # points other programs publish, for a program used on its own
    "outdoor_temp": 2.0,
    "outdoor_coil_temp": -3.0,
    "compressor_running": True,
    "load_demand": 55.0,
    "supply_water_temp": 41.0,
    "return_water_temp": 36.0,
    "source_water_temp": 12.0,
    "electrical_power": 9.0,
    "defrost_applicable": True,
    "compressor_permissive": True,
    "heating_setpoint": 21.0,
    "hp_max_capacity": 38.0,
    "thermal_output": 31.0,
    "cop": 3.4,
    "cop_valid": True,
    "nominal_cop": 2.5,
    "load_limit": 100.0,
    "aux_runtime_today": 1.5,
}


def plausible_value(module: ModuleType, point: Any) -> Any:
    if point.type == "bool":
        return bool(PLAUSIBLE.get(point.name, False))
    if point.type in ("int", "real"):
        low, high = point.low, point.high
        if point.name in PLAUSIBLE:
            value = float(PLAUSIBLE[point.name])
        elif low is not None and high is not None:
            value = (low + high) / 2
        else:
            value = 0.0 if high is None or high >= 0.0 else high
        assert (low is None or value >= low) and (high is None or value <= high), point
        return int(value) if point.type == "int" else value
    members = list(getattr(module, point.type))
    return members[0]


def standalone(generated: Generated, repeat: int, scans: int) -> tuple[float, float]:
    module = generated.module
    print(f"## 1. One scan of each program, standalone: best of {repeat} x {scans:,} scans")
    print()
    print("| program | inputs | µs per scan |")
    print("|---|---|---|")
    total = 0.0
    for cls in module.Package.PROGRAMS:
        program = cls()
        points = input_points(cls)
        for point in points:
            setattr(program, point.name, plausible_value(module, point))
        program.scan(SCAN_S)
        faults = [alarm for alarm in program.active_alarms() if alarm.endswith("_sensor_fault")]
        assert not faults, (cls.NAME, faults)
        scan = program.scan

        def run(scan: Callable[[float], None] = scan) -> None:
            for _ in range(scans):
                scan(SCAN_S)

        per_scan = min(timed(run) for _ in range(repeat)) / scans
        total += per_scan
        print(f"| {cls.NAME} | {len(points)} | {per_scan * 1e6:.2f} |")
    package = module.Package()
    by_name = programs_by_name(package)
    for name, input_name in sorted(field_inputs(generated)):
        point = next(p for p in by_name[name].POINTS if p.name == input_name)
        setattr(by_name[name], input_name, plausible_value(module, point))
    package.scan(SCAN_S)

    scan_package = package.scan

    def run_package() -> None:
        for _ in range(scans):
            scan_package(SCAN_S)

    per_package_scan = min(timed(run_package) for _ in range(repeat)) / scans
    print(f"| **all {len(module.Package.PROGRAMS)} programs, standalone** | | **{total * 1e6:.2f}** |")
    print(f"| `Package.scan` (wired, same field values) | | {per_package_scan * 1e6:.2f} |")
    print()
    return total, per_package_scan


# --------------------------------------------------------------------------------------------
# 2. The synthetic year
# --------------------------------------------------------------------------------------------

# The field inputs in the order of a trace row; `feed_package` assigns them in this order.
FIELD_ORDER: tuple[tuple[str, str], ...] = (
    ("PlantSignals", "outdoor_temp_sensor"),
    ("PlantSignals", "outdoor_coil_temp_sensor"),
    ("PlantSignals", "compressor_running_status"),
    ("PlantSignals", "load_demand_signal"),
    ("PlantSignals", "supply_water_temp_sensor"),
    ("PlantSignals", "return_water_temp_sensor"),
    ("PlantSignals", "source_water_temp_sensor"),
    ("PlantSignals", "electrical_power_meter"),
    ("PlantSignals", "alarm_reset_button"),
    ("Occupancy", "occupancy_override"),
    ("EquipmentProtection", "discharge_temp"),
    ("EquipmentProtection", "suction_pressure"),
    ("EquipmentProtection", "discharge_pressure"),
    ("EquipmentProtection", "compressor_current"),
    ("Performance", "load_flow"),
    ("DefrostControl", "outdoor_humidity"),
    ("DefrostControl", "coil_outlet_temp"),
    ("DefrostControl", "space_temp"),
    ("AuxHeat", "required_heat"),
    ("SupplyTemperatureCheck", "supply_temp_target"),
    ("PerformanceTracking", "time_since_commissioning"),
)

TAU = 2.0 * math.pi
FLUID_HEAT_CAPACITY = 4.18  # kJ/l/K, water
LOAD_FLOW = 1.5  # l/s while the compressor runs


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def _capacity_fraction(outdoor: float) -> float:
    """Share of the rated heating capacity of the synthetic unit (its own curve, not the rules')."""
    return _clip(0.6 + 0.04 * (outdoor + 5.0), 0.2, 1.0)


def outdoor_temperature(minute: int) -> float:
    day = minute / MINUTES_PER_DAY
    hour = (minute % MINUTES_PER_DAY) / 60.0
    seasonal = 10.0 - 13.0 * math.cos(TAU * (day - 20.0) / 365.0)  # coldest on 20 January
    swing = 4.0 + 1.5 * math.sin(TAU * day / 6.3)
    daily = -swing * math.cos(TAU * (hour - 3.0) / 24.0)  # coldest at 03:00, warmest at 15:00
    weather = (
        4.0 * math.sin(TAU * day / 4.7)
        + 3.0 * math.sin(TAU * day / 11.3 + 1.0)
        + 2.0 * math.sin(TAU * day / 29.5 + 2.0)
    )
    return seasonal + daily + weather


def field_row(minute: int) -> tuple[Any, ...]:
    """The field inputs at `minute` (0 = Monday 2024-01-01 00:00), in FIELD_ORDER.

    No feedback: the trace does not see what the controls do (a defrost, a lockout), it only
    looks like a plant. The coil outlet temperature carries a 17-minute 0-24 K sawtooth that
    stands in for a defrost's hot gas, so defrosts end on temperature in mild weather and on
    their timeout in the cold.
    """
    day_index, minute_of_day = divmod(minute, MINUTES_PER_DAY)
    day = minute / MINUTES_PER_DAY
    hour = minute_of_day / 60.0
    weekday = day_index % 7
    outdoor = outdoor_temperature(minute)
    humidity = _clip(
        70.0 + 15.0 * math.cos(TAU * (hour - 4.0) / 24.0) + 10.0 * math.sin(TAU * day / 5.9 + 0.5),
        25.0,
        100.0,
    )
    heating = outdoor < 18.0
    if heating:
        load = _clip((18.0 - outdoor) / 30.0 * 100.0, 0.0, 100.0)
    else:
        load = _clip((outdoor - 22.0) / 12.0 * 100.0, 0.0, 100.0)
    running = load >= 30.0 or (load > 3.0 and minute % 30 < load)  # cycles at low load
    target = _clip(35.0 + 0.5 * (15.0 - outdoor), 30.0, 50.0) if heating else 7.0  # supply reset
    if running:
        frosting = heating and outdoor <= 7.0 and humidity > 60.0
        frost_factor = 1.0 - 0.4 * (minute % 100) / 100.0 if frosting else 1.0
        rated = 50.0 * _capacity_fraction(outdoor) if heating else 50.0
        clean_output = rated * load / 100.0
        thermal = clean_output * frost_factor
        cop = _clip(2.6 + 0.07 * outdoor, 1.6, 4.5) if heating else 4.0
        power = clean_output / cop + 0.3
        flow = LOAD_FLOW
        supply = target + 1.2 * math.sin(TAU * minute / 37.0)
        delta = thermal / (flow * FLUID_HEAT_CAPACITY)
        return_temp = supply - delta if heating else supply + delta
        coil = outdoor - 3.0 - 5.0 * load / 100.0 if heating else outdoor + 8.0
        discharge_temp = 50.0 + 20.0 * load / 100.0
        suction = _clip(5.0 + 0.12 * outdoor, 3.5, 12.0)
        discharge_pressure = 12.0 + 0.35 * supply
        current = 5.0 + 6.0 * load / 100.0
    else:
        power, flow, coil = 0.05, 0.0, outdoor
        supply = return_temp = 22.0
        discharge_temp, suction, discharge_pressure, current = 25.0, 8.0, 10.0, 0.0
    if day_index % 11 == 3 and 120 <= minute_of_day < 123:
        current = 18.0  # over-current trip at 02:00 every 11 days; latched until the 08:00 reset
    coil_outlet = coil + 24.0 * (minute % 17) / 17.0
    occupied_hours = weekday < 5 and 7.0 <= hour < 18.0
    space = (21.0 if occupied_hours else 17.0) - 0.3 + 0.5 * math.sin(TAU * minute / 53.0)
    if minute % 89 < 9:
        space -= 2.6  # a draught: the comfort alarm fires if a defrost runs meanwhile
    required_heat = max(0.0, 4.6 * (20.5 - outdoor) + 6.0 * math.sin(TAU * minute / 41.0))
    return (
        outdoor,
        coil,
        running,
        load,
        supply,
        return_temp,
        12.0 + 4.0 * math.sin(TAU * (day - 100.0) / 365.0),
        power,
        minute_of_day == 480,  # the operator acknowledges alarms at 08:00
        weekday == 5 and 10.0 <= hour < 12.0,  # Saturday-morning override
        discharge_temp,
        suction,
        discharge_pressure,
        current,
        flow,
        humidity,
        coil_outlet,
        space,
        required_heat,
        target,
        200.0 + day,
    )


def field_rows(first_minute: int, minutes: int) -> list[tuple[Any, ...]]:
    return [field_row(minute) for minute in range(first_minute, first_minute + minutes)]


def package_runner(package: Any) -> Callable[[Sequence[tuple[Any, ...]]], None]:
    """A function that sets the field inputs of each row, in FIELD_ORDER, and scans the package."""
    by_name = programs_by_name(package)
    signals = by_name["PlantSignals"]
    occupancy = by_name["Occupancy"]
    protection = by_name["EquipmentProtection"]
    performance = by_name["Performance"]
    defrost = by_name["DefrostControl"]
    aux_heat = by_name["AuxHeat"]
    supply_check = by_name["SupplyTemperatureCheck"]
    tracking = by_name["PerformanceTracking"]
    scan = package.scan

    def run(rows: Sequence[tuple[Any, ...]]) -> None:
        for (
            outdoor_temp_sensor,
            outdoor_coil_temp_sensor,
            compressor_running_status,
            load_demand_signal,
            supply_water_temp_sensor,
            return_water_temp_sensor,
            source_water_temp_sensor,
            electrical_power_meter,
            alarm_reset_button,
            occupancy_override,
            discharge_temp,
            suction_pressure,
            discharge_pressure,
            compressor_current,
            load_flow,
            outdoor_humidity,
            coil_outlet_temp,
            space_temp,
            required_heat,
            supply_temp_target,
            time_since_commissioning,
        ) in rows:
            signals.outdoor_temp_sensor = outdoor_temp_sensor
            signals.outdoor_coil_temp_sensor = outdoor_coil_temp_sensor
            signals.compressor_running_status = compressor_running_status
            signals.load_demand_signal = load_demand_signal
            signals.supply_water_temp_sensor = supply_water_temp_sensor
            signals.return_water_temp_sensor = return_water_temp_sensor
            signals.source_water_temp_sensor = source_water_temp_sensor
            signals.electrical_power_meter = electrical_power_meter
            signals.alarm_reset_button = alarm_reset_button
            occupancy.occupancy_override = occupancy_override
            protection.discharge_temp = discharge_temp
            protection.suction_pressure = suction_pressure
            protection.discharge_pressure = discharge_pressure
            protection.compressor_current = compressor_current
            performance.load_flow = load_flow
            defrost.outdoor_humidity = outdoor_humidity
            defrost.coil_outlet_temp = coil_outlet_temp
            defrost.space_temp = space_temp
            aux_heat.required_heat = required_heat
            supply_check.supply_temp_target = supply_temp_target
            tracking.time_since_commissioning = time_since_commissioning
            scan(SCAN_S)

    return run


def feed_package(package: Any, rows: Sequence[tuple[Any, ...]]) -> float:
    """Seconds to set the field inputs of every row and scan the package after each."""
    run = package_runner(package)
    return timed(lambda: run(rows))


def check_field_feed(generated: Generated) -> None:
    """FIELD_ORDER is exactly the package's unwired inputs, and feed_package sets them in that order."""
    expected = field_inputs(generated)
    assert set(FIELD_ORDER) == expected and len(FIELD_ORDER) == len(expected), (
        "the field inputs changed; update FIELD_ORDER, field_row and feed_package",
        sorted(expected.symmetric_difference(FIELD_ORDER)),
    )
    package = generated.module.Package()
    row = field_row(7 * MINUTES_PER_DAY + 600)
    package_runner(package)([row])
    by_name = programs_by_name(package)
    for (program, name), value in zip(FIELD_ORDER, row, strict=True):
        assert getattr(by_name[program], name) == value, (program, name)
    for program in package.programs():
        faults = [alarm for alarm in program.active_alarms() if alarm.endswith("_sensor_fault")]
        assert not faults, (type(program).NAME, faults)


def check_in_range(generated: Generated, rows: Sequence[tuple[Any, ...]]) -> None:
    """Every field value of the trace lies within its input's declared range: no sensor faults."""
    classes = {cls.NAME: cls for cls in generated.module.Package.PROGRAMS}
    for (program, name), column in zip(FIELD_ORDER, zip(*rows, strict=True), strict=True):
        point = next(p for p in classes[program].POINTS if p.name == name)
        if point.type == "bool":
            assert all(type(value) is bool for value in column), (program, name)
            continue
        low, high = min(column), max(column)
        assert point.low is None or low >= point.low, (program, name, low)
        assert point.high is None or high <= point.high, (program, name, high)


def simulated_year(generated: Generated, quick: bool, repeat: int) -> tuple[float, float, int]:
    """Seconds for the year (measured, or January x 12 with --quick), seconds of trace making, scans run."""
    months = 1 if quick else 12
    best = math.inf
    making = 0.0
    for _ in range(repeat):
        package = generated.module.Package()
        scanning = 0.0
        for month in range(months):
            start = time.perf_counter()
            rows = field_rows(month * MONTH, MONTH)
            making += time.perf_counter() - start
            check_in_range(generated, rows)
            scanning += feed_package(package, rows)
            del rows
        best = min(best, scanning)
    return best * 12 / months, making / repeat, months * MONTH


# --------------------------------------------------------------------------------------------
# 3. The hand-written reference
# --------------------------------------------------------------------------------------------


class Mode(enum.Enum):
    HEATING = "heating"
    COOLING = "cooling"


class Strategy(enum.Enum):
    TIME_BASED = "time"
    TEMPERATURE_BASED = "temperature"
    DEMAND_BASED = "demand"
    HYBRID = "hybrid"


class DefrostState(enum.Enum):
    IDLE = "idle"
    DEFROSTING = "defrosting"
    COOL_DOWN = "cool-down"


class OnDelay:
    """True once a condition has held for `delay_s`; the timer starts at 0 on its first true scan."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.running = False
        self.elapsed_s = 0.0

    def update(self, condition: bool, dt_s: float) -> bool:
        if not condition:
            self.running = False
            self.elapsed_s = 0.0
            return False
        if self.running:
            self.elapsed_s = min(self.elapsed_s + dt_s, self.delay_s)
        else:
            self.running = True
            self.elapsed_s = 0.0
        return self.elapsed_s >= self.delay_s


class MinOnOff:
    """A bool output that, once switched, keeps its value for at least `min_time_s`."""

    def __init__(self, min_time_s: float, value: bool = False) -> None:
        self.min_time_s = min_time_s
        self.value = value
        self.held_s = min_time_s  # free to switch in the first scan
        self.holds = 0  # switches refused, for the coverage report

    def update(self, wanted: bool, dt_s: float) -> bool:
        self.held_s = min(self.held_s + dt_s, self.min_time_s)
        if wanted != self.value:
            if self.held_s < self.min_time_s:
                self.holds += 1
            else:
                self.value = wanted
                self.held_s = 0.0
        return self.value


class HandChangeover:
    """Heating below 15C, cooling above 21C, the last mode in between; the economizer cools in
    Cooling mode until the outdoor air is more than 1 K above its setpoint."""

    def __init__(
        self,
        cooling_above: float = 21.0,
        heating_below: float = 15.0,
        economizer_setpoint: float = 21.0,
        economizer_differential: float = 1.0,
    ) -> None:
        self.cooling_above = cooling_above
        self.heating_below = heating_below
        self.economizer_setpoint = economizer_setpoint
        self.economizer_differential = economizer_differential
        self.outdoor_temp = 0.0
        self.system_mode = Mode.HEATING
        self.too_warm_to_economize = False
        self.cooling_compressor_enable = False
        self.economizer_enable = False

    def scan(self, dt_s: float) -> None:
        outdoor = self.outdoor_temp
        if outdoor < self.heating_below:
            self.system_mode = Mode.HEATING
        elif outdoor > self.cooling_above:
            self.system_mode = Mode.COOLING
        if outdoor < self.economizer_setpoint:
            self.too_warm_to_economize = False
        elif outdoor > self.economizer_setpoint + self.economizer_differential:
            self.too_warm_to_economize = True
        cooling = self.system_mode is Mode.COOLING
        self.cooling_compressor_enable = cooling and self.too_warm_to_economize
        self.economizer_enable = cooling and not self.too_warm_to_economize


def forced_aux_stages(outdoor_temp: float) -> int:
    """The aux_staging table: stages held on in the cold whatever the demand."""
    if outdoor_temp < -10.0:
        return 3
    if outdoor_temp <= -5.0:
        return 2
    return 0


class HandAuxHeat:
    """Two electric stages and a fossil-fuel backup, locked out above the balance point."""

    def __init__(
        self,
        design_heat_loss: float = 150.0,
        design_outdoor_temp: float = -10.0,
        design_indoor_temp: float = 21.0,
        aux_heat_capacity: float = 100.0,
        aux_stage_1_factor: float = 0.7,
        aux_stage_2_factor: float = 1.2,
        balance_point_differential: float = 5.0,
    ) -> None:
        self.design_heat_loss = design_heat_loss
        self.building_ua = design_heat_loss / (design_indoor_temp - design_outdoor_temp)
        self.aux_heat_capacity = aux_heat_capacity
        self.aux_stage_1_factor = aux_stage_1_factor
        self.aux_stage_2_factor = aux_stage_2_factor
        self.balance_point_differential = balance_point_differential
        self.outdoor_temp = 0.0
        self.system_mode = Mode.HEATING
        self.hp_max_capacity = 0.0
        self.heating_setpoint = 21.0
        self.defrost_cycle_active = False
        self.required_heat = design_heat_loss
        self.building_load = 0.0
        self.above_balance_point = False
        self.stage_1 = MinOnOff(5 * 60.0)
        self.stage_2 = MinOnOff(5 * 60.0)
        self.backup = MinOnOff(10 * 60.0)
        self.aux_stage_1 = False
        self.aux_stage_2 = False
        self.backup_heat_enable = False

    def scan(self, dt_s: float) -> None:
        required = self.required_heat
        if not 0.0 <= required <= 5000.0:
            required = self.design_heat_loss  # the declared fallback
        self.building_load = max(self.building_ua * (self.heating_setpoint - self.outdoor_temp), 0.0)
        margin = self.hp_max_capacity - self.building_load
        if margin < 0.0:
            self.above_balance_point = False
        elif margin > self.balance_point_differential:
            self.above_balance_point = True
        forced = forced_aux_stages(self.outdoor_temp)
        if self.system_mode is Mode.COOLING:
            stage_1 = stage_2 = backup = False
        elif self.defrost_cycle_active:
            stage_1 = True
            stage_2 = required > self.aux_heat_capacity / 2
            backup = required > self.aux_heat_capacity
        elif self.above_balance_point:
            stage_1 = stage_2 = backup = False
        else:
            capacity = self.hp_max_capacity
            stage_1 = required > self.aux_stage_1_factor * capacity or forced >= 1
            stage_2 = required > self.aux_stage_2_factor * capacity or forced >= 2
            backup = required > capacity + self.aux_heat_capacity or forced >= 3
        self.aux_stage_1 = self.stage_1.update(stage_1, dt_s)
        self.aux_stage_2 = self.stage_2.update(stage_2, dt_s)
        self.backup_heat_enable = self.backup.update(backup, dt_s)


@dataclass
class DefrostRecord:
    """One finished defrost, for the event log."""

    time_s: float
    duration_min: float
    timed_out: bool
    coil_outlet_temp: float
    outdoor_temp: float


class HandDefrostControl:
    """Frost risk, the defrost triggers, the reverse-cycle sequence and its comfort alarm."""

    NEVER_S = 1e9  # time_since before the first defrost

    def __init__(
        self,
        strategy: Strategy = Strategy.HYBRID,
        frost_air_temp_max: float = 7.0,
        frost_humidity_min: float = 60.0,
        defrost_interval_min: float = 90.0,
        defrost_coil_temp: float = 5.0,
        defrost_runtime_min: float = 10.0,
        defrost_capacity_loss: float = 20.0,
        demand_confirm_min: float = 5.0,
        demand_min_load: float = 30.0,
        min_duration_min: float = 5.0,
        timeout_min: float = 15.0,
        end_temp: float = 15.0,
        cooldown_min: float = 10.0,
        comfort_drop: float = 2.0,
    ) -> None:
        self.strategy = strategy
        self.frost_air_temp_max = frost_air_temp_max
        self.frost_humidity_min = frost_humidity_min
        self.defrost_interval_s = defrost_interval_min * 60.0
        self.defrost_coil_temp = defrost_coil_temp
        self.defrost_capacity_loss = defrost_capacity_loss
        self.demand_min_load = demand_min_load
        self.min_duration_s = min_duration_min * 60.0
        self.timeout_s = timeout_min * 60.0
        self.end_temp = end_temp
        self.cooldown_s = cooldown_min * 60.0
        self.comfort_drop = comfort_drop
        # inputs
        self.system_mode = Mode.HEATING
        self.defrost_applicable = True
        self.outdoor_temp = 0.0
        self.outdoor_coil_temp = 0.0
        self.compressor_running = False
        self.load_demand = 0.0
        self.compressor_permissive = True
        self.low_coil_defrost_request = False
        self.peak_occupied = False
        self.heating_setpoint = 21.0
        self.thermal_output = 0.0
        self.hp_max_capacity = 0.0
        self.outdoor_humidity = 100.0
        self.coil_outlet_temp = -5.0
        self.space_temp = 21.0
        # outputs
        self.reverse_cycle = False
        self.outdoor_fan_release = True
        self.defrost_cycle_active = False
        self.defrost_timed_out = False
        # internal state
        self.frost_risk = False
        self.time_trigger = False
        self.temperature_trigger = False
        self.expected_output = 0.0
        self.capacity_loss = 0.0
        self.demand_trigger = False
        self.defrost_request = False
        self.state = DefrostState.IDLE
        self.time_in_state_s = 0.0
        self.since_defrost_s = self.NEVER_S
        self.coil_cold = OnDelay(defrost_runtime_min * 60.0)
        self.loss_confirmed = OnDelay(demand_confirm_min * 60.0)
        self.comfort_delay = OnDelay(2 * 60.0)
        self.comfort_alarm = False
        self.clock_s = 0.0
        self.log: list[DefrostRecord] = []
        self.alarm_events: list[tuple[float, bool]] = []  # (time, raised) of the comfort alarm

    def scan(self, dt_s: float) -> None:
        self.clock_s += dt_s
        humidity = self.outdoor_humidity if 0.0 <= self.outdoor_humidity <= 100.0 else 100.0
        coil_outlet = self.coil_outlet_temp if -40.0 <= self.coil_outlet_temp <= 80.0 else -5.0
        space = self.space_temp if 0.0 <= self.space_temp <= 40.0 else 21.0

        # Frost risk and the three triggers. time_since reads the previous scan's defrost flag.
        self.frost_risk = self.outdoor_temp <= self.frost_air_temp_max and humidity > self.frost_humidity_min
        if self.defrost_cycle_active:
            self.since_defrost_s = 0.0
        else:
            self.since_defrost_s = min(self.since_defrost_s + dt_s, self.NEVER_S)
        self.time_trigger = self.since_defrost_s >= self.defrost_interval_s
        self.temperature_trigger = self.coil_cold.update(
            self.outdoor_coil_temp < self.defrost_coil_temp and self.compressor_running, dt_s
        )
        self.expected_output = self.hp_max_capacity * self.load_demand / 100.0
        if self.compressor_running and self.load_demand >= self.demand_min_load:
            delivered = self.thermal_output / self.expected_output if self.expected_output != 0.0 else 0.0
            self.capacity_loss = min(max(100.0 * (1.0 - delivered), 0.0), 100.0)
        else:
            self.capacity_loss = 0.0
        self.demand_trigger = self.loss_confirmed.update(
            self.capacity_loss > self.defrost_capacity_loss, dt_s
        )

        # Combine the triggers by strategy.
        if self.strategy is Strategy.TIME_BASED:
            scheduled, confirmed = self.time_trigger and self.frost_risk, False
        elif self.strategy is Strategy.TEMPERATURE_BASED:
            scheduled, confirmed = self.temperature_trigger and self.frost_risk, False
        elif self.strategy is Strategy.DEMAND_BASED:
            scheduled, confirmed = False, self.demand_trigger
        else:
            scheduled = self.temperature_trigger and self.time_trigger and self.frost_risk
            confirmed = self.temperature_trigger and self.demand_trigger
        self.defrost_request = (
            self.defrost_applicable
            and self.system_mode is Mode.HEATING
            and self.compressor_permissive
            and (
                (scheduled and not self.peak_occupied)
                or confirmed
                or (self.low_coil_defrost_request and self.time_trigger)
            )
        )

        # The defrost sequence.
        self.time_in_state_s = min(self.time_in_state_s + dt_s, self.NEVER_S)
        if self.state is DefrostState.IDLE:
            if self.defrost_request:
                self.state = DefrostState.DEFROSTING
                self.time_in_state_s = 0.0
                self.reverse_cycle = True
                self.outdoor_fan_release = False
                self.defrost_cycle_active = True
                self.defrost_timed_out = False
        elif self.state is DefrostState.DEFROSTING:
            melted = coil_outlet > self.end_temp and self.time_in_state_s >= self.min_duration_s
            timed_out = self.time_in_state_s >= self.timeout_s
            if melted or timed_out or not self.compressor_permissive:
                self.reverse_cycle = False
                self.outdoor_fan_release = True
                self.defrost_cycle_active = False
                self.defrost_timed_out = timed_out
                self.log.append(
                    DefrostRecord(
                        self.clock_s, self.time_in_state_s / 60.0, timed_out, coil_outlet, self.outdoor_temp
                    )
                )
                self.state = DefrostState.COOL_DOWN
                self.time_in_state_s = 0.0
        elif self.time_in_state_s >= self.cooldown_s:
            self.defrost_timed_out = False
            self.state = DefrostState.IDLE
            self.time_in_state_s = 0.0

        # Comfort alarm: indoor temperature too far below the setpoint during a defrost.
        comfort_lost = self.comfort_delay.update(
            self.defrost_cycle_active and self.heating_setpoint - space > self.comfort_drop, dt_s
        )
        if comfort_lost != self.comfort_alarm:
            self.comfort_alarm = comfort_lost
            self.alarm_events.append((self.clock_s, comfort_lost))


# --------------------------------------------------------------------------------------------
# 3. Generated against hand-written
# --------------------------------------------------------------------------------------------

# Inputs of each compared program in the order of a recorded row (`feed_*` below use it).
CHANGEOVER_INPUTS = ("outdoor_temp",)
AUX_HEAT_INPUTS = (
    "outdoor_temp",
    "system_mode",
    "hp_max_capacity",
    "heating_setpoint",
    "defrost_cycle_active",
    "required_heat",
)
DEFROST_INPUTS = (
    "system_mode",
    "defrost_applicable",
    "outdoor_temp",
    "outdoor_coil_temp",
    "compressor_running",
    "load_demand",
    "compressor_permissive",
    "low_coil_defrost_request",
    "peak_occupied",
    "heating_setpoint",
    "thermal_output",
    "hp_max_capacity",
    "outdoor_humidity",
    "coil_outlet_temp",
    "space_temp",
)

# Alarms every generated program has and the reference does not: a cycle time it cannot use and
# a parameter written at run time outside its range. The generated code pays for checking them
# in every scan (the ratio includes that cost); the month's trace raises neither.
GUARD_ALARMS = ("cycle_time_fault", "parameter_fault")

# Generated attribute -> hand-written attribute, where the reference names a thing differently.
RENAMED = {
    "defrost_sequence": "state",
    "defrost_sequence_time_in_state": "time_in_state_s",
    "defrost_comfort_loss": "comfort_alarm",
}


def feed_changeover(program: Any, rows: Sequence[tuple[Any, ...]]) -> float:
    scan = program.scan

    def run() -> None:
        for (outdoor_temp,) in rows:
            program.outdoor_temp = outdoor_temp
            scan(SCAN_S)

    return timed(run)


def feed_aux_heat(program: Any, rows: Sequence[tuple[Any, ...]]) -> float:
    scan = program.scan

    def run() -> None:
        for (
            outdoor_temp,
            system_mode,
            hp_max_capacity,
            heating_setpoint,
            defrost_cycle_active,
            required_heat,
        ) in rows:
            program.outdoor_temp = outdoor_temp
            program.system_mode = system_mode
            program.hp_max_capacity = hp_max_capacity
            program.heating_setpoint = heating_setpoint
            program.defrost_cycle_active = defrost_cycle_active
            program.required_heat = required_heat
            scan(SCAN_S)

    return timed(run)


def feed_defrost(program: Any, rows: Sequence[tuple[Any, ...]]) -> float:
    scan = program.scan

    def run() -> None:
        for (
            system_mode,
            defrost_applicable,
            outdoor_temp,
            outdoor_coil_temp,
            compressor_running,
            load_demand,
            compressor_permissive,
            low_coil_defrost_request,
            peak_occupied,
            heating_setpoint,
            thermal_output,
            hp_max_capacity,
            outdoor_humidity,
            coil_outlet_temp,
            space_temp,
        ) in rows:
            program.system_mode = system_mode
            program.defrost_applicable = defrost_applicable
            program.outdoor_temp = outdoor_temp
            program.outdoor_coil_temp = outdoor_coil_temp
            program.compressor_running = compressor_running
            program.load_demand = load_demand
            program.compressor_permissive = compressor_permissive
            program.low_coil_defrost_request = low_coil_defrost_request
            program.peak_occupied = peak_occupied
            program.heating_setpoint = heating_setpoint
            program.thermal_output = thermal_output
            program.hp_max_capacity = hp_max_capacity
            program.outdoor_humidity = outdoor_humidity
            program.coil_outlet_temp = coil_outlet_temp
            program.space_temp = space_temp
            scan(SCAN_S)

    return timed(run)


@dataclass
class Compared:
    """One program of part 3: how to make both versions, and the inputs of every scan."""

    name: str
    inputs: tuple[str, ...]
    generated: Callable[[], Any]
    hand: Callable[[], Any]
    feed: Callable[[Any, Sequence[tuple[Any, ...]]], float]
    rows: list[tuple[Any, ...]]  # with the generated module's enumerations
    hand_rows: list[tuple[Any, ...]]  # the same, with the reference's enumerations


def record_reference_inputs(generated: Generated) -> list[Compared]:
    """Run the whole Package over the reference month and record what each compared program read."""
    module = generated.module
    modes = {module.SystemMode.Heating: Mode.HEATING, module.SystemMode.Cooling: Mode.COOLING}
    compared = [
        Compared("Changeover", CHANGEOVER_INPUTS, module.Changeover, HandChangeover, feed_changeover, [], []),
        Compared("AuxHeat", AUX_HEAT_INPUTS, module.AuxHeat, HandAuxHeat, feed_aux_heat, [], []),
        Compared(
            "DefrostControl", DEFROST_INPUTS, module.DefrostControl, HandDefrostControl, feed_defrost, [], []
        ),
    ]
    for item in compared:
        declared = tuple(point.name for point in input_points(getattr(module, item.name)))
        assert set(declared) == set(item.inputs), (item.name, "inputs changed", declared)
    package = module.Package()
    by_name = programs_by_name(package)
    first = REFERENCE_START_DAY * MINUTES_PER_DAY
    # Start the package a day early so that the month does not begin from the power-up state.
    run = package_runner(package)
    run(field_rows(first - MINUTES_PER_DAY, MINUTES_PER_DAY))
    for row in field_rows(first, REFERENCE_DAYS * MINUTES_PER_DAY):
        run([row])
        for item in compared:
            program = by_name[item.name]
            values = tuple(getattr(program, name) for name in item.inputs)
            item.rows.append(values)
            item.hand_rows.append(tuple(modes.get(v, v) if isinstance(v, enum.Enum) else v for v in values))
    return compared


def _same(generated_value: Any, hand_value: Any) -> bool:
    if isinstance(generated_value, enum.Enum):
        return isinstance(hand_value, enum.Enum) and (
            generated_value.name.lower() == hand_value.name.replace("_", "").lower()
        )
    if isinstance(generated_value, bool) or isinstance(hand_value, bool):
        return generated_value is hand_value
    return math.isclose(generated_value, hand_value, rel_tol=1e-12, abs_tol=1e-9)


def check_agreement(module: ModuleType, item: Compared) -> dict[str, int]:
    """Step both versions through the month, comparing every output at every scan; what happened, counted."""
    cls = getattr(module, item.name)
    names = [
        point.name
        for point in cls.POINTS
        if point.kind in ("output", "machine", "alarm") and point.name not in GUARD_ALARMS
    ]
    generated, hand = item.generated(), item.hand()
    counts: dict[str, int] = {}
    previous: dict[str, Any] = {name: getattr(generated, name) for name in names}
    log_seen = alarms_seen = 0
    for index, (row, hand_row) in enumerate(zip(item.rows, item.hand_rows, strict=True)):
        for name, value, hand_value in zip(item.inputs, row, hand_row, strict=True):
            setattr(generated, name, value)
            setattr(hand, name, hand_value)
        generated.scan(SCAN_S)
        hand.scan(SCAN_S)
        where = f"{item.name}, scan {index} (day {REFERENCE_START_DAY + index // MINUTES_PER_DAY})"
        for name in names:
            value, hand_value = getattr(generated, name), getattr(hand, RENAMED.get(name, name))
            assert _same(value, hand_value), (
                f"{where}: {name} generated {value!r}, hand-written {hand_value!r}"
            )
            if name != "defrost_sequence_time_in_state" and value != previous[name]:
                counts[f"{name} changes"] = counts.get(f"{name} changes", 0) + 1
            previous[name] = value
        assert not [a for a in generated.alarm_changes if a.alarm.endswith("_sensor_fault")], where
        assert not any(getattr(generated, name, False) for name in GUARD_ALARMS), where
        if isinstance(hand, HandDefrostControl):
            new_log, log_seen = hand.log[log_seen:], len(hand.log)
            assert len(generated.log_entries) == len(new_log), f"{where}: event log differs"
            for entry, record in zip(generated.log_entries, new_log, strict=True):
                fields = entry.fields
                assert entry.event == "defrost_completed", where
                assert _same(fields["duration"], record.duration_min), where
                assert fields["timed_out"] is record.timed_out, where
                assert _same(fields["coil_outlet_temp"], record.coil_outlet_temp), where
                assert _same(fields["outdoor_temp"], record.outdoor_temp), where
                melted = record.coil_outlet_temp > hand.end_temp and (
                    record.duration_min * 60.0 >= hand.min_duration_s
                )
                if melted:
                    reason = "defrosts ended on coil temperature"
                elif record.timed_out:
                    reason = "defrosts ended on timeout"
                else:
                    reason = "defrosts ended by a protection trip"
                counts[reason] = counts.get(reason, 0) + 1
            new_alarms, alarms_seen = hand.alarm_events[alarms_seen:], len(hand.alarm_events)
            raised = [a.raised for a in generated.alarm_changes if a.alarm == "defrost_comfort_loss"]
            assert raised == [r for _, r in new_alarms], f"{where}: comfort alarm records differ"
    if isinstance(hand, HandAuxHeat):
        counts["switches held by min on/off"] = hand.stage_1.holds + hand.stage_2.holds + hand.backup.holds
    return counts


# What the reference month must exercise, so that the agreement check means something.
REQUIRED_COVERAGE = {
    "Changeover": ("system_mode changes", "cooling_compressor_enable changes", "economizer_enable changes"),
    "AuxHeat": (
        "aux_stage_1 changes",
        "aux_stage_2 changes",
        "backup_heat_enable changes",
        "above_balance_point changes",
        "switches held by min on/off",
    ),
    "DefrostControl": (
        "defrosts ended on coil temperature",
        "defrosts ended on timeout",
        "defrosts ended by a protection trip",
        "defrost_comfort_loss changes",
    ),
}


def make_wired(factory: Callable[[], Any]) -> Callable[[], Any]:
    def make() -> Any:
        program = factory()
        program._wired = True  # as Package does: wired inputs are not checked again
        return program

    return make


def versus_hand_written(generated: Generated, repeat: int) -> tuple[float, float]:
    module = generated.module
    compared = record_reference_inputs(generated)
    scans = len(compared[0].rows)
    print(
        f"## 3. Generated against hand-written Python: {REFERENCE_DAYS} days from day {REFERENCE_START_DAY} "
        f"({scans:,} scans), best of {repeat}"
    )
    print()
    coverage = []
    for item in compared:
        counts = check_agreement(module, item)
        missing = [what for what in REQUIRED_COVERAGE[item.name] if not counts.get(what)]
        assert not missing, f"{item.name}: the reference month no longer exercises {missing}"
        coverage.append(
            f"{item.name}: " + ", ".join(f"{what} {counts[what]}" for what in REQUIRED_COVERAGE[item.name])
        )
    print("Agreement checked at every scan of the month, every output, state, alarm and log entry:")
    for line in coverage:
        print(f"- {line}")
    print()
    for item in compared:  # the feeding loops set each input from its own column
        probe = item.generated()
        item.feed(probe, item.rows[:1])
        assert all(getattr(probe, n) == v for n, v in zip(item.inputs, item.rows[0], strict=True)), item.name
    print("| program | hand-written µs/scan | generated µs/scan | ratio | generated, wired µs/scan | ratio |")
    print("|---|---|---|---|---|---|")
    totals = [0.0, 0.0, 0.0]
    for item in compared:
        versions = (
            (item.hand, item.hand_rows),
            (item.generated, item.rows),
            (make_wired(item.generated), item.rows),
        )
        samples: list[list[float]] = [[], [], []]
        for _ in range(repeat):  # interleaved, so that a slow spell of the machine hits all three
            for times, (factory, rows) in zip(samples, versions, strict=True):
                times.append(item.feed(factory(), rows))
        hand, gen, wired = (min(times) / scans for times in samples)
        for i, value in enumerate((hand, gen, wired)):
            totals[i] += value
        print(
            f"| {item.name} | {hand * 1e6:.2f} | {gen * 1e6:.2f} | {gen / hand:.2f} "
            f"| {wired * 1e6:.2f} | {wired / hand:.2f} |"
        )
    hand, gen, wired = totals
    print(
        f"| **total** | **{hand * 1e6:.2f}** | **{gen * 1e6:.2f}** | **{gen / hand:.2f}** "
        f"| {wired * 1e6:.2f} | {wired / hand:.2f} |"
    )
    print()

    class Inert:
        """What the feeding loop costs without any logic: a scan that does nothing."""

        def scan(self, dt_s: float) -> None:
            pass

    harness = sum(min(item.feed(Inert(), item.rows) for _ in range(repeat)) for item in compared) / scans
    print(
        f"Included in both columns: the feeding loop itself (set the inputs, call a scan that does "
        f"nothing) costs {harness * 1e6:.2f} µs/scan for the three programs. Target: ratio <= {RATIO_TARGET}."
    )
    print()
    return gen / hand, wired / hand


# --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of parts 1 and 3; the best counts")
    parser.add_argument(
        "--year-repeat", type=int, default=1, help="runs of the simulated year; the best counts"
    )
    parser.add_argument("--quick", action="store_true", help="January x 12 instead of the whole year")
    args = parser.parse_args()
    repeat = max(1, args.repeat)

    start = time.perf_counter()
    generated = load_generated()
    compile_s = time.perf_counter() - start
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(
        f"# Generated Python: hpdsl {hpdsl.__version__}, {generated.lines:,} lines compiled in "
        f"{compile_s:.1f} s; {python} on {platform.machine()}"
    )
    print()
    check_field_feed(generated)

    standalone_total, package_scan = standalone(generated, repeat, STANDALONE_SCANS)

    year_s, making_s, scans = simulated_year(generated, args.quick, max(1, args.year_repeat))
    label = (
        f"January only ({scans:,} scans) x 12, --quick" if args.quick else f"the full year ({scans:,} scans)"
    )
    print(f"## 2. A simulated year of one-minute scans of `Package`: {label}")
    print()
    print("| what | seconds | µs per scan | target |")
    print("|---|---|---|---|")
    verdict = "met" if year_s < YEAR_TARGET_S else "missed"
    extrapolated = " (extrapolated)" if args.quick else ""
    print(
        f"| 525,600 scans, field inputs set each scan | {year_s:.2f}{extrapolated} "
        f"| {year_s / MINUTES_PER_YEAR * 1e6:.2f} | < {YEAR_TARGET_S:.0f} s: {verdict} |"
    )
    print()
    print(f"Making the trace (not timed): {making_s:.1f} s.")
    print()

    ratio, wired_ratio = versus_hand_written(generated, repeat)

    quick = ", --quick: January x 12" if args.quick else ""
    print(
        f"**Summary** ({python}, hpdsl {hpdsl.__version__}): one scan of all "
        f"{len(generated.module.Package.PROGRAMS)} programs takes {standalone_total * 1e6:.1f} µs standalone "
        f"and {package_scan * 1e6:.1f} µs as a `Package`; a simulated year of one-minute scans runs in "
        f"{year_s:.1f} s (target < {YEAR_TARGET_S:.0f} s{quick}); Changeover, AuxHeat and DefrostControl run "
        f"at {ratio:.2f}x hand-written Python (target <= {RATIO_TARGET}x; {wired_ratio:.2f}x without the "
        f"per-scan input checks)."
    )


if __name__ == "__main__":
    main()
