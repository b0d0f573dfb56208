"""How fast `hpdsl simulate` runs a year: the whole package in closed loop with the plant model.

    python3 benchmarks/bench_simulate.py [--days N] [--repeat N]

Four rows, each the best (minimum) of --repeat runs with the cyclic garbage collector paused,
all measured in the same run so that their ratios hold on a noisy machine:

1. reference: the compiled `Package.scan` alone, 1-minute steps, its field inputs set from
   the same weather as the loop and plausible constant plant readings (no plant model, no
   recording): the cost of the rules themselves;
2. closed loop: `hpdsl.sim.run.simulate` — plant model, sensors fed, rules scanned, every
   point recorded, commands read back — for the period (a year by default, 525,601 scans);
3. trend file: writing that trend as Parquet;
4. command: `hpdsl simulate` end to end (compile, weather, loop, trend, KPIs, plots and the
   HTML report) as a user runs it, once.

The target is a year in under 30 s, for the closed loop (row 2) and the command (row 4). Not a
test: the numbers go into the README.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hpdsl.cli import main as hpdsl_main  # noqa: E402
from hpdsl.sim import config, loaded, run, trend, weather  # noqa: E402

START = datetime.datetime(2024, 1, 1)


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
        gc.enable()
    return min(times)


def reference(package: loaded.LoadedPackage, temperatures: list[float]) -> None:
    instance = package.new(START)
    signals = instance.plant_signals
    signals.outdoor_coil_temp_sensor = -5.0
    signals.compressor_running_status = True
    signals.load_demand_signal = 60.0
    signals.supply_water_temp_sensor = 40.0
    signals.return_water_temp_sensor = 35.0
    signals.source_water_temp_sensor = 20.0
    signals.electrical_power_meter = 10.0
    signals.alarm_reset_button = False
    instance.occupancy.occupancy_override = False
    protection = instance.equipment_protection
    protection.discharge_temp = 70.0
    protection.suction_pressure = 6.0
    protection.discharge_pressure = 25.0
    protection.compressor_current = 10.0
    instance.performance.load_flow = 2.4
    instance.defrost_control.outdoor_humidity = 80.0
    instance.defrost_control.coil_outlet_temp = -5.0
    instance.defrost_control.space_temp = 21.0
    instance.aux_heat.required_heat = 60.0
    instance.supply_temperature_check.supply_temp_target = 40.0
    instance.performance_tracking.time_since_commissioning = 30.0
    scan = instance.scan
    for i, outdoor in enumerate(temperatures):
        signals.outdoor_temp_sensor = outdoor
        scan(60.0 if i else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    package = loaded.load([REPO / "rules"])
    assert isinstance(package, loaded.LoadedPackage)
    typical_year = weather.load("greensboro")
    duration = args.days * 86400.0
    count = int(duration // 60) + 1
    temperatures = typical_year.at(START, 60.0, count).temp_air.tolist()
    plant = config.defaults()

    print(f"Python {platform.python_version()} on {platform.machine()}, {args.days:g} days, {count:,} scans")
    t_reference = best(args.repeat, lambda: reference(package, temperatures))
    result: list[run.Simulation] = []

    def loop() -> None:
        result[:] = [run.simulate(package, plant, typical_year, START, duration, 60.0)]

    t_loop = best(args.repeat, loop)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "trend.parquet"
        t_trend = best(args.repeat, lambda: trend.write(result[0].trend, path))
        out = Path(folder) / "run"
        began = time.perf_counter()
        code = hpdsl_main(["simulate", str(REPO / "rules"), "-o", str(out), "--days", f"{args.days:g}", "-q"])
        t_command = time.perf_counter() - began
        assert code == 0
    per_scan = 1e6 / count
    print(f"{'':34} {'seconds':>9} {'us/scan':>9} {'ratio':>7}")
    rows = [
        ("reference: Package.scan alone", t_reference),
        ("closed loop (plant + recording)", t_loop),
        ("trend file (Parquet)", t_trend),
        ("hpdsl simulate, end to end", t_command),
    ]
    for title, seconds in rows:
        print(f"{title:34} {seconds:9.2f} {seconds * per_scan:9.1f} {seconds / t_reference:7.2f}")
    print(f"closed loop per simulated year: {t_loop * 365.0 / args.days:.1f} s (target 30 s)")


if __name__ == "__main__":
    main()
