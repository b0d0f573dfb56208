"""`hpdsl test`: run scenario files through the compiled Python target and report.

For each scenario file the package is the rules of the nearest folder, at or above the
file, that holds `.rules` files (or the folders given with `--rules`). The package is
compiled once to the Python target and imported; each scenario then builds its program (or
the whole package) with its parameters, and scans it from time 0 in steps of `step`, the
first scan with 0 s elapsed. Before the scan at a block's time the block's inputs are set;
after each scan the expectations whose window holds that time are checked:

- in `at T` (window T, or T-D .. T+D with `± D`) an expectation must hold after one scan of
  the window; `expect no log` must hold after all of them;
- in `during T1 .. T2` a value or alarm state must hold after every scan of the window, a
  log entry or an alarm change must appear in one, `unchanged` compares every scan with the
  first.

A time between two scans means the first scan at or after it. Names, values and units are
resolved against the compiled program's metadata before anything runs, so a misspelt point
is a diagnostic with its line and column, never a failure at run time.
"""

from __future__ import annotations

import time
from pathlib import Path

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.files import UsageError, read_source
from hpdsl.base.progress import Progress
from hpdsl.base.source import RULES_SUFFIX, SourceFile, Span
from hpdsl.compile import site as site_
from hpdsl.tools.testing import scenario as sc
from hpdsl.tools.testing.execute import CompiledPackage as CompiledPackage
from hpdsl.tools.testing.execute import compile_package, run_scenario
from hpdsl.tools.testing.results import Failure as Failure
from hpdsl.tools.testing.results import Outcome as Outcome
from hpdsl.tools.testing.results import TestReport as TestReport
from hpdsl.tools.testing.results import junit_xml as junit_xml
from hpdsl.tools.testing.results import render_outcomes as render_outcomes
from hpdsl.tools.testing.results import summary as summary

# --- Finding scenarios and their package -----------------------------------------------------


def discover(paths: list[Path]) -> list[Path]:
    """The scenario files under the given paths, sorted within each folder."""
    found: list[Path] = []
    seen: set[Path] = set()
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError("no such file or folder: " + ", ".join(f"`{p}`" for p in missing))
    for path in paths:
        candidates = sorted(path.rglob(f"*{sc.SCENARIO_SUFFIX}")) if path.is_dir() else [path]
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen and candidate.is_file():
                seen.add(key)
                found.append(candidate)
    return found


def package_folder(scenario_file: Path) -> Path | None:
    """The nearest folder at or above the file's own that holds `.rules` files."""
    folder = scenario_file.resolve().parent
    for candidate in (folder, *folder.parents):
        if any(candidate.glob(f"*{RULES_SUFFIX}")) or any(candidate.glob(f"*/*{RULES_SUFFIX}")):
            return candidate
    return None


# --- The whole command ----------------------------------------------------------------------


def run_paths(
    paths: list[Path],
    rules: list[Path] | None = None,
    params: Path | None = None,
    select: str | None = None,
    cites: str | None = None,
    plc: bool = False,
    progress: Progress | None = None,
) -> TestReport:
    """Run every scenario under the paths; the report holds diagnostics and outcomes.

    `select` keeps the scenarios whose name contains it, `cites` those citing that requirement;
    `plc` runs them on the PLC code compiled by MATIEC instead of the Python target. `progress`
    shows the phases on a terminal: compiling (and building the PLC code), then the scenarios.
    """
    progress = progress or Progress("test", False)
    began = time.perf_counter()
    report = TestReport()
    files = discover(paths)
    if not files:
        raise UsageError("no scenario files (*.scenario) under " + ", ".join(f"`{p}`" for p in paths))
    groups: dict[tuple[Path, ...], list[Path]] = {}
    for file in files:
        if rules:
            key = tuple(rules)
        else:
            folder = package_folder(file)
            if folder is None:
                raise UsageError(
                    f"no rules package found for `{file}`: no .rules files at or above its folder"
                    " (give --rules)"
                )
            key = (folder,)
        groups.setdefault(key, []).append(file)
    names: dict[str, Span] = {}
    for rule_paths, scenario_files in groups.items():
        parsed = [parse_file(file, report) for file in scenario_files]
        what = "compiling the rules and building the PLC code with MATIEC" if plc else "compiling the rules"
        with progress.phase(what):
            compiled = compile_package(list(rule_paths), report, plc=plc)
        if compiled is None:
            continue
        site_parameters = None
        if params is not None:
            site_parameters = site_.read(params, compiled.ir_package, compiled.modules)
            if site_parameters.diagnostics:
                if site_parameters.source is not None:
                    report.sources[site_parameters.name] = site_parameters.source
                report.diagnostics.extend(site_parameters.diagnostics)
                continue
        requirements = {name for name, _ in compiled.ir_package.requirements}
        count = sum(len(scenarios) for scenarios in parsed)
        where = " on the PLC code" if plc else ""
        with progress.phase(f"running the scenarios{where}", total=count, unit="scenarios") as step:
            for file, scenarios in zip(scenario_files, parsed, strict=True):
                for scenario in scenarios:
                    step.advance()
                    if not _check_header(scenario, names, requirements, report):
                        continue
                    if select is not None and select not in scenario.name:
                        continue
                    if cites is not None and cites not in {name for name, _ in scenario.cites}:
                        continue
                    outcome = run_scenario(compiled, scenario, site_parameters, report, file.parent)
                    if outcome is not None:
                        report.outcomes.append(outcome)
    report.diagnostics.sort(key=Diagnostic.sort_key)
    report.seconds = time.perf_counter() - began
    return report


def check_scenario_text(source: SourceFile, path: Path | None, rules: list[Path] | None = None) -> TestReport:
    """One scenario file as an editor holds it: parsed, resolved against its package and run.

    The language server's view of a `.scenario` file: syntax errors, names, units and citations
    that do not resolve, and every expectation that did not hold, each at its line. The package
    is the one `hpdsl test` would use (`rules`, else the nearest folder with `.rules` files
    above `path`); without one only the syntax is checked.
    """
    report = TestReport()
    report.sources[source.name] = source
    parsed = sc.parse_scenarios(source)
    report.diagnostics.extend(parsed.diagnostics)
    folder = package_folder(path) if rules is None and path is not None else None
    rule_paths = rules or ([folder] if folder is not None else [])
    if not rule_paths or any(d.is_error for d in parsed.diagnostics):
        return report
    compiled = compile_package(rule_paths, report)
    if compiled is None:
        return report
    requirements = {name for name, _ in compiled.ir_package.requirements}
    names: dict[str, Span] = {}
    for scenario in parsed.scenarios:
        if not _check_header(scenario, names, requirements, report):
            continue
        outcome = run_scenario(compiled, scenario, None, report, path.parent if path else Path.cwd())
        if outcome is not None:
            report.outcomes.append(outcome)
    return report


def editor_diagnostics(report: TestReport, name: str) -> list[Diagnostic]:
    """What `check_scenario_text` found in the file `name`, as diagnostics at its lines.

    Its own diagnostics, every failed expectation (`scenario-failed`, at the expectation), a
    run that broke, and one diagnostic at the first line when the rules package itself has
    errors (they are the rules files' own, shown there).
    """
    found = [d for d in report.diagnostics if d.span.file == name]
    elsewhere = [d for d in report.diagnostics if d.span.file != name and d.is_error]
    if elsewhere:
        first = elsewhere[0]
        found.append(
            messages.RULES_BROKEN.at(
                Span(name, 1, 1, 1, 2),
                first=f"{first.span}: {first.message}",
                hint="fix the rules first; `hpdsl check` lists every error",
            )
        )
    for outcome in report.outcomes:
        scenario = outcome.scenario.name
        if outcome.error is not None:
            found.append(
                messages.SCENARIO_BROKE.at(outcome.scenario.span, scenario=scenario, problem=outcome.error)
            )
        for failure in outcome.failures:
            found.append(
                messages.SCENARIO_FAILED.at(failure.span, scenario=scenario, problem=failure.message)
            )
    return sorted(found, key=Diagnostic.sort_key)


def parse_file(path: Path, report: TestReport) -> list[sc.Scenario]:
    source, problem = read_source(path)
    if problem is not None:
        report.diagnostics.append(problem)
    if source is None:
        return []
    report.sources[source.name] = source
    parsed = sc.parse_scenarios(source)
    report.diagnostics.extend(parsed.diagnostics)
    return parsed.scenarios


def _check_header(
    scenario: sc.Scenario, names: dict[str, Span], requirements: set[str], report: TestReport
) -> bool:
    """Report a duplicate name and citations of undeclared IDs; False if the scenario must not run."""
    errors = len(report.diagnostics)
    previous = names.get(scenario.name)
    if previous is not None:
        report.diagnostics.append(
            messages.DUPLICATE_NAME.at(
                scenario.span,
                name=scenario.name,
                hint=f"scenario names are unique in a package; the other is at {previous}",
            )
        )
    names.setdefault(scenario.name, scenario.span)
    for requirement, span in scenario.cites:
        if requirement not in requirements:
            report.diagnostics.append(
                messages.UNKNOWN_REQUIREMENT.at(
                    span, name=requirement, hint="cite an ID that a `requirement` declares"
                )
            )
    return len(report.diagnostics) == errors
