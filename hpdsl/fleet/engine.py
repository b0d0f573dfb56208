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
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hpdsl.fleet.manifest import Site
from hpdsl.fleet.site import Run, SiteResult, rules_package, verify_site

RETRIES = 2
WORKER_MEMORY = "1GiB"  # a site-year's replay stays well under this (docs/fleet.md)


@dataclass(frozen=True)
class Engine:
    """How to run: in process (workers 0, no scheduler), a local cluster, or a given scheduler."""

    workers: int = 0
    scheduler: str | None = None
    replay: str = "auto"  # native where it can be built, "native", or "python"

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


def _distributed(
    sites: list[Site], engine: Engine, job: Callable[[Site], Run], on_done: Callable[[Run], None] | None
) -> list[Run]:
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
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
