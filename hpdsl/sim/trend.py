"""The trend of a run: every point at every scan, as typed columns, and its CSV and Parquet files.

A trend is what a BAS trend log holds: one row per scan, a time stamp and one column per
point. Columns are named `Program.point` for the rules' points (inputs read from the field,
outputs, totals, counters, machine states and alarms), `plant.<name>` for the plant model's
states and flows and `weather.<name>` for the weather the run used. Inputs wired from another
program are not repeated: they are the source's output column.

Files:

- CSV: a header row `time,<name> [<unit>],...` (no brackets for a point without a unit), one
  row per scan; the time is ISO 8601 local time (`2024-01-01 00:01:00`), booleans are
  `true`/`false`, enumeration values are member names, numbers are written in full precision.
- Parquet: the same columns; the time is a timestamp, enumeration columns are dictionary
  encoded, and each field's metadata holds its unit and role.

Both are written by pyarrow, whose writers are columnar and fast enough for a year at
one-minute steps (525,600 rows of some 200 columns).
"""

from __future__ import annotations

import csv as csv_module
import datetime
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

ColumnKind = Literal["real", "int", "bool", "enum"]

# What a column is: an input the rules read from the field (a verification replays these),
# something the rules computed, or the plant model's and the weather's own values.
ColumnRole = Literal["input", "output", "total", "counter", "machine", "alarm", "plant", "weather", ""]

ROW_GROUP_ROWS = 65536  # rows per Parquet row group
TIME_COLUMN = "time"
TREND_SUFFIXES = (".csv", ".parquet")

_HEADER = re.compile(r"\s*(?P<name>[^\[\]]*?)\s*(?:\[(?P<unit>[^\]]*)\])?\s*")


@dataclass
class Column:
    """One column of a trend: its values, one per row, and what they mean."""

    name: str
    kind: ColumnKind
    unit: str
    values: npt.NDArray[Any]  # float64 (real), int64 (int and enum codes), bool_ (bool)
    role: ColumnRole = ""
    members: tuple[str, ...] = ()  # an enumeration's members; a value is an index into them
    doc: str = ""
    # Rows without a value (an empty cell in a file that was read), for the kinds without NaN;
    # their `values` hold 0, False or -1. A real column marks missing values with NaN instead.
    missing: npt.NDArray[np.bool_] | None = None

    def as_float(self) -> npt.NDArray[np.float64]:
        """The values as numbers: reals as they are, booleans 0/1, enumeration members by position;
        NaN where a value is missing."""
        numbers = self.values.astype(np.float64)
        if self.missing is not None:
            numbers[self.missing] = np.nan
        return numbers

    def header(self) -> str:
        return f"{self.name} [{self.unit}]" if self.unit else self.name


@dataclass
class Trend:
    """A table of time stamps and columns of equal length."""

    time: npt.NDArray[np.datetime64]  # datetime64[ms], local time without a zone
    columns: dict[str, Column] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time)

    def __getitem__(self, name: str) -> Column:
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def add(self, column: Column) -> None:
        if len(column.values) != len(self.time):
            raise ValueError(f"column {column.name} has {len(column.values)} values, not {len(self.time)}")
        self.columns[column.name] = column

    def seconds(self) -> npt.NDArray[np.float64]:
        """Seconds since the first row."""
        if len(self.time) == 0:
            return np.zeros(0)
        elapsed: npt.NDArray[np.float64] = (
            (self.time - self.time[0]).astype("timedelta64[ms]").astype(np.float64)
        )
        return elapsed / 1000.0

    def step_s(self) -> float:
        """The median time between rows, in seconds (0 for fewer than two rows)."""
        if len(self.time) < 2:
            return 0.0
        return float(np.median(np.diff(self.seconds())))

    def start(self) -> datetime.datetime:
        stamp = self.time[0].astype("datetime64[ms]").astype(datetime.datetime)
        assert isinstance(stamp, datetime.datetime)
        return stamp

    def slice(self, begin: int, end: int) -> Trend:
        """Rows begin .. end - 1 as a new trend (the arrays are views)."""
        result = Trend(self.time[begin:end])
        for column in self.columns.values():
            result.columns[column.name] = Column(
                column.name,
                column.kind,
                column.unit,
                column.values[begin:end],
                column.role,
                column.members,
                column.doc,
                None if column.missing is None else column.missing[begin:end],
            )
        return result


def split_header(text: str) -> tuple[str, str]:
    """A CSV header cell `name [unit]` as (name, unit); ("name", "") without a unit."""
    match = _HEADER.fullmatch(text)
    if match is None:
        return text.strip(), ""
    return match.group("name"), (match.group("unit") or "").strip()


def write(trend: Trend, path: Path) -> None:
    """Write a trend as CSV or Parquet, chosen by the file's suffix."""
    import pyarrow as pa

    # Whole seconds are written as such (`2024-01-01 00:01:00`), finer stamps with milliseconds.
    stamps = trend.time.astype("datetime64[ms]")
    whole = bool(np.all(stamps.astype(np.int64) % 1000 == 0))
    unit = "s" if whole else "ms"
    arrays: list[Any] = [pa.array(stamps.astype(f"datetime64[{unit}]"), type=pa.timestamp(unit))]
    fields: list[Any] = [pa.field(TIME_COLUMN, pa.timestamp(unit))]
    csv = path.suffix.lower() == ".csv"
    for column in trend.columns.values():
        if column.kind == "enum":
            codes = pa.array(column.values.astype(np.int32))
            dictionary = pa.array(list(column.members), type=pa.string())
            array = pa.DictionaryArray.from_arrays(codes, dictionary)
            if csv:
                array = array.cast(pa.string())
        else:
            array = pa.array(column.values)
        arrays.append(array)
        metadata = {"unit": column.unit, "role": column.role, "kind": column.kind}
        if column.kind == "enum":
            metadata["members"] = json.dumps(list(column.members))
        fields.append(pa.field(column.header() if csv else column.name, array.type, metadata=metadata))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    path.parent.mkdir(parents=True, exist_ok=True)
    if csv:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    elif path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        # Dictionary pages only for the enumerations (a real rarely repeats, and trying costs
        # time), statistics only for the time (what a reader filters on). Row groups of about
        # six weeks of one-minute rows: a reader streams a row group at a time, so a year's file
        # in one group would have to be decoded whole.
        enums = [c.name for c in trend.columns.values() if c.kind == "enum"]
        pq.write_table(
            table,
            path,
            compression="zstd",
            use_dictionary=enums,
            write_statistics=[TIME_COLUMN],
            row_group_size=ROW_GROUP_ROWS,
        )
    else:
        raise ValueError(f"a trend file ends in .csv or .parquet, not `{path.suffix}`")


def read(path: Path, members: Mapping[str, Sequence[str]] | None = None) -> Trend:
    """Read a trend written by `write` (CSV or Parquet); OSError or ValueError if it cannot be read.

    Parquet files carry each column's kind, unit, role and enumeration members. A CSV file
    carries only names and units, so each column's kind is decided from all its values:
    `true`/`false` is bool, whole numbers int, other numbers real, anything else an
    enumeration whose members are given by `members` (point name -> the members in declared
    order) or, for a column not named there, its distinct values in sorted order. A number
    column holding a word somewhere is an error naming the row. Empty cells are missing
    values: NaN in a real column, and marked in `Column.missing` for the other kinds.
    """
    given = members or {}
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path, given)
    return _read_csv(path, given)


def _read_parquet(path: Path, given: Mapping[str, Sequence[str]]) -> Trend:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    if TIME_COLUMN not in table.column_names:
        raise ValueError(f"`{path}` has no `{TIME_COLUMN}` column")
    trend = Trend(_times(table.column(TIME_COLUMN)))
    for schema_field in table.schema:
        name = schema_field.name
        if name == TIME_COLUMN:
            continue
        metadata = {k.decode(): v.decode() for k, v in (schema_field.metadata or {}).items()}
        chunked = table.column(name)
        column: Column
        if pa.types.is_dictionary(chunked.type) or pa.types.is_string(chunked.type):
            declared: Sequence[str] | None = given.get(name)
            if declared is None and "members" in metadata:
                declared = json.loads(metadata["members"])
            if declared is None and pa.types.is_dictionary(chunked.type) and chunked.num_chunks:
                declared = [str(v) for v in chunked.chunk(0).dictionary.to_pylist()]
            text = chunked.cast(pa.string())
            if declared is None:
                declared = sorted({str(v) for v in text.drop_null().to_pylist()})
            column = _enum_column(path, name, text, declared)
        else:
            column = _typed_column(name, chunked, metadata.get("kind", ""))
        column.unit = metadata.get("unit", "")
        role = metadata.get("role", "")
        column.role = role if role in _ROLES else ""
        trend.columns[name] = column
    return trend


def _read_csv(path: Path, given: Mapping[str, Sequence[str]]) -> Trend:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with path.open(encoding="utf-8", newline="") as stream:
        headers = next(csv_module.reader(stream), [])
    if TIME_COLUMN not in (split_header(h)[0] for h in headers):
        raise ValueError(f"`{path}` has no `{TIME_COLUMN}` column")
    # Every column but the time is read as text and typed below from all its values: pyarrow
    # would guess the types from the first block and fail on a word further down.
    convert = pacsv.ConvertOptions(
        column_types={h: pa.string() for h in headers if split_header(h)[0] != TIME_COLUMN},
        null_values=[""],
        strings_can_be_null=True,
    )
    table = pacsv.read_csv(path, convert_options=convert)
    names = [split_header(h)[0] for h in table.column_names]
    units = [split_header(h)[1] for h in table.column_names]
    table = table.rename_columns(names)
    trend = Trend(_times(table.column(TIME_COLUMN)))
    for name, unit in zip(names, units, strict=True):
        if name == TIME_COLUMN:
            continue
        column = _column_from_text(path, name, table.column(name), given.get(name))
        column.unit = unit
        trend.columns[name] = column
    return trend


def _times(chunked: Any) -> npt.NDArray[np.datetime64]:
    import pyarrow as pa

    return np.asarray(chunked.cast(pa.timestamp("ms")).to_numpy()).astype("datetime64[ms]")


def _column_from_text(path: Path, name: str, text: Any, declared: Sequence[str] | None) -> Column:
    """A CSV column, typed from all its values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if declared is not None:
        return _enum_column(path, name, text, declared)
    present = text.drop_null()
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(present))
    if len(present) and pc.all(pc.is_in(lowered, value_set=pa.array(["true", "false"]))).as_py():
        lowered_all = pc.utf8_lower(pc.utf8_trim_whitespace(text))
        return _typed_column(name, pc.equal(lowered_all, "true"), "bool")
    stripped = pc.utf8_trim_whitespace(text)
    for kind, type_ in (("int", pa.int64()), ("real", pa.float64())):
        try:
            return _typed_column(name, stripped.cast(type_), kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    values = [str(v) for v in present.to_pylist()]
    numeric = [_is_number(v) for v in values]
    if any(numeric):
        rows = [i for i, v in enumerate(text.to_pylist()) if v is not None and not _is_number(str(v))]
        word = text[rows[0]].as_py()
        raise ValueError(
            f"`{path}`, column `{name}`, row {rows[0] + 1}: `{word}` is not a number, "
            f"though the column's other values are numbers"
        )
    return _enum_column(path, name, text, sorted(set(values)))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _typed_column(name: str, chunked: Any, kind: str) -> Column:
    """A bool, int or real column from an Arrow column of that type; nulls are missing values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    missing = np.asarray(pc.is_null(chunked).to_numpy(zero_copy_only=False), dtype=bool)
    gaps = missing if missing.any() else None
    if pa.types.is_boolean(chunked.type):
        values = np.asarray(pc.fill_null(chunked, False).to_numpy(zero_copy_only=False), dtype=bool)
        return Column(name, "bool", "", values, missing=gaps)
    if pa.types.is_integer(chunked.type) and kind != "real":
        ints = np.asarray(pc.fill_null(chunked, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
        return Column(name, "int", "", ints, missing=gaps)
    reals = np.asarray(chunked.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return Column(name, "real", "", reals)  # nulls are already NaN


def _enum_column(path: Path, name: str, text: Any, declared: Sequence[str]) -> Column:
    """An enumeration column: each value's position in the declared members; -1 where missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    members = tuple(declared)
    stripped = pc.utf8_trim_whitespace(text)
    codes = pc.index_in(stripped, value_set=pa.array(members, type=pa.string()))
    missing = np.asarray(pc.is_null(stripped).to_numpy(zero_copy_only=False), dtype=bool)
    unknown = np.asarray(pc.is_null(codes).to_numpy(zero_copy_only=False), dtype=bool) & ~missing
    if unknown.any():
        row = int(np.argmax(unknown))
        raise ValueError(
            f"`{path}`, column `{name}`, row {row + 1}: `{stripped[row].as_py()}` is not one of "
            f"{', '.join(members)}"
        )
    values = np.asarray(pc.fill_null(codes, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return Column(name, "enum", "", values, members=members, missing=missing if missing.any() else None)


_ROLES = ("input", "output", "total", "counter", "machine", "alarm", "plant", "weather")
