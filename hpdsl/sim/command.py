"""`hpdsl simulate`: the rules in closed loop with the plant model, on a year of weather.

    hpdsl simulate rules/ -o run/                      # a year on Greensboro's typical year
    hpdsl simulate rules/ -o run/ --weather sand-point --start 2024-01-01 --days 14
    hpdsl simulate rules/ -o run/ --params rules/sites/ground-source-example.toml

writes into the output folder the trend of every point at every scan (`trend.parquet`, or
`trend.csv` with `--trend-format csv`), the KPIs (`kpis.json`), the plots (`plots/*.png`)
and `report.html`, one self-contained page that brings them together; the KPIs are also
printed. Every file is deterministic: the same rules, parameters and weather give the same
bytes.
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
from pathlib import Path
from typing import Any

from hpdsl.base import progress as progress_
from hpdsl.base.files import UsageError
from hpdsl.sim.arguments import require_extras

EXIT_OK = 0
EXIT_ERRORS = 1

MARKER = ".hpdsl-simulation"  # in an output folder: `simulate` wrote it and may write it again
# Everything simulate writes into its folder: an earlier run's files go before a new run writes,
# so that the folder never holds one run's trend beside another run's report.
OUTPUTS = ("trend.parquet", "trend.csv", "kpis.json", "report.html", "plots")


def run(args: argparse.Namespace) -> int:
    """The `simulate` command; returns the exit code."""
    require_extras("simulate")
    from hpdsl.base.render import report, write
    from hpdsl.sim import config, loaded
    from hpdsl.sim import run as run_
    from hpdsl.sim import trend as trend_
    from hpdsl.sim import weather as weather_

    start = _start(args.start)
    step_s = _seconds(args.step, "--step")
    if not 0.1 <= step_s <= 3600.0:
        raise UsageError(f"--step {args.step}: choose a scan step between 0.1 s and 1 h")
    if not 0.0 < args.days <= 3660.0:
        raise UsageError(f"--days {args.days:g}: choose between a few minutes (0.01) and 10 years (3660)")
    output: Path = args.output
    _check_output(output, args.force)
    plant_file = config.read(args.plant) if args.plant is not None else config.defaults()
    if not plant_file.ok:
        sources = {plant_file.source.name: plant_file.source} if plant_file.source else {}
        report(plant_file.diagnostics, sources, sys.stderr)
        return EXIT_ERRORS
    progress = progress_.Progress("simulate", progress_.wanted(quiet=args.quiet))
    try:
        with progress.phase("reading the weather"):
            weather = weather_.load(args.weather)
    except weather_.WeatherError as exc:
        report(exc.diagnostics, exc.sources, sys.stderr)
        return EXIT_ERRORS
    with progress.phase("compiling the rules"):
        package = loaded.load(args.paths, args.params)
    if not isinstance(package, loaded.LoadedPackage):
        sources = {
            **package.check.sources,
            **{k: v for k, v in package.site_sources.items() if v is not None},
        }
        errors = [d for d in package.diagnostics if d.is_error]
        report(errors, sources, sys.stderr)
        return EXIT_ERRORS
    # What is simulated, before the run: a year takes a while, and the user sees what it is.
    scans = math.floor(args.days * 86400.0 / step_s + 1e-9) + 1
    end = start + datetime.timedelta(seconds=(scans - 1) * step_s)
    source_type = run_.source_type_of(package, plant_file)
    header = [
        ("Heat source", source_type),
        ("Weather", f"{weather.name} ({weather.source})"),
        ("Period", f"{start:%Y-%m-%dT%H:%M:%S} .. {end:%Y-%m-%dT%H:%M:%S}"),
        ("Scan step", f"{step_s:g} s"),
    ]
    write(sys.stdout, "".join(f"{title}: {value}\n" for title, value in header))
    try:
        simulation = run_.simulate(
            package,
            plant_file,
            weather,
            start,
            args.days * 86400.0,
            step_s,
            progress=progress.enabled,
        )
    except run_.BindingError as exc:
        rules = ", ".join(map(str, args.paths))
        lines = [f"hpdsl simulate: the plant cannot be connected to the rules in {rules}:"]
        lines += [f"  {problem}" for _, problem in exc.problems]
        lines.append(
            "  bind each sensor or command under [points] in a plant model file (--plant),"
            ' or to "" to leave it out'
        )
        print("\n".join(lines), file=sys.stderr)
        return EXIT_ERRORS
    except weather_.WeatherError as exc:
        report(exc.diagnostics, exc.sources, sys.stderr)
        return EXIT_ERRORS
    _clear_output(output)
    (output / MARKER).write_text(
        "Written by hpdsl simulate; it may replace the files of this folder.\n", encoding="utf-8"
    )
    trend = simulation.trend
    written: list[Path] = []
    if args.trend_format != "none":
        path = output / f"trend.{args.trend_format}"
        with progress.phase(f"writing {path.name}"):
            trend_.write(trend, path)
        written.append(path)
    from hpdsl.sim import kpi as kpi_
    from hpdsl.sim import scorecard as scorecard_

    with progress.phase("computing the KPIs and the scorecard"):
        kpis = kpi_.compute(trend)
        goals = scorecard_.compute(trend)
    kpi_path = output / "kpis.json"
    kpi_path.write_text(kpi_.to_json(kpis, scorecard_.to_json_items(goals)), encoding="utf-8")
    written.append(kpi_path)
    run_rows = _run_rows(args, package, plant_file, weather, simulation, step_s)
    if not args.no_plots:
        written += _report(
            output, trend, package, kpis, goals, run_rows, plant_file, simulation.source_type, progress
        )
    print(_summary(kpis, simulation))
    print()
    print(scorecard_.render_text(goals))
    print(
        f"wrote {len(written)} file(s) to {output}: "
        + ", ".join(p.relative_to(output).as_posix() for p in written)
    )
    if args.check and not scorecard_.met(goals):
        return EXIT_ERRORS
    return EXIT_OK


def _report(
    output: Path,
    trend: Any,
    package: Any,
    kpis: list[Any],
    goals: list[Any],
    run_rows: list[tuple[str, str]],
    plant_file: Any,
    source_type: str,
    progress: progress_.Progress,
) -> list[Path]:
    from hpdsl.sim import config, kpi, report

    instance = package.new()  # the parameters' values as the run used them
    thresholds = _changeover_thresholds(instance)
    plot_dir = output / "plots"
    plot_dir.mkdir(exist_ok=True)
    with progress.phase("drawing the plots"):
        plots = report.plots(
            trend, plot_dir, heating_below=thresholds[0], cooling_above=thresholds[1], source_type=source_type
        )
    parameters = _parameter_rows(package, instance) + [
        (f"plant {name}", value, "") for name, value in config.described(plant_file.parameters)
    ]
    html = output / "report.html"
    with progress.phase("writing the report"):
        report.write_html(
            html,
            title="Simulation of " + run_rows[0][1],
            run=run_rows,
            kpis=kpis,
            scorecard=goals,
            plots=plots,
            parameters=parameters,
            alarms=kpi.top_alarms(trend, count=len(trend.columns)),
        )
    return [plot.path for plot in plots if plot.path is not None] + [html]


def _changeover_thresholds(instance: Any) -> tuple[float | None, float | None]:
    changeover = getattr(instance, "changeover", None)
    heating = getattr(changeover, "heating_below", None)
    cooling = getattr(changeover, "cooling_above", None)
    return (
        float(heating) if isinstance(heating, int | float) else None,
        float(cooling) if isinstance(cooling, int | float) else None,
    )


def _parameter_rows(package: Any, instance: Any) -> list[tuple[str, str, str]]:
    """Every parameter of the rules with the value the run used."""
    rows: list[tuple[str, str, str]] = []
    for cls in package.module.Package.PROGRAMS:
        program = getattr(instance, cls.INSTANCE)
        for point in cls.POINTS:
            if point.kind != "parameter":
                continue
            value = getattr(program, point.attribute)
            shown = (
                value.name
                if hasattr(value, "name")
                else f"{value:g}"
                if isinstance(value, float)
                else str(value)
            )
            rows.append((f"{cls.NAME}.{point.name}", f"{shown} {point.unit}".strip(), point.doc))
    return rows


def _run_rows(
    args: argparse.Namespace, package: Any, plant_file: Any, weather: Any, simulation: Any, step_s: float
) -> list[tuple[str, str]]:
    end = simulation.trend.time[-1].astype("datetime64[s]").astype(datetime.datetime)
    return [
        ("Rules", ", ".join(str(path) for path in args.paths)),
        ("Site parameters", str(args.params) if args.params else "the rules' defaults"),
        ("Plant model", str(args.plant) if args.plant else "the documented defaults (docs/simulate.md)"),
        ("Heat source", simulation.source_type),
        ("Weather", f"{weather.name} ({weather.source})"),
        ("Period", f"{simulation.trend.time[0].astype('datetime64[s]')} .. {end:%Y-%m-%dT%H:%M:%S}"),
        ("Scan step", f"{step_s:g} s"),
        ("Scans", f"{simulation.scans:,}"),
        ("Operator acknowledges of lockouts", str(simulation.lockouts)),
    ]


def _summary(kpis: list[Any], simulation: Any) -> str:
    """The KPIs, after the header printed before the run."""
    from hpdsl.sim import report

    width = max((len(k.title) for k in kpis), default=10)
    lines = [""]
    for k in kpis:
        lines.append(f"{k.title:<{width}}  {report.format_value(k.value)} {k.unit}".rstrip())
    lines.append("")
    lines.append(f"simulated {simulation.scans:,} scans in {simulation.seconds:.1f} s")
    return "\n".join(lines)


def _clear_output(output: Path) -> None:
    """Remove what an earlier simulate wrote here (and only that), so that no file outlives its run."""
    import shutil

    output.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        path = output / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def _check_output(output: Path, force: bool) -> None:
    if output.exists() and not output.is_dir():
        raise UsageError(f"`{output}` is a file, not a folder")
    if force or not output.exists() or (output / MARKER).exists():
        return
    if any(output.iterdir()):
        raise UsageError(
            f"will not write into `{output}`: it holds files that hpdsl simulate did not write"
            " (choose an empty folder, or use --force)"
        )


def _start(text: str) -> datetime.datetime:
    try:
        start = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--start {text}: not a date; write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    return start.replace(tzinfo=None)


def _seconds(text: str, option: str) -> float:
    from hpdsl.base.source import NO_SPAN
    from hpdsl.language.values import Target, ValueProblem, convert, from_text

    try:
        value = convert(from_text(text, NO_SPAN), Target("real", "s"))
    except ValueProblem as problem:
        raise UsageError(
            f"{option} {text}: {problem.problem} (write a time with its unit, e.g. `60 s` or `1 min`)"
        ) from None
    assert isinstance(value, float)
    return value
