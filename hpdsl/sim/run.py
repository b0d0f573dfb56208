"""The closed loop: each scan the plant's sensors feed the rules, the rules' commands drive the plant.

One step of the loop, at time t:

1. the plant's field devices and the BAS signals are read (weather at t, plant state at t);
2. the rules scan once (the first scan with 0 s elapsed, like a controller after power-up);
3. every point of the rules is recorded at t;
4. the plant advances to t + step under the commands the scan gave, and its states and flows
   are recorded (flows are the averages over that step).

The package runs on the Python target exactly as `hpdsl test` runs it, so a simulation shows
what the rules the PLC gets will do.
"""

from __future__ import annotations

import datetime
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpdsl.sim import config as config_
from hpdsl.sim.loaded import LoadedPackage, PointSpec, Recorder
from hpdsl.sim.plant import PLANT_COLUMNS, SENSOR_ATTRIBUTES, Commands, Plant, snapshot_function
from hpdsl.sim.trend import Column, Trend
from hpdsl.sim.weather import Weather

# Fraction of the unit's capacity each compressor stage gives, by the command's member name.
STAGE_FRACTIONS = {"Off": 0.0, "LowSpeed": 0.25, "MaxSpeed": 0.5}
# Follows the load demand left over by the other stage, between the minimum and half capacity.
VARIABLE_SPEED = "VariableSpeed"


class BindingError(Exception):
    """The plant's sensors or commands cannot be bound to the package's points."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(problem for _, problem in problems))
        self.problems = problems  # (binding name, problem)


@dataclass
class Simulation:
    """A finished run: the trend and what produced it."""

    trend: Trend
    source_type: str
    scans: int
    seconds: float  # wall-clock time of the loop
    lockouts: int = 0  # operator acknowledges of latched alarms
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Bindings:
    feed: Callable[[Any, Any], None]
    read: Callable[[Any, Commands, float], None]


def simulate(
    loaded: LoadedPackage,
    plant_file: config_.PlantFile,
    weather: Weather,
    start: datetime.datetime,
    duration_s: float,
    step_s: float,
    *,
    progress: bool = False,
) -> Simulation:
    """Run the package in closed loop with the plant for `duration_s` seconds of simulated time."""
    count = math.floor(duration_s / step_s + 1e-9) + 1
    series = weather.at(start, step_s, count)
    package = loaded.new(start)
    bindings = _bind(loaded, plant_file, package)
    source_type = plant_file.parameters.source_type or _installed_source(package)
    day_of_year = (start - datetime.datetime(start.year, 1, 1)).total_seconds() / 86400.0
    plant = Plant(plant_file.parameters, source_type, day_of_year)
    recorder = Recorder(loaded, package)
    plant_snapshot = snapshot_function()
    plant_rows: list[tuple[Any, ...]] = []
    commands = Commands()
    temp_air = series.temp_air.tolist()
    humidity = series.relative_humidity.tolist()
    irradiance = series.ghi.tolist()
    feed, read, scan, record = bindings.feed, bindings.read, package.scan, recorder.record
    append = plant_rows.append
    bar = _progress_bar(count, step_s, progress)
    lockouts = 0
    began = time.perf_counter()
    for i in range(count):
        outdoor = temp_air[i]
        rh = humidity[i]
        plant.sense(outdoor, rh, commands)
        if plant.alarm_reset:
            lockouts += 1
            plant.lockout_s = 0.0
        feed(package, plant)
        scan(step_s if i else 0.0)
        record()
        read(package, commands, plant.load_demand)
        plant.step(step_s, outdoor, rh, irradiance[i], commands)
        append(plant_snapshot(plant))
        if bar is not None and i % 1440 == 1439:
            bar.update(1440)
    seconds = time.perf_counter() - began
    if bar is not None:
        bar.update(count - bar.n)
        bar.close()
    times = np.datetime64(start.replace(tzinfo=None), "ms") + (
        np.arange(count, dtype=np.int64) * round(step_s * 1000)
    ).astype("timedelta64[ms]")
    trend = Trend(times)
    for name, samples, unit in (
        ("weather.temp_air", series.temp_air, "C"),
        ("weather.relative_humidity", series.relative_humidity, "%"),
        ("weather.ghi", series.ghi, "W/m2"),
        ("weather.wind_speed", series.wind_speed, "m/s"),
    ):
        trend.add(Column(name, "real", unit, np.asarray(samples, dtype=np.float64), "weather"))
    # The plant's values are numbers and flags: one conversion for all of them.
    block = np.array(plant_rows, dtype=np.float64).reshape(count, len(PLANT_COLUMNS))
    for i, (_, name, unit, kind) in enumerate(PLANT_COLUMNS):
        values = block[:, i]
        if kind == "bool":
            trend.add(Column(name, "bool", unit, values != 0.0, "plant"))
        else:
            trend.add(Column(name, "real", unit, np.ascontiguousarray(values), "plant"))
    recorder.into(trend)
    return Simulation(trend, source_type, count, seconds, lockouts)


class PlantLoop:
    """The plant model stepped one scan at a time, for a controller that keeps its own clock.

    `hpdsl run --plant sim` drives the rules with it instead of field devices: before each scan
    `sense` sets the package's inputs from the plant's sensors at the scan's time, after it
    `actuate` takes the commands and advances the plant by the scan's step. The weather is
    taken a day at a time, at the step given.
    """

    DAY_S = 86400.0

    def __init__(
        self,
        loaded: LoadedPackage,
        plant_file: config_.PlantFile,
        weather: Weather,
        start: datetime.datetime,
        step_s: float,
        package: Any,
    ) -> None:
        self.package = package
        self.weather = weather
        self.start = start
        self.step_s = step_s
        self.bindings = _bind(loaded, plant_file, package)
        self.source_type = plant_file.parameters.source_type or _installed_source(package)
        day_of_year = (start - datetime.datetime(start.year, 1, 1)).total_seconds() / self.DAY_S
        self.plant = Plant(plant_file.parameters, self.source_type, day_of_year)
        self.commands = Commands()
        self.lockouts = 0
        self._index = 0
        self._chunk_start = 0
        self._temp_air: list[float] = []
        self._humidity: list[float] = []
        self._irradiance: list[float] = []

    def _weather_now(self) -> tuple[float, float, float]:
        k = self._index - self._chunk_start
        if not 0 <= k < len(self._temp_air):
            self._chunk_start = self._index
            count = max(1, round(self.DAY_S / self.step_s))
            at = self.start + datetime.timedelta(seconds=self._index * self.step_s)
            series = self.weather.at(at, self.step_s, count)
            self._temp_air = series.temp_air.tolist()
            self._humidity = series.relative_humidity.tolist()
            self._irradiance = series.ghi.tolist()
            k = 0
        return self._temp_air[k], self._humidity[k], self._irradiance[k]

    def sense(self) -> None:
        """Set the package's inputs from what the plant's sensors read now."""
        outdoor, rh, _ = self._weather_now()
        self.plant.sense(outdoor, rh, self.commands)
        if self.plant.alarm_reset:
            self.lockouts += 1
            self.plant.lockout_s = 0.0
        self.bindings.feed(self.package, self.plant)

    def actuate(self) -> None:
        """Take the scan's commands and advance the plant by one step."""
        outdoor, rh, ghi = self._weather_now()
        self.bindings.read(self.package, self.commands, self.plant.load_demand)
        self.plant.step(self.step_s, outdoor, rh, ghi, self.commands)
        self._index += 1


def source_type_of(loaded: LoadedPackage, plant_file: config_.PlantFile) -> str:
    """The heat source a run simulates: the plant file's, else the one the rules' parameters select."""
    return plant_file.parameters.source_type or _installed_source(loaded.new())


def _installed_source(package: Any) -> str:
    program, parameter = config_.SOURCE_PARAMETER
    classes = {cls.NAME: cls for cls in type(package).PROGRAMS}
    instance = getattr(package, classes[program].INSTANCE, None) if program in classes else None
    value = getattr(instance, parameter, None) if instance is not None else None
    name = getattr(value, "name", None)
    return name if name in config_.SOURCE_TYPES else "Air"


def _bind(loaded: LoadedPackage, plant_file: config_.PlantFile, package: Any) -> _Bindings:
    """Compile the two functions that copy sensors into the package and commands out of it."""
    problems: list[tuple[str, str]] = []
    by_column = {point.column: point for point in loaded.points}
    feed_lines = ["def feed(package, s):"]
    drifting = {fault.sensor for fault in plant_file.parameters.faults if fault.sensor}
    for sensor in config_.SENSOR_POINTS:
        column = plant_file.binding(sensor)
        if not column:
            continue
        point = by_column.get(column)
        if point is None and sensor in config_.OPTIONAL_SENSORS and sensor not in plant_file.points:
            continue
        if point is None or point.role != "input":
            problems.append((sensor, _missing(sensor, column, "a field input", point)))
            continue
        value = f"s.{SENSOR_ATTRIBUTES[sensor]}"
        if sensor in drifting:
            value = f"({value} + s.sensor_offset[{sensor!r}])"
        if point.kind == "enum":
            problems.append((sensor, f"sensor `{sensor}` cannot feed `{column}`, an enumeration"))
            continue
        try:
            value = config_.converted(value, config_.sensor_unit(sensor), point.unit)
        except ValueError as exc:
            problems.append((sensor, f"sensor `{sensor}` cannot feed `{column}`: {exc}"))
            continue
        feed_lines.append(f"    package.{point.instance}.{point.attribute} = {value}")
    if len(feed_lines) == 1:
        feed_lines.append("    pass")
    read_lines = ["def read(package, c, load_demand):"]
    namespace: dict[str, Any] = {"VARIABLE_MIN": plant_file.parameters.variable_speed_min}
    for command in config_.COMMAND_POINTS:
        column = plant_file.binding(command)
        if not column:
            continue
        point = by_column.get(column)
        if point is None or point.role == "input":
            problems.append((command, _missing(command, column, "an output", point)))
            continue
        reading = f"package.{point.instance}.{point.attribute}"
        line = _command_line(command, point, reading, namespace, loaded, problems)
        if line is not None:
            read_lines.append("    " + line)
    # A variable-speed stage (-1) takes the share of the load demand the other stage leaves.
    for command, other in (("stage_1", "stage_2"), ("stage_2", "stage_1")):
        read_lines.append(
            f"    if c.{command} < 0.0: "
            f"c.{command} = min(max(load_demand / 100.0 - max(c.{other}, 0.0), VARIABLE_MIN), 0.5)"
        )
    # A latched alarm (one that waits for an acknowledge) is a lockout the operator resets.
    latching = [
        f"package.{cls.INSTANCE}.{alarm.attribute}"
        for cls in loaded.module.Package.PROGRAMS
        for alarm in cls.ALARMS
        if alarm.latching
    ]
    read_lines.append(f"    c.lockout = bool({' or '.join(latching) or 'False'})")
    if problems:
        raise BindingError(problems)
    source = "\n".join(feed_lines + read_lines)
    exec(compile(source, "<hpdsl plant bindings>", "exec"), namespace)  # built from the package's metadata
    return _Bindings(namespace["feed"], namespace["read"])


def _missing(name: str, column: str, wanted: str, point: PointSpec | None) -> str:
    if point is None:
        return f"`{name}` is bound to `{column}`, which the package does not have"
    return f"`{name}` is bound to `{column}`, which is not {wanted}"


def _command_line(
    command: str,
    point: PointSpec,
    reading: str,
    namespace: dict[str, Any],
    loaded: LoadedPackage,
    problems: list[tuple[str, str]],
) -> str | None:
    """The line of `read` that sets one command from its point."""
    if command in ("stage_1", "stage_2"):
        if point.kind == "bool":
            return f"c.{command} = 0.5 if {reading} else 0.0"
        if point.kind != "enum" or not set(point.members) <= {*STAGE_FRACTIONS, VARIABLE_SPEED}:
            problems.append(
                (command, f"`{point.column}` is not a stage command (Off, VariableSpeed, LowSpeed, MaxSpeed)")
            )
            return None
        table: dict[Any, float] = {}
        for name in point.members:
            member = loaded.enum_member(point, name)
            table[member] = -1.0 if name == VARIABLE_SPEED else STAGE_FRACTIONS[name]
        key = f"STAGE_{command}"
        namespace[key] = table
        return f"c.{command} = {key}.get({reading}, 0.0)"  # -1: variable speed, resolved below
    if command == "cooling_mode":
        if point.kind == "bool":
            return f"c.cooling_mode = {reading} is True"
        if point.kind != "enum" or "Cooling" not in point.members:
            problems.append((command, f"`{point.column}` has no `Cooling` member"))
            return None
        namespace["COOLING"] = loaded.enum_member(point, "Cooling")
        return f"c.cooling_mode = {reading} is COOLING"
    if command == "heating_setpoint":
        if point.kind != "real":
            problems.append((command, f"`{point.column}` is not a temperature"))
            return None
        return f"c.heating_setpoint = {config_.converted(reading, point.unit or 'C', 'C')}"
    if point.kind != "bool":
        problems.append((command, f"`{point.column}` is not a boolean"))
        return None
    return f"c.{command} = {reading} is True"


def _progress_bar(count: int, step_s: float, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=count,
        unit=" scans",
        unit_scale=True,
        file=sys.stderr,
        mininterval=0.5,
        desc=f"simulating {count * step_s / 86400.0:.0f} days",
        leave=False,
    )
