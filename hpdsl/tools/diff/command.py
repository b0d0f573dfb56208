"""`hpdsl diff OLD NEW`: what a change to the rules does, in engineering terms, for review.

OLD and NEW are each a rules file or a folder of them. Both are loaded and checked; when
either has errors, they are printed like `hpdsl check` prints them and nothing is compared
(exit 1), because a package that does not check has no defined behaviour to compare. The
comparison itself is in `hpdsl.tools.diff.compare`; this module reads, renders and exits.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.escape import terminal
from hpdsl.base.source import SourceFile
from hpdsl.tools.diff.compare import Change, Group, Side, compare

EXIT_OK = 0
EXIT_ERRORS = 1
FORMATS = ("text", "markdown", "json")

NOT_BEHAVIOUR = "documentation, citations or requirements"
NO_CHANGE = "no change in behaviour (layout and comments are not compared)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of `hpdsl diff`."""
    parser.add_argument(
        "old", metavar="OLD", type=Path, help="the rules before: a rules file or a folder of them"
    )
    parser.add_argument(
        "new", metavar="NEW", type=Path, help="the rules after: a rules file or a folder of them"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default, for a terminal), markdown (for a pull-request comment) or json (for tools)",
    )
    parser.add_argument(
        "--params",
        metavar="SITE",
        type=Path,
        help="a site parameter file for both sides: the values in force are compared too",
    )
    parser.add_argument(
        "--old-params", metavar="SITE", type=Path, help="the site parameter file of OLD (overrides --params)"
    )
    parser.add_argument(
        "--new-params", metavar="SITE", type=Path, help="the site parameter file of NEW (overrides --params)"
    )
    parser.add_argument(
        "--exit-code",
        action="store_true",
        help="exit with 1 when there are differences (as `git diff --exit-code`), 0 when there are none",
    )


def run(args: argparse.Namespace) -> int:
    """Run `hpdsl diff`: compare, print the report, return the exit code."""
    from hpdsl.base.render import use_color, write

    old_site = args.old_params or args.params
    new_site = args.new_params or args.params
    with_sites = old_site is not None or new_site is not None
    old, old_problems = load(args.old, old_site, with_sites)
    new, new_problems = load(args.new, new_site, with_sites)
    if old is None or new is None:
        from hpdsl.base import render

        sources = {**old_problems.sources, **new_problems.sources}
        found = sorted(old_problems.diagnostics + new_problems.diagnostics, key=Diagnostic.sort_key)
        write(sys.stderr, render.render_text(found, sources, color=use_color("auto", sys.stderr)))
        broken = [label for label, side in (("OLD", old), ("NEW", new)) if side is None]
        write(
            sys.stderr,
            f"hpdsl diff: {' and '.join(broken)} {'has' if len(broken) == 1 else 'have'} errors, nothing"
            " compared; fix them first (`hpdsl check` shows the same diagnostics)\n",
        )
        return EXIT_ERRORS
    groups = compare(old, new)
    if with_sites:
        from hpdsl.tools.diff.site import site_changes

        assert old.in_force is not None and new.in_force is not None
        groups += site_changes(old.in_force, new.in_force)
    report = Report(groups)
    renderers = {"text": render_text, "markdown": render_markdown, "json": render_json}
    text = renderers[args.format](report)
    # Documentation and names from the rules never reach the terminal as control sequences.
    write(sys.stdout, text if args.format == "json" else terminal(text))
    return EXIT_ERRORS if args.exit_code and report.changes else EXIT_OK


@dataclass
class Problems:
    """Why one side could not be compared: its diagnostics, with the files to show them in."""

    sources: dict[str, SourceFile]
    diagnostics: list[Diagnostic]


def load(path: Path, site: Path | None = None, values: bool = False) -> tuple[Side | None, Problems]:
    """Read and check one side; None (and its errors) when it does not check.

    With `values`, the side also gets the parameters' values in force (`Side.in_force`): its
    site file's where `site` sets them, checked like `hpdsl check --params` checks them.
    A path that does not exist is a usage error (exit 2), raised by `load_paths`.
    """
    from hpdsl.check.checker import check_package
    from hpdsl.check.package import load_paths

    loaded = load_paths([path])
    checked, found = check_package(list(loaded.sources.values()))
    problems = Problems(dict(loaded.sources), [d for d in [*loaded.diagnostics, *found] if d.is_error])
    if problems.diagnostics or checked is None:
        return None, problems
    side = Side(loaded.sources, checked.modules)
    if values:  # the values in force need the lowered package, which only a site comparison pays for
        from hpdsl.codegen.compiler import package_name, source_names
        from hpdsl.compile import site as site_
        from hpdsl.compile.lower import LoweringError, lower_package
        from hpdsl.tools.diff.site import in_force

        try:
            package = lower_package(checked, package_name([path]), source_names([path]))
        except LoweringError as exc:
            problems.diagnostics.extend(exc.diagnostics)
            return None, problems
        settings = None
        if site is not None:
            settings = site_.read(site, package, checked.modules)
            if settings.source is not None:
                problems.sources[settings.name] = settings.source
            problems.diagnostics.extend(d for d in settings.diagnostics if d.is_error)
            if problems.diagnostics:
                return None, problems
        side.in_force = in_force(package, settings)
    return side, problems


# --------------------------------------------------------------------------- the report
@dataclass(frozen=True)
class Report:
    """The changes, grouped, with their counts."""

    groups: list[Group]

    @property
    def changes(self) -> list[Change]:
        return [change for group in self.groups for change in group.changes]

    def summary(self) -> str:
        """One sentence: how many changes, how many of them change behaviour."""
        changes = self.changes
        behaviour = sum(1 for c in changes if c.behaviour)
        other = len(changes) - behaviour
        if not changes:
            return NO_CHANGE
        if not behaviour:
            return f"no change in behaviour; {_count(other, 'change')} in {NOT_BEHAVIOUR}"
        text = f"{_count(len(changes), 'change')}: {behaviour} in behaviour"
        if other:
            text += f", {other} in {NOT_BEHAVIOUR}"
        return text


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _where(change: Change) -> str:
    where = f"was {change.location}" if change.removed else change.location
    if change.cites:
        where += ("; cited " if change.removed else "; cites ") + ", ".join(change.cites)
    return where


def render_text(report: Report) -> str:
    """One heading per top-level construct, one line per change, then the summary."""
    lines: list[str] = []
    for group in report.groups:
        lines.append(group.title)
        lines.extend(f"  {change.line}  [{_where(change)}]" for change in group.changes)
    if lines:
        lines.append("")
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


def render_markdown(report: Report) -> str:
    """A pull-request comment: a heading per construct, bullets, a table of changed table rows."""
    lines = ["## Rules changes", "", report.summary()[0].upper() + report.summary()[1:] + ".", ""]
    for group in report.groups:
        kind, _, name = group.title.rpartition(" ")  # "program Changeover", "site values of program Loop"
        lines.extend([f"### {kind} `{name}`", ""])
        for change in group.changes:
            text = f"{change.subject}: {change.description}" if change.subject else change.description
            if change.detail and change.documentation is None:
                text += f": {change.detail}"
            lines.append(f"- {_markdown_escape(text)} ({_markdown_where(change)})")
        lines.append("")
        rows = [c for c in group.changes if c.row is not None]
        if rows:
            lines.extend(_row_table(rows))
            lines.append("")
        for change in group.changes:
            if change.documentation is not None:
                lines.extend(_documentation_block(change))
                lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _markdown_where(change: Change) -> str:
    where = f"was `{change.location}`" if change.removed else f"`{change.location}`"
    if change.cites:
        where += ("; cited " if change.removed else "; cites ") + ", ".join(change.cites)
    return where


def _markdown_escape(text: str) -> str:
    """Escape Markdown outside code spans (the parts between backticks are left as they are)."""
    parts = text.split("`")
    for index in range(0, len(parts), 2):
        for char in ("\\", "*", "_", "[", "]", "<", "|"):
            parts[index] = parts[index].replace(char, "\\" + char)
        parts[index] = parts[index].replace(" -> ", " → ")
    return "`".join(parts)


def _html(text: str) -> str:
    """Text with code spans for an HTML element (a <summary>), where Markdown is not read."""
    parts = html.escape(text, quote=False).split("`")
    return "".join(f"<code>{part}</code>" if index % 2 else part for index, part in enumerate(parts))


def _cell(text: str | None) -> str:
    return f"`{text}`" if text else ""


def _row_table(changes: list[Change]) -> list[str]:
    """The changed rows of one table, cell by cell: `old` → `new` where a cell changed."""
    columns = changes[0].columns
    lines = [
        "| change | " + " | ".join(f"`{c}`" for c in columns) + " |",
        "|" + "---|" * (len(columns) + 1),
    ]
    for change in changes:
        row = change.row
        assert row is not None
        cells = []
        for before, after in row.cells:
            if row.status in ("changed",) and before != after and before is not None and after is not None:
                cells.append(f"{_cell(before)} → **{_cell(after)}**")
            elif row.status == "removed":
                cells.append(_cell(before))
            else:
                cells.append(_cell(after if after is not None else before))
        lines.append(f"| row {row.status} | {_cell(row.key)} | " + " | ".join(cells) + " |")
    return lines


def _documentation_block(change: Change) -> list[str]:
    assert change.documentation is not None
    before, after = change.documentation
    what = "summary" if change.description.startswith("summary") else "documentation"
    lines = [f"<details><summary>{_html(change.subject)}: {what} before and after</summary>", ""]
    for title, text in (("Before", before), ("After", after)):
        fence = "```"
        while fence in text:
            fence += "`"
        lines.extend([f"**{title}**", "", f"{fence}text", text or "(none)", fence, ""])
    lines.append("</details>")
    return lines


def render_json(report: Report) -> str:
    """The changes as JSON, for tools: one object per change."""
    changes: list[dict[str, Any]] = []
    for change in report.changes:
        entry: dict[str, Any] = {
            "group": change.group,
            "subject": change.subject,
            "change": change.description,
            "location": change.location,
            "removed": change.removed,
            "cites": list(change.cites),
            "behaviour": change.behaviour,
        }
        if change.documentation is not None:
            entry["documentation"] = {"old": change.documentation[0], "new": change.documentation[1]}
        if change.row is not None:
            entry["row"] = {
                "status": change.row.status,
                "key": change.row.key,
                "cells": {
                    column: {"old": old, "new": new}
                    for column, (old, new) in zip(change.columns[1:], change.row.cells, strict=True)
                },
            }
        changes.append(entry)
    document = {"summary": report.summary(), "changes": changes}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
