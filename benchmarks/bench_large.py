"""How hpdsl scales with the size of a rules file: 10,000 rules, in two shapes.

    python3 benchmarks/bench_large.py [--rules N]

1. **Independent**: one program with N rules, each computing an output of its own from the
   same input (the shape of a large generated package).
2. **Prioritised writers**: one program with N rules that all write one output, each with a
   `priority` of its own (the shape that made lowering quadratic: N x N ordering edges).
3. **A long documentation string**: one program whose documentation is 7 MB of text (a file
   just under the 8 MiB limit), the shape that made the lexer's regular expression use 4 GB.

For each shape, `hpdsl check` and `hpdsl compile` to every target run in a fresh process,
and the process reports its own time and peak memory (resident set). The budget is 10 s and
500 MB for each at N = 10,000.

The reference, in the same run: `hpdsl check` of the shipped package, so that the ratios
say how much a 10,000-rule file costs against the everyday one, whatever the machine.

Not a test: machines are noisy, so the numbers go into the README, not into assertions.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Runs in the child: one command, then its own wall time and peak memory on the last line.
_CHILD = textwrap.dedent(
    """
    import io, json, resource, sys, time, contextlib
    sys.path.insert(0, {repo!r})
    from hpdsl.cli import main
    began = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main({argv!r})
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    print(json.dumps({{"code": code, "seconds": seconds, "peak": peak}}))
    """
)

TARGETS = [
    ("python", ["--target", "python"]),
    ("st iec", ["--target", "st", "--dialect", "iec"]),
    ("st codesys", ["--target", "st", "--dialect", "codesys"]),
    ("st siemens", ["--target", "st", "--dialect", "siemens"]),
    ("plcopen", ["--target", "plcopen"]),
]


def independent(count: int) -> str:
    lines = ['program Large "Many independent rules"', '    input x: real range 0 .. 100 fallback 0 "x"']
    lines += [f'    output y{k}: real = 0 "y{k}"' for k in range(count)]
    for k in range(count):
        lines += [f"    rule r{k}", f"        y{k} = x * {k % 97 + 1}", "    end"]
    return "\n".join([*lines, "end", ""])


def prioritised(count: int) -> str:
    lines = [
        'program Large "Many prioritised writers of one output"',
        '    input x: real range 0 .. 100 fallback 0 "x"',
        '    output y: real = 0 "y"',
        '    output z: real = 0 "z"',
    ]
    for k in range(count):
        lines += [
            f"    rule r{k} priority {k + 1}",
            f"        if x > {k % 100} then",
            f"            y = {k}",
            "        end",
            "    end",
        ]
    lines += ["    rule read_back", "        z = y * 2", "    end"]
    return "\n".join([*lines, "end", ""])


def long_doc(count: int) -> str:
    del count  # one size: just under the 8 MiB file limit
    doc = "word " * 1_400_000
    return f'program Large "{doc}"\n    input x: real fallback 0 "x"\n    output y: real = 0 "y"\n' + (
        "    rule r\n        y = x\n    end\nend\n"
    )


def measure(argv: list[str]) -> dict[str, float]:
    code = _CHILD.format(repo=str(REPO), argv=argv)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed: {done.stderr.strip()[-400:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise SystemExit(f"`hpdsl {' '.join(argv)}` exited {result['code']}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000, help="rules in each file (default: 10,000)")
    args = parser.parse_args()
    reference = measure(["check", str(REPO / "rules")])
    print(f"reference: hpdsl check rules/ (shipped package): {reference['seconds']:.2f} s")
    print()
    print(f"| {args.rules:,} rules | command | time | x reference | peak memory |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="hpdsl-bench-") as folder:
        shapes = (("independent", independent), ("prioritised writers", prioritised), ("7 MB doc", long_doc))
        for shape, make in shapes:
            path = Path(folder) / f"{shape.split()[0]}.rules"
            path.write_text(make(args.rules), encoding="utf-8")
            runs = [("check", ["check", str(path)])]
            runs += [(f"compile {name}", ["compile", str(path), *flags, "-o", f"{folder}/out"])
                     for name, flags in TARGETS]  # fmt: skip
            for what, argv in runs:
                found = measure(argv)
                ratio = found["seconds"] / reference["seconds"]
                peak = found["peak"] / 2**20
                print(f"| {shape} | {what} | {found['seconds']:.2f} s | {ratio:.0f} | {peak:.0f} MB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
