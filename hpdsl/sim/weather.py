"""Weather for `hpdsl simulate`: a built-in typical year or a user's CSV file, sampled at the run's steps.

Two kinds of weather:

- A built-in typical year (`BUILTIN`): a TMY3 file that ships inside pvlib, read with pvlib's
  own reader. It is periodic: any date of any year maps to the same month, day and time of the
  typical year, so a run may start on any date and last longer than a year.
- A user's CSV file: a header row, a time column and an outdoor-temperature column, optional
  humidity, global horizontal irradiance and wind speed, units in the header (`temp_air [F]`).
  It covers the period between its first and last rows and is never wrapped: asking for a time
  outside it is an error.

`Weather.at(start, step_s, count)` gives the values at every step of a run, interpolated
linearly in time, with numpy and no Python loop per step. `docs/weather.md` describes the
files, the CSV format and the interpolation rules; problems in a CSV file are diagnostics with
code `weather-file`, each pointing at its line and column.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic, Note
from hpdsl.base.files import UsageError, read_source
from hpdsl.base.messages import did_you_mean
from hpdsl.base.source import MAX_FILE_BYTES, SourceFile, Span, display_name
from hpdsl.language import units

# Name -> file inside pvlib's `data` folder.
BUILTIN: dict[str, str] = {"greensboro": "723170TYA.CSV", "sand-point": "703165TY.csv"}

# What a user's file that has no such column gets: a humid, calm, dark day is the conservative
# case for a heat pump (frost on the coil, no solar gain).
DEFAULT_RELATIVE_HUMIDITY = 70.0  # %
DEFAULT_GHI = 0.0  # W/m2
DEFAULT_WIND_SPEED = 3.0  # m/s

HOUR_S = 3600.0
DAY_S = 86400.0
YEAR_S = 365 * DAY_S  # the typical year has no Feb 29

# Seconds from Jan 1 00:00 to Feb 29 00:00 (or Mar 1 00:00 in a common year).
_FEB_29_S = (31 + 28) * DAY_S

# More problems than this in one file are counted, not listed: a file in the wrong unit or
# format would otherwise print thousands of lines that all say the same thing.
MAX_DIAGNOSTICS = 20

Samples = NDArray[np.float64]


class WeatherError(Exception):
    """A weather file that cannot be used: its problems as diagnostics, with the sources to show them."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, SourceFile] | None = None) -> None:
        super().__init__("\n".join(f"{d.span}: {d.message}" for d in diagnostics))
        self.diagnostics = diagnostics
        self.sources = sources or {}


@dataclass(frozen=True, eq=False)
class WeatherSeries:
    """The weather at each step of a run: one value per step in each array."""

    temp_air: Samples  # C
    relative_humidity: Samples  # %
    ghi: Samples  # W/m2, global horizontal irradiance
    wind_speed: Samples  # m/s


@dataclass(frozen=True, eq=False)
class Weather:
    """Outdoor conditions over time: a periodic typical year, or the period a user's file covers.

    Sample times are seconds from Jan 1 00:00 of the typical year (periodic), or from the
    first row of the user's file (`origin`). Irradiance has its own sample times because a
    TMY3 file gives it as the mean of the hour before each stamp, which belongs at mid-hour.
    """

    name: str
    source: str
    periodic: bool
    latitude: float | None
    longitude: float | None
    utc_offset_h: float | None  # local standard time minus UTC, hours
    time_s: Samples  # the times of temp_air, relative_humidity and wind_speed
    temp_air: Samples  # C
    relative_humidity: Samples  # %
    wind_speed: Samples  # m/s
    ghi_time_s: Samples
    ghi: Samples  # W/m2
    origin: datetime.datetime | None = None  # a user's file: the time of its first row
    defaulted: tuple[str, ...] = ()  # quantities the file does not give, held at their defaults
    # A user's file: where its first and last rows are, for a run that asks for more.
    row_spans: tuple[Span, Span] | None = field(default=None, repr=False)

    @property
    def period(self) -> tuple[datetime.datetime, datetime.datetime] | None:
        """The first and last time a user's file covers; None for a typical year (it covers any time)."""
        if self.origin is None:
            return None
        return self.origin, self.origin + datetime.timedelta(seconds=float(self.time_s[-1]))

    def at(self, start: datetime.datetime, step_s: float, count: int) -> WeatherSeries:
        """The weather at start + i * step_s for i in range(count), interpolated linearly between samples.

        `start` is naive local standard time. A user's file that does not cover every step
        raises WeatherError; a typical year covers any time.
        """
        if start.tzinfo is not None:
            raise ValueError("the start of a run is naive local standard time, without a time zone")
        if not (math.isfinite(step_s) and step_s > 0):
            raise ValueError(f"the step must be a positive number of seconds, not {step_s!r}")
        if count < 0:
            raise ValueError(f"the number of steps cannot be negative ({count})")
        offsets_s = np.arange(count, dtype=np.float64) * step_s
        if self.periodic:
            moments = typical_year_seconds(start, offsets_s)
            period: float | None = YEAR_S
        else:
            assert self.origin is not None
            moments = (start - self.origin).total_seconds() + offsets_s
            self._check_covered(start, moments)
            period = None

        def interpolate(times: Samples, values: Samples) -> Samples:
            return np.interp(moments, times, values, period=period).astype(np.float64, copy=False)

        return WeatherSeries(
            temp_air=interpolate(self.time_s, self.temp_air),
            relative_humidity=interpolate(self.time_s, self.relative_humidity),
            ghi=interpolate(self.ghi_time_s, self.ghi),
            wind_speed=interpolate(self.time_s, self.wind_speed),
        )

    def _check_covered(self, start: datetime.datetime, moments: Samples) -> None:
        # A microsecond of slack: times are computed from timedeltas and float offsets.
        if not len(moments) or (moments[0] >= -1e-6 and moments[-1] <= self.time_s[-1] + 1e-6):
            return
        assert self.period is not None and self.row_spans is not None
        first, last = self.period
        end = start + datetime.timedelta(seconds=float(moments[-1] - moments[0]))
        span = self.row_spans[0] if moments[0] < 0 else self.row_spans[1]
        problem = _problem(
            span,
            f"the simulation runs from {_shown(start)} to {_shown(end)}, but the weather file"
            f" covers only {_shown(first)} .. {_shown(last)}",
            "simulate within the file's period, give a file that covers the whole run, or use a"
            f" built-in typical year ({', '.join(BUILTIN)}), which repeats every year",
        )
        raise WeatherError([problem])


def typical_year_seconds(start: datetime.datetime, offsets_s: Samples) -> Samples:
    """Where start + each offset falls in the typical year: seconds from its Jan 1 00:00.

    The month, day and time of day of any year are kept; Feb 29 of a leap year reuses Feb 28,
    so every later day of that year keeps its date too.
    """
    start_us = np.datetime64(start.replace(tzinfo=None), "us")
    moments = start_us + np.rint(offsets_s * 1e6).astype(np.int64).astype("timedelta64[us]")
    new_years = moments.astype("datetime64[Y]")
    since_new_year_s = (moments - new_years).astype(np.int64) / 1e6
    year = new_years.astype(np.int64) + 1970
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    result: Samples = since_new_year_s - np.where(leap & (since_new_year_s >= _FEB_29_S), DAY_S, 0.0)
    return result


def load(spec: str) -> Weather:
    """The weather a run names: a built-in typical year by name, or a CSV file by path.

    Raises UsageError for a name that is neither, WeatherError for a file with problems.
    """
    if spec in BUILTIN:
        return builtin(spec)
    path = Path(spec)
    choices = ", ".join(f"`{name}`" for name in BUILTIN)
    if path.is_dir():
        raise UsageError(f"`{spec}` is a folder; give a weather CSV file or a built-in weather: {choices}")
    if not path.exists():
        suggestion = did_you_mean(spec, BUILTIN)
        raise UsageError(
            f"no built-in weather `{spec}` and no such file; the built-in weather is {choices}"
            + (f" ({suggestion})" if suggestion else "")
        )
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        # read_source would reject it too, but in words meant for rules files.
        too_large = _problem(
            Span.point(display_name(path), 1, 1),
            f"the weather file is {size} bytes; weather files are read up to {MAX_FILE_BYTES} bytes"
            " (a year of rows every 5 minutes)",
            "resample it to rows every 5, 15 or 60 minutes: the simulation interpolates between rows",
        )
        raise WeatherError([too_large])
    source, problem = read_source(path)
    if source is None:
        raise WeatherError([problem] if problem else [])
    return read_csv(source)


# --- Built-in typical years ---------------------------------------------------------------

# Any common year: pvlib stamps the typical year's rows with it, and the last row (Dec 31
# 24:00) with Jan 1 00:00 of the next, so a row's hour of the year is its stamp's distance
# from this year's start.
_TMY_YEAR = 2001
_TMY_HOURS = 8760
_TMY_HEADER_LINES = 2  # the station line and the column names


@functools.cache
def builtin(name: str) -> Weather:
    """A built-in typical year by name (a key of BUILTIN), read once per process."""
    import pvlib  # here, not at the top: importing it takes about a second

    path = Path(pvlib.__file__).parent / "data" / BUILTIN[name]
    data, meta = pvlib.iotools.read_tmy3(path, coerce_year=_TMY_YEAR, map_variables=True)
    stamps = data.index.tz_localize(None).to_numpy(dtype="datetime64[s]")
    hours = (stamps - np.datetime64(f"{_TMY_YEAR}-01-01T00:00")) / np.timedelta64(1, "h")
    expected = np.arange(1, _TMY_HOURS + 1, dtype=np.float64)
    columns = {
        quantity: np.asarray(data[quantity], dtype=np.float64)
        for quantity in ("temp_air", "relative_humidity", "ghi", "wind_speed")
    }
    _check_typical_year(path, hours, expected, columns)
    station = str(meta["Name"]).strip().strip('"').title()
    return Weather(
        name=f"{station}, {meta['State']} (TMY3 {meta['USAF']})",
        source=f"pvlib TMY3 {BUILTIN[name]}",
        periodic=True,
        latitude=float(meta["latitude"]),
        longitude=float(meta["longitude"]),
        utc_offset_h=float(meta["TZ"]),
        # Temperature, humidity and wind are read at the time indicated (the end of the hour).
        time_s=_frozen(expected * HOUR_S),
        temp_air=_frozen(columns["temp_air"]),
        relative_humidity=_frozen(columns["relative_humidity"]),
        wind_speed=_frozen(columns["wind_speed"]),
        # Irradiance is the mean of the hour ending at the stamp: it belongs at the half hour.
        ghi_time_s=_frozen(expected * HOUR_S - HOUR_S / 2),
        ghi=_frozen(columns["ghi"]),
    )


def _check_typical_year(path: Path, hours: Samples, expected: Samples, columns: dict[str, Samples]) -> None:
    # pvlib's reader and its data files are outside this project; a change in either must not
    # shift the year by an hour without a word.
    problems: list[Diagnostic] = []
    if hours.shape != expected.shape or not np.array_equal(hours, expected):
        row = 0 if hours.shape != expected.shape else int(np.argmax(hours != expected))
        problems.append(
            _problem(
                Span.point(path.as_posix(), row + 1 + _TMY_HEADER_LINES, 1),
                f"not a typical year of {_TMY_HOURS} hourly rows from Jan 1 01:00 to Dec 31 24:00",
                "the pvlib installation may be damaged or changed; reinstall pvlib",
            )
        )
    for quantity, values in columns.items():
        if values.shape == expected.shape and not np.isfinite(values).all():
            row = int(np.argmax(~np.isfinite(values)))
            problems.append(
                _problem(
                    Span.point(path.as_posix(), row + 1 + _TMY_HEADER_LINES, 1),
                    f"no {quantity} in this row",
                    "the pvlib installation may be damaged or changed; reinstall pvlib",
                )
            )
    if problems:
        raise WeatherError(problems)


# --- A user's CSV file ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Quantity:
    """A column a weather file may hold: its accepted names, its unit, and the values that are plausible."""

    key: str  # the Weather field
    what: str  # in words, for messages
    names: tuple[str, ...]  # accepted header names, normalised (see _normalised)
    unit: str  # the unit Weather holds it in, and a file's unit when its header gives none
    units_hint: str
    low: float
    high: float

    def shown(self, value: float) -> str:
        """A value of this quantity as messages show it (21.5C, 70 %, 800 W/m2)."""
        if self.unit == "W/m2":
            return f"{units.format_quantity(value, units.NUMBER)} W/m2"
        return units.format_quantity(value, _unit(self.unit))


def _unit(symbol: str) -> units.Unit:
    unit = units.lookup(symbol)
    assert unit is not None, symbol
    return unit


TIME_NAMES = ("time", "timestamp", "date", "datetime")

_TEMPERATURE = _Quantity(
    "temp_air",
    "outdoor temperature",
    ("temp_air", "temperature", "temp", "outdoor_temp", "outdoor_temperature", "t_out", "oat"),
    "C",
    "write `[C]`, `[F]` or `[K]`",
    -90.0,
    65.0,
)
_QUANTITIES = (
    _TEMPERATURE,
    _Quantity(
        "relative_humidity",
        "relative humidity",
        ("relative_humidity", "rh", "humidity"),
        "%",
        "write `[%]` for percent or `[1]` for a fraction (0 .. 1)",
        0.0,
        100.0,
    ),
    _Quantity(
        "ghi",
        "global horizontal irradiance",
        ("ghi", "global_horizontal_irradiance"),
        "W/m2",
        "write `[W/m2]` or `[kW/m2]`",
        # Pyranometers read a few W/m2 below zero at night; such values count as 0.
        -20.0,
        1500.0,
    ),
    _Quantity(
        "wind_speed", "wind speed", ("wind_speed", "wind", "windspeed"), "m/s", "write `[m/s]`", 0.0, 75.0
    ),
)

# The names a header may give each quantity, for docs/weather.md and messages.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {"time": TIME_NAMES} | {q.key: q.names for q in _QUANTITIES}

_DEFAULTS = {
    "relative_humidity": DEFAULT_RELATIVE_HUMIDITY,
    "ghi": DEFAULT_GHI,
    "wind_speed": DEFAULT_WIND_SPEED,
}

# A header cell: a name, then optionally a unit in brackets or parentheses.
_HEADER_CELL = re.compile(r"(?P<name>.*?)\s*(?:\[(?P<bracketed>[^\]]*)\]|\((?P<parenthesised>[^)]*)\))?")
_DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+")
_NUMBER_WITH_UNIT = re.compile(r"[-+]?\d+(?:\.\d*)?\s*[^\d\s.,+-]\S*")
_MIDNIGHT_24 = re.compile(r"(\d{4}-\d{2}-\d{2})[T ]24(?::00(?::00(?:\.0+)?)?)?")


class _Cell:
    """One cell of a row: its text (without spaces and quotes) and where it starts."""

    __slots__ = ("column", "file", "line", "text", "written")

    def __init__(self, file: str, line: int, column: int, text: str, written: str) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.text = text
        self.written = written  # as in the file, quotes included

    @property
    def span(self) -> Span:
        return Span(self.file, self.line, self.column, self.line, self.column + max(len(self.written), 1))


class _Row:
    """The cells of a data row: their texts at once, their spans only when a problem needs one."""

    __slots__ = ("_cells", "delimiter", "file", "line", "text", "texts")

    def __init__(self, file: str, line: int, text: str, delimiter: str) -> None:
        self.file = file
        self.line = line
        self.text = text
        self.delimiter = delimiter
        self._cells: list[_Cell] | None = None
        if '"' in text:
            self._cells = _cells(file, line, text, delimiter)
            self.texts = [cell.text for cell in self._cells]
        else:  # the common case, and the fast one: a file may hold a year of minutes
            self.texts = [part.strip() for part in text.split(delimiter)]

    def cell(self, index: int) -> _Cell:
        """The cell at an index, with its span."""
        if self._cells is None:
            self._cells = _cells(self.file, self.line, self.text, self.delimiter)
        return self._cells[index]


@dataclass(frozen=True)
class _Column:
    """A column of the file that the reader uses: where it is, and how its values convert."""

    index: int
    name: str  # as the header writes it, without the unit
    quantity: _Quantity | None  # None for the time column
    header: Span
    scale: float = 1.0
    offset: float = 0.0


class _Problems:
    """The problems found so far: listed up to MAX_DIAGNOSTICS, counted beyond."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.listed: list[Diagnostic] = []
        self.unlisted = 0

    def add(self, span: Span, message: str, hint: str | None = None, notes: tuple[Note, ...] = ()) -> None:
        if len(self.listed) < MAX_DIAGNOSTICS:
            self.listed.append(_problem(span, message, hint, notes))
        else:
            self.unlisted += 1

    def raise_if_any(self) -> None:
        if not self.listed:
            return
        diagnostics = sorted(self.listed, key=Diagnostic.sort_key)
        if self.unlisted:
            last = diagnostics[-1]
            more = Note(f"{self.unlisted} more problems in this file are not shown")
            diagnostics[-1] = Diagnostic(
                last.code, last.severity, last.span, last.message, last.hint, (*last.notes, more)
            )
        raise WeatherError(diagnostics, {self.source.name: self.source})


def read_csv(source: SourceFile) -> Weather:
    """A user's weather CSV file as Weather; WeatherError lists every problem found."""
    problems = _Problems(source)
    lines = source.lines
    header_index = next((i for i, text in enumerate(lines) if _is_data(text)), None)
    if header_index is None:
        empty = _problem(
            Span.point(source.name, 1, 1),
            "the weather file is empty",
            "write a header row first, such as `time,temp_air [C],relative_humidity [%]`",
        )
        raise WeatherError([empty], {source.name: source})
    delimiter = _delimiter(lines[header_index])
    header = _cells(source.name, header_index + 1, lines[header_index], delimiter)
    header_span = header[0].span.to(header[-1].span)
    time_column, columns = _columns(header, header_span, problems)
    problems.raise_if_any()
    assert time_column is not None

    decimal_comma = delimiter != ","
    times: list[datetime.datetime] = []
    row_lines: list[int] = []
    values: dict[str, list[float]] = {column.name: [] for column in columns}
    # Per column: the first implausible value (its row, column index and value), and how many.
    implausible: dict[str, tuple[_Row, int, float, int]] = {}
    latest: tuple[datetime.datetime, int] | None = None
    for index in range(header_index + 1, len(lines)):
        text = lines[index]
        if not _is_data(text):
            continue
        line = index + 1
        row = _Row(source.name, line, text, delimiter)
        while len(row.texts) > len(header) and not row.texts[-1]:
            row.texts.pop()  # a trailing delimiter, as some spreadsheets write
        if len(row.texts) != len(header):
            _wrong_width(problems, row, len(header), delimiter)
            continue
        moment = _time(row, time_column.index, problems)
        numbers = [_value(row, column, decimal_comma, problems) for column in columns]
        if moment is None or None in numbers:
            continue
        if latest is not None and moment <= latest[0]:
            relation = "repeats" if moment == latest[0] else "is before"
            problems.add(
                row.cell(time_column.index).span,
                f"time {_shown(moment)} {relation} the time {_shown(latest[0])} of line {latest[1]}",
                "sort the rows by time and remove repeated rows",
            )
            continue
        latest = (moment, line)
        times.append(moment)
        row_lines.append(line)
        for column, value in zip(columns, numbers, strict=True):
            assert column.quantity is not None and value is not None
            if not (math.isnan(value) or column.quantity.low <= value <= column.quantity.high):
                first = implausible.get(column.name, (row, column.index, value, 0))
                implausible[column.name] = (*first[:3], first[3] + 1)
            values[column.name].append(value)
    for column in columns:
        if column.name in implausible:
            _report_implausible(column, *implausible[column.name], problems)
        _check_fraction(column, values[column.name], problems)
    if not problems.listed and len(times) < 2:
        problems.add(
            header_span,
            f"the weather file has {len(times)} data row{'' if len(times) == 1 else 's'};"
            " at least 2 are needed to interpolate between them",
            "give a row for at least the start and the end of the period to simulate",
        )
    problems.raise_if_any()
    by_key = {column.quantity.key: values[column.name] for column in columns if column.quantity}
    return _weather(source, times, row_lines, by_key)


def _weather(
    source: SourceFile, times: list[datetime.datetime], row_lines: list[int], values: dict[str, list[float]]
) -> Weather:
    stamps = np.array(times, dtype="datetime64[us]")
    time_s = _frozen((stamps - stamps[0]).astype(np.int64) / 1e6)
    series: dict[str, Samples] = {}
    defaulted: list[str] = []
    for quantity in _QUANTITIES:
        column = np.array(values.get(quantity.key, []), dtype=np.float64)
        known = ~np.isnan(column)
        if not known.any():
            defaulted.append(quantity.key)
            column = np.full(len(times), _DEFAULTS[quantity.key])
        elif not known.all():
            # An empty cell lies on the line between the rows around it (held at either end):
            # filling it in now gives the same interpolation later as leaving the row out.
            column[~known] = np.interp(time_s[~known], time_s[known], column[known])
        series[quantity.key] = _frozen(np.maximum(column, 0.0) if quantity.key == "ghi" else column)
    first, last = times[0], times[-1]
    return Weather(
        # The source names the file; the name says what it holds.
        name=f"{_shown(first)} .. {_shown(last)}, {len(times)} rows",
        source=source.name,
        periodic=False,
        latitude=None,
        longitude=None,
        utc_offset_h=None,
        time_s=time_s,
        temp_air=series["temp_air"],
        relative_humidity=series["relative_humidity"],
        wind_speed=series["wind_speed"],
        ghi_time_s=time_s,
        ghi=series["ghi"],
        origin=first,
        defaulted=tuple(defaulted),
        row_spans=(Span.point(source.name, row_lines[0], 1), Span.point(source.name, row_lines[-1], 1)),
    )


def _is_data(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and not stripped.startswith("#")


def _delimiter(header: str) -> str:
    # A spreadsheet set to a decimal comma separates columns with `;`; tabs come from pasting.
    counts = {delimiter: header.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _cells(file: str, line: int, text: str, delimiter: str) -> list[_Cell]:
    """The cells of a line with where each starts; a cell may be quoted ("..."), with "" for a quote."""
    cells: list[_Cell] = []
    quoted = '"' in text
    position = 0
    while True:
        end = _cell_end(text, position, delimiter) if quoted else text.find(delimiter, position)
        if end < 0:
            end = len(text)
        raw = text[position:end]
        written = raw.strip()
        column = position + len(raw) - len(raw.lstrip()) + 1
        cells.append(_Cell(file, line, column, _unquoted(written) if quoted else written, written))
        if end >= len(text):
            return cells
        position = end + 1


def _cell_end(text: str, position: int, delimiter: str) -> int:
    inside = False
    for index in range(position, len(text)):
        char = text[index]
        if char == '"':
            inside = not inside  # a doubled quote inside a quoted cell toggles twice
        elif char == delimiter and not inside:
            return index
    return len(text)


def _unquoted(cell: str) -> str:
    if len(cell) >= 2 and cell.startswith('"') and cell.endswith('"'):
        return cell[1:-1].replace('""', '"').strip()
    return cell


def _normalised(name: str) -> str:
    folded = name.strip().casefold()
    # A trend written by `hpdsl simulate` names its weather columns `weather.<name>`.
    folded = folded.removeprefix("weather.")
    return re.sub(r"[\s.-]+", "_", folded)


def _columns(
    header: list[_Cell], header_span: Span, problems: _Problems
) -> tuple[_Column | None, list[_Column]]:
    """The time column and the quantities' columns that the header names, with their units' conversions."""
    by_name = {name: quantity for quantity in _QUANTITIES for name in quantity.names}
    found: dict[str, _Column] = {}
    failed: set[str] = set()  # columns found, but with a problem already reported
    unknown: list[str] = []
    for index, cell in enumerate(header):
        match = _HEADER_CELL.fullmatch(cell.text)
        assert match is not None  # every part of the pattern is optional
        name = match.group("name")
        normalised = _normalised(name)
        quantity = by_name.get(normalised)
        key = "time" if normalised in TIME_NAMES else quantity.key if quantity else None
        if key is None:
            unknown.append(name)
            continue
        if key in found or key in failed:
            first = found[key].name if key in found else "another"
            problems.add(
                cell.span,
                f"two {quantity.what if quantity else 'time'} columns: `{first}` and `{name}`",
                "keep one of them, or rename the other: columns with other names are ignored",
            )
            continue
        unit_group = "bracketed" if match.group("bracketed") is not None else "parenthesised"
        unit_text = match.group(unit_group)
        unit_span = cell.span
        if unit_text is not None:
            # The unit follows the cell's last opening bracket (or parenthesis), quoted or not.
            unit_column = cell.column + cell.written.rfind("[" if unit_group == "bracketed" else "(") + 1
            unit_span = Span(
                cell.file, cell.line, unit_column, cell.line, unit_column + max(len(unit_text), 1)
            )
            unit_text = unit_text.strip()
        if quantity is None:
            if unit_text:
                failed.add(key)
                problems.add(
                    unit_span,
                    f"the time column takes no unit, but the header gives it `{unit_text}`",
                    "remove the unit, and write every time as local standard time without a UTC"
                    " offset and without daylight saving, such as 2024-01-15 06:00",
                )
                continue
            found[key] = _Column(index, name, None, cell.span)
            continue
        conversion = _conversion(quantity, unit_text or quantity.unit, unit_span, problems)
        if conversion is None:
            failed.add(key)
            continue
        found[key] = _Column(index, name, quantity, cell.span, *conversion)
    for key, names, otherwise in (
        ("time", TIME_NAMES, "name the column of times `time`"),
        (_TEMPERATURE.key, _TEMPERATURE.names, "name it `temp_air`, with its unit: `temp_air [C]`"),
    ):
        if key not in found and key not in failed:
            what = "time" if key == "time" else _TEMPERATURE.what
            problems.add(
                header_span,
                f"the header names no {what} column (" + ", ".join(f"`{n}`" for n in names) + ")",
                _name_hint(unknown, names) or otherwise,
            )
    return found.get("time"), [found[q.key] for q in _QUANTITIES if q.key in found]


def _name_hint(unknown: list[str], names: tuple[str, ...]) -> str | None:
    for name in unknown:
        suggestion = did_you_mean(_normalised(name), names)
        if suggestion:
            return f"`{name}`: {suggestion}"
    return None


def _conversion(
    quantity: _Quantity, unit_text: str, span: Span, problems: _Problems
) -> tuple[float, float] | None:
    """(scale, offset) from the file's unit to the quantity's unit, or None after saying why not."""
    if quantity.key == "relative_humidity":
        if unit_text == "%":
            return 1.0, 0.0
        if unit_text == "1":
            return 100.0, 0.0
        problems.add(span, f"`{unit_text}` is not a unit of relative humidity", quantity.units_hint)
        return None
    # The units module writes an area as m*m; "W/m2" is what a weather file says.
    symbol = re.sub(r"/m(?:2|\^2|²)$", "/m/m", unit_text)
    target = _unit("W/m/m" if quantity.key == "ghi" else quantity.unit)
    unit = units.lookup(symbol)
    if unit is None:
        suggestions = units.suggest(symbol)
        hint = f"did you mean `{suggestions[0]}`? " if suggestions else ""
        problems.add(span, f"unknown unit `{unit_text}` for the {quantity.what}", hint + quantity.units_hint)
        return None
    if unit.dimension != target.dimension:
        problems.add(span, f"`{unit_text}` is not a unit of {quantity.what}", quantity.units_hint)
        return None
    if quantity is not _TEMPERATURE:
        a, b = unit.exact_factor_to(target)
        return float(a), float(b)
    # K is a temperature difference in the rules language, but a weather file's kelvins are
    # absolute: a kelvin reading is its own SI value, so its scale and offset convert it.
    if not unit.absolute and unit.symbol != "K":
        problems.add(
            span,
            f"`{unit_text}` is a temperature difference; a weather file holds temperatures",
            quantity.units_hint,
        )
        return None
    scale, offset = unit.exact()
    target_scale, target_offset = target.exact()
    return float(scale / target_scale), float((offset - target_offset) / target_scale)


def _time(row: _Row, index: int, problems: _Problems) -> datetime.datetime | None:
    text = row.texts[index]
    if not text:
        problems.add(row.cell(index).span, "a row without a time", "give every row a time, or delete the row")
        return None
    midnight = _MIDNIGHT_24.fullmatch(text)
    try:
        if midnight:
            # 24:00 ends a day, as in TMY3 files: it is the next day's 00:00.
            moment = datetime.datetime.fromisoformat(midnight.group(1)) + datetime.timedelta(days=1)
        else:
            moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        problems.add(
            row.cell(index).span,
            f"`{text}` is not an ISO 8601 time",
            "write times as year-month-day hour:minute, such as 2024-01-15 06:00",
        )
        return None
    if moment.tzinfo is not None:
        problems.add(
            row.cell(index).span,
            f"`{text}` has a UTC offset, but times in a weather file are local standard time",
            "write the site's local standard time (no daylight saving) without an offset,"
            " such as 2024-01-15 06:00",
        )
        return None
    return moment


def _value(row: _Row, column: _Column, decimal_comma: bool, problems: _Problems) -> float | None:
    """A cell's value in the quantity's unit: NaN for an empty optional cell, None after a problem."""
    quantity = column.quantity
    assert quantity is not None
    text = row.texts[column.index]
    if not text:
        if quantity is _TEMPERATURE:
            problems.add(
                row.cell(column.index).span,
                "a row without an outdoor temperature",
                "fill it in, or delete the row: the rows before and after it are interpolated",
            )
            return None
        return math.nan
    try:
        number = float(text.replace(",", ".") if decimal_comma else text)
    except ValueError:
        if _DECIMAL_COMMA.fullmatch(text):
            hint = "write decimals with a point (21.5), or separate the columns with `;`"
        elif _NUMBER_WITH_UNIT.fullmatch(text):
            hint = f"write the number alone; the unit goes in the header: `{column.name} [{quantity.unit}]`"
        else:
            hint = "write a plain number such as 21.5, or leave the cell empty for a missing value"
        problems.add(row.cell(column.index).span, f"`{text}` is not a number", hint)
        return None
    if not math.isfinite(number):
        problems.add(
            row.cell(column.index).span,
            f"`{text}` is not a finite number",
            "leave the cell empty for a missing value",
        )
        return None
    return column.scale * number + column.offset


def _wrong_width(problems: _Problems, row: _Row, width: int, delimiter: str) -> None:
    if len(row.texts) > width:
        span = row.cell(width).span
        hint = (
            "a decimal comma? write decimals with a point (21.5), or separate the columns with `;`"
            if delimiter == ","
            else "give one value per column, and leave a cell empty for a missing value"
        )
    else:
        span = Span.point(row.file, row.line, len(row.text) + 1)
        hint = "give one value per column, and leave a cell empty for a missing value"
    problems.add(span, f"this row has {len(row.texts)} values, but the header names {width} columns", hint)


def _report_implausible(
    column: _Column, row: _Row, index: int, value: float, count: int, problems: _Problems
) -> None:
    # One diagnostic per column: a wrong unit makes every row implausible.
    quantity = column.quantity
    assert quantity is not None
    more = count - 1
    rows = "1 more row of this column is" if more == 1 else f"{more} more rows of this column are"
    notes = (Note(f"{rows} outside the range too"),) if more else ()
    hint = (
        f"is the unit right? give it in the header, such as `{column.name} [F]`"
        if quantity is _TEMPERATURE
        else f"is the unit right? {quantity.units_hint}"
    )
    problems.add(
        row.cell(index).span,
        f"{quantity.what} {quantity.shown(value)} is outside the plausible range"
        f" {quantity.shown(quantity.low)} .. {quantity.shown(quantity.high)}",
        hint,
        notes,
    )


def _check_fraction(column: _Column, values: list[float], problems: _Problems) -> None:
    # A humidity of at most 1 % all the time does not occur outdoors: it is a fraction (0.65)
    # read as percent, which would make the coil look bone dry and never frost.
    quantity = column.quantity
    if quantity is None or quantity.key != "relative_humidity" or column.scale != 1.0:
        return
    known = [value for value in values if not math.isnan(value)]
    if len(known) >= 2 and max(known) <= 1.0:
        problems.add(
            column.header,
            f"every relative humidity is at most 1 %, which does not occur outdoors; is `{column.name}`"
            " a fraction?",
            f"give a fraction (0 .. 1) its unit in the header: `{column.name} [1]`",
        )


def _problem(span: Span, message: str, hint: str | None = None, notes: tuple[Note, ...] = ()) -> Diagnostic:
    return messages.WEATHER_FILE.at(span, problem=message, hint=hint, notes=notes)


def _shown(moment: datetime.datetime) -> str:
    """A time as messages show it: 2024-01-15 06:00, with seconds only when it has them."""
    return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second or moment.microsecond else "%Y-%m-%d %H:%M")


def _frozen(values: NDArray[np.float64]) -> Samples:
    """The array, read-only: a built-in year is shared by every run in the process."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    values.setflags(write=False)
    return values
