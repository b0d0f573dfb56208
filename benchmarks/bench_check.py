"""How fast `hpdsl check` is: cold start on the shipped rules, and growth with size.

    python3 benchmarks/bench_check.py [--repeat N] [--rules PATH]

1. Cold process: `python -m hpdsl check rules/` in a fresh interpreter, against the
   reference of starting a bare interpreter (`python -c pass`) in the same run; the
   ratio is what hpdsl itself costs, independent of how fast this machine is.
2. Scaling: generated packages of 1,250 to 10,000 rules checked in-process; the time
   per 1,000 rules should stay flat if checking cost grows linearly with size. The
   reference is lark parsing the same text into a bare parse tree (no AST, no checks).

Timings are medians of --repeat runs. Not a test: machines are noisy, so the numbers
go into the README, not into assertions.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lark import Lark

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hpdsl.base.source import SourceFile  # noqa: E402
from hpdsl.check.checker import check_sources  # noqa: E402
from hpdsl.language.parser import grammar_text  # noqa: E402

RULES_PER_PROGRAM = 100


def generate(rule_count: int) -> str:
    """A package of `rule_count` rules in programs of 100, each rule a small changeover."""
    parts = ['requirement C1 "Changeover"', "enum SystemMode (Heating, Cooling)"]
    for p in range(rule_count // RULES_PER_PROGRAM):
        parts.append(f'program Zone{p} "Generated zone {p}" cites C1')
        parts.append("    input outdoor_temp: C range -40C .. 60C fallback 10C")
        parts.append("    input occupied: bool")
        parts.append("    parameter cooling_above: C = 21C range 15C .. 30C")
        for r in range(RULES_PER_PROGRAM):
            parts.append(f"    output mode_{r}: SystemMode = Heating")
            parts.append(f"    output setpoint_{r}: C = 21C range 10C .. 30C")
        for r in range(RULES_PER_PROGRAM):
            parts.append(
                f'    rule select_{r} "Zone rule {r}" cites C1\n'
                f"        if outdoor_temp > cooling_above + {r % 5} K and occupied then\n"
                f"            mode_{r} = Cooling\n"
                f"            setpoint_{r} = 24C\n"
                f"        else if outdoor_temp < 15C - {r % 3} K or outdoor_temp < 5C for 10 min then\n"
                f"            mode_{r} = Heating\n"
                f"            setpoint_{r} = max(20C, 15C + {r % 4} K)\n"
                f"        end\n"
                f"    end"
            )
        parts.append("end")
    return "\n".join(parts) + "\n"


def _without_gc(action: Callable[[str], object], text: str) -> object:
    """Run the reference as hpdsl runs its check: with the cyclic collector paused."""
    gc.disable()
    try:
        return action(text)
    finally:
        gc.enable()


def median_seconds(action: object, repeat: int) -> float:
    assert callable(action)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def cold_start(rules: Path, repeat: int) -> None:
    python = sys.executable
    # An installed hpdsl has its bytecode written at install time; a source checkout gets it
    # on the warm-up run below, unless the environment forbids writing it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(*args: str) -> None:
        subprocess.run([python, *args], cwd=REPO, check=False, capture_output=True, env=env)

    run("-m", "hpdsl", "check", str(rules))  # warm the on-disk grammar cache and the OS file cache
    reference = median_seconds(lambda: run("-c", "pass"), repeat)
    check = median_seconds(lambda: run("-m", "hpdsl", "check", str(rules)), repeat)
    files = len(list(rules.rglob("*.rules")))
    print(f"## Cold process: hpdsl check {rules.relative_to(REPO)} ({files} files), median of {repeat}")
    print()
    print("| what | wall time | ratio to bare interpreter |")
    print("|---|---|---|")
    print(f"| `python -c pass` (reference) | {reference * 1000:.0f} ms | 1.0 |")
    print(f"| `python -m hpdsl check rules/` | {check * 1000:.0f} ms | {check / reference:.1f} |")
    print()


def scaling(repeat: int) -> None:
    print(f"## Checking generated packages in-process, median of {repeat}")
    print()
    print("| rules | lines | bare lark tree (reference) | hpdsl parse + check | per 1,000 rules | ratio |")
    print("|---|---|---|---|---|---|")
    # The reference: lark parsing the same text into a plain parse tree, no AST, no checks.
    parser = Lark(grammar_text(), parser="lalr", lexer="basic")
    per_thousand = []
    for count in (1250, 2500, 5000, 10000):
        text = generate(count)
        source = SourceFile("generated.rules", text)
        diagnostics = check_sources([source])
        errors = [d for d in diagnostics if d.is_error]
        assert not errors, errors[:3]
        parse = median_seconds(lambda text=text: _without_gc(parser.parse, text), repeat)
        check = median_seconds(lambda source=source: check_sources([source]), repeat)
        per_thousand.append(check / count * 1000)
        print(
            f"| {count:,} | {text.count(chr(10)):,} | {parse * 1000:.0f} ms | {check * 1000:.0f} ms "
            f"| {check / count * 1e6:.0f} ms | {check / parse:.2f} |"
        )
    print()
    growth = per_thousand[-1] / per_thousand[0]
    print(f"Cost per rule at 10,000 rules / at 1,250 rules: {growth:.2f} (1.00 is perfectly linear).")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rules", type=Path, default=REPO / "rules")
    args = parser.parse_args()
    cold_start(args.rules.resolve(), args.repeat)
    scaling(max(1, args.repeat // 3))


if __name__ == "__main__":
    main()
