"""`hpdsl trace`: requirement coverage, from each requirement ID to the rules and scenarios that cite it.

The package's own list of requirements is its `requirement` declarations (the shipped one is
`rules/requirements.rules`: one ID and summary per line). Every construct that implements an
item cites its ID; every scenario that tests it cites it too. The trace fails (exit 1) when a
requirement is cited by no construct, when a citation names an ID that is not declared, and,
when the paths hold scenario files, when a requirement is cited by no scenario.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.escape import markdown_code, markdown_text
from hpdsl.base.files import read_source
from hpdsl.base.source import SourceFile, Span
from hpdsl.language import nodes as n
from hpdsl.tools.testing import scenario as sc

if TYPE_CHECKING:
    from hpdsl.check.checker import CheckedPackage
    from hpdsl.check.package import CheckResult


@dataclass(frozen=True)
class Citation:
    """A construct or scenario that cites a requirement."""

    what: str  # "rule select_mode in Changeover", "scenario dead_band_holds_mode"
    span: Span


@dataclass(frozen=True)
class Requirement:
    name: str
    summary: str
    span: Span
    implemented_by: tuple[Citation, ...]
    tested_by: tuple[Citation, ...]


@dataclass
class Trace:
    """The coverage of every declared requirement, and what is wrong with it."""

    requirements: list[Requirement] = field(default_factory=list)
    unknown: list[tuple[str, Citation]] = field(default_factory=list)  # citations of undeclared IDs
    scenario_files: int = 0
    sources: dict[str, SourceFile] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # the rules' and scenarios' errors

    @property
    def uncovered(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.implemented_by]

    @property
    def untested(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.tested_by] if self.scenario_files else []

    @property
    def ok(self) -> bool:
        return (
            not self.uncovered
            and not self.untested
            and not self.unknown
            and not any(d.is_error for d in self.diagnostics)
        )


def trace_paths(paths: list[Path]) -> Trace:
    """The requirement trace of the rules (and scenario files) under the paths."""
    from hpdsl.check.checker import check_package
    from hpdsl.check.package import load_paths

    # Scenario files and folders that hold only scenarios are read as scenarios, not as rules.
    rule_paths = [
        p
        for p in paths
        if (p.is_dir() and any(p.rglob("*.rules"))) or (p.is_file() and p.suffix != sc.SCENARIO_SUFFIX)
    ]
    loaded = load_paths(rule_paths or paths)
    checked, found = check_package(list(loaded.sources.values()))
    return trace_checked(paths, loaded, checked, found)


def trace_checked(
    paths: list[Path], loaded: CheckResult, checked: CheckedPackage | None, found: list[Diagnostic]
) -> Trace:
    """The trace of a package already read (`loaded`) and checked (`checked`, `found`), with the
    scenario files under `paths`."""
    from hpdsl.tools.testing.runner import discover

    result = Trace(sources=dict(loaded.sources))
    result.diagnostics.extend(d for d in loaded.diagnostics if d.is_error)
    result.diagnostics.extend(d for d in found if d.is_error and d.code != "unknown-requirement")
    modules = checked.modules if checked is not None else _parse_all(loaded.sources)
    declared: dict[str, n.Requirement] = {}
    citations: dict[str, list[Citation]] = {}
    for module in modules:
        for item in module.items:
            if isinstance(item, n.Requirement):
                declared.setdefault(item.name.text, item)
            _collect(item, None, citations)
    tests: dict[str, list[Citation]] = {}
    scenario_files = [p for p in discover(paths) if p.suffix == sc.SCENARIO_SUFFIX] if paths else []
    result.scenario_files = len(scenario_files)
    for path in scenario_files:
        source, problem = read_source(path)
        if problem is not None:
            result.diagnostics.append(problem)
        if source is None:
            continue
        result.sources[source.name] = source
        parsed = sc.parse_scenarios(source)
        result.diagnostics.extend(parsed.diagnostics)
        for scenario in parsed.scenarios:
            for requirement, span in scenario.cites:
                tests.setdefault(requirement, []).append(Citation(f"scenario {scenario.name}", span))
    for name in sorted({**citations, **tests}):
        if name not in declared:
            for citation in citations.get(name, []) + tests.get(name, []):
                result.unknown.append((name, citation))
    for name, item in declared.items():
        result.requirements.append(
            Requirement(
                name,
                item.summary,
                item.name.span,
                tuple(citations.get(name, ())),
                tuple(tests.get(name, ())),
            )
        )
    return result


def _parse_all(sources: dict[str, SourceFile]) -> list[n.Module]:
    """The files that parse, for a trace of a package whose checking failed."""
    from hpdsl.language.parser import parse_source

    modules = []
    for source in sources.values():
        parsed = parse_source(source)
        if parsed.module is not None:
            modules.append(parsed.module)
    return modules


_KIND = {
    "Program": "program",
    "Rule": "rule",
    "Hysteresis": "hysteresis",
    "Alarm": "alarm",
    "Machine": "machine",
    "State": "state",
    "Transition": "transition",
    "Table": "table",
    "Curve": "curve",
    "Schedule": "schedule",
    "Totalizer": "totalizer",
    "Counter": "counter",
    "Event": "event",
    "EnumDecl": "enum",
    "Declaration": "",
}


def _collect(node: Any, program: str | None, found: dict[str, list[Citation]]) -> None:
    """Every construct under `node` that cites requirements, with the program it sits in."""
    meta = getattr(node, "meta", None)
    if isinstance(meta, n.Meta) and meta.cites and not isinstance(node, n.Requirement):
        what = _describe(node, program)
        for ident in meta.cites:
            found.setdefault(ident.text, []).append(Citation(what, ident.span))
    if isinstance(node, n.Program):
        program = node.name.text
    if not dataclasses.is_dataclass(node):
        return
    for f in dataclasses.fields(node):
        if f.name in ("meta", "span"):
            continue
        value = getattr(node, f.name)
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if dataclasses.is_dataclass(child) and not isinstance(child, type):
                _collect(child, program, found)


def _describe(node: Any, program: str | None) -> str:
    kind_name = type(node).__name__
    kind = _KIND.get(kind_name, kind_name.lower().replace("decl", ""))
    if not kind:
        kind = getattr(getattr(node, "kind", None), "value", None) or str(
            getattr(node, "kind", "declaration")
        )
    name = getattr(node, "name", None)
    text = getattr(name, "text", None) or getattr(getattr(node, "target", None), "text", None) or ""
    described = f"{kind} {text}".strip()
    if program is not None and kind != "program":
        described += f" in {program}"
    return described


# --- Reports ----------------------------------------------------------------------------------


def render_text(trace: Trace) -> str:
    lines: list[str] = []
    for requirement in trace.requirements:
        status = "ok"
        if not requirement.implemented_by:
            status = "NOT IMPLEMENTED"
        elif trace.scenario_files and not requirement.tested_by:
            status = "NOT TESTED"
        lines.append(f"{requirement.name}  {requirement.summary}  [{status}]")
        for citation in requirement.implemented_by:
            lines.append(f"    {_where(citation.span)}  {citation.what}")
        for citation in requirement.tested_by:
            lines.append(f"    {_where(citation.span)}  {citation.what}")
    for name, citation in trace.unknown:
        lines.append(
            f"{_where(citation.span)}: error: {citation.what} cites `{name}`, which no `requirement` declares"
        )
    lines.append(summary(trace))
    return "\n".join(lines) + "\n"


def summary(trace: Trace) -> str:
    total = len(trace.requirements)
    implemented = total - len(trace.uncovered)
    text = f"{implemented} of {total} requirements implemented"
    if trace.scenario_files:
        tested = sum(1 for r in trace.requirements if r.tested_by)
        text += f", {tested} of {total} tested by scenarios"
    if trace.unknown:
        text += f", {len(trace.unknown)} citation(s) of undeclared IDs"
    return text


def render_markdown(trace: Trace) -> str:
    lines = ["| ID | requirement | implemented by | tested by |", "|---|---|---|---|"]
    for requirement in trace.requirements:
        implemented = "<br>".join(_markdown_citation(c) for c in requirement.implemented_by) or "**none**"
        tested = "<br>".join(_markdown_citation(c) for c in requirement.tested_by) or "**none**"
        summary_text = markdown_text(requirement.summary)
        lines.append(f"| {markdown_text(requirement.name)} | {summary_text} | {implemented} | {tested} |")
    lines.append("")
    lines.append(summary(trace))
    return "\n".join(lines) + "\n"


def _markdown_citation(citation: Citation) -> str:
    return f"{markdown_text(citation.what)} ({markdown_code(_where(citation.span))})"


def render_json(trace: Trace) -> str:
    def cite(citation: Citation) -> dict[str, Any]:
        return {"what": citation.what, "file": citation.span.file, "line": citation.span.line}

    data = {
        "requirements": [
            {
                "id": r.name,
                "summary": r.summary,
                "declared": {"file": r.span.file, "line": r.span.line},
                "implemented_by": [cite(c) for c in r.implemented_by],
                "tested_by": [cite(c) for c in r.tested_by],
            }
            for r in trace.requirements
        ],
        "unknown": [{"id": name, **cite(c)} for name, c in trace.unknown],
        "ok": trace.ok,
    }
    return json.dumps(data, indent=2) + "\n"


def _where(span: Span) -> str:
    return f"{span.file}:{span.line}"
