"""How fast `hpdsl fleet verify` gets through site-years, in process and on a Dask LocalCluster.

    python3 benchmarks/bench_fleet.py [--sites N] [--days D] [--baseline REV]

N sites (default 4) are simulated once, each a year (D days) of one-minute trends of the shipped
package from its own start day, written as Parquet. Then, in the same run, each in a fresh
process so that its peak memory is its own:

1. reference: one `hpdsl verify` of one site's trend; with `--baseline REV`, also the same
   `hpdsl verify` as it was at the git revision REV (checked out into a temporary worktree), the
   verify a speed-up was asked against;
2. the native build of the rules (`python -m hpdsl.sim.native`), into an empty cache;
3. `hpdsl fleet verify` of the N sites in process, interpreted (`--replay python`) and native;
4. the same, native, on a LocalCluster of 1 worker, and of 2 workers, a task a site and a task a
   month (`--partition month`);
5. one site alone on the LocalCluster of 2 workers, a task a site and a task a month: what
   splitting a site by month does for the time to its result.

For each: wall time, site-years per minute, per core used, and the time per site-year as a
ratio to the reference; and for the fleet runs the time a site takes once its process is under
way (the median of `runs.json`'s seconds a site, leaving out the longest of each worker, the
one that compiled and imported the rules), as a ratio to the reference: what a site costs in a
large fleet, against what verifying it costs today with one `hpdsl verify`. Not a test: the
numbers go into docs/fleet.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


# Runs a command and prints the peak resident memory of the largest process it started (each
# of a LocalCluster's workers is such a process): a fresh interpreter, so no earlier peak counts.
WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], capture_output=True).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds, and the peak memory (MB) of the largest process the command ran."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command], cwd=cwd, capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - started
    code, peak_kb = done.stdout.split()
    if int(code) not in (0, 1):
        raise SystemExit(f"$ {' '.join(command)} exited {code}\n{done.stderr}")
    return seconds, int(peak_kb) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--baseline", metavar="REV", help="also time `hpdsl verify` at this git revision")
    args = parser.parse_args()
    hpdsl = [sys.executable, "-m", "hpdsl"]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        lines = ['[fleet]\nname = "Benchmark"\n']
        for k in range(args.sites):
            start = f"2024-01-{1 + k % 28:02d}"
            subprocess.run(
                [
                    *hpdsl,
                    "simulate",
                    str(REPO / "rules"),
                    "-o",
                    str(folder / f"sim{k}"),
                    "--days",
                    str(args.days),
                    "--start",
                    start,
                    "--no-plots",
                    "-q",
                ],
                cwd=folder,
                capture_output=True,
                check=True,
            )
            lines.append(
                f'[[site]]\nid = "site-{k:02d}"\nrules = "{REPO / "rules"}"\ntrend = "sim{k}/trend.parquet"\n'
            )
        (folder / "fleet.toml").write_text("\n".join(lines), encoding="utf-8")
        (folder / "one.toml").write_text("\n".join(lines[:2]), encoding="utf-8")
        site_years = args.sites * args.days / 365.0
        everything = ("fleet.toml", site_years)
        rows = []
        steady: list[float | None] = [None]
        seconds, peak = timed(
            [*hpdsl, "verify", str(REPO / "rules"), "--trend", "sim0/trend.parquet"], folder
        )
        reference = seconds / (args.days / 365.0)
        rows.append(("reference: one `hpdsl verify`, one site", seconds, peak, args.days / 365.0, 1))
        baseline = None
        if args.baseline:
            seconds, peak = _at_revision(args.baseline, folder, "sim0/trend.parquet")
            baseline = seconds / (args.days / 365.0)
            label = f"`hpdsl verify` at {args.baseline}, one site"
            rows.append((label, seconds, peak, args.days / 365.0, 1))
            steady.append(None)
        # The native build, timed on its own into an empty cache; the runs below find it there.
        env = {**os.environ, "HPDSL_CACHE": str(folder / "cache")}
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "hpdsl.sim.native", str(REPO / "rules")],
            env=env,
            check=True,
            capture_output=True,
        )
        build_s = time.perf_counter() - started
        native_row = len(steady) + 1
        one = ("one.toml", args.days / 365.0)
        by_month = ["--workers", "2", "--partition", "month"]
        runs = (
            ("`hpdsl fleet verify --replay python`, in process", ["--replay", "python"], 1, everything),
            ("`hpdsl fleet verify` (native), in process", [], 1, everything),
            ("`hpdsl fleet verify --workers 1` (native, LocalCluster)", ["--workers", "1"], 1, everything),
            ("`hpdsl fleet verify --workers 2` (native, LocalCluster)", ["--workers", "2"], 2, everything),
            ("the same, `--partition month`", by_month, 2, everything),
            ("one site, `--workers 2`", ["--workers", "2"], 2, one),
            ("one site, `--workers 2 --partition month`", by_month, 2, one),
        )
        for n, (label, extra, cores, (manifest, years)) in enumerate(runs):
            out = folder / f"out-{n}"
            seconds, peak = timed(
                [*hpdsl, "fleet", "verify", manifest, "-o", str(out), "-q", *extra], folder, env
            )
            rows.append((label, seconds, peak, years, cores))
            steady.append(_steady_seconds(out / "runs.json"))
        print(f"## {args.sites} site-years of one-minute trends ({args.days:g} days each)")
        print()
        print(
            "| what | wall time | site-years per minute | per core | time per site-year / reference"
            " | a site under way (s a site-year) | its ratio to the reference | peak memory of a process |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for (label, seconds, peak, years, cores), site_s in zip(rows, steady, strict=True):
            per_minute = years / (seconds / 60.0)
            if site_s is None:
                under_way = "|"
            else:
                per_year = site_s / (args.days / 365.0)
                under_way = f"{per_year:.1f} s | {reference / per_year:.1f} times as fast"
            print(
                f"| {label} | {seconds:.1f} s | {per_minute:.2f} | {per_minute / cores:.2f} |"
                f" {(seconds / years) / reference:.2f} | {under_way} | {peak:.0f} MB |"
            )
        print()
        print(f"native build of the shipped rules (once per rules version and machine): {build_s:.1f} s")
        summary = {"reference_s_per_site_year": round(reference, 2), "native_build_s": round(build_s, 1)}
        if baseline is not None:
            native = steady[native_row]  # the native run in process
            summary["baseline_s_per_site_year"] = round(baseline, 2)
            if native is not None:
                per_year = native / (args.days / 365.0)
                print(
                    f"a site under way (native, in process) against `hpdsl verify` at {args.baseline}:"
                    f" {baseline / per_year:.1f} times as fast"
                )
        print(json.dumps(summary))


def _at_revision(revision: str, folder: Path, trend: str) -> tuple[float, float]:
    """`hpdsl verify` of the trend as the code was at a git revision: wall seconds, peak MB."""
    tree = folder / "baseline"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), revision],
        check=True,
        capture_output=True,
    )
    try:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        command = [sys.executable, "-m", "hpdsl", "verify", str(REPO / "rules"), "--trend", trend]
        return timed(command, folder, env)
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)


def _steady_seconds(runs: Path) -> float | None:
    """The median seconds of a site once its worker is under way: each worker's longest site left
    out (the first, which compiled the rules and imported the native build), where it ran more."""
    import statistics

    by_worker: dict[str, list[float]] = {}
    for run in json.loads(runs.read_text(encoding="utf-8")):
        by_worker.setdefault(run["engine"], []).append(float(run["seconds"]))
    kept = [s for times in by_worker.values() for s in sorted(times)[: -1 if len(times) > 1 else None]]
    return statistics.median(kept) if kept else None


if __name__ == "__main__":
    main()
