"""`hpdsl simulate` and `hpdsl verify` together: a simulated trend verifies clean, and a trend
from a faulty controller is caught and located.

The faults are those a commissioning agent meets: a changeover threshold set 2 K off (the
controller ran with a wrong parameter), and a defrost that never ends (the controller held
the reversing valve in defrost after the coil was clear).
"""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

import numpy as np
import pytest

from hpdsl.cli import main
from hpdsl.sim import trend

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"


def simulate(out: Path, *args: str) -> Path:
    code = main(["simulate", str(RULES), "-o", str(out), "--trend-format", "csv", "--no-plots", "-q", *args])
    assert code == 0
    return out / "trend.csv"


def verify(trend_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = main(["verify", str(RULES), "--trend", str(trend_path), "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def departed(report: dict[str, object]) -> dict[str, dict[str, object]]:
    points = report["points"]
    assert isinstance(points, list)
    return {p["point"]: p for p in points if p["departed"]}


@pytest.fixture(scope="module")
def spring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten spring days at Greensboro: the outdoor temperature crosses the dead band both ways."""
    return simulate(tmp_path_factory.mktemp("spring"), "--start", "2024-04-01", "--days", "10")


@pytest.fixture(scope="module")
def winter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two January days at Sand Point: defrost after defrost."""
    return simulate(
        tmp_path_factory.mktemp("winter"), "--weather", "sand-point", "--start", "2024-01-08", "--days", "2"
    )


def test_a_simulated_trend_verifies_clean(
    spring: Path, winter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in (spring, winter):
        code, report = verify(path, capsys)
        assert code == 0, departed(report)
        compared = report["compared"]
        assert isinstance(compared, int) and compared > 50
        assert report["departed"] == 0


def test_a_changeover_threshold_shifted_by_2_k_is_caught_and_located(
    spring: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "faulty-site.toml"
    site.write_text('[Changeover]\ncooling_above = "23 C"\n', encoding="utf-8")
    faulty = simulate(tmp_path / "faulty", "--start", "2024-04-01", "--days", "10", "--params", str(site))
    code, report = verify(faulty, capsys, "-o", str(tmp_path / "checks"))
    assert code == 1
    found = departed(report)
    assert "Changeover.system_mode" in found
    # Located: the first departure is the first time the outdoor air passed 21C (the rules'
    # threshold) while the faulty controller, waiting for 23C, stayed in heating.
    recorded = trend.read(faulty)
    outdoor = recorded["PlantSignals.outdoor_temp_sensor"].values
    first_above = int(np.argmax(outdoor > 21.0))
    expected = recorded.time[first_above].astype("datetime64[s]").astype(datetime.datetime)
    first = datetime.datetime.fromisoformat(str(found["Changeover.system_mode"]["first_departure"]))
    assert abs((first - expected).total_seconds()) <= 120.0
    assert found["Changeover.system_mode"]["rules_at_first_departure"] == "Cooling"
    assert found["Changeover.system_mode"]["controller_at_first_departure"] == "Heating"
    # The errors CSV and the plot of the failing point are written.
    folder = tmp_path / "checks" / "Changeover.system_mode"
    assert (folder / "errors.csv").is_file()
    assert any(path.suffix == ".png" for path in folder.iterdir())
    with (tmp_path / "checks" / "summary.csv").open(encoding="utf-8") as stream:
        rows = {row["point"]: row for row in csv.DictReader(stream)}
    assert rows["Changeover.system_mode"]["departed"] == "true"


def test_a_defrost_that_never_ends_is_caught_and_located(
    winter: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded = trend.read(winter)
    active = recorded["DefrostControl.defrost_cycle_active"].values.astype(bool)
    start = int(np.argmax(active))
    end = start + int(np.argmax(~active[start:]))  # the first scan after the real defrost
    assert start > 0 and end > start
    # The faulty controller: once in defrost, the flag and the reversing valve stay on.
    lines = winter.read_text(encoding="utf-8").splitlines()
    header = next(csv.reader([lines[0]]))
    columns = [
        header.index(name) for name in ("DefrostControl.defrost_cycle_active", "DefrostControl.reverse_cycle")
    ]
    rows = [next(csv.reader([line])) for line in lines[1:]]
    for row in rows[start:]:
        for column in columns:
            row[column] = "true"
    faulty = tmp_path / "never-ending.csv"
    with faulty.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    code, report = verify(faulty, capsys)
    assert code == 1
    found = departed(report)
    assert "DefrostControl.defrost_cycle_active" in found
    first = datetime.datetime.fromisoformat(
        str(found["DefrostControl.defrost_cycle_active"]["first_departure"])
    )
    expected = recorded.time[end].astype("datetime64[s]").astype(datetime.datetime)
    assert abs((first - expected).total_seconds()) <= 120.0
