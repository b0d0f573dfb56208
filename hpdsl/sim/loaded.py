"""A rules package compiled to the Python target and loaded into this process, and its recorder.

`simulate` and `verify` both run the package the way a controller would: they compile it
(with a site parameter file, if given), import the generated module, build its `Package`
and scan it. `Recorder` takes a snapshot of every point after each scan and turns the
snapshots into the columns of a `Trend`, with the names, units and roles that the trend
files, the KPIs and the comparison of `verify` share.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.codegen.compiler import CompileResult
from hpdsl.sim.trend import Column, ColumnKind, ColumnRole, Trend

# How a runtime point's kind shows in a trend.
_ROLE_OF_KIND: dict[str, ColumnRole] = {
    "input": "input",
    "output": "output",
    "totalizer": "total",
    "counter": "counter",
    "machine": "machine",
    "alarm": "alarm",
}


@dataclass(frozen=True)
class PointSpec:
    """A point of the package as a trend column: where it lives and what its values mean."""

    column: str  # `Program.point`
    program: str  # the program's name in the rules
    instance: str  # the attribute of `Package` that holds the program
    attribute: str  # the attribute of the program that holds the value
    kind: ColumnKind
    unit: str
    role: ColumnRole
    members: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    doc: str = ""
    cites: tuple[str, ...] = ()
    default: object = None  # the declared initial value (an enumeration member by name)


@dataclass
class LoadedPackage:
    """The compiled module, and the points a trend records.

    `settings` are a site's parameter values (by program and parameter, in the rules' units) that
    a new package is given when it is built, where they are not already the module's defaults:
    one module then serves every site, and a native build of it (`with_module`) is made once.
    """

    module: ModuleType
    result: CompileResult
    points: list[PointSpec] = field(default_factory=list)  # in program order, then declaration order
    settings: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def field_inputs(self) -> list[PointSpec]:
        """Inputs read from the field (not wired from another program): what a plant or a log feeds."""
        return [point for point in self.points if point.role == "input"]

    def point(self, column: str) -> PointSpec | None:
        for point in self.points:
            if point.column == column:
                return point
        return None

    def new(self, start: datetime.datetime | None = None) -> Any:
        """A fresh `Package` of every program, its clock at `start`, with the site's settings."""
        if not self.settings:
            return self.module.Package(start=start)
        programs = {cls.NAME: cls for cls in self.module.Package.PROGRAMS}
        given: dict[str, Any] = {}
        for program, values in self.settings.items():
            cls = programs[program]
            given[cls.INSTANCE] = cls(start=start, **self._arguments(cls, values))
        return self.module.Package(start=start, **given)

    def _arguments(self, cls: Any, values: dict[str, object]) -> dict[str, object]:
        """A program's parameter values as its constructor takes them (an enumeration's member)."""
        parameters = {point.name: point for point in cls.POINTS if point.kind == "parameter"}
        arguments: dict[str, object] = {}
        for name, value in values.items():
            point = parameters[name]
            if isinstance(value, str):
                value = getattr(self.module, point.type)[value]
            elif point.type == "real" and isinstance(value, int | float):
                value = float(value)
            arguments[point.attribute] = value
        return arguments

    def with_site(self, params: Path) -> LoadedPackage | list[Diagnostic]:
        """This package with a site file's values as its settings; the file's problems if it has any."""
        from hpdsl.compile import site

        assert self.result.package is not None
        read = site.read(params, self.result.package, self.result.modules)
        errors = [d for d in read.diagnostics if d.is_error]
        if errors:
            return errors
        settings: dict[str, dict[str, object]] = {
            program: dict(read.for_program(program)) for program in read.settings
        }
        return dataclasses.replace(self, settings=settings)

    def with_module(self, module: ModuleType) -> LoadedPackage:
        """The same package run by another build of its module (a native one)."""
        return dataclasses.replace(self, module=module)

    def source(self) -> str:
        """The generated Python the module was built from."""
        return next(iter(self.result.files.values()))

    def enum_member(self, point: PointSpec, name: str) -> enum.Enum:
        """The runtime member of a point's enumeration, by name; KeyError if it has none such."""
        enum_class = getattr(self.module, _enum_type(self.module, point))
        member: enum.Enum = enum_class[name]
        return member


def load(
    paths: list[Path], params: Path | None = None, name: str = "simulated_rules"
) -> LoadedPackage | CompileResult:
    """Compile and import the package; the CompileResult (with its diagnostics) if it has errors."""
    from hpdsl.codegen.compiler import compile_paths, import_generated

    result = compile_paths(paths, "python", name, source_comments=False, params=params)
    if not result.ok or not result.files:
        return result
    module = import_generated(next(iter(result.files.values())), "_hpdsl_loaded_rules")
    return LoadedPackage(module, result, _points(module))


def _enum_type(module: ModuleType, point: PointSpec) -> str:
    for cls in module.Package.PROGRAMS:
        if point.program == cls.NAME:
            for runtime_point in cls.POINTS:
                if runtime_point.attribute == point.attribute:
                    return str(runtime_point.type)
    raise KeyError(point.column)


def _points(module: ModuleType) -> list[PointSpec]:
    wired = {(program, input_) for program, input_, _, _ in module.Package.WIRES}
    points: list[PointSpec] = []
    for cls in module.Package.PROGRAMS:
        instance = cls.INSTANCE
        seen: set[str] = set()
        for point in cls.POINTS:
            role = _ROLE_OF_KIND.get(point.kind)
            if role is None or (point.kind == "input" and (cls.NAME, point.name) in wired):
                continue
            kind, members = _kind(module, point.type)
            seen.add(point.name)
            points.append(
                PointSpec(
                    f"{cls.NAME}.{point.name}",
                    cls.NAME,
                    instance,
                    point.attribute,
                    kind,
                    point.unit,
                    role,
                    members,
                    point.low,
                    point.high,
                    point.doc,
                    tuple(point.cites),
                    getattr(point.default, "name", point.default),
                )
            )
        for alarm in cls.ALARMS:
            if alarm.name in seen:
                continue
            points.append(
                PointSpec(
                    f"{cls.NAME}.{alarm.name}",
                    cls.NAME,
                    instance,
                    alarm.attribute,
                    "bool",
                    "",
                    "alarm",
                    doc=alarm.doc,
                    cites=tuple(alarm.cites),
                )
            )
    return points


def _kind(module: ModuleType, type_name: str) -> tuple[ColumnKind, tuple[str, ...]]:
    if type_name in ("bool", "int", "real"):
        kind: ColumnKind = "bool" if type_name == "bool" else "int" if type_name == "int" else "real"
        return kind, ()
    enum_class = getattr(module, type_name)
    return "enum", tuple(member.name for member in enum_class)


class Recorder:
    """Snapshots of every point of a package instance, one per scan, turned into trend columns.

    A snapshot is one tuple built by a function compiled for this package (one attribute read
    per point, no loop), so recording costs a few microseconds a scan; the tuples are turned
    into typed numpy columns in chunks. Alarms are not read every scan: the runtime lists
    what each scan raised and cleared (`alarm_changes`), and the alarm columns are rebuilt
    from those changes, so a hundred alarm flags cost one check per program.
    """

    CHUNK = 8192

    def __init__(self, loaded: LoadedPackage, package: Any, points: list[PointSpec] | None = None) -> None:
        chosen = loaded.points if points is None else points
        self.points = chosen
        self._values = [point for point in chosen if point.role != "alarm"]
        # the row of each value in a block, which has a row for every point (the alarms' rows are
        # filled by `numbers`, from the changes)
        self._rows_of_values = [k for k, point in enumerate(chosen) if point.role != "alarm"]
        self._alarms = {point.column: point for point in chosen if point.role == "alarm"}
        self._snapshot = _snapshot_function(self._values)
        self._changes = _changes_function(sorted({point.instance for point in self._alarms.values()}))
        self._package = package
        self._rows: list[tuple[object, ...]] = []
        # Each flushed chunk: its (points x rows) float block when every value was a number (a row
        # for every point, the alarms' left to `numbers`), else its values' columns one by one.
        self._chunks: list[npt.NDArray[np.float64] | list[npt.NDArray[Any]]] = []
        self._alarm_changes: list[tuple[int, list[Any]]] = []
        self._initial = {column: bool(_read(package, point)) for column, point in self._alarms.items()}
        self._count = 0
        self._record_checked = False  # record_format() found every value in the package's RECORD
        self._codes = [
            {loaded.enum_member(point, name): i for i, name in enumerate(point.members)}
            if point.kind == "enum"
            else {}
            for point in self._values
        ]

    @property
    def count(self) -> int:
        """The scans recorded so far."""
        return self._count

    def record_format(self) -> str:
        """The `struct` format of one scan's record of the package's own replay loop
        (`Package.replay`), whose values this recorder keeps from now on (`take`)."""
        names: tuple[str, ...] = type(self._package).RECORDED
        missing = [point.column for point in self._values if point.column not in names]
        if missing:  # a field input (the rows give it), or a module out of step with POINTS
            raise ValueError(f"the package's replay does not record {', '.join(missing)}")
        self._record_checked = True
        record: str = type(self._package).RECORD
        return record

    def take(self, records: npt.NDArray[np.void], changes: list[tuple[int, list[Any]]]) -> None:
        """Record scans the package ran itself (`Package.replay`): their records (an item a scan,
        of `record_dtype`), and their alarm changes numbered from this recorder's count."""
        if not self._record_checked:
            raise RuntimeError("take() before record_format()")
        self._alarm_changes.extend(changes)
        self._flush()
        block = np.empty((len(self.points), len(records)))
        for row, point in zip(self._rows_of_values, self._values, strict=True):
            block[row] = records[point.column]  # a flag as 0/1, a member by its number
        self._chunks.append(block)
        self._count += len(records)

    def record(self) -> None:
        """Take a snapshot of every point now (after a scan)."""
        self._rows.append(self._snapshot(self._package))
        self._changes(self._package, self._count, self._alarm_changes)
        self._count += 1
        if len(self._rows) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        count = len(self._rows)
        chunk = _numeric_block(self._rows) if self._values else None
        if chunk is not None:
            # The usual case: every value a number or a flag, converted in one call.
            block = np.empty((len(self.points), count))
            block[self._rows_of_values] = chunk.T
            self._chunks.append(block)
        else:
            columns = list(zip(*self._rows, strict=True)) if self._values else []
            self._chunks.append(
                [
                    _typed(values, point, codes, count)
                    for values, point, codes in zip(columns, self._values, self._codes, strict=True)
                ]
            )
        self._rows = []

    def columns(self) -> list[Column]:
        """Every point's column, over all snapshots taken so far, in the order of the points."""
        self._flush()
        values: dict[str, npt.NDArray[Any]] = {}
        for i, (point, row) in enumerate(zip(self._values, self._rows_of_values, strict=True)):
            parts = [
                chunk[i] if isinstance(chunk, list) else _from_block(chunk[row], point)
                for chunk in self._chunks
            ]
            values[point.column] = np.concatenate(parts) if parts else np.zeros(0, dtype=_dtype(point.kind))
        values.update(self._alarm_columns())
        return [
            Column(
                point.column,
                point.kind,
                point.unit,
                values[point.column],
                point.role,
                point.members,
                point.doc,
            )
            for point in self.points
        ]

    def numbers(self) -> npt.NDArray[np.float64]:
        """Every point's values as numbers, one row a point in the order of the points, one column
        a scan: flags 0/1, enumerations by position, NaN where there is none (what `verify` compares).
        With one chunk it is the recorder's own block, not a copy: to be read, not changed."""
        self._flush()
        blocks = [chunk for chunk in self._chunks if not isinstance(chunk, list)]
        if len(blocks) == len(self._chunks):
            # One chunk (a stretch `verify` replays) is taken as it is: its alarms' rows are free.
            if len(blocks) == 1:
                block = blocks[0]
            else:
                block = np.concatenate(blocks, axis=1) if blocks else np.empty((len(self.points), 0))
            alarmed = {point.column: k for k, point in enumerate(self.points) if point.role == "alarm"}
            for name, states in self._alarm_columns().items():
                block[alarmed[name]] = states
            return block
        columns = self.columns()
        block = np.empty((len(columns), self._count))
        for k, column in enumerate(columns):
            block[k] = column.as_float()
            if column.kind == "enum":
                block[k, block[k] < 0] = np.nan  # no member (a value the recorder could not read)
        return block

    def _alarm_columns(self) -> dict[str, npt.NDArray[np.bool_]]:
        """Each alarm's state after every scan, from its state before the first and its changes."""
        changes: dict[str, list[tuple[int, bool]]] = {column: [] for column in self._alarms}
        for row, records in self._alarm_changes:
            for record in records:
                column = f"{record.program}.{record.alarm}"
                if column in changes:
                    changes[column].append((row, bool(record.raised)))
        result: dict[str, npt.NDArray[np.bool_]] = {}
        for column, found in changes.items():
            states = np.full(self._count, self._initial[column], dtype=np.bool_)
            for row, raised in found:
                states[row:] = raised
            result[column] = states
        return result

    def into(self, trend: Trend) -> None:
        for column in self.columns():
            trend.add(column)


def _read(package: Any, point: PointSpec) -> object:
    return getattr(getattr(package, point.instance), point.attribute)


def _changes_function(instances: list[str]) -> Callable[[Any, int, list[tuple[int, list[Any]]]], None]:
    """`changes(package, row, out)`: append (row, records) for each program whose alarms changed."""
    lines = ["def changes(package, row, out):"]
    for instance in instances:
        lines.append(f"    if package.{instance}.alarm_changes:")
        lines.append(f"        out.append((row, package.{instance}.alarm_changes))")
    if not instances:
        lines.append("    pass")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<hpdsl alarm recorder>", "exec"), namespace)  # names from the package
    function: Callable[[Any, int, list[tuple[int, list[Any]]]], None] = namespace["changes"]
    return function


def record_dtype(package: type[Any]) -> np.dtype[np.void]:
    """The numpy type of one scan's record of a package's replay loop (`Package.RECORD`): a field
    for each name of RECORDED, packed as `struct` packs it."""
    codes = package.RECORD[1:]  # after "<": one letter a value
    return np.dtype([(name, "<" + code) for name, code in zip(package.RECORDED, codes, strict=True)])


def _dtype(kind: ColumnKind) -> type[Any]:
    return {"real": np.float64, "int": np.int64, "bool": np.bool_, "enum": np.int64}[kind]


def _numeric_block(rows: list[tuple[object, ...]]) -> npt.NDArray[np.float64] | None:
    """The snapshots as one (rows x points) float array, or None when one holds a non-number.

    An input enumeration holds a member (not a number) and a value never set is None; such a
    chunk takes the column-by-column path of `_typed`.
    """
    try:
        block = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if np.isnan(block).any():
        return None  # None, or a NaN the column-by-column path maps as it always has
    return block


def _from_block(values: npt.NDArray[np.float64], point: PointSpec) -> npt.NDArray[Any]:
    """One column of a numeric block in its own type (a fresh, contiguous array); NaN (an input
    never set) is false, and no member (-1)."""
    if point.kind == "real":
        return np.ascontiguousarray(values)
    if point.kind == "bool":
        flags: npt.NDArray[np.bool_] = values > 0.5
        return flags
    if point.kind == "enum":
        return np.where(np.isnan(values), -1.0, values).astype(np.int64)  # by ordinal
    return values.astype(np.int64)


def _typed(
    values: tuple[object, ...], point: PointSpec, codes: dict[enum.Enum, int], count: int
) -> npt.NDArray[Any]:
    """One chunk of a column as a numpy array; a missing (None) or unreadable value is NaN / -1 / false."""
    if point.kind == "enum" and point.role != "input":
        return np.fromiter(values, dtype=np.int64, count=count)
    if point.kind == "enum":
        return np.array(
            [codes.get(v, -1) if isinstance(v, enum.Enum) else -1 for v in values], dtype=np.int64
        )
    if point.kind == "bool":
        return np.array(values, dtype=np.bool_)  # None (never set) is false
    try:
        return np.fromiter(values, dtype=_dtype(point.kind), count=count)
    except (TypeError, ValueError):
        return np.fromiter((_number(v) for v in values), dtype=np.float64, count=len(values)).astype(
            _dtype(point.kind)
        )


def _number(value: object) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return math.nan


def _snapshot_function(points: list[PointSpec]) -> Callable[[Any], tuple[object, ...]]:
    """`lambda package: (package.a.x, package.a.y, package.b.z, ...)`, compiled once."""
    instances = sorted({point.instance for point in points})
    local = {instance: f"p{i}" for i, instance in enumerate(instances)}
    lines = ["def snapshot(package):"]
    lines += [f"    {local[instance]} = package.{instance}" for instance in instances]
    # An output's enumeration member is read by its ordinal (the generated enums number their
    # members in declaration order); an input may hold anything, and is mapped when flushed.
    items = ", ".join(
        f"{local[point.instance]}.{point.attribute}"
        + ("._value_" if point.kind == "enum" and point.role != "input" else "")
        for point in points
    )
    lines.append(f"    return ({items},)" if points else "    return ()")
    namespace: dict[str, Any] = {}
    exec(
        compile("\n".join(lines), "<hpdsl recorder>", "exec"), namespace
    )  # names come from the package's own metadata
    function: Callable[[Any], tuple[object, ...]] = namespace["snapshot"]
    return function
