"""The sections about the package as a whole: the points list with suggested BACnet objects,
the parameters, the alarms, shared tables and curves, enumerations and requirement
traceability.

May import: what hpdsl.tools.doc.common may, and hpdsl.tools.doc.common.
"""

from __future__ import annotations

from hpdsl.language import nodes as n
from hpdsl.language.types import BoolType, Type
from hpdsl.tools.doc import bacnet
from hpdsl.tools.doc.common import (
    BuilderBase,
    declarations_of,
    doc_blocks,
    items_of,
    one_line,
    program_anchor,
    requirement_anchor,
    slug,
    trace_summary,
)
from hpdsl.tools.doc.model import (
    Anchor,
    Break,
    Cell,
    Code,
    Link,
    Strong,
    Text,
    code,
    joined,
    text,
)
from hpdsl.tools.testing.trace import Citation


class PackageSections(BuilderBase):
    """Points, parameters, alarms, shared functions, enumerations and traceability."""

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
            for decl in declarations_of(self.programs[name], "input"):
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
            for decl in declarations_of(self.programs[name], "output"):
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
            for decl in declarations_of(self.programs[name], "input"):
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
            for decl in declarations_of(self.programs[name], "parameter"):
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
            for item in items_of(self.programs[name], n.Alarm):
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
            Text(trace_summary(trace)),
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
