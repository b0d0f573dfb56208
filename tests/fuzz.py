"""Structure-aware fuzzing of every input hpdsl reads: rules, scenario, site (TOML) and trend files.

Each generator writes inputs shaped like the real ones (a program with declarations, rules,
hysteresis, machines and tables; a scenario of the shipped package; a site file of its
parameters; a CSV trend of its points) and then breaks some of them: a line dropped, doubled or
swapped, a token cut, hostile text put in (control and bidi characters, quotes that end strings,
`]]>`, `--`, backticks, code meant to run, a number of thousands of digits, deep nesting).

What must hold for every case:

- no internal error: only diagnostics, never an exception escaping hpdsl's API;
- no hang: each case finishes within `CASE_SECONDS`;
- no injection: a rules file that checks clean compiles to Python that imports and runs without
  side effect (a canary file the hostile text tries to create never appears), and to Structured
  Text and PLCopen without error; the formatter keeps its meaning and is idempotent.

`tests/test_fuzz.py` runs a few thousand cases with a fixed seed on every test run. A longer run,
for a nightly job or after a change to the front end:

    python tests/fuzz.py --cases 20000 --seed 7          # every kind, 20,000 cases each
    python tests/fuzz.py --kinds rules --seconds 3600    # one kind, for an hour

It prints the counts and every failure with the input that caused it, and exits 1 on a failure.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import io
import os
import random
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from hpdsl.base.files import decode  # noqa: E402

CASE_SECONDS = 20  # a case that runs longer is a hang
CANARY = "HPDSL_FUZZ_CANARY"

# Text an attacker or a careless tool puts in names, strings and values.
HOSTILE = [
    '"',
    '"""',
    "\\",
    "\\x00",
    "\\x1b[2J",
    "\\ud800",
    "\u202e",
    "\u200b",
    "]]>",
    "--",
    "*)",
    "(*",
    "//",
    "`",
    "<script>",
    "\n",
    "\r",
    "\t",
    "{{",
    "%s",
    f'"+str(__import__("os").system("touch {CANARY}"))+"',
    f'"""; __import__(\'os\').system(\'touch {CANARY}\'); """',
    "9" * 400,
    "1e999",
    "(" * 300,
    "if true then " * 80,
    "x" * 70,
    "é",
    "°C",
]

UNITS = ["C", "K", "kW", "kWh", "%", "min", "s", "h", "bar", "A", "real", "int", "bool"]
QUANTITY = {"C": "21C", "K": "2 K", "kW": "5 kW", "kWh": "3 kWh", "%": "40 %", "min": "5 min",
            "s": "30 s", "h": "1 h", "bar": "3 bar", "A": "10 A", "real": "0.5", "int": "3",
            "bool": "true"}  # fmt: skip


@dataclasses.dataclass
class Outcome:
    """What a run found."""

    cases: dict[str, int] = dataclasses.field(default_factory=dict)
    failures: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # kind, what, input
    accepted: dict[str, int] = dataclasses.field(default_factory=dict)  # cases read without an error
    hangs: int = 0
    injections: int = 0
    compiled: int = 0  # rules cases that checked clean and went through every target

    def count(self, kind: str) -> None:
        self.cases[kind] = self.cases.get(kind, 0) + 1

    @property
    def internal_errors(self) -> int:
        return sum(1 for kind, what, _ in self.failures if not what.startswith(("hang", "injection")))


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise Hang if the block runs longer (Unix: SIGALRM; elsewhere no limit)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise Hang(f"more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------------------- mutations


def mutate(rng: random.Random, text: str) -> str:
    """The text broken 0-3 times (half of them not at all), as editors, tools and attackers break files."""
    for _ in range(rng.choice((0, 0, 0, 1, 2, 3))):
        lines = text.split("\n")
        kind = rng.randrange(7)
        k = rng.randrange(len(lines)) if lines else 0
        if kind == 0 and lines:
            del lines[k]
        elif kind == 1 and lines:
            lines.insert(k, lines[k])
        elif kind == 2 and len(lines) > 1:
            j = rng.randrange(len(lines))
            lines[k], lines[j] = lines[j], lines[k]
        elif kind == 3 and lines and lines[k]:
            cut = rng.randrange(len(lines[k]))
            lines[k] = lines[k][:cut] + lines[k][cut + rng.randint(1, 4) :]
        elif kind == 4 and lines:
            at = rng.randrange(len(lines[k]) + 1)
            lines[k] = lines[k][:at] + rng.choice(HOSTILE) + lines[k][at:]
        elif kind == 5:
            lines.insert(k, rng.choice(HOSTILE))
        else:
            at = rng.randrange(len(text) + 1)
            return (
                text[:at]
                + "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randint(1, 5)))
                + text[at:]
            )
        text = "\n".join(lines)
    return text


# Hostile text a rules string may hold: the checker accepts it, so it reaches every target.
ACCEPTED = [
    "]]>",
    "--",
    "*)",
    "(*",
    "//",
    "`",
    "<script>",
    "{{",
    "%s",
    '\\"\\"\\"',
    "\\n",
    "\\\\",
    "'''",
    "#",
    "é",
    "°C",
    "x" * 200,
    f"'+str(__import__('os').system('touch {CANARY}'))+'",
]


def hostile_words(rng: random.Random) -> str:
    """Documentation text, often with hostile text the checker accepts, now and then text it refuses."""
    words = ["Outdoor", "air", "temperature", "of", "the", "unit", "°C", "-", "60 %"]
    text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))
    if rng.random() < 0.4:
        text += " " + rng.choice(ACCEPTED)
    elif rng.random() < 0.05:
        text += " " + rng.choice(HOSTILE).replace('"', "'").replace("\n", "\\n")
    return text


# ------------------------------------------------------------------------------- rules files


class RulesGenerator:
    """A random package: enumerations, constants and programs of every construct."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        if self.rng.random() < 0.03:  # names Python, ST or the runtime read specially
            return self.rng.choice(["start", "self", "_x", "__init__", "len", "print", "scan", "STEP"])
            # fall through to a fresh name on the next call
        return f"{prefix}_{self.count}"

    def doc(self) -> str:
        return f'"{hostile_words(self.rng)}"'

    def value(self, unit: str) -> str:
        rng = self.rng
        if unit == "bool":
            return rng.choice(["true", "false"])
        if unit in ("real", "int"):
            return str(rng.randint(0, 9)) if unit == "int" else f"{rng.uniform(0, 9):.2f}"
        if unit == "C":
            return f"{rng.randint(-20, 40)}C"
        return f"{rng.randint(0, 90)} {unit}"

    def expr(self, names: dict[str, str], unit: str, depth: int = 0) -> str:
        rng = self.rng
        same = [n for n, u in names.items() if u == unit]
        if unit == "bool":
            numeric = [(n, u) for n, u in names.items() if u not in ("bool",)]
            choice = rng.randrange(5)
            if choice == 0 and same:
                return rng.choice(same)
            if choice == 1 and numeric and depth < 3:
                n, u = rng.choice(numeric)
                return f"{n} {rng.choice(['<', '>', '<=', '>=', '==', '!='])} {self.value(u)}"
            if choice == 2 and depth < 3:
                op = rng.choice(["and", "or"])
                return f"({self.expr(names, 'bool', depth + 1)} {op} {self.expr(names, 'bool', depth + 1)})"
            if choice == 3 and depth < 3:
                return f"not {self.expr(names, 'bool', depth + 1)}"
            return rng.choice(["true", "false"])
        base = rng.choice(same) if same and rng.random() < 0.6 else self.value(unit)
        if depth < 2 and unit in ("kW", "real", "%", "K") and rng.random() < 0.4:
            other = self.expr(names, unit, depth + 1)
            return f"{rng.choice(['min', 'max'])}({base}, {other})"
        if depth < 2 and unit in ("kW", "real") and rng.random() < 0.3:
            return f"{base} * {rng.randint(1, 5)}"
        return base

    def program(self) -> str:
        rng = self.rng
        name = (
            self.name("Program").capitalize()
            if rng.random() < 0.95
            else rng.choice(["plant", "None", "Point"])
        )
        lines = [f"program {name} {self.doc()}"]
        names: dict[str, str] = {}
        outputs: dict[str, str] = {}
        parameters: list[str] = []
        for _ in range(rng.randint(1, 4)):
            unit = rng.choice(UNITS)
            n = self.name("in")
            rng_clause = (
                f" range {self.value(unit)} .. {self.value(unit)}"
                if unit == "C" and rng.random() < 0.5
                else ""
            )
            fallback = f" fallback {self.value(unit)}" if rng.random() < 0.5 else ""
            lines.append(f"    input {n}: {unit}{rng_clause}{fallback} {self.doc()}")
            names[n] = unit
        for _ in range(rng.randint(0, 3)):
            unit = rng.choice(UNITS)
            n = self.name("par")
            lines.append(f"    parameter {n}: {unit} = {self.value(unit)} {self.doc()}")
            names[n] = unit
            parameters.append(n)
        if len(parameters) >= 2 and rng.random() < 0.5:
            a, b = rng.sample(parameters, 2)
            if names[a] == names[b] and names[a] not in ("bool",):
                lines.append(f"    require {self.name('req')}: {a} <= {b} {self.doc()}")
        for _ in range(rng.randint(1, 4)):
            unit = rng.choice(UNITS)
            n = self.name("out")
            lines.append(f"    output {n}: {unit} = {self.value(unit)} {self.doc()}")
            outputs[n] = unit
        lines.append("")
        written = list(outputs.items())
        rng.shuffle(written)
        numeric = [n for n, u in names.items() if u == "C"]
        for n, unit in written:
            kind = rng.randrange(5)
            if kind == 0 and unit == "bool" and numeric:
                source = rng.choice(numeric)
                lines += [f"    hysteresis {n} on {source} {self.doc()}",
                          f"        below {rng.randint(-5, 10)}C -> false",
                          f"        above {rng.randint(11, 30)}C -> true", "    end"]  # fmt: skip
            elif kind == 1:
                cond = self.expr(names, "bool")
                lines += [
                    f"    rule {self.name('rule')} {self.doc()}",
                    f"        if {cond} then",
                    f"            {n} = {self.expr(names, unit)}",
                    "        else",
                    f"            {n} = {self.value(unit)}",
                    "        end",
                    "    end",
                ]
            elif kind == 2 and unit == "bool":
                machine = self.name("machine")
                cond = self.expr(names, "bool")
                lines += [
                    f"    machine {machine} {self.doc()}",
                    "        initial state Idle",
                    f"            when {cond} -> Running",
                    "        end",
                    "        state Running",
                    "            entry",
                    f"                {n} = true",
                    "            end",
                    f"            after {rng.randint(1, 30)} min -> Idle",
                    "        end",
                    "    end",
                ]
            elif kind == 3 and unit == "kW" and numeric:
                curve = self.name("curve")
                source = rng.choice(numeric)
                lines += [f"    curve {curve}(t: C) -> kW increasing", "        | -10C | 10 kW |",
                          "        |  10C | 40 kW |", "    end", f"    rule {self.name('rule')}",
                          f"        {n} = {curve}({source})", "    end"]  # fmt: skip
            else:
                lines += [
                    f"    rule {self.name('rule')}",
                    f"        {n} = {self.expr(names, unit)}",
                    "    end",
                ]
            if rng.random() < 0.2:
                alarm_on = self.expr(names, "bool")
                severity = rng.choice(["low", "medium", "high", "critical"])
                lines += [
                    f"    alarm {self.name('alarm')} {self.doc()}",
                    f"        when {alarm_on}",
                    f"        severity {severity}",
                    "    end",
                ]
        lines.append("end")
        return "\n".join(lines)

    def package(self) -> str:
        rng = self.rng
        parts = []
        if rng.random() < 0.3:
            parts.append(f'requirement R{rng.randint(1, 9)} "{hostile_words(rng)}"')
        if rng.random() < 0.2:
            parts.append(f"enum {self.name('Mode').capitalize()} (Heating, Cooling) {self.doc()}")
        parts += [self.program() for _ in range(rng.randint(1, 2))]
        return mutate(rng, "\n\n".join(parts) + "\n")


def run_rules_case(text: str, folder: Path, full: bool, outcome: Outcome) -> bool:
    """Check a rules text; when it checks clean (and `full`), every target, import and run."""
    from hpdsl.check.checker import check_sources
    from hpdsl.codegen.compiler import compile_paths
    from hpdsl.tools.fmt import format_text

    source, _ = decode("fuzz.rules", text.encode("utf-8", "surrogatepass"))
    if source is None:
        return False
    found = check_sources([source])
    formatted = format_text(text, "fuzz.rules")
    if formatted.text is not None:
        again = format_text(formatted.text, "fuzz.rules")
        assert again.text == formatted.text, "the formatter is not idempotent"
    if any(d.is_error for d in found):
        return False
    if not full:
        return True
    path = folder / "fuzz.rules"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for target, dialect in (("st", "iec"), ("st", "codesys"), ("st", "siemens"), ("plcopen", None)):
        result = compile_paths([path], target, "fuzz", dialect=dialect)
        assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    result = compile_paths([path], "python", "fuzz")
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    module_path = folder / f"fuzz_{outcome.compiled}.py"
    module_path.write_text(result.files["fuzz.py"], encoding="utf-8")
    spec = importlib.util.spec_from_file_location(module_path.stem, module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_path.stem] = module
    try:
        spec.loader.exec_module(module)
        package = module.Package()
        for _ in range(3):
            package.scan(60.0)
    finally:
        sys.modules.pop(module_path.stem, None)
    outcome.compiled += 1
    return True


# ------------------------------------------------------------------------------- scenarios


class ShippedPackage:
    """The shipped rules compiled once, with their points, for scenario, site and trend inputs."""

    def __init__(self) -> None:
        from hpdsl.tools.testing.execute import compile_package
        from hpdsl.tools.testing.results import TestReport

        compiled = compile_package([REPO / "rules"], TestReport())
        assert compiled is not None
        self.compiled = compiled
        self.points = [(cls.NAME, point) for cls in compiled.module.Package.PROGRAMS for point in cls.POINTS]


def scenario_text(rng: random.Random, shipped: ShippedPackage) -> str:
    programs = sorted({program for program, _ in shipped.points})
    program = rng.choice(programs)
    points = [p for name, p in shipped.points if name == program]
    lines = [f'scenario fuzz_{rng.randrange(10**6)} "{hostile_words(rng).replace(chr(34), "")}"',
             f"    program {program}", f"    step {rng.choice(['1 s', '10 s', '1 min'])}"]  # fmt: skip
    for _ in range(rng.randint(0, 2)):
        parameter = [p for p in points if p.kind == "parameter"]
        if parameter:
            p = rng.choice(parameter)
            keyword, operator = rng.choice([("parameter", "="), ("assumes", "==")])
            lines.append(f"    {keyword} {p.name} {operator} {_scenario_value(rng, p, fault=False)}")
    for t in sorted(rng.sample(range(0, 600), rng.randint(1, 4))):
        lines.append(f"    at {t} s")
        for _ in range(rng.randint(1, 4)):
            p = rng.choice(points)
            if p.kind == "input" and rng.random() < 0.6:
                lines.append(f"        set {p.name} = {_scenario_value(rng, p)}")
            else:
                op = rng.choice(["==", "!=", "<", ">="]) if p.type in ("real", "int") else "=="
                lines.append(f"        expect {p.name} {op} {_scenario_value(rng, p, fault=False)}")
    lines.append("end")
    return mutate(rng, "\n".join(lines) + "\n")


def _scenario_value(rng: random.Random, point: Any, *, fault: bool = True) -> str:
    if point.type == "bool":
        return rng.choice(["true", "false", "fault"] if fault else ["true", "false"])
    if point.type in ("real", "int"):
        low = point.low if point.low is not None else -50
        high = point.high if point.high is not None else 150
        number = rng.uniform(float(low) - 10, float(high) + 10)
        unit = point.unit or ""
        text = f"{number:.1f}" if point.type == "real" else str(int(number))
        return f"{text}{unit}" if unit in ("C", "F") else f"{text} {unit}".strip()
    return rng.choice(["Heating", "Cooling", "Air", "Ground", "Nope", *(["fault"] if fault else [])])


def run_scenario_case(text: str, shipped: ShippedPackage, folder: Path) -> bool:
    from hpdsl.tools.testing import scenario as sc
    from hpdsl.tools.testing.execute import run_scenario
    from hpdsl.tools.testing.results import TestReport

    source, _ = decode("fuzz.scenario", text.encode("utf-8", "surrogatepass"))
    if source is None:
        return False
    parsed = sc.parse_scenarios(source)
    ran = [
        run_scenario(shipped.compiled, scenario, None, TestReport(), folder) for scenario in parsed.scenarios
    ]
    return bool(ran) and all(outcome is not None for outcome in ran)


# ------------------------------------------------------------------------------- site files


def site_text(rng: random.Random, shipped: ShippedPackage) -> str:
    tables: dict[str, list[str]] = {}
    parameters = [(program, p) for program, p in shipped.points if p.kind == "parameter"]
    for program, point in rng.sample(parameters if rng.random() < 0.9 else shipped.points, rng.randint(1, 8)):
        key = point.name
        choice = rng.choice((0,) * 20 + (1, 2, 3, 4, 5))
        if choice == 0:
            value = f'"{_scenario_value(rng, point)}"'
        elif choice == 1:
            value = str(rng.choice([0, -1, 10 ** rng.randint(1, 400), 1.5e308, "inf", "nan"]))
        elif choice == 2:
            value = f'"{rng.choice(HOSTILE)}"'.replace("\n", "\\n")
        elif choice == 3:
            depth = rng.randint(1, 60)
            value = "[" * depth + "1" + "]" * (depth if rng.random() < 0.7 else rng.randint(0, depth))
        elif choice == 4:
            value = rng.choice(["true", "false", '"Ground"', '"2 h"', '"72F"', "{a = 1}"])
        else:
            value = f'"{rng.uniform(-100, 100):.2f} {rng.choice(UNITS)}"'
        tables.setdefault(program, []).append(f"{key} = {value}")
    text = "".join(f"[{program}]\n" + "\n".join(lines) + "\n" for program, lines in tables.items())
    return mutate(rng, text) if rng.random() < 0.4 else text


def run_site_case(text: str, shipped: ShippedPackage) -> bool:
    from hpdsl.compile import site

    source, _ = decode("fuzz.toml", text.encode("utf-8", "surrogatepass"))
    if source is None:
        return False
    return site.check(source, shipped.compiled.ir_package, shipped.compiled.modules).ok


# ------------------------------------------------------------------------------- trend files


def trend_text(rng: random.Random, shipped: ShippedPackage) -> str:
    inputs = [(program, p) for program, p in shipped.points if p.kind in ("input", "output")]
    chosen = rng.sample(inputs, rng.randint(1, 6))
    header = ["time"] + [f"{program}.{p.name}" + (f" [{p.unit}]" if p.unit and rng.random() < 0.5 else "")
                         for program, p in chosen]  # fmt: skip
    rows = [";".join(header) if rng.random() < 0.2 else ",".join(header)]
    year = rng.choice([2024, 2024, 2024, 1, 9999, -5, 20000])
    seconds = 0
    for _ in range(rng.randint(0, 40)):
        seconds += rng.choice([60, 60, 60, 0, -60, 3600, 86400 * 400])
        minute, second = divmod(abs(seconds), 60)
        hour, minute = divmod(minute, 60)
        day, hour = divmod(hour, 24)
        stamp = f"{year:04d}-01-{1 + day % 28:02d} {hour:02d}:{minute:02d}:{second:02d}"
        if rng.random() < 0.05:
            stamp = rng.choice(["", "yesterday", "2024-13-45 25:61:00", "1e9"])
        cells = [stamp] + [
            rng.choice(
                [_scenario_value(rng, p).split(" ")[0].rstrip("CF"), "", "nan", "inf", "-1e400", "ON", "x"]
            )
            for _, p in chosen
        ]
        rows.append(",".join(cells))
    return mutate(rng, "\n".join(rows) + "\n")


def run_trend_case(text: str, folder: Path) -> bool:
    from hpdsl.sim.verify.trendfile import TrendFileError, read_trend

    path = folder / "fuzz.csv"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        trend, _ = read_trend(path)
        for _ in trend.batches(list(range(len(trend.columns) + 1))):
            pass
    except TrendFileError:
        return False  # a diagnostic, as designed
    return True


# ------------------------------------------------------------------------------- the run

KINDS = ("rules", "scenario", "site", "trend")


def run(cases: dict[str, int], seed: int, *, full_every: int = 8, seconds: float | None = None) -> Outcome:
    """Fuzz each kind with its number of cases (or until `seconds` have passed for each)."""
    outcome = Outcome()
    shipped = ShippedPackage() if any(k != "rules" for k in cases) else None
    with tempfile.TemporaryDirectory(prefix="hpdsl-fuzz-") as temporary:
        folder = Path(temporary)
        canary = folder / CANARY
        for kind, count in cases.items():
            rng = random.Random(f"{seed}-{kind}")
            generator = RulesGenerator(rng)
            began = time.monotonic()
            for index in range(count if seconds is None else 10**12):
                if seconds is not None and time.monotonic() - began > seconds:
                    break
                text = _make(kind, rng, generator, shipped)
                outcome.count(kind)
                _one(kind, index, text, folder, canary, shipped, full_every, outcome)
    return outcome


def _make(kind: str, rng: random.Random, generator: RulesGenerator, shipped: ShippedPackage | None) -> str:
    if kind == "rules":
        return generator.package()
    assert shipped is not None
    return {"scenario": scenario_text, "site": site_text, "trend": trend_text}[kind](rng, shipped)


def _one(
    kind: str,
    index: int,
    text: str,
    folder: Path,
    canary: Path,
    shipped: ShippedPackage | None,
    full_every: int,
    outcome: Outcome,
) -> None:
    actions: dict[str, Callable[[], bool]] = {
        "rules": lambda: run_rules_case(text, folder, index % full_every == 0, outcome),
        "scenario": lambda: run_scenario_case(text, shipped, folder),  # type: ignore[arg-type]
        "site": lambda: run_site_case(text, shipped),  # type: ignore[arg-type]
        "trend": lambda: run_trend_case(text, folder),
    }
    cwd = os.getcwd()
    os.chdir(folder)  # a canary made by generated code lands here
    try:
        with time_limit(CASE_SECONDS), contextlib.redirect_stdout(io.StringIO()):
            if actions[kind]():
                outcome.accepted[kind] = outcome.accepted.get(kind, 0) + 1
    except Hang as exc:
        outcome.hangs += 1
        outcome.failures.append((kind, f"hang: {exc}", text))
    except Exception:
        outcome.failures.append((kind, traceback.format_exc(limit=6), text))
    finally:
        os.chdir(cwd)
    if canary.exists():
        canary.unlink()
        outcome.injections += 1
        outcome.failures.append((kind, "injection: generated code ran the input's text", text))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="cases of each kind (default 2000)")
    parser.add_argument("--seconds", type=float, help="run each kind this long instead of --cases")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default=",".join(KINDS), help="which inputs: " + ",".join(KINDS))
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    outcome = run({k: args.cases for k in kinds}, args.seed, seconds=args.seconds)
    for kind, what, text in outcome.failures[:20]:
        print(f"--- {kind}: {what}\n{text!r}\n")
    counts = ", ".join(
        f"{kind} {count} ({outcome.accepted.get(kind, 0)} read without error)"
        for kind, count in outcome.cases.items()
    )
    print(
        f"{sum(outcome.cases.values())} cases ({counts}; {outcome.compiled} rules cases through every"
        f" target): {outcome.internal_errors} internal errors, {outcome.hangs} hangs,"
        f" {outcome.injections} injections"
    )
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
