"""Printing the IR as Structured Text: expressions (`ExprPrinter`) and each program as a function
block (`ProgramPrinter`): its declarations, its body statement by statement with the comments that
trace each line to the rules, its inputs read with their faults, and its log records.

May import: hpdsl.base, hpdsl.compile.ir, hpdsl.codegen (emitter, naming, templates, st_common).
"""

from __future__ import annotations

from hpdsl.codegen.emitter import Emitter
from hpdsl.codegen.st_common import ALARM_CLEARED as ALARM_CLEARED
from hpdsl.codegen.st_common import ALARM_RAISED as ALARM_RAISED
from hpdsl.codegen.st_common import (
    COMPARISONS,
    INDENT,
    LOG_EVENT,
    OPERATORS,
    PRECEDENCE,
    Namer,
    Pou,
    StBase,
    call_lines,
    flat_text,
    folded,
    reads_variables,
)
from hpdsl.codegen.st_common import LOG_SIZE as LOG_SIZE
from hpdsl.codegen.st_common import StOutput as StOutput
from hpdsl.codegen.st_common import event_key as event_key
from hpdsl.compile import ir


class ExprPrinter:
    """Prints IR expressions as ST text with the fewest parentheses that keep their meaning."""

    def __init__(
        self,
        generator: StBase,
        names: dict[str, str],
        origin: ir.Origin | None = None,
        *,
        declaration: bool = False,
    ) -> None:
        self.g = generator
        self.names = names
        self.origin = origin
        self.declaration = declaration  # an initial value in a declaration, not a statement

    def _local(self, name: str) -> str:
        return name if self.declaration else self.g.local(name)

    def expr(self, expr: ir.Expr) -> str:
        return self._expr(expr)[0]

    def _operand(self, expr: ir.Expr, level: int) -> str:
        text, own = self._expr(expr)
        return text if own >= level else f"({text})"

    def _expr(self, expr: ir.Expr) -> tuple[str, int]:
        g = self.g
        atom = PRECEDENCE["atom"]
        if isinstance(expr, ir.Literal_):
            return self.literal(expr), atom
        if isinstance(expr, ir.Ref):
            return self._local(self.names[expr.name]), atom
        if isinstance(expr, ir.GlobalRef):
            return self._local(self.names[f"global:{expr.name}"]), atom
        if isinstance(expr, ir.ScanTime):
            return self._local(self.names["dt"]), atom
        if isinstance(expr, ir.CycleTimeFault):
            cycle = self._local(self.names["cycle_time_s"])
            zero, limit = g.real_literal(0.0), g.real_literal(ir.CYCLE_TIME_LIMIT_S)
            return f"NOT ({cycle} >= {zero} AND {cycle} <= {limit})", PRECEDENCE["unary"]
        if isinstance(expr, ir.Unary):
            operand = expr.operand
            negated = ir.negated_comparison(expr)
            if negated is not None:  # `a <> b` rather than `NOT (a = b)`
                return self._expr(negated)
            if expr.op == "not":
                return f"NOT {self._operand(operand, atom)}", PRECEDENCE["unary"]
            return f"-{self._operand(operand, atom)}", PRECEDENCE["unary"]
        if isinstance(expr, ir.Binary):
            if expr.op == "/" and expr.type.kind != "real":
                raise AssertionError("the IR divides reals only")
            level = PRECEDENCE[expr.op]
            left = self._operand(expr.left, level)
            right_level = level if expr.op in ("and", "or") else level + 1
            right = self._operand(expr.right, right_level)
            if expr.op in ("and", "or") and isinstance(expr.right, ir.Binary) and expr.right.op != expr.op:
                right = f"({right})" if not right.startswith("(") else right
            if expr.op == "or" and isinstance(expr.left, ir.Binary) and expr.left.op == "and":
                left = f"({left})"
            if expr.op == "mod" and expr.type.kind != "int":
                raise AssertionError("the IR takes `mod` of whole numbers only")
            return f"{left} {OPERATORS[expr.op]} {right}", level
        if isinstance(expr, ir.SafeDivide):
            name = g.block_name(g.global_name("fn", "HP_DIVIDE"))
            return f"{name}({self._real_arg(expr.left)}, {self._real_arg(expr.right)})", atom
        if isinstance(expr, ir.Compare):
            level = PRECEDENCE["equality" if expr.op in ("==", "!=") else "compare"]
            left_expr, right_expr = expr.left, expr.right
            left = self._operand(left_expr, level + 1)
            right = self._operand(right_expr, level + 1)
            if left_expr.type.kind != right_expr.type.kind:
                left, right = self._real_arg(left_expr), self._real_arg(right_expr)
            return f"{left} {COMPARISONS[expr.op]} {right}", level
        if isinstance(expr, ir.Call):
            return self._call(expr), atom
        if isinstance(expr, ir.Lookup):
            table = g.tables[expr.table]
            name = g.block_name(g.global_name("column", table.name, expr.column))
            return f"{name}({self._real_arg(expr.key)})", atom
        if isinstance(expr, ir.Interpolate):
            name = g.block_name(g.global_name("curve", expr.curve))
            return f"{name}({self._real_arg(expr.key)})", atom
        raise AssertionError(f"unhandled IR expression {type(expr).__name__}")

    def _real_arg(self, expr: ir.Expr) -> str:
        """An expression where a real is expected; a whole number is converted explicitly."""
        if expr.type.kind == "real":
            return self.expr(expr)
        if isinstance(expr, ir.Literal_) and expr.type.kind == "int":
            return self.g.real_literal(float(expr.value), self.origin)
        return self.g.to_real(self.expr(expr), expr.type)

    def _call(self, expr: ir.Call) -> str:
        g = self.g
        function = expr.function
        if function == "to_real":
            return self._real_arg(expr.args[0])
        if function == "floor":
            return f"{g.block_name(g.global_name('fn', 'HP_FLOOR'))}({self._real_arg(expr.args[0])})"
        if function == "abs":
            return f"ABS({self.expr(expr.args[0])})"
        if function == "clamp":
            if expr.type.kind == "real":
                text = ", ".join(self._real_arg(a) for a in expr.args)
                return f"{g.block_name(g.global_name('fn', 'HP_CLAMP'))}({text})"
            value, low, high = (self.expr(a) for a in expr.args)
            return g.call("LIMIT", [low, value, high], ["MN", "IN", "MX"])
        args = [self._real_arg(a) if expr.type.kind == "real" else self.expr(a) for a in expr.args]
        return g.call(function.upper(), args, [f"IN{k + 1}" for k in range(len(args))])

    def literal(self, literal: ir.Literal_) -> str:
        g = self.g
        value = literal.value
        kind = literal.type.kind
        if kind == "enum":
            assert isinstance(value, str) and literal.type.enum is not None
            if self.declaration:
                return g.enum_initial(literal.type.enum, value)
            return g.enum_literal(literal.type.enum, value)
        if kind == "bool":
            return "TRUE" if value else "FALSE"
        if kind == "int":
            return g.int_literal(int(value), self.origin)
        return g.real_literal(float(value), self.origin)


class ProgramPrinter:
    """Declarations and statements of one program's function block."""

    def __init__(self, generator: StBase, program: ir.Program) -> None:
        self.g = generator
        self.program = program
        self.variables = {v.name: v for v in program.variables}
        self.reads = [s for s in ir.walk_stmts(program.scan) if isinstance(s, ir.ReadInput)]
        self.fault_flags = {s.fault for s in self.reads}
        self.wired = [
            s for s in program.scan if isinstance(s, ir.ReadInput) and self.variables[s.input].wiring
        ]
        # Values whose initial value reads parameters: a declaration holds only constants, so
        # they start from the parameters' defaults and are computed at the first call.
        role_order = ("constant", "input", "output", "local", "state")
        self.deferred = [
            v
            for role in role_order
            for v in program.of_role(role)  # type: ignore[arg-type]
            if v.initial is not None and reads_variables(v.initial)
        ]
        self.needs_start = program.uses_calendar or bool(self.deferred)
        # The most records one call can produce: each input check, alarm change and log
        # statement runs at most once per call (the generated code has no loops).
        self.capacity = sum(
            1 for stmt in ir.walk_stmts(program.scan) if event_key(program.name, stmt) is not None
        )
        self.namer = self._name_all()
        self.names = {k: v for k, v in self.namer.names.items() if isinstance(k, str)}
        self.origins: list[ir.Origin | None] = []

    def _name_all(self) -> Namer:
        g = self.g
        namer = Namer(g, g.globals)
        program = self.program
        namer.name("cycle_time_s", "cycle_time_s", report=False)
        for var in program.of_role("input"):
            namer.name(var.name, var.name, var.origin)
            namer.name(f"io_fault:{var.name}", f"{var.name}_io_fault", var.origin, report=False)
        if self.wired:
            namer.name("inputs_wired", "inputs_wired", report=False)
        for var in program.of_role("parameter"):
            namer.name(var.name, var.name, var.origin)
        if program.uses_calendar:
            namer.name("start_second_of_day", "start_second_of_day", report=False)
            namer.name("start_weekday", "start_weekday", report=False)
        for var in program.variables:
            if var.role in ("output", "local", "constant") or (
                var.role == "state" and var.public and var.point
            ):
                namer.name(var.name, var.name, var.origin)
        for name in sorted(self.fault_flags):
            namer.name(name, name, report=False)
        namer.name("records", "records", report=False)
        namer.name("record_count", "record_count", report=False)
        namer.name("dt", "dt_s", report=False)
        namer.name("time_s", "time_s", report=False)
        if self.needs_start:
            namer.name("started", "started", report=False)
        for read in self.reads:
            namer.name(f"checked:{read.input}", f"{read.input}_checked", report=False)
        for var in program.variables:
            namer.name(var.name, var.name, var.origin, report=False)
        for constant in g.package.constants:
            if any(
                isinstance(e, ir.GlobalRef) and e.name == constant.name for e in ir.walk_exprs(program.scan)
            ):
                namer.name(f"global:{constant.name}", constant.name, constant.origin, report=False)
        return namer

    def _printer(self, origin: ir.Origin | None, *, declaration: bool = False) -> ExprPrinter:
        names = dict(self.names)
        # Statements read an input's checked value, never the raw reading.
        if not declaration:
            for read in self.reads:
                names[read.input] = self.names[f"checked:{read.input}"]
        return ExprPrinter(self.g, names, origin, declaration=declaration)

    # ------------------------------------------------------------------ declarations
    def pou(self) -> Pou:
        g = self.g
        program = self.program
        body = self._body()
        sections: list[tuple[str, list[tuple[str, str, str, str]]]] = []
        inputs: list[tuple[str, str, str, str]] = [
            (
                "cycle_time_s",
                g.real,
                "",
                "s, time since the previous call (the task interval); 0 or less stops time",
            )
        ]
        printer = self._printer(None, declaration=True)
        for var in program.of_role("input"):
            inputs.append((self.names[var.name], g.type_name(var.type), "", self._describe(var, printer)))
            inputs.append(
                (
                    self.names[f"io_fault:{var.name}"],
                    "BOOL",
                    "",
                    f"TRUE: the I/O channel of {var.name} is faulted",
                )
            )
        if self.wired:
            inputs.append(
                (
                    self.names["inputs_wired"],
                    "BOOL",
                    "",
                    "TRUE in the package program: wired inputs come checked",
                )
            )
        for var in program.of_role("parameter"):
            assert var.initial is not None
            inputs.append(
                (
                    self.names[var.name],
                    g.type_name(var.type),
                    self._initial(var, printer),
                    "parameter, " + self._describe(var, printer),
                )
            )
        if program.uses_calendar:
            inputs.append(
                (
                    self.names["start_second_of_day"],
                    g.real,
                    g.real_literal(0.0),
                    "s after midnight at the first call",
                )
            )
            inputs.append((self.names["start_weekday"], "DINT", "0", "weekday at the first call, 0 = Monday"))
        outputs: list[tuple[str, str, str, str]] = []
        retained: list[tuple[str, str, str, str]] = []
        keep = program.retained()
        memory: list[tuple[str, str, str, str]] = []
        constants: list[tuple[str, str, str, str]] = []
        for var in program.variables:
            if var.role in ("input", "parameter"):
                continue
            initial = self._initial(var, printer)
            entry = (self.names[var.name], g.type_name(var.type), initial, self._describe(var, printer))
            if var.role == "constant" and var not in self.deferred:
                constants.append(entry)
            elif var.name in keep:
                retained.append(entry)
            elif var.role == "output" or (var.public and var.point) or var.name in self.fault_flags:
                outputs.append(entry)
            else:
                memory.append(entry)
        for read in self.reads:
            var = self.variables[read.input]
            memory.insert(
                0,
                (
                    self.names[f"checked:{read.input}"],
                    g.type_name(var.type),
                    "",
                    f"{read.input} as used this scan",
                ),
            )
        memory[0:0] = [
            (self.names["dt"], g.real, "", "s, this scan's time"),
            (self.names["time_s"], g.real, "", "s since the first call"),
        ]
        if self.needs_start:
            memory.append((self.names["started"], "BOOL", "", "the first call has been made"))
        entry_type = g.block_name(g.global_name("type", "HpLogEntry"))
        outputs.append(
            (
                self.names["records"],
                f"ARRAY[1..{max(self.capacity, 1)}] OF {entry_type}",
                "",
                f"what this call logged, raised or cleared: records 1 .. {self.names['record_count']}",
            )
        )
        outputs.append((self.names["record_count"], "INT", "", "records of this call"))
        for constant in g.package.constants:
            key = f"global:{constant.name}"
            if key in self.names:
                constants.append(
                    (self.names[key], g.type_name(constant.value.type), printer.literal(constant.value), "")
                )
        sections.append(("VAR_INPUT", inputs))
        sections.append(("VAR_OUTPUT", outputs))
        sections.append(("VAR_OUTPUT RETAIN", retained))
        sections.append(("VAR", memory))
        if constants:
            sections.append(("VAR CONSTANT", constants))
        if g.enum_constants:
            members = self._enum_constants()
            if members:
                sections.append(("VAR CONSTANT", members))
        xml_kinds = {
            "VAR_INPUT": "inputVars",
            "VAR_OUTPUT": "outputVars",
            "VAR_OUTPUT RETAIN": "outputVars:retain",
            "VAR": "localVars",
            "VAR CONSTANT": "localVars:constant",
        }
        return Pou(
            "FUNCTION_BLOCK",
            g.block_name(g.global_name("type", program.name)),
            g._doc_comment(program.doc, program.origin, program.cites),
            [(kind, [g.declaration(*entry) for entry in entries]) for kind, entries in sections],
            body,
            origins=self.origins,
            doc=flat_text(program.doc),
            xml_sections=[
                (xml_kinds[kind], [g._xml_var(n, t, i, c) for n, t, i, c in entries])
                for kind, entries in sections
            ],
        )

    def _initial(self, var: ir.Variable, printer: ExprPrinter) -> str:
        """The initial value in a declaration: a literal; one read from parameters is their defaults'."""
        if var.initial is None:
            return ""
        return self._constant(var.initial, var.type, printer)

    def _constant(self, expr: ir.Expr, vt: ir.ValueType, printer: ExprPrinter) -> str:
        """A constant expression as one literal (`4.18 kJ/l / 1 K` is `4.18`), as strict compilers need."""
        if isinstance(expr, ir.Literal_) and expr.type.kind == vt.kind:
            return printer.literal(expr)
        value = folded(expr, self.variables)
        return printer.literal(ir.Literal_(vt, float(value) if vt.kind == "real" else value))

    def _enum_constants(self) -> list[tuple[str, str, str, str]]:
        """Siemens: each enumeration member the block uses is a constant of its position."""
        values = [v.initial for v in self.program.variables if v.initial is not None]
        return self.g.enum_constant_entries([*ir.walk_exprs(self.program.scan), *values])

    def _describe(self, var: ir.Variable, printer: ExprPrinter) -> str:
        parts = []
        if var.type.unit:
            parts.append(var.type.unit)
        if var.type.kind == "enum" and self.g.enum_constants:
            parts.append(f"{var.type.enum}")
        if var.low is not None and var.high is not None:
            low, high = (
                self._constant(var.low, var.type, printer),
                self._constant(var.high, var.type, printer),
            )
            parts.append(f"range {low} .. {high}")
        if var.fallback is not None:
            parts.append(f"fallback {self._constant(var.fallback, var.type, printer)}")
        if var.wiring is not None:
            parts.append(f"from {var.wiring[0]}.{var.wiring[1]}")
        if var.point and var.point not in ("input", "output", "parameter"):
            parts.append(var.point)
        doc = flat_text(var.doc)
        if doc and var.public:
            parts.append(doc[:100] + ("..." if len(doc) > 100 else ""))
        return ", ".join(parts)

    # ------------------------------------------------------------------ statements
    def _body(self) -> str:
        g = self.g
        out = Emitter(INDENT)
        loc = g.local
        dt, cycle = loc(self.names["dt"]), loc(self.names["cycle_time_s"])
        finite = g.block_name(g.global_name("fn", "HP_FINITE"))
        self._emit(out, f"{loc(self.names['record_count'])} := 0;", None)
        zero, limit = g.real_literal(0.0), g.real_literal(ir.CYCLE_TIME_LIMIT_S)
        self._emit(
            out,
            g.comment(
                "A negative, not-a-number or endless cycle time counts as 0, one above a day as a day"
                f" (either raises {ir.CYCLE_TIME_ALARM})."
            ),
            None,
        )
        self._emit(out, f"IF {cycle} >= {zero} AND {cycle} <= {limit} THEN", None)
        self._emit(out, f"{INDENT}{dt} := {cycle};", None)
        self._emit(out, f"ELSIF {cycle} > {limit} AND {finite}({cycle}) THEN", None)
        self._emit(out, f"{INDENT}{dt} := {limit};", None)
        self._emit(out, "ELSE", None)
        self._emit(out, f"{INDENT}{dt} := {g.real_literal(0.0)};", None)
        self._emit(out, "END_IF;", None)
        time_s = loc(self.names["time_s"])
        self._emit(out, f"{time_s} := {time_s} + {dt};", None)
        if self.needs_start:
            started = loc(self.names["started"])
            self._emit(out, f"IF NOT {started} THEN", None)
            with out.indented():
                if self.program.uses_calendar:
                    self._emit(out, g.comment("the wall clock starts where the caller says"), None)
                    sod, weekday = loc(self.names[ir.SECOND_OF_DAY]), loc(self.names[ir.WEEKDAY])
                    self._emit(out, f"{sod} := {loc(self.names['start_second_of_day'])};", None)
                    self._emit(out, f"{weekday} := {loc(self.names['start_weekday'])};", None)
                if self.deferred:
                    self._emit(out, g.comment("values derived from the parameters"), None)
                for var in self.deferred:
                    assert var.initial is not None
                    printer = self._printer(var.origin)
                    target = loc(self.names[var.name])
                    self._emit(out, f"{target} := {self._typed(printer, var.initial, var.type)};", var.origin)
                self._emit(out, f"{started} := TRUE;", None)
            self._emit(out, "END_IF;", None)
        for stmt in self.program.scan:
            if self.wired and stmt is self.wired[0]:
                self._wired_inputs(out)
            elif not (isinstance(stmt, ir.ReadInput) and stmt in self.wired):
                self.stmt(out, stmt, None)
        return out.text()

    def _emit(self, out: Emitter, text: str, origin: ir.Origin | None) -> None:
        out.line(text)
        self.origins.append(origin)

    def stmt(self, out: Emitter, stmt: ir.Stmt, context: ir.Origin | None) -> None:
        g = self.g
        origin = stmt.origin or context
        printer = self._printer(origin)
        if isinstance(stmt, ir.Block):
            where = ""
            if g.source_comments and stmt.origin is not None:
                cites = f" ({', '.join(stmt.origin.cites)})" if stmt.origin.cites else ""
                where = f": {stmt.origin.describe()}{cites}"
            closes = g.region_open(Recorder(self, out, origin), f"{stmt.title}{where}")
            if closes:
                out.level += 1
            for note in stmt.notes:
                self._emit(out, g.comment(note), origin)
            for inner in stmt.body:
                self.stmt(out, inner, origin)
            if closes:
                out.level -= 1
                g.region_close(Recorder(self, out, origin))
        elif isinstance(stmt, ir.Assign):
            target = g.local(self.names[stmt.target])
            value = stmt.value
            target_type = self.variables[stmt.target].type
            if isinstance(value, ir.Call) and value.function == "clamp":
                low, high = (self._typed(printer, bound, target_type) for bound in value.args[1:])
                self._emit(out, f"{target} := {self._typed(printer, value.args[0], target_type)};", origin)
                self._emit(out, f"IF NOT ({target} >= {low}) THEN", origin)
                self._emit(out, f"{INDENT}{target} := {low};", origin)
                self._emit(out, f"ELSIF {target} > {high} THEN", origin)
                self._emit(out, f"{INDENT}{target} := {high};", origin)
                self._emit(out, "END_IF;", origin)
                return
            self._emit(out, f"{target} := {self._typed(printer, value, target_type)};", origin)
        elif isinstance(stmt, ir.If) and isinstance(stmt.branches[0].condition, ir.ParametersWritten):
            # a PLC cannot see a parameter being written: it checks them at every call
            assert len(stmt.branches) == 1 and not stmt.else_body
            self._body_of(out, stmt.branches[0].body, origin)
        elif isinstance(stmt, ir.If):
            for k, branch in enumerate(stmt.branches):
                keyword = "IF" if k == 0 else "ELSIF"
                self._emit(out, f"{keyword} {printer.expr(branch.condition)} THEN", origin)
                with out.indented():
                    self._body_of(out, branch.body, origin)
            if stmt.else_body:
                self._emit(out, "ELSE", origin)
                with out.indented():
                    self._body_of(out, stmt.else_body, origin)
            self._emit(out, "END_IF;", origin)
        elif isinstance(stmt, ir.Log):
            self._record(out, printer, LOG_EVENT, stmt, stmt.fields, origin)
        elif isinstance(stmt, ir.AlarmChange):
            kind = ALARM_RAISED if stmt.raised else ALARM_CLEARED
            self._record(out, printer, kind, stmt, stmt.values, origin)
        elif isinstance(stmt, ir.ReadInput):
            self._read_input(out, stmt, printer, origin)
        else:
            raise AssertionError(f"unhandled IR statement {type(stmt).__name__}")

    def _body_of(self, out: Emitter, body: tuple[ir.Stmt, ...], origin: ir.Origin | None) -> None:
        if not body:  # strict ST has no empty statement: a branch always does something
            raise AssertionError("the IR has an empty branch")
        for inner in body:
            self.stmt(out, inner, origin)

    def _typed(self, printer: ExprPrinter, value: ir.Expr, target: ir.ValueType) -> str:
        if target.kind == "real" and value.type.kind != "real":
            return printer._real_arg(value)
        return printer.expr(value)

    def _record(
        self,
        out: Emitter,
        printer: ExprPrinter,
        kind: int,
        stmt: ir.Stmt,
        values: tuple[tuple[str, ir.Expr], ...],
        origin: ir.Origin | None,
    ) -> None:
        self._append_record(out, kind, stmt, [(n, printer._real_arg(v)) for n, v in values], origin)

    def _append_record(
        self, out: Emitter, kind: int, stmt: ir.Stmt, values: list[tuple[str, str]], origin: ir.Origin | None
    ) -> None:
        """Count the record, then write it whole: every value slot, 0 past its field count."""
        g = self.g
        loc = g.local
        count = loc(self.names["record_count"])
        key = event_key(self.program.name, stmt)
        assert key is not None
        event = g.events[key]
        self._emit(out, g.comment(f"record {event}: {key[1]}"), origin)
        self._emit(out, f"{count} := {count} + 1;", origin)
        args = [
            f"kind := {kind}",
            f"event := {event}",
            f"time_s := {loc(self.names['time_s'])}",
            f"field_count := {len(values)}",
        ]
        zero = g.real_literal(0.0)
        padded = [value for _, value in values] + [zero] * (g.log_fields - len(values))
        args.extend(f"value_{k} := {value}" for k, value in enumerate(padded, start=1))
        head = f"{loc(self.names['records'])}[{count}] := {g.block_name(g.global_name('fn', 'HP_RECORD'))}("
        for line in call_lines(head, args, len(INDENT * out.level)):
            self._emit(out, line, origin)

    def _wired_inputs(self, out: Emitter) -> None:
        g = self.g
        self._emit(out, f"IF {g.local(self.names['inputs_wired'])} THEN", None)
        with out.indented():
            self._emit(
                out, g.comment("copied by the package program from outputs their sources checked"), None
            )
            for read in self.wired:
                checked = g.local(self.names[f"checked:{read.input}"])
                self._emit(out, f"{checked} := {g.local(self.names[read.input])};", read.origin)
        self._emit(out, "ELSE", None)
        with out.indented():
            for read in self.wired:
                self._read_input(out, read, self._printer(read.origin), read.origin)
        self._emit(out, "END_IF;", None)

    def _read_input(
        self, out: Emitter, stmt: ir.ReadInput, printer: ExprPrinter, origin: ir.Origin | None
    ) -> None:
        g = self.g
        loc = g.local
        var = self.variables[stmt.input]
        raw = loc(self.names[stmt.input])
        checked = loc(self.names[f"checked:{stmt.input}"])
        io_fault = loc(self.names[f"io_fault:{stmt.input}"])
        flag = loc(self.names[stmt.fault])
        where = f" ({stmt.origin.describe()})" if stmt.origin is not None and g.source_comments else ""
        self._emit(out, g.comment(f"input {stmt.input}: {self._describe(var, printer)}{where}"), origin)
        self._emit(out, f"{checked} := {raw};", origin)
        faulted = io_fault
        if var.type.kind in ("real", "int"):
            tests = []
            if stmt.low is not None:
                tests.append(f"{raw} >= {printer.expr(stmt.low)}")
            if stmt.high is not None:
                tests.append(f"{raw} <= {printer.expr(stmt.high)}")
            if var.type.kind == "real" and (stmt.low is None or stmt.high is None):
                # a comparison with a bound is false for not a number; an infinity needs the test
                tests.append(f"{g.block_name(g.global_name('fn', 'HP_FINITE'))}({raw})")
            if tests:
                faulted = f"{io_fault} OR NOT ({' AND '.join(tests)})"
        substitute = (
            printer.expr(stmt.fallback) if stmt.fallback is not None else loc(self.names[str(stmt.last_good)])
        )
        value = g.to_real(raw, var.type)
        self._emit(out, f"IF {faulted} THEN", origin)
        with out.indented():
            self._emit(out, f"{checked} := {substitute};", origin)
            self._emit(out, f"IF NOT {flag} THEN", origin)
            with out.indented():
                self._emit(out, f"{flag} := TRUE;", origin)
                self._append_record(out, ALARM_RAISED, stmt, [(stmt.input, value)], origin)
            self._emit(out, "END_IF;", origin)
        if stmt.last_good is not None:
            self._emit(out, "ELSE", origin)
            with out.indented():
                self._emit(out, f"{loc(self.names[stmt.last_good])} := {raw};", origin)
                self._emit(out, f"IF {flag} THEN", origin)
                with out.indented():
                    self._emit(out, f"{flag} := FALSE;", origin)
                    self._append_record(out, ALARM_CLEARED, stmt, [(stmt.input, value)], origin)
                self._emit(out, "END_IF;", origin)
        else:
            self._emit(out, f"ELSIF {flag} THEN", origin)
            with out.indented():
                self._emit(out, f"{flag} := FALSE;", origin)
                self._append_record(out, ALARM_CLEARED, stmt, [(stmt.input, value)], origin)
        self._emit(out, "END_IF;", origin)


class Recorder(Emitter):
    """An emitter that writes into a program's body and records the origin of each line."""

    def __init__(self, printer: ProgramPrinter, out: Emitter, origin: ir.Origin | None) -> None:
        super().__init__(out.unit, out.level)
        self.printer = printer
        self.out = out
        self.origin = origin

    def line(self, text: str = "") -> None:
        self.printer._emit(self.out, text, self.origin)
