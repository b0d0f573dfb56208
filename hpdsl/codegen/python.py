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

import builtins
import itertools
import keyword
import re
from dataclasses import dataclass

from hpdsl import ir
from hpdsl.codegen.emitter import Emitter
from hpdsl.codegen.naming import snake

LINE_WIDTH = 110
INDENT = "    "

# Python precedence, loosest first; a child binding looser than its parent gets parentheses.
_PRECEDENCE = {
    "if": 1,
    "or": 2,
    "and": 3,
    "not": 4,
    "compare": 5,
    "+": 7,
    "-": 7,
    "*": 8,
    "/": 8,
    "mod": 8,
    "unary": 9,
    "atom": 10,
}

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
    }
)


def python_name(name: str, taken: frozenset[str] = frozenset(), *, shadow_builtins: bool = False) -> str:
    """A rules name as a Python identifier: unchanged unless Python reserves it or it is taken."""
    reserved = keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in taken
    if reserved or (not shadow_builtins and hasattr(builtins, name)):
        return f"{name}_"
    return name


def float_text(value: float) -> str:
    """A float literal that reads back exactly (`0.1`, `1e-09`, `86400.0`)."""
    text = repr(float(value))
    if text in ("inf", "-inf", "nan"):
        return {"inf": "math.inf", "-inf": "-math.inf", "nan": "math.nan"}[text]
    return text


@dataclass
class _Names:
    """How IR names print in one program: locals for inputs, attributes for the rest."""

    locals: dict[str, str]
    attributes: dict[str, str]
    globals: dict[str, str]
    functions: dict[str, str]
    # A parameter is a property (its setter notes the write, see ir.ParametersWritten); the
    # scan reads and writes the slot behind it.
    storage: dict[str, str]

    def slot(self, name: str) -> str:
        """The attribute a scan reads and writes for the IR name."""
        return self.storage.get(name) or self.attributes[name]


class PythonGenerator:
    """Prints an IR package as one Python module."""

    def __init__(self, package: ir.Package, *, source_comments: bool = True) -> None:
        self.package = package
        self.source_comments = source_comments
        self.enums = {e.name: e for e in package.enums}
        owners: list[ir.Package | ir.Program] = [package, *package.programs]
        self.tables = {t.name: t for owner in owners for t in owner.tables}
        self.curves = {c.name: c for owner in owners for c in owner.curves}
        module_taken = set(_MODULE_NAMES)
        module_taken.update(self.enums)
        module_taken.update(p.name for p in package.programs)
        self.globals = {c.name: python_name(c.name, frozenset(module_taken)) for c in package.constants}
        self.functions = {
            name: python_name(name, frozenset(module_taken)) for name in [*self.tables, *self.curves]
        }
        self.row_classes = {name: f"{_camel(name)}Row" for name in self.tables}

    # ------------------------------------------------------------------ the module
    def generate(self, version: str) -> str:
        """The module text."""
        from hpdsl.codegen.templates import render

        return render(
            "python/module.py.j2",
            package=self.package,
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
        body = [line.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') for line in body]
        body = _wrap_lines(body, LINE_WIDTH - len(pad) - 3)
        if len(body) == 1 and len(pad) + len(body[0]) + 6 <= LINE_WIDTH:
            return f'{pad}"""{body[0]}"""'
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
            comment.append(f"# {constant.origin.describe()}{cites}")
        return {
            "name": self.globals[constant.name],
            "annotation": self._annotation(constant.value.type),
            "value": self._literal(constant.value),
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
                out.line(f"{python_name(column)}: {self._annotation(vt)}")
        out.line()
        out.line()
        out.line(f"{rows_name}: Final = (")
        with out.indented():
            for row in table.rows:
                values = ", ".join(self._literal(v) for v in row.values)
                where = f"  # {_describe_row(row, table.key.unit)}"
                if self.source_comments and row.origin is not None:
                    where += f" ({row.origin.describe()})"
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
    def _names(self, program: ir.Program) -> _Names:
        taken = frozenset(
            _SCAN_LOCALS
            | _MODULE_NAMES
            | set(self.enums)
            | set(self.globals.values())
            | set(self.functions.values())
            | {p.name for p in self.package.programs}
        )
        locals_ = {v.name: python_name(v.name, taken) for v in program.variables if v.role == "input"}
        attributes = {
            v.name: python_name(v.name, _PROGRAM_ATTRIBUTES, shadow_builtins=True) for v in program.variables
        }
        used = set(attributes.values())
        storage = {}
        for var in program.of_role("parameter"):
            slot = f"_{attributes[var.name]}_value"
            while slot in used:
                slot += "_"
            used.add(slot)
            storage[var.name] = slot
        return _Names(locals_, attributes, self.globals, self.functions, storage)

    def _program(self, program: ir.Program) -> dict[str, object]:
        names = self._names(program)
        printer = _Printer(self, names, program)
        attributes = names.attributes
        annotations = []
        for var in program.variables:
            annotation = self._annotation(var.type)
            if var.role == "input":
                annotation += " | None"
            annotations.append(f"{names.slot(var.name)}: {annotation}")
        slots = [names.slot(v.name) for v in program.variables]
        if any(v.wiring for v in program.of_role("input")):
            slots.append("_wired")
        if names.storage:
            slots.append("_parameters_written")
            annotations.append("_parameters_written: bool")
        init = Emitter(INDENT, 2)
        if "_wired" in slots:
            init.line("self._wired = False  # set by Package: wired inputs come checked from their sources")
        properties = []
        for var in program.of_role("parameter"):
            attr = attributes[var.name]
            kind = var.type.enum if var.type.kind == "enum" else var.type.kind
            low = printer.expr(var.low) if var.low is not None else "None"
            high = printer.expr(var.high) if var.high is not None else "None"
            check = f'_parameter("{var.name}", {attr}, {_quote(kind or "")}, {low}, {high})'
            printer._text(init, f"self.{names.slot(var.name)} = {check}")
            properties.append(
                {
                    "name": attr,
                    "slot": names.slot(var.name),
                    "type": self._annotation(var.type),
                    "doc": "A parameter: a value written is checked at the next scan, as on a PLC.",
                }
            )
        if names.storage:
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
                    init.line(f"self.{attr} = None")
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
            parameters.append(f"{attributes[var.name]}: {self._annotation(var.type)} = {default}")
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
                [_quote(attributes[v.name]) for v in program.variables if v.name in retained]
            ),
            "source": program.origin.describe()
            if program.origin is not None and self.source_comments
            else "",
        }

    def _point(self, var: ir.Variable, printer: _Printer) -> list[str]:
        kind = var.point or var.role
        type_name = var.type.enum if var.type.kind == "enum" else var.type.kind
        low = printer.constant_expr(var.low) if var.low is not None else "None"
        high = printer.constant_expr(var.high) if var.high is not None else "None"
        default = printer.constant_expr(var.initial) if var.initial is not None else "None"
        source = _quote(var.origin.describe() if var.origin is not None and self.source_comments else "")
        doc = _field(_first_sentence(var.doc))
        cites = "(" + "".join(f"{_quote(c)}, " for c in var.cites) + ")"
        return [
            _quote(var.name),
            _quote(printer.names.attributes[var.name]),
            _quote(kind),
            _quote(type_name or ""),
            _quote(var.type.unit),
            low,
            high,
            default,
            doc,
            cites,
            source,
        ]

    def _alarm_info(self, alarm: ir.Alarm, names: _Names) -> list[str]:
        source = _quote(alarm.origin.describe() if alarm.origin is not None and self.source_comments else "")
        cites = "(" + "".join(f"{_quote(c)}, " for c in alarm.cites) + ")"
        sensor = _quote(alarm.sensor) if alarm.sensor else "None"
        # The attribute that is true while the alarm is active.
        attribute = f"_{alarm.sensor}_faulted" if alarm.sensor else alarm.name
        return [
            _quote(alarm.name),
            _quote(names.attributes[attribute]),
            _quote(alarm.severity),
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
                f"{pad}({_quote(f.name)}, {_quote(f.type.enum or f.type.kind)}, {_quote(f.type.unit)}),\n"
                for f in event.fields
            )
            + " " * 12
            + ")"
        )
        source = _quote(event.origin.describe() if event.origin is not None and self.source_comments else "")
        cites = "(" + "".join(f"{_quote(c)}, " for c in event.cites) + ")"
        return [_quote(event.name), fields, _field(_first_sentence(event.doc)), cites, source]

    def _package_class(self) -> dict[str, object]:
        programs = [(snake(p.name), p.name) for p in self.package.programs]
        scan = Emitter(INDENT, 2)
        wires_by_program: dict[str, list[ir.Wire]] = {}
        for wire in self.package.wires:
            wires_by_program.setdefault(wire.program, []).append(wire)
        for attr, _ in programs:
            scan.line(f"{attr} = self.{attr}")
        for attr, name in programs:
            program = self.package.program(name)
            for wire in wires_by_program.get(name, ()):
                source_program = self.package.program(wire.source_program)
                source_attr = self._names(source_program).attributes[wire.source]
                target_attr = self._names(program).attributes[wire.input]
                scan.line(f"{attr}.{target_attr} = {snake(wire.source_program)}.{source_attr}")
            scan.line(f"{attr}.scan(dt_s)")
        wired = sorted({snake(w.program) for w in self.package.wires})
        return {"programs": programs, "scan": scan.text().rstrip("\n"), "wired": wired}

    # ------------------------------------------------------------------ values
    def _annotation(self, vt: ir.ValueType) -> str:
        if vt.kind == "enum":
            assert vt.enum is not None
            return vt.enum
        return {"bool": "bool", "int": "int", "real": "float"}[vt.kind]

    def _literal(self, literal: ir.Literal_) -> str:
        value = literal.value
        if literal.type.kind == "enum":
            assert isinstance(value, str) and literal.type.enum is not None
            return f"{literal.type.enum}.{python_name(value)}"
        if isinstance(value, bool):
            return "True" if value else "False"
        if literal.type.kind == "int":
            return str(int(value))
        return float_text(float(value))


class _Printer:
    """Prints the expressions and statements of one program's scan."""

    def __init__(self, generator: PythonGenerator, names: _Names, program: ir.Program) -> None:
        self.generator = generator
        self.names = names
        self.program = program
        self.variables = {v.name: v for v in program.variables}
        self.used = {e.name for e in ir.walk_exprs(program.scan) if isinstance(e, ir.Ref)}

    # ------------------------------------------------------------------ expressions
    def expr(self, expr: ir.Expr) -> str:
        return self._expr(expr)[0]

    def constant_expr(self, expr: ir.Expr) -> str:
        """An expression for class-level metadata and defaults: parameters read their defaults."""
        return _substitute(self, expr)

    def _expr(self, expr: ir.Expr) -> tuple[str, int]:
        """Text and precedence."""
        if isinstance(expr, ir.Literal_):
            text = self.generator._literal(expr)
            return text, _PRECEDENCE["unary"] if text.startswith("-") else _PRECEDENCE["atom"]
        if isinstance(expr, ir.Ref):
            if expr.name in self.names.locals:
                return self.names.locals[expr.name], _PRECEDENCE["atom"]
            return f"self.{self.names.slot(expr.name)}", _PRECEDENCE["atom"]
        if isinstance(expr, ir.GlobalRef):
            return self.names.globals[expr.name], _PRECEDENCE["atom"]
        if isinstance(expr, ir.ScanTime):
            return "dt", _PRECEDENCE["atom"]
        if isinstance(expr, ir.CycleTimeFault):
            limit = repr(ir.CYCLE_TIME_LIMIT_S)
            return f"not 0.0 <= dt_s <= {limit}", _PRECEDENCE["not"]
        if isinstance(expr, ir.Unary):
            negated = ir.negated_comparison(expr)
            if negated is not None:  # `a is not b` reads better than `not a is b`
                return self._expr(negated)
            if expr.op == "not":
                return f"not {self._operand(expr.operand, _PRECEDENCE['not'])}", _PRECEDENCE["not"]
            return f"-{self._operand(expr.operand, _PRECEDENCE['unary'])}", _PRECEDENCE["unary"]
        if isinstance(expr, ir.Binary):
            level = _PRECEDENCE[expr.op]
            op = "%" if expr.op == "mod" else expr.op
            left = self._operand(expr.left, level)
            if expr.op == "or" and isinstance(expr.left, ir.Binary) and expr.left.op == "and":
                left = f"({left})"  # clearer than relying on `and` binding tighter
            # Right operands of - / % bind tighter: a - (b - c).
            # A right operand of the same precedence keeps its parentheses: a * (b / c) rounds
            # differently from a * b / c, and the targets must compute exactly what was written.
            right_level = level if expr.op in ("and", "or") else level + 1
            right = self._operand(expr.right, right_level)
            if expr.op == "or" and isinstance(expr.right, ir.Binary) and expr.right.op == "and":
                right = f"({right})"
            return f"{left} {op} {right}", level
        if isinstance(expr, ir.SafeDivide):
            divisor, level = self._expr(expr.right)
            divisor = divisor if level >= _PRECEDENCE["compare"] + 1 else f"({divisor})"
            left = self._operand(expr.left, _PRECEDENCE["/"])
            right = self._operand(expr.right, _PRECEDENCE["/"] + 1)
            return f"{left} / {right} if {divisor} != 0.0 else 0.0", _PRECEDENCE["if"]
        if isinstance(expr, ir.Compare):
            level = _PRECEDENCE["compare"]
            compare: str = expr.op
            if expr.left.type.kind == "enum" and compare in ("==", "!="):
                compare = "is" if compare == "==" else "is not"
            left = self._operand(expr.left, level + 1)
            right = self._operand(expr.right, level + 1)
            return f"{left} {compare} {right}", level
        if isinstance(expr, ir.Call):
            args = [self._expr(a)[0] for a in expr.args]
            if expr.function == "to_real":
                return self._expr(expr.args[0])
            if expr.function == "clamp":
                return f"_clamp({', '.join(args)})", _PRECEDENCE["atom"]
            if expr.function == "floor":
                return f"math.floor({args[0]})", _PRECEDENCE["atom"]
            return f"{expr.function}({', '.join(args)})", _PRECEDENCE["atom"]
        if isinstance(expr, ir.Lookup):
            function = self.names.functions[expr.table]
            return f"{function}({self.expr(expr.key)}).{python_name(expr.column)}", _PRECEDENCE["atom"]
        if isinstance(expr, ir.Interpolate):
            return f"{self.names.functions[expr.curve]}({self.expr(expr.key)})", _PRECEDENCE["atom"]
        raise AssertionError(f"unhandled IR expression {type(expr).__name__}")

    def _operand(self, expr: ir.Expr, level: int) -> str:
        text, own = self._expr(expr)
        return text if own >= level else f"({text})"

    # ------------------------------------------------------------------ statements
    def stmt(self, out: Emitter, stmt: ir.Stmt) -> None:
        if isinstance(stmt, ir.Block):
            self._block(out, stmt)
        elif isinstance(stmt, ir.Assign):
            target = f"self.{self.names.slot(stmt.target)}"
            value = stmt.value
            if isinstance(value, ir.Call) and value.function == "clamp":
                # Held within the range by statements rather than a call: a scan does this often.
                low, high = (self.expr(bound) for bound in value.args[1:])
                self._line(out, f"{target} = ", value.args[0], "", stmt.origin)
                out.line(f"if not {target} >= {low}:  # below the range, or not a number")
                with out.indented():
                    out.line(f"{target} = {low}")
                out.line(f"elif {target} > {high}:")
                with out.indented():
                    out.line(f"{target} = {high}")
                return
            self._line(out, f"{target} = ", value, "", stmt.origin)
        elif isinstance(stmt, ir.If) and isinstance(stmt.branches[0].condition, ir.ParametersWritten):
            out.line("if self._parameters_written:  # a parameter was set since the last check")
            with out.indented():
                out.line("self._parameters_written = False")
                self._body(out, stmt.branches[0].body)
        elif isinstance(stmt, ir.If):
            stmt = _collapse_last_branch(stmt)
            for k, branch in enumerate(stmt.branches):
                keyword_ = "if" if k == 0 else "elif"
                self._line(out, f"{keyword_} ", branch.condition, ":", stmt.origin if k == 0 else None)
                with out.indented():
                    self._body(out, branch.body)
            if stmt.else_body:
                out.line("else:")
                with out.indented():
                    self._body(out, stmt.else_body)
        elif isinstance(stmt, ir.Log):
            self._record(out, "self._log", [_quote(stmt.event)], stmt.fields, stmt.origin)
        elif isinstance(stmt, ir.AlarmChange):
            alarm = next(a for a in self.program.alarms if a.name == stmt.alarm)
            head = [_quote(stmt.alarm), _quote(alarm.severity), str(stmt.raised)]
            self._record(out, "self._alarm", head, stmt.values, stmt.origin)
        elif isinstance(stmt, ir.ReadInput):
            self._read_input(out, stmt)
        else:
            raise AssertionError(f"unhandled IR statement {type(stmt).__name__}")

    def _record(
        self,
        out: Emitter,
        method: str,
        head: list[str],
        values: tuple[tuple[str, ir.Expr], ...],
        origin: ir.Origin | None,
    ) -> None:
        """A call that records an alarm change or a log entry with a dict of values."""
        items = [f"{_quote(name)}: {self.expr(value)}" for name, value in values]
        where = self._where(origin)
        text = f"{method}({', '.join(head)}, {{{', '.join(items)}}})"
        if len(INDENT * out.level) + len(text) + len(where) <= LINE_WIDTH:
            out.line(text + where)
            return
        out.line(f"{method}({where}")
        with out.indented():
            out.line(f"{', '.join(head)},")
            out.line("{")
            with out.indented():
                for name, value in values:  # each value wrapped where it is too long for a line
                    self._line(out, f"{_quote(name)}: ", value, ",", None)
            out.line("},")
        out.line(")")

    def _body(self, out: Emitter, body: tuple[ir.Stmt, ...]) -> None:
        if not body:
            out.line("pass")
        for stmt in body:
            self.stmt(out, stmt)

    def _where(self, origin: ir.Origin | None) -> str:
        if origin is None or not self.generator.source_comments:
            return ""
        return f"  # line {origin.line}"

    def _line(self, out: Emitter, head: str, expr: ir.Expr, tail: str, origin: ir.Origin | None) -> None:
        """`head expr tail`, the expression wrapped over several lines when it is too long."""
        where = self._where(origin)
        text = f"{head}{self.expr(expr)}{tail}"
        indent = len(INDENT * out.level)
        if indent + len(text) + len(where) <= LINE_WIDTH:
            out.line(text + where)
            return
        width = LINE_WIDTH - indent - len(INDENT)
        if isinstance(expr, (ir.Call, ir.Interpolate)):
            lines = self._format(expr, LINE_WIDTH - indent - len(head) - len(where) - len(tail))
            out.line(f"{head}{lines[0]}{where}")
            for line in lines[1:-1]:
                out.line(line)
            out.line(f"{lines[-1]}{tail}")
            return
        out.line(f"{head}({where}")
        with out.indented():
            for line in self._format(expr, width):
                out.line(line)
        out.line(f"){tail}")

    def _format(self, expr: ir.Expr, width: int) -> list[str]:
        """An expression as lines no wider than `width` where it can be broken (relative indents)."""
        text = self.expr(expr)
        if len(text) <= width:
            return [text]
        chain = _split_chain(expr)
        if chain is not None:
            op, operands = chain
            level = _PRECEDENCE[op]
            lines: list[str] = []
            for k, operand in enumerate(operands):
                prefix = "" if k == 0 else f"{'%' if op == 'mod' else op} "
                inner = self._format(operand, width - len(INDENT))
                needs_parens = _precedence_of(self, operand) < level + (0 if k == 0 else 1) or (
                    op == "or" and isinstance(operand, ir.Binary) and operand.op == "and"
                )
                if len(inner) == 1:
                    piece = f"({inner[0]})" if needs_parens else inner[0]
                    lines.append(prefix + piece)
                else:
                    lines.append(prefix + "(")
                    lines.extend(INDENT + line for line in inner)
                    lines.append(")")
            return lines
        if isinstance(expr, ir.Call) and expr.function != "to_real":
            name = {"clamp": "_clamp", "floor": "math.floor"}.get(expr.function, expr.function)
            lines = [f"{name}("]
            for arg in expr.args:
                inner = self._format(arg, width - len(INDENT))
                lines.extend(INDENT + line for line in inner[:-1])
                lines.append(INDENT + inner[-1] + ",")
            lines.append(")")
            return lines
        if isinstance(expr, ir.SafeDivide):
            left = self._operand(expr.left, _PRECEDENCE["/"])
            right = self._operand(expr.right, _PRECEDENCE["/"] + 1)
            divisor = self._operand(expr.right, _PRECEDENCE["compare"] + 1)
            return [f"{left} / {right}", f"if {divisor} != 0.0", "else 0.0"]
        if isinstance(expr, ir.Interpolate):
            inner = self._format(expr.key, width - len(INDENT))
            return [f"{self.names.functions[expr.curve]}(", *(INDENT + line for line in inner), ")"]
        return [text]

    def _block(self, out: Emitter, block: ir.Block) -> None:
        if block.origin is not None and self.generator.source_comments:
            cites = f" ({', '.join(block.origin.cites)})" if block.origin.cites else ""
            out.line(f"# {block.title}: {block.origin.describe()}{cites}")
        else:
            out.line(f"# {block.title}")
        for note in block.notes:
            out.comment(note, "#", LINE_WIDTH)
        for stmt in block.body:
            self.stmt(out, stmt)

    def wired_inputs(self, out: Emitter, reads: list[ir.ReadInput]) -> None:
        """Wired inputs: checked when the program runs alone, taken as they are inside a Package."""
        out.line("if not self._wired:")
        with out.indented():
            for stmt in reads:
                self._read_input(out, stmt)
        out.line("else:")
        with out.indented():
            out.line("# Copied by Package from outputs that their source programs have checked.")
            for stmt in reads:
                if stmt.input not in self.used:
                    continue
                var = self.variables[stmt.input]
                local = self.names.locals[stmt.input]
                attribute = f"self.{self.names.attributes[stmt.input]}"
                if var.type.kind == "bool":
                    out.line(f"{local} = {attribute} is True")
                    continue
                # Before the first copy the value is None: the program starts from the input's
                # fallback, or from the safe default its last-good memory starts with.
                start = stmt.fallback if stmt.last_good is None else self.variables[stmt.last_good].initial
                assert start is not None
                out.line(f"{local} = {attribute}")
                out.line(f"if {local} is None:  # before the first copy")
                with out.indented():
                    out.line(f"{local} = {self.expr(start)}")
            if not any(stmt.input in self.used for stmt in reads):
                out.line("pass")

    def _read_input(self, out: Emitter, stmt: ir.ReadInput) -> None:
        """Read an input into a local of its name; a faulted reading is replaced, and reported once."""
        var = self.variables[stmt.input]
        local = self.names.locals[stmt.input]
        attr = self.names.attributes[stmt.input]
        describe = [var.type.describe()]
        if stmt.low is not None and stmt.high is not None:
            describe.append(f"range {self.constant_expr(stmt.low)} .. {self.constant_expr(stmt.high)}")
        if stmt.fallback is not None:
            describe.append(f"fallback {self.constant_expr(stmt.fallback)}")
        if var.wiring is not None:
            describe.append(f"from {var.wiring[0]}.{var.wiring[1]}")
        where = (
            f" ({stmt.origin.describe()})"
            if stmt.origin is not None and self.generator.source_comments
            else ""
        )
        out.comment(f"input {stmt.input}: {', '.join(describe)}{where}", "#", LINE_WIDTH)
        out.line(f"{local} = self.{attr}")
        kind = var.type.kind
        if kind in ("real", "int"):
            low = self.expr(stmt.low) if stmt.low is not None else "-math.inf"
            high = self.expr(stmt.high) if stmt.high is not None else "math.inf"
            compare = "<=" if stmt.low is not None else "<"
            compare_high = "<=" if stmt.high is not None else "<"
            faulted = f"{local} is None or not {low} {compare} {local} {compare_high} {high}"
        else:
            faulted = f"{local} is None or type({local}) is not {'bool' if kind == 'bool' else var.type.enum}"
        if stmt.fallback is not None:
            substitute = self.expr(stmt.fallback)
        else:
            assert stmt.last_good is not None
            substitute = f"self.{self.names.attributes[stmt.last_good]}"
        fault_flag = f"self.{self.names.attributes[stmt.fault]}"
        numeric = kind in ("real", "int")
        if numeric:  # a reading of the wrong type (a string) makes the comparison raise
            out.line("try:")
            out.level += 1
        self._text(out, f"if {faulted}:")
        with out.indented():
            self._text(out, f"{local} = self._input_faulted({_quote(stmt.alarm)}, {local}, {substitute})")
        if stmt.last_good is not None:
            out.line("else:")
            with out.indented():
                out.line(f"{substitute} = {local}")
                out.line(f"if {fault_flag}:")
                with out.indented():
                    out.line(f"self._input_good({_quote(stmt.alarm)}, {local})")
        else:
            out.line(f"elif {fault_flag}:")
            with out.indented():
                out.line(f"self._input_good({_quote(stmt.alarm)}, {local})")
        if numeric:
            out.level -= 1
            out.line("except TypeError:")
            with out.indented():
                self._text(out, f"{local} = self._input_faulted({_quote(stmt.alarm)}, {local}, {substitute})")

    def _text(self, out: Emitter, text: str) -> None:
        """A line of fixed text; if too long, its tail after the first `=` or `(` goes in parentheses."""
        if len(INDENT * out.level) + len(text) <= LINE_WIDTH:
            out.line(text)
            return
        head, sep, tail = text.partition(" = ")
        if sep and "(" not in head and tail.endswith(")") and "(" in tail:
            call, _, args = tail.partition("(")
            out.line(f"{head} = {call}(")
            with out.indented():
                if len(INDENT * out.level) + len(args) - 1 <= LINE_WIDTH:
                    out.line(args[:-1])
                else:  # one argument per line (these calls have no nested commas)
                    for arg in args[:-1].split(", "):
                        out.line(f"{arg},")
            out.line(")")
            return
        if sep and "(" not in head:
            out.line(f"{head} = (")
            with out.indented():
                out.line(tail)
            out.line(")")
            return
        name, _, rest = text.partition("(")
        out.line(f"{name}(")
        with out.indented():
            out.line(rest[:-1])
        out.line(")")


def _collapse_last_branch(stmt: ir.If) -> ir.If:
    """`elif a:` holding only `if b:` (no else anywhere) reads better, and lints clean, as `elif a and b:`."""
    last = stmt.branches[-1]
    if stmt.else_body or len(last.body) != 1 or len(stmt.branches) < 2:
        return stmt
    inner = last.body[0]
    if not isinstance(inner, ir.If) or inner.else_body or len(inner.branches) != 1:
        return stmt
    merged = ir.Branch(
        ir.Binary(ir.BOOL, "and", last.condition, inner.branches[0].condition), inner.branches[0].body
    )
    return ir.If(stmt.origin, (*stmt.branches[:-1], merged), ())


def _precedence_of(printer: _Printer, expr: ir.Expr) -> int:
    return printer._expr(expr)[1]


def _split_chain(expr: ir.Expr) -> tuple[str, list[ir.Expr]] | None:
    """A top-level chain of one operator (`a and b and c`, `a + b + c`) as its operands."""
    if not (isinstance(expr, ir.Binary) and expr.op in ("and", "or", "+", "*")):
        if isinstance(expr, ir.Binary):
            return expr.op, [expr.left, expr.right]
        return None
    op = expr.op
    operands: list[ir.Expr] = []
    stack: list[ir.Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Binary) and node.op == op:
            if op in ("and", "or"):
                stack.append(node.right)
            else:  # arithmetic: only the left-nested chain, so the evaluation order stays as written
                operands.append(node.right)
            stack.append(node.left)
        else:
            operands.append(node)
    if op not in ("and", "or"):
        operands = [operands[-1], *reversed(operands[:-1])]
    return op, operands


def _substitute(printer: _Printer, expr: ir.Expr) -> str:
    """Print an expression with every parameter reference replaced by its default."""
    variables = printer.variables

    def replace(node: ir.Expr) -> ir.Expr:
        if isinstance(node, ir.Ref) and variables[node.name].initial is not None:
            initial = variables[node.name].initial
            assert initial is not None
            return replace(initial)
        if isinstance(node, ir.Binary):
            return ir.Binary(node.type, node.op, replace(node.left), replace(node.right))
        if isinstance(node, ir.SafeDivide):
            return ir.SafeDivide(node.type, replace(node.left), replace(node.right))
        if isinstance(node, ir.Unary):
            return ir.Unary(node.type, node.op, replace(node.operand))
        if isinstance(node, ir.Call):
            return ir.Call(node.type, node.function, tuple(replace(a) for a in node.args))
        return node

    return printer.expr(replace(expr))


def _field(text: str, indent: int = 12) -> str:
    """A string literal for a metadata field, split into implicit concatenation when too long."""
    if indent + len(_quote(text)) + 1 <= LINE_WIDTH:
        return _quote(text)
    import textwrap

    pad = " " * (indent + 4)
    pieces = textwrap.wrap(text, LINE_WIDTH - indent - 8, drop_whitespace=False)
    body = "\n".join(f"{pad}{_quote(piece)}" for piece in pieces)
    return f"(\n{body}\n{' ' * indent})"


def _quote(text: str) -> str:
    """A Python string literal in double quotes."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


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
