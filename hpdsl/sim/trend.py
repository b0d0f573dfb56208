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

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

ColumnKind = Literal["real", "int", "bool", "enum"]

# What a column is: an input the rules read from the field (a verification replays these),
# something the rules computed, or the plant model's and the weather's own values.
ColumnRole = Literal["input", "output", "total", "counter", "machine", "alarm", "plant", "weather", ""]

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

    def as_float(self) -> npt.NDArray[np.float64]:
        """The values as numbers: reals as they are, booleans 0/1, enumeration members by position."""
        return self.values.astype(np.float64)

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
        fields.append(pa.field(column.header() if csv else column.name, array.type, metadata=metadata))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    path.parent.mkdir(parents=True, exist_ok=True)
    if csv:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    elif path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path, compression="zstd")
    else:
        raise ValueError(f"a trend file ends in .csv or .parquet, not `{path.suffix}`")


def read(path: Path) -> Trend:
    """Read a trend written by `write` (CSV or Parquet); OSError or ValueError if it cannot be read."""
    import pyarrow as pa

    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        metadata = {
            f.name: {k.decode(): v.decode() for k, v in (f.metadata or {}).items()} for f in table.schema
        }
        names = list(table.column_names)
        units = {name: metadata[name].get("unit", "") for name in names}
        roles = {name: metadata[name].get("role", "") for name in names}
    else:
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(path)
        names, units, roles = [], {}, {}
        for header in table.column_names:
            name, unit = split_header(header)
            names.append(name)
            units[name] = unit
            roles[name] = ""
        table = table.rename_columns(names)
    if TIME_COLUMN not in names:
        raise ValueError(f"`{path}` has no `{TIME_COLUMN}` column")
    time = table.column(TIME_COLUMN).cast(pa.timestamp("ms")).to_numpy()
    trend = Trend(time.astype("datetime64[ms]"))
    for name in names:
        if name == TIME_COLUMN:
            continue
        chunked = table.column(name)
        if pa.types.is_dictionary(chunked.type) or pa.types.is_string(chunked.type):
            text = chunked.cast(pa.string()).to_pylist()
            members = tuple(dict.fromkeys(str(v) for v in text if v is not None))
            index = {member: i for i, member in enumerate(members)}
            codes = np.array([index.get(str(v), -1) for v in text], dtype=np.int64)
            column = Column(name, "enum", units[name], codes, members=members)
        elif pa.types.is_boolean(chunked.type):
            column = Column(name, "bool", units[name], chunked.to_numpy(zero_copy_only=False).astype(bool))
        elif pa.types.is_integer(chunked.type):
            column = Column(name, "int", units[name], chunked.to_numpy(zero_copy_only=False).astype(np.int64))
        else:
            values = chunked.cast(pa.float64()).to_numpy(zero_copy_only=False)
            column = Column(name, "real", units[name], values.astype(np.float64))
        role = roles[name]
        column.role = role if role in _ROLES else ""
        trend.columns[name] = column
    return trend


_ROLES = ("input", "output", "total", "counter", "machine", "alarm", "plant", "weather")
