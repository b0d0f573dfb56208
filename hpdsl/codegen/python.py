"""The Python target: one self-contained module per package, printed from the IR.

The module imports only the standard library. Each program becomes a class with typed,
slotted attributes (a misspelt input raises instead of being ignored), a constructor that
takes the parameters as keyword arguments and checks their types and ranges, and
``scan(dt_s)``. The layout of the file is the template ``targets/python/module.py.j2``;
the statements are printed here.

Inside ``scan`` an input is read once into a local of the same name (after the fault
check); everything else lives on ``self``.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import struct
from typing import cast

from hpdsl.codegen.emitter import Emitter
from hpdsl.codegen.escape import printable, python_docstring_end, python_docstring_line
from hpdsl.codegen.naming import snake
from hpdsl.codegen.python_printer import (
    INDENT,
    LINE_WIDTH,
    Names,
    Printer,
    emit_wrapped,
    float_text,
    python_literal,
    python_name,
    quote,
    unique_name,
)
from hpdsl.compile import ir

# Locals the generated `scan` uses itself, and names the module defines or imports.
_SCAN_LOCALS = frozenset({"self", "dt", "dt_s", "_reading", "_valid"})
_MODULE_NAMES = frozenset(
    {
        "annotations",
        "dataclass",
        "datetime",
        "enum",
        "math",
        "ClassVar",
        "Final",
        "NamedTuple",
        "Point",
        "AlarmInfo",
        "EventInfo",
        "AlarmRecord",
        "LogRecord",
        "Value",
        "Program",
        "Package",
        "DEFAULT_START",
    }
)
# Attributes every program class has; a point with one of these names is renamed.
_PROGRAM_ATTRIBUTES = frozenset(
    {
        "scan",
        "now",
        "alarm_changes",
        "log_entries",
        "active_alarms",
        "set_clock",
        "points",
        "NAME",
        "POINTS",
        "ALARMS",
        "EVENTS",
        "SOURCE",
        "RETAINED",
        "retained",
        "restore",
        # the constructor's own arguments: a parameter is a keyword argument beside them
        "self",
        "start",
    }
)


def python_annotation(vt: ir.ValueType) -> str:
    """The Python type of an IR value type."""
    if vt.kind == "enum":
        assert vt.enum is not None
        return vt.enum
    return {"bool": "bool", "int": "int", "real": "float"}[vt.kind]


class PythonGenerator:
    """Prints an IR package as one Python module."""

    def __init__(self, package: ir.Package, *, source_comments: bool = True) -> None:
        package = _enums_clear_of_the_module(package)
        self.package = package
        self.source_comments = source_comments
        self.enums = {e.name: e for e in package.enums}
        owners: list[ir.Package | ir.Program] = [package, *package.programs]
        self.tables = {t.name: t for owner in owners for t in owner.tables}
        self.curves = {c.name: c for owner in owners for c in owner.curves}
        module_taken = set(_MODULE_NAMES)
        module_taken.update(self.enums)
        # A program's class: its name, unless Python or the module reserves it (`class_`, `Package_`).
        self.classes = {p.name: unique_name(p.name, module_taken) for p in package.programs}
        # A program's instance in `Package`: a keyword argument and attribute beside `start` and
        # the methods, never the name of a class (`program plant` is class `plant`, instance `plant_`).
        instance_taken = {"self", "start", "programs", "scan", "PROGRAMS", "WIRES", *module_taken}
        self.instances = {p.name: unique_name(snake(p.name), instance_taken) for p in package.programs}
        self.globals = {c.name: python_name(c.name, frozenset(module_taken)) for c in package.constants}
        self.functions = {
            name: python_name(name, frozenset(module_taken)) for name in [*self.tables, *self.curves]
        }
        self.row_classes = {name: f"{_camel(name)}Row" for name in self.tables}
        self._scan_taken = frozenset(
            _SCAN_LOCALS
            | _MODULE_NAMES
            | set(self.enums)
            | set(self.globals.values())
            | set(self.functions.values())
        )
        self._names_of: dict[str, Names] = {}

    # ------------------------------------------------------------------ the module
    def generate(self, version: str) -> str:
        """The module text."""
        from hpdsl.codegen.templates import render

        return render(
            "python/module.py.j2",
            package=self.package,
            sources=[python_docstring_line(source) for source in self.package.sources],
            site=None if self.package.site_line is None else python_docstring_line(self.package.site_line),
            version=version,
            enums=[self._enum(e) for e in self.package.enums],
            constants=[self._constant(c) for c in self.package.constants],
            functions=[self._table(t) for t in self.tables.values()]
            + [self._curve(c) for c in self.curves.values()],
            programs=[self._program(p) for p in self.package.programs],
            functions_have_rows=bool(self.tables),
            package_class=self._package_class(),
            cycle_limit=repr(ir.CYCLE_TIME_LIMIT_S),
        )

    def _comment_lines(self, text: str, indent: str = "") -> list[str]:
        emitter = Emitter(INDENT)
        emitter.comment(text, "#", LINE_WIDTH - len(indent))
        return emitter.lines

    def _docstring(self, text: str, level: int, extra: list[str] | None = None) -> str:
        """A docstring at `level` indentation, with trailing lines (sources, requirements)."""
        pad = INDENT * level
        body = [line.rstrip() for line in _dedent(text).splitlines()] if text.strip() else []
        if extra:
            if body:
                body.append("")
            body.extend(extra)
        if not body:
            return f'{pad}""""""'
        # Wrapped first, then escaped: a break never falls inside an escape.
        body = [python_docstring_line(line) for line in _wrap_lines(body, LINE_WIDTH - len(pad) - 3)]
        if len(body) == 1 and len(pad) + len(body[0]) + 6 <= LINE_WIDTH:
            return f'{pad}"""{python_docstring_end(body[0])}"""'
        lines = [f'{pad}"""{body[0]}']
        lines.extend(f"{pad}{line}" if line else "" for line in body[1:])
        lines.append(f'{pad}"""')
        return "\n".join(lines)

    def _source(self, origin: ir.Origin | None, cites: tuple[str, ...] = ()) -> list[str]:
        if not self.source_comments:
            return []
        parts = []
        if origin is not None:
            parts.append(f"Source: {origin.describe()}")
        if cites:
            parts.append(f"Requirements: {', '.join(cites)}")
        return parts

    def _enum(self, enum: ir.Enum) -> dict[str, object]:
        return {
            "name": enum.name,
            "doc": self._docstring(enum.doc, 1, self._source(enum.origin, enum.cites)),
            "members": [(python_name(m), i) for i, m in enumerate(enum.members)],
        }

    def _constant(self, constant: ir.Constant) -> dict[str, object]:
        comment = []
        if constant.doc:
            comment.extend(self._comment_lines(_dedent(constant.doc)))
        if self.source_comments and constant.origin is not None:
            cites = f" ({', '.join(constant.cites)})" if constant.cites else ""
            comment.append(f"# {printable(constant.origin.describe())}{cites}")
        return {
            "name": self.globals[constant.name],
            "annotation": python_annotation(constant.value.type),
            "value": python_literal(constant.value),
            "comment": comment,
        }

    # ------------------------------------------------------------------ tables and curves
    def _table(self, table: ir.Table) -> dict[str, object]:
        name = self.functions[table.name]
        row_class = self.row_classes[table.name]
        key = python_name(table.key_name, frozenset(_MODULE_NAMES))
        rows_name = f"_{table.name.upper()}_ROWS"
        out = Emitter(INDENT)
        out.line(f"class {row_class}(NamedTuple):")
        with out.indented():
            out.line(f'"""A row of table `{table.name}`."""')
            out.line()
            for column, vt in table.columns:
                out.line(f"{python_name(column)}: {python_annotation(vt)}")
        out.line()
        out.line()
        out.line(f"{rows_name}: Final = (")
        with out.indented():
            for row in table.rows:
                values = ", ".join(python_literal(v) for v in row.values)
                where = f"  # {_describe_row(row, table.key.unit)}"
                if self.source_comments and row.origin is not None:
                    where += f" ({printable(row.origin.describe())})"
                out.line(f"{row_class}({values}),{where}")
        out.line(")")
        out.line()
        out.line()
        out.line(f"def {name}({key}: float) -> {row_class}:")
        with out.indented():
            summary = _first_sentence(table.doc) or f"Table `{table.name}`."
            extra = ["Rows match top to bottom; a key no row holds gets the nearest end row."]
            extra.extend(self._source(table.origin, table.cites))
            out.lines.append(self._docstring(summary, out.level, extra))
            for i, row in enumerate(table.rows):
                tests = []
                if row.low is not None:
                    tests.append(f"{key} {'>=' if row.low_closed else '>'} {float_text(row.low)}")
                if row.high is not None:
                    tests.append(f"{key} {'<=' if row.high_closed else '<'} {float_text(row.high)}")
                condition = " and ".join(tests) if tests else "True"
                if len(tests) == 2 and row.low_closed and row.high_closed:
                    condition = f"{float_text(row.low or 0.0)} <= {key} <= {float_text(row.high or 0.0)}"
                out.line(f"if {condition}:")
                with out.indented():
                    out.line(f"return {rows_name}[{i}]")
            if table.low_edge is None:
                out.line(f"return {rows_name}[{table.highest}]")
            else:
                out.line(f"if {key} < {float_text(table.low_edge)}:")
                with out.indented():
                    out.line(f"return {rows_name}[{table.lowest}]")
                out.line(f"return {rows_name}[{table.highest}]")
        return {"text": out.text().rstrip("\n")}

    def _curve(self, curve: ir.Curve) -> dict[str, object]:
        name = self.functions[curve.name]
        key = python_name(curve.key_name, frozenset(_MODULE_NAMES))
        out = Emitter(INDENT)
        out.line(f"def {name}({key}: float) -> float:")
        with out.indented():
            summary = _first_sentence(curve.doc) or f"Curve `{curve.name}`."
            extra = ["Linear between the points, flat beyond the first and the last."]
            extra.extend(self._source(curve.origin, curve.cites))
            out.lines.append(self._docstring(summary, out.level, extra))
            points = curve.points
            out.line(f"if {key} <= {float_text(points[0][0])}:")
            with out.indented():
                out.line(f"return {float_text(points[0][1])}")
            for (x1, y1), (x2, y2) in itertools.pairwise(points):
                out.line(f"if {key} <= {float_text(x2)}:")
                with out.indented():
                    slope = (y2 - y1) / (x2 - x1)
                    shift = f"{key} - {float_text(x1)}" if x1 >= 0 else f"{key} + {float_text(-x1)}"
                    out.line(f"return {float_text(y1)} + ({shift}) * {float_text(slope)}")
            out.line(f"return {float_text(points[-1][1])}")
        return {"text": out.text().rstrip("\n")}

    # ------------------------------------------------------------------ programs
    def _names(self, program: ir.Program) -> Names:
        """How the program's names print; worked out once a program (a package may have thousands)."""
        found = self._names_of.get(program.name)
        if found is None:
            found = self._names_of[program.name] = self._new_names(program)
        return found

    def _new_names(self, program: ir.Program) -> Names:
        # An input's local must not hide a module-level name the scan reads (program classes
        # are not read inside a scan, so their number does not enter here).
        local_names = set(self._scan_taken)
        locals_ = {v.name: unique_name(v.name, local_names) for v in program.variables if v.role == "input"}
        # Public names first, in declaration order, so that a compiler-made name never takes a
        # name the rules wrote.
        used = set(_PROGRAM_ATTRIBUTES)
        attributes = {
            v.name: unique_name(v.name, used, private=not v.public and v.name.startswith("_"))
            for v in sorted(program.variables, key=lambda v: not v.public)
        }
        # A number input is read into a local of its own type from a local that may hold
        # anything (`x_reading`): mypyc then keeps the local a C double.
        readings = {
            v.name: unique_name(f"{locals_[v.name]}_reading", local_names)
            for v in program.of_role("input")
            if v.type.kind in ("real", "int")
        }

        def private_slot(name: str, suffix: str) -> str:
            slot = f"_{attributes[name]}_{suffix}"
            while slot in used:
                slot += "_"
            used.add(slot)
            return slot

        storage = {var.name: private_slot(var.name, "value") for var in program.of_role("parameter")}
        # A wired input is a property over two slots: the value set on the program (used alone)
        # and the value Package copies from the source (typed as the source, never None).
        wire = {}
        for var in program.of_role("input"):
            if var.wiring is not None:
                storage[var.name] = private_slot(var.name, "value")
                wire[var.name] = private_slot(var.name, "wired")
        return Names(locals_, attributes, self.globals, self.functions, storage, wire, readings)

    def _program(self, program: ir.Program) -> dict[str, object]:
        names = self._names(program)
        printer = Printer(self.source_comments, names, program)
        attributes = names.attributes
        annotations = []
        for var in program.variables:
            annotation = python_annotation(var.type)
            if var.role == "input":
                annotation += " | None"
            annotations.append(f"{names.slot(var.name)}: {annotation}")
            if var.name in names.wire:
                annotations.append(f"{names.wire[var.name]}: {python_annotation(var.type)}")
        slots = [names.slot(v.name) for v in program.variables] + list(names.wire.values())
        if names.wire:
            slots.append("_wired")
        has_parameters = bool(program.of_role("parameter"))
        if has_parameters:
            slots.append("_parameters_written")
            annotations.append("_parameters_written: bool")
        init = Emitter(INDENT, 2)
        if "_wired" in slots:
            init.line("self._wired = False  # set by Package: wired inputs come checked from their sources")
        properties: list[dict[str, object]] = []
        for var in program.of_role("parameter"):
            attr = attributes[var.name]
            kind = var.type.enum if var.type.kind == "enum" else var.type.kind
            low = printer.expr(var.low) if var.low is not None else "None"
            high = printer.expr(var.high) if var.high is not None else "None"
            check = f'_parameter("{var.name}", {attr}, {quote(kind or "")}, {low}, {high})'
            emit_wrapped(init, f"self.{names.slot(var.name)} = {check}")
            properties.append(
                {
                    "name": attr,
                    "type": python_annotation(var.type),
                    "doc": "A parameter: a value written is checked at the next scan, as on a PLC.",
                    "getter": [f"return self.{names.slot(var.name)}"],
                    "setter": [f"self.{names.slot(var.name)} = value", "self._parameters_written = True"],
                }
            )
        reads = {s.input: s for s in program.scan if isinstance(s, ir.ReadInput)}
        for var in program.of_role("input"):
            if var.name in names.wire:
                annotation = python_annotation(var.type)
                slots_of = (names.slot(var.name), names.wire[var.name])
                properties.append(_wired_property(attributes[var.name], annotation, *slots_of))
        for constraint in program.constraints:
            first = _first_sentence(constraint.doc)
            message = f"{program.name}: `require {constraint.name}` does not hold" + (
                f": {first}" if first else ""
            )
            printer.constraint_check(init, constraint, message)
        if has_parameters:
            init.line(
                "self._parameters_written = True  # checked against the last valid values at the first scan"
            )
        for role in ("constant", "input", "output", "local", "state"):
            for var in program.of_role(role):
                attr = attributes[var.name]
                if var.name == ir.SECOND_OF_DAY:
                    init.line(f"self.{attr} = self._start_second_of_day()")
                elif var.name == ir.WEEKDAY:
                    init.line(f"self.{attr} = self._start.weekday()")
                elif var.role == "input":
                    init.line(f"self.{names.slot(var.name)} = None")
                    if var.name in names.wire:
                        init.line(f"self.{names.wire[var.name]} = {_wire_start(reads[var.name], printer)}")
                else:
                    assert var.initial is not None, var.name
                    printer._line(init, f"self.{attr} = ", var.initial, "", None)
        scan = Emitter(INDENT, 2)
        wired = [s for s in program.scan if isinstance(s, ir.ReadInput) and printer.variables[s.input].wiring]
        for stmt in program.scan:
            if wired and stmt is wired[0]:
                printer.wired_inputs(scan, wired)
            elif not (isinstance(stmt, ir.ReadInput) and stmt in wired):
                printer.stmt(scan, stmt)
        parameters = []
        for var in program.of_role("parameter"):
            assert var.initial is not None
            default = printer.constant_expr(var.initial)
            parameters.append(f"{attributes[var.name]}: {python_annotation(var.type)} = {default}")
        points = [
            self._point(v, printer)
            for v in program.variables
            if v.public and v.role != "constant" and (v.point or v.role in ("input", "output", "parameter"))
        ]
        alarms = [self._alarm_info(a, names) for a in program.alarms]
        events = [self._event_info(e) for e in program.events]
        retained = program.retained()
        return {
            "name": program.name,
            "class_name": self.classes[program.name],
            "instance": self.instances[program.name],
            "doc": self._docstring(program.doc, 1, self._source(program.origin, program.cites)),
            "slots": slots,
            "annotations": annotations,
            "parameters": parameters,
            "properties": properties,
            "init": init.text().rstrip("\n"),
            "scan": scan.text().rstrip("\n"),
            "points": points,
            "alarms": alarms,
            "events": events,
            "retained": _tuple_text(
                [quote(attributes[v.name]) for v in program.variables if v.name in retained]
            ),
            "source": quote(
                program.origin.describe() if program.origin is not None and self.source_comments else ""
            ),
        }

    def _point(self, var: ir.Variable, printer: Printer) -> list[str]:
        kind = var.point or var.role
        type_name = var.type.enum if var.type.kind == "enum" else var.type.kind
        low = printer.constant_expr(var.low) if var.low is not None else "None"
        high = printer.constant_expr(var.high) if var.high is not None else "None"
        default = printer.constant_expr(var.initial) if var.initial is not None else "None"
        source = quote(var.origin.describe() if var.origin is not None and self.source_comments else "")
        doc = _field(_first_sentence(var.doc))
        cites = "(" + "".join(f"{quote(c)}, " for c in var.cites) + ")"
        return [
            quote(var.name),
            quote(printer.names.attributes[var.name]),
            quote(kind),
            quote(type_name or ""),
            quote(var.type.unit),
            low,
            high,
            default,
            doc,
            cites,
            source,
        ]

    def _alarm_info(self, alarm: ir.Alarm, names: Names) -> list[str]:
        source = quote(alarm.origin.describe() if alarm.origin is not None and self.source_comments else "")
        cites = "(" + "".join(f"{quote(c)}, " for c in alarm.cites) + ")"
        sensor = quote(alarm.sensor) if alarm.sensor else "None"
        # The attribute that is true while the alarm is active.
        attribute = f"_{alarm.sensor}_faulted" if alarm.sensor else alarm.name
        return [
            quote(alarm.name),
            quote(names.attributes[attribute]),
            quote(alarm.severity),
            str(alarm.latching),
            _field(_first_sentence(alarm.doc)),
            cites,
            source,
            sensor,
        ]

    def _event_info(self, event: ir.Event) -> list[str]:
        pad = " " * 16
        fields = (
            "(\n"
            + "".join(
                f"{pad}({quote(f.name)}, {quote(f.type.enum or f.type.kind)}, {quote(f.type.unit)}),\n"
                for f in event.fields
            )
            + " " * 12
            + ")"
        )
        source = quote(event.origin.describe() if event.origin is not None and self.source_comments else "")
        cites = "(" + "".join(f"{quote(c)}, " for c in event.cites) + ")"
        return [quote(event.name), fields, _field(_first_sentence(event.doc)), cites, source]

    def _package_class(self) -> dict[str, object]:
        programs = [(self.instances[p.name], self.classes[p.name]) for p in self.package.programs]
        scan = Emitter(INDENT, 2)
        wires_by_program: dict[str, list[ir.Wire]] = {}
        for wire in self.package.wires:
            wires_by_program.setdefault(wire.program, []).append(wire)
        for attr, _ in programs:
            scan.line(f"{attr} = self.{attr}")
        for program in self.package.programs:
            attr, name = self.instances[program.name], program.name
            for wire in wires_by_program.get(name, ()):
                source_program = self.package.program(wire.source_program)
                source_attr = self._names(source_program).attributes[wire.source]
                target_attr = self._names(program).wire[wire.input]
                source = self.instances[wire.source_program]
                emit_wrapped(scan, f"{attr}.{target_attr} = {source}.{source_attr}")
            scan.line(f"{attr}.scan(dt_s)")
        wired = sorted({self.instances[w.program] for w in self.package.wires})
        wires = []
        for wire in self.package.wires:
            names = (wire.program, wire.input, wire.source_program, wire.source)
            line = "(" + ", ".join(f'"{name}"' for name in names) + "),"
            if len(INDENT) * 2 + len(line) > LINE_WIDTH:  # one name a line
                line = "(\n" + "".join(f'{INDENT * 3}"{name}",\n' for name in names) + INDENT * 2 + "),"
            wires.append(line)
        recorded, fed, locals_ = self._recorded_points()
        fed_names = {name for name, _, _ in fed}
        # the reals first, then the ints and members' numbers, then the flags: numpy reads the
        # records back in half the time it takes with the kinds interleaved
        by_replay = sorted(
            ((name, value, code) for name, value, code in recorded if name not in fed_names),
            key=lambda item: "dq?".index(item[2]),
        )
        record = "<" + "".join(code for _, _, code in by_replay)
        return {
            "programs": programs,
            "scan": scan.text().rstrip("\n"),
            "wired": wired,
            "wires": wires,
            "snapshot_names": [quote(name) for name, _, _ in recorded],
            "snapshot_values": [value for _, value, _ in recorded],
            # the record of `replay`: SNAPSHOT's values less the field inputs (the rows give them)
            "record_names": [quote(name) for name, _, _ in by_replay],
            "record_writes": [_record_write(value, code) for _, value, code in by_replay],
            # what `replay` reads and writes with: the rows' doubles, the writer, reals and ints
            "librt_names": [
                "BytesWriter",
                *(["read_f64_le"] if fed else []),
                *(["write_f64_le"] if "d" in record else []),
                *(["write_i64_le"] if "q" in record else []),
            ],
            "record": record,
            "input_record_size": struct.calcsize("<" + "d" * len(fed)),
            "field_inputs": [quote(name) for name, _, _ in fed],
            "feed": [line for i, (_, target, vt) in enumerate(fed) for line in _feed_lines(target, vt, i)],
            "locals": locals_,
            "recording": sorted({value.split(".")[0] for _, value, _ in recorded}),
            "recorded_by_replay": sorted({value.split(".")[0] for _, value, _ in by_replay}),
            "fed": sorted({target.split(".")[0] for _, target, _ in fed}),
            "alarmed": [f"p{i}" for i, program in enumerate(self.package.programs) if program.alarms],
        }

    def _recorded_points(
        self,
    ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, ir.ValueType]], list[str]]:
        """What a trend records of each program (as `hpdsl.sim.loaded` reads POINTS), and its field inputs.

        (column, the value's expression, its `struct` code in `replay`'s RECORD) for every input
        from the field, output, total, counter and machine state, an enumeration other than an
        input's by its member's number (a flag is packed as `?`, a number of members or an int
        as `q`, a real as `d`: packing a flag or an int as a double costs twice as much);
        (column, the attribute set, its type) for every input from the field; and the lines
        that bind each program to its local (`p0 = self.plant_signals`).
        """
        recorded: list[tuple[str, str, str]] = []
        fed: list[tuple[str, str, ir.ValueType]] = []
        locals_: list[str] = []
        for index, program in enumerate(self.package.programs):
            local = f"p{index}"
            locals_.append(f"{local} = self.{self.instances[program.name]}")
            attributes = self._names(program).attributes
            for var in program.variables:
                if not (
                    var.public and var.role != "constant" and (var.point or var.role in ("input", "output"))
                ):
                    continue
                kind = var.point or var.role
                if kind not in ("input", "output", "totalizer", "counter", "machine"):
                    continue
                if kind == "input" and var.wiring is not None:
                    continue
                column = f"{program.name}.{var.name}"
                value = f"{local}.{attributes[var.name]}"
                if kind == "input":
                    fed.append((column, value, var.type))
                elif var.type.kind == "enum":
                    value += "._value_"
                code = {"bool": "?", "int": "q", "enum": "q"}.get(var.type.kind, "d")
                recorded.append((column, value, code))
        return recorded, fed, locals_

    # ------------------------------------------------------------------ values


def _record_write(value: str, code: str) -> str:
    """The statement of `Package._record` that writes one value as its RECORD code lays it out."""
    if code == "d":
        return f"write_f64_le(out, {value})"
    if code == "q":
        return f"write_i64_le(out, {value})"
    return f"out.append(1 if {value} else 0)"


def _wired_property(attribute: str, annotation: str, value_slot: str, wire_slot: str) -> dict[str, object]:
    """A wired input's property: inside a Package the value copied from the source, alone the value set."""
    return {
        "name": attribute,
        "type": f"{annotation} | None",
        "doc": "A wired input: in a Package, copied from its source; alone, the value set.",
        "getter": ["if self._wired:", f"{INDENT}return self.{wire_slot}", f"return self.{value_slot}"],
        "setter": [f"self.{value_slot} = value"],
    }


def _wire_start(read: ir.ReadInput, printer: Printer) -> str:
    """A wired input's value before Package first copies the source in (which it does before the
    program's first scan): the input's fallback, or the start of its last-good memory."""
    start = read.fallback if read.last_good is None else printer.variables[read.last_good].initial
    assert start is not None
    return printer.expr(start)


def _feed_lines(target: str, vt: ir.ValueType, index: int) -> list[str]:
    """The replay loop's lines (indented 12) setting one field input from its number in the row
    (read from the bytes as a C double): NaN is None (the trend has no such column), a flag is a
    number other than 0, a member is given by its number."""
    value = {"bool": "value != 0.0", "int": "round(value)", "real": "value"}.get(vt.kind, "")
    if vt.kind == "enum":
        value = f"{python_annotation(vt)}(round(value))"
    line = f"{target} = None if math.isnan(value) else {value}"
    if 12 + len(line) > LINE_WIDTH:
        line = f"{target} = (\n{' ' * 16}None if math.isnan(value) else {value}\n{' ' * 12})"
    offset = f"place + {8 * index}" if index else "place"
    return [f"value = read_f64_le(inputs, {offset})", line]


def _field(text: str, indent: int = 12) -> str:
    """A string literal for a metadata field, split into implicit concatenation when too long."""
    if indent + len(quote(text)) + 1 <= LINE_WIDTH:
        return quote(text)
    import textwrap

    pad = " " * (indent + 4)
    pieces = textwrap.wrap(text, LINE_WIDTH - indent - 8, drop_whitespace=False)
    body = "\n".join(f"{pad}{quote(piece)}" for piece in pieces)
    return f"(\n{body}\n{' ' * indent})"


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _dedent(text: str) -> str:
    """A rules doc string with the indentation of its continuation lines removed."""
    lines = text.strip("\n").splitlines()
    if not lines:
        return ""
    import textwrap

    return (lines[0].strip() + "\n" + textwrap.dedent("\n".join(lines[1:]))).strip()


def _wrap_lines(lines: list[str], width: int) -> list[str]:
    """Lines longer than `width` wrapped, keeping their indentation."""
    import textwrap

    out: list[str] = []
    for line in lines:
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.extend(textwrap.wrap(line, width, initial_indent="", subsequent_indent=indent) or [line])
    return out


def _first_sentence(text: str) -> str:
    flat = " ".join(_dedent(text).split())
    if not flat:
        return ""
    match = re.match(r"(.+?[.!?])(\s|$)", flat)
    return match.group(1) if match else flat


def _describe_row(row: ir.TableRow, unit: str) -> str:
    def show(value: float) -> str:
        return f"{value:g}{' ' + unit if unit and unit not in ('C', 'F') else unit}"

    if row.low is not None and row.high is not None:
        return f"{show(row.low)} .. {show(row.high)}"
    if row.low is not None:
        return f"{'>=' if row.low_closed else '>'} {show(row.low)}"
    if row.high is not None:
        return f"{'<=' if row.high_closed else '<'} {show(row.high)}"
    return "any key"


def _tuple_text(items: list[str]) -> str:
    """A tuple display in a class body: `()`, or one item a line."""
    if not items:
        return "()"
    return "(\n" + "".join(f"{INDENT * 2}{item},\n" for item in items) + f"{INDENT})"


def _enums_clear_of_the_module(package: ir.Package) -> ir.Package:
    """The package with each enumeration the module's own names would hide renamed (`Point_`).

    An enumeration is a class of the module, beside `Point`, `Program`, `Package` and the
    imports; one named like them gets a trailing `_` everywhere it is used. Most packages have
    none and are returned as they are.
    """
    taken = set(_MODULE_NAMES)
    renamed = {}
    for enum in package.enums:
        name = unique_name(enum.name, taken)
        if name != enum.name:
            renamed[enum.name] = name
    if not renamed:
        return package
    return cast(ir.Package, _with_enums_renamed(package, renamed))


def _with_enums_renamed(node: object, renamed: dict[str, str]) -> object:
    """`node` (any part of the IR) with the enumerations' names in `renamed` replaced."""
    if isinstance(node, ir.ValueType):
        return dataclasses.replace(node, enum=renamed[node.enum]) if node.enum in renamed else node
    if isinstance(node, ir.Enum):
        return dataclasses.replace(node, name=renamed.get(node.name, node.name))
    if isinstance(node, tuple):
        return tuple(_with_enums_renamed(item, renamed) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {
            f.name: _with_enums_renamed(getattr(node, f.name), renamed) for f in dataclasses.fields(node)
        }
        return dataclasses.replace(node, **changes)
    return node
