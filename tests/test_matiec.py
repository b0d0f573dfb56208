"""The `iec` output on a real IEC compiler: MATIEC accepts it, and the compiled PLC code runs
scan for scan exactly like the Python target.

MATIEC is found as `hpdsl.tools.testing.matiec.find_toolchain` says (HPDSL_IEC2C / IEC2C / PATH, MATIEC_LIB).
Without it these tests skip with a one-line reason; under CI (CI=true) a missing compiler fails
the run, since `.ci/run` builds it.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import math
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hpdsl.codegen.compiler import compile_paths, import_generated
from hpdsl.tools.testing import matiec

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def toolchain() -> matiec.Toolchain:
    try:
        return matiec.find_toolchain()
    except matiec.ToolchainError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have MATIEC (.ci/run builds it): {exc}")
        pytest.skip(str(exc).split(":")[0])


# ---------------------------------------------------------------------------------- accepted as is


@pytest.mark.parametrize("real", ["LREAL", "REAL"])
def test_shipped_package_is_accepted(toolchain: matiec.Toolchain, tmp_path: Path, real: str) -> None:
    result = compile_paths([REPO / "rules"], "st", dialect="iec", real=real)
    assert result.ok
    matiec.accept(toolchain, result.files["rules.iec.st"], tmp_path)


@pytest.mark.parametrize("site", sorted((REPO / "rules" / "sites").glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_package_with_each_site_file_is_accepted(
    toolchain: matiec.Toolchain, tmp_path: Path, site: Path
) -> None:
    result = compile_paths([REPO / "rules"], "st", dialect="iec", params=site)
    assert result.ok, [str(d) for d in result.diagnostics if d.is_error]
    matiec.accept(toolchain, result.files["rules.iec.st"], tmp_path)


def _clean_rules_files() -> list[Path]:
    return sorted(DATA.rglob("*.rules"))


def test_every_clean_rules_file_in_the_test_data_is_accepted(
    toolchain: matiec.Toolchain, tmp_path: Path
) -> None:
    """Each rules file of tests/data that checks clean, as a package of its own."""
    texts = []
    for path in _clean_rules_files():
        result = compile_paths([path], "st", dialect="iec")
        if result.ok:
            texts.append(next(iter(result.files.values())))
    assert len(texts) >= 20
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        # the compilers run as processes, so threads keep every core busy
        list(pool.map(lambda k: matiec.accept(toolchain, texts[k], tmp_path / str(k)), range(len(texts))))


def test_a_rejected_text_is_reported(toolchain: matiec.Toolchain, tmp_path: Path) -> None:
    """The check has teeth: the out-of-range literal MATIEC once rejected is still rejected."""
    text = compile_paths([REPO / "rules"], "st", dialect="iec").files["rules.iec.st"]
    broken = text.replace("HP_FINITE(cycle_time_s)", "cycle_time_s <= 1.7976931348623157E308", 1)
    assert broken != text
    with pytest.raises(matiec.ToolchainError, match="iec2c rejected"):
        matiec.accept(toolchain, broken, tmp_path)


# ---------------------------------------------------------------------------------- executed equivalence


@dataclass
class Pair:
    """The shipped package compiled to Python and to MATIEC's C, side by side."""

    python: ModuleType
    bench: matiec.Bench
    classes: dict[str, type]
    package: type


@pytest.fixture(scope="session")
def shipped(toolchain: matiec.Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Pair:
    result = compile_paths([REPO / "rules"], "python", "rules")
    assert result.ok and result.package is not None
    python = import_generated(result.files["rules.py"], "_matiec_equivalence")
    bench = matiec.build(result.package, tmp_path_factory.mktemp("bench"), toolchain)
    classes, package = matiec.program_classes(bench, python)
    return Pair(python, bench, classes, package)


class Comparison:
    """Every point and alarm of every program, and every record, after every scan."""

    def __init__(self, pair: Pair, python_programs: list[Any], plc_programs: list[Any]) -> None:
        self.pair = pair
        self.rows = []
        for python, plc in zip(python_programs, plc_programs, strict=True):
            slots = type(plc).SLOTS
            attributes = [
                (a, s.index, getattr(pair.python, s.enum) if s.enum else None)
                for a, s in slots.items()
                if not any(p.attribute == a and p.kind == "input" for p in type(python).POINTS)
            ]
            self.rows.append((python, plc, attributes))
        self.scans = 0
        self.records = 0
        self.plc_package: Any = None
        self.parameter_writes = 0
        self.logged = 0  # records of the package program's event log checked so far

    def check(self, when: str) -> None:
        for python, plc, attributes in self.rows:
            values = plc.block.read()
            for attribute, index, enum_class in attributes:
                expected = getattr(python, attribute)
                actual: Any = values[index]
                if enum_class is not None:
                    actual = list(enum_class)[int(actual)]
                if not (expected == actual or (expected != expected and actual != actual)):
                    raise AssertionError(
                        f"{when}: {python.NAME}.{attribute}: python {expected!r}, plc {actual!r}"
                    )
            theirs = [(r.alarm, r.raised, r.time_s, r.values) for r in plc.alarm_changes]
            ours = [(r.alarm, r.raised, r.time_s, _shown(r.values)) for r in python.alarm_changes]
            assert ours == theirs or _same_records(ours, theirs), (
                f"{when}: {python.NAME} alarms {ours} vs {theirs}"
            )
            theirs_log = [(r.event, r.time_s, r.fields) for r in plc.log_entries]
            ours_log = [(r.event, r.time_s, _shown(r.fields)) for r in python.log_entries]
            assert ours_log == theirs_log, f"{when}: {python.NAME} log {ours_log} vs {theirs_log}"
            self.records += len(theirs) + len(theirs_log)
        if self.plc_package is not None:
            self._check_log(when)
        self.scans += 1

    def _check_log(self, when: str) -> None:
        """The package program's ring holds this scan's records of every block, in scan order."""
        sequence, _, ring = self.plc_package.log()
        new = sequence - self.logged
        assert 0 <= new <= 64, f"{when}: {new} records in one scan"
        appended = [ring[(self.logged + k) % 64] for k in range(new)]
        expected = [record for _, plc, _ in self.rows for record in plc.block.records()]
        assert appended == expected or _nan_equal(appended, expected), f"{when}: the event log"
        self.logged = sequence


def _nan_equal(a: Any, b: Any) -> bool:
    """Equal, counting a not-a-number value as equal to another."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_nan_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    """A record's values as the PLC can hold them: a missing or non-numeric reading shows as 0."""
    return {k: (0.0 if v is None or isinstance(v, str) else v) for k, v in values.items()}


def _same_records(ours: list[Any], theirs: list[Any]) -> bool:
    """Equal but for not-a-number readings (NaN is never equal to itself)."""
    if len(ours) != len(theirs):
        return False
    for a, b in zip(ours, theirs, strict=True):
        if a[:3] != b[:3] or a[3].keys() != b[3].keys():
            return False
        for key, value in a[3].items():
            other = b[3][key]
            if not (value == other or (value != value and other != other)):
                return False
    return True


class Trace:
    """Field inputs over time: random walks within the ranges, and faults of every kind."""

    FAULTS = ("missing", "nan", "inf", "-inf", "below", "above", "text")

    def __init__(self, rng: random.Random, points: list[tuple[str, Any]], module: ModuleType) -> None:
        self.rng = rng
        self.points = points
        self.module = module
        self.good: dict[tuple[str, str], Any] = {}
        self.fault: dict[tuple[str, str], tuple[str, int]] = {}
        for key, point in points:
            self.good[key] = self._initial(point)

    def _initial(self, point: Any) -> Any:
        if point.type == "bool":
            return self.rng.random() < 0.5
        if point.type in ("real", "int"):
            low, high = self._bounds(point)
            value = self.rng.uniform(low, high)
            return round(value) if point.type == "int" else value
        return self.rng.choice(list(getattr(self.module, point.type)))

    @staticmethod
    def _bounds(point: Any) -> tuple[float, float]:
        low = point.low if point.low is not None else -100.0
        high = point.high if point.high is not None else 100.0
        return float(low), float(high)

    def step(self) -> dict[tuple[str, str], Any]:
        rng = self.rng
        readings = {}
        for key, point in self.points:
            value = self.good[key]
            if point.type == "bool":
                if rng.random() < 0.02:
                    value = not value
            elif point.type in ("real", "int"):
                low, high = self._bounds(point)
                value = min(high, max(low, value + rng.gauss(0.0, 0.02 * (high - low))))
                if point.type == "int":
                    value = round(value)
            elif rng.random() < 0.01:
                value = rng.choice(list(getattr(self.module, point.type)))
            self.good[key] = value
            reading = value
            if key in self.fault:
                kind, left = self.fault[key]
                reading = self._faulted(point, kind)
                if left <= 1:
                    del self.fault[key]
                else:
                    self.fault[key] = (kind, left - 1)
            elif rng.random() < 0.003:
                self.fault[key] = (rng.choice(self.FAULTS), rng.randint(1, 20))
            readings[key] = reading
        return readings

    def _faulted(self, point: Any, kind: str) -> Any:
        if kind == "missing" or point.type not in ("real", "int"):
            return None if kind != "text" else "open circuit"
        low, high = self._bounds(point)
        return {
            "nan": math.nan,
            "inf": math.inf,
            "-inf": -math.inf,
            "below": low - 1.0,
            "above": high + 1.0,
            "text": "open circuit",
            "missing": None,
        }[kind]


def _random_parameters(rng: random.Random, cls: type, module: ModuleType) -> dict[str, Any]:
    """Valid values for about half of a program's parameters, anywhere in their ranges, that
    keep every `require` of the program (drawn again until the constructor accepts them)."""
    for _ in range(1000):
        chosen = _draw_parameters(rng, cls, module)
        try:
            cls(**chosen)
        except ValueError as exc:
            assert "does not hold" in str(exc), exc
            continue
        return chosen
    raise AssertionError(f"no valid parameters drawn for {cls.__name__}")


def _draw_parameters(rng: random.Random, cls: type, module: ModuleType) -> dict[str, Any]:
    chosen = {}
    for point in cls.POINTS:  # type: ignore[attr-defined]
        if point.kind != "parameter" or rng.random() < 0.5:
            continue
        if point.type == "bool":
            chosen[point.attribute] = rng.random() < 0.5
        elif point.type == "real":
            low, high = Trace._bounds(point)
            chosen[point.attribute] = rng.uniform(low, high)
        elif point.type == "int":
            low, high = Trace._bounds(point)
            chosen[point.attribute] = rng.randint(int(low), int(high))
        else:
            chosen[point.attribute] = rng.choice(list(getattr(module, point.type)))
    return chosen


def _field_points(package: Any) -> list[tuple[tuple[str, str], Any]]:
    """((program, attribute), point) of every input of the package that no wire feeds."""
    wired = {(w[0], w[1]) for w in type(package).WIRES}
    return [
        ((program.NAME, point.attribute), point)
        for program in package.programs()
        for point in type(program).POINTS
        if point.kind == "input" and (program.NAME, point.name) not in wired
    ]


def _by_name(python: Any, plc: Any) -> dict[str, tuple[Any, Any]]:
    """Program name -> (the Python program, the PLC program)."""
    return {p.NAME: (p, q) for p, q in zip(python.programs(), plc.programs(), strict=True)}


def _set_readings(trace: Trace, by_name: dict[str, tuple[Any, Any]]) -> None:
    """The trace's next readings, the same on both sides."""
    for (program, attribute), reading in trace.step().items():
        ours, theirs = by_name[program]
        setattr(ours, attribute, reading)
        setattr(theirs, attribute, reading)


def _run_package(pair: Pair, seed: int, scans: int, *, vary_parameters: bool) -> Comparison:
    rng = random.Random(seed)
    start = datetime.datetime(2024, 1, 1) + datetime.timedelta(seconds=rng.randrange(7 * 86400))
    arguments: dict[str, dict[str, Any]] = {}
    for cls in pair.python.Package.PROGRAMS:
        arguments[cls.NAME] = _random_parameters(rng, cls, pair.python) if vary_parameters else {}
    programs = pair.python.Package.PROGRAMS
    python = pair.python.Package(
        start=start, **{cls.INSTANCE: cls(start=start, **arguments[cls.NAME]) for cls in programs}
    )
    plc = pair.package(
        start=start,
        **{cls.INSTANCE: pair.classes[cls.NAME](start=start, **arguments[cls.NAME]) for cls in programs},
    )
    trace = Trace(rng, _field_points(python), pair.python)
    by_name = _by_name(python, plc)
    comparison = Comparison(pair, list(python.programs()), list(plc.programs()))
    comparison.plc_package = plc
    odd = [0.0, 0.5, 1.0, 10.0, 900.0, 3600.0, 86399.0, -1.0, math.nan, math.inf]
    for k in range(scans):
        _set_readings(trace, by_name)
        if rng.random() < 0.002:  # an HMI writes a parameter: a valid value, or one to reject
            program = rng.choice(list(by_name))
            ours, theirs = by_name[program]
            writable = [p for p in type(ours).POINTS if p.kind == "parameter" and p.type in ("real", "int")]
            if writable:
                point = rng.choice(writable)
                low, high = Trace._bounds(point)
                value = rng.choice([math.nan, low - 1.0, high + 1.0, rng.uniform(low, high)])
                if point.type == "int" and math.isfinite(value):
                    value = round(value)
                setattr(ours, point.attribute, value)
                setattr(theirs, point.attribute, value)
                comparison.parameter_writes += 1
        dt = 60.0 if rng.random() < 0.95 else rng.choice(odd)
        python.scan(dt)
        plc.scan(dt)
        comparison.check(f"seed {seed}, scan {k} (dt {dt})")
    return comparison


@pytest.mark.parametrize(
    ("seed", "vary"),
    [(1, False), (2, True), (3, True), (4, True)],
    ids=["defaults", "params-a", "params-b", "params-c"],
)
def test_package_runs_exactly_like_python(shipped: Pair, seed: int, vary: bool) -> None:
    """25,000 scans a run (about 17 days at one-minute scans: midnights and a week wrap)."""
    comparison = _run_package(shipped, seed, 25_000, vary_parameters=vary)
    assert comparison.scans == 25_000
    assert comparison.records > 500  # faults and alarms came and went
    assert comparison.parameter_writes > 20


def test_a_wrong_plc_value_is_caught(shipped: Pair) -> None:
    """The comparison has teeth: a PLC output changed behind its back is found at once."""
    python = shipped.python.Package()
    plc = shipped.package()
    comparison = Comparison(shipped, list(python.programs()), list(plc.programs()))
    python.scan(1.0)
    plc.scan(1.0)
    comparison.check("first scan")
    changeover = plc.programs()[[p.NAME for p in plc.programs()].index("Changeover")]
    changeover.block.set("system_mode", 1.0)
    with pytest.raises(AssertionError, match="system_mode"):
        comparison.check("tampered")


def test_a_write_breaking_a_require_is_refused_alike(shipped: Pair) -> None:
    """A `require` on both targets: the Python constructor raises; a write at run time that breaks
    it is undone on the PLC and in Python alike (last valid values kept, parameter alarm raised),
    and a write that keeps it is taken."""
    with pytest.raises(ValueError, match="require ground_band_order"):
        shipped.python.Sources(ground_temp_min=18.0, ground_temp_max=8.0)
    python = shipped.python.Package()
    plc = shipped.package()
    comparison = Comparison(shipped, list(python.programs()), list(plc.programs()))
    ours, theirs = _by_name(python, plc)["Sources"]
    steps: list[tuple[dict[str, float], tuple[float, float], bool]] = [
        ({}, (10.0, 15.0), False),
        ({"ground_temp_min": 18.0}, (10.0, 15.0), True),  # in its range, above the maximum
        ({"ground_temp_max": 8.0, "ground_temp_min": 2.0}, (2.0, 8.0), False),  # both at once: kept
        ({"ground_temp_max": 1.0}, (2.0, 8.0), True),
        ({"ground_temp_max": 22.0}, (2.0, 22.0), False),
    ]
    for k, (writes, expected, alarm) in enumerate(steps):
        for name, value in writes.items():
            setattr(ours, name, value)
            setattr(theirs, name, value)
        python.scan(60.0)
        plc.scan(60.0)
        comparison.check(f"step {k}")
        assert (ours.ground_temp_min, ours.ground_temp_max) == expected, k
        assert ours.parameter_fault is alarm, k
    raised = [(r.alarm, r.raised) for r in theirs.alarm_changes]
    assert raised == [("parameter_fault", False)]  # the last step cleared the alarm of the one before


def test_a_power_cycle_keeps_exactly_the_retained_values(shipped: Pair) -> None:
    """Daily totals, counters and latched alarms survive a power cycle on the PLC as `restore` keeps
    them in Python; everything else starts again. Then both run on, equal scan for scan."""
    comparison = _run_package(shipped, 5, 3000, vary_parameters=False)
    pythons = [row[0] for row in comparison.rows]
    plcs = [row[1] for row in comparison.rows]
    retained = {p.NAME: p.retained() for p in pythons}
    assert any(value for values in retained.values() for value in values.values())  # something to keep
    for plc_program in plcs:
        for attribute in type(plc_program).RETAINED_ATTRIBUTES:
            assert plc_program.block.retained(type(plc_program).SLOTS[attribute].name), attribute
    when = pythons[0].now
    programs = shipped.python.Package.PROGRAMS
    fresh = {cls.INSTANCE: cls(start=when) for cls in programs}
    for program in fresh.values():
        program.restore(retained[program.NAME])
    python_package = shipped.python.Package(start=when, **fresh)
    plc_package = comparison.plc_package
    logged_before = plc_package.log()
    plc_package.power_cycle(when)
    assert _nan_equal(plc_package.log(), logged_before)  # the event log is retained whole
    after = Comparison(shipped, list(python_package.programs()), list(plc_package.programs()))
    after.plc_package, after.logged = plc_package, logged_before[0]
    after.check("after the power cycle")
    assert all(p.block.get("@time_s") == 0.0 for p in plc_package.programs())  # the rest started again
    trace = Trace(random.Random(6), _field_points(python_package), shipped.python)
    by_name = _by_name(python_package, plc_package)
    for k in range(2000):
        _set_readings(trace, by_name)
        python_package.scan(60.0)
        plc_package.scan(60.0)
        after.check(f"scan {k} after the power cycle")


def test_each_program_alone_runs_exactly_like_python(shipped: Pair) -> None:
    """Every block called on its own, every input a field input (wired ones checked too)."""
    rng = random.Random(7)
    start = datetime.datetime(2024, 3, 30, 22, 0)  # a Saturday night: midnight and the week wrap
    for cls in shipped.python.Package.PROGRAMS:
        python = cls(start=start)
        plc = shipped.classes[cls.NAME](start=start)
        points = [((cls.NAME, p.attribute), p) for p in cls.POINTS if p.kind == "input"]
        trace = Trace(rng, points, shipped.python)
        comparison = Comparison(shipped, [python], [plc])
        for k in range(2_000):
            for (_, attribute), reading in trace.step().items():
                setattr(python, attribute, reading)
                setattr(plc, attribute, reading)
            dt = 60.0 if k % 97 else rng.choice([0.0, 3600.0, -5.0, math.nan, 2 * 86400.0])
            python.scan(dt)
            plc.scan(dt)
            comparison.check(f"{cls.NAME} alone, scan {k} (dt {dt})")
            for *_, unused in plc.block.raw_records():
                assert all(v == 0.0 for v in unused), f"{cls.NAME}: a record carries stale values"


def test_the_cycle_time_is_measured_on_the_plc_clock(shipped: Pair) -> None:
    """Once `clock_s` runs, each call's time is the clock's advance, not `cycle_time_s`."""
    plc = shipped.package(start=datetime.datetime(2024, 1, 1))
    changeover = next(p for p in plc.programs() if p.NAME == "Changeover")
    plc.block.set("@cycle_time_s", 0.1)
    for k in range(1, 11):
        plc.block.set("@clock_s", 1000.0 + 2.5 * k)  # the PLC's free-running clock, in s
        plc.block.call()
    # the first call has no previous clock reading and uses cycle_time_s; the other nine 2.5 s each
    assert changeover.block.get("@time_s") == pytest.approx(0.1 + 9 * 2.5)


def test_hpdsl_test_runs_the_scenarios_on_the_plc(toolchain: matiec.Toolchain) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "hpdsl", "test", str(REPO / "rules"), "--plc"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert " passed" in last and "failed" not in last, last


def test_hpdsl_test_without_matiec_says_how_to_get_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("IEC2C", "HPDSL_IEC2C", "MATIEC_LIB")}
    env["PATH"] = str(tmp_path)  # no iec2c on it
    done = subprocess.run(
        [sys.executable, "-m", "hpdsl", "test", str(REPO / "rules"), "--plc"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert "iec2c was not found" in line and "MATIEC_LIB" in line


@pytest.mark.parametrize("target", ["iec", "codesys", "siemens", "plcopen"])
def test_every_dialect_retains_totals_counters_and_latched_alarms(target: str) -> None:
    result = compile_paths([REPO / "rules"], "plcopen" if target == "plcopen" else "st", dialect=target)
    assert result.ok
    text = next(text for name, text in result.files.items() if not name.endswith(".json"))
    python = import_generated(compile_paths([REPO / "rules"], "python").files["rules.py"], "_retain_check")
    retained = {name for cls in python.Package.PROGRAMS for name in cls.RETAINED}
    assert {"compressor_runtime_today", "defrost_events_today", "low_refrigerant_pressure"} <= retained
    if target == "plcopen":
        sections = re.findall(r'<outputVars retain="true">(.*?)</outputVars>', text, re.S)
        declared = set(re.findall(r'<variable name="(\w+)"', "".join(sections)))
    else:
        sections = re.findall(r"VAR_OUTPUT RETAIN\n(.*?)END_VAR", text, re.S)
        declared = set(re.findall(r"^\s*(\w+) :", "".join(sections), re.M))
    assert retained <= declared, retained - declared
