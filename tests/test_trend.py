"""Reading trend files back: types from all values, enumerations in declared order, gaps kept as gaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hpdsl.sim import trend
from hpdsl.sim.trend import Column, Trend

MODES = ("Heating", "Cooling", "Off")


def _trend(rows: int) -> Trend:
    time = np.datetime64("2024-01-01T00:00:00", "ms") + np.arange(rows) * np.timedelta64(60_000, "ms")
    result = Trend(time.astype("datetime64[ms]"))
    result.add(Column("Changeover.system_mode", "enum", "", np.ones(rows, dtype=np.int64), "output", MODES))
    result.add(Column("Plant.supply_temp", "real", "C", np.linspace(20.0, 50.0, rows), "input"))
    result.add(Column("Staging.starts", "int", "", np.arange(rows, dtype=np.int64), "counter"))
    result.add(Column("Defrost.active", "bool", "", np.arange(rows) % 3 == 0, "output"))
    return result


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_written_trend_reads_back_with_the_same_values(tmp_path: Path, suffix: str) -> None:
    written = _trend(50)
    path = tmp_path / f"trend{suffix}"
    trend.write(written, path)
    read = trend.read(path, members={"Changeover.system_mode": MODES})
    assert np.array_equal(read.time, written.time)
    for name, column in written.columns.items():
        assert read[name].kind == column.kind, name
        assert np.array_equal(read[name].values, column.values), name
        assert read[name].missing is None
    assert read["Plant.supply_temp"].unit == "C"
    assert read["Changeover.system_mode"].members == MODES


def test_parquet_keeps_the_declared_members_even_those_that_never_occur(tmp_path: Path) -> None:
    path = tmp_path / "trend.parquet"
    trend.write(_trend(10), path)
    mode = trend.read(path)["Changeover.system_mode"]
    # Every row is Cooling; numbering by appearance would have made Cooling member 0.
    assert mode.members == MODES
    assert set(mode.values.tolist()) == {1}
    assert mode.role == "output"


def test_csv_enumeration_without_declared_members_is_numbered_in_sorted_order(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("time,mode\n2024-01-01 00:00:00,Off\n2024-01-01 00:01:00,Heating\n", encoding="utf-8")
    mode = trend.read(path)["mode"]
    assert mode.kind == "enum"
    assert mode.members == ("Heating", "Off")
    assert mode.values.tolist() == [1, 0]


def test_a_word_far_down_a_number_column_names_its_row(tmp_path: Path) -> None:
    # Far beyond the first block pyarrow would guess the column's type from.
    rows = 60_000
    path = tmp_path / "log.csv"
    lines = ["time,supply [C],note"]
    lines += [f"2024-01-01 {i // 60 % 24:02}:{i % 60:02}:00,{20 + i % 7}.5,ok" for i in range(rows)]
    lines[rows - 10] = lines[rows - 10].replace(".5,ok", ".5x,ok").replace(",2", ",err2", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"column `supply`, row {rows - 10}: `err2.*` is not a number"):
        trend.read(path)


def test_a_real_far_down_an_integer_looking_column_makes_it_real(tmp_path: Path) -> None:
    rows = 60_000
    path = tmp_path / "log.csv"
    values = [str(i % 40) for i in range(rows)]
    values[-1] = "12.25"
    body = "".join(f"2024-01-01 00:00:00,{v}\n" for v in values)
    path.write_text("time,power [kW]\n" + body, encoding="utf-8")
    power = trend.read(path)["power"]
    assert power.kind == "real"
    assert power.values[-1] == 12.25 and power.values[41] == 1.0


def test_empty_cells_are_missing_values_not_false_or_a_huge_negative(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "time,running,starts,supply [C],mode\n"
        "2024-01-01 00:00:00,true,3,40.5,Heating\n"
        "2024-01-01 00:01:00,,,,\n"
        "2024-01-01 00:02:00,false,4,41.0,Cooling\n",
        encoding="utf-8",
    )
    read = trend.read(path, members={"mode": MODES})
    running, starts, supply, mode = (read[name] for name in ("running", "starts", "supply", "mode"))
    assert running.kind == "bool" and starts.kind == "int" and supply.kind == "real"
    for column in (running, starts, mode):
        assert column.missing is not None and column.missing.tolist() == [False, True, False], column.name
    assert starts.values.tolist() == [3, 0, 4]
    assert mode.values.tolist() == [0, -1, 1]
    assert np.isnan(supply.values[1])
    floats = starts.as_float()
    assert floats[0] == 3.0 and np.isnan(floats[1]) and floats[2] == 4.0
    assert np.isnan(running.as_float()[1])
    # Slicing keeps the gaps with their rows.
    sliced = read.slice(1, 3)["starts"]
    assert sliced.missing is not None and sliced.missing.tolist() == [True, False]


def test_a_value_that_is_not_a_declared_member_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("time,mode\n2024-01-01 00:00:00,Heating\n2024-01-01 00:01:00,Auto\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"column `mode`, row 2: `Auto` is not one of Heating, Cooling, Off"):
        trend.read(path, members={"mode": MODES})


def test_a_file_without_a_time_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("when,mode\n2024-01-01 00:00:00,Heating\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no `time` column"):
        trend.read(path)
