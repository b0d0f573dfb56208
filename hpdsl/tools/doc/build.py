"""The content of `hpdsl doc`: a checked package as a sequence-of-operations document model.

Everything shown comes from the checked rules: names, documentation strings, expressions as
written (`SourceFile.text_of`, whitespace collapsed), source locations, and the requirement
trace of `hpdsl trace`. Programs appear in the order a package scan runs them (the wiring
order of the lowered package); inside a program, constructs appear in the order written.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hpdsl.tools.doc.common import Inputs as Inputs
from hpdsl.tools.doc.common import doc_blocks as doc_blocks
from hpdsl.tools.doc.common import one_line as one_line
from hpdsl.tools.doc.common import program_anchor as program_anchor
from hpdsl.tools.doc.common import requirement_anchor as requirement_anchor
from hpdsl.tools.doc.common import slug as slug
from hpdsl.tools.doc.model import (
    Cell,
    Code,
    Document,
    Link,
    Paragraph,
    Strong,
    Text,
    code,
    text,
)
from hpdsl.tools.doc.package_sections import PackageSections
from hpdsl.tools.doc.program_sections import ProgramSections


class DocumentBuilder(PackageSections, ProgramSections):
    """Builds the document blocks from the checked package, one section at a time."""

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
