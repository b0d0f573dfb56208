"""`hpdsl fleet verify`: sites verified in process and on a Dask LocalCluster on loopback.

The fleet is made here: three short simulations of the shipped package (one with a site file
its trend was not recorded under, so that it departs), written as Parquet and CSV.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask.distributed")

from hpdsl.base.source import SourceFile
from hpdsl.cli import main
from hpdsl.fleet import engine, manifest, months, portfolio
from hpdsl.fleet.site import SiteResult, verify_site

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "rules"
GROUND = RULES / "sites" / "ground-source-example.toml"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fleet")
    for k, start in enumerate(("2024-01-08", "2024-03-11", "2024-07-15"), start=1):
        code = main(
            [
                "simulate",
                str(RULES),
                "-o",
                str(folder / f"sim{k}"),
                "--days",
                "1",
                "--start",
                start,
                "--no-plots",
                "-q",
            ]
        )
        assert code == 0
    shutil.copy(folder / "sim2" / "trend.parquet", folder / "copy2.parquet")
    main(
        [
            "simulate",
            str(RULES),
            "-o",
            str(folder / "csv"),
            "--days",
            "1",
            "--start",
            "2024-02-05",
            "--no-plots",
            "-q",
            "--trend-format",
            "csv",
        ]
    )
    (folder / "fleet.toml").write_text(
        textwrap.dedent(
            f"""\
            [fleet]
            name = "Test portfolio"

            [[site]]
            id = "winter"
            rules = "{RULES}"
            trend = "sim1/trend.parquet"

            [[site]]
            id = "spring"
            rules = "{RULES}"
            trend = "file://{folder / "copy2.parquet"}"

            [[site]]
            id = "summer-wrong-site-file"
            rules = "{RULES}"
            params = "{GROUND}"
            trend = "sim3/trend.parquet"

            [[site]]
            id = "february-csv"
            rules = "{RULES}"
            trend = "csv/trend.csv"
            """
        ),
        encoding="utf-8",
    )
    return folder


def test_each_site_is_verified_against_its_own_rules_and_site_file(fleet: Path) -> None:
    found = manifest.read(fleet / "fleet.toml")
    assert found.ok, found.diagnostics
    runs = engine.run_sites(found.sites, engine.Engine(replay="python"))
    by_site = {run.result.site: run.result for run in runs}
    assert [run.result.site for run in runs] == sorted(by_site)
    for name in ("winter", "spring", "february-csv"):
        result = by_site[name]
        assert result.error == "" and result.departures == (), result
        assert (
            result.seasonal_cop is not None and result.nominal_cop is not None and result.seasonal_cop > 1.5
        )
        # Q5 is n/a for a day without settled heating within the plant's capacity
        assert result.q5_fraction is None or 0.0 <= result.q5_fraction <= 1.0
        assert result.q6_fraction is None or 0.0 <= result.q6_fraction <= 1.0
    assert by_site["spring"].rows == 1441  # a day of minutes, read through an fsspec URL
    assert any(r.q5_fraction is not None for r in by_site.values())
    # the site file says ground source; the trend was recorded on an air-source plant
    wrong = by_site["summer-wrong-site-file"]
    causes = [d.cause for d in wrong.departures]
    assert "Sources.installed_source = Air (the rules have Ground)" in causes, causes
    assert portfolio.ranked(list(by_site.values()))[0].site == "summer-wrong-site-file"


@pytest.mark.heavy
def test_the_report_is_the_same_in_process_and_on_one_or_two_workers_native_or_not(
    fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hpdsl.sim import native

    # The native build at mypyc's lowest optimisation: the same code, built in half the time.
    monkeypatch.setenv("HPDSL_NATIVE_OPT", "0")
    replay = "python" if native.unavailable() else "native"
    outputs = {}
    runs = (
        ("interpreted", ["--replay", "python"]),
        ("in-process", ["--replay", replay]),
        ("one", ["--replay", replay, "--workers", "1"]),
        ("two", ["--replay", replay, "--workers", "2"]),
        ("months", ["--replay", replay, "--workers", "2", "--partition", "month"]),
    )
    for name, extra in runs:
        out = tmp_path / name
        code = main(["fleet", "verify", str(fleet / "fleet.toml"), "-o", str(out), "-q", *extra])
        assert code == 1  # one site departs from its rules
        outputs[name] = {f: (out / f).read_bytes() for f in ("portfolio.parquet", "portfolio.html")}
    assert outputs["interpreted"] == outputs["in-process"] == outputs["one"] == outputs["two"]
    assert outputs["months"] == outputs["two"]
    timings = (tmp_path / "two" / "runs.json").read_text(encoding="utf-8")
    assert "a local Dask cluster of 2 worker processes" in timings
    assert f'"replay": "{replay}"' in timings


def test_a_failing_site_is_retried_and_reported_never_fatal(fleet: Path, tmp_path: Path) -> None:
    good = manifest.Site("good", RULES, str(fleet / "sim1" / "trend.parquet"))
    gone = manifest.Site("gone", RULES, f"file://{tmp_path / 'not-there.parquet'}")
    attempts: dict[str, int] = {}

    def flaky(site: manifest.Site) -> engine.Run:
        attempts[site.id] = attempts.get(site.id, 0) + 1
        if site.id == "good" and attempts[site.id] == 1:
            raise OSError("the file system hiccupped")
        return verify_site(site)

    runs = engine.run_sites([gone, good], engine.Engine(replay="python"), job=flaky)
    assert [r.result.site for r in runs] == ["gone", "good"]
    assert runs[1].attempts == 2 and runs[1].result.error == ""
    assert runs[0].attempts == engine.RETRIES + 1
    assert "failed after 3 attempts" in runs[0].result.error and "FileNotFoundError" in runs[0].result.error


@pytest.mark.heavy
def test_a_site_that_fails_on_the_cluster_is_retried_there_and_reported(fleet: Path) -> None:
    good = manifest.Site("good", RULES, str(fleet / "sim1" / "trend.parquet"))
    gone = manifest.Site("gone", RULES, "file:///nowhere/at/all.parquet")
    runs = engine.run_sites([good, gone], engine.Engine(workers=2, replay="python"))
    assert [r.result.site for r in runs] == ["gone", "good"]
    assert "failed after 3 attempts" in runs[0].result.error
    assert runs[1].result.error == "" and runs[1].result.rows == 1441


@pytest.fixture(scope="module")
def month_edge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days across the end of January, one minute a row."""
    folder = tmp_path_factory.mktemp("months")
    arguments = ["-o", str(folder), "--days", "2", "--start", "2024-01-31", "--no-plots", "-q"]
    assert main(["simulate", str(RULES), *arguments]) == 0
    return folder / "trend.parquet"


def test_a_site_verified_by_month_is_the_site_verified_whole(month_edge: Path) -> None:
    right = manifest.Site("right", RULES, str(month_edge))
    wrong = manifest.Site("wrong", RULES, str(month_edge), params=GROUND)  # recorded on an air source
    for site in (right, wrong):
        start = months.start_site(site)
        assert start.count == 2 and start.months == [0, 1440, 2881]  # February from its 1441st row
        assert start.states[0] is None and start.states[1] is not None
        whole = verify_site(site).result
        assert months.verify_by_month(site).result == whole
    assert whole.departures and {d.first_time[:10] for d in whole.departures} == {"2024-01-31"}
    runs = engine.run_sites([wrong, right], engine.Engine(replay="python", partition="month"))
    assert [r.result.site for r in runs] == ["right", "wrong"] and runs[1].result == whole


@pytest.mark.heavy
def test_a_site_s_months_on_two_workers_take_the_rules_state_across_processes(
    month_edge: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A month's task thaws the state of its first row with its own process's build of the
    rules (an interpreted module is loaded under another name in each process; a native one
    must be imported before its objects can be)."""
    from hpdsl.sim import native

    monkeypatch.setenv("HPDSL_NATIVE_OPT", "0")  # as the other cluster test: one build for both
    wrong = manifest.Site("wrong", RULES, str(month_edge), params=GROUND)
    whole = verify_site(wrong).result
    for replay in ("python", *(() if native.unavailable() else ("native",))):
        how = engine.Engine(workers=2, replay=replay, partition="month")
        engine.prepare([wrong], how)
        runs = engine.run_sites([wrong], how)
        assert runs[0].result == whole, replay
        assert runs[0].replay == replay and runs[0].worker == "a local Dask cluster of 2 worker processes"


def test_a_site_by_month_whose_trend_is_a_url_is_verified_whole(month_edge: Path) -> None:
    site = manifest.Site("remote", RULES, f"file://{month_edge}")
    start = months.start_site(site)
    assert start.whole and start.count == 0
    run = months.finish_site(site, start, [])
    assert run.result == verify_site(manifest.Site("remote", RULES, str(month_edge))).result
    assert run.result.rows == 2881


def test_a_site_with_a_broken_trend_is_its_own_result(fleet: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("this is not a trend\n1,2,3\n", encoding="utf-8")
    run = verify_site(manifest.Site("broken", RULES, str(broken)))
    assert run.result.error and run.result.shortfall == float("inf")


def diagnose(text: str, folder: Path) -> list[tuple[int, int, str]]:
    found = manifest.check(SourceFile("fleet.toml", textwrap.dedent(text)), folder)
    return [(d.span.line, d.span.column, d.message) for d in found.diagnostics]


def test_manifest_mistakes_are_reported_at_their_place(fleet: Path) -> None:
    site = f'[[site]]\nid = "a"\nrules = "{RULES}"\ntrend = "sim1/trend.parquet"\n'
    assert diagnose(site, fleet) == []
    assert diagnose(site.replace("sim1/", "simX/"), fleet) == [
        (4, 9, "no trend file at `simX/trend.parquet`")
    ]
    twice = diagnose(site + "\n" + site, fleet)
    assert twice == [(7, 6, "site `a` is listed twice")]
    typo = diagnose(site + 'trnd = "x"\n', fleet)
    assert typo[0][2] == "`trnd` is not a setting of a site"
    assert diagnose("[fleet]\nname = 'x'\n", fleet) == [(1, 1, "the manifest lists no site")]
    assert diagnose("x = 45C\n", fleet)[0][:2] == (1, 7)


def test_an_output_folder_of_other_files_is_not_written_into(fleet: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    assert (
        main(["fleet", "verify", str(fleet / "fleet.toml"), "-o", str(out), "-q", "--replay", "python"]) == 2
    )
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_the_shortfall_ranks_by_how_far_from_the_goals() -> None:
    meets = SiteResult("a", seasonal_cop=3.0, nominal_cop=3.0, q5_fraction=0.99, q6_fraction=1.0)
    low_cop = SiteResult("b", seasonal_cop=1.8, nominal_cop=3.0, q5_fraction=0.99, q6_fraction=1.0)
    assert meets.shortfall == 0.0
    assert low_cop.shortfall == pytest.approx((0.75 - 0.6) / 0.75)
    assert [r.site for r in portfolio.ranked([meets, low_cop])] == ["b", "a"]


@pytest.mark.heavy
def test_the_portfolio_page_fits_the_screen(fleet: Path, tmp_path: Path) -> None:
    """The report a person reads, in headless Chromium: no table or image cut off, nothing spilling."""
    from test_browser import measure, screenshot

    out = tmp_path / "portfolio"
    assert (
        main(["fleet", "verify", str(fleet / "fleet.toml"), "-o", str(out), "-q", "--replay", "python"]) == 1
    )
    page = out / "portfolio.html"
    layout = measure(page, tmp_path)
    assert layout["problems"] == []
    assert layout["images"] == 1 and layout["tables"] == 1
    screenshot(page, tmp_path, 1400)


# --- A generated fleet: every injected fault found, and no other --------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four sites of 30 days: one healthy, one each with a fouled coil, a stuck aux stage and a
    drifting outdoor sensor (the first four of `generate.PATTERN`)."""
    folder = tmp_path_factory.mktemp("generated") / "fleet"
    code = main(["fleet", "generate", str(RULES), "-o", str(folder), "--sites", "4", "--days", "30", "-q"])
    assert code == 0
    return folder


@pytest.mark.heavy
def test_a_generated_fleet_shows_every_injected_fault_and_no_other(generated: Path, tmp_path: Path) -> None:
    import tomllib

    import pyarrow.parquet as pq

    out = tmp_path / "report"
    assert (
        main(["fleet", "verify", str(generated / "fleet.toml"), "-o", str(out), "-q", "--replay", "python"])
        == 1
    )
    truth = tomllib.loads((generated / "faults.toml").read_text(encoding="utf-8"))["sites"]
    injected = {site: set(entry["faults"]) for site, entry in truth.items()}
    assert set().union(*injected.values()) == {"fouled-coil", "stuck-aux-stage", "drifting-sensor"}
    assert set() in injected.values()  # a healthy site too
    rows = pq.read_table(out / "portfolio.parquet").to_pylist()
    found = {row["site"]: {kind for kind in row["fault_kinds"].split(", ") if kind} for row in rows}
    assert found == injected
    assert all(row["departure_groups"] == 0 and row["error"] == "" for row in rows)
    # the copy of the rules and the site files travel with the fleet
    assert (generated / "rules" / "aux_heat.rules").is_file()
    assert (generated / "sites" / "site-002" / "site.toml").is_file()


def test_generate_replaces_only_an_earlier_fleet(generated: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["fleet", "generate", str(RULES), "-o", str(mine), "--sites", "1", "--days", "1", "-q"]) == 2
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_the_plan_is_the_same_for_the_same_seed_and_varies_the_sites() -> None:
    from hpdsl.fleet import generate

    first, again = generate.plan(20, 365, seed=7), generate.plan(20, 365, seed=7)
    assert first == again
    assert generate.plan(20, 365, seed=8) != first
    assert {site.climate for site in first} == set(generate.CLIMATES)
    assert {site.source for site in first} == {"Air", "Ground"}
    assert len({site.scale for site in first}) > 1
    for site in first:
        assert all(fault.after_s >= 15 * 86400.0 for fault in site.faults)
        if site.source == "Ground":
            assert "fouled-coil" not in {fault.kind for fault in site.faults}


# --- The checks themselves, on made-up trends -----------------------------------------------


def _days(count: int) -> tuple[np.ndarray, np.ndarray]:
    times = np.datetime64("2024-01-01T00:00") + np.arange(count * 1440).astype("timedelta64[m]")
    return times, np.full(len(times), 60.0)


def test_a_sensor_that_drifts_is_found_and_a_steady_offset_is_not() -> None:
    from hpdsl.fleet import findings

    times, held = _days(60)
    weather = 5.0 + 8.0 * np.sin(np.arange(len(times)) * 2 * np.pi / 1440)
    steady = {findings.OUTDOOR_SENSOR: weather + 1.5}  # sited in the sun: 1.5 K high all along
    assert findings.find(steady, times, held, weather) == ()
    drift = np.clip((np.arange(len(times)) / 1440 - 20) / 20, 0, 1) * 3.0
    found = findings.find({findings.OUTDOOR_SENSOR: weather + 1.5 + drift}, times, held, weather)
    assert [(f.kind, f.subject) for f in found] == [("drifting-sensor", findings.OUTDOOR_SENSOR)]
    assert "2024-01-2" in found[0].since or "2024-01-3" in found[0].since
    assert findings.find({findings.OUTDOOR_SENSOR: weather + drift}, times, held, None) == ()


def test_a_stuck_and_a_failed_aux_stage_are_told_apart() -> None:
    from hpdsl.fleet import findings

    times, held = _days(2)
    command = (np.arange(len(times)) // 90 % 2).astype(float)  # on and off every 90 min
    columns = {}
    for stage, proven in ((1, np.maximum(command, times >= np.datetime64("2024-01-02"))), (2, command * 0)):
        name, switch, alarm = findings.aux_columns(stage)
        columns[name] = command
        columns[switch] = proven.astype(float)
        columns[alarm] = (columns[switch] != command).astype(float)
    found = findings.find(columns, times, held, None)
    assert [(f.kind, f.subject) for f in found] == [
        ("failed-aux-stage", "aux stage 2"),
        ("stuck-aux-stage", "aux stage 1"),
    ]
    assert found[1].since == "2024-01-02 00:00:00"
