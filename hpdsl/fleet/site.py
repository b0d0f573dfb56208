"""One site of a fleet: its trend replayed through its own rules, and what the portfolio needs of it.

`verify_site` is the unit of work the engine hands out, in this process or to a Dask worker:
it compiles the site's rules (once per process and rules folder; a site file's values are given
to the package when it is built, so that one module serves every site), runs `hpdsl verify`'s
comparison on the site's trend (fetched first when it is an fsspec URL), and takes from the
chunks that comparison reads (one pass over the file) what the commissioning goals need:

- **seasonal COP against the nominal COP** (M9, Q4): the heat delivered over the electricity
  used, on the rows where the rules hold the COP valid, and the nominal COP of the regimes
  those rows ran in, weighted the same way; the ratio is what M9 alerts on below 0.75;
- **Q5**: the share of settled heating time within the plant's capacity that the supply water
  is within 3 K of its target, and **Q6**: the share of occupied time the zone is no colder
  than its setpoint less 1 K: the commissioning scorecard's measures of `hpdsl simulate`
  (docs/kpis.md), with the controller's readings in place of the plant model's;
- **alarm counts**: how often each alarm was raised in the recorded trend;
- **findings**: faults seen over weeks and months (`findings`): a stuck aux stage, an outdoor
  sensor drifting from the site's weather, a coil fouling.

The replay runs on the rules' native build (`hpdsl.sim.native`, some 8 times faster a scan)
where one can be built, else on the interpreted module: `replay` chooses ("auto", "native" or
"python"); the results are the same either way.

A problem with the site's own files (rules with errors, a trend that cannot be read) is the
site's result, reported and not retried; anything else raises, so that the engine retries it.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hpdsl.base.progress import Progress
from hpdsl.fleet import findings
from hpdsl.fleet.manifest import Site
from hpdsl.sim import kpi, scorecard
from hpdsl.sim.loaded import LoadedPackage, PointSpec, load
from hpdsl.sim.trend import Column, Trend
from hpdsl.sim.verify.compare import Comparison, Tally, finish, first_pass, open_comparison
from hpdsl.sim.verify.recording import Recording
from hpdsl.sim.verify.replay import Replayer
from hpdsl.sim.verify.results import Report, Settings
from hpdsl.sim.verify.trendfile import TrendFileError

COP_ALERT = 0.75  # M9: alert below this share of the nominal COP
Q5_GOAL = scorecard.SUPPLY_SHARE  # of settled heating within capacity, supply within 3 K of target
Q6_GOAL = 1.0 - scorecard.COLD_SHARE  # of occupied time, the zone no colder than setpoint - 1 K

THERMAL = "Performance.thermal_output"
ELECTRICAL = "PlantSignals.electrical_power"
COP_VALID = "Performance.cop_valid"
NOMINAL = "OperatingRegime.nominal_cop"
# The columns the goals read: the COP's, and those of the scorecard's Q5 and comfort measures.
_GOAL_COLUMNS = (
    THERMAL,
    ELECTRICAL,
    COP_VALID,
    NOMINAL,
    *scorecard.RECORDED_AS_PLANT.values(),
    kpi.SYSTEM_MODE,
    kpi.DEFROST_ACTIVE,
    scorecard.OCCUPIED,
    scorecard.HEATING_SETPOINT,
)


@dataclass(frozen=True)
class Departure:
    """A group of points that departed together, and what explains it."""

    first_point: str
    first_time: str
    points: int
    cause: str


@dataclass(frozen=True)
class SiteResult:
    """What the portfolio knows of one site. Equal whatever worker produced it."""

    site: str
    error: str = ""  # why the site could not be verified; "" when it was
    rows: int = 0
    start: str = ""
    end: str = ""
    departed_points: int = 0
    departures: tuple[Departure, ...] = ()
    seasonal_cop: float | None = None
    nominal_cop: float | None = None
    q5_fraction: float | None = None
    q6_fraction: float | None = None
    alarms: tuple[tuple[str, int], ...] = ()
    findings: tuple[findings.Finding, ...] = ()

    @property
    def cop_ratio(self) -> float | None:
        if self.seasonal_cop is None or not self.nominal_cop:
            return None
        return self.seasonal_cop / self.nominal_cop

    @property
    def shortfall(self) -> float:
        """How far the site falls from its goals: 0 when it meets them all (the ranking's key).

        Each goal counts its shortfall as a share of the goal (a COP at 0.60 of nominal against
        0.75 counts 0.2); each group of departures from the rules and each finding counts 1; a
        site that could not be verified ranks first.
        """
        if self.error:
            return math.inf
        total = float(len(self.departures) + len(self.findings))
        ratio = self.cop_ratio
        if ratio is not None:
            total += max(0.0, COP_ALERT - ratio) / COP_ALERT
        for fraction, goal in ((self.q5_fraction, Q5_GOAL), (self.q6_fraction, Q6_GOAL)):
            if fraction is not None:
                total += max(0.0, goal - fraction) / goal
        return total


@dataclass
class Run:
    """A site's result and how it was obtained (not part of the result: it depends on the machine)."""

    result: SiteResult
    seconds: float = 0.0
    attempts: int = 1
    worker: str = ""
    replay: str = ""  # "native", or "python" and why not native


REPLAYS = ("auto", "native", "python")
# Per process: each rules folder compiled once (and built natively once), with how it replays.
_RULES: dict[tuple[str, str], tuple[LoadedPackage | str, str]] = {}


def rules_package(rules: Path, replay: str = "auto") -> tuple[LoadedPackage | str, str]:
    """A rules folder compiled (the error as text if it has errors) and how it replays."""
    key = (str(rules), replay)
    if key not in _RULES:
        from hpdsl.sim import native

        loaded = load([rules], None, name=native.PACKAGE_NAME)
        if not isinstance(loaded, LoadedPackage):
            errors = [d for d in loaded.diagnostics if d.is_error]
            first = errors[0] if errors else None
            problem = (
                f"the rules have errors: {first.span}: {first.message}" if first else "the rules have errors"
            )
            _RULES[key] = (problem, "")
            return _RULES[key]
        how = "python"
        if replay != "python":
            module = native.compiled(loaded.source())
            if isinstance(module, str):
                how = f"python ({module})"
            else:
                loaded, how = loaded.with_module(module), "native"
        _RULES[key] = (loaded, how)
    return _RULES[key]


# Per process: each site file's values given to its rules' package once.
_SITES: dict[tuple[str, str, str], tuple[LoadedPackage | str, str]] = {}


def site_package(site: Site, replay: str) -> tuple[LoadedPackage | str, str]:
    """The site's rules with its site file's values, and how they replay."""
    package, how = rules_package(site.rules, replay)
    if isinstance(package, str) or site.params is None:
        return package, how
    key = (str(site.rules), replay, str(site.params))
    if key not in _SITES:
        with_site = package.with_site(site.params)
        if isinstance(with_site, list):
            first = with_site[0]
            _SITES[key] = (f"the site file has errors: {first.span}: {first.message}", how)
        else:
            _SITES[key] = (with_site, how)
    return _SITES[key]


def verify_site(site: Site, settings: Settings | None = None, replay: str = "python") -> Run:
    """Verify one site (interpreted unless `replay` asks for the native build); raises only for what a
    retry may cure."""
    started = time.perf_counter()
    package, how = site_package(site, replay)
    if isinstance(package, str):
        return Run(SiteResult(site.id, error=package), time.perf_counter() - started, replay=how)
    with tempfile.TemporaryDirectory(prefix="hpdsl-fleet-") as folder:
        path = _local_trend(site, Path(folder))
        opened = open_site(package, path, settings or Settings())
        if isinstance(opened, str):
            return Run(SiteResult(site.id, error=opened), time.perf_counter() - started, replay=how)
        goals = Goals(package)
        observed = goals.start(opened.recording)
        replayer = Replayer(package, opened.recording, opened.step_s)
        try:
            tallies = first_pass(opened, replayer, opened.cuts, QUIET, goals, observed)
            result = site_result(site, opened, replayer, tallies, goals)
        except TrendFileError as exc:
            result = SiteResult(site.id, error=exc.diagnostics[0].message)
    return Run(result, time.perf_counter() - started, replay=how)


QUIET = Progress("fleet verify", False)


def open_site(package: LoadedPackage, path: Path, settings: Settings) -> Comparison | str:
    """The site's trend read for the comparison, its chunks cut at each month's first row as well
    (so that a site verified whole and one verified by month compare the same chunks); the
    site's problem as text if the trend cannot be compared."""
    try:
        opened = open_comparison(package, path, settings, QUIET)
    except TrendFileError as exc:
        return exc.diagnostics[0].message
    if isinstance(opened, Report):
        errors = [d for d in opened.diagnostics if d.is_error]
        return f"{errors[0].span}: {errors[0].message}" if errors else "the trend has nothing to compare"
    opened.with_cuts(month_starts(opened.recording.time_ms))
    return opened


def month_starts(time_ms: npt.NDArray[np.int64]) -> list[int]:
    """The first row of every calendar month of the time stamps after the first month."""
    months = time_ms.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    return [int(row) + 1 for row in np.flatnonzero(np.diff(months))]


def site_result(
    site: Site, opened: Comparison, replayer: Replayer, tallies: dict[str, Tally], goals: Goals
) -> SiteResult:
    """The site's result from its first pass's tallies: the rest of the comparison run, the goals
    measured."""
    import pyfunnel  # type: ignore[import-untyped, unused-ignore]

    report = finish(opened, replayer, tallies, None, pyfunnel, QUIET)
    errors = [d for d in report.diagnostics if d.is_error]
    if errors:
        return SiteResult(site.id, error=f"{errors[0].span}: {errors[0].message}")
    return SiteResult(
        site.id,
        rows=report.rows,
        start=report.start.isoformat() if report.start else "",
        end=report.end.isoformat() if report.end else "",
        departed_points=sum(1 for r in report.results if r.departed),
        departures=_departures(report),
        **goals.metrics(site.weather),
    )


def _local_trend(site: Site, folder: Path) -> Path:
    """The site's trend as a local file: fetched through fsspec when it is a URL."""
    if not site.url:
        return Path(site.trend)
    import fsspec

    suffix = ".parquet" if site.trend.lower().endswith(".parquet") else ".csv"
    local = folder / f"trend{suffix}"
    with fsspec.open(site.trend, "rb") as remote, local.open("wb") as copy:
        shutil.copyfileobj(remote, copy, 1 << 20)
    return local


def _departures(report: Report) -> tuple[Departure, ...]:
    from hpdsl.sim.verify.causes import describe

    found: list[Departure] = []
    for group in report.groups:
        root = group.root
        first = report.at(group.first_s).isoformat() if report.start else ""
        if group.explanations:
            best = group.explanations[0]
            values = ", ".join(describe(v, best.unit) for v in best.values[:3])
            cause = f"{best.parameter} = {values} (the rules have {describe(best.rules_value, best.unit)})"
        else:
            cause = f"not explained by a parameter; written at {', '.join(group.writers[:2]) or 'unknown'}"
        found.append(Departure(root.point.column, first, len(group.results), cause))
    return tuple(found)


@dataclass
class GoalData:
    """What the goals keep of a stretch of a site's rows; the stretches of a year join in order."""

    parts: dict[str, list[npt.NDArray[np.float64]]] = field(default_factory=dict)  # kept columns
    # per alarm: [raises after the stretch's first row, on at its first row, on at its last]
    edges: dict[str, list[Any]] = field(default_factory=dict)

    def extend(self, later: GoalData) -> None:
        """Join the stretch that follows this one."""
        for name, parts in later.parts.items():
            self.parts.setdefault(name, []).extend(parts)
        for name, (raised, first, last) in later.edges.items():
            if first is not None:
                self.follow(name, raised, first, last)

    def follow(self, name: str, raised: int, first: bool, last: bool) -> None:
        """An alarm over the rows that follow: raised `raised` times after their first row, on or
        off at their first and last. Off at this stretch's end and on at the first row is a raise."""
        edge = self.edges.setdefault(name, [0, None, None])
        edge[0] += raised + int(edge[2] is not None and first and not edge[2])
        edge[1] = first if edge[1] is None else edge[1]
        edge[2] = last

    def raised(self) -> dict[str, int]:
        """How often each alarm was raised: the first row counts as a raise of one that is on."""
        return {name: raised + int(bool(first)) for name, (raised, first, _) in self.edges.items()}


class Goals:
    """What the goals and findings read of a site's trend, taken in the comparison's own pass
    over the file (`verify`'s observer): the few columns the goals read are kept, as a trend
    of their own for the scorecard's measures; of the alarm columns only each one's count of
    raises and its state at the first and last rows, chunk by chunk: a year of a hundred alarm
    columns costs no more memory than a day. What a month's pass kept (`data`) joins the
    other months' in order.
    """

    def __init__(self, package: LoadedPackage) -> None:
        self._points = {point.column: point for point in package.points}
        self._kept: list[str] = []
        self._alarms: list[str] = []
        self._recording: Recording | None = None
        self.data = GoalData()

    def start(self, recording: Recording) -> list[str]:
        available = {*recording.inputs, *recording.compared}
        wanted = dict.fromkeys([*_GOAL_COLUMNS, *findings.COLUMNS])
        self._kept = [name for name in wanted if name in available and name in self._points]
        self._recording = recording
        self._alarms = [name for name, c in recording.compared.items() if c.point.role == "alarm"]
        self.data = GoalData(
            {name: [] for name in self._kept if name not in recording.inputs},
            {name: [0, None, None] for name in self._alarms},
        )
        return [*self.data.parts, *self._alarms]

    def chunk(self, first: int, end: int, recorded: dict[str, npt.NDArray[np.float64]]) -> None:
        for name, parts in self.data.parts.items():
            parts.append(recorded[name])
        for name in self._alarms:
            on = recorded[name] > 0.5
            if len(on):
                rises = int(np.count_nonzero(on[1:] & ~on[:-1]))
                self.data.follow(name, rises, bool(on[0]), bool(on[-1]))

    def metrics(self, weather: str) -> dict[str, Any]:
        """Seasonal and nominal COP, the Q5 and Q6 fractions, the alarm counts and the findings."""
        recording = self._recording  # None when the comparison stopped before the replay
        time_ms = recording.time_ms if recording is not None else np.zeros(0, dtype=np.int64)
        trend = Trend(time_ms.astype("datetime64[ms]"))
        # A field input as the replay took it: a missing sample holds the one before it.
        inputs = recording.inputs if recording is not None else {}
        for name in self._kept:
            values = inputs.get(name)
            if values is None:
                parts = self.data.parts[name]
                values = np.concatenate(parts) if parts else np.zeros(0)
            trend.add(_column(self._points[name], values))
        raised = self.data.raised()
        result: dict[str, Any] = {"alarms": tuple(sorted((n, c) for n, c in raised.items() if c))}
        result.update(_cop(trend))
        reference = _outdoor_reference(weather, trend) if weather and len(trend) else None
        result["findings"] = findings.find(
            {name: trend[name].as_float() for name in self._kept},
            trend.time,
            kpi.held_seconds(trend),
            reference,
        )
        supply, comfort = scorecard.recorded_goals(trend)
        if not math.isnan(supply.value):
            result["q5_fraction"] = round(supply.value / 100.0, 6)
        if not math.isnan(comfort.value):
            result["q6_fraction"] = round(1.0 - comfort.value / 100.0, 6)
        return result


def _outdoor_reference(weather: str, trend: Trend) -> npt.NDArray[np.float64]:
    """The weather's outdoor temperature at each row of the trend."""
    from hpdsl.sim.weather import load

    seconds = trend.seconds()
    step = 60.0
    count = math.ceil((seconds[-1] - seconds[0]) / step) + 2
    series = load(weather).at(trend.start(), step, count)
    grid = seconds[0] + np.arange(count, dtype=np.float64) * step
    reference: npt.NDArray[np.float64] = np.interp(
        seconds, grid, np.asarray(series.temp_air, dtype=np.float64)
    )
    return reference


def _column(point: PointSpec, numbers: npt.NDArray[np.float64]) -> Column:
    """A trend column of a point, from its values as numbers (NaN where the trend has none)."""
    missing = np.isnan(numbers)
    if point.kind == "bool":
        return Column(point.column, "bool", "", numbers > 0.5, missing=missing if missing.any() else None)
    if point.kind == "enum":
        codes = np.where(missing, -1, numbers).astype(np.int64)
        return Column(
            point.column, "enum", "", codes, members=point.members, missing=missing if missing.any() else None
        )
    return Column(point.column, "real", point.unit, numbers)


def _cop(trend: Trend) -> dict[str, float]:
    """The heat delivered over the electricity used where the rules hold the COP valid, and the
    nominal COP of those rows weighted by the electricity."""
    if not all(name in trend for name in (THERMAL, ELECTRICAL, COP_VALID)):
        return {}
    held = kpi.held_seconds(trend)
    thermal, electrical = trend[THERMAL].as_float(), trend[ELECTRICAL].as_float()
    rows = (trend[COP_VALID].as_float() > 0.5) & np.isfinite(thermal) & np.isfinite(electrical)
    weights = electrical[rows] * held[rows]
    used = float(np.sum(weights))
    if used <= 0:
        return {}
    found = {"seasonal_cop": round(float(np.sum(thermal[rows] * held[rows])) / used, 6)}
    if NOMINAL in trend:
        found["nominal_cop"] = round(float(np.sum(trend[NOMINAL].as_float()[rows] * weights)) / used, 6)
    return found
