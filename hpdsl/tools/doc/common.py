"""What the document builder's parts share: what it is built from (`Inputs`), anchors and text
helpers, and the state of one build (`BuilderBase`: the document so far, and the methods one
section calls in another).

May import: hpdsl.base, hpdsl.language, hpdsl.check, hpdsl.compile.ir, hpdsl.tools.doc (model,
bacnet), hpdsl.tools.testing.trace.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hpdsl.base.source import SourceFile, Span
from hpdsl.check.checker import CheckedPackage
from hpdsl.compile import ir
from hpdsl.language import nodes as n
from hpdsl.language.types import Type
from hpdsl.tools.doc.model import (
    Block,
    Break,
    Bullets,
    Cell,
    Inline,
    Paragraph,
    joined,
    text,
)
from hpdsl.tools.testing.trace import Trace


@dataclass(frozen=True)
class Inputs:
    """What the document is made from."""

    name: str
    checked: CheckedPackage
    package: ir.Package  # the lowered package: program order and sensor-fault alarms
    sources: dict[str, SourceFile]  # by display name, as spans name them
    trace: Trace
    site_values: dict[tuple[str, str], str] = field(default_factory=dict)  # (program, parameter) -> value
    site_name: str | None = None


def slug(*parts: str) -> str:
    """An anchor made of lower-case letters, digits and hyphens."""
    return "-".join(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts)


def program_anchor(program: str) -> str:
    return slug("program", program)


def requirement_anchor(requirement: str) -> str:
    return slug("req", requirement)


def one_line(value: str | None) -> str:
    """Text with every run of whitespace made one space."""
    return " ".join((value or "").split())


def doc_blocks(doc: str | None) -> list[Block]:
    """A documentation string as paragraphs and lists, keeping the layout the author gave it.

    A paragraph is separated by a blank line; lines starting with `- ` are list items (their
    indented continuation lines join them); an indented paragraph keeps its line breaks.
    """
    if not doc:
        return []
    first, _, rest = doc.partition("\n")
    lines = [first.strip(), *textwrap.dedent(rest).split("\n")] if rest else [first.strip()]
    blocks: list[Block] = []
    for paragraph in "\n".join(lines).split("\n\n"):
        raw = [line.rstrip() for line in paragraph.split("\n") if line.strip()]
        if not raw:
            continue
        items: list[str] = []
        prose: list[str] = []
        for line in raw:
            stripped = line.strip()
            if stripped.startswith("- "):
                items.append(stripped[2:])
            elif items and line.startswith(" "):
                items[-1] += " " + stripped
            elif items:
                items.append(stripped)
            else:
                prose.append(line)
        if prose:
            if any(line.startswith(" ") for line in prose[1:]):
                cells = [text(line.strip()) for line in prose]
                blocks.append(Paragraph(joined(cells, Break())))
            else:
                blocks.append(Paragraph(text(one_line(" ".join(prose)))))
        if items:
            blocks.append(Bullets(tuple(text(one_line(item)) for item in items)))
    return blocks


COMMENT = re.compile(r"(#|//).*$")


def declarations_of(program: n.Program, kind: str) -> list[n.Declaration]:
    return [i for i in program.items if isinstance(i, n.Declaration) and i.kind == kind]


def items_of(program: n.Program, kind: type[n.Item]) -> list[n.Item]:
    return [i for i in program.items if isinstance(i, kind)]


def trace_summary(trace: Trace) -> str:
    total = len(trace.requirements)
    implemented = total - len(trace.uncovered)
    tested = sum(1 for r in trace.requirements if r.tested_by)
    return (
        f"{implemented} of {total} requirements are implemented and {tested} of {total} "
        f"are tested by {trace.scenario_files} scenario files."
    )


class BuilderBase:
    """The state of one build of the document, shared by its sections."""

    ALARM_HEADER = (
        "alarm",
        "condition",
        "delay",
        "severity",
        "latching / reset",
        "action",
        "description",
        "implements",
        "source",
    )

    def __init__(self, inputs: Inputs, file_names: dict[str, str]) -> None:
        self.inputs = inputs
        self.checked = inputs.checked
        self.file_names = file_names
        self.blocks: list[Block] = []
        self.programs: dict[str, n.Program] = {}
        for module in self.checked.modules:
            for item in module.items:
                if isinstance(item, n.Program):
                    self.programs[item.name.text] = item
        self.order = [p.name for p in inputs.package.programs if p.name in self.programs]
        # (program, output) -> the inputs of other programs wired to it
        self.readers: dict[tuple[str, str], list[str]] = {}
        for name in self.order:
            for decl in declarations_of(self.programs[name], "input"):
                if decl.wiring is not None:
                    key = (decl.wiring.program.text, decl.wiring.output.text)
                    self.readers.setdefault(key, []).append(f"{name}.{decl.name.text}")

    def where(self, span: Span) -> str:
        raise NotImplementedError  # defined in a mixin

    def source_text(self, node: n.Node | None) -> str:
        raise NotImplementedError  # defined in a mixin

    def statements(self, stmts: Iterable[n.Stmt] | None) -> str:
        raise NotImplementedError  # defined in a mixin

    def statement_cell(self, stmts: Iterable[n.Stmt] | None) -> Cell:
        raise NotImplementedError  # defined in a mixin

    def cites(self, meta: n.Meta) -> Cell:
        raise NotImplementedError  # defined in a mixin

    def symbol_type(self, program: str, name: str) -> Type | None:
        raise NotImplementedError  # defined in a mixin

    def type_text(self, program: str, decl: n.Declaration) -> str:
        raise NotImplementedError  # defined in a mixin

    def range_text(self, clause: n.RangeClause | None) -> str:
        raise NotImplementedError  # defined in a mixin

    def heading(self, level: int, title: str, anchor: str) -> None:
        raise NotImplementedError  # defined in a mixin

    def paragraph(self, *content: Inline) -> None:
        raise NotImplementedError  # defined in a mixin

    def table(self, header: tuple[str, ...], rows: Sequence[Sequence[Cell]]) -> None:
        raise NotImplementedError  # defined in a mixin

    def located(self, meta: n.Meta, span: Span, priority: bool = False) -> None:
        raise NotImplementedError  # defined in a mixin

    def points(self) -> None:
        raise NotImplementedError  # defined in a mixin

    def _total_row(self, program: str, item: n.Totalizer | n.Counter, with_program: bool) -> tuple[Cell, ...]:
        raise NotImplementedError  # defined in a mixin

    def parameter_value(self, program: str, decl: n.Declaration) -> Cell:
        raise NotImplementedError  # defined in a mixin

    def parameters(self) -> None:
        raise NotImplementedError  # defined in a mixin

    def _alarm_row(self, alarm: n.Alarm) -> tuple[Cell, ...]:
        raise NotImplementedError  # defined in a mixin

    def alarms(self) -> None:
        raise NotImplementedError  # defined in a mixin

    def _declaration(self, program: str, name: str) -> n.Declaration | None:
        raise NotImplementedError  # defined in a mixin

    def sequences(self) -> None:
        raise NotImplementedError  # defined in a mixin

    def function_table(self, item: n.Table) -> None:
        raise NotImplementedError  # defined in a mixin

    def function_curve(self, item: n.Curve) -> None:
        raise NotImplementedError  # defined in a mixin

    def shared_functions(self) -> None:
        raise NotImplementedError  # defined in a mixin

    def enumerations(self) -> None:
        raise NotImplementedError  # defined in a mixin

    def traceability(self) -> None:
        raise NotImplementedError  # defined in a mixin
