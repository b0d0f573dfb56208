"""How long one scan of the PLC code takes: the shipped package's `rules_main`, compiled by MATIEC.

    python3 benchmarks/bench_plc.py [--repeat N] [--scans N]

Needs MATIEC (HPDSL_IEC2C / IEC2C / iec2c on PATH, and MATIEC_LIB; see hpdsl/tools/testing/matiec.py). The
rules in rules/ are compiled to the `iec` dialect, translated to C by iec2c and built with the
C compiler at -O2 (hpdsl.tools.testing.matiec.build), exactly as `hpdsl test --plc` runs them. Every field
input of every block is set to the plausible value bench_python.py uses, then:

1. the PLC scan: `rules_main` called N times in a C loop timed in C (clock_gettime), so no
   Python or ctypes call is counted; the number is one call of the whole package program:
   15 blocks, their input checks, and the copy of each block's records into the event log;
2. the reference, in the same run: the Python target's `Package.scan` with the same readings.

The target for (1) is 10 µs per scan on this machine. Each figure is the best of --repeat runs.
Not a test: the numbers go into the README.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_python import plausible_value  # noqa: E402

from hpdsl.codegen.compiler import compile_paths, import_generated  # noqa: E402
from hpdsl.tools.testing import matiec  # noqa: E402

SCAN_S = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scans", type=int, default=200_000)
    args = parser.parse_args()
    try:
        toolchain = matiec.find_toolchain()
    except matiec.ToolchainError as exc:
        raise SystemExit(str(exc)) from None
    result = compile_paths([REPO / "rules"], "python")
    assert result.ok and result.package is not None
    module = import_generated(result.files["rules.py"], "_bench_plc_rules")
    started = time.perf_counter()
    bench = matiec.build(result.package, toolchain=toolchain)
    print(f"built with MATIEC and {toolchain.cc} in {time.perf_counter() - started:.1f} s ({bench.folder})")
    _classes, package_class = matiec.program_classes(bench, module)
    plc = package_class()
    python = module.Package()
    wired = {(w[0], w[1]) for w in module.Package.WIRES}
    for ours, theirs in zip(python.programs(), plc.programs(), strict=True):
        for point in type(ours).POINTS:
            if point.kind == "input" and (type(ours).NAME, point.name) not in wired:
                value = plausible_value(module, point)
                setattr(ours, point.attribute, value)
                setattr(theirs, point.attribute, value)
    python.scan(SCAN_S)
    plc.scan(SCAN_S)  # sets cycle_time_s; the C loop below calls the program again and again
    faults = [a for p in python.programs() for a in p.active_alarms() if a.endswith("_sensor_fault")]
    assert not faults, faults
    main_block = plc.block

    def plc_seconds() -> float:
        gc.collect()
        return float(bench.library.hp_time_calls(main_block.layout.number, main_block.address, args.scans))

    def python_seconds(scans: int) -> float:
        gc.collect()
        gc.disable()
        try:
            begin = time.perf_counter()
            scan = python.scan
            for _ in range(scans):
                scan(SCAN_S)
            return time.perf_counter() - begin
        finally:
            gc.enable()

    python_scans = max(args.scans // 20, 1000)
    plc_best = min(plc_seconds() for _ in range(args.repeat)) / args.scans
    python_best = min(python_seconds(python_scans) for _ in range(args.repeat)) / python_scans
    print()
    print("| what | µs per scan | ratio to the Python scan |")
    print("|---|---|---|")
    print(
        f"| reference: Python `Package.scan` (best of {args.repeat} x {python_scans:,}) | "
        f"{python_best * 1e6:.2f} | 1.00 |"
    )
    print(
        f"| PLC: `rules_main` compiled by MATIEC, gcc -O2 (best of {args.repeat} x {args.scans:,}) | "
        f"{plc_best * 1e6:.2f} | {plc_best / python_best:.3f} |"
    )
    print()
    print(f"target: 10 µs per PLC scan -> {'met' if plc_best * 1e6 <= 10.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
