"""`hpdsl verify`: compare a trend log recorded on a controller with what the rules would have done.

This is the verification method of the OpenBuildingControl project: the sequence as specified
(here, the compiled rules) is run on the inputs the real controller saw, and each of its
outputs is compared with what the controller did, allowing a tolerance in value and in time.
The tolerances form a funnel around the reference (the replay); the controller departed from
the rules where its recording leaves the funnel. pyfunnel, the project's reference
implementation, builds the funnel and measures the departures.

The steps, each its own section below:

1. read the trend file (CSV or Parquet) into raw columns, tolerating what real logs do: empty
   cells, unparseable values, unit annotations, a second header row of units, rows out of
   order or repeated; what cannot be used at all is a `trend-file` diagnostic;
2. match the columns to the package's points and convert them to the units the rules declare;
3. replay the field inputs through the rules (one scan per row, gaps subdivided into scans of
   at most `--step`, inputs held between samples) and record every compared point;
4. compare each point with pyfunnel and report where and when it left its funnel.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import fnmatch
import io
import json
import math
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hpdsl import messages
from hpdsl import units as units_
from hpdsl.diagnostics import Diagnostic, Note, Severity
from hpdsl.package import UsageError
from hpdsl.sim.loaded import LoadedPackage, PointSpec, Recorder, load
from hpdsl.source import SourceFile, Span, display_name

FloatArray = npt.NDArray[np.float64]

EXIT_OK = 0
EXIT_DEPARTED = 1

# What pyfunnel writes for a point, and the plot beside it: a folder holding only these is one
# an earlier verify wrote, and may be replaced.
FUNNEL_FILES = ("errors.csv", "lowerBound.csv", "upperBound.csv", "reference.csv", "test.csv")
PLOT_FILE = "plot.png"
SUMMARY_FILE = "summary.csv"
SUMMARY_HEADER = (
    "point",
    "unit",
    "value_tolerance",
    "time_tolerance_s",
    "samples",
    "departed",
    "first_departure",
    "last_departure",
    "time_outside_s",
    "max_error",
    "max_error_time",
)

# Header names taken for the column of time stamps (compared without case and spaces).
TIME_NAMES = ("time", "timestamp", "datetime", "date/time", "date_time")

# Formats tried for time stamps that are not ISO 8601, in this order: a US export writes the
# month first, a European one uses dots. ISO 8601 (`2024-01-01 00:01:00`) is always tried first.
TIME_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
)
_ZONE = r"(?:Z|[+-]\d\d:?\d\d)$"

TRUE_WORDS = ("true", "1", "on", "yes", "active", "t", "1.0")
FALSE_WORDS = ("false", "0", "off", "no", "inactive", "f", "0.0")

# Spellings of units in trend exports that hpdsl.units does not list under that name.
_UNIT_SPELLINGS = {"%rh": "%", "rh%": "%", "degk": "K", "deltak": "K", "deltac": "K", "l/sec": "l/s"}

_MAX_LISTED = 12  # names listed in one warning before "and N more"
_MAX_TIME_ERRORS = 5  # bad time stamps reported one by one before a note counts the rest
_HINT_TIME = "write time stamps as ISO 8601 local time, `2024-01-01 00:01:00`"


# --- Command line --------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Run `hpdsl verify`: 0 when every point stays in its funnel, 1 on a departure or a trend-file error."""
    trend_path: Path = args.trend
    if not trend_path.exists():
        raise UsageError(f"no such file: `{trend_path}`")
    if trend_path.is_dir():
        raise UsageError(f"`{trend_path}` is a folder, not a trend file")
    output: Path | None = args.output
    if output is not None:
        _check_output(output, args.force)
    if args.step is not None and args.step <= 0:
        raise UsageError("--step must be longer than 0 s")
    funnel = _import_pyfunnel()
    started = time.perf_counter()
    loaded = load(args.paths, args.params, name="verified_rules")
    if not isinstance(loaded, LoadedPackage):
        sources = dict(loaded.check.sources)
        sources.update({name: source for name, source in loaded.site_sources.items() if source is not None})
        _emit_diagnostics(loaded.diagnostics, sources, args.format, None)
        return EXIT_DEPARTED
    tolerances = _tolerance_arguments(args.tolerance, loaded)
    report = verify(
        loaded,
        trend_path,
        Settings(
            time_tolerance_s=args.time_tolerance,
            step_s=args.step,
            default_tolerance=args.default_tolerance,
            tolerances=tolerances,
            globs=tuple(args.points),
        ),
        output,
        funnel,
    )
    report.seconds = time.perf_counter() - started
    if args.format == "json":
        _write(sys.stdout, json.dumps(report_json(report), indent=2, sort_keys=True) + "\n")
    else:
        if report.diagnostics:
            _emit_diagnostics(report.diagnostics, report.sources, "text", None)
        if report.results or not any(d.is_error for d in report.diagnostics):
            _write(sys.stdout, render_report(report, output))
    return EXIT_OK if report.ok else EXIT_DEPARTED


def _import_pyfunnel() -> Any:
    try:
        import pyfunnel  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise UsageError("hpdsl verify needs pyfunnel (pip install pyfunnel)") from None
    return pyfunnel


def _tolerance_arguments(items: list[str], loaded: LoadedPackage) -> dict[str, float]:
    """`--tolerance Program.point=0.5K` as {column: tolerance in the point's unit}; UsageError if wrong."""
    from hpdsl.values import Target, ValueProblem, convert_tolerance, from_text

    result: dict[str, float] = {}
    resolver = _Names(loaded)
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--tolerance `{item}`: write POINT=VALUE, such as Changeover.system_mode=0")
        point, problem = resolver.resolve(name.strip())
        if point is None:
            raise UsageError(f"--tolerance `{item}`: {problem}")
        if point.kind in ("bool", "enum"):
            raise UsageError(
                f"--tolerance `{item}`: {point.kind} points are compared exactly; give a time tolerance"
            )
        try:
            amount = convert_tolerance(from_text(value, _NO_PLACE), Target(point.kind, point.unit))
        except ValueProblem as exc:
            raise UsageError(
                f"--tolerance `{item}`: {exc.problem}" + (f" ({exc.hint})" if exc.hint else "")
            ) from None
        result[point.column] = amount
    return result


_NO_PLACE = Span("<command line>", 0, 0, 0, 0)


def _check_output(output: Path, force: bool) -> None:
    """Refuse an OUTDIR that is a file, or that holds something an earlier verify did not write."""
    if output.exists() and not output.is_dir():
        raise UsageError(f"`{output}` exists and is not a folder")
    if force or not output.exists() or _is_verify_output(output):
        return
    raise UsageError(
        f"will not write into `{output}`: it is not empty and holds no earlier `hpdsl verify` results"
        " (use --force to write into it)"
    )


def _is_verify_output(folder: Path) -> bool:
    """An empty folder, or one holding only an earlier verify's summary and point folders."""
    entries = list(folder.iterdir())
    if not entries:
        return True
    summary = folder / SUMMARY_FILE
    try:
        with summary.open(encoding="utf-8") as stream:
            first = stream.readline().strip()
    except OSError:
        return False
    if first != ",".join(SUMMARY_HEADER):
        return False
    return all(entry == summary or _is_point_folder(entry) for entry in entries)


def _is_point_folder(path: Path) -> bool:
    return path.is_dir() and all(f.name in (*FUNNEL_FILES, PLOT_FILE) for f in path.iterdir())


# --- Settings and results ------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the command line sets: tolerances, the replay's longest scan, which points."""

    time_tolerance_s: float | None = None  # None: the median sample interval
    step_s: float | None = None  # None: the median sample interval
    default_tolerance: float = 0.01  # share of the declared (else recorded) range, for reals
    tolerances: dict[str, float] = field(default_factory=dict)  # column -> in the point's unit
    globs: tuple[str, ...] = ()


@dataclass
class PointResult:
    """The comparison of one point: its tolerances and, if it left its funnel, where and when."""

    point: PointSpec
    value_tolerance: float
    time_tolerance_s: float
    samples: int
    departed: bool = False
    first_s: float | None = None  # seconds since the first row
    last_s: float | None = None
    outside_s: float = 0.0
    max_error: float = 0.0
    max_error_s: float | None = None
    reference_at_first: float | None = None  # the rules' value at the first departure
    recorded_at_first: float | None = None  # the controller's
    folder: Path | None = None  # pyfunnel's files and the plot, when written


@dataclass
class Report:
    """Everything verify found: the trend's problems, and each compared point's result."""

    trend: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    results: list[PointResult] = field(default_factory=list)
    rows: int = 0
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    step_s: float = 0.0  # the replay's longest scan
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics) and not any(r.departed for r in self.results)

    def at(self, seconds: float) -> datetime.datetime:
        assert self.start is not None
        return self.start + datetime.timedelta(seconds=seconds)


# --- 1. Reading the trend file --------------------------------------------------------------


@dataclass
class _RawColumn:
    """One column of the file as written: its header cell, position, unit text and cells."""

    header: str
    name: str
    unit: str
    position: int  # 0-based cell of a row
    values: Any  # a pyarrow Array; null where a cell is empty


@dataclass
class _RawTrend:
    time: npt.NDArray[np.int64]  # ms since the epoch, local time, in file order
    columns: list[_RawColumn]
    locator: _Locator


class TrendFileError(Exception):
    """The trend file cannot be used at all; the diagnostics say why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(diagnostics[0].message if diagnostics else "trend file error")
        self.diagnostics = diagnostics


class _Locator:
    """Where a row and a cell of the file are, for diagnostics: line, column and the line's text.

    Rows are located only when something is reported about them, by reading the file again
    with the csv module and counting records as pyarrow did (blank lines and rows with the
    wrong number of cells skipped), so reading a good file costs nothing extra.
    """

    def __init__(
        self, name: str, path: Path | None, encoding: str, delimiter: str, header_rows: int, cells: int
    ) -> None:
        self.name = name
        self.path = path  # None for Parquet: no lines to point at
        self.encoding = encoding
        self.delimiter = delimiter
        self.header_rows = header_rows
        self.cells = cells
        self.header_line = 1
        self.time_position = 0  # where a diagnostic about a whole row or the whole header points
        self.lines: dict[int, str] = {}  # the text of each line a diagnostic shows

    def header_span(self, position: int | None) -> Span:
        """The header cell at `position` (the time column's for None)."""
        return self._span(self.header_line, position)

    def row_span(self, row: int, position: int | None) -> Span:
        """The cell at `position` of data row `row` (0-based, in file order; the time cell for None)."""
        return self.rows_spans([row], position)[0]

    def rows_spans(self, rows: list[int], position: int | None) -> list[Span]:
        found = self._find(set(rows))
        return [self._span(found.get(row, 0), position) for row in rows]

    def first_bad_row(self) -> Span:
        """The first row with the wrong number of cells."""
        if self.path is None:
            return Span(self.name, 0, 0, 0, 0)
        for line, text, record in self._records():
            if line > self.header_rows and record and len(record) != self.cells:
                self.lines[line] = text
                return self._span(line, 0)
        return Span(self.name, 0, 0, 0, 0)

    def _span(self, line: int, position: int | None) -> Span:
        if line <= 0 or self.path is None:
            return Span(self.name, 0, 0, 0, 0)
        text = self.lines.get(line)
        if text is None:
            self._find_lines({line})
            text = self.lines.get(line, "")
        start, end = _cell_columns(text, self.delimiter, self.time_position if position is None else position)
        return Span(self.name, line, start, line, max(end, start + 1))

    def _records(self) -> Iterator[tuple[int, str, list[str]]]:
        """(first line, its text, cells) of every record of the file."""
        assert self.path is not None
        pending: list[str] = []

        def lines(stream: Iterable[str]) -> Iterator[str]:
            for line in stream:
                pending.append(line)
                yield line

        with self.path.open(encoding=self.encoding, errors="replace", newline="") as stream:
            reader = csv.reader(lines(stream), delimiter=self.delimiter)
            try:
                for record in reader:
                    first = reader.line_num - len(pending) + 1
                    text = pending[0].rstrip("\r\n").lstrip("\ufeff") if pending else ""
                    pending.clear()
                    yield first, text, record
            except csv.Error:
                return

    def _find(self, rows: set[int]) -> dict[int, int]:
        """{row: line} for data rows, counted as pyarrow counts them."""
        found: dict[int, int] = {}
        if self.path is None or not rows:
            return found
        last = max(rows)
        index = -1
        for line, text, record in self._records():
            if line <= self.header_rows or not record or record == [""] or len(record) != self.cells:
                continue
            index += 1
            if index in rows:
                found[index] = line
                self.lines[line] = text
            if index >= last:
                break
        return found

    def _find_lines(self, wanted: set[int]) -> None:
        for line, text, _ in self._records():
            if line in wanted:
                self.lines[line] = text
            if line >= max(wanted):
                break

    def source(self, diagnostics: list[Diagnostic]) -> SourceFile:
        """A SourceFile holding the lines the diagnostics show (the others empty): enough for carets."""
        lines = {n: _clipped(t, _reach(diagnostics, n)) for n, t in self.lines.items()}
        return _partial_source(self.name, lines)


def _partial_source(name: str, lines: dict[int, str]) -> SourceFile:
    last = max(lines, default=0)
    return SourceFile(name, "\n".join(lines.get(n, "") for n in range(1, last + 1)))


def _reach(diagnostics: list[Diagnostic], line: int) -> int:
    """How far along a line the carets of the diagnostics on it reach."""
    return max((d.span.end_column for d in diagnostics if d.span.line == line), default=0)


def _clipped(text: str, end: int) -> str:
    """A line of a wide log shown up to a little after the caret: a row of 200 cells fills no screen."""
    keep = max(end, 1) + 40
    return text if len(text) <= keep + 4 else text[:keep] + " ..."


def _cell_columns(text: str, delimiter: str, position: int) -> tuple[int, int]:
    """The 1-based start and end (exclusive) columns of cell `position` in one line of CSV."""
    start, quoted, cell = 0, False, 0
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            if cell == position:
                return start + 1, index + 1
            cell += 1
            start = index + 1
    if cell == position:
        return start + 1, len(text) + 1
    return len(text) + 1, len(text) + 2  # past the end: the row is short


def _problem(span: Span, problem: str, hint: str | None = None, *, warning: bool = False) -> Diagnostic:
    return messages.TREND_FILE.at(
        span, problem=problem, hint=hint, severity=Severity.WARNING if warning else None
    )


def read_trend(path: Path) -> tuple[_RawTrend, list[Diagnostic]]:
    """The raw columns of a CSV or Parquet trend file, and warnings; TrendFileError if it is unusable."""
    name = display_name(path)
    whole = Span(name, 0, 0, 0, 0)
    try:
        with path.open("rb") as stream:
            head = stream.read(65536)
    except OSError as exc:
        raise TrendFileError([_problem(whole, f"cannot read `{name}`: {exc.strerror or exc}")]) from None
    if head.startswith(b"PAR1") or path.suffix.lower() == ".parquet":
        return _read_parquet(path, name)
    return _read_csv(path, name, head)


def _read_csv(path: Path, name: str, head: bytes) -> tuple[_RawTrend, list[Diagnostic]]:
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
    import pyarrow.csv as pacsv  # type: ignore[import-untyped, unused-ignore]

    hint_format = "a trend file is CSV text with a header row `time,Program.point [unit],...`, or Parquet"
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        span = Span(name, 1, 1, 1, 2)
        raise TrendFileError([_problem(span, "the trend file is empty", hint_format)])
    nul = head.find(b"\x00")
    if nul >= 0:
        line = head.count(b"\n", 0, nul) + 1
        column = nul - (head.rfind(b"\n", 0, nul) + 1) + 1
        problem = f"the file is not CSV text (it holds a NUL byte at offset {nul}; a binary file?)"
        if head.startswith(b"PK\x03\x04"):
            hint_format = (
                "this looks like a spreadsheet (.xlsx) or a zip archive: save the sheet as CSV (UTF-8)"
            )
        raise TrendFileError([_problem(Span(name, line, column, line, column + 1), problem, hint_format)])
    encoding = "utf-8"
    try:
        text = head.decode("utf-8-sig", errors="strict") if len(head) < 65536 else _decode_prefix(head)
    except UnicodeDecodeError:
        # Old BAS exports write Windows-1252 (°F as 0xb0); latin-1 reads every byte.
        encoding = "latin-1"
        text = head.decode("latin-1")
    lines = text.splitlines()
    first_line = next((i for i, line in enumerate(lines) if line.strip()), 0)
    delimiter = max((",", ";", "\t"), key=lambda d: _count_outside_quotes(lines[first_line], d))
    rows = list(csv.reader(lines[first_line : first_line + 2], delimiter=delimiter))
    header = rows[0] if rows else []
    locator = _Locator(name, path, encoding, delimiter, first_line + 1, len(header))
    locator.header_line = first_line + 1
    locator.lines[first_line + 1] = lines[first_line]
    names = [cell.strip() for cell in header]
    time_index = next((i for i, n in enumerate(names) if _is_time_name(n)), None)
    if time_index is None:
        shown = ", ".join(f"`{n}`" for n in names[:4]) + (", ..." if len(names) > 4 else "")
        span = locator.header_span(0)
        raise TrendFileError(
            [
                _problem(
                    span,
                    f"no time column: the header row names {shown or 'nothing'}",
                    "name the column of time stamps `time`; " + _HINT_TIME,
                )
            ]
        )
    locator.time_position = time_index
    unit_row = len(rows) > 1 and _is_unit_row(rows[1], time_index)
    header_rows = first_line + (2 if unit_row else 1)
    locator.header_rows = header_rows
    warnings: list[Diagnostic] = []
    invalid: list[str] = []

    def skip_invalid(row: Any) -> str:
        invalid.append(row.text)
        return "skip"

    column_names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=column_names, skip_rows=header_rows, encoding=encoding
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=skip_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in column_names}, strings_can_be_null=True
            ),
        )
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise TrendFileError(
            [_problem(Span(name, 0, 0, 0, 0), f"cannot read the file as CSV: {exc}", hint_format)]
        ) from None
    if invalid:
        warnings.append(
            _problem(
                locator.first_bad_row(),
                f"{_count(len(invalid), 'row')} without {len(header)} cells skipped",
                "every row has one cell per header cell (an empty cell for a missing value)",
                warning=True,
            )
        )
    units = rows[1] if unit_row else [""] * len(header)
    columns: list[_RawColumn] = []
    for position, cell in enumerate(header):
        if position == time_index:
            continue
        column_name, unit = _split_unit(cell)
        if unit_row and units[position].strip() not in ("", "-"):
            unit = units[position].strip()
        values = _trimmed(table.column(position).combine_chunks())
        columns.append(_RawColumn(cell.strip(), column_name, unit, position, values))
    stamps = _trimmed(table.column(time_index).combine_chunks())
    time_ms = _time_column(stamps, locator, time_index)
    if len(time_ms) == 0:
        line = header_rows + 1
        raise TrendFileError(
            [_problem(Span(name, line, 1, line, 2), "the trend has no rows after the header", hint_format)]
        )
    return _RawTrend(time_ms, columns, locator), warnings


def _decode_prefix(head: bytes) -> str:
    # The first 64 KiB may end inside a multi-byte character; only the complete ones count.
    import codecs

    return codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)


def _count_outside_quotes(line: str, delimiter: str) -> int:
    return len(re.sub(r'"[^"]*"', "", line).split(delimiter)) - 1


def _is_time_name(header: str) -> bool:
    name, _ = _split_unit(header)
    return re.sub(r"\s+", "", name).lower() in TIME_NAMES


def _is_unit_row(cells: list[str], time_index: int) -> bool:
    """A second header row of units: no time stamp, and units (or `-`) where there are values."""
    time_cell = cells[time_index].strip() if time_index < len(cells) else ""
    if any(char.isdigit() for char in time_cell):
        return False
    others = [c.strip() for i, c in enumerate(cells) if i != time_index and c.strip()]
    known = [c for c in others if c == "-" or _unit_symbol(c) is not None]
    return bool(others) and len(known) * 2 >= len(others)


def _split_unit(header: str) -> tuple[str, str]:
    """`name [unit]` or `name (unit)` as (name, unit); a parenthesis that is not a unit stays in the name."""
    from hpdsl.sim.trend import split_header

    name, unit = split_header(header)
    if unit:
        return name, unit
    match = re.fullmatch(r"\s*(.*?)\s*\(([^()]*)\)\s*", header)
    if match and _unit_symbol(match.group(2)) is not None:
        return match.group(1), match.group(2).strip()
    return header.strip(), ""


def _unit_symbol(text: str) -> units_.Unit | None:
    """The unit a header writes, in the spellings trend exports use (`degF`, `deg F`, `°F`, `%RH`)."""
    compact = re.sub(r"\s+", "", text.strip())
    if not compact:
        return None
    return units_.lookup(compact) or units_.lookup(_UNIT_SPELLINGS.get(compact.lower(), ""))


def _trimmed(array: Any) -> Any:
    """String cells without surrounding spaces; other types unchanged."""
    import pyarrow as pa
    import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        trimmed = pc.utf8_trim_whitespace(array)
        return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    return array


def _read_parquet(path: Path, name: str) -> tuple[_RawTrend, list[Diagnostic]]:
    import pyarrow as pa
    import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

    whole = Span(name, 0, 0, 0, 0)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise TrendFileError(
            [_problem(whole, f"cannot read the file as Parquet: {exc}", "export the trend as CSV or Parquet")]
        ) from None
    locator = _Locator(name, None, "utf-8", ",", 0, table.num_columns)
    time_index = next((i for i, n in enumerate(table.column_names) if _is_time_name(n)), None)
    if time_index is None:
        raise TrendFileError([_problem(whole, "no time column", "name the column of time stamps `time`")])
    columns: list[_RawColumn] = []
    for position, schema_field in enumerate(table.schema):
        if position == time_index:
            continue
        metadata = {k.decode(): v.decode() for k, v in (schema_field.metadata or {}).items()}
        column_name, unit = _split_unit(schema_field.name)
        role = metadata.get("role", "")
        if role in ("plant", "weather"):
            continue  # the plant model's and the weather's columns of a simulated trend
        values = _trimmed(table.column(position).combine_chunks())
        columns.append(
            _RawColumn(schema_field.name, column_name, unit or metadata.get("unit", ""), position, values)
        )
    time_ms = _time_column(_trimmed(table.column(time_index).combine_chunks()), locator, time_index)
    if len(time_ms) == 0:
        raise TrendFileError([_problem(whole, "the trend has no rows")])
    return _RawTrend(time_ms, columns, locator), []


def _time_column(stamps: Any, locator: _Locator, position: int) -> npt.NDArray[np.int64]:
    """The time stamps as ms since the epoch (local wall time); TrendFileError for any that cannot be read."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parsed = _parse_times(stamps)
    bad = np.flatnonzero(pc.is_null(parsed).to_numpy(zero_copy_only=False))
    if len(bad):
        shown = [int(row) for row in bad[:_MAX_TIME_ERRORS]]
        diagnostics = []
        for index, (row, span) in enumerate(zip(shown, locator.rows_spans(shown, position), strict=True)):
            text = stamps[row].as_py()
            problem = "a row without a time stamp" if text is None else f"`{text}` is not a time stamp"
            notes: tuple[Note, ...] = ()
            if index == len(shown) - 1 and len(bad) > len(shown):
                rest = _count(len(bad) - len(shown), "more row")
                notes = (Note(f"{rest} with a time stamp that cannot be read"),)
            diagnostics.append(messages.TREND_FILE.at(span, problem=problem, hint=_HINT_TIME, notes=notes))
        raise TrendFileError(diagnostics)
    values = parsed.cast(pa.timestamp("ms")).cast(pa.int64()).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.int64)


def _parse_times(stamps: Any) -> Any:
    """Time stamps as a timestamp[ms] array; null where a cell is empty or cannot be read."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = stamps.type
    if pa.types.is_timestamp(kind):
        if kind.tz is not None:
            stamps = pc.local_timestamp(stamps)  # the wall time where the log was recorded
        return stamps.cast(pa.timestamp("ms"))
    if pa.types.is_date(kind):
        return stamps.cast(pa.timestamp("ms"))
    if pa.types.is_dictionary(kind):
        stamps = stamps.cast(pa.string())
    if not pa.types.is_string(stamps.type):
        return pa.nulls(len(stamps), pa.timestamp("ms"))
    # A zone offset is dropped: the rules' schedules run on the local time the log shows.
    local = pc.replace_substring_regex(stamps, _ZONE, "")
    try:
        return local.cast(pa.timestamp("ms"))
    except pa.ArrowInvalid:
        pass
    best = _iso_times(local)
    for format_ in TIME_FORMATS:
        if best.null_count == stamps.null_count:
            break
        candidate = pc.strptime(local, format=format_, unit="ms", error_is_null=True)
        if candidate.null_count < best.null_count:
            best = candidate
    return best


def _iso_times(strings: Any) -> Any:
    """ISO 8601 time stamps, null where a cell is not one (pyarrow's cast fails on the first)."""
    import pandas as pd
    import pyarrow as pa

    parsed = pd.to_datetime(pd.Series(strings.to_pylist(), dtype=object), format="ISO8601", errors="coerce")
    return pa.array(parsed.to_numpy(dtype="datetime64[ms]"), type=pa.timestamp("ms"), from_pandas=True)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _listed(names: list[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


# --- 2. Matching columns to points ---------------------------------------------------------


class _Names:
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
            return None, f"`{name}` is a point of several programs: " + _listed(
                [c.column for c in candidates]
            )
        hint = messages.did_you_mean(name, self.by_column)
        return None, f"the package has no point `{name}`" + (f"; {hint}" if hint else "")


@dataclass
class _Recording:
    """The trend as the rules' points: sorted, one row per time, values in the declared units."""

    time_ms: npt.NDArray[np.int64]
    inputs: dict[str, FloatArray]  # field inputs by column: numbers, 0/1, member positions; NaN missing
    compared: dict[str, FloatArray]  # outputs, totals, counters, machines, alarms, likewise
    points: dict[str, PointSpec]
    file_rows: npt.NDArray[np.intp]  # each row's index in the file, for diagnostics
    positions: dict[str, int]  # each column's cell in a row of the file


def match(raw: _RawTrend, loaded: LoadedPackage) -> tuple[_Recording, list[Diagnostic]]:
    """The columns the package knows, converted; warnings for the rest and for what is missing."""
    locator = raw.locator
    warnings: list[Diagnostic] = []
    names = _Names(loaded)
    unknown: list[_RawColumn] = []
    matched: dict[str, tuple[PointSpec, _RawColumn]] = {}
    for column in raw.columns:
        if column.name.startswith(("plant.", "weather.")):
            continue  # the plant model's and the weather's columns of a simulated trend
        point, problem = names.resolve(column.name)
        if point is None:
            if "several programs" in problem:
                warnings.append(
                    _problem(
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
                _problem(
                    locator.header_span(column.position),
                    f"column `{column.header}` is a second column for `{point.column}` and is ignored",
                    warning=True,
                )
            )
            continue
        matched[point.column] = (point, column)
    if unknown:
        warnings.append(
            _problem(
                locator.header_span(unknown[0].position),
                f"{_count(len(unknown), 'column')} the package does not have, ignored: "
                + _listed([c.name for c in unknown]),
                "columns are named `Program.point` as the rules declare them (or `point` where only one"
                " program has it)",
                warning=True,
            )
        )
    values: dict[str, FloatArray] = {}
    for column_name, (point, column) in matched.items():
        converted = _values(point, column, locator, warnings)
        column.values = None  # the text of a year of rows is large; only the numbers are needed now
        if converted is not None:
            values[column_name] = converted
    missing = [p.column for p in loaded.field_inputs if p.column not in values]
    if missing:
        warnings.append(
            _problem(
                locator.header_span(None),
                f"no column for {_count(len(missing), 'field input')}: {_listed(missing)};"
                f" the rules see {'it' if len(missing) == 1 else 'them'} as faulted"
                " (the fallback, and a sensor-fault alarm)",
                warning=True,
            )
        )
    order, keep, order_warnings = _time_order(raw.time, locator)
    warnings.extend(order_warnings)
    rows = order[keep]
    points = {p.column: p for p in loaded.points}
    inputs = {c: v[rows] for c, v in values.items() if points[c].role == "input"}
    compared = {c: v[rows] for c, v in values.items() if points[c].role != "input"}
    positions = {c: column.position for c, (_, column) in matched.items()}
    return _Recording(raw.time[rows], inputs, compared, points, rows, positions), warnings


def gap_warning(recording: _Recording, locator: _Locator, time_tolerance: float) -> Diagnostic | None:
    """A warning when the log lost an input for longer than the time tolerance can absorb.

    Between two samples an input holds its value, so a change the log did not record reaches
    the rules only at the next sample: up to the longest stretch without a value, less one
    sample interval, late. A time tolerance shorter than that reports the log's gaps as the
    controller's departures.
    """
    seconds = (recording.time_ms - recording.time_ms[0]) / 1000.0
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
    return _problem(
        locator.row_span(int(recording.file_rows[row]), recording.positions[column]),
        f"no value of `{column}` for {_span_of_time(longest)} before this row: a change the log missed"
        f" reaches the rules up to {_span_of_time(late)} late, beyond the time tolerance"
        f" ({_span_of_time(time_tolerance)}); departures near such gaps may be the log's,"
        " not the controller's",
        f"give --time-tolerance {suggested}, or record the trend by change of value",
        warning=True,
    )


def _time_order(
    time_ms: npt.NDArray[np.int64], locator: _Locator
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_], list[Diagnostic]]:
    """The rows in time order, which to keep (the last of a repeated time), and warnings."""
    warnings: list[Diagnostic] = []
    steps = np.diff(time_ms)
    backwards = np.flatnonzero(steps < 0)
    if len(backwards):
        warnings.append(
            _problem(
                locator.row_span(int(backwards[0]) + 1, None),
                f"{_count(len(backwards), 'row')} earlier than the row before; the rows are sorted by time",
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
            _problem(
                locator.row_span(first, None),
                f"{_count(len(repeated), 'row')} repeat the time stamp of another row;"
                " the last of each is kept",
                warning=True,
            )
        )
    return order, keep, warnings


def _values(
    point: PointSpec, column: _RawColumn, locator: _Locator, warnings: list[Diagnostic]
) -> FloatArray | None:
    """A column as numbers in the point's unit (booleans 0/1, members by position), NaN where missing."""
    import pyarrow as pa

    array = column.values
    if pa.types.is_dictionary(array.type):
        array = array.cast(pa.string())
    if point.kind == "bool":
        values, bad = _booleans(array)
        expected = "true or false"
    elif point.kind == "enum":
        values, bad = _members(array, point.members)
        expected = "one of " + ", ".join(point.members)
    else:
        values, bad = _numbers(array)
        expected = "a number"
        scale = _unit_factor(point, column, locator, warnings)
        if scale is None:
            return None
        a, b = scale
        if (a, b) != (1.0, 0.0):
            values = values * a + b
    bad_rows = np.flatnonzero(bad)
    if len(bad_rows):
        first = int(bad_rows[0])
        shown = array[first].as_py()
        warnings.append(
            _problem(
                locator.row_span(first, column.position),
                f"{_count(len(bad_rows), 'cell')} of `{column.name}` cannot be read as {expected}"
                f" (first: `{shown}`); {'it counts' if len(bad_rows) == 1 else 'they count'} as missing",
                warning=True,
            )
        )
    return values


def _unit_factor(
    point: PointSpec, column: _RawColumn, locator: _Locator, warnings: list[Diagnostic]
) -> tuple[float, float] | None:
    """(a, b) taking the column's unit to the point's, or None (with a warning) if it cannot."""
    if not column.unit or column.unit == "-" or not point.unit:
        return 1.0, 0.0
    given = _unit_symbol(column.unit)
    declared = units_.lookup(point.unit)
    span = locator.header_span(column.position)
    if given is None:
        suggestions = units_.suggest(column.unit)
        warnings.append(
            _problem(
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
            _problem(
                span,
                f"column `{column.name}` is ignored: {exc.message}",
                f"the rules declare `{point.column}` in {point.unit}",
                warning=True,
            )
        )
        return None


def _numbers(array: Any) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """(values, cells that hold something that is not a number)."""
    import pyarrow as pa

    if not pa.types.is_string(array.type):
        try:
            values = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return np.full(len(array), np.nan), np.zeros(len(array), dtype=np.bool_)
        return np.asarray(values, dtype=np.float64), np.zeros(len(array), dtype=np.bool_)
    present = ~np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
    try:
        values = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return np.asarray(values, dtype=np.float64), np.zeros(len(array), dtype=np.bool_)
    except pa.ArrowInvalid:
        pass
    import pandas as pd

    parsed = pd.to_numeric(pd.Series(array.to_pylist(), dtype=object), errors="coerce").to_numpy(
        dtype=np.float64
    )
    return parsed, present & np.isnan(parsed)


def _booleans(array: Any) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(array.type):
        return np.asarray(
            array.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        ), np.zeros(len(array), dtype=np.bool_)
    if not pa.types.is_string(array.type):
        numbers, bad = _numbers(array)
        return np.where(np.isnan(numbers), np.nan, (numbers != 0).astype(np.float64)), bad
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

    present = ~np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
    if not pa.types.is_string(array.type):
        return np.full(len(array), np.nan), present
    index = pc.index_in(pc.utf8_lower(array), value_set=pa.array([m.lower() for m in members]))
    values = np.asarray(index.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return values, present & np.isnan(values)


# --- 3. The replay --------------------------------------------------------------------------


@dataclass
class Replay:
    """What the rules did: the compared points' values after every scan, and when each scan ran."""

    scan_s: FloatArray  # seconds since the first row, one per scan (rows and the scans in gaps)
    row_scan: npt.NDArray[np.intp]  # the scan of each row
    values: dict[str, FloatArray]  # column -> one value per scan; NaN where there is none


def scan_plan(seconds: FloatArray, step_s: float) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """(scans per gap, the time of every scan): a gap longer than `step_s` becomes equal scans."""
    gaps = np.diff(seconds)
    if step_s > 0:
        parts = np.maximum(1, np.ceil(gaps / step_s - 1e-9)).astype(np.intp)
    else:
        parts = np.ones(len(gaps), dtype=np.intp)
    gap_of_scan = np.repeat(np.arange(len(gaps)), parts)  # the gap each scan after the first ends in
    first_of_gap = np.concatenate(([0], np.cumsum(parts)[:-1]))
    ordinal = np.arange(len(gap_of_scan)) - np.repeat(first_of_gap, parts) + 1
    scan_s = np.concatenate(([0.0], seconds[gap_of_scan] + ordinal * (gaps / parts)[gap_of_scan]))
    scan_s[np.concatenate(([0], np.cumsum(parts)))] = seconds  # a row's scan is at its time exactly
    return parts, scan_s


def replay(loaded: LoadedPackage, recording: _Recording, compared: list[PointSpec], step_s: float) -> Replay:
    """Run the rules on the recorded field inputs and record the compared points after every scan.

    The package starts at the first row's time. Each row's inputs are set and one scan runs,
    the first with 0 s elapsed, then the time since the previous row; a gap longer than
    `step_s` is run as equal scans of at most `step_s`, the inputs held at the previous row's
    values, so that timers advance as they would on the controller.
    """
    time_ms = recording.time_ms
    seconds = (time_ms - time_ms[0]) / 1000.0
    parts, scan_s = scan_plan(seconds, step_s)
    start = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=int(time_ms[0]))
    package = loaded.new(start)
    fed = [recording.points[c] for c in recording.inputs]
    feed = _feeder(fed)
    rows: Iterator[tuple[object, ...]] = zip(
        *(_runtime_values(loaded, p, recording.inputs[p.column]) for p in fed), strict=True
    )
    if not fed:
        rows = iter([()] * len(time_ms))
    recorder = Recorder(loaded, package, compared)
    scan, record = package.scan, recorder.record
    feed(package, next(rows))
    scan(0.0)
    record()
    lengths: list[float] = (np.diff(seconds) / parts).tolist()
    for length, count, row in zip(lengths, parts.tolist(), rows, strict=True):
        for _ in range(count - 1):
            scan(length)  # the inputs hold the previous row's values
            record()
        feed(package, row)
        scan(length)
        record()
    values: dict[str, FloatArray] = {}
    for column in recorder.columns():
        numbers = column.as_float()
        if column.kind == "enum":
            numbers[numbers < 0] = np.nan  # no member (a value the recorder could not read)
        values[column.name] = numbers
    row_scan = np.concatenate(([0], np.cumsum(parts))).astype(np.intp)
    return Replay(scan_s, row_scan, values)


def _runtime_values(loaded: LoadedPackage, point: PointSpec, values: FloatArray) -> list[object]:
    """An input's values as the runtime takes them, held from one sample to the next.

    A missing sample holds the last value before it (a trend log by change of value writes only
    changes); before the first sample the input takes the first recorded value, since the
    controller was running before the log started. An input never recorded is None: faulted.
    """
    present = ~np.isnan(values)
    if not present.any():
        return [None] * len(values)
    index = np.where(present, np.arange(len(values)), 0)
    np.maximum.accumulate(index, out=index)
    first = int(np.argmax(present))
    index[:first] = first
    held = values[index]
    if point.kind == "bool":
        return (held != 0).tolist()  # type: ignore[no-any-return]
    if point.kind == "int":
        return np.rint(held).astype(np.int64).tolist()  # type: ignore[no-any-return]
    if point.kind == "enum":
        members = np.array([loaded.enum_member(point, m) for m in point.members], dtype=object)
        return members[held.astype(np.int64)].tolist()  # type: ignore[no-any-return]
    return held.tolist()  # type: ignore[no-any-return]


def _feeder(points: list[PointSpec]) -> Callable[[Any, tuple[object, ...]], None]:
    """`def feed(package, row): p0 = package.a; p0.x, p0.y, ... = row`, compiled once for these inputs."""
    instances = sorted({point.instance for point in points})
    local = {instance: f"p{i}" for i, instance in enumerate(instances)}
    lines = ["def feed(package, row):"]
    lines += [f"    {local[instance]} = package.{instance}" for instance in instances]
    targets = ", ".join(f"{local[p.instance]}.{p.attribute}" for p in points)
    lines.append(f"    ({targets},) = row" if points else "    pass")
    namespace: dict[str, Any] = {}
    exec(
        compile("\n".join(lines), "<hpdsl verify feeder>", "exec"), namespace
    )  # names from the package metadata
    feed: Callable[[Any, tuple[object, ...]], None] = namespace["feed"]
    return feed


# --- 4. The comparison ----------------------------------------------------------------------


def verify(
    loaded: LoadedPackage, trend_path: Path, settings: Settings, output: Path | None, funnel: Any
) -> Report:
    """Read, replay and compare; the report holds the trend's problems and each point's result."""
    report = Report(display_name(trend_path))
    try:
        raw, warnings = read_trend(trend_path)
        report.diagnostics.extend(warnings)
        recording, warnings = match(raw, loaded)
        report.diagnostics.extend(warnings)
    except TrendFileError as exc:
        report.diagnostics.extend(exc.diagnostics)
        report.sources[report.trend] = _source_of(exc.diagnostics, trend_path)
        return report
    report.sources[report.trend] = raw.locator.source(report.diagnostics)
    compared = [
        recording.points[c]
        for c in recording.compared
        if not settings.globs or any(fnmatch.fnmatchcase(c, g) for g in settings.globs)
    ]
    report.rows = len(recording.time_ms)
    start = datetime.datetime(1970, 1, 1)
    report.start = start + datetime.timedelta(milliseconds=int(recording.time_ms[0]))
    report.end = start + datetime.timedelta(milliseconds=int(recording.time_ms[-1]))
    if not compared:
        what = (
            "none of the points given with --points"
            if settings.globs and recording.compared
            else ("none of the package's outputs, totals, counters, machine states or alarms")
        )
        report.diagnostics.append(
            _problem(
                raw.locator.header_span(None),
                f"the trend holds {what}: nothing to compare",
                "a trend log for verification records the controller's outputs beside its inputs",
            )
        )
        report.sources[report.trend] = raw.locator.source(report.diagnostics)
        return report
    seconds = (recording.time_ms - recording.time_ms[0]) / 1000.0
    median = float(np.median(np.diff(seconds))) if len(seconds) > 1 else 0.0
    step_s = settings.step_s if settings.step_s is not None else median
    time_tolerance = settings.time_tolerance_s if settings.time_tolerance_s is not None else median
    report.step_s = step_s
    gaps = gap_warning(recording, raw.locator, time_tolerance)
    if gaps is not None:
        report.diagnostics.append(gaps)
    replayed = replay(loaded, recording, compared, step_s)
    with contextlib.ExitStack() as stack:
        work = output
        if work is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hpdsl-verify-")))
        else:
            _clear_output(work)
        for point in compared:
            recorded = recording.compared[point.column]
            tolerance = _value_tolerance(point, recorded, replayed, time_tolerance, settings)
            result = compare_point(
                point, seconds, recorded, replayed, tolerance, time_tolerance, work, funnel
            )
            if result is None:
                report.diagnostics.append(
                    _problem(
                        raw.locator.header_span(None),
                        f"`{point.column}` has no sample where both the recording and the rules have a"
                        " value; it is not compared",
                        warning=True,
                    )
                )
                continue
            if result.departed and output is not None:
                result.folder = output / point.column
                plot(result, report)
            report.results.append(result)
        if output is not None:
            write_summary(output / SUMMARY_FILE, report)
    report.sources[report.trend] = raw.locator.source(report.diagnostics)
    return report


def _source_of(diagnostics: list[Diagnostic], path: Path) -> SourceFile:
    """The lines of a broken trend file that its diagnostics point at."""
    wanted = {d.span.line for d in diagnostics if d.span.line > 0}
    lines: dict[int, str] = {}
    if wanted:
        try:
            with path.open("rb") as stream:
                for number, raw in enumerate(stream, start=1):
                    if number in wanted:
                        lines[number] = raw.decode("utf-8", errors="replace").rstrip("\r\n").lstrip("\ufeff")
                    if number >= max(wanted):
                        break
        except OSError:
            pass
    return _partial_source(
        display_name(path), {n: _clipped(t, _reach(diagnostics, n)) for n, t in lines.items()}
    )


def _value_tolerance(
    point: PointSpec, recorded: FloatArray, replayed: Replay, time_tolerance: float, settings: Settings
) -> float:
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
        present = recorded[~np.isnan(recorded)]
        span = float(np.ptp(present)) if len(present) else 0.0
        if span == 0.0:
            span = float(np.max(np.abs(present))) if len(present) else 0.0
    tolerance = settings.default_tolerance * (span or 1.0)
    if point.role == "total" and len(replayed.scan_s) > 1:
        reference = replayed.values[point.column]
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.diff(reference) / np.diff(replayed.scan_s)
        rising = rates[np.isfinite(rates) & (rates > 0)]  # a total falls only when it resets
        if len(rising):
            tolerance += float(np.max(rising)) * time_tolerance
    return tolerance


def compare_point(
    point: PointSpec,
    seconds: FloatArray,
    recorded: FloatArray,
    replayed: Replay,
    value_tolerance: float,
    time_tolerance: float,
    work: Path,
    funnel: Any,
) -> PointResult | None:
    """Compare one point with pyfunnel; None when no row holds a value of both.

    The reference is the replay at every scan, the test is the recording at its rows. pyfunnel
    runs only where the recording leaves the value tolerance at some row: where it does not, it
    lies inside every funnel built around the replay with that tolerance.
    """
    reference = replayed.values[point.column]
    at_rows = reference[replayed.row_scan]
    both = ~np.isnan(at_rows) & ~np.isnan(recorded)
    samples = int(both.sum())
    if samples == 0:
        return None
    x, ref, test = seconds[both], at_rows[both], recorded[both]
    result = PointResult(point, value_tolerance, time_tolerance, samples)
    if bool(np.all(np.abs(test - ref) <= value_tolerance)):
        return result
    scans = replayed.row_scan[both]
    scan_x, scan_y = replayed.scan_s[scans[0] : scans[-1] + 1], reference[scans[0] : scans[-1] + 1]
    valid = ~np.isnan(scan_y)
    folder = work / point.column
    with contextlib.redirect_stdout(io.StringIO()) as said:
        status = funnel.compareAndReport(
            scan_x[valid].tolist(),
            scan_y[valid].tolist(),
            x.tolist(),
            test.tolist(),
            outputDirectory=str(folder),
            atolx=time_tolerance,
            atoly=value_tolerance,
        )
    if status != 0:
        raise RuntimeError(f"pyfunnel could not compare `{point.column}`: {said.getvalue().strip()}")
    errors = np.loadtxt(folder / "errors.csv", delimiter=",", skiprows=1, ndmin=2)
    error = errors[:, 1] if len(errors) else np.zeros(0)
    # The bounds are computed in floating point; an error of rounding size is no departure.
    noise = 1e-9 * max(1.0, float(np.max(np.abs(ref))))
    outside = error > noise
    if not outside.any():
        shutil.rmtree(folder, ignore_errors=True)
        return result
    where = np.flatnonzero(outside)
    first, last = int(where[0]), int(where[-1])
    following = np.append(np.diff(x), 0.0)  # each row outside counts until the next row
    largest = int(np.argmax(error))
    result.departed = True
    result.first_s, result.last_s = float(x[first]), float(x[last])
    result.outside_s = float(np.sum(following[outside]))
    # pyfunnel draws its bounds 1e-10 beside each sample: 0.9999999999 is a departure of 1.
    result.max_error, result.max_error_s = float(f"{error[largest]:.9g}"), float(x[largest])
    result.reference_at_first, result.recorded_at_first = float(ref[first]), float(test[first])
    return result


def _clear_output(output: Path) -> None:
    """Remove an earlier verify's summary and point folders, so that none outlives its point."""
    output.mkdir(parents=True, exist_ok=True)
    for entry in output.iterdir():
        if _is_point_folder(entry):
            shutil.rmtree(entry)
    (output / SUMMARY_FILE).unlink(missing_ok=True)


# --- Outputs --------------------------------------------------------------------------------


def write_summary(path: Path, report: Report) -> None:
    """summary.csv: one row per compared point."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(SUMMARY_HEADER)
        for result in report.results:
            writer.writerow(
                [
                    result.point.column,
                    result.point.unit,
                    _number(result.value_tolerance),
                    _number(result.time_tolerance_s),
                    result.samples,
                    "true" if result.departed else "false",
                    _stamp(report.at(result.first_s)) if result.first_s is not None else "",
                    _stamp(report.at(result.last_s)) if result.last_s is not None else "",
                    _number(result.outside_s),
                    _number(result.max_error),
                    _stamp(report.at(result.max_error_s)) if result.max_error_s is not None else "",
                ]
            )


def plot(result: PointResult, report: Report) -> None:
    """plot.png beside pyfunnel's files: the whole record above, the first departure close up below.

    Each panel shows the rules' replay inside its funnel, the controller's recording and the
    departures shaded; drawn from the files pyfunnel wrote, so the plot shows what it compared.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # type: ignore[import-untyped, unused-ignore]
    from matplotlib.figure import Figure  # type: ignore[import-untyped, unused-ignore]

    assert result.folder is not None and report.start is not None and result.first_s is not None
    folder, point = result.folder, result.point
    curves = {
        name: np.loadtxt(folder / f"{name}.csv", delimiter=",", skiprows=1, ndmin=2)
        for name in ("reference", "test", "lowerBound", "upperBound", "errors")
    }
    figure = Figure(figsize=(11, 7.5), dpi=100)
    FigureCanvasAgg(figure)
    whole, close = figure.subplots(2, 1)
    start = np.datetime64(report.start, "ms")
    _draw(whole, curves, point, start, None)
    # The close-up: an hour each side of the first departure, or 60 time tolerances if longer.
    margin = max(3600.0, 60.0 * result.time_tolerance_s)
    _draw(close, curves, point, start, (result.first_s - margin, result.first_s + margin))
    unit = f" [{point.unit}]" if point.unit else ""
    whole.set_title(f"{point.column}{unit}: the controller left the funnel")
    close.set_title(f"around the first departure, {_stamp(report.at(result.first_s))}", fontsize="medium")
    # A fixed place: "best" would search every one of a year of samples for the emptiest corner.
    whole.legend(loc="upper left", fontsize="small", framealpha=0.8)
    figure.tight_layout()
    # No software version or date in the file: the same comparison gives the same bytes.
    figure.savefig(folder / PLOT_FILE, format="png", metadata={"Software": None})


def _draw(
    axes: Any, curves: dict[str, FloatArray], point: PointSpec, start: Any, window: tuple[float, float] | None
) -> None:
    """One panel of the plot: the funnel, the replay, the recording and the departures in `window`."""

    def part(curve: FloatArray) -> FloatArray:
        if window is None:
            return curve
        # One sample beyond each end, so that lines run to the edges of the panel.
        first = max(int(np.searchsorted(curve[:, 0], window[0])) - 1, 0)
        last = int(np.searchsorted(curve[:, 0], window[1], side="right")) + 1
        return curve[first:last]

    def stamps(seconds: FloatArray) -> Any:
        return start + np.round(seconds * 1000.0).astype("timedelta64[ms]")

    lower, upper, errors = part(curves["lowerBound"]), part(curves["upperBound"]), part(curves["errors"])
    reference, test = part(curves["reference"]), part(curves["test"])
    grid = np.union1d(lower[:, 0], upper[:, 0])
    axes.fill_between(
        stamps(grid),
        np.interp(grid, lower[:, 0], lower[:, 1]),
        np.interp(grid, upper[:, 0], upper[:, 1]),
        color="tab:blue",
        alpha=0.2,
        linewidth=0,
        label="funnel (tolerance)",
    )
    for bound in (lower, upper):
        axes.plot(stamps(bound[:, 0]), bound[:, 1], color="tab:blue", linewidth=0.5, alpha=0.6)
    drawstyle = "steps-post" if point.kind in ("bool", "enum", "int") else "default"
    axes.plot(
        stamps(reference[:, 0]),
        reference[:, 1],
        color="tab:blue",
        drawstyle=drawstyle,
        label="rules (replay)",
    )
    axes.plot(
        stamps(test[:, 0]),
        test[:, 1],
        color="black",
        drawstyle=drawstyle,
        linewidth=0.9,
        zorder=3,  # the recording is what is in question: on top
        label="controller (recorded)",
    )
    if len(errors):
        axes.fill_between(
            stamps(errors[:, 0]),
            0,
            1,
            where=errors[:, 1] > 0,
            step="post",
            color="tab:red",
            alpha=0.25,
            transform=axes.get_xaxis_transform(),
            linewidth=0,
            label="departed",
        )
    if window is not None:
        axes.set_xlim(stamps(np.array(window)))
    if point.kind == "enum":
        axes.set_yticks(range(len(point.members)), point.members)
    elif point.kind == "bool":
        axes.set_yticks([0, 1], ["false", "true"])
    for label in axes.get_xticklabels():
        label.set_rotation(20)
        label.set_horizontalalignment("right")


def render_report(report: Report, output: Path | None) -> str:
    """The text report: each departed point, where and when, then a one-line summary."""
    lines: list[str] = []
    for result in report.results:
        if not result.departed:
            continue
        point = result.point
        assert result.first_s is not None and result.last_s is not None and result.max_error_s is not None
        first, last = _stamp(report.at(result.first_s)), _stamp(report.at(result.last_s))
        controller, rules = _show(point, result.recorded_at_first), _show(point, result.reference_at_first)
        lines.append(f"DEPARTED {point.column}")
        lines.append(f"  first at {first}: the controller {controller}, the rules {rules}")
        lines.append(f"  last at {last}; {_span_of_time(result.outside_s)} outside the funnel in all")
        lines.append(
            f"  largest error {_amount(point, result.max_error)} beyond the funnel at"
            f" {_stamp(report.at(result.max_error_s))}"
            f" (tolerance {_amount(point, result.value_tolerance)}, {_span_of_time(result.time_tolerance_s)})"
        )
    if output is not None and report.results:
        departed = [r.point.column for r in report.results if r.departed]
        folders = "".join(f", {name}/" for name in departed)
        lines.append(f"wrote {output / SUMMARY_FILE}{folders}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def summary(report: Report) -> str:
    """`12 points compared, 1 departed (2880 rows, 2024-01-01 00:00:00 .. 2024-01-02 23:59:00) in 1.2 s`."""
    departed = sum(1 for r in report.results if r.departed)
    line = f"{_count(len(report.results), 'point')} compared, {departed} departed"
    if report.start is not None and report.end is not None:
        line += f" ({_count(report.rows, 'row')}, {_stamp(report.start)} .. {_stamp(report.end)})"
    return line + f" in {report.seconds:.1f} s"


def report_json(report: Report) -> dict[str, Any]:
    """The report for tools: the trend's extent, every compared point, and the diagnostics."""
    from hpdsl.render import render_json

    def when(seconds: float | None) -> str | None:
        return None if seconds is None else _stamp(report.at(seconds))

    def value(point: PointSpec, number: float | None) -> object:
        if number is None or math.isnan(number):
            return None
        if point.kind == "bool":
            return bool(number)
        if point.kind == "enum":
            return point.members[int(number)]
        return int(number) if point.kind == "int" else number

    return {
        "trend": report.trend,
        "rows": report.rows,
        "step_s": report.step_s,
        "start": _stamp(report.start) if report.start else None,
        "end": _stamp(report.end) if report.end else None,
        "compared": len(report.results),
        "departed": sum(1 for r in report.results if r.departed),
        "ok": report.ok,
        "points": [
            {
                "point": r.point.column,
                "unit": r.point.unit,
                "kind": r.point.kind,
                "role": r.point.role,
                "value_tolerance": r.value_tolerance,
                "time_tolerance_s": r.time_tolerance_s,
                "samples": r.samples,
                "departed": r.departed,
                "first_departure": when(r.first_s),
                "last_departure": when(r.last_s),
                "time_outside_s": r.outside_s,
                "max_error": r.max_error,
                "max_error_time": when(r.max_error_s),
                "rules_at_first_departure": value(r.point, r.reference_at_first),
                "controller_at_first_departure": value(r.point, r.recorded_at_first),
            }
            for r in report.results
        ],
        "diagnostics": json.loads(render_json(report.diagnostics)),
    }


def _emit_diagnostics(
    found: list[Diagnostic], sources: dict[str, SourceFile], format_: str, stream: Any
) -> None:
    from hpdsl.render import render_json, render_text

    if format_ == "json":
        _write(
            stream or sys.stdout, json.dumps({"diagnostics": json.loads(render_json(found))}, indent=2) + "\n"
        )
    else:
        _write(stream or sys.stderr, render_text(found, sources))


def _write(stream: Any, text: str) -> None:
    stream.write(text)
    stream.flush()


def _stamp(when: datetime.datetime) -> str:
    text = when.isoformat(sep=" ", timespec="milliseconds")
    return text[:-4] if text.endswith(".000") else text


def _number(value: float) -> str:
    return f"{value:.6g}"


def _span_of_time(seconds: float) -> str:
    """A duration as an engineer says it: `45 s`, `12 min`, `1 h 28 min`, `2 d 3 h`."""
    if seconds < 60:
        return f"{_number(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _show(point: PointSpec, value: float | None) -> str:
    """A value of a point as the rules write it: `21.5C`, `true`, `Heating`."""
    if value is None or math.isnan(value):
        return "no value"
    if point.kind == "bool":
        return "true" if value else "false"
    if point.kind == "enum":
        index = int(value)
        return point.members[index] if 0 <= index < len(point.members) else "no member"
    if point.kind == "int":
        return str(int(value))
    unit = units_.lookup(point.unit) if point.unit else None
    return units_.format_quantity(value, unit or units_.NUMBER)


def _amount(point: PointSpec, value: float) -> str:
    """A difference of a point's values: `0.5 K` for a temperature, `1` for a boolean or member."""
    unit = units_.lookup(point.unit) if point.unit and point.kind == "real" else None
    return units_.format_quantity(value, units_.difference_unit(unit) if unit else units_.NUMBER)
