"""What `hpdsl test` found: each scenario's outcome and failures, the report of a run, and the
report printed as text or written as JUnit XML.

May import: hpdsl.base, hpdsl.tools.testing.scenario.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.source import SourceFile, Span
from hpdsl.tools.testing import scenario as sc


@dataclass(frozen=True)
class Failure:
    """An expectation that did not hold: where it is written, when, and what was seen."""

    span: Span
    time_s: float
    message: str


@dataclass
class Outcome:
    """The result of one scenario."""

    scenario: sc.Scenario
    failures: list[Failure] = field(default_factory=list)
    scans: int = 0
    seconds: float = 0.0
    error: str | None = None  # the run itself broke (a bug in the generated code)
    skipped: str | None = None  # why it did not run: the site file sets what it `assumes`
    site_note: str | None = None  # a failure that the site file's values alone cause

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None and self.skipped is None

    @property
    def failed(self) -> bool:
        return bool(self.failures) or self.error is not None


@dataclass
class TestReport:
    """Everything `hpdsl test` found: diagnostics in the files, and each scenario's outcome."""

    sources: dict[str, SourceFile] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics) and not any(o.failed for o in self.outcomes)


# --- Reports --------------------------------------------------------------------------------


def render_outcomes(report: TestReport, verbose: bool) -> Iterator[str]:
    """The text report: each failure with its file, line, time, expected and actual value."""
    for outcome in report.outcomes:
        scenario = outcome.scenario
        if outcome.passed:
            if verbose:
                scans = f"{outcome.scans} scans, {outcome.seconds:.2f} s"
                yield f"PASS {scenario.file}::{scenario.name} ({scans})"
            continue
        if outcome.skipped is not None:
            yield f"SKIP {scenario.file}::{scenario.name}: {outcome.skipped}"
            continue
        yield f"FAIL {scenario.file}::{scenario.name}" + (f" - {scenario.title}" if scenario.title else "")
        if outcome.error is not None:
            yield f"  {scenario.span}: the run stopped: {outcome.error}"
        for failure in outcome.failures:
            yield f"  {failure.span}: {failure.message}"
        if outcome.site_note is not None:
            yield f"  {scenario.span}: with the site file only: {outcome.site_note}"


def summary(report: TestReport) -> str:
    passed = sum(1 for o in report.outcomes if o.passed)
    failed = sum(1 for o in report.outcomes if o.failed)
    skipped = len(report.outcomes) - passed - failed
    errors = sum(1 for d in report.diagnostics if d.is_error)
    parts = [f"{passed} passed"]
    if failed:
        parts.append(f"{failed} failed")
    if skipped:
        parts.append(f"{skipped} skipped")
    if errors:
        parts.append(f"{errors} error(s) in the files")
    count = len(report.outcomes)
    return f"{count} scenario{'s' if count != 1 else ''}: " + ", ".join(parts) + f" in {report.seconds:.1f} s"


def junit_xml(report: TestReport) -> str:
    """JUnit XML: a suite per scenario file, a case per scenario, a failure per broken expectation."""
    suites = ElementTree.Element("testsuites", name="hpdsl test")
    by_file: dict[str, list[Outcome]] = {}
    for outcome in report.outcomes:
        by_file.setdefault(outcome.scenario.file, []).append(outcome)
    errors_by_file: dict[str, list[Diagnostic]] = {}
    for diagnostic in report.diagnostics:
        if diagnostic.is_error:
            errors_by_file.setdefault(diagnostic.span.file, []).append(diagnostic)
    for file in sorted(set(by_file) | set(errors_by_file)):
        outcomes = by_file.get(file, [])
        errors = errors_by_file.get(file, [])
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=file,
            tests=str(len(outcomes) + (1 if errors else 0)),
            failures=str(sum(1 for o in outcomes if o.failures)),
            errors=str(sum(1 for o in outcomes if o.error) + (1 if errors else 0)),
            skipped=str(sum(1 for o in outcomes if o.skipped is not None)),
            time=f"{sum(o.seconds for o in outcomes):.3f}",
        )
        classname = Path(file).with_suffix("").as_posix().strip("/").replace("/", ".")
        for outcome in outcomes:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=classname,
                name=outcome.scenario.name,
                time=f"{outcome.seconds:.3f}",
            )
            if outcome.skipped is not None:
                ElementTree.SubElement(case, "skipped", message=outcome.skipped)
            if outcome.error is not None:
                element = ElementTree.SubElement(case, "error", message=outcome.error)
                element.text = f"{outcome.scenario.span}: {outcome.error}"
            if outcome.failures:
                first = outcome.failures[0]
                element = ElementTree.SubElement(case, "failure", message=first.message)
                element.text = "\n".join(f"{f.span}: {f.message}" for f in outcome.failures)
        if errors:
            case = ElementTree.SubElement(suite, "testcase", classname=classname, name="(file)")
            element = ElementTree.SubElement(case, "error", message=errors[0].message)
            element.text = "\n".join(f"{d.span}: {d.message} [{d.code}]" for d in errors)
    ElementTree.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"
    )
