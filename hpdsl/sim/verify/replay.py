"""The replay: the compiled rules run on the recorded field inputs, row by row, as the controller ran.

The package starts at the first row's time. Each row's inputs are set and one scan runs, the
first with 0 s elapsed, then with the time since the previous row; a gap longer than the
replay's step is run as equal scans of at most that step with the inputs held, so that timers,
`for` conditions, totals and the wall clock advance as they did on the controller.

A year is replayed in stretches of rows, never recorded whole: `Replayer.run` runs a stretch
and returns the chosen points' values after each of its scans. Copies of the package's state
are kept every `SNAPSHOT_ROWS` rows, so that a later stretch can be run again (to compare it
with pyfunnel, or with a parameter changed) without replaying the year before it.

May import: hpdsl.sim.loaded, hpdsl.sim.verify.recording, numpy.
"""

from __future__ import annotations

import copy
import datetime
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from hpdsl.sim.loaded import LoadedPackage, PointSpec, Recorder
from hpdsl.sim.verify.recording import Recording

FloatArray = npt.NDArray[np.float64]

SNAPSHOT_ROWS = 4096  # rows between two kept copies of the package's state


def scans_per_gap(seconds: FloatArray, step_s: float) -> npt.NDArray[np.intp]:
    """How many scans each gap between rows takes: a gap longer than `step_s` becomes equal scans."""
    gaps = np.diff(seconds)
    if step_s <= 0:
        return np.ones(len(gaps), dtype=np.intp)
    parts: npt.NDArray[np.intp] = np.maximum(1, np.ceil(gaps / step_s - 1e-9)).astype(np.intp)
    return parts


def scan_plan(seconds: FloatArray, step_s: float) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """(scans per gap, the time of every scan): a gap longer than `step_s` becomes equal scans."""
    gaps = np.diff(seconds)
    parts = scans_per_gap(seconds, step_s)
    gap_of_scan = np.repeat(np.arange(len(gaps)), parts)  # the gap each scan after the first ends in
    first_of_gap = np.concatenate(([0], np.cumsum(parts)[:-1]))
    ordinal = np.arange(len(gap_of_scan)) - np.repeat(first_of_gap, parts) + 1
    scan_s = np.concatenate(([0.0], seconds[gap_of_scan] + ordinal * (gaps / parts)[gap_of_scan]))
    scan_s[np.concatenate(([0], np.cumsum(parts)))] = seconds  # a row's scan is at its time exactly
    return parts, scan_s


class Replayer:
    """Runs the package over the recording's rows, from its start or from a kept copy of its state."""

    def __init__(self, loaded: LoadedPackage, recording: Recording, step_s: float) -> None:
        self.loaded = loaded
        self.step_s = step_s
        seconds = recording.seconds
        self.parts, self.scan_s = scan_plan(seconds, step_s)
        self.row_scan = np.concatenate(([0], np.cumsum(self.parts))).astype(np.intp)  # each row's own scan
        self._lengths = np.diff(seconds) / self.parts if len(seconds) > 1 else np.zeros(0)
        self.rows = len(seconds)
        self.start = datetime.datetime(1970, 1, 1) + datetime.timedelta(
            milliseconds=int(recording.time_ms[0])
        )
        self._fed = [recording.converters[column].point for column in recording.inputs]
        # The inputs as the runtime takes them: each sample held until the next (in place of the
        # raw columns, which are not needed again).
        self._held: list[FloatArray | None] = []
        for point in self._fed:
            held = _held(recording.inputs[point.column])
            recording.inputs[point.column] = held if held is not None else recording.inputs[point.column]
            self._held.append(held)
        self._members = [
            np.array([loaded.enum_member(p, m) for m in p.members], dtype=object)
            if p.kind == "enum"
            else None
            for p in self._fed
        ]
        self._feed = _feeder(self._fed)
        self.snapshots: dict[int, Any] = {}  # row -> the package's state before that row

    def first_scan(self, row: int) -> int:
        """The first scan that belongs to a row: the scans of the gap before it, then its own."""
        return 0 if row == 0 else int(self.row_scan[row - 1]) + 1

    def new(self) -> Any:
        """A package at the state before the first row."""
        return self.loaded.new(self.start)

    def restore(self, row: int) -> tuple[Any, int]:
        """A copy of the latest kept state at or before `row`, and the row it is the state before."""
        kept = max((r for r in self.snapshots if r <= row), default=None)
        if kept is None:
            return self.new(), 0
        return copy.deepcopy(self.snapshots[kept]), kept

    def run(
        self, package: Any, first: int, end: int, points: list[PointSpec], *, keep: bool = False
    ) -> dict[str, FloatArray]:
        """Run rows [first, end) on `package` (at the state before `first`); the points after each scan.

        The values are one per scan of those rows, from `first_scan(first)` to `row_scan[end - 1]`:
        numbers, 0/1 and member positions (NaN where there is none). With `keep`, copies of the
        state are kept every SNAPSHOT_ROWS rows.
        """
        return self._values(self._recorded(package, first, end, points, keep))

    def run_numbers(
        self, package: Any, first: int, end: int, points: list[PointSpec], *, keep: bool = False
    ) -> FloatArray:
        """`run`, with the values as one block: a column a point (in the order of `points`), a row a scan."""
        return self._recorded(package, first, end, points, keep).numbers()

    def _recorded(self, package: Any, first: int, end: int, points: list[PointSpec], keep: bool) -> Recorder:
        recorder = Recorder(self.loaded, package, points)
        pick = recorder.positions()
        if pick is not None:
            self._run_in_package(package, first, end, recorder, pick, keep)
            return recorder
        scan, record, feed = package.scan, recorder.record, self._feed
        # Row r ends gap r - 1; the first row of the record ends none: one scan, 0 s elapsed.
        gaps = slice(max(first - 1, 0), max(end - 1, 0))
        parts: list[int] = self.parts[gaps].tolist()
        lengths: list[float] = self._lengths[gaps].tolist()
        if first == 0 and end > 0:
            parts.insert(0, 1)
            lengths.insert(0, 0.0)
        for index, (row, count, length) in enumerate(
            zip(self._rows(first, end), parts, lengths, strict=True), start=first
        ):
            if keep and index % SNAPSHOT_ROWS == 0 and index not in self.snapshots:
                self.snapshots[index] = copy_state(package)
            for _ in range(count - 1):
                scan(length)  # the inputs hold the previous row's values
                record()
            feed(package, row)
            scan(length)
            record()
        return recorder

    def _run_in_package(
        self,
        package: Any,
        first: int,
        end: int,
        recorder: Recorder,
        pick: Callable[[tuple[object, ...]], tuple[object, ...]],
        keep: bool,
    ) -> None:
        """`run` by the package's own replay loop (`Package.replay`), a stretch of rows a call,
        cut where a copy of the state is kept."""
        parts: list[int] = self.parts[max(first - 1, 0) : max(end - 1, 0)].tolist()
        lengths: list[float] = self._lengths[max(first - 1, 0) : max(end - 1, 0)].tolist()
        if first == 0 and end > 0:
            parts.insert(0, 1)
            lengths.insert(0, 0.0)
        rows = self._rows(first, end, type(package).FIELD_INPUTS)
        cuts = sorted({first, end, *range(-(-first // SNAPSHOT_ROWS) * SNAPSHOT_ROWS, end, SNAPSHOT_ROWS)})
        for begin, stop in itertools.pairwise(cuts):
            if keep and begin % SNAPSHOT_ROWS == 0 and begin not in self.snapshots:
                self.snapshots[begin] = copy_state(package)
            out: list[tuple[object, ...]] = []
            changes: list[tuple[int, list[Any]]] = []
            a, b = begin - first, stop - first
            package.replay(rows[a:b], parts[a:b], lengths[a:b], out, changes, recorder.count)
            recorder.take(out, pick, changes)

    def _values(self, recorder: Recorder) -> dict[str, FloatArray]:
        """Each recorded point's values as numbers (NaN where there is none)."""
        values: dict[str, FloatArray] = {}
        for column in recorder.columns():
            numbers = column.as_float()
            if column.kind == "enum":
                numbers[numbers < 0] = np.nan  # no member (a value the recorder could not read)
            values[column.name] = numbers
        return values

    def _rows(self, first: int, end: int, order: tuple[str, ...] | None = None) -> list[tuple[object, ...]]:
        """The input tuples of rows [first, end): the feeder's, or the values of the inputs
        named in `order` (None for one the trend does not hold: faulted, as never set)."""
        count = end - first
        fed: list[tuple[PointSpec | None, FloatArray | None, npt.NDArray[Any] | None]]
        fed = list(zip(self._fed, self._held, self._members, strict=True))
        if order is not None:
            by_column = {
                point.column: (point, held, members) for point, held, members in fed if point is not None
            }
            fed = [by_column.get(column, (None, None, None)) for column in order]
        if not fed:
            return [()] * count
        columns: list[list[object]] = []
        for point, held, members in fed:
            if point is None or held is None:
                columns.append([None] * count)  # never recorded: faulted
                continue
            part = held[first:end]
            if point.kind == "bool":
                columns.append((part != 0).tolist())
            elif point.kind == "int":
                columns.append(np.rint(part).astype(np.int64).tolist())
            elif members is not None:
                columns.append(members[part.astype(np.int64)].tolist())
            else:
                columns.append(part.tolist())
        return list(zip(*columns, strict=True))


def copy_state(package: Any) -> Any:
    """A copy of the package's state. The records of the last scan (its alarm changes and log
    entries, which the recorder has read and the next scan clears) are cleared first: they are
    not state, and a native build's frozen records cannot be copied."""
    for cls in type(package).PROGRAMS:
        program = getattr(package, cls.INSTANCE)
        if program.alarm_changes:
            program.alarm_changes = []
        if program.log_entries:
            program.log_entries = []
    return copy.deepcopy(package)


def _held(values: FloatArray) -> FloatArray | None:
    """An input's values held from one sample to the next; None if it was never recorded.

    A missing sample holds the last value before it (a trend log by change of value writes only
    changes); before the first sample the input takes the first recorded value, since the
    controller was running before the log started.
    """
    present = ~np.isnan(values)
    if not present.any():
        return None
    index = np.where(present, np.arange(len(values)), 0)
    np.maximum.accumulate(index, out=index)
    index[: int(np.argmax(present))] = int(np.argmax(present))
    held: FloatArray = values[index]
    return held


def _feeder(points: list[PointSpec]) -> Callable[[Any, tuple[object, ...]], None]:
    """`def feed(package, row): p0 = package.a; p0.x, p0.y, ... = row`, compiled once for these inputs."""
    instances = sorted({point.instance for point in points})
    local = {instance: f"p{i}" for i, instance in enumerate(instances)}
    lines = ["def feed(package, row):"]
    lines += [f"    {local[instance]} = package.{instance}" for instance in instances]
    targets = ", ".join(f"{local[p.instance]}.{p.attribute}" for p in points)
    lines.append(f"    ({targets},) = row" if points else "    pass")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<hpdsl verify feeder>", "exec"), namespace)  # names from the metadata
    feed: Callable[[Any, tuple[object, ...]], None] = namespace["feed"]
    return feed
