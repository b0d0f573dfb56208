"""Departures grouped by cause, and the parameter or rule that explains each group where one does.

One wrong setpoint on a controller makes many points depart: the mode it selects, then every
output that follows the mode, then the totals. Reported one by one they read as many faults.
Here they are grouped:

- a group starts at the earliest departure not yet placed (at one time, the program that runs
  first); a later departure joins it when its program is the group's first program or is fed
  by it through the wiring, and it starts while the group is still departed;
- the group's first point is where to look. The statements of the rules that write it are
  named, and the parameters it depends on (through its program's statements and the wiring
  into it) are tried: the stretch around the first departure is replayed with each parameter
  at other values across its declared range, refined around the best, and a parameter
  explains the group when some value of it keeps every point of the group inside its funnel
  there. The values that do are reported beside the rules' own.

May import: hpdsl.compile.ir, hpdsl.sim.verify.{compare, recording, replay}, hpdsl.sim.loaded, numpy.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hpdsl.base.progress import Step
from hpdsl.compile import ir
from hpdsl.sim.loaded import LoadedPackage, PointSpec
from hpdsl.sim.verify.recording import Recording, even_cuts
from hpdsl.sim.verify.replay import Replayer, copy_state
from hpdsl.sim.verify.results import PointResult

FloatArray = npt.NDArray[np.float64]

BEFORE_S = 3600.0  # the stretch replayed to explain a group: from an hour before its first departure
AFTER_S = 6 * 3600.0  # to six hours after
GRID = 17  # values tried across a parameter's range, then refined around the best
REFINE = 9  # values tried in each refinement, which narrows the step fourfold
LEVELS = 8  # refinements: the step ends some 60,000 times finer than the range
MAX_GROUPS_EXPLAINED = 5
MAX_PARAMETERS = 16


@dataclass
class Explanation:
    """A parameter with which the replay follows the controller, and the values that do."""

    parameter: str  # `Program.parameter`
    unit: str
    kind: str
    rules_value: object
    values: list[object]  # the values tried that keep the group in its funnels, in order
    source: str  # where the parameter is declared, `file:line`
    outside: int = 0  # for the closest value only: the samples it still leaves outside
    at_range_end: bool = False  # the closest value is an end of the parameter's declared range


@dataclass
class Group:
    """Points that departed together: the first one, the others that follow from it, and why."""

    results: list[PointResult]  # the first point first, then in time order
    first_s: float
    last_s: float
    writers: list[str] = field(default_factory=list)  # `file:line` of the statements writing the first point
    tried: list[str] = field(default_factory=list)  # the parameters tried
    explanations: list[Explanation] = field(default_factory=list)
    closest: Explanation | None = None  # where none explains: the value that comes closest
    outside: int = 0  # samples outside the funnels around the first departure, as the rules are

    @property
    def root(self) -> PointResult:
        return self.results[0]


def explain(
    loaded: LoadedPackage, replayer: Replayer, recording: Recording, departed: list[PointResult], step: Step
) -> list[Group]:
    """The departed points in groups, each with the rules and parameters that may explain it."""
    package = loaded.result.package
    assert package is not None
    order = {program.name: index for index, program in enumerate(package.programs)}
    points = {point.column: index for index, point in enumerate(loaded.points)}
    downstream = _downstream(package)
    slack = max(replayer.step_s, departed[0].time_tolerance_s)
    groups: list[Group] = []
    for result in sorted(
        departed,
        key=lambda r: (r.first_s or 0.0, order.get(r.point.program, 0), points.get(r.point.column, 0)),
    ):
        assert result.first_s is not None and result.last_s is not None
        for group in groups:
            if (
                result.point.program in downstream[group.root.point.program]
                and result.first_s <= group.last_s + slack
            ):
                group.results.append(result)
                group.last_s = max(group.last_s, result.last_s)
                break
        else:
            groups.append(Group([result], result.first_s, result.last_s))
    dependencies = _Dependencies(package)
    for index, group in enumerate(groups):
        root = group.root.point
        group.writers = dependencies.writers(root.program, root.column.split(".", 1)[1])
        if index < MAX_GROUPS_EXPLAINED:
            parameters = dependencies.parameters(root.program, root.column.split(".", 1)[1])
            _search(loaded, replayer, recording, group, parameters[:MAX_PARAMETERS])
        step.advance(len(group.results))
    return groups


# --- What a point depends on ---------------------------------------------------------------


def _downstream(package: ir.Package) -> dict[str, set[str]]:
    """Each program, and every program its outputs reach through the wiring (itself included)."""
    feeds: dict[str, set[str]] = {program.name: set() for program in package.programs}
    for wire in package.wires:
        feeds.setdefault(wire.source_program, set()).add(wire.program)
    reach: dict[str, set[str]] = {}
    for name in feeds:
        seen, todo = {name}, [name]
        while todo:
            for following in feeds.get(todo.pop(), ()):
                if following not in seen:
                    seen.add(following)
                    todo.append(following)
        reach[name] = seen
    return reach


class _Dependencies:
    """Which variables each variable of a program is computed from, data and control flow together."""

    def __init__(self, package: ir.Package) -> None:
        self.package = package
        self._reads: dict[str, dict[str, set[str]]] = {}
        self._writers: dict[str, dict[str, list[ir.Origin]]] = {}
        for program in package.programs:
            reads: dict[str, set[str]] = {}
            writers: dict[str, list[ir.Origin]] = {}
            self._walk(program.scan, set(), None, reads, writers)
            self._reads[program.name] = reads
            self._writers[program.name] = writers

    def _walk(
        self,
        statements: tuple[ir.Stmt, ...],
        control: set[str],
        origin: ir.Origin | None,
        reads: dict[str, set[str]],
        writers: dict[str, list[ir.Origin]],
    ) -> None:
        for statement in statements:
            here = statement.origin or origin
            if isinstance(statement, ir.Assign):
                reads.setdefault(statement.target, set()).update(_names(statement.value) | control)
                if here is not None and here not in writers.setdefault(statement.target, []):
                    writers[statement.target].append(here)
            elif isinstance(statement, ir.If):
                guard = set(control)
                for branch in statement.branches:
                    guard |= _names(branch.condition)
                    self._walk(branch.body, guard, here, reads, writers)
                self._walk(statement.else_body, guard, here, reads, writers)
            elif isinstance(statement, ir.AlarmChange):
                reads.setdefault(statement.alarm, set()).update(control)
                if here is not None and here not in writers.setdefault(statement.alarm, []):
                    writers[statement.alarm].append(here)
            elif isinstance(statement, ir.ReadInput):
                used = {statement.input} | control
                for bound in (statement.low, statement.high, statement.fallback):
                    if bound is not None:
                        used |= _names(bound)
                for name in (statement.input, statement.fault, statement.alarm):
                    reads.setdefault(name, set()).update(used)
            elif isinstance(statement, ir.Block):
                self._walk(statement.body, control, here, reads, writers)

    def writers(self, program: str, variable: str) -> list[str]:
        """`file:line` of the statements that write a variable, in the order they run."""
        return [f"{o.file}:{o.line}" for o in self._writers.get(program, {}).get(variable, [])]

    def parameters(self, program: str, variable: str) -> list[tuple[str, str]]:
        """(program, parameter) a variable depends on: its own program's first, then upstream."""
        found: list[tuple[str, str]] = []
        todo = [(program, variable)]
        visited: set[tuple[str, str]] = set()
        while todo:
            name, start = todo.pop(0)
            try:
                declared = self.package.program(name)
            except KeyError:
                continue
            roles = {v.name: v for v in declared.variables}
            seen, stack = {start}, [start]
            while stack:
                for used in sorted(self._reads[name].get(stack.pop(), ())):
                    if used not in seen:
                        seen.add(used)
                        stack.append(used)
            for used in sorted(seen, key=lambda n: (_line(roles.get(n)), n)):
                variable_ = roles.get(used)
                if variable_ is None:
                    continue
                if variable_.role == "parameter" and (name, used) not in found:
                    found.append((name, used))
                elif variable_.role == "input" and variable_.wiring is not None:
                    upstream = (variable_.wiring[0], variable_.wiring[1])
                    if upstream not in visited:
                        visited.add(upstream)
                        todo.append(upstream)
        return found


def _line(variable: ir.Variable | None) -> int:
    return variable.origin.line if variable is not None and variable.origin is not None else 0


def _names(expression: ir.Expr) -> set[str]:
    """The variables an expression reads."""
    found: set[str] = set()
    stack: list[Any] = [expression]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Ref):
            found.add(node.name)
        if isinstance(node, ir.Expr):
            for item in dataclasses.fields(node):
                value = getattr(node, item.name)
                if isinstance(value, ir.Expr):
                    stack.append(value)
                elif isinstance(value, tuple):
                    stack.extend(v for v in value if isinstance(v, ir.Expr))
    return found


# --- Trying parameters ---------------------------------------------------------------------


def _search(
    loaded: LoadedPackage,
    replayer: Replayer,
    recording: Recording,
    group: Group,
    parameters: list[tuple[str, str]],
) -> None:
    """Replay the stretches around the group's departures with each parameter changed.

    The stretches are those around the first point's first departure and up to three later
    ones, spread over the record: a value that explains one stretch by chance seldom explains
    them all, so together they pin the parameter down.
    """
    seconds = recording.seconds
    root = group.root
    assert root.first_row is not None
    later = root.episodes[1:]
    picked = [later[round(i * (len(later) - 1) / 2)] for i in range(3)] if len(later) >= 3 else later
    tolerance = {r.point.column: r.value_tolerance for r in group.results}
    time_tolerance = root.time_tolerance_s
    ranges = [
        (
            int(np.searchsorted(seconds, seconds[row] - BEFORE_S, side="left")),
            int(np.searchsorted(seconds, seconds[row] + AFTER_S, side="right")),
        )
        for row in sorted({root.first_row, *picked})
    ]
    # The recordings of every stretch that may be tried, read from the file in one pass.
    read = _recorded(recording, [r.point.column for r in group.results], ranges)
    stretches: list[_Stretch] = []
    for (start, end), columns in zip(ranges, read, strict=True):
        if stretches and start < stretches[-1].end:
            continue  # overlaps the stretch before
        # The first stretch is scored on every point of the group; a later one on the first
        # point alone, and only where the rules and the controller agree on it as it begins
        # (after a departure the replay's other states, a timer or a total, may not).
        first = not stretches
        points = [r.point for r in group.results] if first else [root.point]
        recorded = {p.column: columns[p.column] for p in points if p.column in columns}
        if root.point.column not in recorded:
            continue
        package, kept = replayer.restore(start)
        replayer.run(package, kept, start, [])  # to the state before the stretch
        stretch = _Stretch(package, start, end, points, recorded)
        if not first:
            values = replayer.run(copy_state(package), start, start + 1, [root.point])[root.point.column]
            begins = recorded[root.point.column][0]
            if np.isnan(begins) or abs(values[-1] - begins) > tolerance[root.point.column]:
                continue
        stretches.append(stretch)
    if not stretches:
        return
    package = stretches[0].package
    info = _parameter_info(loaded)

    def score(change: tuple[str, str, str, object] | None) -> int:
        outside = 0
        for stretch in stretches:
            trial = copy_state(stretch.package)
            if change is not None:
                instance, attribute, _, value = change
                setattr(getattr(trial, instance), attribute, value)
            values = replayer.run(trial, stretch.start, stretch.end, stretch.points)
            offset = replayer.first_scan(stretch.start)
            scan_s = replayer.scan_s[offset : offset + len(next(iter(values.values())))]
            rows = seconds[stretch.start : stretch.end]
            outside += sum(
                _outside(scan_s, values[c], rows, stretch.recorded[c], tolerance[c], time_tolerance)
                for c in stretch.recorded
            )
        return outside

    baseline = score(None)
    group.outside = baseline
    if baseline == 0:
        return  # the stretch replays inside the funnels as it is: nothing here to explain
    closest: tuple[int, Explanation] | None = None
    for program, name in parameters:
        spec = info.get((program, name))
        if spec is None:
            continue
        group.tried.append(f"{program}.{name}")
        instance, attribute, runtime = spec
        current = getattr(getattr(package, instance), attribute)
        trials = _trials(runtime, current, functools.partial(_changed, score, instance, attribute))
        origin = _declared(loaded, program, name)
        found = Explanation(f"{program}.{name}", runtime.unit, runtime.type, current, [], origin)
        found.values = [value for value, outside in trials if outside == 0]
        if found.values:
            group.explanations.append(found)
            continue
        if trials:
            value, outside = min(trials, key=lambda item: item[1])
            if outside <= baseline // 2 and (closest is None or outside < closest[0]):
                found.values, found.outside = [value], outside
                found.at_range_end = _near_end(runtime, value)
                closest = (outside, found)
    if not group.explanations and closest is not None:
        group.closest = closest[1]


def _near_end(runtime: Any, value: object) -> bool:
    """A value within one step of the coarse grid of an end of the parameter's declared range."""
    if runtime.low is None or runtime.high is None or not isinstance(value, int | float):
        return False
    step = (runtime.high - runtime.low) / (GRID - 1)
    return bool(min(abs(value - runtime.low), abs(value - runtime.high)) <= step)


def _declared(loaded: LoadedPackage, program: str, name: str) -> str:
    """`file:line` where a parameter is declared."""
    package = loaded.result.package
    assert package is not None
    origin = package.program(program).variable(name).origin
    return f"{origin.file}:{origin.line}" if origin is not None else ""


@dataclass
class _Stretch:
    """Rows replayed to try a parameter: the state before them, and what was recorded in them."""

    package: Any
    start: int
    end: int
    points: list[PointSpec]
    recorded: dict[str, FloatArray]


def _changed(score: Any, instance: str, attribute: str, value: object) -> int:
    return int(score((instance, attribute, "", value)))


def _trials(runtime: Any, current: object, score: Any) -> list[tuple[object, int]]:
    """(value, samples outside) of each value of a parameter tried, in order of value.

    A flag is tried the other way, an enumeration at each other member; a number on a grid
    across its declared range (or half to one and a half times its value without one), then
    around the best value found, the step narrowing fourfold each time, until the step is
    finer than any setpoint is written or nothing tried makes a difference.
    """
    if runtime.type == "bool":
        return [(not current, score(not current))]
    if runtime.type not in ("int", "real"):
        members: list[object] = list(type(current)) if hasattr(current, "name") else []  # type: ignore[call-overload]
        return [(member, score(member)) for member in members if member is not current]
    low, high = runtime.low, runtime.high
    if low is None or high is None or not high > low:
        base = float(current) if isinstance(current, int | float) else 0.0
        low, high = sorted((base * 0.5, base * 1.5)) if base else (-1.0, 1.0)
    whole = runtime.type == "int"
    results: dict[float, int] = {}

    def trial(value: float) -> None:
        key = float(round(value)) if whole else float(value)
        if key not in results and key != current and low <= key <= high:
            results[key] = score(int(key) if whole else key)

    for value in np.linspace(low, high, GRID):
        trial(float(value))
    width = (high - low) / (GRID - 1)
    for _ in range(LEVELS):
        if not results or (whole and width < 1.0) or min(results.values()) == max(results.values()):
            break  # nothing tried made a difference, or the step cannot get finer
        best = min(results, key=lambda k: (results[k], abs(k - float(current))))  # type: ignore[arg-type]
        for value in np.linspace(best - width, best + width, REFINE):
            trial(float(value))
        width = 2 * width / (REFINE - 1)
    return [(int(k) if whole else k, results[k]) for k in sorted(results)]


def _outside(
    scan_s: FloatArray,
    reference: FloatArray,
    row_s: FloatArray,
    recorded: FloatArray,
    tolerance: float,
    time_tolerance: float,
) -> int:
    """Samples of the recording outside the funnel: beyond the replay's extremes within the time
    tolerance, widened by the value tolerance (the funnel pyfunnel draws, without its bounds' rounding)."""
    present = ~np.isnan(recorded)
    if not present.any():
        return 0
    valid = ~np.isnan(reference)
    scan_s, reference = scan_s[valid], reference[valid]
    if not len(reference):
        return 0
    lo = np.searchsorted(scan_s, row_s[present] - time_tolerance * (1 + 1e-9), side="left")
    hi = np.searchsorted(scan_s, row_s[present] + time_tolerance * (1 + 1e-9), side="right")
    lo = np.minimum(lo, len(reference) - 1)
    hi = np.maximum(hi, lo + 1)  # at least the nearest scan
    # The extremes over each window [lo, hi): reduceat over the pairs, with one element appended
    # so that a window may end at the last scan.
    padded = np.append(reference, reference[-1])
    pairs = np.column_stack([lo, hi]).ravel()
    low_values = np.minimum.reduceat(padded, pairs)[::2]
    high_values = np.maximum.reduceat(padded, pairs)[::2]
    noise = 1e-9 * max(1.0, float(np.max(np.abs(reference))))
    values = recorded[present]
    return int(np.sum((values < low_values - tolerance - noise) | (values > high_values + tolerance + noise)))


def _recorded(
    recording: Recording, columns: list[str], ranges: list[tuple[int, int]]
) -> list[dict[str, FloatArray]]:
    """The recorded values of some columns over each range of rows [start, end), read again from
    the file in one pass."""
    found: list[dict[str, list[FloatArray]]] = [{c: [] for c in columns} for _ in ranges]
    if not ranges:
        return []
    earliest, last = min(start for start, _ in ranges), max(end for _, end in ranges)
    for first, stop, chunk in recording.chunks(columns, even_cuts(earliest, last, 32768)):
        for (start, end), parts in zip(ranges, found, strict=True):
            if stop > start and first < end:
                for column in columns:
                    parts[column].append(chunk[column][max(start - first, 0) : min(end, stop) - first])
    return [{c: np.concatenate(p) for c, p in parts.items() if p} for parts in found]


def _parameter_info(loaded: LoadedPackage) -> dict[tuple[str, str], tuple[str, str, Any]]:
    """(program, parameter) -> (the package's attribute, the program's attribute, the runtime Point)."""

    info: dict[tuple[str, str], tuple[str, str, Any]] = {}
    for cls in loaded.module.Package.PROGRAMS:
        for point in cls.POINTS:
            if point.kind == "parameter":
                info[(cls.NAME, point.name)] = (cls.INSTANCE, point.attribute, point)
    return info


def describe(value: object, unit: str) -> str:
    """A parameter value as the rules write it: `22.5C`, `true`, `Ground`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "name"):
        return str(value.name)
    if isinstance(value, float):
        return f"{value:.4g}{unit}" if unit in ("C", "F", "K", "%") else f"{value:.4g} {unit}".rstrip()
    return f"{value} {unit}".rstrip()


__all__ = ["Explanation", "Group", "PointSpec", "describe", "explain"]
