"""How fast, and in how much memory, `hpdsl verify` checks a year of one-minute trends.

    python3 benchmarks/bench_verify.py [--days N]

A year of the shipped package is simulated once (`hpdsl simulate`, Greensboro), written as
Parquet and as CSV, and simulated again with one site setpoint changed (cooling_above 23C
where the rules have 21C: a controller that departs). Then, each in its own process so that
its peak memory is its own:

1. reference: the compiled `Package.scan` alone over the same number of one-minute scans, its
   field inputs set from the same weather (the cost of the rules themselves);
2. `hpdsl verify` on the clean year, Parquet;
3. the same, CSV (about 0.9 GB of text);
4. `hpdsl verify` on the departing year, Parquet: the departures found, grouped and explained.

Wall time and peak resident memory (ru_maxrss) of each, and each time as a ratio to the
reference. The targets: a year in at most 20 s and 500 MB. Not a test: the numbers go into the
README.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Runs one command in a fresh interpreter and reports its own peak memory, so that no earlier
# measurement's peak is counted.
RUNNER = """
import json, resource, sys, time
began = time.perf_counter()
if sys.argv[1] == "reference":
    sys.path.insert(0, sys.argv[2])
    import bench_simulate, datetime
    from pathlib import Path
    from hpdsl.sim import loaded, weather
    package = loaded.load([Path(sys.argv[3])])
    count = int(sys.argv[4])
    temperatures = weather.load("greensboro").at(datetime.datetime(2024, 1, 1), 60.0, count).temp_air.tolist()
    began = time.perf_counter()
    bench_simulate.reference(package, temperatures)
    code = 0
else:
    from hpdsl.cli import main
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(sys.argv[1:])
    sys.stderr.write(out.getvalue())
seconds = time.perf_counter() - began
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"code": code, "seconds": seconds, "peak_mb": peak_mb}))
"""


def measure(*argv: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *argv], capture_output=True, text=True, check=False, cwd=REPO
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"failed: {' '.join(argv)}\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    result["report"] = done.stderr  # type: ignore[assignment]
    return result


def simulate(out: Path, days: float, *extra: str) -> None:
    command = ["simulate", str(REPO / "rules"), "-o", str(out), "--days", f"{days:g}", "-q", *extra]
    done = subprocess.run([sys.executable, "-m", "hpdsl", *command], capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(done.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=float, default=365.0)
    args = parser.parse_args()
    rows = int(args.days * 1440) + 1
    print(f"Python {platform.python_version()} on {platform.machine()}, {args.days:g} days, {rows:,} rows")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        began = time.perf_counter()
        simulate(work / "parquet", args.days)
        simulate(work / "csv", args.days, "--trend-format", "csv", "--no-plots")
        site = work / "site.toml"
        site.write_text('[Changeover]\ncooling_above = "23C"\n', encoding="utf-8")
        simulate(work / "departing", args.days, "--params", str(site), "--no-plots")
        print(f"(trends simulated in {time.perf_counter() - began:.0f} s)")
        csv_size = (work / "csv" / "trend.csv").stat().st_size / 1e9
        reference = measure("reference", str(REPO / "benchmarks"), str(REPO / "rules"), str(rows))
        verify = ["verify", str(REPO / "rules"), "--trend"]
        clean = measure(*verify, str(work / "parquet" / "trend.parquet"))
        text = measure(*verify, str(work / "csv" / "trend.csv"))
        departing = measure(*verify, str(work / "departing" / "trend.parquet"))
    print(f"{'':44} {'seconds':>8} {'peak MB':>8} {'ratio':>7}")
    for title, found in (
        ("reference: Package.scan alone", reference),
        ("verify, clean year, Parquet", clean),
        (f"verify, clean year, CSV ({csv_size:.2f} GB)", text),
        ("verify, departing year (23C), Parquet", departing),
    ):
        ratio = found["seconds"] / reference["seconds"]
        print(f"{title:44} {found['seconds']:8.2f} {found['peak_mb']:8.0f} {ratio:7.2f}")
    summary = [
        line for line in str(departing["report"]).splitlines() if line.startswith(("GROUP", "  explained"))
    ]
    print("departing year:", *summary, sep="\n  ")
    assert clean["code"] == 0 and text["code"] == 0 and departing["code"] == 1


if __name__ == "__main__":
    main()
