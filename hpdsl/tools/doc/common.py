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
    Code,
    Heading,
    Inline,
    Link,
    Paragraph,
    Strong,
    Table,
    Text,
    code,
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
        """`rules/defrost.rules:42`, with the file named the same from any working folder."""
        return f"{self.file_names.get(span.file, span.file)}:{span.line}"

    def source_text(self, node: n.Node | None) -> str:
        """An expression as written, comments dropped and whitespace collapsed."""
        if node is None:
            return ""
        source = self.inputs.sources.get(node.span.file)
        if source is None:
            return ""
        written = source.text_of(node.span)
        return one_line(" ".join(COMMENT.sub("", line) for line in written.split("\n")))

    def statements(self, stmts: Iterable[n.Stmt] | None) -> str:
        """Statements as written, whole lines, indentation kept relative to the first."""
        found = list(stmts or ())
        if not found:
            return ""
        source = self.inputs.sources.get(found[0].span.file)
        if source is None:
            return ""
        first = min(s.span.line for s in found)
        last = max(s.span.end_line for s in found)
        lines = [source.line(number).rstrip() for number in range(first, last + 1)]
        return textwrap.dedent("\n".join(lines)).strip("\n")

    def statement_cell(self, stmts: Iterable[n.Stmt] | None) -> Cell:
        """Statements one per line, each as written with its whitespace collapsed (for a table cell)."""
        return joined([code(self.source_text(stmt)) for stmt in stmts or ()], Break())

    def cites(self, meta: n.Meta) -> Cell:
        links: list[Cell] = [(Link(c.text, requirement_anchor(c.text)),) for c in meta.cites]
        return joined(links, Text(", "))

    def symbol_type(self, program: str, name: str) -> Type | None:
        scope = self.checked.program_scopes.get(program)
        symbol = scope.symbols.get(name) if scope is not None else None
        return symbol.type if symbol is not None else None

    def type_text(self, program: str, decl: n.Declaration) -> str:
        if decl.type is not None:
            return decl.type.text
        found = self.symbol_type(program, decl.name.text)
        return found.describe() if found is not None else ""

    def range_text(self, clause: n.RangeClause | None) -> str:
        if clause is None:
            return ""
        return f"{self.source_text(clause.low)} .. {self.source_text(clause.high)}"

    def heading(self, level: int, title: str, anchor: str) -> None:
        self.blocks.append(Heading(level, title, anchor))

    def paragraph(self, *content: Inline) -> None:
        self.blocks.append(Paragraph(tuple(content)))

    def table(self, header: tuple[str, ...], rows: Sequence[Sequence[Cell]]) -> None:
        if rows:
            self.blocks.append(Table(header, tuple(tuple(row) for row in rows)))

    def located(self, meta: n.Meta, span: Span, priority: bool = False) -> None:
        """The line under a construct's heading: what it implements and where it is written."""
        content: list[Inline] = []
        if meta.cites:
            content.extend((Strong("Implements"), Text(" "), *self.cites(meta), Text(". ")))
        if priority and meta.priority is not None:
            content.append(Text(f"Priority {meta.priority}. "))
        content.extend((Strong("Source"), Text(" "), Code(self.where(span))))
        self.paragraph(*content)

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
