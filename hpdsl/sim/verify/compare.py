"""The comparison: each point's recording against the replay, inside a funnel of tolerances.

A point whose recording lies within its value tolerance of the replay at every row cannot
leave any funnel built with that tolerance; pyfunnel (OpenBuildingControl's reference
implementation) builds the funnel and measures the departures everywhere else. The work runs
in two passes over the file, chunk by chunk, so that memory stays flat however long the log:

1. the replay runs through every chunk once; for each point it counts the samples, keeps the
   largest difference from the recording in each chunk, and what the tolerance needs (the
   recorded range, a total's fastest rise); copies of the package's state are kept on the way;
2. the chunks where a point came farther from the replay than its tolerance are replayed again
   from a kept state, with a margin of rows on each side, and pyfunnel compares them. The
   departures of all chunks add up to the point's result.

May import: hpdsl.sim.verify.{trendfile, recording, replay}, hpdsl.sim.loaded, numpy.
"""

from __future__ import annotations

import contextlib
import datetime
import fnmatch
import io
import itertools
import shutil
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from hpdsl.base.progress import Progress
from hpdsl.base.source import display_name
from hpdsl.sim.loaded import LoadedPackage, PointSpec
from hpdsl.sim.verify.recording import (
    Recording,
    even_cuts,
    gap_warning,
    match,
    read,
    release_memory,
    span_of_time,
)
from hpdsl.sim.verify.replay import Replayer, scans_per_gap
from hpdsl.sim.verify.results import PointResult, Report, Settings
from hpdsl.sim.verify.trendfile import TrendFile, TrendFileError, source_of_broken, trend_problem

FloatArray = npt.NDArray[np.float64]
_T = TypeVar("_T")


MAX_EPISODES = 64  # departures remembered per point, for the causes

# What pyfunnel writes for a point: a folder holding only these and the plot is one an earlier
# verify wrote, and may be replaced.
FUNNEL_FILES = ("errors.csv", "lowerBound.csv", "upperBound.csv", "reference.csv", "test.csv")


@dataclass
class Tally:
    """What the first pass learns of one point, chunk by chunk."""

    samples: int = 0
    excess: list[float] = field(default_factory=list)  # per chunk: the largest |recording - replay|
    first_x: list[float | None] = field(default_factory=list)  # per chunk: its first sample's time
    first_row: int | None = None  # the first and last rows holding a value of both
    last_row: int | None = None
    low: float = np.inf  # the recorded range
    high: float = -np.inf
    largest: float = 0.0  # the largest |recorded|
    largest_reference: float = 0.0  # the largest |replay| where both have a value
    rise: float = 0.0  # a total's fastest rise per second
    previous: tuple[float, float] | None = None  # a total's last (time, value) of the chunk before


def merged(parts: list[dict[str, Tally]]) -> dict[str, Tally]:
    """The tallies of consecutive stretches of rows, in order, as one first pass over them all
    would have made them."""
    whole: dict[str, Tally] = {}
    for part in parts:
        for column, tally in part.items():
            into = whole.setdefault(column, Tally())
            into.samples += tally.samples
            into.excess.extend(tally.excess)
            into.first_x.extend(tally.first_x)
            into.first_row = into.first_row if into.first_row is not None else tally.first_row
            into.last_row = tally.last_row if tally.last_row is not None else into.last_row
            into.low, into.high = min(into.low, tally.low), max(into.high, tally.high)
            into.largest = max(into.largest, tally.largest)
            into.largest_reference = max(into.largest_reference, tally.largest_reference)
            into.rise = max(into.rise, tally.rise)
            into.previous = tally.previous if tally.previous is not None else into.previous
    return whole


class Observer(Protocol):
    """Reads the trend alongside the comparison, in the same pass over the file (`verify`'s
    `observer`): what the fleet's goals need, without reading a year of trend twice."""

    def start(self, recording: Recording) -> list[str]:
        """Before the replay: the recording, its time stamps and field inputs (the replay then
        holds each input's missing samples at the one before, in place); returns the compared
        columns it wants in every chunk."""
        ...

    def chunk(self, first: int, end: int, recorded: dict[str, FloatArray]) -> None:
        """The recorded values of kept rows [first, end) of the columns asked for (and others)."""
        ...


# Scans a replay may take: some 95 years at one-minute steps, or 1.6 years at one-second ones.
# The replay holds a few numbers per scan, so this bounds its memory to about a gigabyte.
MAX_SCANS = 50_000_000


@dataclass
class Comparison:
    """A trend read and matched to the package: what each pass of the comparison needs.

    `cuts` are the rows where the chunks begin (and the last row's end): those of
    `Settings.chunk_rows`, and any a caller adds (`with_cuts`) to run a stretch of the rows on
    its own (the fleet's months). A chunk is the unit the first pass tallies and the second
    compares again, so the same cuts serve both.
    """

    loaded: LoadedPackage
    report: Report
    recording: Recording
    compared: list[PointSpec]
    step_s: float
    time_tolerance: float
    settings: Settings
    cuts: list[int]

    def with_cuts(self, rows: list[int]) -> None:
        """Begin a chunk at each of `rows` as well."""
        self.cuts = sorted({*self.cuts, *(r for r in rows if 0 < r < len(self.recording.time_ms))})

    def cuts_of(self, first: int, end: int) -> list[int]:
        """The cuts from row `first` to row `end` (both cuts)."""
        return [c for c in self.cuts if first <= c <= end]


def verify(
    loaded: LoadedPackage,
    trend_path: Path,
    settings: Settings,
    output: Path | None,
    funnel: Any,
    progress: Progress | None = None,
    observer: Observer | None = None,
) -> Report:
    """Read, replay and compare; the report holds the trend's problems and each point's result.

    An `observer` is shown the recording and every chunk of the first pass (nothing when the
    trend has problems that stop the comparison)."""
    progress = progress or Progress("verify", False)
    opened = open_comparison(loaded, trend_path, settings, progress)
    if isinstance(opened, Report):
        return opened
    observed = observer.start(opened.recording) if observer is not None else []
    replayer = Replayer(loaded, opened.recording, opened.step_s)
    tallies = first_pass(opened, replayer, opened.cuts, progress, observer, observed)
    return finish(opened, replayer, tallies, output, funnel, progress)


def open_comparison(
    loaded: LoadedPackage, trend_path: Path, settings: Settings, progress: Progress
) -> Comparison | Report:
    """Read the trend's time stamps and field inputs and choose the compared points; the report
    alone when the trend's problems stop the comparison."""
    report = Report(display_name(trend_path))
    try:
        with progress.phase("reading the time stamps and field inputs"):
            trend = TrendFile.open(trend_path)
            matched, warnings = match(trend, loaded)
            report.diagnostics.extend(warnings)
            recording, warnings = read(trend, loaded, matched)
            report.diagnostics.extend(trend.warnings)
            report.diagnostics.extend(warnings)
    except TrendFileError as exc:
        report.diagnostics.extend(exc.diagnostics)
        report.sources[report.trend] = source_of_broken(exc.diagnostics, trend_path)
        return report
    locator = trend.locator
    compared = [
        converter.point
        for column, converter in recording.compared.items()
        if not settings.globs or any(fnmatch.fnmatchcase(column, g) for g in settings.globs)
    ]
    report.rows = len(recording.time_ms)
    epoch = datetime.datetime(1970, 1, 1)
    report.start = epoch + datetime.timedelta(milliseconds=int(recording.time_ms[0]))
    report.end = epoch + datetime.timedelta(milliseconds=int(recording.time_ms[-1]))
    if not compared:
        what = (
            "none of the points given with --points"
            if settings.globs and recording.compared
            else "none of the package's outputs, totals, counters, machine states or alarms"
        )
        report.diagnostics.append(
            trend_problem(
                locator.header_span(None),
                f"the trend holds {what}: nothing to compare",
                "a trend log for verification records the controller's outputs beside its inputs",
            )
        )
        report.sources[report.trend] = locator.source(report.diagnostics)
        return report
    seconds = recording.seconds
    median = float(np.median(np.diff(seconds))) if len(seconds) > 1 else 0.0
    step_s = settings.step_s if settings.step_s is not None else median
    time_tolerance = settings.time_tolerance_s if settings.time_tolerance_s is not None else median
    report.step_s = step_s
    scans = 1 + int(np.sum(scans_per_gap(seconds, step_s), dtype=np.int64))  # as the replay lays them out
    if scans > MAX_SCANS:
        report.diagnostics.append(
            trend_problem(
                locator.row_span(int(recording.file_rows[-1]), None),
                f"replaying the trend takes {scans:,} scans at a step of {span_of_time(step_s)}"
                f" (its rows span {span_of_time(float(seconds[-1]))}); verify replays at most {MAX_SCANS:,}",
                "give a longer --step, or split the trend into parts; check the last rows' time stamps",
            )
        )
        report.sources[report.trend] = locator.source(report.diagnostics)
        return report
    gaps = gap_warning(recording, time_tolerance)
    if gaps is not None:
        report.diagnostics.append(gaps)
    cuts = even_cuts(0, len(seconds), settings.chunk_rows)
    return Comparison(loaded, report, recording, compared, step_s, time_tolerance, settings, cuts)


def finish(
    opened: Comparison,
    replayer: Replayer,
    tallies: dict[str, Tally],
    output: Path | None,
    funnel: Any,
    progress: Progress,
) -> Report:
    """From the first pass's tallies: each point's tolerances, the second pass where a point came
    farther than them, and the causes of the departures."""
    from hpdsl.sim.verify import causes

    report, recording, compared = opened.report, opened.recording, opened.compared
    locator = recording.trend.locator
    for point in compared:
        warning = recording.compared[point.column].warning(locator)
        if warning is not None:
            report.diagnostics.append(warning)
    results: dict[str, PointResult] = {}
    for point in compared:
        tally = tallies[point.column]
        if tally.samples == 0:
            report.diagnostics.append(
                trend_problem(
                    locator.header_span(None),
                    f"`{point.column}` has no sample where both the recording and the rules have a"
                    " value; it is not compared",
                    warning=True,
                )
            )
            continue
        tolerance = value_tolerance(point, tally, opened.time_tolerance, opened.settings)
        results[point.column] = PointResult(point, tolerance, opened.time_tolerance, tally.samples)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hpdsl-verify-")))
        _second_pass(replayer, recording, results, tallies, opened.cuts, work, output, funnel, progress)
        report.results = [results[p.column] for p in compared if p.column in results]
        departed = [r for r in report.results if r.departed]
        if departed:
            with progress.phase("looking for the causes", total=len(departed), unit="points") as step:
                report.groups = causes.explain(opened.loaded, replayer, recording, departed, step)
    report.sources[report.trend] = locator.source(report.diagnostics)
    return report


def first_pass(
    opened: Comparison,
    replayer: Replayer,
    cuts: list[int],
    progress: Progress,
    observer: Observer | None = None,
    observed: list[str] | None = None,
    package: Any = None,
) -> dict[str, Tally]:
    """Replay the chunks between `cuts` once and tally, for each point, how far the recording came
    from it: from the record's start, or from `package`, the rules' state before the first cut."""
    recording, compared = opened.recording, opened.compared
    tallies = {point.column: Tally() for point in compared}
    # the real points first: their rows are the ones whose ranges are tallied
    compared = sorted(compared, key=lambda point: point.kind != "real")
    reals = sum(point.kind == "real" for point in compared)
    if package is None:
        assert cuts[0] == 0, "a stretch after the first row is run from the rules' state before it"
        package = replayer.new()
    elif cuts[0] > 0:
        # a total's rise into the first chunk is reckoned from the scan before it
        before = float(replayer.scan_s[replayer.row_scan[cuts[0] - 1]])
        for point in compared:
            if point.role == "total":
                value = getattr(getattr(package, point.instance), point.attribute)
                tallies[point.column].previous = (before, float(value))
    seconds = recording.seconds
    columns = [point.column for point in compared]
    read = [*columns, *(c for c in observed or () if c in recording.compared and c not in tallies)]
    chunks = ((*chunk, _stacked(chunk[2], columns)) for chunk in recording.chunks(read, cuts))
    with (
        progress.phase("replaying and comparing", total=cuts[-1] - cuts[0], unit="rows") as step,
        contextlib.closing(_prefetched(chunks)) as reader,
    ):
        for first, end in itertools.pairwise(cuts):
            # the replay needs no recorded value: the chunk is read while it runs
            values = replayer.run_numbers(package, first, end, compared, keep=True)
            _, _, chunk, recorded = next(reader)
            if observer is not None:
                observer.chunk(first, end, chunk)
            offset = replayer.first_scan(first)
            at_rows = replayer.row_scan[first:end] - offset
            scan_s = replayer.scan_s[offset : offset + values.shape[1]]
            if compared:
                # a scan a row (the usual case) needs no gathering of the rows' own scans
                replayed = values if values.shape[1] == end - first else values[:, at_rows]
                tallied = [tallies[c] for c in columns]
                _tally_chunk(tallied, replayed, recorded, seconds[first:end], first, reals)
            for k, point in enumerate(compared):
                if point.role == "total":
                    _tally_rise(tallies[point.column], scan_s, values[k])
            step.advance(end - first)
    # pyarrow's allocator reuses what a chunk freed for the next one; what is left goes back now
    release_memory()
    return tallies


def _stacked(chunk: dict[str, FloatArray], columns: list[str]) -> FloatArray:
    """The recorded values of `columns` as one block, a row a column (made on the reader thread)."""
    return np.stack([chunk[column] for column in columns]) if columns else np.empty((0, 0))


def _prefetched(chunks: Iterator[_T], depth: int = 2) -> Generator[_T, None, None]:
    """The items of `chunks`, read ahead on a thread: pyarrow parses and converts the next chunk
    (releasing the interpreter's lock) while the replay of this one runs."""
    import queue
    import threading

    items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in chunks:
                while not stop.is_set():
                    try:
                        items.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(("end", None))
        except BaseException as exc:  # handed to the consumer, which raises it
            items.put(("error", exc))

    worker = threading.Thread(target=produce, name="hpdsl-verify-reader", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = items.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _tally_chunk(
    tallies: list[Tally],
    replayed: FloatArray,
    recorded: FloatArray,
    seconds: FloatArray,
    first: int,
    ranged: int | None = None,
) -> None:
    """Tally a chunk of every point at once: `replayed` and `recorded` hold a row per point (the
    replay at each row's own scan, and the recording), NaN where there is no value. The ranges
    (low, high, largest values) are taken of the first `ranged` rows only (all with None): a
    tolerance is a share of the range for a real point only."""
    rows = recorded.shape[1]
    count = len(tallies)
    ranged = count if ranged is None else ranged
    difference = np.subtract(recorded, replayed)
    np.abs(difference, out=difference)
    excess = difference.max(axis=1) if rows else np.zeros(count)  # NaN where either has none
    low, high = np.full(count, np.inf), np.full(count, -np.inf)
    largest_reference = np.zeros(count)
    reference, taken = replayed[:ranged], recorded[:ranged]
    if rows and not np.isnan(excess).any():
        # The usual chunk: both have a value at every row of every point.
        counts = np.full(count, rows)
        largest_reference[:ranged] = np.maximum(np.abs(reference.max(axis=1)), np.abs(reference.min(axis=1)))
        low[:ranged], high[:ranged] = taken.min(axis=1), taken.max(axis=1)
        first_of = np.zeros(count, dtype=np.intp)
        last_of = np.full(count, rows - 1, dtype=np.intp)
    else:
        # NaN where either has no value: fmax and fmin pass over NaN, so no mask is built twice.
        both = ~np.isnan(difference)
        counts = both.sum(axis=1)
        excess = np.fmax.reduce(difference, axis=1, initial=-np.inf)
        largest_reference[:ranged] = np.fmax.reduce(
            np.abs(np.where(both[:ranged], reference, np.nan)), axis=1, initial=0.0
        )
        low[:ranged] = np.fmin.reduce(taken, axis=1, initial=np.inf)
        high[:ranged] = np.fmax.reduce(taken, axis=1, initial=-np.inf)
        first_of = np.argmax(both, axis=1)
        last_of = rows - 1 - np.argmax(both[:, ::-1], axis=1)
    largest = np.fmax(np.abs(low), np.abs(high))
    for k, tally in enumerate(tallies):
        samples = int(counts[k])
        tally.samples += samples
        if samples:
            tally.excess.append(float(excess[k]))
            tally.first_x.append(float(seconds[first_of[k]]))
            tally.first_row = first + int(first_of[k]) if tally.first_row is None else tally.first_row
            tally.last_row = first + int(last_of[k])
            tally.largest_reference = max(tally.largest_reference, float(largest_reference[k]))
        else:
            tally.excess.append(-np.inf)
            tally.first_x.append(None)
        if np.isfinite(low[k]):
            tally.low = min(tally.low, float(low[k]))
            tally.high = max(tally.high, float(high[k]))
            tally.largest = max(tally.largest, float(largest[k]))


def _tally_rise(tally: Tally, scan_s: FloatArray, reference: FloatArray) -> None:
    """A total's fastest rise per second over the replay (a total falls only when it resets)."""
    times, values = scan_s, reference
    if tally.previous is not None:
        times = np.concatenate(([tally.previous[0]], times))
        values = np.concatenate(([tally.previous[1]], values))
    if len(times) > 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.diff(values) / np.diff(times)
        rising = rates[np.isfinite(rates) & (rates > 0)]
        if len(rising):
            tally.rise = max(tally.rise, float(np.max(rising)))
    if len(times):
        tally.previous = (float(times[-1]), float(values[-1]))


def value_tolerance(point: PointSpec, tally: Tally, time_tolerance: float, settings: Settings) -> float:
    """The point's value tolerance: as given, else exact for booleans, members and whole numbers,
    else a share of the declared range (or the recorded range, or the largest value, or 1).

    A total also gets what it gains at its fastest rate in the time tolerance: a total integrates
    another point, and when that point changes a little later (within the time tolerance) the
    total keeps the difference for the rest of the day, where no shift in time can absorb it.
    """
    given = settings.tolerances.get(point.column)
    if given is not None:
        return given
    if point.kind != "real":
        return 0.0
    if point.low is not None and point.high is not None and point.high > point.low:
        span = point.high - point.low
    else:
        span = tally.high - tally.low if tally.high >= tally.low else 0.0
        if span == 0.0:
            span = tally.largest
    tolerance = settings.default_tolerance * (span or 1.0)
    if point.role == "total":
        tolerance += tally.rise * time_tolerance
    return tolerance


_Chunk = tuple[int, int, dict[str, FloatArray]]


def _second_pass(
    replayer: Replayer,
    recording: Recording,
    results: dict[str, PointResult],
    tallies: dict[str, Tally],
    cuts: list[int],
    work: Path,
    output: Path | None,
    funnel: Any,
    progress: Progress,
) -> None:
    """Compare with pyfunnel the chunks where a point came farther from the replay than its tolerance.

    Each such chunk is compared with a margin of rows on either side, taken from the chunks
    before and after it, so that the funnel at its first and last rows is the funnel of the
    whole record there; only its own rows' errors count.
    """
    suspects: dict[int, list[PointResult]] = {}
    for column, result in results.items():
        for index, excess in enumerate(tallies[column].excess):
            if excess > result.value_tolerance:
                suspects.setdefault(index, []).append(result)
    if not suspects:
        return
    columns = sorted({r.point.column for found in suspects.values() for r in found})
    with progress.phase("comparing with pyfunnel", total=len(suspects), unit="chunks") as step:
        previous: _Chunk | None = None
        current: _Chunk | None = None
        for index, following in enumerate(recording.chunks(columns, cuts)):
            if current is not None and index - 1 in suspects:
                _compare_chunk(
                    replayer,
                    recording,
                    suspects[index - 1],
                    tallies,
                    index - 1,
                    previous,
                    current,
                    following,
                    work,
                    funnel,
                )
                step.advance()
            previous, current = current, following
        last = len(tallies[columns[0]].excess) - 1
        if current is not None and last in suspects:
            _compare_chunk(
                replayer, recording, suspects[last], tallies, last, previous, current, None, work, funnel
            )
            step.advance()
    if output is not None:
        for result in results.values():
            if result.departed:
                result.folder = output / result.point.column
                _gather(work / result.point.column, result.folder)


def _compare_chunk(
    replayer: Replayer,
    recording: Recording,
    found: list[PointResult],
    tallies: dict[str, Tally],
    index: int,
    previous: _Chunk | None,
    current: _Chunk,
    following: _Chunk | None,
    work: Path,
    funnel: Any,
) -> None:
    """Replay one chunk with its margins again and compare its suspect points with pyfunnel."""
    seconds = recording.seconds
    first, end, _ = current
    margin = 2.0 * max(r.time_tolerance_s for r in found) + 2.0 * max(replayer.step_s, 0.0)
    low = int(np.searchsorted(seconds, seconds[first] - margin, side="left"))
    high = int(np.searchsorted(seconds, seconds[end - 1] + margin, side="right"))
    low = max(low, previous[0] if previous is not None else first)
    high = min(high, following[1] if following is not None else end)
    package, kept = replayer.restore(low)
    values = replayer.run(package, kept, high, [r.point for r in found])
    offset = replayer.first_scan(kept)
    for result in found:
        column = result.point.column
        parts = [current[2][column]]
        if previous is not None and low < first:
            parts.insert(0, previous[2][column][low - previous[0] :])
        if following is not None and high > end:
            parts.append(following[2][column][: high - following[0]])
        tally = tallies[column]
        after = next((x for x in tally.first_x[index + 1 :] if x is not None), None)
        _funnel_chunk(
            result,
            tally,
            replayer,
            values[column],
            offset,
            np.concatenate(parts),
            (first, end, low, high),
            seconds,
            after,
            work,
            funnel,
        )


def _funnel_chunk(
    result: PointResult,
    tally: Tally,
    replayer: Replayer,
    reference: FloatArray,
    offset: int,
    recorded: FloatArray,
    rows: tuple[int, int, int, int],
    seconds: FloatArray,
    after: float | None,
    work: Path,
    funnel: Any,
) -> None:
    """pyfunnel on one chunk of one point (rows [low, high) at hand, those of [first, end) counted).

    A sample within the value tolerance of the replay at its own time lies inside the funnel
    (the funnel holds the tolerance box around every point of the replay), so pyfunnel is run
    only around the samples that are not: on windows reaching a margin of two time tolerances
    and two scan steps beyond them, enough for the funnel there to be the funnel of the whole
    record.
    """
    first, end, low, high = rows
    at_rows = reference[replayer.row_scan[low:high] - offset]
    both = ~np.isnan(at_rows) & ~np.isnan(recorded)
    where = np.flatnonzero(both)
    if not len(where):
        return
    x_all, ref_all, test_all = seconds[low:high][both], at_rows[both], recorded[both]
    inner = (where >= first - low) & (where < end - low)
    suspect = inner & (np.abs(test_all - ref_all) > result.value_tolerance)
    if not suspect.any():
        return
    margin = 2.0 * result.time_tolerance_s + 2.0 * max(replayer.step_s, 0.0)
    times = x_all[suspect]
    breaks = np.flatnonzero(np.diff(times) > 2.0 * margin)
    starts = np.concatenate(([times[0]], times[breaks + 1]))
    stops = np.concatenate((times[breaks], [times[-1]]))
    # Each sample outside counts until the next sample (the next chunk's first, after the last).
    next_all = np.append(x_all[1:], after if after is not None else x_all[-1])
    # The bounds are computed in floating point; an error of rounding size is no departure.
    noise = 1e-9 * max(1.0, tally.largest_reference)
    chunk_start = float(seconds[first])
    chunk_stop = float(seconds[end]) if end < len(seconds) else np.inf
    for number, (start, stop) in enumerate(zip(starts, stops, strict=True)):
        lo = int(np.searchsorted(x_all, start - margin, side="left"))
        hi = int(np.searchsorted(x_all, stop + margin, side="right"))
        x, ref, test = x_all[lo:hi], ref_all[lo:hi], test_all[lo:hi]
        # The reference: every scan from the window's first sample's to its last's (pyfunnel
        # wants both curves to span the same time).
        scan_first = int(replayer.row_scan[low + where[lo]])
        scan_last = int(replayer.row_scan[low + where[hi - 1]])
        scan_x = replayer.scan_s[scan_first : scan_last + 1]
        scan_y = reference[scan_first - offset : scan_last + 1 - offset]
        valid = ~np.isnan(scan_y)
        folder = work / result.point.column / f"part-{first:010d}-{number:06d}"
        with contextlib.redirect_stdout(io.StringIO()) as said:
            status = funnel.compareAndReport(
                scan_x[valid].tolist(),
                scan_y[valid].tolist(),
                x.tolist(),
                test.tolist(),
                outputDirectory=str(folder),
                atolx=result.time_tolerance_s,
                atoly=result.value_tolerance,
            )
        if status != 0:
            raise RuntimeError(
                f"pyfunnel could not compare `{result.point.column}`: {said.getvalue().strip()}"
            )
        errors = np.loadtxt(folder / "errors.csv", delimiter=",", skiprows=1, ndmin=2)
        error = errors[:, 1] if len(errors) else np.zeros(len(x))
        # The stretch of time this window answers for, in the files gathered for the output.
        owned = (max(float(x[0]), chunk_start), min(float(x[-1]) + 1e-6, chunk_stop))
        (folder / "span").write_text(f"{owned[0]!r} {owned[1]!r}\n")
        counted = inner[lo:hi]
        outside = counted & (error > noise)
        if not outside.any():
            continue
        hit = np.flatnonzero(outside)
        if len(result.episodes) < MAX_EPISODES:
            result.episodes.append(low + int(where[lo + hit[0]]))
        # Ties broken on the error as reported (pyfunnel's 1e-10 offsets differ from window
        # to window), so that the time of the largest error does not depend on the chunking.
        largest = int(np.argmax(np.where(counted, np.round(error, 9), -np.inf)))
        if not result.departed:
            result.first_s = float(x[hit[0]])
            result.reference_at_first, result.recorded_at_first = float(ref[hit[0]]), float(test[hit[0]])
            result.first_row = low + int(where[lo + hit[0]])
        result.last_s = float(x[hit[-1]])
        result.outside_s += float(np.sum((next_all[lo:hi] - x)[outside]))
        # pyfunnel draws its bounds 1e-10 beside each sample: 0.9999999999 is a departure of 1.
        candidate = float(f"{error[largest]:.9g}")
        if not result.departed or candidate > result.max_error:
            result.max_error, result.max_error_s = candidate, float(x[largest])
        result.departed = True


def _gather(chunks: Path, folder: Path) -> None:
    """pyfunnel's files of every window compared for a point, joined in time order into `folder`.

    Each window's file keeps the rows of its own stretch of time, so that a margin compared
    twice is written once; a bound (drawn by pyfunnel as a line through its corners) is cut at
    the stretch's ends at the value it has there. Stretches where no sample left the value
    tolerance are not in the files: pyfunnel did not need to look at them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    parts = sorted(chunks.iterdir())  # part-<chunk's first row>-<window>, zero-padded
    for name in FUNNEL_FILES:
        pieces: list[FloatArray] = []
        header = ""
        for part in parts:
            start, stop = (float(v) for v in (part / "span").read_text().split())
            with (part / name).open(encoding="utf-8") as stream:
                header = stream.readline()
            rows = np.loadtxt(part / name, delimiter=",", skiprows=1, ndmin=2).reshape(-1, 2)
            inside = rows[(rows[:, 0] >= start) & (rows[:, 0] < stop)]
            if name in ("lowerBound.csv", "upperBound.csv") and len(rows):
                inside = _cut(rows, inside, start, stop)
            pieces.append(inside)
        with (folder / name).open("w", encoding="utf-8", newline="") as out:
            out.write(header or "x,y\n")
            for piece in pieces:
                out.writelines(f"{_text(x)},{_text(y)}\n" for x, y in piece)
    shutil.rmtree(chunks, ignore_errors=True)


def _cut(rows: FloatArray, inside: FloatArray, start: float, stop: float) -> FloatArray:
    """A bound's corners inside [start, stop), with its values at the two ends added."""
    parts = [inside]
    if rows[0, 0] <= start <= rows[-1, 0] and not (len(inside) and inside[0, 0] == start):
        parts.insert(0, np.array([[start, np.interp(start, rows[:, 0], rows[:, 1])]]))
    end = min(stop, float(rows[-1, 0]))
    if end > start and not (len(inside) and inside[-1, 0] >= end):
        parts.append(np.array([[end, np.interp(end, rows[:, 0], rows[:, 1])]]))
    return np.concatenate(parts)


def _text(value: float) -> str:
    """A number as pyfunnel writes it: as short as it reads back exactly."""
    return repr(float(value)) if not float(value).is_integer() else str(int(value))
