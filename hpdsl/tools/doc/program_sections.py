"""The sequence of operations, one section per program: its declarations, rules, hysteresis,
schedules, state machines (diagrams and transition tables), tables and curves.

May import: what hpdsl.tools.doc.common may, and hpdsl.tools.doc.common.
"""

from __future__ import annotations

from collections.abc import Callable

from hpdsl.language import nodes as n
from hpdsl.tools.doc.common import BuilderBase, doc_blocks, items_of, one_line, program_anchor, slug
from hpdsl.tools.doc.model import (
    Break,
    Cell,
    Code,
    CodeBlock,
    DiagramEdge,
    Link,
    StateDiagram,
    Strong,
    Text,
    code,
    joined,
    text,
)


class ProgramSections(BuilderBase):
    """Each program's section of the sequence of operations."""

    def sequences(self) -> None:
        self.heading(2, "Sequences of operation", "sequences")
        self.paragraph(Text("One section per program, in scan order."))
        for number, name in enumerate(self.order, start=1):
            self.program_section(number, self.programs[name])

    def _declaration(self, program: str, name: str) -> n.Declaration | None:
        for item in self.programs[program].items if program in self.programs else ():
            if isinstance(item, n.Declaration) and item.name.text == name:
                return item
        return None

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
        schedules = items_of(program, n.Schedule)
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
        requires = [i for i in program.items if isinstance(i, n.Require)]
        if requires:
            self.heading(4, "Relations the settings keep", slug("requires", name))
            self.table(
                ("require", "condition", "description", "implements", "source"),
                [
                    (
                        code(item.name.text),
                        code(self.source_text(item.condition)),
                        text(one_line(item.meta.doc)),
                        self.cites(item.meta),
                        code(self.where(item.span)),
                    )
                    for item in requires
                ],
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

    def program_table(self, program: str, item: n.Item) -> None:
        assert isinstance(item, n.Table)
        self.heading(4, f"Table {item.name.text}", slug("table", program, item.name.text))
        self.function_table(item)

    def program_curve(self, program: str, item: n.Item) -> None:
        assert isinstance(item, n.Curve)
        self.heading(4, f"Curve {item.name.text}", slug("curve", program, item.name.text))
        self.function_curve(item)
