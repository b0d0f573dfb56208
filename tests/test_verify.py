"""`hpdsl verify`: a trend log compared with what the rules would have done.

The trends are recorded here by running the compiled shipped package with scripted field
inputs, two days at one-minute scans: the outdoor air swings from 1C to 25C and back each
day, so `Changeover.system_mode` crosses its dead band (15C .. 21C) four times, and on the
cold nights the coil frosts so that defrosts run (outdoor air below 7C at 85 % RH, the coil
6 K colder; the coil outlet warms 3 min into a defrost and stays warm for 10 min after it).
The other sensors read the healthy values of rules/scenarios/defrost.scenario.

An unmodified recording must verify clean; a seeded fault must be found on its point, at the
time it happened; a messy export of the same recording (other units, a row of units, bare
names, rows lost, cells blank, rows out of order) must still verify clean.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from hpdsl import cli
from hpdsl.sim import loaded as loaded_
from hpdsl.sim.trend import Trend, write

RULES = Path(__file__).resolve().parent.parent / "rules"
FIXTURES = Path(__file__).resolve().parent / "data" / "verify"
START = datetime.datetime(2024, 1, 1)
STEP_S = 60.0
HOURS = 48

HEALTHY = {
    "PlantSignals.compressor_running_status": True,
    "PlantSignals.load_demand_signal": 50.0,
    "PlantSignals.supply_water_temp_sensor": 40.0,
    "PlantSignals.return_water_temp_sensor": 36.0,
    "PlantSignals.source_water_temp_sensor": 10.0,
    "PlantSignals.electrical_power_meter": 8.0,
    "PlantSignals.alarm_reset_button": False,
    "EquipmentProtection.discharge_temp": 60.0,
    "EquipmentProtection.suction_pressure": 8.0,
    "EquipmentProtection.discharge_pressure": 20.0,
    "EquipmentProtection.compressor_current": 10.0,
    "Performance.load_flow": 1.2,
    "AuxHeat.required_heat": 20.0,
    "DefrostControl.outdoor_humidity": 85.0,
    "PlantSignals.space_temp_sensor": 21.0,
    "Occupancy.occupancy_override": False,
    "SupplyTemperatureCheck.supply_temp_target": 40.0,
    "AuxHeat.aux_stage_1_proven": False,  # the aux heat is locked out above the balance point
    "AuxHeat.aux_stage_2_proven": False,
    # PerformanceTracking.time_since_commissioning is never wired: the controller runs with it
    # faulted, and a log that leaves its column out must still verify clean.
}


def outdoor_temp(t: float) -> float:
    """1C at 03:00, 25C at 15:00."""
    return 13.0 + 12.0 * math.sin(2 * math.pi * (t - 9 * 3600) / 86400)


def record(loaded: loaded_.LoadedPackage) -> Trend:
    """Run the package as a controller would and trend every point after every scan."""
    package = loaded.new(START)
    points = {p.column: p for p in loaded.points}

    def put(column: str, value: object) -> None:
        point = points[column]
        setattr(getattr(package, point.instance), point.attribute, value)

    for column, value in HEALTHY.items():
        put(column, value)
    recorder = loaded_.Recorder(loaded, package)
    rows = int(HOURS * 3600 / STEP_S) + 1
    defrost_since: float | None = None
    warm_until = 0.0
    for i in range(rows):
        t = i * STEP_S
        put("PlantSignals.outdoor_temp_sensor", round(outdoor_temp(t), 3))
        put("PlantSignals.outdoor_coil_temp_sensor", round(outdoor_temp(t) - 6.0, 3))
        if package.defrost_control.defrost_cycle_active:
            defrost_since = t if defrost_since is None else defrost_since
            warm_until = t + 600.0
        elif defrost_since is not None and t > warm_until:
            defrost_since = None
        warm = defrost_since is not None and t - defrost_since >= 180.0
        put("DefrostControl.coil_outlet_temp", 20.0 if warm else 0.0)
        package.scan(0.0 if i == 0 else STEP_S)
        recorder.record()
    stamps = np.datetime64(START, "ms") + (np.arange(rows) * STEP_S * 1000).astype("timedelta64[ms]")
    trend = Trend(stamps)
    recorder.into(trend)
    return trend


@pytest.fixture(scope="module")
def loaded() -> loaded_.LoadedPackage:
    result = loaded_.load([RULES])
    assert isinstance(result, loaded_.LoadedPackage)
    return result


@pytest.fixture(scope="module")
def recorded(loaded: loaded_.LoadedPackage) -> Trend:
    trend = record(loaded)
    # The scenario this file relies on: the mode changes over, and defrosts run.
    assert len(np.flatnonzero(np.diff(trend["Changeover.system_mode"].values))) == 4
    assert trend["DefrostControl.defrost_cycle_active"].values.sum() > 20
    return trend


@pytest.fixture(scope="module")
def clean_csv(recorded: Trend, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trends") / "clean.csv"
    write(recorded, path)
    return path


def copy(trend: Trend) -> Trend:
    """A trend whose columns can be changed without changing the original."""
    result = trend.slice(0, len(trend))
    for column in result.columns.values():
        column.values = column.values.copy()
    return result


def verify(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["verify", str(RULES), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def stamp(trend: Trend, row: int) -> datetime.datetime:
    return START + datetime.timedelta(seconds=float(trend.seconds()[row]))


def departures(output: str) -> dict[str, datetime.datetime]:
    """{point: first departure} from the text report."""
    found: dict[str, datetime.datetime] = {}
    lines = [line.strip() for line in output.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("DEPARTED "):
            first = lines[index + 1].split("first at ")[1][:19]
            found[line.split()[1]] = datetime.datetime.fromisoformat(first)
    return found


# --- Clean and faulty recordings ----------------------------------------------------------------


def test_an_unmodified_recording_verifies_clean(capsys: pytest.CaptureFixture[str], clean_csv: Path) -> None:
    code, out, err = verify(capsys, "--trend", str(clean_csv))
    assert code == 0, out + err
    assert "DEPARTED" not in out
    # Every output, total, counter, machine state and alarm the trend holds is compared.
    compared = int(out.splitlines()[-1].split()[0])
    assert compared > 100
    assert out.splitlines()[-1].startswith(f"{compared} points compared, 0 departed (2881 rows,")


def test_a_mode_switched_2K_early_is_found_where_it_happened(
    capsys: pytest.CaptureFixture[str], recorded: Trend, tmp_path: Path
) -> None:
    # The controller switches to Heating below 17C instead of 15C: the recorded mode is the
    # hysteresis of the outdoor temperature the rules saw, with the low threshold 2 K higher.
    faulty = copy(recorded)
    mode = faulty["Changeover.system_mode"].values
    state = 0  # Heating, the mode at start-up
    for row, temp in enumerate(faulty["PlantSignals.outdoor_temp"].values):
        state = 0 if temp < 17.0 else 1 if temp > 21.0 else state
        mode[row] = state
    changed = np.flatnonzero(mode != recorded["Changeover.system_mode"].values)
    assert len(changed) > 60  # half an hour and more on each of the two evenings
    path = tmp_path / "mode.csv"
    write(faulty, path)

    code, out, err = verify(capsys, "--trend", str(path))

    assert code == 1, out + err
    found = departures(out)
    assert list(found) == ["Changeover.system_mode"]
    assert abs(found["Changeover.system_mode"] - stamp(recorded, int(changed[0]))) <= datetime.timedelta(
        minutes=1
    )
    assert "the controller Heating, the rules Cooling" in out
    assert out.splitlines()[-1].split(",")[1].strip().startswith("1 departed in 1 group")
    # 17C lies beyond the declared range of heating_below (5C .. 16C): no value in it explains
    # the departure, and the report says which comes closest, at the end of the range.
    assert "system_mode is written at rules/changeover.rules:62, rules/changeover.rules:63" in out
    assert re.search(
        r"closest: Changeover\.heating_below \(rules/changeover\.rules:25\) = 15\.\d+C leaves \d+ of \d+"
        r" samples outside .* \(near an end of its declared range",
        out,
    ), out


def test_a_site_setpoint_explains_the_departures_it_causes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The controller runs with cooling_above = 23C where the rules have 21C: its mode, and all
    # that follows from the mode, part from the rules; one group, explained by that parameter.
    site = tmp_path / "site.toml"
    site.write_text('[Changeover]\ncooling_above = "23C"\n', encoding="utf-8")
    controller = loaded_.load([RULES], site)
    assert isinstance(controller, loaded_.LoadedPackage)
    path = tmp_path / "site.csv"
    write(record(controller), path)

    code, out, err = verify(capsys, "--trend", str(path))

    assert code == 1, out + err
    groups = [line for line in out.splitlines() if line.startswith("GROUP ")]
    assert len(groups) == 1, out
    assert groups[0].startswith("GROUP 1: Changeover.system_mode and "), out
    explained = re.search(
        r"explained by Changeover\.cooling_above \(rules/changeover\.rules:23\): .* with"
        r" ([\d.]+)C(?: \.\. ([\d.]+)C)?; the rules have 21C",
        out,
    )
    assert explained is not None, out
    low = float(explained.group(1))
    high = float(explained.group(2) or low)
    assert low <= 23.0 + 0.05 and high >= 23.0 - 0.05, out
    assert len(departures(out)) > 1  # the mode's followers depart with it, in the same group


def test_chunks_give_the_result_of_the_whole(
    recorded: Trend, loaded: loaded_.LoadedPackage, tmp_path: Path
) -> None:
    """The file read, replayed and compared in chunks of a few hours gives what one chunk gives."""
    from hpdsl.sim.verify import compare, report, results
    from hpdsl.sim.verify.command import _import_pyfunnel

    faulty = copy(recorded)
    active = faulty["DefrostControl.defrost_cycle_active"].values
    start = int(np.argmax(active))
    active[start:] = True  # a defrost that never ends: departures in every chunk after it
    faulty["Changeover.system_mode"].values[1500:1530] = (
        1 - faulty["Changeover.system_mode"].values[1500:1530]
    )
    path = tmp_path / "faulty.csv"
    write(faulty, path)
    found = []
    for rows in (100_000, 300, 97):
        result = compare.verify(loaded, path, results.Settings(chunk_rows=rows), None, _import_pyfunnel())
        shown = report.report_json(result)
        found.append((shown["points"], shown["groups"], shown["departed"]))
    assert found[0][2] >= 2
    assert found[1] == found[0]
    assert found[2] == found[0]


def test_a_defrost_that_never_ends_is_found_at_its_real_end(
    capsys: pytest.CaptureFixture[str], recorded: Trend, tmp_path: Path
) -> None:
    faulty = copy(recorded)
    active = faulty["DefrostControl.defrost_cycle_active"].values
    start = int(np.argmax(active))
    end = start + int(np.argmin(active[start:]))  # the first row after the defrost
    assert end - start >= 2
    active[start:] = True
    path = tmp_path / "stuck.csv"
    write(faulty, path)
    out_dir = tmp_path / "out"

    code, out, err = verify(capsys, "--trend", str(path), "-o", str(out_dir))

    assert code == 1, out + err
    found = departures(out)
    assert list(found) == ["DefrostControl.defrost_cycle_active"]
    assert abs(found["DefrostControl.defrost_cycle_active"] - stamp(recorded, end)) <= datetime.timedelta(
        minutes=1
    )
    # pyfunnel's files and the plot exist for the failing point only.
    assert sorted(p.name for p in out_dir.iterdir()) == ["DefrostControl.defrost_cycle_active", "summary.csv"]
    folder = out_dir / "DefrostControl.defrost_cycle_active"
    assert {p.name for p in folder.iterdir()} == {
        "errors.csv",
        "lowerBound.csv",
        "upperBound.csv",
        "reference.csv",
        "test.csv",
        "plot.png",
    }
    assert (folder / "plot.png").read_bytes().startswith(b"\x89PNG")
    errors = np.loadtxt(folder / "errors.csv", delimiter=",", skiprows=1)
    first_error_s = errors[errors[:, 1] > 0][0, 0]
    assert first_error_s == pytest.approx(
        (found["DefrostControl.defrost_cycle_active"] - START).total_seconds()
    )
    with (out_dir / "summary.csv").open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["point"] for r in rows if r["departed"] == "true"] == ["DefrostControl.defrost_cycle_active"]
    assert len(rows) == int(out.splitlines()[-1].split()[0])
    stuck = next(r for r in rows if r["departed"] == "true")
    assert stuck["first_departure"] == found["DefrostControl.defrost_cycle_active"].isoformat(sep=" ")
    assert float(stuck["time_outside_s"]) > 40 * 3600


def test_json_report_for_tools(capsys: pytest.CaptureFixture[str], recorded: Trend, tmp_path: Path) -> None:
    faulty = copy(recorded)
    faulty["DefrostControl.defrost_cycle_active"].values[600:] = True
    path = tmp_path / "stuck.csv"
    write(faulty, path)

    code, out, _ = verify(capsys, "--trend", str(path), "--format", "json", "--points", "DefrostControl.*")

    assert code == 1
    report = json.loads(out)
    assert report["departed"] == 1 and report["ok"] is False
    assert all(p["point"].startswith("DefrostControl.") for p in report["points"])
    (stuck,) = [p for p in report["points"] if p["departed"]]
    assert stuck["point"] == "DefrostControl.defrost_cycle_active"
    assert stuck["controller_at_first_departure"] is True
    assert stuck["rules_at_first_departure"] is False
    assert stuck["time_tolerance_s"] == 60.0 and stuck["value_tolerance"] == 0.0


# --- Messy recordings -----------------------------------------------------------------------------


def test_fahrenheit_columns_are_converted(
    capsys: pytest.CaptureFixture[str], clean_csv: Path, tmp_path: Path
) -> None:
    with clean_csv.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    celsius = [i for i, header in enumerate(rows[0]) if header.endswith(" [C]")]
    assert len(celsius) > 10
    for number, i in enumerate(celsius):  # both header styles exports use
        name = rows[0][i][: -len(" [C]")]
        rows[0][i] = f"{name} [F]" if number % 2 else f"{name} (degF)"
        for row in rows[1:]:
            row[i] = "" if row[i] in ("", "nan") else repr(float(row[i]) * 1.8 + 32.0)
    path = tmp_path / "fahrenheit.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)

    code, out, err = verify(capsys, "--trend", str(path))

    assert code == 0, out + err
    assert err == ""
    assert " 0 departed (2881 rows," in out


def messy_export(clean_csv: Path, path: Path) -> None:
    """The clean recording as a real BAS export might give it.

    10 % of the rows lost (seed fixed), 3 % of the cells of five columns blank, units in a
    second header row, one input named without its program, a notes column, a field input
    whose column the export left out, two rows swapped and two rows repeated at the end.
    """
    rng = np.random.default_rng(7)
    with clean_csv.open(encoding="utf-8", newline="") as stream:
        header, *rows = list(csv.reader(stream))
    kept = [row for index, row in enumerate(rows) if index == 0 or rng.random() >= 0.10]
    for name in (
        "PlantSignals.outdoor_temp_sensor [C]",  # an input: held at its last value
        "DefrostControl.outdoor_humidity [%]",
        "Occupancy.heating_setpoint [C]",  # outputs: not compared there
        "CompressorStaging.stage_1_speed",
        "PerformanceTracking.heat_delivered_today [kWh]",
    ):
        column = header.index(name)
        for row in kept[1:]:
            if rng.random() < 0.03:
                row[column] = ""
    dropped = header.index("PerformanceTracking.time_since_commissioning [d]")
    header = [h.replace("DefrostControl.outdoor_humidity", "outdoor_humidity") for h in header]
    kept[50], kept[51] = kept[51], kept[50]
    kept += [kept[100], kept[200]]
    names = [h.split(" [")[0] for h in header]
    units = [h.split(" [")[1].rstrip("]") if " [" in h else "" for h in header]
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        notes = {id(names): "Notes", id(units): ""}
        for row in [names, units, *kept]:
            writer.writerow([cell for i, cell in enumerate(row) if i != dropped] + [notes.get(id(row), "ok")])


def test_a_messy_export_still_verifies_clean(
    capsys: pytest.CaptureFixture[str], clean_csv: Path, tmp_path: Path
) -> None:
    path = tmp_path / "messy.csv"
    messy_export(clean_csv, path)

    code, out, err = verify(capsys, "--trend", str(path))

    assert "error" not in err
    assert "1 column the package does not have, ignored: `Notes`" in err
    assert "no column for 1 field input: `PerformanceTracking.time_since_commissioning`" in err
    assert "rows earlier than the row before; the rows are sorted by time" in err
    assert "2 rows repeat the time stamp of another row; the last of each is kept" in err
    # The log lost an input for a few minutes somewhere: a change hidden there reaches the
    # rules that late, more than the default time tolerance (one sample) allows, and verify
    # says which tolerance the log's gaps need.
    suggested = re.search(r"hint: give --time-tolerance (\d+min)", err)
    assert suggested is not None, err

    code, out, err = verify(capsys, "--trend", str(path), "--time-tolerance", suggested.group(1))

    assert code == 0, out + err
    assert "DEPARTED" not in out
    assert "--time-tolerance" not in err
    rows = len(path.read_text(encoding="utf-8").splitlines()) - 2 - 2  # header, units, repeated rows
    assert f" 0 departed ({rows} rows," in out


def test_faults_are_still_found_in_a_messy_export(
    capsys: pytest.CaptureFixture[str], recorded: Trend, tmp_path: Path
) -> None:
    faulty = copy(recorded)
    active = faulty["DefrostControl.defrost_cycle_active"].values
    start = int(np.argmax(active))
    end = start + int(np.argmin(active[start:]))
    active[start:] = True
    clean = tmp_path / "stuck.csv"
    write(faulty, clean)
    path = tmp_path / "messy-stuck.csv"
    messy_export(clean, path)

    code, out, _ = verify(capsys, "--trend", str(path), "--time-tolerance", "5min")

    assert code == 1
    found = departures(out)
    assert list(found) == ["DefrostControl.defrost_cycle_active"]
    # Within the time tolerance, and the one-minute row the departure shows in.
    assert abs(found["DefrostControl.defrost_cycle_active"] - stamp(recorded, end)) <= datetime.timedelta(
        minutes=6
    )


def test_parquet_trend(capsys: pytest.CaptureFixture[str], recorded: Trend, tmp_path: Path) -> None:
    path = tmp_path / "trend.parquet"
    write(recorded, path)
    code, out, err = verify(capsys, "--trend", str(path), "--points", "Changeover.*")
    assert code == 0, out + err
    # Changeover's four points, and the alarms cycle_time_fault and parameter_fault every program has
    assert out.splitlines()[-1].startswith("6 points compared, 0 departed (2881 rows,")


# --- Files that cannot be used ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "line", "column", "message"),
    [
        pytest.param(
            "no-time-column.csv", 1, 1, "no time column: the header row names `when`", id="no-time-column"
        ),
        pytest.param("bad-time.csv", 4, 5, "`01/13/2024 25:61` is not a time stamp", id="unparseable-time"),
        pytest.param(
            "negative-year.csv",
            2,
            1,
            "`-2024-01-01 00:00:00` is outside the years 1-9999",
            id="negative-year",
        ),
        pytest.param("empty.csv", 1, 1, "the trend file is empty", id="empty"),
        pytest.param("header-only.csv", 2, 1, "the trend has no rows after the header", id="no-rows"),
        pytest.param("export.xlsx", 1, 6, "the file is not CSV text", id="not-a-csv"),
    ],
)
def test_an_unusable_file_is_a_trend_file_diagnostic(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    line: int,
    column: int,
    message: str,
) -> None:
    monkeypatch.chdir(FIXTURES)
    code, out, err = verify(capsys, "--trend", name)
    assert code == 1
    assert out == ""
    assert "Traceback" not in err
    first = err.splitlines()[0]
    assert first.startswith(f"{name}:{line}:{column}: error: {message}")
    assert first.endswith("[trend-file]")
    assert "= hint:" in err

    code, out, _ = verify(capsys, "--trend", name, "--format", "json")
    assert code == 1
    (diagnostic,) = json.loads(out)["diagnostics"]
    assert (diagnostic["code"], diagnostic["line"], diagnostic["column"]) == ("trend-file", line, column)


def test_a_parquet_time_beyond_the_calendar_is_a_diagnostic(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "ancient.parquet"
    times = pa.array([-70_000_000_000_000, -69_999_999_940_000], type=pa.timestamp("ms"))
    pq.write_table(pa.table({"time": times, "Changeover.system_mode": ["Heating", "Heating"]}), path)
    code, out, err = verify(capsys, "--trend", str(path))
    assert (code, out, "Traceback" in err) == (1, "", False)
    assert "is outside the years 1-9999" in err and "[trend-file]" in err


def csv_file(path: Path, output: str, rows: list[str]) -> Path:
    """A trend of the outdoor temperature and one output, its rows written as given."""
    path.write_text(
        f"time,PlantSignals.outdoor_temp_sensor [C],{output}\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    return path


def test_a_stray_year_9999_is_refused_before_any_replay(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = [f"2024-01-01 00:{minute:02d}:00,4.5,Heating" for minute in range(11)]
    path = csv_file(
        tmp_path / "stray.csv", "Changeover.system_mode", [*rows, "9999-01-01 00:00:00,4.5,Heating"]
    )
    code, out, err = verify(capsys, "--trend", str(path))
    assert (code, out, "Traceback" in err) == (1, "", False)
    assert "stray.csv:13:1: error: replaying the trend takes 4,194,444,961 scans" in err
    assert "verify replays at most 50,000,000 [trend-file]" in err


def test_an_infinite_count_is_a_departure_not_a_crash(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = ["2024-01-01 00:00:00,4.5,0", "2024-01-01 00:01:00,4.5,inf"]
    path = csv_file(tmp_path / "inf.csv", "SupervisoryAlarms.defrost_timeouts_today", rows)
    code, out, err = verify(capsys, "--trend", str(path))
    assert (code, "Traceback" in err) == (1, False)
    assert "DEPARTED SupervisoryAlarms.defrost_timeouts_today" in out
    assert "the controller infinite, the rules 0" in out


def test_a_trend_without_outputs_has_nothing_to_compare(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "inputs.csv"
    path.write_text("time,PlantSignals.outdoor_temp_sensor [C]\n2024-01-01 00:00:00,4.5\n", encoding="utf-8")
    code, _, err = verify(capsys, "--trend", str(path))
    assert code == 1
    assert "error: the trend holds none of the package's outputs" in err


# --- The command line -------------------------------------------------------------------------------


def test_outdir_that_is_not_a_verify_output_is_refused(
    capsys: pytest.CaptureFixture[str], recorded: Trend, tmp_path: Path
) -> None:
    faulty = copy(recorded)
    faulty["Changeover.system_mode"].values[800:900] = 0
    path = tmp_path / "mode.csv"
    write(faulty, path)
    out_dir = tmp_path / "results"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("commissioning notes\n", encoding="utf-8")

    code, out, err = verify(capsys, "--trend", str(path), "-o", str(out_dir), "--points", "Changeover.*")
    assert code == 2
    assert "will not write into" in err and "--force" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["notes.txt"]

    code, out, err = verify(
        capsys, "--trend", str(path), "-o", str(out_dir), "--points", "Changeover.*", "--force"
    )
    assert code == 1
    assert sorted(p.name for p in out_dir.iterdir()) == ["Changeover.system_mode", "notes.txt", "summary.csv"]

    # An earlier verify's results are replaced without --force, and nothing stale stays.
    (out_dir / "notes.txt").unlink()
    plot = (out_dir / "Changeover.system_mode" / "plot.png").read_bytes()
    code, out, err = verify(capsys, "--trend", str(path), "-o", str(out_dir), "--points", "Changeover.*")
    assert code == 1
    assert (out_dir / "Changeover.system_mode" / "plot.png").read_bytes() == plot  # deterministic
    write(recorded, path)
    code, out, err = verify(capsys, "--trend", str(path), "-o", str(out_dir), "--points", "Changeover.*")
    assert code == 0, out + err
    assert sorted(p.name for p in out_dir.iterdir()) == ["summary.csv"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        pytest.param(
            ["--tolerance", "Changeover.mode=1"], "the package has no point `Changeover.mode`", id="unknown"
        ),
        pytest.param(
            ["--tolerance", "Changeover.system_mode=1"], "enum points are compared exactly", id="enum"
        ),
        pytest.param(["--tolerance", "PlantSignals.outdoor_temp=2 kW"], "cannot convert", id="unit"),
        pytest.param(["--time-tolerance", "2 kW"], "is not a duration", id="duration"),
        pytest.param(["--default-tolerance", "0.01"], "is not a percentage", id="percent"),
        pytest.param(["--step", "0"], "--step must be longer than 0 s", id="step"),
    ],
)
def test_usage_errors(
    capsys: pytest.CaptureFixture[str], clean_csv: Path, option: list[str], message: str
) -> None:
    code, out, err = verify(capsys, "--trend", str(clean_csv), *option)
    assert code == 2
    assert message in err
    assert out == ""


def test_a_tolerance_is_given_in_any_unit_of_the_quantity(
    capsys: pytest.CaptureFixture[str], recorded: Trend, tmp_path: Path
) -> None:
    # The recorded outdoor temperature reads 1.5 K high from row 1000 on: outside the default
    # tolerance (1 % of its declared range, -40C .. 60C: 1 K), inside 3.6 delta_F (2 K).
    faulty = copy(recorded)
    faulty["PlantSignals.outdoor_temp"].values[1000:] += 1.5
    path = tmp_path / "offset.csv"
    write(faulty, path)
    code, out, _ = verify(capsys, "--trend", str(path), "--points", "PlantSignals.outdoor_temp")
    assert code == 1 and "DEPARTED PlantSignals.outdoor_temp" in out
    code, out, err = verify(
        capsys,
        "--trend",
        str(path),
        "--points",
        "PlantSignals.outdoor_temp",
        "--tolerance",
        "outdoor_temp=3.6 delta_F",
    )
    assert code == 0, out + err


def test_help_lists_verify(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["verify", "--help"]) == 0
    out = capsys.readouterr().out
    for option in (
        "--trend",
        "--time-tolerance",
        "--tolerance",
        "--default-tolerance",
        "--points",
        "--step",
        "-o",
    ):
        assert option in out


@pytest.mark.parametrize("gap", [False, True])
def test_a_chunk_is_tallied_at_once_and_ranges_only_for_the_ranged_rows(gap: bool) -> None:
    # Three points over five rows: the first two ranged (real points), the third a flag, whose
    # tolerance is never a share of a range. With a gap, the second point has no recording at
    # rows 0 and 4: those rows are left out of its samples, range and first/last rows.
    from hpdsl.sim.verify.compare import Tally, _tally_chunk

    replayed = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [-8.0, 0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 1.0, 0.0, 0.0]])
    recorded = replayed + np.array(
        [[0.0, 0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, -2.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0]]
    )
    if gap:
        recorded[1, [0, 4]] = np.nan
    seconds = np.arange(100.0, 600.0, 100.0)
    tallies = [Tally(), Tally(), Tally()]
    _tally_chunk(tallies, replayed, recorded, seconds, 1000, ranged=2)
    first, second, flag = tallies
    assert first.samples == 5 and first.excess == [0.5] and (first.low, first.high) == (1.0, 5.0)
    assert first.largest == 5.0 and first.largest_reference == 5.0
    assert (first.first_row, first.last_row, first.first_x) == (1000, 1004, [100.0])
    assert second.excess == [2.0]
    if gap:
        assert second.samples == 3 and (second.low, second.high) == (0.0, 1.0)
        assert (second.first_row, second.last_row, second.first_x) == (1001, 1003, [200.0])
        assert second.largest_reference == 2.0  # of the replay where both have a value
    else:
        assert second.samples == 5 and (second.low, second.high) == (-8.0, 3.0)
        assert (second.first_row, second.last_row) == (1000, 1004) and second.largest_reference == 8.0
    assert flag.samples == 5 and flag.excess == [1.0]
    assert (flag.low, flag.high, flag.largest, flag.largest_reference) == (np.inf, -np.inf, 0.0, 0.0)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_stretch_replayed_from_the_state_before_it_tallies_as_the_whole_pass(
    loaded: loaded_.LoadedPackage,
    recorded: Trend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
) -> None:
    """The first pass over rows [cut, end), run from the rules' state at `cut` (a replay that
    records nothing), and the pass over [0, cut) join into the tallies of one pass over all;
    a Parquet file's row groups before the cut are not read for the second stretch."""
    import pickle

    from hpdsl.base.progress import Progress
    from hpdsl.sim import trend as trend_module
    from hpdsl.sim.verify import compare, results
    from hpdsl.sim.verify.replay import Replayer

    faulty = copy(recorded)
    faulty["Changeover.system_mode"].values[1500:1530] = (
        1 - faulty["Changeover.system_mode"].values[1500:1530]
    )
    monkeypatch.setattr(trend_module, "ROW_GROUP_ROWS", 500)
    path = tmp_path / f"faulty{suffix}"
    write(faulty, path)
    quiet = Progress("verify", False)
    opened = compare.open_comparison(loaded, path, results.Settings(chunk_rows=700), quiet)
    assert isinstance(opened, compare.Comparison)
    cut, rows = 1750, len(opened.recording.time_ms)
    opened.with_cuts([cut])
    assert opened.cuts == [0, 700, 1400, 1750, 2100, 2800, rows]
    whole = compare.first_pass(opened, Replayer(loaded, opened.recording, STEP_S), opened.cuts, quiet)
    before = compare.first_pass(
        opened, Replayer(loaded, opened.recording, STEP_S), opened.cuts_of(0, cut), quiet
    )
    replayer = Replayer(loaded, opened.recording, STEP_S)
    state = replayer.new()
    assert replayer.run(state, 0, cut, []) == {}  # nothing recorded: only the state brought forward
    after = compare.first_pass(opened, replayer, opened.cuts_of(cut, rows), quiet, package=state)
    assert opened.recording.trend.skipped_rows == (1500 if suffix == ".parquet" else 0)
    joined = compare.merged([before, after])
    assert pickle.dumps(joined) == pickle.dumps(whole)
    assert max(joined["Changeover.system_mode"].excess) == 1.0  # the seeded fault is in the tallies
    assert any(t.rise > 0 for t in joined.values())  # a total's rise runs across the cut
