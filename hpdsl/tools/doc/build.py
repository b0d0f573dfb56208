"""The content of `hpdsl doc`: a checked package as a sequence-of-operations document model.

Everything shown comes from the checked rules: names, documentation strings, expressions as
written (`SourceFile.text_of`, whitespace collapsed), source locations, and the requirement
trace of `hpdsl trace`. Programs appear in the order a package scan runs them (the wiring
order of the lowered package); inside a program, constructs appear in the order written.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

from hpdsl.base.source import Span
from hpdsl.language import nodes as n
from hpdsl.language.types import Type
from hpdsl.tools.doc.common import COMMENT
from hpdsl.tools.doc.common import Inputs as Inputs
from hpdsl.tools.doc.common import doc_blocks as doc_blocks
from hpdsl.tools.doc.common import one_line as one_line
from hpdsl.tools.doc.common import program_anchor as program_anchor
from hpdsl.tools.doc.common import requirement_anchor as requirement_anchor
from hpdsl.tools.doc.common import slug as slug
from hpdsl.tools.doc.model import (
    Break,
    Cell,
    Code,
    Document,
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
from hpdsl.tools.doc.package_sections import PackageSections
from hpdsl.tools.doc.program_sections import ProgramSections


class DocumentBuilder(PackageSections, ProgramSections):
    """Builds the document blocks from the checked package, one section at a time."""

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

    def build(self) -> Document:
        self.about()
        self.overview()
        self.points()
        self.parameters()
        self.alarms()
        self.sequences()
        self.shared_functions()
        self.enumerations()
        self.traceability()
        return Document(self.inputs.name, f"Sequence of operations: {self.inputs.name}", tuple(self.blocks))

    def about(self) -> None:
        files = sorted(
            {self.file_names.get(name, name) for name in self.inputs.sources if name.endswith(".rules")}
        )
        self.paragraph(
            Text("This document describes the control sequences of the rules package "),
            Code(self.inputs.name),
            Text(f": {len(self.order)} programs in {len(files)} rules files. It is written by "),
            Code("hpdsl doc"),
            Text(
                " from the rules themselves, so it says what the controller does; to change it, change "
                "the rules and write it again."
            ),
        )
        if self.inputs.site_name is not None:
            self.paragraph(
                Strong("Site values"),
                Text(" from "),
                Code(self.inputs.site_name),
                Text(" are shown in place of the parameter defaults, with the default beside them."),
            )

    def overview(self) -> None:
        self.heading(2, "Programs", "programs")
        self.paragraph(
            Text(
                "The controller runs every program once per scan, in this order: a program that "
                "feeds another runs before it."
            )
        )
        rows: list[tuple[Cell, ...]] = []
        for number, name in enumerate(self.order, start=1):
            program = self.programs[name]
            summary = doc_blocks(program.meta.doc)
            first = summary[0] if summary and isinstance(summary[0], Paragraph) else None
            rows.append(
                (
                    text(str(number)),
                    (Link(name, program_anchor(name), code=True),),
                    first.content if first is not None else (),
                    self.cites(program.meta),
                    code(self.where(program.span)),
                )
            )
        self.table(("#", "program", "purpose", "implements", "source"), rows)


def stable_names(sources: Iterable[str], rules_names: dict[str, str]) -> dict[str, str]:
    """Display name -> the name shown in the document, for rules and scenario files alike.

    `rules_names` (from `compiler.source_names`) names the rules files relative to the parent
    of the package folder; other files (scenarios) are named relative to the same folder.
    """
    names = dict(rules_names)
    root: Path | None = None
    for shown, stable in rules_names.items():
        root = Path(shown).resolve().parents[len(Path(stable).parts) - 1]
        break
    for shown in sources:
        if shown in names or root is None:
            continue
        resolved = Path(shown).resolve()
        try:
            names[shown] = resolved.relative_to(root).as_posix()
        except ValueError:
            names[shown] = Path(shown).name
    return names
