"""A site verified a month at a time: its months replayed side by side, on as many workers.

A month's replay has to start from the rules' state at the month's first row: its timers,
machine states and the time they have been in them, totals since installation, latches. A
warm-up replay of the days before the month does not give that state: after 48 hours of
warm-up from a fresh start, 3 to 14 values of the shipped rules still differ from those of the
replay from the year's start at each month's first row of a generated site-year (the defrost
runtime since installation and the runtime at the last defrost, the time a machine has been
in its state, the time since an aux stage last ran). A warm-up would make the month's results
depend on where it started; these are exact:

1. `start_site` reads the trend's time stamps and field inputs once and runs the rules over the
   year without recording anything (about 40 % of a recorded replay's time), keeping the state
   at each month's first row (a few tens of kilobytes each);
2. `verify_month` replays one month from its state, recording and comparing its chunks and
   keeping what the goals need: the first pass of `hpdsl verify`, over the month's rows only
   (a Parquet file's row groups before the month are not read);
3. `finish_site` joins the months' tallies and goal data in order, with the states each kept,
   and runs the rest of the comparison (tolerances, pyfunnel where a point came far, causes)
   and the goals, as `verify_site` does after its one pass.

A trend at a URL is fetched and verified whole by the last task. The chunks of a site are cut
at each month's first row whether it is verified whole or by month, so the two give the same
result (tests/test_fleet.py holds them to it). Verifying by month costs more in all (the state
pass, and each month reading its first row group again), and pays when a site's months can run
at once on workers that would otherwise wait: a fleet of fewer sites than workers, or a long
site last.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path

from hpdsl.fleet.manifest import Site
from hpdsl.fleet.site import (
    QUIET,
    GoalData,
    Goals,
    Run,
    SiteResult,
    month_starts,
    open_site,
    site_package,
    site_result,
    verify_site,
)
from hpdsl.sim.loaded import LoadedPackage
from hpdsl.sim.verify.compare import Comparison, Tally, first_pass, merged
from hpdsl.sim.verify.replay import Frozen, Replayer, frozen_state, thawed_state
from hpdsl.sim.verify.results import Settings
from hpdsl.sim.verify.trendfile import TrendFileError


@dataclass
class Start:
    """What the months of a site share: the trend as read, where each month begins, and the
    rules' state there. Travels to the workers that run the months (a year of inputs is some
    tens of megabytes; Dask sends it once to each worker)."""

    site: str
    error: str = ""  # the site's own problem; "" when it can be verified
    replay: str = ""
    opened: Comparison | None = None  # without its package (a module does not travel)
    months: list[int] = field(default_factory=list)  # each month's first row, then the end
    # the rules' state before each month (None: fresh), as bytes: a worker takes it back with its
    # own build of the rules' module (`thawed_state`)
    states: list[Frozen | None] = field(default_factory=list)
    seconds: float = 0.0
    whole: bool = False  # a trend at a URL: fetched and verified whole by `finish_site`

    @property
    def count(self) -> int:
        return max(len(self.months) - 1, 0)


@dataclass
class Month:
    """A month's first pass: its tallies, what the goals keep, and the states kept on the way."""

    tallies: dict[str, Tally]
    goals: GoalData
    snapshots: dict[int, Frozen]  # the states kept before rows of the month, by row
    seconds: float = 0.0


def start_site(site: Site, settings: Settings | None = None, replay: str = "python") -> Start:
    """Read the site's trend and replay its year unrecorded, keeping the state at each month."""
    started = time.perf_counter()
    package, how = site_package(site, replay)
    if isinstance(package, str):
        return Start(site.id, error=package, replay=how, seconds=time.perf_counter() - started)
    if site.url:  # fetched by the task that verifies it, whole (`finish_site`)
        return Start(site.id, replay=how, whole=True)
    opened = open_site(package, Path(site.trend), settings or Settings())
    if isinstance(opened, str):
        return Start(site.id, error=opened, replay=how, seconds=time.perf_counter() - started)
    rows = len(opened.recording.time_ms)
    months = [0, *month_starts(opened.recording.time_ms), rows]
    replayer = Replayer(package, opened.recording, opened.step_s)
    state = replayer.new()
    states: list[Frozen | None] = [None]
    for first, end in itertools.pairwise(months[:-1]):
        replayer.run(state, first, end, [])
        states.append(frozen_state(state))
    # the package stays here: a module does not travel (each process has its own, `_with`)
    travelling = dataclasses.replace(opened, loaded=None)  # type: ignore[arg-type]
    return Start(site.id, "", how, travelling, months, states, time.perf_counter() - started)


def verify_month(site: Site, start: Start, month: int, replay: str = "python") -> Month:
    """The first pass over one month of a site, from the rules' state at its first row."""
    started = time.perf_counter()
    package, _ = site_package(site, replay)
    assert isinstance(package, LoadedPackage) and start.opened is not None
    opened = _with(start.opened, package)
    replayer = Replayer(package, opened.recording, opened.step_s)
    goals = Goals(package)
    observed = goals.start(opened.recording)
    first, end = start.months[month], start.months[month + 1]
    frozen = start.states[month]
    state = thawed_state(frozen, package.module) if frozen is not None else None
    tallies = first_pass(opened, replayer, opened.cuts_of(first, end), QUIET, goals, observed, state)
    return Month(tallies, goals.data, replayer.snapshots, time.perf_counter() - started)


def finish_site(site: Site, start: Start, months: list[Month], replay: str = "python") -> Run:
    """The site's result from its months, joined in order."""
    started = time.perf_counter()
    if start.whole:
        return verify_site(site, None, replay)
    seconds = start.seconds + sum(m.seconds for m in months)
    if start.error or start.opened is None:
        return Run(SiteResult(site.id, error=start.error), seconds, replay=start.replay)
    package, _ = site_package(site, replay)
    assert isinstance(package, LoadedPackage)
    opened = _with(start.opened, package)
    replayer = Replayer(package, opened.recording, opened.step_s)
    for first, frozen in zip(start.months, start.states, strict=False):
        if frozen is not None:
            replayer.snapshots[first] = frozen
    for part in months:
        replayer.snapshots.update(part.snapshots)
    goals = Goals(package)
    goals.start(opened.recording)
    for part in months:
        goals.data.extend(part.goals)
    try:
        result = site_result(site, opened, replayer, merged([m.tallies for m in months]), goals)
    except TrendFileError as exc:
        result = SiteResult(site.id, error=exc.diagnostics[0].message)
    return Run(result, seconds + time.perf_counter() - started, replay=start.replay)


def _with(opened: Comparison, package: LoadedPackage) -> Comparison:
    """The travelling comparison with this process's package, and a report of its own."""
    return dataclasses.replace(opened, loaded=package, report=copy.deepcopy(opened.report))


def verify_by_month(site: Site, settings: Settings | None = None, replay: str = "python") -> Run:
    """A site verified month by month in this process (the engine runs the months on a cluster)."""
    start = start_site(site, settings, replay)
    months = [verify_month(site, start, k, replay) for k in range(start.count)]
    return finish_site(site, start, months, replay)
