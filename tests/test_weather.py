"""Weather for `hpdsl simulate`: the built-in typical years, users' CSV files, and sampling them.

The typical years are checked against the TMY3 files' own numbers and against an interpolation
written out here with Python's calendar arithmetic (not numpy's), so the vectorised mapping of
dates onto the typical year is compared with an independent one. Every problem in a CSV file
is checked for its code, line, column and wording.
"""

from __future__ import annotations

import calendar
import datetime
import math
import random
import re
import time
from pathlib import Path

import numpy as np
import pytest

from hpdsl.base.files import UsageError
from hpdsl.base.render import render_text
from hpdsl.base.source import MAX_FILE_BYTES, SourceFile
from hpdsl.sim import weather
from hpdsl.sim.weather import Weather, WeatherError

DATA = Path(__file__).resolve().parent / "data" / "weather"

# What `read_tmy3` gives for the two files (checked by hand with pandas' describe()).
BUILTIN_STATISTICS = {
    #              name                                               min    max   mean   lat
    "greensboro": ("Greensboro Piedmont Triad Int, NC (TMY3 723170)", -16.7, 35.6, 14.42, 36.1),
    "sand-point": ("Sand Point, AK (TMY3 703165)", -10.6, 19.4, 4.42, 55.317),
}


@pytest.fixture(scope="module")
def greensboro() -> Weather:
    return weather.load("greensboro")


def csv(text: str, name: str = "site.csv") -> Weather:
    """A user's weather file given as text."""
    return weather.read_csv(SourceFile(name, text))


def problems(text: str) -> list[tuple[int, int, str, str]]:
    """(line, column, message, hint) of each problem the reader finds in a weather file."""
    with pytest.raises(WeatherError) as caught:
        csv(text)
    assert all(d.code == "weather-file" and d.is_error for d in caught.value.diagnostics)
    return [(d.span.line, d.span.column, d.message, d.hint or "") for d in caught.value.diagnostics]


def typical_value(samples: np.ndarray, moment: datetime.datetime) -> float:
    """The value of an hourly TMY3 column at a moment, with the calendar done by hand.

    Sample k is read at hour k + 1 of the typical year (the end of its hour), so hour 0
    (Jan 1 00:00) is the last sample, Dec 31 24:00. Feb 29 is read as Feb 28.
    """
    if calendar.isleap(moment.year) and moment >= datetime.datetime(moment.year, 2, 29):
        moment -= datetime.timedelta(days=1)
    hours = (moment - datetime.datetime(moment.year, 1, 1)).total_seconds() / 3600
    below = math.floor(hours)
    fraction = hours - below
    before, after = samples[(below - 1) % 8760], samples[below % 8760]
    return float(before + fraction * (after - before))


# --- Built-in typical years ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(weather.BUILTIN))
def test_builtin_years_are_8760_hours_with_their_stations_statistics(name: str) -> None:
    year = weather.load(name)
    description, low, high, mean, latitude = BUILTIN_STATISTICS[name]
    assert year.name == description
    assert year.source == f"pvlib TMY3 {weather.BUILTIN[name]}"
    assert year.periodic and year.period is None and year.defaulted == ()
    assert year.latitude == pytest.approx(latitude)
    for samples in (year.temp_air, year.relative_humidity, year.ghi, year.wind_speed):
        assert samples.shape == (8760,) and np.isfinite(samples).all()
    assert np.array_equal(year.time_s, np.arange(1, 8761) * 3600.0)
    assert np.array_equal(year.ghi_time_s, np.arange(1, 8761) * 3600.0 - 1800.0)
    assert year.temp_air.min() == pytest.approx(low)
    assert year.temp_air.max() == pytest.approx(high)
    assert year.temp_air.mean() == pytest.approx(mean, abs=0.01)
    assert year.relative_humidity.min() >= 0 and year.relative_humidity.max() == 100
    assert year.ghi.min() == 0 and 800 < year.ghi.max() < 1100
    assert year.wind_speed.min() >= 0 and year.wind_speed.max() < 30


def test_the_two_climates_differ_as_docs_weather_md_says() -> None:
    greensboro, sand_point = weather.load("greensboro"), weather.load("sand-point")
    # Greensboro: a heating and a cooling season, frost near 0C; Sand Point: cold and humid.
    assert (greensboro.temp_air > 30).sum() > 200 and (sand_point.temp_air > 25).sum() == 0
    assert (greensboro.temp_air < 0).sum() == 792 and (sand_point.temp_air < 0).sum() == 1640
    assert sand_point.relative_humidity.mean() > greensboro.relative_humidity.mean() > 65
    assert greensboro.utc_offset_h == -5 and sand_point.utc_offset_h == -9


def test_builtin_years_are_read_once_and_cannot_be_changed(greensboro: Weather) -> None:
    assert weather.load("greensboro") is greensboro
    with pytest.raises(ValueError, match="read-only"):
        greensboro.temp_air[0] = 99.0


def test_on_the_hour_a_typical_year_gives_its_samples(greensboro: Weather) -> None:
    # 2001 is a common year: its Jan 1 01:00 is the first row, Dec 31 24:00 the last.
    series = greensboro.at(datetime.datetime(2001, 1, 1, 1), 3600, 8760)
    assert np.array_equal(series.temp_air, greensboro.temp_air)
    assert np.array_equal(series.relative_humidity, greensboro.relative_humidity)
    assert np.array_equal(series.wind_speed, greensboro.wind_speed)
    assert series.temp_air[0] == 10.0 and series.temp_air[-1] == 2.2


def test_at_half_hours_a_value_is_the_mean_of_its_neighbours(greensboro: Weather) -> None:
    series = greensboro.at(datetime.datetime(2001, 1, 1, 1, 30), 3600, 8759)
    assert np.allclose(series.temp_air, (greensboro.temp_air[:-1] + greensboro.temp_air[1:]) / 2)
    assert np.allclose(series.wind_speed, (greensboro.wind_speed[:-1] + greensboro.wind_speed[1:]) / 2)
    # Irradiance is the mean of the hour before each stamp, so the half hours are its samples.
    assert np.array_equal(series.ghi, greensboro.ghi[1:])


def test_irradiance_is_placed_at_the_middle_of_its_hour(greensboro: Weather) -> None:
    noon = datetime.datetime(2001, 6, 21, 12)
    stamp = int((noon - datetime.datetime(2001, 1, 1)).total_seconds() // 3600) - 1  # the row stamped 12:00
    series = greensboro.at(noon, 1800, 2)  # 12:00 and 12:30
    assert series.ghi[0] == pytest.approx((greensboro.ghi[stamp] + greensboro.ghi[stamp + 1]) / 2)
    assert series.ghi[1] == greensboro.ghi[stamp + 1]
    assert series.temp_air[0] == greensboro.temp_air[stamp]


def test_a_run_may_start_at_any_moment_of_any_year(greensboro: Weather) -> None:
    start = datetime.datetime(2037, 7, 14, 13, 47, 13)
    series = greensboro.at(start, 637.5, 400)
    for i in range(0, 400, 7):
        moment = start + datetime.timedelta(seconds=637.5 * i)
        assert series.temp_air[i] == pytest.approx(typical_value(greensboro.temp_air, moment)), moment
        assert series.relative_humidity[i] == pytest.approx(
            typical_value(greensboro.relative_humidity, moment)
        )


@pytest.mark.parametrize(
    "start",
    [
        datetime.datetime(1999, 11, 3, 17, 47, 13),  # across Feb 29 2000 (divisible by 400: leap)
        datetime.datetime(2099, 12, 1, 5, 0),  # across 2100 (divisible by 100: not leap)
        datetime.datetime(2023, 12, 30, 22, 10),  # across new year into a leap year
    ],
)
def test_runs_across_leap_years_and_new_years_follow_the_calendar(
    greensboro: Weather, start: datetime.datetime
) -> None:
    series = greensboro.at(start, 7919.0, 2000)  # about 183 days, at an awkward step
    for i in range(2000):
        moment = start + datetime.timedelta(seconds=7919.0 * i)
        assert series.temp_air[i] == pytest.approx(typical_value(greensboro.temp_air, moment)), moment


def test_feb_29_reuses_feb_28_and_the_rest_of_a_leap_year_keeps_its_dates(greensboro: Weather) -> None:
    def day(year: int, month: int, day: int) -> np.ndarray:
        return greensboro.at(datetime.datetime(year, month, day), 900, 96).temp_air

    assert np.array_equal(day(2024, 2, 29), day(2023, 2, 28))
    assert np.array_equal(day(2000, 2, 29), day(2023, 2, 28))
    assert np.array_equal(day(2024, 3, 1), day(2023, 3, 1))
    assert np.array_equal(day(1900, 3, 1), day(2023, 3, 1))  # 1900 was not a leap year
    assert np.array_equal(day(2024, 12, 31), day(2023, 12, 31))
    assert not np.array_equal(day(2024, 2, 28), day(2024, 2, 27))


def test_typical_year_seconds() -> None:
    moments = [
        datetime.datetime(2023, 1, 1),
        datetime.datetime(2024, 2, 28, 12),
        datetime.datetime(2024, 2, 29, 12),
        datetime.datetime(2024, 3, 1),
        datetime.datetime(2024, 12, 31, 23, 59, 59),
        datetime.datetime(2025, 1, 1),
    ]
    start = moments[0]
    offsets = np.array([(m - start).total_seconds() for m in moments])
    day = 86400.0
    expected = [0.0, 58.5 * day, 58.5 * day, 59 * day, 365 * day - 1, 0.0]
    assert weather.typical_year_seconds(start, offsets).tolist() == expected


def test_the_year_wraps_from_dec_31_to_jan_1(greensboro: Weather) -> None:
    last, first = greensboro.temp_air[-1], greensboro.temp_air[0]  # Dec 31 24:00 and Jan 1 01:00
    before_last = greensboro.temp_air[-2]  # Dec 31 23:00
    series = greensboro.at(datetime.datetime(2023, 12, 31, 23, 30), 1800, 4)
    assert series.temp_air.tolist() == pytest.approx(
        [(before_last + last) / 2, last, (last + first) / 2, first]
    )
    # The typical year's own seam: its first and last rows come from different years.
    assert (last, first) == (2.2, 10.0)


def test_a_run_longer_than_a_year_repeats_the_typical_year(greensboro: Weather) -> None:
    # 2021 and 2022 are common years: the second year is the first again, hour by hour.
    series = greensboro.at(datetime.datetime(2021, 1, 1), 3600, 2 * 8760 + 48)
    assert np.array_equal(series.temp_air[:8760], series.temp_air[8760 : 2 * 8760])
    assert np.array_equal(series.ghi[:48], series.ghi[2 * 8760 :])


def test_a_year_at_one_minute_steps_is_computed_at_once(greensboro: Weather) -> None:
    started = time.perf_counter()
    series = greensboro.at(datetime.datetime(2023, 1, 1), 60, 525_600)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0  # a sanity bound: it takes well under 0.2 s
    for samples in (series.temp_air, series.relative_humidity, series.ghi, series.wind_speed):
        assert samples.shape == (525_600,) and samples.dtype == np.float64
    hourly = greensboro.at(datetime.datetime(2023, 1, 1), 3600, 8760)
    assert np.array_equal(series.temp_air[::60], hourly.temp_air)
    assert series.temp_air.min() == greensboro.temp_air.min()
    assert series.temp_air.max() == greensboro.temp_air.max()


def test_at_checks_its_arguments(greensboro: Weather) -> None:
    assert greensboro.at(datetime.datetime(2023, 1, 1), 60, 0).temp_air.shape == (0,)
    with pytest.raises(ValueError, match="naive local standard time"):
        greensboro.at(datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC), 60, 10)
    with pytest.raises(ValueError, match="positive number of seconds"):
        greensboro.at(datetime.datetime(2023, 1, 1), 0, 10)
    with pytest.raises(ValueError, match="cannot be negative"):
        greensboro.at(datetime.datetime(2023, 1, 1), 60, -1)


# --- Users' CSV files -----------------------------------------------------------------------------


def test_a_csv_file_in_celsius_with_every_column() -> None:
    site = weather.load(str(DATA / "celsius.csv"))
    assert not site.periodic and site.latitude is None and site.defaulted == ()
    assert site.source.endswith("celsius.csv")
    assert site.period == (datetime.datetime(2024, 1, 15, 6), datetime.datetime(2024, 1, 15, 10))
    assert site.name == "2024-01-15 06:00 .. 2024-01-15 10:00, 5 rows"
    series = site.at(datetime.datetime(2024, 1, 15, 6), 1800, 9)
    assert series.temp_air.tolist() == pytest.approx([-2.0, -1.5, -1.0, 0.0, 1.0, 2.0, 3.0, 3.75, 4.5])
    assert series.relative_humidity.tolist() == pytest.approx([88, 87, 86, 83, 80, 76, 72, 68.5, 65])
    assert series.ghi.tolist() == pytest.approx([0, 0, 0, 60, 120, 215, 310, 365, 420])
    assert series.wind_speed[1] == pytest.approx(2.0)


def test_a_csv_file_in_fahrenheit_with_irregular_times_and_no_irradiance_or_wind() -> None:
    site = weather.load(str(DATA / "fahrenheit.csv"))
    assert site.defaulted == ("ghi", "wind_speed")
    # 32F, 41F and 50F at 06:00, 06:15 and 07:00; humidity as fractions 0.9, 0.8, 0.5.
    assert site.temp_air.tolist() == pytest.approx([0.0, 5.0, 10.0, 10.0])
    assert site.relative_humidity.tolist() == pytest.approx([90.0, 80.0, 50.0, 50.0])
    series = site.at(datetime.datetime(2024, 1, 15, 6, 30), 3600, 4)  # 06:30 .. 09:30
    assert series.temp_air.tolist() == pytest.approx([5 + 5 / 3, 10.0, 10.0, 10.0])
    assert series.relative_humidity[0] == pytest.approx(70.0)
    assert series.ghi.tolist() == [weather.DEFAULT_GHI] * 4 == [0.0] * 4
    assert series.wind_speed.tolist() == [weather.DEFAULT_WIND_SPEED] * 4 == [3.0] * 4


def test_a_semicolon_file_with_decimal_commas_kelvin_and_empty_cells() -> None:
    site = weather.load(str(DATA / "semicolon.csv"))
    assert site.temp_air.tolist() == pytest.approx([0.0, 2.0, 4.0, 6.0])  # from kelvin
    assert site.relative_humidity.tolist() == pytest.approx([90.0, 85.0, 80.0, 70.0])  # 01:00 is empty
    assert site.ghi.tolist() == pytest.approx([0.0, 100.0, 200.0, 200.0])  # kW/m2; held at the end
    assert site.wind_speed.tolist() == pytest.approx([2.0, 3.0, 4.0, 6.0])
    # `24:00` ends the day: it is the next day's 00:00.
    assert site.period == (datetime.datetime(2024, 3, 1), datetime.datetime(2024, 3, 2))


def test_a_csv_file_without_humidity_gets_the_default() -> None:
    site = csv("time,temp_air\n2024-01-15 06:00,1\n2024-01-15 07:00,2\n")
    assert site.defaulted == ("relative_humidity", "ghi", "wind_speed")
    assert site.relative_humidity.tolist() == [weather.DEFAULT_RELATIVE_HUMIDITY] * 2 == [70.0] * 2


def test_trailing_delimiters_are_ignored() -> None:
    site = csv("time,temp_air,\n2024-01-15 06:00,1,\n2024-01-15 07:00,2,,\n")
    assert site.temp_air.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"time","temp_air [C]"', 5.0),  # quoted cells
        ("DateTime\tOutdoor Temperature", 5.0),  # tabs; names in any case, with spaces
        ("timestamp,weather.temp_air [C]", 5.0),  # a trend written by `hpdsl simulate`
        ("date,OAT (°F)", -15.0),
        ("time,T_out [degC],humidity (%),Wind [m/s],GHI [W/m^2],notes", 5.0),  # an unused column
    ],
)
def test_accepted_headers(header: str, expected: float) -> None:
    delimiter = "\t" if "\t" in header else ","
    width = header.count(delimiter) + 1
    rows = [f"2024-01-15 0{hour}:00" + (delimiter + "5") * (width - 1) for hour in (6, 7)]
    site = csv("\n".join([header, *rows]) + "\n")
    assert site.temp_air.tolist() == pytest.approx([expected, expected])


def test_a_run_outside_the_files_period_is_an_error() -> None:
    site = weather.load(str(DATA / "celsius.csv"))
    site.at(datetime.datetime(2024, 1, 15, 6), 3600, 5)  # exactly the file's period
    with pytest.raises(WeatherError) as early:
        site.at(datetime.datetime(2024, 1, 15, 5), 3600, 3)
    (problem,) = early.value.diagnostics
    assert problem.code == "weather-file"
    assert (problem.span.file, problem.span.line) == (site.source, 3)  # the first row
    assert problem.message == (
        "the simulation runs from 2024-01-15 05:00 to 2024-01-15 07:00, but the weather file covers"
        " only 2024-01-15 06:00 .. 2024-01-15 10:00"
    )
    assert "greensboro, sand-point" in (problem.hint or "")
    with pytest.raises(WeatherError) as late:
        site.at(datetime.datetime(2024, 1, 15, 9), 60, 62)
    assert late.value.diagnostics[0].span.line == 7  # the last row
    assert "to 2024-01-15 10:01," in late.value.diagnostics[0].message
    # Not wrapped: the same clock time a year later is not in the file either.
    with pytest.raises(WeatherError):
        site.at(datetime.datetime(2025, 1, 15, 7), 60, 10)


# --- Problems in a CSV file -----------------------------------------------------------------------

ROWS = "2024-01-15 06:00,1\n2024-01-15 07:00,2\n"

PROBLEMS = [
    # (id, file text, line, column, message, hint (a part))
    ("empty", "\n# only a comment\n", 1, 1, "the weather file is empty", "write a header row first"),
    (
        "no time column",
        "Tme,temp_air\n" + ROWS,
        1,
        1,
        "the header names no time column (`time`, `timestamp`, `date`, `datetime`)",
        "`Tme`: did you mean `time`?",
    ),
    (
        "no temperature column",
        "time,rh [%]\n2024-01-15 06:00,80\n",
        1,
        1,
        "the header names no outdoor temperature column (`temp_air`, `temperature`, `temp`,"
        " `outdoor_temp`, `outdoor_temperature`, `t_out`, `oat`)",
        "name it `temp_air`, with its unit: `temp_air [C]`",
    ),
    (
        "two temperature columns",
        "time,temp_air,Temperature\n2024-01-15 06:00,1,1\n",
        1,
        15,
        "two outdoor temperature columns: `temp_air` and `Temperature`",
        "keep one of them",
    ),
    (
        "unknown unit",
        "time,temp_air [celsius]\n" + ROWS,
        1,
        16,
        "unknown unit `celsius` for the outdoor temperature",
        "did you mean `C`? write `[C]`, `[F]` or `[K]`",
    ),
    (
        "unit of another quantity",
        "time,temp_air (kW)\n" + ROWS,
        1,
        16,
        "`kW` is not a unit of outdoor temperature",
        "write `[C]`, `[F]` or `[K]`",
    ),
    (
        "temperature difference",
        "time,temp_air [delta_F]\n" + ROWS,
        1,
        16,
        "`delta_F` is a temperature difference; a weather file holds temperatures",
        "write `[C]`, `[F]` or `[K]`",
    ),
    (
        "humidity unit",
        "time,temp_air,rh [g/kg]\n2024-01-15 06:00,1,5\n",
        1,
        19,
        "`g/kg` is not a unit of relative humidity",
        "`[1]` for a fraction",
    ),
    (
        "time with a unit",
        "time [UTC],temp_air\n" + ROWS,
        1,
        7,
        "the time column takes no unit, but the header gives it `UTC`",
        "local standard time",
    ),
    (
        "time not ISO 8601",
        "time,temp_air\n2024-01-15 06:00,1\n15/01/2024 07:00,2\n",
        3,
        1,
        "`15/01/2024 07:00` is not an ISO 8601 time",
        "such as 2024-01-15 06:00",
    ),
    (
        "time with an offset",
        "time,temp_air\n2024-01-15 06:00,1\n2024-01-15T07:00:00+01:00,2\n",
        3,
        1,
        "`2024-01-15T07:00:00+01:00` has a UTC offset, but times in a weather file are local standard time",
        "without an offset",
    ),
    (
        "no time",
        "time,temp_air\n2024-01-15 06:00,1\n ,2\n2024-01-15 07:00,2\n",
        3,
        2,
        "a row without a time",
        "or delete the row",
    ),
    (
        "not a number",
        "time,temp_air\n2024-01-15 06:00,1\n2024-01-15 07:00,warm\n",
        3,
        18,
        "`warm` is not a number",
        "write a plain number such as 21.5",
    ),
    (
        "a number with its unit",
        "time,temp_air\n2024-01-15 06:00,1\n2024-01-15 07:00, 21.5C\n",
        3,
        19,
        "`21.5C` is not a number",
        "the unit goes in the header: `temp_air [C]`",
    ),
    (
        "not finite",
        "time,temp_air\n2024-01-15 06:00,1\n2024-01-15 07:00,NaN\n",
        3,
        18,
        "`NaN` is not a finite number",
        "leave the cell empty",
    ),
    (
        "no temperature",
        "time,temp_air,rh\n2024-01-15 06:00,1,80\n2024-01-15 07:00,,80\n",
        3,
        18,
        "a row without an outdoor temperature",
        "or delete the row",
    ),
    (
        "a decimal comma",
        "time,temp_air\n2024-01-15 06:00,1\n2024-01-15 07:00,2,5\n",
        3,
        20,
        "this row has 3 values, but the header names 2 columns",
        "a decimal comma? write decimals with a point (21.5), or separate the columns with `;`",
    ),
    (
        "a short row",
        "time,temp_air,rh\n2024-01-15 06:00,1,80\n2024-01-15 07:00,2\n",
        3,
        19,
        "this row has 2 values, but the header names 3 columns",
        "leave a cell empty for a missing value",
    ),
    (
        "time goes back",
        "time,temp_air\n2024-01-15 06:00,1\n2024-01-15 08:00,1\n2024-01-15 07:00,2\n",
        4,
        1,
        "time 2024-01-15 07:00 is before the time 2024-01-15 08:00 of line 3",
        "sort the rows by time",
    ),
    (
        "time repeats",
        "time,temp_air\n2024-01-15 06:00,1\n2024-01-15 07:00,1\n2024-01-15T07:00,2\n",
        4,
        1,
        "time 2024-01-15 07:00 repeats the time 2024-01-15 07:00 of line 3",
        "remove repeated rows",
    ),
    (
        "one row",
        "# a comment first\ntime,temp_air\n2024-01-15 06:00,1\n",
        2,
        1,
        "the weather file has 1 data row; at least 2 are needed to interpolate between them",
        "the start and the end",
    ),
    (
        "fahrenheit read as celsius",
        "time,temp_air\n2024-01-15 06:00,50\n2024-01-15 07:00,95.5\n2024-01-15 08:00,97\n",
        3,
        18,
        "outdoor temperature 95.5C is outside the plausible range -90C .. 65C",
        "is the unit right? give it in the header, such as `temp_air [F]`",
    ),
    (
        "irradiance",
        "time,temp_air,ghi [W/m2]\n2024-01-15 06:00,1,0\n2024-01-15 07:00,2,2000\n",
        3,
        20,
        "global horizontal irradiance 2000 W/m2 is outside the plausible range -20 W/m2 .. 1500 W/m2",
        "write `[W/m2]` or `[kW/m2]`",
    ),
    (
        "humidity as a fraction",
        "time,temp_air,rh\n2024-01-15 06:00,1,0.8\n2024-01-15 07:00,2,0.7\n",
        1,
        15,
        "every relative humidity is at most 1 %, which does not occur outdoors; is `rh` a fraction?",
        "`rh [1]`",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "message", "hint"),
    [case[1:] for case in PROBLEMS],
    ids=[case[0] for case in PROBLEMS],
)
def test_a_problem_in_a_csv_file_is_a_diagnostic_at_its_line_and_column(
    text: str, line: int, column: int, message: str, hint: str
) -> None:
    ((found_line, found_column, found_message, found_hint),) = problems(text)
    assert (found_line, found_column, found_message) == (line, column, message)
    assert hint in found_hint


def test_every_problem_is_reported_in_file_order() -> None:
    text = "time,temp_air\n2024-01-15 06:00,x\n2024-01-15 07:00,1\nnoon,2\n2024-01-15 09:00,3,4\n"
    assert [(line, column) for line, column, _, _ in problems(text)] == [(2, 18), (4, 1), (5, 20)]


def test_an_implausible_column_is_one_problem_with_a_count() -> None:
    rows = "".join(f"2024-01-15 {hour:02}:00,{70 + hour}\n" for hour in range(10))
    with pytest.raises(WeatherError) as caught:
        csv("time,temp_air\n" + rows)
    (problem,) = caught.value.diagnostics
    assert problem.span.line == 2 and problem.message.startswith("outdoor temperature 70C")
    assert [note.message for note in problem.notes] == [
        "9 more rows of this column are outside the range too"
    ]


def test_more_problems_than_the_limit_are_counted() -> None:
    rows = "".join(f"2024-01-15 {hour:02}:00,x\n" for hour in range(weather.MAX_DIAGNOSTICS + 4))
    with pytest.raises(WeatherError) as caught:
        csv("time,temp_air\n" + rows)
    diagnostics = caught.value.diagnostics
    assert len(diagnostics) == weather.MAX_DIAGNOSTICS
    assert diagnostics[-1].notes[-1].message == "4 more problems in this file are not shown"


def test_a_problem_renders_with_the_line_and_a_caret_under_the_cell() -> None:
    with pytest.raises(WeatherError) as caught:
        csv("time,temp_air [C]\n2024-01-15 06:00,1\n2024-01-15 07:00,warm\n", name="roof.csv")
    text = render_text(caught.value.diagnostics, caught.value.sources)
    assert text.splitlines()[:4] == [
        "roof.csv:3:18: error: `warm` is not a number [weather-file]",
        " 3 | 2024-01-15 07:00,warm",
        "   |                  ^~~~",
        "  = hint: write a plain number such as 21.5, or leave the cell empty for a missing value",
    ]


def test_a_unit_inside_quotes_is_pointed_at() -> None:
    ((line, column, message, _),) = problems('"time","temp_air [F°]"\n' + ROWS)
    assert (line, column) == (1, 19) and message == "unknown unit `F°` for the outdoor temperature"


def test_a_binary_file_is_reported_by_the_shared_reader(tmp_path: Path) -> None:
    path = tmp_path / "weather.csv"
    path.write_bytes(b"time,temp_air\n\x00\x01")
    with pytest.raises(WeatherError) as caught:
        weather.load(str(path))
    assert [d.code for d in caught.value.diagnostics] == ["bad-encoding"]


def test_a_file_larger_than_the_limit_is_reported_in_weather_words(tmp_path: Path) -> None:
    path = tmp_path / "minutes.csv"
    row = b"2024-01-15 06:00,1.0\n"
    path.write_bytes(b"time,temp_air\n" + row * (MAX_FILE_BYTES // len(row) + 1))
    with pytest.raises(WeatherError) as caught:
        weather.load(str(path))
    (problem,) = caught.value.diagnostics
    assert problem.code == "weather-file" and problem.span.line == 1
    assert problem.message.startswith("the weather file is ")
    assert "resample it" in (problem.hint or "")


# --- docs/weather.md -----------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "weather.md"


def fenced(info: str) -> list[str]:
    """The bodies of the ```info blocks of docs/weather.md."""
    return re.findall(rf"^```{info}\n(.*?)^```$", DOCS.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def test_docs_example_file_reads_as_it_says() -> None:
    (example,) = fenced("csv")
    site = csv(example)
    assert site.temp_air[0] == pytest.approx(-2.0)  # 28.4F
    assert site.ghi[1] == pytest.approx(60.0)  # the empty cell: halfway between 0 and 120
    assert site.period == (datetime.datetime(2024, 1, 15, 6), datetime.datetime(2024, 1, 15, 10))


def test_docs_show_the_diagnostics_as_they_are_printed() -> None:
    blocks = fenced("text")
    for text in (
        "time,temp_air (kelvin),rh [%]\n2024-01-15 06:00,271.2,88\n",
        "time,temp_air\n2024-01-15 06:00,50\n2024-01-15 07:00,95.5\n2024-01-15 08:00,97\n",
    ):
        with pytest.raises(WeatherError) as caught:
            csv(text)
        printed = render_text(caught.value.diagnostics, caught.value.sources)
        assert printed.rsplit("\n", 2)[0] + "\n" in blocks


def test_docs_list_every_column_name_and_default() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for names in weather.COLUMN_NAMES.values():
        for name in names:
            assert f"`{name}`" in text, name
    assert "| 70 % |" in text and "| 0 W/m2 |" in text and "| 3 m/s |" in text
    assert (weather.DEFAULT_RELATIVE_HUMIDITY, weather.DEFAULT_GHI, weather.DEFAULT_WIND_SPEED) == (70, 0, 3)
    for name, file in weather.BUILTIN.items():
        assert f"| `{name}` |" in text and f"`{file}`" in text


# --- Naming the weather ---------------------------------------------------------------------------


def test_an_unknown_name_is_a_usage_error_naming_the_choices() -> None:
    with pytest.raises(UsageError) as caught:
        weather.load("greensborough")
    assert str(caught.value) == (
        "no built-in weather `greensborough` and no such file; the built-in weather is"
        " `greensboro`, `sand-point` (did you mean `greensboro`?)"
    )


def test_a_missing_file_or_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=re.escape("`greensboro`, `sand-point`")):
        weather.load(str(tmp_path / "missing.csv"))
    with pytest.raises(UsageError, match="is a folder"):
        weather.load(str(tmp_path))


def test_builtin_names_are_the_files_inside_pvlib() -> None:
    assert weather.BUILTIN == {"greensboro": "723170TYA.CSV", "sand-point": "703165TY.csv"}


def test_sampling_a_csv_file_matches_an_interpolation_written_out() -> None:
    rng = random.Random(7)
    start = datetime.datetime(2024, 2, 28, 22)
    moments = [start]
    for _ in range(50):
        moments.append(moments[-1] + datetime.timedelta(seconds=rng.choice([60, 600, 3600, 5400])))
    temperatures = [round(rng.uniform(-15, 15), 1) for _ in moments]
    text = "time,temp_air\n" + "".join(
        f"{m:%Y-%m-%d %H:%M},{t}\n" for m, t in zip(moments, temperatures, strict=True)
    )
    site = csv(text)
    step = 97.0
    count = int((moments[-1] - start).total_seconds() // step) + 1
    series = site.at(start, step, count)
    for i in range(0, count, 13):
        moment = start + datetime.timedelta(seconds=step * i)
        after = next(k for k, m in enumerate(moments) if m >= moment)
        if moments[after] == moment:
            expected = temperatures[after]
        else:
            share = (moment - moments[after - 1]) / (moments[after] - moments[after - 1])
            expected = temperatures[after - 1] + share * (temperatures[after] - temperatures[after - 1])
        assert series.temp_air[i] == pytest.approx(expected), moment
