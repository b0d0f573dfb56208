"""The replay: the compiled rules run on the recorded field inputs, row by row, as the controller ran.

The package starts at the first row's time. Each row's inputs are set and one scan runs, the
first with 0 s elapsed, then with the time since the previous row; a gap longer than the
replay's step is run as equal scans of at most that step with the inputs held, so that timers,
`for` conditions, totals and the wall clock advance as they did on the controller.

A year is replayed in stretches of rows, never recorded whole: `Replayer.run` runs a stretch
and returns the chosen points' values after each of its scans. Copies of the package's state
are kept every `SNAPSHOT_ROWS` rows, as bytes (`frozen_state`), so that a later stretch can be
run again (to compare it with pyfunnel, or with a parameter changed) without replaying the
year before it.

May import: hpdsl.sim.loaded, hpdsl.sim.verify.recording, numpy.
"""

from __future__ import annotations

import copy
import datetime
import io
import itertools
import pickle
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
from librt.strings import BytesWriter

from hpdsl.sim.loaded import LoadedPackage, PointSpec, Recorder, record_dtype
from hpdsl.sim.verify.recording import Recording

FloatArray = npt.NDArray[np.float64]
Frozen = tuple[str, bytes]  # a package's state as bytes, and the name of the module it was made by

SNAPSHOT_ROWS = 16384  # rows between two kept copies of the package's state (a chunk of `verify`)


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
        # raw columns, which are not needed again; a second replayer of the recording finds them
        # held already: a held column has a value at every row, one never recorded at none).
        self._held: list[FloatArray | None] = []
        for point in self._fed:
            values = recording.inputs[point.column]
            held = (
                (None if not len(values) or np.isnan(values[0]) else values)
                if recording.held
                else _held(values)
            )
            recording.inputs[point.column] = held if held is not None else values
            self._held.append(held)
        recording.held = True
        self.snapshots: dict[int, Frozen] = {}  # row -> the package's state before that row

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
        return thawed_state(self.snapshots[kept], self.loaded.module), kept

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
        """`run`, with the values as one block: a row a point (in the order of `points`), a column a scan."""
        return self._recorded(package, first, end, points, keep).numbers()

    def _recorded(self, package: Any, first: int, end: int, points: list[PointSpec], keep: bool) -> Recorder:
        """Rows [first, end) run by the package's own replay loop (`Package.replay`), a stretch of
        rows a call, cut where a copy of the state is kept; their scans recorded."""
        recorder = Recorder(self.loaded, package, points)
        recorder.record_format()  # the record holds every value wanted
        dtype = record_dtype(type(package))
        parts: list[int] = self.parts[max(first - 1, 0) : max(end - 1, 0)].tolist()
        lengths: list[float] = self._lengths[max(first - 1, 0) : max(end - 1, 0)].tolist()
        if first == 0 and end > 0:  # the first row of the record ends no gap: one scan, 0 s elapsed
            parts.insert(0, 1)
            lengths.insert(0, 0.0)
        inputs = self._inputs(first, end, type(package).FIELD_INPUTS)
        cuts = sorted({first, end, *range(-(-first // SNAPSHOT_ROWS) * SNAPSHOT_ROWS, end, SNAPSHOT_ROWS)})
        for begin, stop in itertools.pairwise(cuts):
            if keep and begin % SNAPSHOT_ROWS == 0 and begin not in self.snapshots:
                self.snapshots[begin] = frozen_state(package)
            a, b = begin - first, stop - first
            # nothing wanted: the replay only brings the state forward, recording nothing
            out = BytesWriter() if points else None
            changes: list[tuple[int, list[Any]]] = []
            rows = np.ascontiguousarray(inputs[a:b], dtype="<f8").tobytes()
            package.replay(rows, parts[a:b], lengths[a:b], out, changes, recorder.count)
            if out is not None:
                records = np.frombuffer(out.getvalue(), dtype=dtype)
                assert len(records) == sum(parts[a:b]), "a record a scan"
                recorder.take(records, changes)
        return recorder

    def _values(self, recorder: Recorder) -> dict[str, FloatArray]:
        """Each recorded point's values as numbers (NaN where there is none)."""
        values: dict[str, FloatArray] = {}
        for column in recorder.columns():
            numbers = column.as_float()
            if column.kind == "enum":
                numbers[numbers < 0] = np.nan  # no member (a value the recorder could not read)
            values[column.name] = numbers
        return values

    def _inputs(self, first: int, end: int, order: tuple[str, ...]) -> FloatArray:
        """The values of the inputs named in `order` at rows [first, end), one row of the block a
        row of the trend: numbers, flags 0/1, members by position; NaN for an input the trend does
        not hold (faulted, as never set)."""
        inputs = np.full((end - first, len(order)), np.nan)
        by_column = {point.column: (point, held) for point, held in zip(self._fed, self._held, strict=True)}
        for k, column in enumerate(order):
            point, held = by_column.get(column, (None, None))
            if point is None or held is None:
                continue  # never recorded: faulted
            inputs[:, k] = held[first:end]
        return inputs


def copy_state(package: Any) -> Any:
    """A copy of the package's state. The records of the last scan (its alarm changes and log
    entries, which the recorder has read and the next scan clears) are cleared first: they are
    not state, and a native build's frozen records cannot be copied."""
    clear_records(package)
    return copy.deepcopy(package)


def clear_records(package: Any) -> None:
    """Clear the records of the package's last scan (read already; the next scan clears them)."""
    for cls in type(package).PROGRAMS:
        program = getattr(package, cls.INSTANCE)
        if program.alarm_changes:
            program.alarm_changes = []
        if program.log_entries:
            program.log_entries = []


def frozen_state(package: Any) -> Frozen:
    """The package's state as bytes another process can take back (`thawed_state`): a copy kept
    there, made there by its own build of the rules' module (a native build is imported under a
    name of its own in each process, an interpreted one under a counter)."""
    clear_records(package)
    return type(package).__module__, pickle.dumps(package, protocol=pickle.HIGHEST_PROTOCOL)


def thawed_state(frozen: Frozen, module: ModuleType) -> Any:
    """A package from `frozen_state`'s bytes, its classes taken from `module` (this process's)."""
    name, data = frozen

    class _Unpickler(pickle.Unpickler):
        def find_class(self, module_name: str, qualified: str, /) -> Any:
            if module_name == name:
                return getattr(module, qualified)
            return super().find_class(module_name, qualified)

    return _Unpickler(io.BytesIO(data)).load()


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
