"""The content of `hpdsl doc`: a checked package as a sequence-of-operations document model.

Everything shown comes from the checked rules: names, documentation strings, expressions as
written (`SourceFile.text_of`, whitespace collapsed), source locations, and the requirement
trace of `hpdsl trace`. Programs appear in the order a package scan runs them (the wiring
order of the lowered package); inside a program, constructs appear in the order written.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hpdsl import doc_bacnet as bacnet
from hpdsl import ir
from hpdsl import nodes as n
from hpdsl.checker import CheckedPackage
from hpdsl.doc_model import (
    Anchor,
    Block,
    Break,
    Bullets,
    Cell,
    Code,
    CodeBlock,
    DiagramEdge,
    Document,
    Heading,
    Inline,
    Link,
    Paragraph,
    StateDiagram,
    Strong,
    Table,
    Text,
    code,
    joined,
    text,
)
from hpdsl.source import SourceFile, Span
from hpdsl.trace import Citation, Trace
from hpdsl.types import BoolType, Type


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


_COMMENT = re.compile(r"(#|//).*$")


class DocumentBuilder:
    """Builds the document blocks from the checked package, one section at a time."""

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
            for decl in self._declarations(self.programs[name], "input"):
                if decl.wiring is not None:
                    key = (decl.wiring.program.text, decl.wiring.output.text)
                    self.readers.setdefault(key, []).append(f"{name}.{decl.name.text}")

    # --- small helpers ---------------------------------------------------------------------

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
        return one_line(" ".join(_COMMENT.sub("", line) for line in written.split("\n")))

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

    @staticmethod
    def _declarations(program: n.Program, kind: str) -> list[n.Declaration]:
        return [i for i in program.items if isinstance(i, n.Declaration) and i.kind == kind]

    @staticmethod
    def _items(program: n.Program, kind: type[n.Item]) -> list[n.Item]:
        return [i for i in program.items if isinstance(i, kind)]

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

    # --- the document ---------------------------------------------------------------------

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

    # --- points ------------------------------------------------------------------------

    def points(self) -> None:
        self.heading(2, "Points list", "points-list")
        self.paragraph(
            Text(
                "Every value the controller exchanges with the plant and the building automation system, "
                "with a suggested BACnet object. Field inputs are input objects (AI, BI, MSI). An output "
                "that no program reads leaves the controller: a boolean or enumeration is a command to "
                "equipment (BO, MSO); an analog output is a value the rules compute, shown as an AV (an "
                "AO where a site wires it to a modulating actuator). Outputs that other programs read, "
                "totals and counts are values the controller computes (AV, BV, MSV); parameters are "
                "writable values (AV, BV, MSV). Multi-state objects number their states from 1 in the "
                "order listed. Units are BACnetEngineeringUnits names with their numbers."
            )
        )
        header = (
            "program",
            "point",
            "type",
            "range",
            "default / fallback",
            "BACnet",
            "units",
            "description",
            "source",
        )
        self.heading(3, "Field inputs", "field-inputs")
        rows: list[tuple[Cell, ...]] = []
        for name in self.order:
            for decl in self._declarations(self.programs[name], "input"):
                if decl.wiring is None:
                    fallback = self.source_text(decl.fallback)
                    rows.append(
                        self._point_row(
                            name, decl, bacnet.FIELD_INPUT, f"fallback {fallback}" if fallback else ""
                        )
                    )
        self.table(header, rows)
        self.heading(3, "Outputs", "outputs")
        rows = []
        for name in self.order:
            for decl in self._declarations(self.programs[name], "output"):
                readers = self.readers.get((name, decl.name.text), [])
                use = bacnet.COMPUTED if readers else bacnet.COMMAND
                initial = self.source_text(decl.initial)
                row = self._point_row(name, decl, use, f"initial {initial}" if initial else "")
                if readers:
                    read_by = (
                        Break(),
                        Text("Read by "),
                        *joined([code(r) for r in readers], Text(", ")),
                        Text("."),
                    )
                    row = (*row[:7], (*row[7], *read_by), row[8])
                rows.append(row)
        self.table(header, rows)
        self.heading(3, "Totals and counts", "totals-and-counts")
        self.paragraph(
            Text("Totalizers and counters are trend points: the rules keep them, the BAS reads them.")
        )
        rows = []
        for name in self.order:
            for item in self.programs[name].items:
                if isinstance(item, (n.Totalizer, n.Counter)):
                    rows.append(self._total_row(name, item, with_program=True))
        self.table(("program", "point", "totals", "resets", "BACnet", "units", "description", "source"), rows)
        self.heading(3, "Internal inputs", "internal-inputs")
        self.paragraph(
            Text(
                "Inputs wired from another program's output inside the controller; they are not field points."
            )
        )
        rows = []
        for name in self.order:
            for decl in self._declarations(self.programs[name], "input"):
                if decl.wiring is not None:
                    source = f"{decl.wiring.program.text}.{decl.wiring.output.text}"
                    rows.append(
                        (
                            code(name),
                            code(decl.name.text),
                            code(self.type_text(name, decl)),
                            (Link(source, program_anchor(decl.wiring.program.text), code=True),),
                            text(one_line(decl.meta.doc)),
                            code(self.where(decl.span)),
                        )
                    )
        self.table(("program", "input", "type", "from", "description", "source"), rows)

    def _bacnet_cells(self, type_: Type | None, use: str) -> tuple[Cell, Cell]:
        if type_ is None:
            return (), ()
        suggested = bacnet.object_for(type_, use)
        kind: Cell = text(suggested.object_type)
        if suggested.states:
            kind = (*kind, Break(), Text(suggested.describe_states()))
        units: Cell = text(suggested.units)
        if suggested.unit_note:
            units = (*units, Break(), Text(suggested.unit_note))
        return kind, units

    def _point_row(self, program: str, decl: n.Declaration, use: str, value: str) -> tuple[Cell, ...]:
        kind, units = self._bacnet_cells(self.symbol_type(program, decl.name.text), use)
        return (
            code(program),
            code(decl.name.text),
            code(self.type_text(program, decl)),
            code(self.range_text(decl.range)),
            code(value),
            kind,
            units,
            text(one_line(decl.meta.doc)),
            code(self.where(decl.span)),
        )

    def _total_row(self, program: str, item: n.Totalizer | n.Counter, with_program: bool) -> tuple[Cell, ...]:
        kind, units = self._bacnet_cells(self.symbol_type(program, item.name.text), bacnet.COMPUTED)
        what = self.source_text(item.source)
        totals = (
            f"time {what} is true" if isinstance(item, n.Totalizer) and self._is_bool(program, item) else what
        )
        if isinstance(item, n.Counter):
            totals = f"times {what} becomes true"
        unit = f" [{item.type.text}]" if isinstance(item, n.Totalizer) else ""
        resets = f"every {item.period.text}" if item.period is not None else "never"
        row: tuple[Cell, ...] = (
            code(item.name.text + unit),
            text(totals) if isinstance(item, n.Counter) else code(totals),
            text(resets),
            kind,
            units,
            text(one_line(item.meta.doc)),
            code(self.where(item.span)),
        )
        return (code(program), *row) if with_program else row

    def _is_bool(self, program: str, item: n.Totalizer) -> bool:
        type_ = self.checked.expr_types.get(id(item.source))
        return isinstance(type_, BoolType)

    # --- parameters --------------------------------------------------------------------

    def parameter_value(self, program: str, decl: n.Declaration) -> Cell:
        default = self.source_text(decl.initial)
        site = self.inputs.site_values.get((program, decl.name.text))
        if site is None:
            return code(default)
        return (Code(site), Text(" (site; default "), Code(default), Text(")"))

    def parameters(self) -> None:
        self.heading(2, "Parameters", "parameters")
        self.paragraph(
            Text(
                "Settings fixed while the controller runs, written at commissioning (writable BACnet "
                "values). A site value must lie in the range; the controller rejects one outside it."
            )
        )
        rows: list[tuple[Cell, ...]] = []
        for name in self.order:
            for decl in self._declarations(self.programs[name], "parameter"):
                kind, units = self._bacnet_cells(self.symbol_type(name, decl.name.text), bacnet.SETTING)
                rows.append(
                    (
                        code(name),
                        code(decl.name.text),
                        code(self.type_text(name, decl)),
                        self.parameter_value(name, decl),
                        code(self.range_text(decl.range)),
                        kind,
                        units,
                        text(one_line(decl.meta.doc)),
                        self.cites(decl.meta),
                        code(self.where(decl.span)),
                    )
                )
        self.table(
            (
                "program",
                "parameter",
                "type",
                "value",
                "range",
                "BACnet",
                "units",
                "description",
                "implements",
                "source",
            ),
            rows,
        )

    # --- alarms --------------------------------------------------------------------------

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

    def _alarm_row(self, alarm: n.Alarm) -> tuple[Cell, ...]:
        if alarm.latching:
            latch: Cell = (Text("latching, reset by "), Code(self.source_text(alarm.acknowledge)))
        else:
            latch = text("clears with its condition")
        action_cell = self.statement_cell(alarm.action)
        return (
            code(alarm.name.text),
            code(self.source_text(alarm.condition)),
            code(self.source_text(alarm.delay)) or text("none"),
            text(alarm.severity.text if alarm.severity is not None else ""),
            latch,
            action_cell,
            text(one_line(alarm.meta.doc)),
            self.cites(alarm.meta),
            code(self.where(alarm.span)),
        )

    def alarms(self) -> None:
        self.heading(2, "Alarms", "alarms")
        self.paragraph(
            Text(
                "An alarm is active while its condition holds, once it has held for the delay. A latching "
                "alarm stays active until its reset is true. The action runs while the alarm is active."
            )
        )
        rows: list[tuple[Cell, ...]] = []
        for name in self.order:
            for item in self._items(self.programs[name], n.Alarm):
                assert isinstance(item, n.Alarm)
                rows.append((code(name), *self._alarm_row(item)))
        self.table(("program", *self.ALARM_HEADER), rows)
        self.heading(3, "Sensor faults", "sensor-faults")
        self.paragraph(
            Text(
                "A field input is faulted when its value is missing, not a number or outside its range. "
                "While faulted it reads its fallback value (without one, its last good value) and raises "
                "its sensor-fault alarm."
            )
        )
        rows = []
        for program in self.inputs.package.programs:
            for alarm in program.alarms:
                if alarm.sensor is None:
                    continue
                variable = program.variable(alarm.sensor)
                decl = self._declaration(program.name, alarm.sensor)
                fallback = self.source_text(decl.fallback) if decl is not None else ""
                rows.append(
                    (
                        code(program.name),
                        code(alarm.name),
                        code(alarm.sensor),
                        code(self.range_text(decl.range) if decl is not None else "") or text("any value"),
                        code(fallback) if fallback else text("last good value"),
                        text(alarm.severity),
                        code(f"{variable.origin.file}:{variable.origin.line}") if variable.origin else (),
                    )
                )
        self.table(
            ("program", "alarm", "input", "valid range", "reads while faulted", "severity", "source"), rows
        )

    def _declaration(self, program: str, name: str) -> n.Declaration | None:
        for item in self.programs[program].items if program in self.programs else ():
            if isinstance(item, n.Declaration) and item.name.text == name:
                return item
        return None

    # --- one section per program ---------------------------------------------------------

    def sequences(self) -> None:
        self.heading(2, "Sequences of operation", "sequences")
        self.paragraph(Text("One section per program, in scan order."))
        for number, name in enumerate(self.order, start=1):
            self.program_section(number, self.programs[name])

    def program_section(self, number: int, program: n.Program) -> None:
        name = program.name.text
        self.heading(3, f"{number}. {name}", program_anchor(name))
        self.blocks.extend(doc_blocks(program.meta.doc))
        self.located(program.meta, program.span)
        self.declarations(program)
        # The logic in the order written: the author's order usually tells the story.
        writers: dict[type[n.Item], Callable[[str, n.Item], None]] = {
            n.Rule: self.rule,
            n.Hysteresis: self.hysteresis,
            n.Machine: self.machine,
            n.Table: self.program_table,
            n.Curve: self.program_curve,
        }
        for item in program.items:
            write = writers.get(type(item))
            if write is not None:
                write(name, item)
        schedules = self._items(program, n.Schedule)
        if schedules:
            self.heading(4, "Schedules", slug("schedules", name))
            self.table(
                ("schedule", "periods", "description", "implements", "source"),
                [self._schedule_row(s) for s in schedules if isinstance(s, n.Schedule)],
            )
        totals = [i for i in program.items if isinstance(i, (n.Totalizer, n.Counter))]
        if totals:
            self.heading(4, "Totals and counts", slug("totals", name))
            self.table(
                ("point", "totals", "resets", "BACnet", "units", "description", "source"),
                [self._total_row(name, item, with_program=False) for item in totals],
            )
        alarms = [i for i in program.items if isinstance(i, n.Alarm)]
        if alarms:
            self.heading(4, "Alarms", slug("alarms", name))
            self.table(self.ALARM_HEADER, [self._alarm_row(alarm) for alarm in alarms])
        events = [i for i in program.items if isinstance(i, n.EventDecl)]
        if events:
            self.heading(4, "Event log", slug("events", name))
            rows: list[tuple[Cell, ...]] = []
            for event in events:
                fields = joined(
                    [
                        (Code(f"{f.name.text}: {f.type.text}"), Text(f" {one_line(f.doc)}"))
                        for f in event.fields
                    ],
                    Break(),
                )
                rows.append(
                    (
                        code(event.name.text),
                        fields,
                        text(one_line(event.meta.doc)),
                        self.cites(event.meta),
                        code(self.where(event.span)),
                    )
                )
            self.table(("event", "fields", "description", "implements", "source"), rows)

    def declarations(self, program: n.Program) -> None:
        name = program.name.text
        rows: list[tuple[Cell, ...]] = []
        for decl in program.items:
            if not isinstance(decl, n.Declaration):
                continue
            value: Cell = ()
            if decl.kind == "input":
                if decl.wiring is not None:
                    source = f"{decl.wiring.program.text}.{decl.wiring.output.text}"
                    value = (Text("from "), Link(source, program_anchor(decl.wiring.program.text), code=True))
                elif decl.fallback is not None:
                    value = (Text("fallback "), Code(self.source_text(decl.fallback)))
            elif decl.kind == "parameter":
                value = self.parameter_value(name, decl)
            elif decl.initial is not None:
                value = code(self.source_text(decl.initial))
            timing = [
                f"{k} {self.source_text(e)}"
                for k, e in (("min_on", decl.min_on), ("min_off", decl.min_off))
                if e
            ]
            if timing:
                value = (*value, Break(), Text(", ".join(timing))) if value else text(", ".join(timing))
            rows.append(
                (
                    text(decl.kind),
                    code(decl.name.text),
                    code(self.type_text(name, decl)),
                    code(self.range_text(decl.range)),
                    value,
                    text(one_line(decl.meta.doc)),
                    self.cites(decl.meta),
                    code(self.where(decl.span)),
                )
            )
        if rows:
            self.heading(4, "Points and settings", slug("points", name))
            self.table(
                ("kind", "name", "type", "range", "value", "description", "implements", "source"), rows
            )

    def rule(self, program: str, item: n.Item) -> None:
        assert isinstance(item, n.Rule)
        self.heading(4, f"Rule {item.name.text}", slug("rule", program, item.name.text))
        self.blocks.extend(doc_blocks(item.meta.doc))
        self.located(item.meta, item.span, priority=True)
        body = self.statements(item.body)
        if body:
            self.blocks.append(CodeBlock(body))

    def hysteresis(self, program: str, item: n.Item) -> None:
        assert isinstance(item, n.Hysteresis)
        target = item.name.text
        self.heading(4, f"Hysteresis on {target}", slug("hysteresis", program, target))
        self.blocks.extend(doc_blocks(item.meta.doc))
        self.located(item.meta, item.span, priority=True)
        measured = self.source_text(item.input)
        rows: list[tuple[Cell, ...]] = []
        for threshold in item.thresholds:
            rows.append(
                (
                    (
                        Code(measured),
                        Text(" falls below" if threshold.side == "below" else " rises above"),
                    ),
                    code(self.source_text(threshold.level)),
                    (Code(target), Text(" becomes "), Code(self.source_text(threshold.value))),
                )
            )
        rows.append((text("between the two levels"), (), (Code(target), Text(" keeps its value"))))
        self.table(("when", "level", "then"), rows)

    def _schedule_row(self, schedule: n.Schedule) -> tuple[Cell, ...]:
        periods: list[Cell] = []
        for period in schedule.periods:
            days = ", ".join(
                d.first.text if d.last is None else f"{d.first.text} .. {d.last.text}" for d in period.days
            )
            periods.append(text(f"{days} {period.start.text} .. {period.end.text}"))
        return (
            code(schedule.name.text),
            joined(periods, Break()),
            text(one_line(schedule.meta.doc)),
            self.cites(schedule.meta),
            code(self.where(schedule.span)),
        )

    # --- state machines ----------------------------------------------------------------

    def machine(self, program: str, item: n.Item) -> None:
        assert isinstance(item, n.Machine)
        name = item.name.text
        self.heading(4, f"State machine {name}", slug("machine", program, name))
        self.blocks.extend(doc_blocks(item.meta.doc))
        self.located(item.meta, item.span, priority=True)
        numbered: list[tuple[int, n.State, n.Transition]] = []
        for state in item.states:
            for transition in state.transitions:
                numbered.append((len(numbered) + 1, state, transition))
        edges: dict[tuple[str, str], list[str]] = {}
        for number, state, transition in numbered:
            key = (state.name.text, transition.target.text)
            edges.setdefault(key, []).append(f"T{number} {self.trigger(transition)}")
        initial = next((s.name.text for s in item.states if s.initial), item.states[0].name.text)
        self.blocks.append(
            StateDiagram(
                f"{program}.{name}",
                tuple(s.name.text for s in item.states),
                initial,
                tuple(
                    DiagramEdge(source, target, tuple(labels)) for (source, target), labels in edges.items()
                ),
            )
        )
        rows: list[tuple[Cell, ...]] = []
        for state in item.states:
            actions: list[Cell] = []
            for label, stmts in (("entry", state.entry), ("during", state.during), ("exit", state.exit)):
                if stmts:
                    actions.append((Strong(label), Break(), *self.statement_cell(stmts)))
            rows.append(
                (
                    (Code(state.name.text), *((Text(" (initial)"),) if state.initial else ())),
                    text(one_line(state.meta.doc)),
                    joined(actions, Break()),
                    self.cites(state.meta),
                    code(self.where(state.span)),
                )
            )
        self.table(("state", "description", "actions", "implements", "source"), rows)
        rows = []
        for number, state, transition in numbered:
            rows.append(
                (
                    text(f"T{number}"),
                    code(state.name.text),
                    code(self.trigger(transition)),
                    code(transition.target.text),
                    text(one_line(transition.meta.doc)),
                    self.cites(transition.meta),
                    code(self.where(transition.span)),
                )
            )
        self.table(("#", "from", "when", "to", "description", "implements", "source"), rows)

    def trigger(self, transition: n.Transition) -> str:
        guard = self.source_text(transition.trigger)
        return f"after {guard}" if transition.kind == "after" else f"when {guard}"

    # --- tables and curves -------------------------------------------------------------

    def program_table(self, program: str, item: n.Item) -> None:
        assert isinstance(item, n.Table)
        self.heading(4, f"Table {item.name.text}", slug("table", program, item.name.text))
        self.function_table(item)

    def program_curve(self, program: str, item: n.Item) -> None:
        assert isinstance(item, n.Curve)
        self.heading(4, f"Curve {item.name.text}", slug("curve", program, item.name.text))
        self.function_curve(item)

    def function_table(self, item: n.Table) -> None:
        self.blocks.extend(doc_blocks(item.meta.doc))
        key = item.key
        self.paragraph(
            Text("Looked up by "),
            Code(f"{key.name.text}: {key.type.text}"),
            *((Text(" in "), Code(self.range_text(key.range))) if key.range is not None else ()),
            Text("; rows are tried from the top, the first that holds the key gives the values."),
        )
        self.located(item.meta, item.span)
        rows: list[tuple[Cell, ...]] = []
        for row in item.rows:
            cell = row.key
            if cell.op is not None:
                key_text = f"{cell.op} {self.source_text(cell.low or cell.high)}"
            else:
                key_text = f"{self.source_text(cell.low)} .. {self.source_text(cell.high)}"
            rows.append((code(key_text), *(code(self.source_text(value)) for value in row.cells)))
        self.table((item.key_header.text, *(c.text for c in item.columns)), rows)

    def function_curve(self, item: n.Curve) -> None:
        self.blocks.extend(doc_blocks(item.meta.doc))
        shape = f", {item.monotonic}" if item.monotonic else ""
        self.paragraph(
            Text("Piecewise linear in "),
            Code(f"{item.key.name.text}: {item.key.type.text}"),
            Text(f" giving {item.result.text}{shape}; held flat beyond the first and last points."),
        )
        self.located(item.meta, item.span)
        rows = [(code(self.source_text(p.x)), code(self.source_text(p.y))) for p in item.points]
        self.table((f"{item.key.name.text} [{item.key.type.text}]", f"value [{item.result.text}]"), rows)

    def shared_functions(self) -> None:
        found = [
            item
            for module in self.checked.modules
            for item in module.items
            if isinstance(item, (n.Table, n.Curve))
        ]
        if not found:
            return
        self.heading(2, "Shared tables and curves", "shared-tables")
        self.paragraph(Text("Tables and curves declared for the whole package, which any program may use."))
        for item in found:
            if isinstance(item, n.Table):
                self.heading(3, f"Table {item.name.text}", slug("table", item.name.text))
                self.function_table(item)
            else:
                self.heading(3, f"Curve {item.name.text}", slug("curve", item.name.text))
                self.function_curve(item)

    # --- enumerations and traceability -------------------------------------------------

    def enumerations(self) -> None:
        rows: list[tuple[Cell, ...]] = []
        for module in self.checked.modules:
            for item in module.items:
                if isinstance(item, n.EnumDecl):
                    members = ", ".join(f"{i} {m.text}" for i, m in enumerate(item.members, start=1))
                    rows.append(
                        (
                            code(item.name.text),
                            text(members),
                            text(one_line(item.meta.doc)),
                            self.cites(item.meta),
                            code(self.where(item.span)),
                        )
                    )
        if rows:
            self.heading(2, "Enumerations", "enumerations")
            self.paragraph(Text("Members with the state numbers of their multi-state BACnet objects."))
            self.table(("enumeration", "members", "description", "implements", "source"), rows)

    def traceability(self) -> None:
        trace = self.inputs.trace
        self.heading(2, "Requirement traceability", "traceability")
        self.paragraph(
            Text(
                "Each requirement with the constructs of the rules that implement it and the scenarios "
                "that test it, as "
            ),
            Code("hpdsl trace"),
            Text(" reports them. "),
            Text(self._trace_summary(trace)),
        )
        rows: list[tuple[Cell, ...]] = []
        for requirement in trace.requirements:
            rows.append(
                (
                    (Anchor(requirement.name, requirement_anchor(requirement.name)),),
                    text(requirement.summary),
                    self._citations(requirement.implemented_by) or (Strong("none"),),
                    self._citations(requirement.tested_by) or (Strong("none"),),
                )
            )
        self.table(("ID", "requirement", "implemented by", "tested by"), rows)

    def _citations(self, citations: tuple[Citation, ...]) -> Cell:
        return joined([(Text(c.what + " "), Code(self.where(c.span))) for c in citations], Break())

    @staticmethod
    def _trace_summary(trace: Trace) -> str:
        total = len(trace.requirements)
        implemented = total - len(trace.uncovered)
        tested = sum(1 for r in trace.requirements if r.tested_by)
        return (
            f"{implemented} of {total} requirements are implemented and {tested} of {total} "
            f"are tested by {trace.scenario_files} scenario files."
        )


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
