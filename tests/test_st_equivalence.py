"""The Structured Text behaves exactly like the Python target, scan by scan, under stinterp.

Both targets are compiled from the same rules. The ST text (the golden program in the `iec` and
the Siemens dialect, the shipped package in the Siemens dialect) is parsed by blark and executed
by `stinterp` (tests/stinterp.py) - never the compiler's internal model - on the same input
traces as the Python classes. The shipped package's `iec` text runs on MATIEC itself, compiled
by a real IEC compiler, in tests/test_matiec.py. After every scan every output, total, counter, machine state,
alarm and sensor-fault flag must agree (reals within 1e-9 relative, everything else exactly),
and so must the alarm changes and event-log records of that scan.

The mapping between the two is the documented contract of the targets (docs/targets.md): a
point keeps its rules name (or the name a `target-rename` warning gives), an enumeration
member `SystemMode.Heating` is `SYSTEM_MODE_HEATING`, a missing or wrongly typed reading is
the `<input>_io_fault` flag, and each block's `records` hold one record per alarm change or log
entry of its call, numbered (HP_EVENT_NAME, HP_EVENT_SOURCE and HP_FIELD_NAME give the text).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytarget import import_module
from stinterp import Instance, StModule, load
from test_st_target import scl_as_st

from hpdsl.codegen.compiler import compile_paths

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "data" / "golden" / "changeover"
TOLERANCE = 1e-9  # relative, on reals: both targets compute in IEEE doubles in the same order
ALARM_KINDS = {2: True, 3: False}  # event-log record kind -> raised


def upper_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


@dataclass
class Pair:
    """One package compiled to both targets, ready to run side by side."""

    python: ModuleType
    st: StModule
    renames: dict[str, str]
    name: str
    enums_as_numbers: bool = False  # Siemens: an enumeration value is its position (SCL has no enums)

    def st_name(self, name: str) -> str:
        return self.renames.get(name, name)


@dataclass
class Side:
    """Running instances of both targets: Python programs and the ST blocks that mirror them."""

    pair: Pair
    python: dict[str, Any]  # program name -> Python instance
    st: dict[str, Instance]  # program name -> ST block instance
    main: Instance | None
    wired: set[tuple[str, str]] = field(default_factory=set)
    package: Any = None  # the Python Package, when the whole package runs
    seen: int = 0
    alarm_changes: int = 0  # compared so far
    log_entries: int = 0


def compile_pair(tmp_path: Path, folder: Path, name: str, dialect: str = "iec") -> Pair:
    """Compile to Python and to ST; Siemens SCL runs after its surface syntax is made plain ST."""
    python = compile_paths([folder], "python", name)
    st_result = compile_paths([folder], "st", name, dialect=dialect)
    assert python.ok and st_result.ok, [str(d) for d in st_result.diagnostics]
    renames = {}
    for diagnostic in st_result.diagnostics:
        match = re.match(r"`(\w+)` is written `(\w+)`", diagnostic.message)
        if diagnostic.code == "target-rename" and match:
            renames[match.group(1)] = match.group(2)
    module = import_module(tmp_path, python.files[f"{name}.py"], f"equivalence_{name}_{dialect}")
    if dialect == "siemens":
        text = scl_as_st(st_result.files[f"{name}.scl"])
        return Pair(module, load(text, name=f"{name}.scl"), renames, name, enums_as_numbers=True)
    return Pair(
        module, load(st_result.files[f"{name}.{dialect}.st"], name=f"{name}.{dialect}.st"), renames, name
    )


def start_package(pair: Pair) -> Side:
    """The Python Package and the ST package program, both at their defaults."""
    package = pair.python.Package()
    main = pair.st.instantiate(f"{pair.name}_main")
    python = {type(p).NAME: p for p in package.programs()}
    blocks = {}
    for program in python:
        # The instance is the program's name in snake case; `_1` when that is the block's own
        # name once case is ignored (`changeover_1 : Changeover`).
        instance = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", program).lower()
        if instance.upper() == program.upper():
            instance += "_1"
        blocks[program] = main.get(instance)
    wired = {(w[0], w[1]) for w in pair.python.Package.WIRES}
    return Side(pair, python, blocks, main, wired, package)


def start_program(pair: Pair, program: str) -> Side:
    python = getattr(pair.python, program)()
    block = pair.st.instantiate(program)
    return Side(pair, {program: python}, {program: block}, None)


def set_input(side: Side, program: str, name: str, value: Any) -> None:
    """The same reading on both sides; what ST cannot hold (None, a string) is an I/O fault."""
    setattr(side.python[program], name, value)
    block = side.st[program]
    st_name = side.pair.st_name(name)
    ok = value is not None and not isinstance(value, str)
    block.set(f"{name}_io_fault", not ok)
    if not ok:
        return
    if hasattr(value, "name") and hasattr(type(value), "__members__"):
        if side.pair.enums_as_numbers:
            block.set(st_name, value.value)
        else:
            block.set(st_name, f"{upper_snake(type(value).__name__)}_{upper_snake(value.name)}")
    elif isinstance(value, bool):
        block.set(st_name, value)
    else:
        block.set(st_name, float(value))


def scan(side: Side, dt: float) -> None:
    if side.main is not None:
        side.package.scan(dt)
        side.main.call(cycle_time_s=dt)
    else:
        (program,) = side.python
        side.python[program].scan(dt)
        side.st[program].call(cycle_time_s=dt)


def same(python: Any, st_value: Any) -> bool:
    if isinstance(python, bool) or isinstance(st_value, bool):
        return python is st_value
    if hasattr(python, "name") and hasattr(type(python), "__members__"):
        if isinstance(st_value, int):
            return bool(st_value == python.value)
        return st_value == f"{upper_snake(type(python).__name__)}_{upper_snake(python.name)}"
    if isinstance(python, int) and isinstance(st_value, int):
        return python == st_value
    a, b = float(python), float(st_value)
    if a == b:
        return True
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def record_value(python: Any) -> float | None:
    """A value of a Python record as the event log holds it; None when the log cannot show it."""
    if python is None or isinstance(python, str):
        return None
    if isinstance(python, bool):
        return 1.0 if python else 0.0
    if hasattr(python, "value") and hasattr(type(python), "__members__"):
        return float(python.value)
    return float(python)


def compare(side: Side, when: str) -> None:
    """Every public value and every record of this scan agree."""
    for program, python in side.python.items():
        block = side.st[program]
        for point in type(python).POINTS:
            if point.kind in ("input", "parameter"):
                continue
            expected = getattr(python, point.attribute)
            actual = block.get(side.pair.st_name(point.name))
            assert same(expected, actual), (
                f"{when}: {program}.{point.name}: python {expected!r}, st {actual!r}"
            )
        for alarm in type(python).ALARMS:
            expected = getattr(python, alarm.attribute)
            actual = block.get(alarm.attribute.lstrip("_"))
            assert expected is actual, f"{when}: {program} alarm {alarm.name}: python {expected}, st {actual}"
    records = []
    for python in side.python.values():
        records.extend(
            ("alarm", r.program, r.alarm, r.raised, r.time_s, r.values) for r in python.alarm_changes
        )
        records.extend(("log", r.program, r.event, None, r.time_s, r.fields) for r in python.log_entries)
    entries = []
    if side.main is not None:  # the package program's log: what the blocks recorded, in order
        log = side.main.get("event_log")
        logged = log.get("sequence") - side.seen
        assert logged <= 64, f"{when}: {logged} records in one scan overflow the log"
        for k in range(logged):
            entries.append(log.get("entries")[(side.seen + k) % 64 + 1])
        side.seen = log.get("sequence")
        block_records = [
            block.get("records")[k]
            for block in side.st.values()
            for k in range(1, block.get("record_count") + 1)
        ]
        assert entries == block_records, when
    else:
        (block,) = side.st.values()
        entries = [block.get("records")[k] for k in range(1, block.get("record_count") + 1)]
    st = side.pair.st
    entries = [
        {
            "kind": e["kind"],
            "source": st.call_function("HP_EVENT_SOURCE", e["event"]),
            "name": st.call_function("HP_EVENT_NAME", e["event"]),
            "time_s": e["time_s"],
            "field_count": e["field_count"],
            "field_name": {k: st.call_function("HP_FIELD_NAME", e["event"], k) for k in range(1, 7)},
            "field_value": e["field_value"],
            "unused": [e["field_value"][k] for k in range(e["field_count"] + 1, len(e["field_value"]) + 1)],
        }
        for e in entries
    ]
    python_alarms = [r for r in records if r[0] == "alarm"]
    python_logs = [r for r in records if r[0] == "log"]
    st_alarms = [e for e in entries if e["kind"] in ALARM_KINDS]
    st_logs = [e for e in entries if e["kind"] == 1]
    assert len(python_alarms) == len(st_alarms), f"{when}: alarm changes {python_alarms} vs {st_alarms}"
    assert len(python_logs) == len(st_logs), f"{when}: log entries {python_logs} vs {st_logs}"
    side.alarm_changes += len(st_alarms)
    side.log_entries += len(st_logs)
    # Within one scan the programs run in the same order, so the records do too.
    for (_, program, name, raised, time_s, values), entry in zip(
        python_alarms + python_logs, st_alarms + st_logs, strict=True
    ):
        assert (entry["source"], entry["name"]) == (program, name), when
        if raised is not None:
            assert ALARM_KINDS[entry["kind"]] is raised, when
        assert same(time_s, entry["time_s"]), when
        assert entry["field_count"] == len(values), when
        assert all(v == 0.0 for v in entry["unused"]), f"{when}: stale values past the field count"
        for k, (field_name, value) in enumerate(values.items(), start=1):
            assert entry["field_name"][k] == field_name, when
            shown = record_value(value)
            if shown is not None:
                assert same(shown, entry["field_value"][k]), f"{when}: {name}.{field_name}"


# ---------------------------------------------------------------------------------- traces


@pytest.fixture(scope="module", params=["iec", "siemens"])
def golden(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Pair:
    return compile_pair(tmp_path_factory.mktemp("golden"), GOLDEN, "changeover", request.param)


@pytest.fixture(scope="module")
def shipped_siemens(tmp_path_factory: pytest.TempPathFactory) -> Pair:
    return compile_pair(tmp_path_factory.mktemp("shipped"), REPO / "rules", "rules", "siemens")


def test_changeover_dead_band_and_faults(golden: Pair) -> None:
    """Outdoor temperature swinging 14C..22C, a compressor cycling, sensor faults of every kind."""
    side = start_program(golden, "Changeover")
    temperatures = [18.0 + 4.0 * math.sin(2 * math.pi * k / 90) for k in range(600)]
    for k, temperature in enumerate(temperatures):
        reading: Any = temperature
        if 200 <= k < 215:
            reading = None  # wire break
        elif 300 <= k < 305:
            reading = 75.0  # out of range
        elif k == 400:
            reading = math.nan
        elif k == 401:
            reading = "open circuit"
        set_input(side, "Changeover", "outdoor_temp", reading)
        running: Any = (k // 7) % 3 != 0
        if 500 <= k < 504:
            running = None
        set_input(side, "Changeover", "compressor_running", running)
        scan(side, 1.0 if k % 50 else 0.25)
        compare(side, f"scan {k}")
    assert side.python["Changeover"].mode_changes >= 10


def test_a_wrong_generator_is_caught(golden: Pair, tmp_path: Path) -> None:
    """The comparison has teeth: ST that waits one scan too long in a state is found at once."""
    text = compile_paths([GOLDEN], "st", "changeover", dialect="iec").files["changeover.iec.st"]
    assert text.count("compressor_guard_time_in_state >= 300.0") == 1
    text = text.replace("time_in_state >= 300.0", "time_in_state > 300.0")
    wrong = Pair(golden.python, load(text), {}, "x")
    side = start_program(wrong, "Changeover")
    with pytest.raises(AssertionError, match=r"compressor_guard"):
        for k in range(400):
            set_input(side, "Changeover", "outdoor_temp", 10.0)
            set_input(side, "Changeover", "compressor_running", k < 3)
            scan(side, 1.0)
            compare(side, f"scan {k}")


def test_changeover_parameters_and_odd_scan_times(golden: Pair) -> None:
    side = start_program(golden, "Changeover")
    python = golden.python.Changeover(heating_below=12.0, cooling_above=25.0)
    side.python["Changeover"] = python
    side.st["Changeover"].set("heating_below", 12.0)
    side.st["Changeover"].set("cooling_above", 25.0)
    for k, dt in enumerate([0.0, -1.0, math.inf, math.nan, 1e-3, 86400.0, 0.1, 3.0] * 20):
        set_input(side, "Changeover", "outdoor_temp", 5.0 + k * 0.2)
        set_input(side, "Changeover", "compressor_running", k % 5 == 0)
        scan(side, dt)
        compare(side, f"scan {k} (dt {dt})")


def plant_inputs(side: Side) -> list[tuple[str, str, Any]]:
    """(program, input, point) of every field input of the package: those no other program feeds."""
    out = []
    for program, python in side.python.items():
        for point in type(python).POINTS:
            if point.kind == "input" and (program, point.name) not in side.wired:
                out.append((program, point.name, point))
    return out


# A plant over three days: two cold, humid days (frost, defrosts, aux heat) and a warm one
# (changeover to cooling), with alarm-worthy excursions. Values by input name; the rest sweep
# their range on a daily cycle.
def plant_value(point: Any, t: float, enums: ModuleType) -> Any:
    """A plausible value of a field input at time t (s)."""
    day = 2 * math.pi * t / 86400.0
    minute = t / 60.0
    outdoor = (0.0 if t < 2 * 86400 else 20.0) + 6.0 * math.sin(day - 1.5)
    running = (minute % 120) >= 10  # off ten minutes every two hours
    by_name: dict[str, Any] = {
        "outdoor_temp_sensor": outdoor,
        "outdoor_coil_temp_sensor": outdoor - (7.0 if running else 1.0),
        "compressor_running_status": running,
        "load_demand_signal": 50.0 + 40.0 * math.sin(day * 2),
        "supply_water_temp_sensor": 40.0 + 5.0 * math.sin(day * 5),
        "return_water_temp_sensor": 35.0 + 5.0 * math.sin(day * 5),
        "source_water_temp_sensor": 8.0 + 3.0 * math.sin(day),
        "electrical_power_meter": 8.0 + 4.0 * math.sin(day * 3) if running else 0.0,
        "alarm_reset_button": any(m <= minute < m + 2 for m in (1900, 2600, 3500)),
        "discharge_temp": 125.0 if 1800 <= minute < 1830 else 85.0 + 5.0 * math.sin(day * 4),  # a trip
        "suction_pressure": 5.0 + 1.0 * math.sin(day * 6) - (4.5 if 3400 <= minute < 3420 else 0.0),
        "discharge_pressure": 20.0 + 3.0 * math.sin(day * 4),
        "compressor_current": 18.0 if 2500 <= minute < 2510 else 10.0 + 2.0 * math.sin(day * 2),
        "load_flow": 1.5 + 0.5 * math.sin(day),
        "outdoor_humidity": 90.0,
        "coil_outlet_temp": -5.0 + (minute % 25),  # rises through a defrost's end temperature
        "space_temp": 20.0 + 2.0 * math.sin(day),
        "required_heat": 60.0 + 50.0 * math.sin(day - 1.0),
        "supply_temp_target": 45.0,
        "time_since_commissioning": 30.0 + t / 86400.0,
        "occupancy_override": 40 <= minute % 720 < 100,
    }
    if point.name in by_name:
        value = by_name[point.name]
        return max(point.low, min(point.high, value)) if point.type == "real" else value
    if point.type == "bool":
        return math.sin(day * 9) > 0.2
    if point.type not in ("real", "int"):
        members = list(getattr(enums, point.type))
        return members[int(t // 7200) % len(members)]
    low = point.low if point.low is not None else -10.0
    high = point.high if point.high is not None else 100.0
    return low + (high - low) * (0.5 + 0.45 * math.sin(day * 3))


@pytest.mark.heavy
def test_shipped_package_over_three_days(shipped_siemens: Pair) -> None:
    """Every program of the shipped package, wired, over three days at one-minute scans.

    The Siemens text (made plain ST) runs here; the `iec` text of the shipped package runs on
    MATIEC itself, compiled by a real IEC compiler, in tests/test_matiec.py.
    """
    shipped = shipped_siemens
    side = start_package(shipped)
    inputs = plant_inputs(side)
    assert len(inputs) > 20
    for k in range(3 * 1440):
        t = k * 60.0
        for program, name, point in inputs:
            value = plant_value(point, t, shipped.python)
            if 600 <= k < 610 and point.type == "real":
                value = None  # every analogue sensor drops out for ten minutes
            set_input(side, program, name, value)
        scan(side, 60.0)
        compare(side, f"minute {k}")
    totals = [p for python in side.python.values() for p in type(python).POINTS if p.kind == "totalizer"]
    assert totals  # the trace crossed midnight twice with daily totals running
    # the trace is not idle: machines moved, alarms came and went
    assert side.log_entries >= 30 and side.alarm_changes >= 100, (side.log_entries, side.alarm_changes)


@pytest.mark.heavy  # needs the Siemens text parsed, as the three-day run does
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_traces_agree(shipped_siemens: Pair, data: st.DataObject) -> None:
    """Random readings (including faults and out-of-range values) and random scan times."""
    shipped = shipped_siemens
    side = start_package(shipped)
    inputs = plant_inputs(side)
    steps = data.draw(st.integers(min_value=5, max_value=40), label="steps")
    for k in range(steps):
        for program, name, point in inputs:
            if point.type == "bool":
                value = data.draw(st.sampled_from([True, False, None]), label=name)
            elif point.type in ("real", "int"):
                low = point.low if point.low is not None else -1e3
                high = point.high if point.high is not None else 1e3
                value = data.draw(
                    st.one_of(
                        st.floats(min_value=low, max_value=high),
                        st.sampled_from([None, math.nan, math.inf, low - 1.0, high + 1.0]),
                    ),
                    label=name,
                )
            else:
                members = list(getattr(shipped.python, point.type))
                value = data.draw(st.sampled_from([*members, None]), label=name)
            set_input(side, program, name, value)
        dt = data.draw(st.sampled_from([0.0, 0.5, 1.0, 60.0, 900.0, 3600.0, 86399.0]), label="dt")
        scan(side, dt)
        compare(side, f"step {k}")
