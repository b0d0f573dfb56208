"""The trend as the rules' points: columns matched to points, cells converted, rows put in time order.

`match` pairs the header's columns with the package's points (by `Program.point`, or by a
bare name only one program has) and works out how each column's unit converts to the one the
rules declare. `read` then reads the time stamps and the field inputs, which the replay needs
at every row, and puts the rows in time order; the compared columns (outputs, totals,
counters, machine states, alarms) are far more numerous and are streamed chunk by chunk with
`Recording.chunks`, so a year of them is never held at once.

May import: hpdsl.sim.verify.trendfile, hpdsl.sim.loaded, hpdsl.base, hpdsl.language.units, numpy,
pyarrow.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.language import units as units_
from hpdsl.sim.loaded import LoadedPackage, PointSpec
from hpdsl.sim.verify.trendfile import (
    HeaderColumn,
    Locator,
    TrendFile,
    count_of,
    listed,
    trend_problem,
    trimmed,
    unit_symbol,
)

FloatArray = npt.NDArray[np.float64]
# The cells of a batch that hold something unreadable; None where none can (a column of numbers
# or flags in the file's own type, or one cast whole).
Unreadable = npt.NDArray[np.bool_] | None

TRUE_WORDS = ("true", "1", "on", "yes", "active", "t", "1.0")
FALSE_WORDS = ("false", "0", "off", "no", "inactive", "f", "0.0")


class PointNames:
    """Point names as a trend writes them: `Program.point`, or `point` where only one program has it."""

    def __init__(self, loaded: LoadedPackage) -> None:
        self.by_column = {point.column: point for point in loaded.points}
        self.by_bare: dict[str, list[PointSpec]] = {}
        for point in loaded.points:
            self.by_bare.setdefault(point.column.split(".", 1)[1], []).append(point)

    def resolve(self, name: str) -> tuple[PointSpec | None, str]:
        """The point a name means, or None and why not."""
        point = self.by_column.get(name)
        if point is not None:
            return point, ""
        candidates = self.by_bare.get(name, []) if "." not in name else []
        if len(candidates) == 1:
            return candidates[0], ""
        if candidates:
            return None, f"`{name}` is a point of several programs: " + listed([c.column for c in candidates])
        hint = messages.did_you_mean(name, self.by_column)
        return None, f"the package has no point `{name}`" + (f"; {hint}" if hint else "")


@dataclass
class Converter:
    """How the cells of one column become numbers in its point's unit, and what could not be read."""

    point: PointSpec
    column: HeaderColumn
    scale: tuple[float, float] = (1.0, 0.0)  # value * a + b
    bad_cells: int = 0
    first_bad: tuple[int, str] | None = None  # (file row, the cell as written)
    # the last dictionary of a dictionary-encoded column, with its values and bad cells
    _dictionary: tuple[Any, FloatArray, Unreadable] | None = field(default=None, repr=False)

    def convert(self, array: Any, first_row: int) -> FloatArray:
        """A batch of cells as numbers (booleans 0/1, members by position), NaN where missing."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_dictionary(array.type):
            # Each distinct value read once (a Parquet dictionary holds a few member names), and
            # a dictionary the batch before had is not read again.
            known = self._dictionary
            if known is None or not known[0].equals(array.dictionary):
                known = self._dictionary = (array.dictionary, *self._values(array.dictionary))
            distinct, distinct_bad = known[1], known[2]
            indices = pc.fill_null(array.indices, -1).to_numpy(zero_copy_only=False)
            values: FloatArray = np.append(distinct, np.nan)[indices]
            bad = None if distinct_bad is None else np.append(distinct_bad, False)[indices]
        else:
            values, bad = self._values(array)
        if bad is None:  # no cell can be unreadable: nothing to look for
            return values
        bad_rows = np.flatnonzero(bad)
        if len(bad_rows):
            if self.first_bad is None:
                self.first_bad = (first_row + int(bad_rows[0]), str(array[int(bad_rows[0])].as_py()))
            self.bad_cells += len(bad_rows)
        return values

    def _values(self, array: Any) -> tuple[FloatArray, Unreadable]:
        """(the cells as numbers in the point's unit, cells that hold something unreadable)."""
        point = self.point
        if point.kind == "bool":
            return _booleans(array)
        if point.kind == "enum":
            return _members(array, point.members)
        values, bad = _numbers(array)
        a, b = self.scale
        if (a, b) != (1.0, 0.0):
            values = values * a + b
        return values, bad

    def warning(self, locator: Locator) -> Diagnostic | None:
        """The warning about the cells that could not be read, once the whole column has been."""
        if self.first_bad is None:
            return None
        expected = {"bool": "true or false", "enum": "one of " + ", ".join(self.point.members)}.get(
            self.point.kind, "a number"
        )
        row, shown = self.first_bad
        it = "it counts" if self.bad_cells == 1 else "they count"
        return trend_problem(
            locator.row_span(row, self.column.position),
            f"{count_of(self.bad_cells, 'cell')} of `{self.column.name}` cannot be read as {expected}"
            f" (first: `{shown}`); {it} as missing",
            warning=True,
        )


def match(trend: TrendFile, loaded: LoadedPackage) -> tuple[dict[str, Converter], list[Diagnostic]]:
    """The columns the package knows, by point, with their converters; warnings for the rest."""
    locator = trend.locator
    warnings: list[Diagnostic] = []
    names = PointNames(loaded)
    unknown: list[HeaderColumn] = []
    matched: dict[str, Converter] = {}
    for column in trend.columns:
        if column.name.startswith(("plant.", "weather.")):
            continue  # the plant model's and the weather's columns of a simulated trend
        point, problem = names.resolve(column.name)
        if point is None:
            if "several programs" in problem:
                warnings.append(
                    trend_problem(
                        locator.header_span(column.position),
                        f"column `{column.name}` is ignored: {problem}",
                        "name the column `Program.point`",
                        warning=True,
                    )
                )
            else:
                unknown.append(column)
            continue
        if point.column in matched:
            warnings.append(
                trend_problem(
                    locator.header_span(column.position),
                    f"column `{column.header}` is a second column for `{point.column}` and is ignored",
                    warning=True,
                )
            )
            continue
        scale = (
            _unit_factor(point, column, locator, warnings) if point.kind in ("real", "int") else (1.0, 0.0)
        )
        if scale is not None:
            matched[point.column] = Converter(point, column, scale)
    if unknown:
        warnings.append(
            trend_problem(
                locator.header_span(unknown[0].position),
                f"{count_of(len(unknown), 'column')} the package does not have, ignored: "
                + listed([c.name for c in unknown]),
                "columns are named `Program.point` as the rules declare them (or `point` where only one"
                " program has it)",
                warning=True,
            )
        )
    return matched, warnings


@dataclass
class Recording:
    """The trend in time order: when each kept row was taken, and the field inputs at every row.

    Rows repeating a time stamp keep the last of them. The compared columns are not held: they
    are streamed in chunks of rows in this same order (`chunks`).
    """

    trend: TrendFile
    time_ms: npt.NDArray[np.int64]  # one per kept row, increasing
    file_rows: npt.NDArray[np.intp]  # each kept row's index among the file's data rows
    inputs: dict[str, FloatArray]  # field inputs by column: numbers, 0/1, member positions; NaN missing
    compared: dict[str, Converter]  # the outputs, totals, counters, machines and alarms the file holds
    converters: dict[str, Converter]
    in_file_order: bool  # the file's rows were already in time order
    held: bool = False  # each input's missing samples hold the one before (done by the replay)
    _keep_in_file: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))

    @functools.cached_property
    def seconds(self) -> FloatArray:
        """Each kept row's time since the first."""
        seconds: FloatArray = (self.time_ms - self.time_ms[0]) / 1000.0
        return seconds

    def chunks(
        self, columns: list[str], cuts: Sequence[int]
    ) -> Iterator[tuple[int, int, dict[str, FloatArray]]]:
        """(first kept row, end, {column: values}) for the chunks of kept rows between consecutive
        `cuts` (ascending row numbers; `even_cuts` gives chunks of a number of rows).

        A file already in time order is streamed, from the batch that holds the first cut (a
        Parquet file's earlier row groups are not read); one that is not is read whole for these
        columns and reordered (a log written out of order is rare, and small).
        """
        converters = [self.compared[c] for c in columns]
        pairs = list(itertools.pairwise(cuts))
        if not converters:
            for first, end in pairs:
                yield first, end, {}
            return
        if not self.in_file_order:
            parts: dict[str, list[FloatArray]] = {c.point.column: [] for c in converters}
            for _, converted in converted_batches(self.trend, converters):
                for column, values in converted.items():
                    parts[column].append(values)
            whole = {c: np.concatenate(p)[self.file_rows] if p else np.empty(0) for c, p in parts.items()}
            for first, end in pairs:
                yield first, end, {c: v[first:end] for c, v in whole.items()}
            return
        if not pairs:
            return
        every_row = bool(self._keep_in_file.all())  # no row dropped for its time stamp
        # Kept rows are the file's rows in order, less those dropped for their time stamps.
        kept_before = np.concatenate(([0], np.cumsum(self._keep_in_file)))
        kept = len(self.file_rows)
        start_in_file = int(self.file_rows[cuts[0]]) if cuts[0] < kept else len(self._keep_in_file)
        buffers: dict[str, list[FloatArray]] = {c.point.column: [] for c in converters}
        buffered = 0
        at = cuts[0]  # the kept row the buffers start at
        pending = iter(pairs)
        first, end = next(pending)
        for offset, converted in converted_batches(self.trend, converters, start_in_file):
            stop = offset + len(next(iter(converted.values())))
            if stop <= start_in_file:
                continue
            keep = self._keep_in_file[offset:stop]
            skip = int(kept_before[start_in_file] - kept_before[offset]) if offset < start_in_file else 0
            for column, values in converted.items():
                taken = values if every_row else values[keep]
                buffers[column].append(taken[skip:])
            buffered += (stop - offset if every_row else int(keep.sum())) - skip
            while at + buffered >= end or (stop >= len(self._keep_in_file) and buffered > 0):
                take = min(end, at + buffered) - at
                joined = {c: p[0] if len(p) == 1 else np.concatenate(p) for c, p in buffers.items()}
                yield first, first + take, {c: v[:take] for c, v in joined.items()}
                buffers = {c: [v[take:]] if len(v) > take else [] for c, v in joined.items()}
                buffered -= take
                at += take
                following = next(pending, None)
                if following is None:
                    return
                first, end = following


def even_cuts(first: int, end: int, rows: int) -> list[int]:
    """Cuts of rows [first, end) into chunks of `rows` rows (the last may be shorter)."""
    return [*range(first, end, rows), end] if end > first else [first]


def converted_batches(
    trend: TrendFile, converters: list[Converter], start: int = 0
) -> Iterator[tuple[int, dict[str, FloatArray]]]:
    """(the batch's first file row, {column: values in its point's unit}) for every batch of the
    file, in file order, from the batch holding file row `start` on (a batch wholly before it is
    not converted); nothing when there is no column to read."""
    if not converters:
        return
    positions = [converter.column.position for converter in converters]
    batches = trend.batches(positions, start)
    offset = -1
    for batch in batches:
        if offset < 0:
            offset = trend.skipped_rows
        rows = len(batch[positions[0]])
        if offset + rows > start:
            yield offset, {c.point.column: c.convert(batch[c.column.position], offset) for c in converters}
        offset += rows


def read(
    trend: TrendFile, loaded: LoadedPackage, matched: dict[str, Converter]
) -> tuple[Recording, list[Diagnostic]]:
    """Read the time stamps and the field inputs, in time order; warnings for what is missing or odd."""
    warnings: list[Diagnostic] = []
    time_ms = trend.times()
    input_converters = [c for c in matched.values() if c.point.role == "input"]
    # Each input straight into one array of the file's length: a year of a few dozen inputs is
    # tens of megabytes, and no second copy is made.
    columns = {c.point.column: np.empty(len(time_ms)) for c in input_converters}
    for offset, converted in converted_batches(trend, input_converters):
        for column, values in converted.items():
            columns[column][offset : offset + len(values)] = values
    release_memory()
    for converter in input_converters:
        warning = converter.warning(trend.locator)
        if warning is not None:
            warnings.append(warning)
    missing = [p.column for p in loaded.field_inputs if p.column not in columns]
    if missing:
        warnings.append(
            trend_problem(
                trend.locator.header_span(None),
                f"no column for {count_of(len(missing), 'field input')}: {listed(missing)};"
                f" the rules see {'it' if len(missing) == 1 else 'them'} as faulted"
                " (the fallback, and a sensor-fault alarm)",
                warning=True,
            )
        )
    order, keep, order_warnings = time_order(time_ms, trend.locator)
    warnings.extend(order_warnings)
    rows = order[keep]
    in_file_order = bool(np.all(np.diff(time_ms) >= 0))
    keep_in_file = np.zeros(len(time_ms), dtype=np.bool_)
    keep_in_file[rows] = True
    identity = in_file_order and len(rows) == len(time_ms)
    inputs = columns if identity else {c: v[rows] for c, v in columns.items()}
    compared = {c: v for c, v in matched.items() if v.point.role != "input"}
    recording = Recording(
        trend, time_ms[rows], rows, inputs, compared, matched, in_file_order, _keep_in_file=keep_in_file
    )
    return recording, warnings


def release_memory() -> None:
    """Give the memory pyarrow freed back to the system (its allocator keeps it otherwise)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def time_order(
    time_ms: npt.NDArray[np.int64], locator: Locator
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_], list[Diagnostic]]:
    """The rows in time order, which to keep (the last of a repeated time), and warnings."""
    warnings: list[Diagnostic] = []
    steps = np.diff(time_ms)
    backwards = np.flatnonzero(steps < 0)
    if len(backwards):
        warnings.append(
            trend_problem(
                locator.row_span(int(backwards[0]) + 1, None),
                f"{count_of(len(backwards), 'row')} earlier than the row before; the rows are sorted by time",
                warning=True,
            )
        )
    order = np.argsort(time_ms, kind="stable")
    ordered = time_ms[order]
    keep = np.ones(len(order), dtype=np.bool_)
    keep[:-1] = ordered[1:] != ordered[:-1]
    repeated = np.flatnonzero(~keep)
    if len(repeated):
        first = int(order[repeated[0] + 1])
        warnings.append(
            trend_problem(
                locator.row_span(first, None),
                f"{count_of(len(repeated), 'row')} repeat the time stamp of another row;"
                " the last of each is kept",
                warning=True,
            )
        )
    return order, keep, warnings


def gap_warning(recording: Recording, time_tolerance: float) -> Diagnostic | None:
    """A warning when the log lost an input for longer than the time tolerance can absorb.

    Between two samples an input holds its value, so a change the log did not record reaches
    the rules only at the next sample: up to the longest stretch without a value, less one
    sample interval, late. A time tolerance shorter than that reports the log's gaps as the
    controller's departures.
    """
    seconds = recording.seconds
    if len(seconds) < 2:
        return None
    interval = float(np.median(np.diff(seconds)))
    worst: tuple[float, str, int] | None = None
    for column, values in recording.inputs.items():
        present = np.flatnonzero(~np.isnan(values))
        if len(present) < 2:
            continue
        gaps = np.diff(seconds[present])
        index = int(np.argmax(gaps))
        if worst is None or gaps[index] > worst[0]:
            worst = (float(gaps[index]), column, int(present[index + 1]))
    if worst is None or worst[0] - interval <= time_tolerance * (1 + 1e-9):
        return None
    longest, column, row = worst
    late = longest - interval
    suggested = f"{math.ceil(late / 60)}min" if late >= 60 else f"{math.ceil(late)}s"
    position = recording.converters[column].column.position
    return trend_problem(
        recording.trend.locator.row_span(int(recording.file_rows[row]), position),
        f"no value of `{column}` for {span_of_time(longest)} before this row: a change the log missed"
        f" reaches the rules up to {span_of_time(late)} late, beyond the time tolerance"
        f" ({span_of_time(time_tolerance)}); departures near such gaps may be the log's,"
        " not the controller's",
        f"give --time-tolerance {suggested}, or record the trend by change of value",
        warning=True,
    )


def span_of_time(seconds: float) -> str:
    """A duration as an engineer says it: `45 s`, `12 min`, `1 h 28 min`, `2 d 3 h`."""
    if seconds < 60:
        return f"{seconds:.6g} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _unit_factor(
    point: PointSpec, column: HeaderColumn, locator: Locator, warnings: list[Diagnostic]
) -> tuple[float, float] | None:
    """(a, b) taking the column's unit to the point's, or None (with a warning) if it cannot."""
    if not column.unit or column.unit == "-" or not point.unit:
        return 1.0, 0.0
    given = unit_symbol(column.unit)
    declared = units_.lookup(point.unit)
    span = locator.header_span(column.position)
    if given is None:
        suggestions = units_.suggest(column.unit)
        warnings.append(
            trend_problem(
                span,
                f"column `{column.name}` is ignored: unknown unit `{column.unit}`",
                f"did you mean `{suggestions[0]}`?"
                if suggestions
                else f"the rules declare it in {point.unit}",
                warning=True,
            )
        )
        return None
    if declared is None:
        return 1.0, 0.0
    try:
        return given.factor_to(declared)
    except units_.UnitError as exc:
        warnings.append(
            trend_problem(
                span,
                f"column `{column.name}` is ignored: {exc.message}",
                f"the rules declare `{point.column}` in {point.unit}",
                warning=True,
            )
        )
        return None


def _numbers(array: Any) -> tuple[FloatArray, Unreadable]:
    """(values, cells that hold something that is not a number)."""
    import pyarrow as pa

    if array.null_count == 0 and (pa.types.is_floating(array.type) or pa.types.is_integer(array.type)):
        # the usual column: numbers in every row, taken without a cast
        return np.asarray(array.to_numpy(), dtype=np.float64), None
    if not pa.types.is_string(array.type):
        try:
            values = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return np.full(len(array), np.nan), None
        return np.asarray(values, dtype=np.float64), None
    try:
        values = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return np.asarray(values, dtype=np.float64), None
    except pa.ArrowInvalid:
        pass
    import pandas as pd

    array = trimmed(array)  # spaces around a number, or a cell of spaces (missing)
    present = ~np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)

    parsed = pd.to_numeric(pd.Series(array.to_pylist(), dtype=object), errors="coerce").to_numpy(
        dtype=np.float64
    )
    return parsed, present & np.isnan(parsed)


def _booleans(array: Any) -> tuple[FloatArray, Unreadable]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(array.type) and array.null_count == 0:
        flags = array.to_numpy(zero_copy_only=False).astype(np.float64)  # the usual column, without a cast
        return flags, None
    if pa.types.is_boolean(array.type):
        return np.asarray(array.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64), None
    if not pa.types.is_string(array.type):
        numbers, bad = _numbers(array)
        return np.where(np.isnan(numbers), np.nan, (numbers != 0).astype(np.float64)), bad
    try:  # the usual spellings (true/false, 1/0, any case) in one cast
        flags = array.cast(pa.bool_()).cast(pa.float64()).to_numpy(zero_copy_only=False)
        return np.asarray(flags, dtype=np.float64), None
    except pa.ArrowInvalid:
        pass
    array = trimmed(array)
    lower = pc.utf8_lower(array)
    true = np.asarray(
        pc.is_in(lower, value_set=pa.array(TRUE_WORDS)).to_numpy(zero_copy_only=False), dtype=np.bool_
    )
    false = np.asarray(
        pc.is_in(lower, value_set=pa.array(FALSE_WORDS)).to_numpy(zero_copy_only=False), dtype=np.bool_
    )
    present = ~np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
    values = np.where(true, 1.0, np.where(false, 0.0, np.nan))
    return values, present & ~true & ~false


def _members(array: Any, members: tuple[str, ...]) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    import pyarrow as pa
    import pyarrow.compute as pc

    array = trimmed(array)
    present = ~np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
    if not pa.types.is_string(array.type):
        return np.full(len(array), np.nan), present
    index = pc.index_in(pc.utf8_lower(array), value_set=pa.array([m.lower() for m in members]))
    values = np.asarray(index.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return values, present & np.isnan(values)
