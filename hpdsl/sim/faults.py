"""Faults a plant model can be given: the plant as it ages and breaks, for the rules to face.

A plant model file lists them as an array of tables, each beginning some time after the start
of the run and growing to its full size over a ramp::

    [[fault]]
    kind = "fouled-coil"          # the outdoor coil fouls: its evaporating approach grows
    after = "60 d"                # from this long after the start of the run
    ramp = "90 d"                 # to its full size this long later ("0 d": at once)
    size = "8 K"                  # by this much

    [[fault]]
    kind = "stuck-aux-stage"      # a welded contactor: the stage heats whatever its command
    after = "30 d"
    stage = 1

    [[fault]]
    kind = "drifting-sensor"      # a sensor reads high (or low, with a negative size)
    sensor = "outdoor_temp"       # one of the plant's sensors, as named in [points]
    after = "30 d"
    ramp = "180 d"
    size = "4 K"

`hpdsl fleet generate` gives the sites of a generated fleet such faults, and `hpdsl fleet
verify` must find them; `hpdsl simulate --plant` shows what they do to a plant and its rules.
docs/simulate.md describes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.source import Span
from hpdsl.compile.site import toml_value
from hpdsl.language.values import Target, ValueProblem, convert

FOULED_COIL = "fouled-coil"
STUCK_AUX_STAGE = "stuck-aux-stage"
DRIFTING_SENSOR = "drifting-sensor"
KINDS = (FOULED_COIL, STUCK_AUX_STAGE, DRIFTING_SENSOR)

# What each kind takes besides `kind`, `after` and `ramp`.
_KEYS = {FOULED_COIL: ("size",), STUCK_AUX_STAGE: ("stage",), DRIFTING_SENSOR: ("sensor", "size")}
DAY_S = 86400.0


@dataclass(frozen=True)
class Fault:
    """One fault: what, from when (seconds after the run's start), over how long, how large."""

    kind: str
    after_s: float = 0.0
    ramp_s: float = 0.0
    size: float = 0.0  # K of approach (fouled coil); the sensor's own unit (drifting sensor)
    stage: int = 0  # the stuck aux stage (1 or 2)
    sensor: str = ""  # the drifting sensor

    def share(self, elapsed_s: float) -> float:
        """How much of the fault is there after `elapsed_s` seconds of the run: 0 to 1."""
        if elapsed_s < self.after_s:
            return 0.0
        if self.ramp_s <= 0.0:
            return 1.0
        return min((elapsed_s - self.after_s) / self.ramp_s, 1.0)

    def describe(self) -> str:
        """One line for the report and the fleet's list of injected faults."""
        when = f"after {self.after_s / DAY_S:.1f} d"
        if self.ramp_s > 0.0:
            when += f", over {self.ramp_s / DAY_S:.1f} d"
        if self.kind == FOULED_COIL:
            return f"fouled outdoor coil: evaporating approach +{self.size:g} K ({when})"
        if self.kind == STUCK_AUX_STAGE:
            return f"aux stage {self.stage} stuck on ({when})"
        return f"{self.sensor} sensor drifting by {self.size:+g} K ({when})"


def read_faults(
    entries: object,
    places: dict[tuple[str, ...], Span],
    sensor_units: dict[str, str],
    diagnostics: list[Diagnostic],
) -> tuple[Fault, ...]:
    """The `[[fault]]` tables of a plant file; problems become `plant-file` diagnostics."""
    header = places.get(("fault",), places.get(("fault", "0"), Span.point("", 1, 1)))
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        diagnostics.append(
            messages.PLANT_FILE.at(
                header, problem="`fault` must be an array of tables", hint="write each fault as `[[fault]]`"
            )
        )
        return ()
    faults: list[Fault] = []
    for index, entry in enumerate(entries):
        at = ("fault", str(index))
        fault = _fault(entry, at, places, sensor_units, diagnostics)
        if fault is not None:
            faults.append(fault)
    return tuple(faults)


def _fault(
    entry: dict[str, object],
    at: tuple[str, ...],
    places: dict[tuple[str, ...], Span],
    sensor_units: dict[str, str],
    diagnostics: list[Diagnostic],
) -> Fault | None:
    table = places.get(at, Span.point("", 1, 1))

    def problem(key: str | None, text: str, hint: str, *, at_key: bool = False) -> None:
        """A diagnostic at the key's value (or the key itself), or at the `[[fault]]` header."""
        span = table
        if key:
            span = places.get((*at, key), table) if at_key else places.get((*at, f"={key}"), table)
        diagnostics.append(messages.PLANT_FILE.at(span, problem=text, hint=hint))

    kind = entry.get("kind")
    if kind not in KINDS:
        problem(
            "kind" if "kind" in entry else None,
            f"a fault of kind `{kind}`" if kind is not None else "a fault without a `kind`",
            "write `kind = ` one of " + ", ".join(f'"{k}"' for k in KINDS),
        )
        return None
    allowed = {"kind", "after", "ramp", *_KEYS[kind]}
    for key in entry:
        if key not in allowed:
            problem(
                key,
                f"a {kind} fault has no `{key}`",
                "its keys are " + ", ".join(f"`{k}`" for k in sorted(allowed)),
                at_key=True,
            )
            return None
    for key in _KEYS[kind]:
        if key not in entry:
            problem(None, f"a {kind} fault needs `{key}`", _EXAMPLES[key])
            return None
    values: dict[str, float] = {}
    for key in ("after", "ramp"):
        if key in entry:
            seconds = _quantity(entry[key], "s", places.get((*at, f"={key}"), table))
            if isinstance(seconds, str) or seconds < 0.0:
                problem(key, f"`{key}` must be a duration: {seconds}", f'for example `{key} = "30 d"`')
                return None
            values[key] = seconds
    after, ramp = values.get("after", 0.0), values.get("ramp", 0.0)
    if kind == STUCK_AUX_STAGE:
        stage = entry["stage"]
        if stage not in (1, 2) or isinstance(stage, bool):
            problem("stage", f"there is no aux stage {stage}", "write `stage = 1` or `stage = 2`")
            return None
        return Fault(kind, after, ramp, stage=int(stage))
    sensor = str(entry.get("sensor", "")) if kind == DRIFTING_SENSOR else ""
    unit = "K"
    if kind == DRIFTING_SENSOR:
        if sensor not in sensor_units or not sensor_units[sensor]:
            numeric = sorted(name for name, unit in sensor_units.items() if unit)
            problem(
                "sensor",
                f"`{sensor}` is not a sensor that can drift",
                messages.did_you_mean(sensor, numeric) or "the sensors are " + ", ".join(numeric),
            )
            return None
        unit = {"C": "K"}.get(sensor_units[sensor], sensor_units[sensor])
    size = _quantity(entry["size"], unit, places.get((*at, "=size"), table))
    if isinstance(size, str):
        problem("size", f"`size`: {size}", f'for example `size = "{4 if unit == "K" else 1} {unit}"`')
        return None
    if kind == FOULED_COIL and not 0.0 < size <= 30.0:
        problem(
            "size", "a fouled coil adds between 0 K and 30 K to the approach", 'for example `size = "8 K"`'
        )
        return None
    return Fault(kind, after, ramp, size=size, sensor=sensor)


_EXAMPLES = {
    "size": 'for example `size = "8 K"`',
    "stage": "write `stage = 1` or `stage = 2`",
    "sensor": 'for example `sensor = "outdoor_temp"`',
}


def _quantity(raw: object, unit: str, span: Span) -> float | str:
    """A value with its unit, in `unit`; the problem as text when it is not one."""
    try:
        value = convert(toml_value(raw, span), Target("real", unit))
    except ValueProblem as problem:
        return problem.problem
    return float(value) if isinstance(value, int | float) else f"`{raw}` is not a quantity"
