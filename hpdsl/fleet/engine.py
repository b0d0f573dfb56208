"""Where the sites of a fleet are verified: in this process, or on a Dask cluster.

By default every site runs here, one after the other, with nothing to start. Given a number of
workers, a `LocalCluster` of that many worker processes is started on loopback (one thread
each, each limited to `WORKER_MEMORY`); given a scheduler's address, the sites go to that
cluster. Dask schedules; hpdsl does not.

A site's own problems (rules with errors, an unreadable trend) are its result. Anything else a
site raises (a worker lost, a file system that failed) is retried up to `RETRIES` times, by Dask
on a cluster and here in process, and then reported as the site's error: one site never ends
the run. The results come back in the order of the site ids, so that they are the same
whatever the number of workers and whichever finished first.

Each rules folder is compiled, and built natively (`hpdsl.sim.native`), here before any site
runs: the workers of a cluster on this machine then import the built module from its cache
instead of each building it.

With `partition="month"` a site is verified a month at a time (`hpdsl.fleet.months`): a task
reads its trend and keeps the rules' state at each month, a task a month replays and compares
it, and a last one joins them. On a cluster the months of a site run at once on as many
workers; as many sites at a time are under way as the cluster has worker threads
(`IN_FLIGHT` a thread), so that the trends read and waiting for their months stay within the
workers' memory. The result is the same as the site's verified whole.
"""

from __future__ import annotations

import contextlib
import functools
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hpdsl.fleet import months
from hpdsl.fleet.manifest import Site
from hpdsl.fleet.site import Run, SiteResult, rules_package, verify_site

RETRIES = 2
WORKER_MEMORY = "1GiB"  # a site-year's replay stays well under this (docs/fleet.md)
IN_FLIGHT = 1  # sites verified by month under way at once, per worker thread


@dataclass(frozen=True)
class Engine:
    """How to run: in process (workers 0, no scheduler), a local cluster, or a given scheduler."""

    workers: int = 0
    scheduler: str | None = None
    replay: str = "auto"  # native where it can be built, "native", or "python"
    partition: str = "site"  # a task a site, or a task a month of a site ("month")

    @property
    def distributed(self) -> bool:
        return self.workers > 0 or self.scheduler is not None

    def describe(self) -> str:
        if self.scheduler is not None:
            return f"the Dask cluster at {self.scheduler}"
        if self.workers:
            return f"a local Dask cluster of {self.workers} worker process{'es' if self.workers > 1 else ''}"
        return "this process"


def prepare(sites: list[Site], engine: Engine) -> dict[str, str]:
    """Compile (and build natively) each rules folder of the sites once, here; how each replays."""
    return {str(rules): rules_package(rules, engine.replay)[1] for rules in sorted({s.rules for s in sites})}


def run_sites(
    sites: list[Site],
    engine: Engine,
    job: Callable[[Site], Run] | None = None,
    on_done: Callable[[Run], None] | None = None,
) -> list[Run]:
    """Verify every site; the runs in the order of the site ids."""
    if engine.partition == "month" and job is None:
        if engine.distributed:
            return sorted(_by_month(sites, engine, on_done), key=lambda run: run.result.site)
        job = functools.partial(months.verify_by_month, replay=engine.replay)
    if job is None:
        job = functools.partial(verify_site, replay=engine.replay)
    runs = (
        _distributed(sites, engine, job, on_done) if engine.distributed else _in_process(sites, job, on_done)
    )
    return sorted(runs, key=lambda run: run.result.site)


def _failed(site: Site, error: BaseException, attempts: int) -> Run:
    last = traceback.format_exception_only(type(error), error)[-1].strip()
    return Run(SiteResult(site.id, error=f"failed after {attempts} attempts: {last}"), attempts=attempts)


def _in_process(
    sites: list[Site], job: Callable[[Site], Run], on_done: Callable[[Run], None] | None
) -> list[Run]:
    runs: list[Run] = []
    for site in sites:
        for attempt in range(1, RETRIES + 2):
            try:
                run = job(site)
                run.attempts = attempt
                break
            except Exception as error:
                if attempt == RETRIES + 1:
                    run = _failed(site, error, attempt)
        run.worker = "in process"
        runs.append(run)
        if on_done is not None:
            on_done(run)
    return runs


@contextlib.contextmanager
def _client(engine: Engine) -> Iterator[tuple[Any, Any]]:
    """(dask.distributed, a client of the engine's cluster: a local one started here, or the
    scheduler's), closed at the end."""
    import importlib

    # dask.distributed's functions carry no annotations: used through one untyped handle.
    distributed: Any = importlib.import_module("dask.distributed")
    cluster = None
    if engine.scheduler is None:
        cluster = distributed.LocalCluster(
            n_workers=engine.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit=WORKER_MEMORY,
        )
    client = distributed.Client(cluster if cluster is not None else engine.scheduler)
    try:
        yield distributed, client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _distributed(
    sites: list[Site], engine: Engine, job: Callable[[Site], Run], on_done: Callable[[Run], None] | None
) -> list[Run]:
    with _client(engine) as (distributed, client):
        by_key = {f"site-{site.id}": site for site in sites}
        futures = [
            client.submit(job, site, key=key, retries=RETRIES, pure=False) for key, site in by_key.items()
        ]
        runs: list[Run] = []
        for future in distributed.as_completed(futures):
            site = by_key[future.key]
            try:
                run = future.result()
            except Exception as error:
                run = _failed(site, error, RETRIES + 1)
            run.worker = engine.describe()
            runs.append(run)
            if on_done is not None:
                on_done(run)
        return runs


def _by_month(sites: list[Site], engine: Engine, on_done: Callable[[Run], None] | None) -> list[Run]:
    """Each site as a task that reads it, a task a month and one that joins them, on the cluster."""
    replay = engine.replay
    with _client(engine) as (distributed, client):
        window = max(1, IN_FLIGHT * sum(client.nthreads().values()))
        waiting = list(reversed(sites))
        by_key: dict[str, tuple[str, Site, Any]] = {}
        pending = distributed.as_completed()

        def begin() -> None:
            site = waiting.pop()
            start = client.submit(
                months.start_site, site, None, replay, key=f"start-{site.id}", retries=RETRIES, pure=False
            )
            count = client.submit(_count, start, key=f"count-{site.id}", pure=False)
            by_key[count.key] = ("count", site, start)
            pending.add(count)

        for _ in range(min(window, len(waiting))):
            begin()
        runs: list[Run] = []
        for future in pending:
            kind, site, start = by_key.pop(future.key)
            try:
                found = future.result()
            except Exception as error:
                found = _failed(site, error, RETRIES + 1)
            if kind == "count":
                if isinstance(found, Run):  # the reading failed after its retries
                    runs.append(found)
                else:
                    parts = [
                        client.submit(
                            months.verify_month,
                            site,
                            start,
                            k,
                            replay,
                            key=f"month-{site.id}-{k:03d}",
                            retries=RETRIES,
                            pure=False,
                        )
                        for k in range(found)
                    ]
                    done = client.submit(
                        months.finish_site, site, start, parts, replay, key=f"site-{site.id}", retries=RETRIES
                    )
                    by_key[done.key] = ("site", site, None)
                    pending.add(done)
                    continue
            else:
                runs.append(found)
            runs[-1].worker = engine.describe()
            if on_done is not None:
                on_done(runs[-1])
            if waiting:
                begin()
        return runs


def _count(start: months.Start) -> int:
    """How many months a site's start holds (read on the client; the start itself stays)."""
    return start.count
