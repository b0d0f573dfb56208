"""Lowering: the checked AST becomes the IR every target is generated from.

``lower_package`` is a pure function of the checked package. It decides, once for all
targets, everything the language leaves to the compiler:

- **Units.** Each value is held in the unit of its type; every addition, comparison,
  assignment and call gets the conversion it needs as plain arithmetic, with the exact factor
  (`min` to `s` is `* 60.0`, `F` to `C` is `* 0.5555... - 17.77...`).
- **Memory.** Timers (`for`, alarm delays, `time_since`, `time_in_state`, minimum on and off
  times), edges (`rising`, `falling`, counters), hysteresis, machine states, totals and the
  calendar become state variables with the statements that update them. A timer or an edge
  is updated in every scan, just before the statement that reads it, whether or not a branch
  around it is taken, so that it always measures what its condition did.
- **Order.** Within a program the constructs run in data-flow order: a construct that sets a
  value runs before the ones that read it, and of two writers of one value the one with the
  lower priority runs first, so that the higher one has the last word. Where constructs feed
  each other in a loop, they run in the order they are written and the first reads the
  value the last left in the previous scan; the generated code says so in a comment.
  Programs run in the order of their wiring, in the same way.
- **Faults.** Every input is checked each scan; a missing, non-numeric or out-of-range value
  is replaced by the input's fallback, or else by its last good value (before any, its safe
  default: false, the first member, or zero held within the range), and raises a
  sensor-fault alarm named after the input. Division is defined as 0 when the divisor is 0,
  unless the divisor provably cannot be 0. A value assigned to a ranged output or var is held
  within the range.
"""

from __future__ import annotations

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.source import Span
from hpdsl.check.checker import (
    CheckedPackage,
    Scope,
)
from hpdsl.compile import ir
from hpdsl.compile.common import (
    SENSOR_FAULT_SEVERITY,
    SENSOR_FAULT_SUFFIX,
    Construct,
    MinTime,
    camel_case,
    const_literal,
    end_rows,
    evaluate_fixed,
    literal_of,
    max_of,
    order_constructs,
    order_programs,
    safe_default,
    seconds_literal,
    value_type_of_unit,
)
from hpdsl.compile.expressions import ExpressionLowering
from hpdsl.compile.runtime import RuntimeLowering
from hpdsl.compile.statements import StatementLowering
from hpdsl.language import nodes as n
from hpdsl.language.types import BoolType, EnumType, IntType, QuantityType, Type


class _ProgramLowering(StatementLowering, RuntimeLowering, ExpressionLowering):
    # --------------------------------------------------------------------- entry point
    def run(self) -> ir.Program:
        program = self.program
        for item in program.items:
            if isinstance(item, n.Declaration):
                self._declare(item)
        for item in program.items:
            if isinstance(item, (n.Table, n.Curve)):
                self.package.lower_function(item, self.name, self.scope)
            elif isinstance(item, n.EventDecl):
                self.events.append(self._event(item))
            elif isinstance(item, n.Require):
                self.constraints.append(self._constraint(item))
        constructs: list[Construct] = []
        for item in program.items:
            construct = self._construct(item)
            if construct is not None:
                constructs.append(construct)
        inputs = [self._read_input(v) for v in list(self.variables.values()) if v.role == "input"]
        ordered, notes = order_constructs(constructs)
        scan: list[ir.Stmt] = [self._cycle_time_alarm()]
        parameter_check = self._parameter_check()
        if parameter_check is not None:
            scan.append(parameter_check)
        if self.uses_calendar:
            scan.append(self._calendar())
        if self.min_times:
            scan.append(self._min_time_clock())
        scan.extend(inputs)
        for construct in ordered:
            scan.append(
                ir.Block(construct.origin, construct.title, construct.body, notes.get(id(construct), ()))
            )
        if self.min_times:
            scan.append(self._min_time_commit())
        return ir.Program(
            name=self.name,
            doc=program.meta.doc or "",
            cites=tuple(c.text for c in program.meta.cites),
            origin=self.package.origin(program.span, program.meta),
            variables=tuple(self._variable_order()),
            alarms=tuple(self.alarms),
            events=tuple(self.events),
            tables=self.package.tables_of(self.name),
            curves=self.package.curves_of(self.name),
            scan=tuple(scan),
            uses_calendar=self.uses_calendar,
            constraints=tuple(self.constraints),
        )

    def _constraint(self, item: n.Require) -> ir.Constraint:
        read = sorted(n.names_read(item.condition), key=lambda r: (r.span.line, r.span.column))
        parameters = tuple(
            dict.fromkeys(
                r.name
                for r in read
                if (symbol := self.scope.symbols.get(r.name)) is not None and symbol.kind == "parameter"
            )
        )
        return ir.Constraint(
            name=item.name.text,
            condition=self.expr(item.condition),
            parameters=parameters,
            doc=item.meta.doc or "",
            cites=tuple(c.text for c in item.meta.cites),
            origin=self.package.origin(item.span, item.meta),
        )

    def _variable_order(self) -> list[ir.Variable]:
        order = {"input": 0, "output": 1, "parameter": 2, "constant": 3, "local": 4, "state": 5}
        return sorted(self.variables.values(), key=lambda v: order[v.role])

    # --------------------------------------------------------------------- declarations
    def _declare(self, decl: n.Declaration) -> None:
        symbol = self.scope.symbols[decl.name.text]
        vt = self.package.value_type(symbol.type, self.name)
        role = {
            "input": "input",
            "output": "output",
            "parameter": "parameter",
            "const": "constant",
            "var": "local",
        }[decl.kind]
        low = high = None
        if decl.range is not None:
            low = self._convert(self.expr(decl.range.low), symbol.type, self.type_of(decl.range.low))
            high = self._convert(self.expr(decl.range.high), symbol.type, self.type_of(decl.range.high))
        initial: ir.Expr | None = None
        if decl.initial is not None:
            initial = self._convert(self.expr(decl.initial), symbol.type, self.type_of(decl.initial))
        elif role in ("output", "local"):
            initial = safe_default(vt, low, high, self.package)
        fallback = None
        if decl.fallback is not None:
            fallback = self._convert(self.expr(decl.fallback), symbol.type, self.type_of(decl.fallback))
        wiring = (decl.wiring.program.text, decl.wiring.output.text) if decl.wiring is not None else None
        self.variables[decl.name.text] = ir.Variable(
            name=decl.name.text,
            role=role,  # type: ignore[arg-type]
            type=vt,
            initial=initial,
            low=low,
            high=high,
            fallback=fallback,
            doc=decl.meta.doc or "",
            cites=tuple(c.text for c in decl.meta.cites),
            origin=self.package.origin(decl.span, decl.meta),
            wiring=wiring,
            point=role if role in ("input", "output", "parameter") else "",
        )
        if decl.kind == "output" and vt == ir.BOOL and (decl.min_on is not None or decl.min_off is not None):
            limits: list[ir.Expr] = []
            for clause in (decl.min_on, decl.min_off):
                if clause is None:
                    limits.append(seconds_literal(0.0))
                else:
                    limits.append(self._to_seconds(self.expr(clause), self.type_of(clause)))
            held = self._state(
                f"{decl.name.text}_held",
                ir.BOOL,
                initial or literal_of(False, ir.BOOL),
                f"value of `{decl.name.text}` at the end of the last scan",
            )
            limit = max_of(limits[0], limits[1])
            held_time = self._state(
                f"{decl.name.text}_held_time",
                ir.SECONDS,
                limit,
                f"how long `{decl.name.text}` has held its value (s), up to the longer minimum time",
            )
            self.min_times[decl.name.text] = MinTime(held, held_time, limits[0], limits[1])

    def _event(self, item: n.EventDecl) -> ir.Event:
        fields = []
        for f in item.fields:
            type_ = self.package.written_type(f.type)
            fields.append(ir.EventField(f.name.text, self.package.value_type(type_, self.name), f.doc or ""))
        return ir.Event(
            item.name.text,
            tuple(fields),
            item.meta.doc or "",
            tuple(c.text for c in item.meta.cites),
            self.package.origin(item.span, item.meta),
        )

    # --------------------------------------------------------------------- inputs
    def _read_input(self, var: ir.Variable) -> ir.Stmt:
        alarm = f"{var.name}{SENSOR_FAULT_SUFFIX}"
        fault = self._state(
            f"{var.name}_faulted", ir.BOOL, literal_of(False, ir.BOOL), f"`{var.name}` is faulted"
        )
        last_good = None
        if var.fallback is None:
            last_good = self._state(
                f"{var.name}_last_good",
                var.type,
                safe_default(var.type, var.low, var.high, self.package),
                f"last good reading of `{var.name}`; its safe default before the first",
            )
        what = "the sensor" if var.wiring is None else f"the value wired from {var.wiring[0]}.{var.wiring[1]}"
        self.alarms.append(
            ir.Alarm(
                alarm,
                SENSOR_FAULT_SEVERITY,
                f"Input `{var.name}` is faulted: {what} is missing, not a number or out of range.",
                var.cites,
                var.origin,
                latching=False,
                sensor=var.name,
            )
        )
        return ir.ReadInput(var.origin, var.name, var.low, var.high, var.fallback, last_good, fault, alarm)


class LoweringError(Exception):
    """The rules cannot be lowered; carries the diagnostics that say why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def lower_package(checked: CheckedPackage, name: str, file_names: dict[str, str] | None = None) -> ir.Package:
    """Lower a checked package (free of errors) to the IR; `file_names` renames source files."""
    return _PackageLowering(checked, name, file_names or {}).run()


class _PackageLowering:
    def __init__(self, checked: CheckedPackage, name: str, file_names: dict[str, str]) -> None:
        self.checked = checked
        self.name = name
        self.file_names = file_names
        self.diagnostics: list[Diagnostic] = []
        self.enums: dict[str, ir.Enum] = {}
        self.machine_enums: dict[tuple[str, str], str] = {}  # (program, machine) -> IR enum name
        self.tables: dict[str, ir.Table] = {}
        self.curves: dict[str, ir.Curve] = {}
        # (program or None, name as written) -> IR name, for tables and curves
        self.function_names: dict[tuple[str | None, str], str] = {}
        self.function_owners: dict[str, str | None] = {}  # IR name -> program, None for the package

    def origin(self, span: Span, meta: n.Meta | None = None) -> ir.Origin:
        cites = tuple(c.text for c in meta.cites) if meta is not None else ()
        return ir.Origin(self.file_names.get(span.file, span.file), span.line, cites, span.column)

    def run(self) -> ir.Package:
        modules = self.checked.modules
        items = [item for module in modules for item in module.items]
        programs = [i for i in items if isinstance(i, n.Program)]
        self._declare_enums(items, programs)
        self._name_functions(items, programs)
        constants = [self._package_constant(i) for i in items if isinstance(i, n.Declaration)]
        for item in items:
            if isinstance(item, (n.Table, n.Curve)):
                self.lower_function(item, None, self.checked.package_scope)
        lowered = []
        for program in programs:
            scope = self.checked.program_scopes[program.name.text]
            lowered.append(_ProgramLowering(self, program, scope).run())
        if self.diagnostics:
            raise LoweringError(self.diagnostics)
        ordered, wires = order_programs(lowered)
        requirements = tuple((rid, req.summary) for rid, req in sorted(self.checked.requirements.items()))
        sources = tuple(sorted(self.file_names.get(m.file, m.file) for m in modules))
        return ir.Package(
            name=self.name,
            sources=sources,
            enums=tuple(self.enums.values()),
            constants=tuple(c for c in constants if c is not None),
            tables=self.tables_of(None),
            curves=self.curves_of(None),
            programs=tuple(ordered),
            wires=wires,
            requirements=requirements,
        )

    def tables_of(self, owner: str | None) -> tuple[ir.Table, ...]:
        """The tables a program declares (None: the package's own)."""
        return tuple(t for t in self.tables.values() if self.function_owners[t.name] == owner)

    def curves_of(self, owner: str | None) -> tuple[ir.Curve, ...]:
        """The curves a program declares (None: the package's own)."""
        return tuple(c for c in self.curves.values() if self.function_owners[c.name] == owner)

    def _declare_enums(self, items: list[n.Item], programs: list[n.Program]) -> None:
        for item in items:
            if isinstance(item, n.EnumDecl):
                self.enums[item.name.text] = ir.Enum(
                    item.name.text,
                    tuple(m.text for m in item.members),
                    item.meta.doc or "",
                    tuple(c.text for c in item.meta.cites),
                    self.origin(item.span, item.meta),
                )
        taken = set(self.enums)
        for program in programs:
            for item in program.items:
                if isinstance(item, n.Machine):
                    base = camel_case(item.name.text) + "State"
                    enum_name = base if base not in taken else f"{program.name.text}{base}"
                    taken.add(enum_name)
                    self.machine_enums[program.name.text, item.name.text] = enum_name
                    self.enums[enum_name] = ir.Enum(
                        enum_name,
                        tuple(s.name.text for s in item.states),
                        f"States of the machine `{item.name.text}` of {program.name.text}.",
                        tuple(c.text for c in item.meta.cites),
                        self.origin(item.span, item.meta),
                    )

    def _name_functions(self, items: list[n.Item], programs: list[n.Program]) -> None:
        taken: set[str] = set()
        for item in items:
            if isinstance(item, (n.Table, n.Curve)):
                self.function_names[None, item.name.text] = item.name.text
                self.function_owners[item.name.text] = None
                taken.add(item.name.text)
        for program in programs:
            for item in program.items:
                if isinstance(item, (n.Table, n.Curve)):
                    plain = item.name.text
                    ir_name = plain if plain not in taken else f"{program.name.text}_{plain}"
                    taken.add(ir_name)
                    self.function_names[program.name.text, plain] = ir_name
                    self.function_owners[ir_name] = program.name.text

    def value_type(self, type_: Type, program: str | None = None) -> ir.ValueType:
        if isinstance(type_, BoolType):
            return ir.BOOL
        if isinstance(type_, IntType):
            return ir.INT
        if isinstance(type_, QuantityType):
            return value_type_of_unit(type_.unit)
        if isinstance(type_, EnumType):
            if type_.name in self.enums and self.enums[type_.name].members == type_.members:
                return ir.enum_type(type_.name)
            for (owner, machine), enum_name in self.machine_enums.items():
                if machine == type_.name and (program is None or owner == program):
                    return ir.enum_type(enum_name)
        raise AssertionError(f"no runtime type for {type_}")

    def constant_literal(
        self, expr: n.Expr, scope: Scope, target: Type, program: str | None, what: str
    ) -> ir.Literal_ | None:
        """A value fixed when the rules are compiled (table rows, curve points, package constants)."""
        value = evaluate_fixed(expr, scope, self.checked)
        if value is None:
            self.diagnostics.append(
                messages.NOT_CONSTANT.at(
                    expr.span,
                    context=what,
                    kind="a value that",
                    name="is not fixed when the rules are compiled",
                    hint="use literals and constants here; a parameter can change at commissioning",
                )
            )
            return None
        return const_literal(value, target, self.value_type(target, program))

    def _package_constant(self, decl: n.Declaration) -> ir.Constant | None:
        symbol = self.checked.package_scope.symbols.get(decl.name.text)
        if symbol is None or decl.initial is None:
            return None
        literal = self.constant_literal(
            decl.initial, self.checked.package_scope, symbol.type, None, f"constant `{decl.name.text}`"
        )
        if literal is None:
            return None
        return ir.Constant(
            decl.name.text,
            literal,
            decl.meta.doc or "",
            tuple(c.text for c in decl.meta.cites),
            self.origin(decl.span, decl.meta),
        )

    def lower_function(self, item: n.Table | n.Curve, program: str | None, scope: Scope) -> None:
        ir_name = self.function_names[program, item.name.text]
        key_symbol = scope.lookup(item.name.text)
        key_type = self.written_type(item.key.type)
        origin = self.origin(item.span, item.meta)
        doc, cites = item.meta.doc or "", tuple(c.text for c in item.meta.cites)
        key_vt = self.value_type(key_type, program)
        if isinstance(item, n.Curve):
            result_type = key_symbol.type if key_symbol is not None else key_type
            points: list[tuple[float, float]] = []
            for point in item.points:
                x = self.constant_literal(
                    point.x, scope, key_type, program, f"a point of curve `{item.name.text}`"
                )
                y = self.constant_literal(
                    point.y, scope, result_type, program, f"a point of curve `{item.name.text}`"
                )
                if x is not None and y is not None:
                    points.append((float(x.value), float(y.value)))
            self.curves[ir_name] = ir.Curve(
                ir_name,
                item.key.name.text,
                key_vt,
                self.value_type(result_type, program),
                tuple(points),
                doc,
                cites,
                origin,
            )
            return
        row_type = key_symbol.type if key_symbol is not None else None
        columns_types = getattr(row_type, "columns", ())
        columns = tuple((c, self.value_type(t, program)) for c, t in columns_types)
        rows: list[ir.TableRow] = []
        for row in item.rows:
            bounds: list[float | None] = []
            for bound in (row.key.low, row.key.high):
                if bound is None:
                    bounds.append(None)
                    continue
                literal = self.constant_literal(
                    bound, scope, key_type, program, f"a row key of table `{item.name.text}`"
                )
                bounds.append(None if literal is None else float(literal.value))
            low, high = bounds
            op = row.key.op
            values: list[ir.Literal_] = []
            for (_, column_type), cell in zip(columns_types, row.cells, strict=True):
                literal = self.constant_literal(
                    cell, scope, column_type, program, f"a row of table `{item.name.text}`"
                )
                if literal is not None:
                    values.append(literal)
            rows.append(
                ir.TableRow(
                    low=low,
                    low_closed=op != ">",
                    high=high,
                    high_closed=op != "<",
                    values=tuple(values),
                    origin=self.origin(row.span),
                )
            )
        lowest, highest = end_rows(rows)
        self.tables[ir_name] = ir.Table(
            ir_name,
            item.key.name.text,
            key_vt,
            columns,
            tuple(rows),
            doc,
            cites,
            origin,
            lowest=lowest,
            highest=highest,
            low_edge=rows[lowest].low if rows else None,
        )

    def written_type(self, ref: n.TypeRef) -> Type:
        """The type a type reference names, as the checker resolved it."""
        return self.checked.ref_types[id(ref)]
