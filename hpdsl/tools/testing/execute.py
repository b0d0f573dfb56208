"""Running one scenario: the package compiled and imported (or its PLC code, with --plc), the
scenario's names, values and units resolved against it before anything runs, then the scans,
with inputs set at each block's time and the expectations checked in their windows.

May import: hpdsl.base, hpdsl.language, hpdsl.compile, hpdsl.codegen, hpdsl.tools.testing
(scenario, results, matiec).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.source import Span
from hpdsl.compile import site as site_
from hpdsl.language.values import Target, Value, ValueProblem, convert, convert_tolerance, range_problem
from hpdsl.tools.testing import premises
from hpdsl.tools.testing import scenario as sc
from hpdsl.tools.testing.premises import Point
from hpdsl.tools.testing.premises import article as _article
from hpdsl.tools.testing.results import Failure, Outcome, TestReport

_EPSILON_S = 1e-6  # times closer than this are the same scan time


# --- The compiled package -------------------------------------------------------------------


@dataclass
class CompiledPackage:
    """A package compiled to Python and imported, with what scenarios need to know about it."""

    rules: list[Path]
    module: ModuleType
    ir_package: Any  # hpdsl.compile.ir.Package
    classes: dict[str, Any]  # program name -> class
    wired: set[tuple[str, str]]  # (program, input) fed by another program
    modules: list[Any]  # the checked modules (hpdsl.language.nodes.Module), for a site file's checks


def compile_package(rules: list[Path], report: TestReport, *, plc: bool = False) -> CompiledPackage | None:
    """Compile the rules to Python and import the module; rules errors go to the report.

    With `plc`, the programs run on the `iec` Structured Text compiled by MATIEC (hpdsl.tools.testing.matiec)
    instead: the module's program classes and `Package` are the PLC code's, with the Python
    target's interface.
    """
    from hpdsl.codegen.compiler import compile_paths, import_generated

    result = compile_paths(rules, "python", "scenario_rules", source_comments=False)
    report.sources.update(result.check.sources)
    report.diagnostics.extend(d for d in result.diagnostics if d.is_error)
    if not result.ok or not result.files or result.package is None:
        return None
    module = import_generated(result.files["scenario_rules.py"], "_hpdsl_scenario_rules")
    if plc:
        module = _on_plc(module, result.package)
    classes = {cls.NAME: cls for cls in module.Package.PROGRAMS}
    wired = {(program, input_) for program, input_, _, _ in module.Package.WIRES}
    return CompiledPackage(rules, module, result.package, classes, wired, result.modules)


def _on_plc(module: ModuleType, package: Any) -> ModuleType:
    """A module like `module` whose programs and Package run on MATIEC's build of the `iec` text."""
    from hpdsl.tools.testing import matiec

    bench = matiec.build(package)
    classes, package_class = matiec.program_classes(bench, module)
    facade = ModuleType(module.__name__ + "_plc")
    facade.__dict__.update(module.__dict__)
    for name, cls in classes.items():
        setattr(facade, name, cls)
    facade.Package = package_class  # type: ignore[attr-defined]
    return facade


# --- Resolving a scenario against the compiled program ------------------------------------------


class _Resolver:
    """Names and values of one scenario, resolved against the compiled package."""

    def __init__(
        self, compiled: CompiledPackage, scenario: sc.Scenario, diagnostics: list[Diagnostic]
    ) -> None:
        self.compiled = compiled
        self.scenario = scenario
        self.diagnostics = diagnostics
        self.programs = [scenario.program] if scenario.program is not None else list(compiled.classes)
        self.points: dict[str, dict[str, Point]] = {}
        self.alarms: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        for program in self.programs:
            cls = compiled.classes.get(program)
            if cls is None:
                continue
            self.points[program] = {p.name: self._point(program, p) for p in cls.POINTS}
            self.alarms[program] = {a.name: a for a in cls.ALARMS}
            self.events[program] = {e.name: e for e in cls.EVENTS}

    def _point(self, program: str, point: Any) -> Point:
        if point.type in ("bool", "int", "real"):
            target = Target(point.type, point.unit)
        else:
            members = tuple(m.name for m in getattr(self.compiled.module, point.type))
            target = Target("enum", members=members, enum=point.type)
        return Point(program, point.name, point.kind, point.attribute, target, point.low, point.high)

    @property
    def classes(self) -> dict[str, Any]:
        """Program name -> its compiled class."""
        return self.compiled.classes

    def name_problem(self, span: Span, problem: str, hint: str | None = None) -> None:
        self.diagnostics.append(messages.SCENARIO_NAME.at(span, problem=problem, hint=hint))

    def value_problem(self, span: Span, problem: str, hint: str | None = None) -> None:
        self.diagnostics.append(messages.SCENARIO_VALUE.at(span, problem=problem, hint=hint))

    def structure_problem(self, span: Span, problem: str, hint: str | None = None) -> None:
        self.diagnostics.append(messages.SCENARIO_STRUCTURE.at(span, problem=problem, hint=hint))

    def parameter(self, path: sc.PointPath, setting: str) -> tuple[str, Point] | None:
        """The program and parameter a `parameter` or `assumes` line names; reported when it names
        something else (`setting` says which line, for the hint)."""
        found = self.owner(path, self.points, "parameter")
        if found is None:
            return None
        program, point = found
        if point.kind != "parameter":
            self.name_problem(
                path.span,
                f"`{point.title}` is {_article(point.kind)}, not a parameter",
                f"{setting} names a parameter of the rules",
            )
            return None
        return program, point

    def owner(
        self, path: sc.PointPath, table: dict[str, dict[str, Any]], what: str
    ) -> tuple[str, Any] | None:
        """The program and entry a path names in one of the tables (points, alarms, events)."""
        if path.program is not None:
            if path.program not in table:
                if self.scenario.program is not None:
                    self.name_problem(
                        path.span,
                        f"this scenario runs program `{self.scenario.program}`, not `{path.program}`",
                        f"write `{path.name}`, or run the whole package (`package`)",
                    )
                else:
                    self.name_problem(
                        path.span,
                        f"the package has no program `{path.program}`",
                        messages.did_you_mean(path.program, table),
                    )
                return None
            entry = table[path.program].get(path.name)
            if entry is None:
                self.name_problem(
                    path.span,
                    f"program `{path.program}` has no {what} `{path.name}`",
                    messages.did_you_mean(path.name, table[path.program]),
                )
                return None
            return path.program, entry
        owners = [program for program, entries in table.items() if path.name in entries]
        if len(owners) == 1:
            return owners[0], table[owners[0]][path.name]
        if not owners:
            everything = {name: None for entries in table.values() for name in entries}
            where = f"program `{self.programs[0]}`" if self.scenario.program else "any program of the package"
            self.name_problem(
                path.span,
                f"{where} has no {what} `{path.name}`",
                messages.did_you_mean(path.name, everything),
            )
            return None
        # Several programs: a point that one program publishes and others read by wiring
        # (and the sensor-fault alarm of such an input) is the publisher's.
        publishers = [p for p in owners if not self._wired_copy(p, table[p][path.name])]
        if len(publishers) == 1:
            return publishers[0], table[publishers[0]][path.name]
        if not publishers:
            unwired = {
                name: None
                for program, entries in table.items()
                for name, entry in entries.items()
                if not self._wired_copy(program, entry) and name != path.name
            }
            self.name_problem(
                path.span,
                f"`{path.name}` belongs to inputs that the package wires from other programs ("
                + ", ".join(owners)
                + "); in the package it never changes",
                messages.did_you_mean(path.name, unwired) or f"name the program: `{owners[0]}.{path.name}`",
            )
            return None
        self.name_problem(
            path.span,
            f"`{path.name}` is {_article(what)} of several programs: " + ", ".join(owners),
            f"name the program: `{owners[0]}.{path.name}`",
        )
        return None

    def _wired_copy(self, program: str, entry: Any) -> bool:
        """True for an input wired from another program, or that input's sensor-fault alarm."""
        if isinstance(entry, Point):
            return entry.kind == "input" and (program, entry.name) in self.compiled.wired
        sensor = getattr(entry, "sensor", None)
        return sensor is not None and (program, sensor) in self.compiled.wired

    def point(self, path: sc.PointPath) -> Point | None:
        found = self.owner(path, self.points, "point")
        return found[1] if found else None

    def input(self, path: sc.PointPath) -> Point | None:
        point = self.point(path)
        if point is None:
            return None
        if point.kind != "input":
            self.name_problem(
                path.span, f"`{point.title}` is {_article(point.kind)}, not an input; only inputs are set"
            )
            return None
        if self.scenario.program is None and (point.program, point.name) in self.compiled.wired:
            source = next(
                f"{source_program}.{output}"
                for program, input_, source_program, output in self.compiled.module.Package.WIRES
                if (program, input_) == (point.program, point.name)
            )
            self.name_problem(
                path.span,
                f"`{point.title}` is wired from `{source}` in the package",
                f"set the input that feeds `{source}`, or run `program {point.program}` alone",
            )
            return None
        return point

    def alarm(self, path: sc.PointPath) -> tuple[str, Any] | None:
        return self.owner(path, self.alarms, "alarm")

    def event(self, path: sc.PointPath) -> tuple[str, Any] | None:
        return self.owner(path, self.events, "event")

    def value(self, value: Value, target: Target, what: str) -> Any:
        try:
            return convert(value, target)
        except ValueProblem as exc:
            self.value_problem(value.span, f"{what}: {exc.problem}", exc.hint or f"write {target.describe()}")
            return None

    def tolerance(self, value: Value | None, target: Target, what: str) -> float:
        if value is None:
            return 0.0
        try:
            return convert_tolerance(value, target)
        except ValueProblem as exc:
            self.value_problem(value.span, f"{what}: {exc.problem}", exc.hint)
            return 0.0


# --- Checks ---------------------------------------------------------------------------------


@dataclass
class _Check:
    """One expectation, resolved: how to test a scan, and over which scans."""

    span: Span
    first: int  # scan indices of the window
    last: int
    every: bool  # must hold after every scan of the window (else: after one)
    test: Callable[[], tuple[bool, str]]  # (holds, what was seen)
    describe: str
    nominal_s: float
    window_text: str
    at_end: bool = False  # judged once, after the last scan of the window
    seen: str = ""


class _Run:
    """One scenario's run: instances, drivers of inputs, the checks, the failures."""

    def __init__(self, compiled: CompiledPackage, scenario: sc.Scenario, resolver: _Resolver) -> None:
        self.compiled = compiled
        self.scenario = scenario
        self.resolver = resolver
        self.step = scenario.step_s
        self.instances: dict[str, Any] = {}
        self.package: Any = None
        self.changes: list[Any] = []  # alarm records of the last scan
        self.logs: list[Any] = []  # log records of the last scan
        self.drivers: dict[str, Callable[[float], None]] = {}  # ramps and oscillations, by input

    def index(self, time_s: float, *, up: bool) -> int:
        ratio = time_s / self.step
        return max(math.ceil(ratio - _EPSILON_S) if up else math.floor(ratio + _EPSILON_S), 0)

    # --- building

    def build(self, parameters: dict[str, dict[str, Any]]) -> None:
        module = self.compiled.module
        start = self.scenario.start
        if self.scenario.program is not None:
            cls = self.compiled.classes[self.scenario.program]
            self.instances[cls.NAME] = cls(start=start, **self._arguments(cls, parameters))
            return
        # The Package takes each program under the attribute name the generator gives it.
        arguments = {
            cls.INSTANCE: cls(start=start, **self._arguments(cls, parameters))
            for cls in module.Package.PROGRAMS
            if parameters.get(cls.NAME)
        }
        self.package = module.Package(start=start, **arguments)
        for instance in self.package.programs():
            self.instances[type(instance).NAME] = instance

    def _arguments(self, cls: Any, parameters: dict[str, dict[str, Any]]) -> dict[str, Any]:
        points = {p.name: p for p in cls.POINTS}
        arguments = {}
        for name, value in parameters.get(cls.NAME, {}).items():
            point = points[name]
            if isinstance(value, str):
                value = getattr(self.compiled.module, point.type)[value]
            elif point.type == "real":
                value = float(value)
            arguments[point.attribute] = value
        return arguments

    # --- reading

    def read(self, point: Point) -> Any:
        return getattr(self.instances[point.program], point.attribute)

    def scan(self, dt: float) -> None:
        if self.package is not None:
            self.package.scan(dt)
        else:
            for instance in self.instances.values():
                instance.scan(dt)
        self.changes = [c for i in self.instances.values() for c in i.alarm_changes]
        self.logs = [e for i in self.instances.values() for e in i.log_entries]


def _show(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value) if value is None else str(value)


def _compare(op: str, actual: Any, expected: Any, tolerance: float) -> bool:
    if isinstance(actual, enum.Enum):
        actual = actual.name
    if actual is None:
        return False
    if isinstance(expected, bool | str):
        equal = actual == expected
        return equal if op == "==" else not equal
    if isinstance(actual, bool):
        return False
    if op == "==":
        return bool(abs(actual - expected) <= tolerance)
    if op == "!=":
        return bool(abs(actual - expected) > tolerance)
    if op == "<":
        return bool(actual < expected + tolerance)
    if op == "<=":
        return bool(actual <= expected + tolerance)
    if op == ">":
        return bool(actual > expected - tolerance)
    return bool(actual >= expected - tolerance)


def _default_tolerance(expected: Any) -> float:
    # Reals are compared to nine significant digits unless the scenario gives a tolerance:
    # exact float equality would fail on the last bit of a unit conversion.
    if isinstance(expected, float):
        return 1e-9 * max(1.0, abs(expected))
    return 0.0


# --- Running --------------------------------------------------------------------------------


def run_scenario(
    compiled: CompiledPackage,
    scenario: sc.Scenario,
    site_parameters: site_.SiteParameters | None,
    report: TestReport,
    base: Path,
) -> Outcome | None:
    """Resolve and run one scenario; None when it has diagnostics (reported) and cannot run."""
    diagnostics: list[Diagnostic] = []
    resolver = _Resolver(compiled, scenario, diagnostics)
    if scenario.program is not None and scenario.program not in compiled.classes:
        resolver.name_problem(
            scenario.span,
            f"the package has no program `{scenario.program}`",
            messages.did_you_mean(scenario.program, compiled.classes),
        )
        report.diagnostics.extend(diagnostics)
        return None
    run = _Run(compiled, scenario, resolver)
    parameters = _parameters(resolver, scenario, site_parameters, report, base)
    premise = premises.check(resolver, scenario, site_parameters, parameters)
    plan = _plan(run, resolver)
    if diagnostics:
        report.diagnostics.extend(diagnostics)
        return None
    outcome = Outcome(scenario)
    if premise is not None:
        kind, text = premise
        if kind == "skip":
            outcome.skipped = text
        else:
            outcome.failures.append(Failure(scenario.span, 0.0, text))
        return outcome
    began = time.perf_counter()
    _attempt(run, plan, parameters, outcome)
    if outcome.error is not None and _BROKEN_REQUIRE in outcome.error and site_parameters is not None:
        # The site's values and the scenario's own are each valid and together break a `require`:
        # the controller would refuse them, so there is nothing to run.
        outcome.skipped = f"the site file's values and the scenario's own break a `require`: {outcome.error}"
        outcome.error = None
    if outcome.failures and site_parameters is not None and site_parameters.settings:
        outcome.site_note = _site_dependence(compiled, scenario, site_parameters, base)
    outcome.seconds = time.perf_counter() - began
    return outcome


# How the Python target's constructor words a `require` its parameters break.
_BROKEN_REQUIRE = "` does not hold"


def _attempt(run: _Run, plan: _Plan, parameters: dict[str, dict[str, Any]], outcome: Outcome) -> None:
    try:
        run.build(parameters)
        _execute(run, plan, outcome)
    except Exception as exc:  # a bug in the generated code, not in the scenario
        outcome.error = f"{type(exc).__name__}: {exc}"


def _passes(
    compiled: CompiledPackage, scenario: sc.Scenario, site_parameters: site_.SiteParameters | None, base: Path
) -> bool:
    """Whether the scenario passes with these site values (its own lines and files on top)."""
    resolver = _Resolver(compiled, scenario, [])
    run = _Run(compiled, scenario, resolver)
    parameters = _parameters(resolver, scenario, site_parameters, TestReport(), base)
    plan = _plan(run, resolver)
    outcome = Outcome(scenario)
    _attempt(run, plan, parameters, outcome)
    return outcome.passed


def _site_dependence(
    compiled: CompiledPackage,
    scenario: sc.Scenario,
    site_parameters: site_.SiteParameters,
    base: Path,
) -> str | None:
    """Why a scenario that fails with the site file passes without it: the site's values it
    depends on and does not state with `assumes` (each one alone, put back to its default,
    makes it pass). None when it fails with the rules' defaults too: a fault of the rules."""
    if not _passes(compiled, scenario, None, base):
        return None
    settings = [s for program in site_parameters.settings.values() for s in program.values()]
    culprits = []
    for setting in settings:
        without = dataclasses.replace(
            site_parameters,
            settings={
                program: {k: s for k, s in values.items() if s is not setting}
                for program, values in site_parameters.settings.items()
            },
        )
        if _passes(compiled, scenario, without, base):
            culprits.append(setting)
    named = ", ".join(f"`{s.program}.{s.parameter}` ({s.span.file}:{s.span.line})" for s in culprits)
    if not named:
        named = "several of them together"
    return (
        "it passes with the rules' defaults: it depends on what the site file sets, "
        f"{named}; if the scenario is written for the default, state it with `assumes`"
    )


def _parameters(
    resolver: _Resolver,
    scenario: sc.Scenario,
    site_parameters: site_.SiteParameters | None,
    report: TestReport,
    base: Path,
) -> dict[str, dict[str, Any]]:
    """Parameter values by program: the `--params` file, the scenario's files, its own lines."""
    result: dict[str, dict[str, Any]] = {}
    files = [site_parameters] if site_parameters is not None else []
    for name, span in scenario.parameter_files:
        path = (base / name) if not Path(name).is_absolute() else Path(name)
        if not path.is_file():
            resolver.value_problem(span, f"no site parameter file `{name}` beside the scenario")
            continue
        loaded = site_.read(path, resolver.compiled.ir_package, resolver.compiled.modules)
        if loaded.diagnostics:
            if loaded.source is not None:
                report.sources[loaded.name] = loaded.source
            resolver.diagnostics.extend(loaded.diagnostics)
        files.append(loaded)
    for loaded in files:
        for program, settings in loaded.settings.items():
            if program in resolver.points:
                result.setdefault(program, {}).update({k: s.value for k, s in settings.items()})
    for setting in scenario.parameters:
        found = resolver.parameter(setting.path, "`parameter`")
        if found is None:
            continue
        program, point = found
        value = resolver.value(setting.value, point.target, f"parameter `{point.title}`")
        if value is None:
            continue
        out_of_range = range_problem(value, point.low, point.high, point.target.unit)
        if out_of_range:
            resolver.value_problem(
                setting.value.span,
                f"parameter `{point.title}`: {out_of_range}",
                "the rules declare this range; the controller would reject the value",
            )
            continue
        result.setdefault(program, {})[point.name] = value
    return result


@dataclass
class _Plan:
    """The resolved scenario: input actions by scan index, and the checks."""

    actions: dict[int, list[Callable[[], None]]] = field(default_factory=dict)
    drivers: dict[str, Callable[[float], Any]] = field(default_factory=dict)
    checks: list[_Check] = field(default_factory=list)
    last_index: int = 0


def _plan(run: _Run, resolver: _Resolver) -> _Plan:
    plan = _Plan()
    scenario = run.scenario
    end_index = run.index(scenario.end_s, up=True)
    for block in scenario.blocks:
        at = run.index(block.time_s, up=True)
        first = run.index(block.first_s, up=True)
        last = max(run.index(block.last_s, up=False), first)
        if block.kind == "at" and block.first_s == block.last_s:
            last = first
        end_index = max(end_index, last)
        if block.kind == "at":
            window = f"at {sc.format_time(block.time_s)}"
            if block.first_s != block.last_s:
                window += f" ± {sc.format_time(block.last_s - block.time_s)}"
        else:
            window = f"during {sc.format_time(block.first_s)} .. {sc.format_time(block.last_s)}"
        for action in block.actions:
            if isinstance(action, sc.Set | sc.Ramp | sc.Oscillate):
                setter = _setter(run, resolver, action, block.time_s)
                if setter is not None:
                    plan.actions.setdefault(at, []).append(setter)
            else:
                check = _check(run, resolver, action, block, first, last, window)
                if check is not None:
                    plan.checks.append(check)
    plan.last_index = end_index
    return plan


def _setter(
    run: _Run, resolver: _Resolver, action: sc.Set | sc.Ramp | sc.Oscillate, at_s: float
) -> Callable[[], None] | None:
    point = resolver.input(action.path)
    if point is None:
        return None
    what = f"input `{point.title}`"
    if isinstance(action, sc.Set):
        if action.value.kind == "fault":
            value: Any = None
        else:
            value = resolver.value(action.value, point.target, what)
            if value is None:
                return None
            if point.target.kind == "enum":
                value = getattr(run.compiled.module, point.target.enum)[value]

        def set_value() -> None:
            run.drivers.pop(point.title, None)
            setattr(run.instances[point.program], point.attribute, value)

        return set_value
    if point.target.kind != "real":
        resolver.value_problem(
            action.span, f"{what} is {point.target.describe()}; only numbers ramp or oscillate"
        )
        return None
    if isinstance(action, sc.Ramp):
        target = resolver.value(action.target, point.target, what)
        if target is None:
            return None
        over = action.over_s

        def start_ramp() -> None:
            begin = getattr(run.instances[point.program], point.attribute)
            origin = (
                float(begin)
                if isinstance(begin, int | float) and not isinstance(begin, bool)
                else float(target)
            )

            def drive(t: float) -> float:
                share = 1.0 if over <= 0 else min(max((t - at_s) / over, 0.0), 1.0)
                return origin + (float(target) - origin) * share

            run.drivers[point.title] = lambda t: setattr(
                run.instances[point.program], point.attribute, drive(t)
            )

        return start_ramp
    low = resolver.value(action.low, point.target, what)
    high = resolver.value(action.high, point.target, what)
    if low is None or high is None:
        return None
    period = action.period_s

    def start_oscillation() -> None:
        middle, amplitude = (float(low) + float(high)) / 2, (float(high) - float(low)) / 2

        def drive(t: float) -> float:
            return middle + amplitude * math.sin(2 * math.pi * (t - at_s) / period)

        run.drivers[point.title] = lambda t: setattr(run.instances[point.program], point.attribute, drive(t))

    return start_oscillation


def _check(
    run: _Run,
    resolver: _Resolver,
    action: sc.Expectation,
    block: sc.Block,
    first: int,
    last: int,
    window: str,
) -> _Check | None:
    every = block.kind == "during"
    if isinstance(action, sc.ExpectValue):
        point = resolver.point(action.path)
        if point is None:
            return None
        what = f"`{point.title}`"
        expected = resolver.value(action.value, point.target, what)
        if expected is None:
            return None
        if point.target.kind in ("bool", "enum") and action.op not in ("==", "!="):
            resolver.value_problem(
                action.span, f"{what} is {point.target.describe()}; compare it with == or !="
            )
            return None
        if point.target.kind == "real":
            expected = float(expected)
        tolerance = (
            resolver.tolerance(action.tolerance, point.target, what)
            if action.tolerance is not None
            else _default_tolerance(expected)
        )
        shown = action.value.text + (f" ± {action.tolerance.text}" if action.tolerance is not None else "")

        def test_value(point: Point = point) -> tuple[bool, str]:
            actual = run.read(point)
            return _compare(action.op, actual, expected, tolerance), _show(actual)

        return _Check(
            action.span,
            first,
            last,
            every,
            test_value,
            f"{point.title} {action.op} {shown}",
            block.time_s,
            window,
        )
    if isinstance(action, sc.ExpectUnchanged):
        point = resolver.point(action.path)
        if point is None:
            return None
        reference: list[Any] = []

        def test_unchanged(point: Point = point) -> tuple[bool, str]:
            actual = run.read(point)
            if not reference:
                reference.append(actual)
            return actual == reference[0], f"{_show(reference[0])}, then {_show(actual)}"

        return _Check(
            action.span, first, last, True, test_unchanged, f"{point.title} unchanged", block.time_s, window
        )
    if isinstance(action, sc.ExpectChanges):
        point = resolver.point(action.path)
        if point is None:
            return None
        history: list[Any] = []
        changes = [0]

        def test_changes(point: Point = point) -> tuple[bool, str]:
            actual = run.read(point)
            if history and actual != history[-1]:
                changes[0] += 1
            history[:] = [actual]
            return _compare(action.op, changes[0], action.count, 0.0), f"{changes[0]} change(s)"

        return _Check(
            action.span,
            first,
            last,
            False,
            test_changes,
            f"{point.title} changes {action.op} {action.count}",
            block.time_s,
            window,
            at_end=True,
        )
    if isinstance(action, sc.ExpectAlarm):
        found = resolver.alarm(action.path)
        if found is None:
            return None
        program, info = found
        state = action.state
        title = f"{program}.{info.name}"
        if state in ("active", "inactive"):
            want = state == "active"

            def test_state() -> tuple[bool, str]:
                active = bool(getattr(run.instances[program], info.attribute))
                return active == want, "active" if active else "inactive"

            return _Check(
                action.span, first, last, every, test_state, f"alarm {title} {state}", block.time_s, window
            )
        raised = state == "raised"

        def test_change() -> tuple[bool, str]:
            hit = any(
                c.program == program and c.alarm == info.name and c.raised == raised for c in run.changes
            )
            active = bool(getattr(run.instances[program], info.attribute))
            return hit, f"no change (alarm {'active' if active else 'inactive'})"

        return _Check(
            action.span, first, last, False, test_change, f"alarm {title} {state}", block.time_s, window
        )
    found = resolver.event(action.path)
    if found is None:
        return None
    program, info = found
    title = f"{program}.{info.name}"
    fields: list[tuple[str, Any, float]] = []
    declared = {name: (type_, unit) for name, type_, unit in info.fields}
    for log_field in action.fields:
        if log_field.name not in declared:
            resolver.name_problem(
                log_field.span,
                f"event `{title}` has no field `{log_field.name}`",
                "its fields are " + ", ".join(declared),
            )
            continue
        type_, unit = declared[log_field.name]
        if type_ in ("bool", "int", "real"):
            target = Target(type_, unit)
        else:
            members = tuple(m.name for m in getattr(run.compiled.module, type_))
            target = Target("enum", members=members, enum=type_)
        expected = resolver.value(log_field.value, target, f"field `{log_field.name}`")
        if expected is None:
            continue
        if target.kind == "real":
            expected = float(expected)
        tolerance = (
            resolver.tolerance(log_field.tolerance, target, f"field `{log_field.name}`")
            if log_field.tolerance is not None
            else _default_tolerance(expected)
        )
        fields.append((log_field.name, expected, tolerance))
    present = action.present

    def matches(entry: Any) -> bool:
        return all(_compare("==", entry.fields.get(name), value, tol) for name, value, tol in fields)

    def test_log() -> tuple[bool, str]:
        entries = [e for e in run.logs if e.program == program and e.event == info.name]
        hit = any(matches(e) for e in entries)
        seen = (
            "; ".join(", ".join(f"{k} = {_show(v)}" for k, v in e.fields.items()) for e in entries)
            if entries
            else "no entry"
        )
        return (hit if present else not entries), seen

    described = ("log " if present else "no log ") + title
    if fields:
        described += " with " + ", ".join(f"{f.name} = {f.value.text}" for f in action.fields)
    return _Check(action.span, first, last, not present, test_log, described, block.time_s, window)


def _execute(run: _Run, plan: _Plan, outcome: Outcome) -> None:
    drivers = run.drivers
    checks = sorted(plan.checks, key=lambda c: c.first)
    active: list[_Check] = []
    pending = iter(checks)
    upcoming = next(pending, None)
    for index in range(plan.last_index + 1):
        time_s = index * run.step
        for action in plan.actions.get(index, ()):
            action()
        for drive in list(drivers.values()):
            drive(time_s)
        run.scan(0.0 if index == 0 else run.step)
        outcome.scans += 1
        while upcoming is not None and upcoming.first <= index:
            active.append(upcoming)
            upcoming = next(pending, None)
        still: list[_Check] = []
        for check in active:
            holds, seen = check.test()
            if check.at_end:
                if index >= check.last:
                    if not holds:
                        outcome.failures.append(_failure(check, time_s, seen))
                    continue
                still.append(check)
                continue
            if check.every:
                if not holds:
                    outcome.failures.append(_failure(check, time_s, seen))
                    continue
            elif holds:
                continue
            else:
                check.seen = seen
            if index >= check.last:
                if not check.every:
                    outcome.failures.append(_failure(check, check.nominal_s, check.seen))
                continue
            still.append(check)
        active = still


def _failure(check: _Check, time_s: float, seen: str) -> Failure:
    when = f"{check.window_text}, at {sc.format_time(time_s)}" if check.every else check.window_text
    return Failure(check.span, time_s, f"{when}: expected {check.describe}, got {seen}")
