"""The POUs every Structured Text output holds besides the programs: the support functions
(floor, safe division, clamp, finiteness, a log record), the event texts, the ordinal of each
enumeration, the event log, every table column and curve, the package's main program, and the
source map.

May import: hpdsl.base, hpdsl.compile.ir, hpdsl.codegen (emitter, naming, templates, st_common,
st_printers).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hpdsl.codegen.emitter import Emitter
from hpdsl.codegen.naming import snake
from hpdsl.codegen.st_common import INDENT, LOG_SIZE, Namer, Pou, StBase, call_lines, find_block, flat_text
from hpdsl.codegen.st_printers import ExprPrinter, ProgramPrinter
from hpdsl.compile import ir


class SupportPous(StBase):
    """The support functions, the event log, tables, curves and the main program as POUs."""

    printers: dict[str, ProgramPrinter]  # each program's printer, once the POUs are made

    def _pous(self) -> list[Pou]:
        pous = [self._floor(), self._divide(), self._clamp(), self._finite()]
        if not self.enum_constants:
            pous.extend(self._ordinal(enum) for enum in self.package.enums)
        pous.extend([self._record(), *self._event_texts(), self._log_block()])
        for table in self.tables.values():
            pous.extend(self._table_column(table, k) for k in range(len(table.columns)))
        pous.extend(self._curve(curve) for curve in self.curves.values())
        self.printers = {program.name: ProgramPrinter(self, program) for program in self.package.programs}
        pous.extend(printer.pou() for printer in self.printers.values())
        pous.append(self._main(self.printers))
        return pous

    # ------------------------------------------------------------------ support code
    def _function(
        self, name: str, return_type: str, inputs: list[tuple[str, str]], body: Emitter, comment: list[str]
    ) -> Pou:
        declarations = [self.declaration(n, t) for n, t in inputs]
        return Pou(
            "FUNCTION",
            self.block_name(name),
            comment,
            [("VAR_INPUT", declarations)],
            body.text(),
            return_type,
            origins=[None] * len(body.lines),
            xml_sections=[("inputVars", [self._xml_var(n, t) for n, t in inputs])],
        )

    def _floor(self) -> Pou:
        name = self.global_name("fn", "HP_FLOOR")
        result, x = self.local(name), self.local("x")
        out = Emitter(INDENT)
        out.line(f"{result} := TRUNC({x});")
        out.line(f"IF DINT_TO_{self.real}({result}) > {x} THEN")
        out.line(f"{INDENT}{result} := {result} - 1;")
        out.line("END_IF;")
        comment = [self.comment("The largest whole number not above x (TRUNC rounds towards zero).")]
        return self._function(name, "DINT", [("x", self.real)], out, comment)

    def _divide(self) -> Pou:
        name = self.global_name("fn", "HP_DIVIDE")
        result, a, b = self.local(name), self.local("dividend"), self.local("divisor")
        out = Emitter(INDENT)
        out.line(f"IF {b} = {self.real_literal(0.0)} THEN")
        out.line(f"{INDENT}{result} := {self.real_literal(0.0)};")
        out.line("ELSE")
        out.line(f"{INDENT}{result} := {a} / {b};")
        out.line("END_IF;")
        comment = [
            self.comment("dividend / divisor, and 0 when the divisor is 0 (a COP with no power drawn).")
        ]
        return self._function(
            name, self.real, [("dividend", self.real), ("divisor", self.real)], out, comment
        )

    def _clamp(self) -> Pou:
        name = self.global_name("fn", "HP_CLAMP")
        result, x, low, high = (self.local(n) for n in (name, "x", "low", "high"))
        out = Emitter(INDENT)
        out.line(f"IF NOT ({x} >= {low}) THEN")
        out.line(f"{INDENT}{result} := {low};")
        out.line(f"ELSIF {x} > {high} THEN")
        out.line(f"{INDENT}{result} := {high};")
        out.line("ELSE")
        out.line(f"{INDENT}{result} := {x};")
        out.line("END_IF;")
        comment = [self.comment("x held within low .. high; a value that is not a number gives low.")]
        inputs = [("x", self.real), ("low", self.real), ("high", self.real)]
        return self._function(name, self.real, inputs, out, comment)

    def _finite(self) -> Pou:
        name = self.global_name("fn", "HP_FINITE")
        x = self.local("x")
        out = Emitter(INDENT)
        out.line(f"{self.local(name)} := {x} - {x} = {self.real_literal(0.0)};")
        comment = [
            self.comment(
                "TRUE when x is a number and not infinite: x - x is 0 for every finite x, and not a"
                " number for an infinite one or for not a number (IEEE 754)."
            )
        ]
        return self._function(name, "BOOL", [("x", self.real)], out, comment)

    def _record(self) -> Pou:
        """HP_RECORD: one log record from its parts; values past the field count are 0, never stale."""
        name = self.global_name("fn", "HP_RECORD")
        result = self.local(name)
        out = Emitter(INDENT)
        for fld in ("kind", "event", "time_s", "field_count"):
            out.line(f"{result}.{fld} := {self.local(fld)};")
        for k in range(1, self.log_fields + 1):
            out.line(f"{result}.field_value[{k}] := {self.local(f'value_{k}')};")
        inputs = [("kind", "INT"), ("event", "INT"), ("time_s", self.real), ("field_count", "INT")]
        inputs += [(f"value_{k}", self.real) for k in range(1, self.log_fields + 1)]
        comment = [
            self.comment(
                "One record of the event log from its parts. Every call passes every value, 0 past the"
                " field count, so a record never carries a value from an earlier one."
            )
        ]
        entry = self.block_name(self.global_name("type", "HpLogEntry"))
        return self._function(name, entry, inputs, out, comment)

    def _event_texts(self) -> list[Pou]:
        """HP_EVENT_NAME, HP_EVENT_SOURCE and HP_FIELD_NAME: the text of a record's numbers."""
        event = self.local("event")
        pous = []
        for function, part, doc in (  # part: 1 the event's name, 0 its program
            ("HP_EVENT_NAME", 1, "The name of an event or alarm, by the number a log record carries."),
            ("HP_EVENT_SOURCE", 0, "The program that logs an event or raises an alarm, by its number."),
        ):
            name = self.global_name("fn", function)
            out = Emitter(INDENT)
            out.line(f"{self.local(name)} := '';")
            if self.events:
                out.line(f"CASE {event} OF")
                for (program, event_name, _), number in self.events.items():
                    text = self.string_literal(event_name if part else program)
                    out.line(f"{INDENT}{number}: {self.local(name)} := {text};")
                out.line("END_CASE;")
            pous.append(self._function(name, "STRING", [("event", "INT")], out, [self.comment(doc)]))
        name = self.global_name("fn", "HP_FIELD_NAME")
        out = Emitter(INDENT)
        out.line(f"{self.local(name)} := '';")
        named = [(number, key[2]) for key, number in self.events.items() if key[2]]
        if named:
            out.line(f"CASE {event} OF")
            for number, fields in named:
                out.line(f"{INDENT}{number}:")
                out.line(f"{INDENT * 2}CASE {self.local('field')} OF")
                for k, field_name in enumerate(fields, start=1):
                    out.line(f"{INDENT * 3}{k}: {self.local(name)} := {self.string_literal(field_name)};")
                out.line(f"{INDENT * 2}END_CASE;")
            out.line("END_CASE;")
        doc = "The name of value `field` (1 = first) of a log record with the number `event`."
        pous.append(
            self._function(name, "STRING", [("event", "INT"), ("field", "INT")], out, [self.comment(doc)])
        )
        return pous

    def _ordinal(self, enum: ir.Enum) -> Pou:
        name = self.global_name("ordinal", enum.name)
        result = self.local(name)
        out = Emitter(INDENT)
        out.line(f"CASE {self.local('value')} OF")
        for k, member in enumerate(enum.members):
            out.line(
                f"{INDENT}{self.enum_literal(enum.name, member)}: {result} := {self.real_literal(float(k))};"
            )
        out.line("END_CASE;")
        comment = [self.comment(f"The position of a {enum.name} value (0 = first), for the event log.")]
        type_name = self.block_name(self.global_name("type", enum.name))
        return self._function(name, self.real, [("value", type_name)], out, comment)

    def _log_block(self) -> Pou:
        """HpEventLog: the ring of the last LOG_SIZE records, appended one record per call."""
        name = self.block_name(self.global_name("type", "HpEventLog"))
        loc = self.local
        entries, nxt, sequence = loc("entries"), loc("next"), loc("sequence")
        out = Emitter(INDENT)
        out.line(f"{entries}[{nxt}] := {loc('entry')};")
        out.line(f"{sequence} := {sequence} + 1;")
        out.line(f"IF {nxt} >= {LOG_SIZE} THEN")
        out.line(f"{INDENT}{nxt} := 1;")
        out.line("ELSE")
        out.line(f"{INDENT}{nxt} := {nxt} + 1;")
        out.line("END_IF;")
        entry = self.block_name(self.global_name("type", "HpLogEntry"))
        inputs = [("entry", entry, "", "the record to append")]
        outputs = [
            ("entries", f"ARRAY[1..{LOG_SIZE}] OF {entry}", "", "the last records, oldest overwritten"),
            ("next", "INT", "1", "where the next record goes"),
            ("sequence", "DINT", "", "records appended since the log was first started"),
        ]
        comment = [
            self.comment(
                f"The event log: appends one record per call to a ring of {LOG_SIZE}; the oldest is"
                " overwritten. `sequence` counts every record ever appended, so an HMI or a historian"
                " polling `entries` sees what is new. Retained: the log survives a power cycle."
            )
        ]
        return Pou(
            "FUNCTION_BLOCK",
            name,
            comment,
            [
                ("VAR_INPUT", [self.declaration(*v) for v in inputs]),
                ("VAR_OUTPUT RETAIN", [self.declaration(*v) for v in outputs]),
            ],
            out.text(),
            origins=[None] * len(out.lines),
            xml_sections=[
                ("inputVars", [self._xml_var(*v) for v in inputs]),
                ("outputVars:retain", [self._xml_var(*v) for v in outputs]),
            ],
        )

    def _table_column(self, table: ir.Table, column_index: int) -> Pou:
        column, vt = table.columns[column_index]
        name = self.global_name("column", table.name, column)
        result = self.local(name)
        key = self.local("key")
        out = Emitter(INDENT)
        printer = ExprPrinter(self, {})
        branches: list[tuple[str, str]] = []
        for row in table.rows:
            tests = []
            if row.low is not None:
                tests.append(
                    f"{key} {'>=' if row.low_closed else '>'} {self.real_literal(row.low, row.origin)}"
                )
            if row.high is not None:
                tests.append(
                    f"{key} {'<=' if row.high_closed else '<'} {self.real_literal(row.high, row.origin)}"
                )
            value = printer.expr(row.values[column_index])
            branches.append((" AND ".join(tests), value))
            if not tests:
                break
        else:
            if table.low_edge is not None:
                lowest = printer.expr(table.rows[table.lowest].values[column_index])
                branches.append((f"{key} < {self.real_literal(table.low_edge)}", lowest))
            branches.append(("", printer.expr(table.rows[table.highest].values[column_index])))
        for k, (condition, value) in enumerate(branches):
            if not condition:
                if k == 0:
                    out.line(f"{result} := {value};")
                    break
                out.line("ELSE")
            else:
                out.line(f"{'IF' if k == 0 else 'ELSIF'} {condition} THEN")
            out.line(f"{INDENT}{result} := {value};")
        if len(branches) > 1 or branches[0][0]:
            out.line("END_IF;")
        doc = f"Column `{column}` of table `{table.name}`"
        if table.doc.strip():
            doc += f": {flat_text(table.doc)}"
        comment = [
            self.comment(doc + ". Rows match top to bottom; a key no row holds gets the nearest end row.")
        ]
        comment.extend(self._doc_comment("", table.origin, table.cites))
        key_type = self.real
        pou = self._function(name, self.type_name(vt), [("key", key_type)], out, comment)
        if self.enum_constants:
            entries = self.enum_constant_entries([row.values[column_index] for row in table.rows])
            if entries:
                pou.sections.append(("VAR CONSTANT", [self.declaration(*entry) for entry in entries]))
        return pou

    def _curve(self, curve: ir.Curve) -> Pou:
        name = self.global_name("curve", curve.name)
        result, key = self.local(name), self.local("key")
        out = Emitter(INDENT)
        points = curve.points
        lit = self.real_literal
        out.line(f"IF {key} <= {lit(points[0][0])} THEN")
        out.line(f"{INDENT}{result} := {lit(points[0][1])};")
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            slope = (y2 - y1) / (x2 - x1)
            shift = f"{key} - {lit(x1)}" if x1 >= 0 else f"{key} + {lit(-x1)}"
            out.line(f"ELSIF {key} <= {lit(x2)} THEN")
            out.line(f"{INDENT}{result} := {lit(y1)} + ({shift}) * {lit(slope)};")
        out.line("ELSE")
        out.line(f"{INDENT}{result} := {lit(points[-1][1])};")
        out.line("END_IF;")
        doc = f"Curve `{curve.name}`" + (f": {flat_text(curve.doc)}" if curve.doc.strip() else "")
        comment = [self.comment(doc + ". Linear between the points, flat beyond the first and the last.")]
        comment.extend(self._doc_comment("", curve.origin, curve.cites))
        return self._function(name, self.real, [("key", self.real)], out, comment)

    def _main(self, printers: dict[str, ProgramPrinter]) -> Pou:
        """The PROGRAM that runs every block once per cycle, in wiring order, and keeps the event log."""
        namer = Namer(self, self.globals)
        cycle = namer.name("cycle", "cycle_time_s", report=False)
        clock = namer.name("clock", "clock_s", report=False)
        second_of_day = namer.name("clock_sod", "clock_second_of_day", report=False)
        weekday = namer.name("clock_weekday", "clock_weekday", report=False)
        dt = namer.name("dt", "dt_s", report=False)
        last_clock = namer.name("last_clock", "last_clock_s", report=False)
        log = namer.name("log", "event_log", report=False)
        instances = {p.name: namer.name(p.name, snake(p.name), report=False) for p in self.package.programs}
        self.main_names = {
            "cycle_time_s": cycle,
            "clock_s": clock,
            "clock_second_of_day": second_of_day,
            "clock_weekday": weekday,
            "event_log": log,
            **{f"instance:{name}": instance for name, instance in instances.items()},
        }
        wires: dict[str, list[ir.Wire]] = {}
        for wire in self.package.wires:
            wires.setdefault(wire.program, []).append(wire)
        loc = self.local
        zero = self.real_literal(0.0)
        out = Emitter(INDENT)
        out.line(self.comment(f"the time since the previous call: measured on {clock} once it runs"))
        out.line(f"IF {loc(last_clock)} > {zero} AND {loc(clock)} > {loc(last_clock)} THEN")
        out.line(f"{INDENT}{loc(dt)} := {loc(clock)} - {loc(last_clock)};")
        out.line("ELSE")
        out.line(f"{INDENT}{loc(dt)} := {loc(cycle)};")
        out.line("END_IF;")
        out.line(f"{loc(last_clock)} := {loc(clock)};")
        for program in self.package.programs:
            names = printers[program.name].names
            instance = loc(instances[program.name])
            args = [f"{names['cycle_time_s']} := {loc(dt)}"]
            if program.uses_calendar:
                args.append(f"{names['start_second_of_day']} := {loc(second_of_day)}")
                args.append(f"{names['start_weekday']} := {loc(weekday)}")
            if program.name in wires:
                args.append(f"{names['inputs_wired']} := TRUE")
            for wire in wires.get(program.name, ()):
                source = loc(instances[wire.source_program])
                args.append(
                    f"{names[wire.input]} := {source}.{printers[wire.source_program].names[wire.source]}"
                )
            for line in call_lines(f"{instance}(", args, 0):
                out.line(line)
            records, count = names["records"], names["record_count"]
            for k in range(1, printers[program.name].capacity + 1):
                append = f"{loc(log)}(entry := {instance}.{records}[{k}]);"
                out.line(f"IF {instance}.{count} >= {k} THEN {append} END_IF;")
        real = self.real
        inputs = [
            (cycle, real, self.real_literal(0.1), f"s, the task interval, used until {clock} runs"),
            (
                clock,
                real,
                zero,
                "s, a free-running clock (the PLC's time since start-up); the cycle time is measured on it",
            ),
            (second_of_day, real, zero, "s after midnight, from the PLC's real-time clock"),
            (weekday, "DINT", "0", "weekday from the PLC's real-time clock, 0 = Monday"),
        ]
        variables = [
            (dt, real, "s, the time since the previous call"),
            (last_clock, real, f"s, {clock} at the previous call"),
        ]
        variables.extend(
            (instances[p.name], self.block_name(self.global_name("type", p.name)), "")
            for p in self.package.programs
        )
        retained = [(log, self.block_name(self.global_name("type", "HpEventLog")), "every block's records")]
        comment = [
            self.comment(
                "Runs every program once per task cycle, in wiring order: each wired input takes its"
                " source's value of this cycle, and each block's records of the cycle go to the event"
                " log in order. Field inputs are written to the instances (e.g. changeover.outdoor_temp)"
                f" by the I/O mapping before this program runs; {second_of_day} and {weekday} set the"
                " wall clock of schedules and daily totals at the first call after a start."
            )
        ]
        return Pou(
            self.main_kind,
            self.block_name(self.global_name("main")),
            comment,
            [
                ("VAR_INPUT", [self.declaration(n, t, i, c) for n, t, i, c in inputs]),
                ("VAR", [self.declaration(n, t, comment=c) for n, t, c in variables]),
                ("VAR RETAIN", [self.declaration(n, t, comment=c) for n, t, c in retained]),
            ],
            out.text(),
            origins=[None] * len(out.lines),
            xml_sections=[
                ("inputVars", [self._xml_var(n, t, i, c) for n, t, i, c in inputs]),
                ("localVars", [self._xml_var(n, t, doc=c) for n, t, c in variables]),
                ("localVars:retain", [self._xml_var(n, t, doc=c) for n, t, c in retained]),
            ],
        )

    # ------------------------------------------------------------------ source map
    def _source_map(self, file: str, text: str, pous: list[Pou], version: str) -> str:
        """Generated line -> rules file and line, for every statement printed from a rule."""
        lines = text.split("\n")
        mappings: list[list[object]] = []
        position = 0
        for pou in pous:
            if not pou.body.strip():
                continue
            first = find_block(lines, pou.body, position)
            if first is None:
                continue
            position = first + pou.body.count("\n")
            for k, origin in enumerate(pou.origins):
                if origin is not None:
                    mappings.append([first + k + 1, pou.name, origin.file, origin.line, list(origin.cites)])
        renamed = [
            [wanted, used, *((origin.file, origin.line) if origin is not None else (None, None))]
            for wanted, used, origin in self.renames
        ]
        document = {
            "generator": f"Heat-pump control rules `{self.package.name}`, compiled by hpdsl {version}",
            "file": file,
            "dialect": self.dialect,
            "sources": list(self.package.sources),
            **(
                {"site": {"file": self.package.site[0], "sha256": self.package.site[1]}}
                if self.package.site is not None
                else {}
            ),
            "identifier_limit": self.max_identifier,
            # every rules name the output writes otherwise: [rules name, name used, source, line]
            "renamed": renamed,
            "columns": ["line", "pou", "source", "source_line", "requirements"],
            "events": [
                [number, program, name, list(fields)]
                for (program, name, fields), number in self.events.items()
            ],
            "mappings": mappings,
        }
        # One row a line: the file stays small and reads in a diff. `events` numbers the log
        # records ([number, program, event or alarm, [field names]]), for an HMI's text list.
        tables: dict[str, list[Any]] = {
            "renamed": renamed,
            "events": document["events"],  # type: ignore[dict-item]
            "mappings": mappings,
        }
        head = json.dumps({k: v for k, v in document.items() if k not in tables}, indent=1)
        lists = ",\n".join(
            f' "{key}": [\n' + ",\n".join(f"  {json.dumps(row)}" for row in rows) + "\n ]"
            for key, rows in tables.items()
        )
        return f"{head[:-2]},\n{lists}\n}}\n"
