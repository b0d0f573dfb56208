"""How fast `hpdsl compile` is: the shipped package to every target.

    python3 benchmarks/bench_compile.py [--repeat N]

1. In process, per target: check + lower + generate the shipped rules for `python`, the
   three Structured Text dialects and the PLCopen project, each from scratch.
2. All targets together from one check and lowering (what a build that writes every
   output pays): the budget is under 1 s.
3. The reference, in the same run: `hpdsl check` of the same package (parse and type
   check, nothing generated). The ratio says what lowering and printing cost on top of
   checking, independent of how fast this machine is.

Timings are medians of --repeat runs. Not a test: machines are noisy, so the numbers go
into the README, not into assertions.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hpdsl.check.package import check_paths  # noqa: E402
from hpdsl.codegen.compiler import compile_paths, lower_paths  # noqa: E402
from hpdsl.codegen.plcopen import PlcopenGenerator  # noqa: E402
from hpdsl.codegen.python import PythonGenerator  # noqa: E402
from hpdsl.codegen.st import GENERATORS  # noqa: E402

RULES = REPO / "rules"
TARGETS = [("python", None), ("st", "iec"), ("st", "codesys"), ("st", "siemens"), ("plcopen", None)]


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def all_targets() -> int:
    """Check and lower once, then print every target; the number of bytes written."""
    result = lower_paths([RULES])
    assert result.package is not None
    package = result.package
    size = len(PythonGenerator(package).generate("bench"))
    for generator in [*GENERATORS.values(), PlcopenGenerator]:
        output = generator(package).generate("bench")
        assert not any(d.is_error for d in output.diagnostics)
        size += sum(len(text) for text in output.files.values())
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    all_targets()  # warm: imports, the grammar and the templates load once per process

    reference = median_seconds(lambda: check_paths([RULES]), args.repeat)
    print(f"reference: hpdsl check of the shipped rules      {reference * 1000:7.1f} ms")
    print()
    print(f"{'target':<22} {'compile':>10} {'vs check':>9}")
    for target, dialect in TARGETS:
        seconds = median_seconds(
            lambda t=target, d=dialect: compile_paths([RULES], t, dialect=d), args.repeat
        )
        label = f"{target} {dialect}" if dialect else target
        print(f"{label:<22} {seconds * 1000:7.1f} ms {seconds / reference:8.2f}x")
    together = median_seconds(all_targets, args.repeat)
    size = all_targets()
    print()
    print(
        f"all five targets from one lowering: {together * 1000:.1f} ms "
        f"({together / reference:.2f}x a check; budget 1000 ms), {size / 1e6:.1f} MB written"
    )


if __name__ == "__main__":
    main()
