"""Reading a trend file, CSV or Parquet, in batches of rows: the header, the time stamps, the cells.

A trend log is read column by column and batch by batch, never whole: a year of one-minute rows
of some 190 columns is close to a gigabyte of CSV text. `TrendFile.open` reads the header and
what it says about the file (delimiter, encoding, a second row of units, which column holds the
time); `times` reads the time stamps alone; `batches` streams the cells of chosen columns in
file order. What cannot be used at all is a `trend-file` diagnostic at its line and column,
raised as `TrendFileError`; rows are located in the file only when something is reported about
them.

May import: hpdsl.base, hpdsl.language.units, numpy, pyarrow, pandas.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic, Note, Severity
from hpdsl.base.source import SourceFile, Span, display_name
from hpdsl.language import units as units_

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

# Spellings of units in trend exports that hpdsl.language.units does not list under that name.
_UNIT_SPELLINGS = {"%rh": "%", "rh%": "%", "degk": "K", "deltak": "K", "deltac": "K", "l/sec": "l/s"}

_MAX_LISTED = 12  # names listed in one warning before "and N more"
_MAX_TIME_ERRORS = 5  # bad time stamps reported one by one before a note counts the rest
HINT_TIME = "write time stamps as ISO 8601 local time, `2024-01-01 00:01:00`"
# The first and last millisecond of the years 1-9999, the calendar Python's datetime holds.
_FIRST_MS = -62_135_596_800_000
_LAST_MS = 253_402_300_799_999
_HINT_FORMAT = "a trend file is CSV text with a header row `time,Program.point [unit],...`, or Parquet"

# Rows per batch: small enough that a batch of every column of a wide log stays a few megabytes.
PARQUET_BATCH_ROWS = 16384
CSV_BLOCK_BYTES = 2 << 20


class TrendFileError(Exception):
    """The trend file cannot be used at all; the diagnostics say why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(diagnostics[0].message if diagnostics else "trend file error")
        self.diagnostics = diagnostics


class Locator:
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


def source_of_broken(diagnostics: list[Diagnostic], path: Path) -> SourceFile:
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


def trend_problem(span: Span, problem: str, hint: str | None = None, *, warning: bool = False) -> Diagnostic:
    return messages.TREND_FILE.at(
        span, problem=problem, hint=hint, severity=Severity.WARNING if warning else None
    )


def _decode_prefix(head: bytes) -> str:
    # The first 64 KiB may end inside a multi-byte character; only the complete ones count.
    import codecs

    return codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)


def _count_outside_quotes(line: str, delimiter: str) -> int:
    return len(re.sub(r'"[^"]*"', "", line).split(delimiter)) - 1


def _is_time_name(header: str) -> bool:
    name, _ = split_unit(header)
    return re.sub(r"\s+", "", name).lower() in TIME_NAMES


def _is_unit_row(cells: list[str], time_index: int) -> bool:
    """A second header row of units: no time stamp, and units (or `-`) where there are values."""
    time_cell = cells[time_index].strip() if time_index < len(cells) else ""
    if any(char.isdigit() for char in time_cell):
        return False
    others = [c.strip() for i, c in enumerate(cells) if i != time_index and c.strip()]
    known = [c for c in others if c == "-" or unit_symbol(c) is not None]
    return bool(others) and len(known) * 2 >= len(others)


def split_unit(header: str) -> tuple[str, str]:
    """`name [unit]` or `name (unit)` as (name, unit); a parenthesis that is not a unit stays in the name."""
    from hpdsl.sim.trend import split_header

    name, unit = split_header(header)
    if unit:
        return name, unit
    match = re.fullmatch(r"\s*(.*?)\s*\(([^()]*)\)\s*", header)
    if match and unit_symbol(match.group(2)) is not None:
        return match.group(1), match.group(2).strip()
    return header.strip(), ""


def unit_symbol(text: str) -> units_.Unit | None:
    """The unit a header writes, in the spellings trend exports use (`degF`, `deg F`, `°F`, `%RH`)."""
    compact = re.sub(r"\s+", "", text.strip())
    if not compact:
        return None
    return units_.lookup(compact) or units_.lookup(_UNIT_SPELLINGS.get(compact.lower(), ""))


def trimmed(array: Any) -> Any:
    """String cells without surrounding spaces; other types unchanged."""
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        trimmed = pc.utf8_trim_whitespace(array)
        return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    return array


@dataclass
class HeaderColumn:
    """One column of the file as its header writes it: the cell, the point's name, the unit text."""

    header: str
    name: str
    unit: str
    position: int  # 0-based cell of a row


@dataclass
class _CsvLayout:
    encoding: str
    delimiter: str
    header_rows: int  # lines before the first data row
    cells: int


@dataclass
class TrendFile:
    """An opened trend file: its header, and the means to stream its columns."""

    name: str
    path: Path
    locator: Locator
    time_position: int
    columns: list[HeaderColumn]  # every column but the time stamps', in file order
    warnings: list[Diagnostic] = field(default_factory=list)
    csv: _CsvLayout | None = None  # None: Parquet
    skipped: int = 0  # CSV rows skipped for the wrong number of cells
    skipped_rows: int = 0  # the data rows before the last `batches` call's first batch

    @classmethod
    def open(cls, path: Path) -> TrendFile:
        """Read the header; TrendFileError if the file cannot be used at all."""
        name = display_name(path)
        whole = Span(name, 0, 0, 0, 0)
        try:
            with path.open("rb") as stream:
                head = stream.read(65536)
        except OSError as exc:
            raise TrendFileError(
                [trend_problem(whole, f"cannot read `{name}`: {exc.strerror or exc}")]
            ) from None
        if head.startswith(b"PAR1") or path.suffix.lower() == ".parquet":
            return _open_parquet(path, name)
        return _open_csv(path, name, head)

    def batches(self, positions: Sequence[int], start: int = 0) -> Iterator[dict[int, Any]]:
        """The cells of the columns at `positions`, batch by batch in file order, as pyarrow arrays.

        An empty cell is null; spaces around a cell are left for the reader to trim where it
        must. Every call reads the same rows in the same batches: a CSV row with the wrong
        number of cells is skipped each time. With `start`, a Parquet file's row groups that
        end at or before that data row are not read (`skipped_rows` says how many rows they
        held); a CSV file is read from its top.
        """
        import pyarrow as pa

        wanted = sorted(set(positions))
        try:
            if self.csv is None:
                yield from self._parquet_batches(wanted, start)
            else:
                self.skipped_rows = 0
                yield from self._csv_batches(wanted)
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
            raise TrendFileError(
                [trend_problem(Span(self.name, 0, 0, 0, 0), f"cannot read the file: {exc}", _HINT_FORMAT)]
            ) from None

    def _parquet_batches(self, wanted: list[int], start: int) -> Iterator[dict[int, Any]]:
        import pyarrow.parquet as pq

        reader = pq.ParquetFile(self.path)
        names = reader.schema_arrow.names
        selected = [names[p] for p in wanted]
        groups: list[int] = []
        self.skipped_rows = 0
        for index in range(reader.num_row_groups):
            rows = reader.metadata.row_group(index).num_rows
            if groups or self.skipped_rows + rows > start:
                groups.append(index)
            else:
                self.skipped_rows += rows
        if not groups:
            return
        batches = reader.iter_batches(
            batch_size=PARQUET_BATCH_ROWS, row_groups=groups, columns=selected, use_threads=False
        )
        for batch in batches:
            yield {p: batch.column(i) for i, p in enumerate(wanted)}

    def _csv_batches(self, wanted: list[int]) -> Iterator[dict[int, Any]]:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        layout = self.csv
        assert layout is not None
        skipped = 0

        def skip_invalid(row: Any) -> str:
            nonlocal skipped
            skipped += 1
            return "skip"

        column_names = [f"c{i}" for i in range(layout.cells)]
        included = [column_names[p] for p in wanted]
        reader = pacsv.open_csv(
            self.path,
            read_options=pacsv.ReadOptions(
                column_names=column_names,
                skip_rows=layout.header_rows,
                encoding=layout.encoding,
                block_size=CSV_BLOCK_BYTES,
            ),
            parse_options=pacsv.ParseOptions(delimiter=layout.delimiter, invalid_row_handler=skip_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in included},
                strings_can_be_null=True,
                include_columns=included,
            ),
        )
        for batch in reader:
            yield {p: batch.column(i) for i, p in enumerate(wanted)}
        self.skipped = skipped

    def times(self) -> npt.NDArray[np.int64]:
        """Every row's time stamp as ms since the epoch (local wall time), in file order.

        TrendFileError for stamps that cannot be read (the first few, each at its cell, and a
        count of the rest) or for a file without rows. Also notes the CSV rows skipped.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        parts: list[npt.NDArray[np.int64]] = []
        bad_rows: list[int] = []
        bad_texts: list[str | None] = []
        bad_outside: list[bool] = []
        bad_count = 0
        offset = 0
        for batch in self.batches([self.time_position]):
            stamps = trimmed(batch[self.time_position])
            parsed = _parse_times(stamps)
            # A time Python's calendar cannot hold (a negative year, year 10000) is no time stamp.
            millis = parsed.cast(pa.timestamp("ms")).cast(pa.int64()).to_numpy(zero_copy_only=False)
            outside = (millis < _FIRST_MS) | (millis > _LAST_MS)
            bad = np.flatnonzero(pc.is_null(parsed).to_numpy(zero_copy_only=False) | outside)
            bad_count += len(bad)
            for row in bad[: max(0, _MAX_TIME_ERRORS - len(bad_rows))]:
                bad_rows.append(offset + int(row))
                try:
                    cell = stamps[int(row)].as_py()
                except (OverflowError, ValueError):  # a typed time stamp beyond Python's calendar
                    cell = f"{int(millis[int(row)])} ms from 1970-01-01"
                bad_texts.append(None if cell is None else str(cell))
                bad_outside.append(bool(outside[int(row)]))
            if not len(bad):
                parts.append(np.asarray(millis, dtype=np.int64))
            offset += len(stamps)
        if bad_count:
            diagnostics = []
            spans = self.locator.rows_spans(bad_rows, self.time_position)
            for index, (text, span) in enumerate(zip(bad_texts, spans, strict=True)):
                if text is None:
                    problem = "a row without a time stamp"
                elif bad_outside[index]:
                    problem = f"`{text}` is outside the years 1-9999 that a time stamp can have"
                else:
                    problem = f"`{text}` is not a time stamp"
                notes: tuple[Note, ...] = ()
                if index == len(bad_rows) - 1 and bad_count > len(bad_rows):
                    rest = count_of(bad_count - len(bad_rows), "more row")
                    notes = (Note(f"{rest} with a time stamp that cannot be read"),)
                diagnostics.append(messages.TREND_FILE.at(span, problem=problem, hint=HINT_TIME, notes=notes))
            raise TrendFileError(diagnostics)
        if offset == 0:
            if self.csv is None:
                raise TrendFileError([trend_problem(Span(self.name, 0, 0, 0, 0), "the trend has no rows")])
            line = self.csv.header_rows + 1
            raise TrendFileError(
                [
                    trend_problem(
                        Span(self.name, line, 1, line, 2),
                        "the trend has no rows after the header",
                        _HINT_FORMAT,
                    )
                ]
            )
        if self.skipped:
            cells = self.csv.cells if self.csv else 0
            self.warnings.append(
                trend_problem(
                    self.locator.first_bad_row(),
                    f"{count_of(self.skipped, 'row')} without {cells} cells skipped",
                    "every row has one cell per header cell (an empty cell for a missing value)",
                    warning=True,
                )
            )
        return np.concatenate(parts)


def read_trend(path: Path) -> tuple[TrendFile, npt.NDArray[np.int64]]:
    """The opened file and its time stamps; TrendFileError if it cannot be used at all."""
    trend = TrendFile.open(path)
    return trend, trend.times()


def _open_csv(path: Path, name: str, head: bytes) -> TrendFile:
    hint_format = _HINT_FORMAT
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        span = Span(name, 1, 1, 1, 2)
        raise TrendFileError([trend_problem(span, "the trend file is empty", hint_format)])
    nul = head.find(b"\x00")
    if nul >= 0:
        line = head.count(b"\n", 0, nul) + 1
        column = nul - (head.rfind(b"\n", 0, nul) + 1) + 1
        problem = f"the file is not CSV text (it holds a NUL byte at offset {nul}; a binary file?)"
        if head.startswith(b"PK\x03\x04"):
            hint_format = (
                "this looks like a spreadsheet (.xlsx) or a zip archive: save the sheet as CSV (UTF-8)"
            )
        raise TrendFileError(
            [trend_problem(Span(name, line, column, line, column + 1), problem, hint_format)]
        )
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
    locator = Locator(name, path, encoding, delimiter, first_line + 1, len(header))
    locator.header_line = first_line + 1
    locator.lines[first_line + 1] = lines[first_line]
    names = [cell.strip() for cell in header]
    time_index = next((i for i, n in enumerate(names) if _is_time_name(n)), None)
    if time_index is None:
        shown = ", ".join(f"`{n}`" for n in names[:4]) + (", ..." if len(names) > 4 else "")
        span = locator.header_span(0)
        raise TrendFileError(
            [
                trend_problem(
                    span,
                    f"no time column: the header row names {shown or 'nothing'}",
                    "name the column of time stamps `time`; " + HINT_TIME,
                )
            ]
        )
    locator.time_position = time_index
    unit_row = len(rows) > 1 and _is_unit_row(rows[1], time_index)
    header_rows = first_line + (2 if unit_row else 1)
    locator.header_rows = header_rows
    units = rows[1] if unit_row else [""] * len(header)
    columns: list[HeaderColumn] = []
    for position, cell in enumerate(header):
        if position == time_index:
            continue
        column_name, unit = split_unit(cell)
        if unit_row and units[position].strip() not in ("", "-"):
            unit = units[position].strip()
        columns.append(HeaderColumn(cell.strip(), column_name, unit, position))
    layout = _CsvLayout(encoding, delimiter, header_rows, len(header))
    return TrendFile(name, path, locator, time_index, columns, csv=layout)


def _open_parquet(path: Path, name: str) -> TrendFile:
    import pyarrow as pa
    import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

    whole = Span(name, 0, 0, 0, 0)
    try:
        schema = pq.ParquetFile(path).schema_arrow
    except (pa.ArrowException, OSError) as exc:
        raise TrendFileError(
            [
                trend_problem(
                    whole, f"cannot read the file as Parquet: {exc}", "export the trend as CSV or Parquet"
                )
            ]
        ) from None
    locator = Locator(name, None, "utf-8", ",", 0, len(schema))
    time_index = next((i for i, n in enumerate(schema.names) if _is_time_name(n)), None)
    if time_index is None:
        raise TrendFileError(
            [trend_problem(whole, "no time column", "name the column of time stamps `time`")]
        )
    columns: list[HeaderColumn] = []
    for position, schema_field in enumerate(schema):
        if position == time_index:
            continue
        metadata = {k.decode(): v.decode() for k, v in (schema_field.metadata or {}).items()}
        column_name, unit = split_unit(schema_field.name)
        if metadata.get("role", "") in ("plant", "weather"):
            continue  # the plant model's and the weather's columns of a simulated trend
        columns.append(
            HeaderColumn(schema_field.name, column_name, unit or metadata.get("unit", ""), position)
        )
    return TrendFile(name, path, locator, time_index, columns)


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


def count_of(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def listed(names: list[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


# --- 2. Matching columns to points ---------------------------------------------------------
