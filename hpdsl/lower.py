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

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from hpdsl import ir, messages, units
from hpdsl import nodes as n
from hpdsl.checker import DAY_ALIASES, DAYS, TIME_IN_STATE, CheckedPackage, Scope, Symbol, evaluate_in_scope
from hpdsl.consteval import Const
from hpdsl.diagnostics import Diagnostic
from hpdsl.source import Span
from hpdsl.types import BoolType, EnumType, IntType, QuantityType, Type, unit_of

SENSOR_FAULT_SEVERITY = "high"
SENSOR_FAULT_SUFFIX = "_sensor_fault"


class LoweringError(Exception):
    """The rules cannot be lowered; carries the diagnostics that say why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def lower_package(checked: CheckedPackage, name: str, file_names: dict[str, str] | None = None) -> ir.Package:
    """Lower a checked package (free of errors) to the IR; `file_names` renames source files."""
    return _PackageLowering(checked, name, file_names or {}).run()


# ------------------------------------------------------------------------------ helpers


def _literal(value: bool | int | float | str, type_: ir.ValueType) -> ir.Literal_:
    return ir.Literal_(type_, value)


def _true() -> ir.Literal_:
    return _literal(True, ir.BOOL)


def _real(value: float, unit: str = "") -> ir.Literal_:
    return _literal(float(value), ir.quantity(unit) if unit else ir.REAL)


def _seconds(value: float) -> ir.Literal_:
    return _literal(float(value), ir.SECONDS)


def _ref(name: str, type_: ir.ValueType) -> ir.Ref:
    return ir.Ref(type_, name)


def _not(expr: ir.Expr) -> ir.Expr:
    if isinstance(expr, ir.Literal_) and isinstance(expr.value, bool):
        return _literal(not expr.value, ir.BOOL)
    if isinstance(expr, ir.Unary) and expr.op == "not":
        return expr.operand
    return ir.Unary(ir.BOOL, "not", expr)


def _and(*terms: ir.Expr) -> ir.Expr:
    kept = [t for t in terms if not (isinstance(t, ir.Literal_) and t.value is True)]
    if any(isinstance(t, ir.Literal_) and t.value is False for t in kept):
        return _literal(False, ir.BOOL)
    if not kept:
        return _true()
    result = kept[0]
    for term in kept[1:]:
        result = ir.Binary(ir.BOOL, "and", result, term)
    return result


def _or(*terms: ir.Expr) -> ir.Expr:
    kept = [t for t in terms if not (isinstance(t, ir.Literal_) and t.value is False)]
    if any(isinstance(t, ir.Literal_) and t.value is True for t in kept):
        return _true()
    if not kept:
        return _literal(False, ir.BOOL)
    result = kept[0]
    for term in kept[1:]:
        result = ir.Binary(ir.BOOL, "or", result, term)
    return result


def _add(left: ir.Expr, right: ir.Expr) -> ir.Expr:
    return ir.Binary(left.type, "+", left, right)


def _advance(name: str, limit: ir.Expr) -> list[ir.Stmt]:
    """A timer `name` (seconds) advanced by the scan time and held at `limit`, so it stays bounded."""
    timer = _ref(name, ir.SECONDS)
    return [
        _assign(name, _add(timer, ir.ScanTime(ir.SECONDS))),
        _if(ir.Compare(ir.BOOL, ">", timer, limit), [_assign(name, limit)]),
    ]


def _assign(target: str, value: ir.Expr, origin: ir.Origin | None = None) -> ir.Assign:
    return ir.Assign(origin, target, value)


def _if(condition: ir.Expr, body: Iterable[ir.Stmt], else_body: Iterable[ir.Stmt] = ()) -> ir.If:
    return ir.If(None, (ir.Branch(condition, tuple(body)),), tuple(else_body))


def _fraction_literal(value: Fraction, unit: str = "") -> ir.Literal_:
    return _real(float(value), unit)


def _value_type_of_unit(unit: units.Unit) -> ir.ValueType:
    return ir.REAL if unit == units.NUMBER else ir.quantity(unit.symbol)


def _reads(stmts: Iterable[ir.Stmt]) -> set[str]:
    names = {e.name for e in ir.walk_exprs(stmts) if isinstance(e, ir.Ref)}
    for stmt in ir.walk_stmts(stmts):
        if isinstance(stmt, ir.ReadInput) and stmt.last_good:
            names.add(stmt.last_good)
    return names


def _writes(stmts: Iterable[ir.Stmt]) -> set[str]:
    return {s.target for s in ir.walk_stmts(stmts) if isinstance(s, ir.Assign)}


# ------------------------------------------------------------------------------ the package


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
                self._lower_function(item, None, self.checked.package_scope)
        lowered = []
        for program in programs:
            scope = self.checked.program_scopes[program.name.text]
            lowered.append(_ProgramLowering(self, program, scope).run())
        if self.diagnostics:
            raise LoweringError(self.diagnostics)
        ordered, wires = _order_programs(lowered)
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
                    base = _camel(item.name.text) + "State"
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
            return _value_type_of_unit(type_.unit)
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
        value = _evaluate_fixed(expr, scope, self.checked)
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
        return _const_literal(value, target, self.value_type(target, program))

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

    def _lower_function(self, item: n.Table | n.Curve, program: str | None, scope: Scope) -> None:
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
        lowest, highest = _end_rows(rows)
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


def _end_rows(rows: list[ir.TableRow]) -> tuple[int, int]:
    """The rows reaching lowest and highest (the first of equals): where an uncovered key goes."""
    lowest = highest = 0
    for i, row in enumerate(rows):
        low, high = rows[lowest].low, rows[highest].high
        if row.low is None or (low is not None and row.low < low):
            lowest = i
        if row.high is None or (high is not None and row.high > high):
            highest = i
    return lowest, highest


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _evaluate_fixed(expr: n.Expr, scope: Scope, checked: CheckedPackage) -> Const | None:
    """A constant expression's value when it reads no parameter (directly or through a const)."""
    # The checker accepted the expression, so a name with no declaration is a member.
    return evaluate_in_scope(expr, scope, lambda _: True, ("const",))


def _const_literal(value: Const, target: Type, vt: ir.ValueType) -> ir.Literal_:
    if isinstance(value.value, bool):
        return _literal(value.value, ir.BOOL)
    if isinstance(value.value, str):
        return _literal(value.value, vt)
    if isinstance(target, IntType):
        return _literal(round(value.value), ir.INT)
    unit = unit_of(target)
    return _literal(float(unit.from_si(value.value)), vt)


# ------------------------------------------------------------------------------ one program


@dataclass
class _Construct:
    """One lowered construct of a program, before ordering."""

    title: str
    origin: ir.Origin
    priority: int
    position: tuple[str, int, int]
    body: tuple[ir.Stmt, ...]
    writes: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)


@dataclass
class _MinTime:
    """A bool output with minimum on and off times: its state variables and limits."""

    held: str
    held_time: str
    min_on: ir.Expr
    min_off: ir.Expr


class _ProgramLowering:
    def __init__(self, package: _PackageLowering, program: n.Program, scope: Scope) -> None:
        self.package = package
        self.program = program
        self.name = program.name.text
        self.scope = scope
        self.checked = package.checked
        self.variables: dict[str, ir.Variable] = {}
        self.alarms: list[ir.Alarm] = []
        self.events: list[ir.Event] = []
        self.pending: list[ir.Stmt] = []  # timer and edge updates of the statement being lowered
        self.machine: n.Machine | None = None
        self.uses_calendar = False
        self.counters: dict[str, int] = {}
        self.min_times: dict[str, _MinTime] = {}
        self.construct_name = ""

    # --------------------------------------------------------------------- entry point
    def run(self) -> ir.Program:
        program = self.program
        for item in program.items:
            if isinstance(item, n.Declaration):
                self._declare(item)
        for item in program.items:
            if isinstance(item, (n.Table, n.Curve)):
                self.package._lower_function(item, self.name, self.scope)
            elif isinstance(item, n.EventDecl):
                self.events.append(self._event(item))
        constructs: list[_Construct] = []
        for item in program.items:
            construct = self._construct(item)
            if construct is not None:
                constructs.append(construct)
        inputs = [self._read_input(v) for v in list(self.variables.values()) if v.role == "input"]
        ordered, notes = _order_constructs(constructs)
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
            initial = _safe_default(vt, low, high, self.package)
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
                    limits.append(_seconds(0.0))
                else:
                    limits.append(self._to_seconds(self.expr(clause), self.type_of(clause)))
            held = self._state(
                f"{decl.name.text}_held",
                ir.BOOL,
                initial or _literal(False, ir.BOOL),
                f"value of `{decl.name.text}` at the end of the last scan",
            )
            limit = _max_expr(limits[0], limits[1])
            held_time = self._state(
                f"{decl.name.text}_held_time",
                ir.SECONDS,
                limit,
                f"how long `{decl.name.text}` has held its value (s), up to the longer minimum time",
            )
            self.min_times[decl.name.text] = _MinTime(held, held_time, limits[0], limits[1])

    def _state(
        self,
        base: str,
        type_: ir.ValueType,
        initial: ir.Expr,
        doc: str,
        public: bool = False,
        point: str = "",
    ) -> str:
        name = base if public else f"_{base}"
        if name in self.variables or name in self.scope.symbols:
            for k in itertools.count(2):
                if f"{name}_{k}" not in self.variables:
                    name = f"{name}_{k}"
                    break
        self.variables[name] = ir.Variable(
            name=name, role="state", type=type_, initial=initial, doc=doc, public=public, point=point
        )
        return name

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
            f"{var.name}_faulted", ir.BOOL, _literal(False, ir.BOOL), f"`{var.name}` is faulted"
        )
        last_good = None
        if var.fallback is None:
            last_good = self._state(
                f"{var.name}_last_good",
                var.type,
                _safe_default(var.type, var.low, var.high, self.package),
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

    # --------------------------------------------------------------------- constructs
    def _construct(self, item: n.Item) -> _Construct | None:
        self.construct_name = item.name.text
        origin = self.package.origin(item.span, item.meta)
        body: list[ir.Stmt]
        writes: set[str] = set()
        if isinstance(item, n.Rule):
            title = f"rule {item.name.text}"
            body = self._body(item.body)
        elif isinstance(item, n.Hysteresis):
            title = f"hysteresis {item.name.text}"
            body = self._hysteresis(item)
        elif isinstance(item, n.Machine):
            title = f"machine {item.name.text}"
            body = self._machine(item)
            writes = {item.name.text, f"{item.name.text}_time_in_state"}
        elif isinstance(item, n.Alarm):
            title = f"alarm {item.name.text}"
            body = self._alarm(item)
            writes = {item.name.text}
        elif isinstance(item, n.Totalizer):
            title = f"totalizer {item.name.text}"
            body = self._totalizer(item)
            writes = {item.name.text}
        elif isinstance(item, n.Counter):
            title = f"counter {item.name.text}"
            body = self._counter(item)
            writes = {item.name.text}
        else:
            return None
        stmts = tuple(body)
        return _Construct(
            title=title,
            origin=origin,
            priority=item.meta.priority or 0,
            position=(item.span.file, item.span.line, item.span.column),
            body=stmts,
            writes=writes | _writes(stmts),
            reads=_reads(stmts),
        )

    def _body(self, stmts: Iterable[n.Stmt]) -> list[ir.Stmt]:
        """Statements of a body, each preceded by the timer and edge updates it needs."""
        out: list[ir.Stmt] = []
        for stmt in stmts:
            lowered = self._stmt(stmt)
            out.extend(self.pending)
            self.pending = []
            out.extend(lowered)
        return out

    def _nested(self, stmts: Iterable[n.Stmt]) -> tuple[ir.Stmt, ...]:
        """Statements inside a branch: their updates go before the enclosing top-level statement."""
        out: list[ir.Stmt] = []
        for stmt in stmts:
            out.extend(self._stmt(stmt))
        return tuple(out)

    def _stmt(self, stmt: n.Stmt) -> list[ir.Stmt]:
        if isinstance(stmt, n.Assign):
            symbol = self.scope.lookup(stmt.target.text)
            assert symbol is not None
            value = self._convert(self.expr(stmt.value), symbol.type, self.type_of(stmt.value))
            origin = self.package.origin(stmt.span)
            return self.assign(stmt.target.text, value, origin)
        if isinstance(stmt, n.If):
            branches = tuple(ir.Branch(self.expr(b.condition), self._nested(b.body)) for b in stmt.branches)
            else_body = self._nested(stmt.else_body) if stmt.else_body is not None else ()
            return [ir.If(self.package.origin(stmt.span), branches, else_body)]
        if isinstance(stmt, n.Log):
            return [self._log(stmt)]
        raise AssertionError(f"unhandled statement {type(stmt).__name__}")

    def assign(self, target: str, value: ir.Expr, origin: ir.Origin | None) -> list[ir.Stmt]:
        """An assignment, held within the target's range and its minimum on and off times."""
        var = self.variables[target]
        low, high = var.low, var.high
        numeric = var.type.kind in ("int", "real")
        if (
            numeric
            and low is not None
            and high is not None
            and not _provably_within(value, low, high, self.variables)
        ):
            value = ir.Call(var.type, "clamp", (value, low, high))
        stmts: list[ir.Stmt] = [_assign(target, value, origin)]
        guard = self.min_times.get(target)
        if guard is not None:
            held = _ref(guard.held, ir.BOOL)
            held_time = _ref(guard.held_time, ir.SECONDS)
            out = _ref(target, ir.BOOL)
            stmts.append(
                ir.If(
                    None,
                    (
                        ir.Branch(
                            _and(held, _not(out), ir.Compare(ir.BOOL, "<", held_time, guard.min_on)),
                            (_assign(target, _true()),),
                        ),
                        ir.Branch(
                            _and(_not(held), out, ir.Compare(ir.BOOL, "<", held_time, guard.min_off)),
                            (_assign(target, _literal(False, ir.BOOL)),),
                        ),
                    ),
                )
            )
        return stmts

    def _log(self, stmt: n.Log) -> ir.Log:
        """A log entry with every field of the event, in declaration order, in the field's type."""
        symbol = self.scope.lookup(stmt.event.text)
        assert symbol is not None and isinstance(symbol.node, n.EventDecl)
        given = {f.name.text: f.value for f in stmt.fields}
        fields = []
        for declared in symbol.node.fields:
            value = given[declared.name.text]
            field_type = self.package.written_type(declared.type)
            fields.append(
                (declared.name.text, self._convert(self.expr(value), field_type, self.type_of(value)))
            )
        return ir.Log(self.package.origin(stmt.span), stmt.event.text, tuple(fields))

    # --------------------------------------------------------------------- hysteresis
    def _hysteresis(self, item: n.Hysteresis) -> list[ir.Stmt]:
        target = self.scope.lookup(item.name.text)
        assert target is not None
        input_type = self.type_of(item.input)
        value = self.expr(item.input)
        pending, self.pending = self.pending, []
        branches = []
        for side in ("below", "above"):
            threshold = next(t for t in item.thresholds if t.side == side)
            level = self._convert(self.expr(threshold.level), input_type, self.type_of(threshold.level))
            result = self._convert(self.expr(threshold.value), target.type, self.type_of(threshold.value))
            condition = ir.Compare(ir.BOOL, "<" if side == "below" else ">", value, level)
            branches.append(
                ir.Branch(
                    condition, tuple(self.assign(item.name.text, result, self.package.origin(threshold.span)))
                )
            )
        stmts: list[ir.Stmt] = [*pending, *self.pending]
        self.pending = []
        stmts.append(ir.If(self.package.origin(item.span), tuple(branches)))
        return stmts

    # --------------------------------------------------------------------- state machines
    def _machine(self, item: n.Machine) -> list[ir.Stmt]:
        self.machine = item
        name = item.name.text
        enum_name = self.package.machine_enums[self.name, name]
        state_type = ir.enum_type(enum_name)
        initial = next(s for s in item.states if s.initial)
        self._public_state(
            item,
            state_type,
            _literal(initial.name.text, state_type),
            "machine",
            doc=item.meta.doc or f"Current state of the machine `{name}`.",
        )
        time_name = f"{name}_time_in_state"
        self.variables[time_name] = ir.Variable(
            name=time_name,
            role="state",
            type=ir.SECONDS,
            initial=_seconds(0.0),
            doc=f"Time since `{name}` entered its current state (s).",
            origin=self.package.origin(item.span),
            point="machine",
        )
        state_ref = _ref(name, state_type)
        time_ref = _ref(time_name, ir.SECONDS)
        out: list[ir.Stmt] = _advance(time_name, _seconds(ir.TIME_SINCE_NEVER))
        if initial.entry:
            started = self._state(
                f"{name}_started",
                ir.BOOL,
                _literal(False, ir.BOOL),
                f"the entry actions of `{initial.name.text}` have run",
            )
            entry = self._nested(initial.entry)
            out.extend(self.pending)
            self.pending = []
            out.append(_if(_not(_ref(started, ir.BOOL)), [_assign(started, _true()), *entry]))
        states = {s.name.text: s for s in item.states}
        transition_branches = []
        for state in item.states:
            choices = []
            for transition in state.transitions:
                if transition.kind == "when":
                    condition = self.expr(transition.trigger)
                else:
                    timeout = self._to_seconds(
                        self.expr(transition.trigger), self.type_of(transition.trigger)
                    )
                    condition = ir.Compare(ir.BOOL, ">=", time_ref, timeout)
                target = states[transition.target.text]
                actions: list[ir.Stmt] = []
                if state.exit:
                    actions.extend(self._nested(state.exit))
                actions.append(
                    _assign(
                        name,
                        _literal(target.name.text, state_type),
                        self.package.origin(transition.span, transition.meta),
                    )
                )
                actions.append(_assign(time_name, _seconds(0.0)))
                if target.entry:
                    actions.extend(self._nested(target.entry))
                choices.append(ir.Branch(condition, tuple(actions)))
            if choices:
                is_state = ir.Compare(ir.BOOL, "==", state_ref, _literal(state.name.text, state_type))
                transition_branches.append(
                    ir.Branch(is_state, (ir.If(self.package.origin(state.span, state.meta), tuple(choices)),))
                )
        out.extend(self.pending)
        self.pending = []
        if transition_branches:
            out.append(ir.If(None, tuple(transition_branches)))
        during_branches = []
        for state in item.states:
            if state.during:
                body = self._nested(state.during)
                is_state = ir.Compare(ir.BOOL, "==", state_ref, _literal(state.name.text, state_type))
                during_branches.append(ir.Branch(is_state, body))
        out.extend(self.pending)
        self.pending = []
        if during_branches:
            out.append(ir.If(None, tuple(during_branches)))
        self.machine = None
        return out

    # --------------------------------------------------------------------- alarms
    def _alarm(self, item: n.Alarm) -> list[ir.Stmt]:
        name = item.name.text
        assert item.condition is not None and item.severity is not None
        self.alarms.append(
            ir.Alarm(
                name,
                item.severity.text,
                item.meta.doc or "",
                tuple(c.text for c in item.meta.cites),
                self.package.origin(item.span, item.meta),
                latching=item.latching,
            )
        )
        self._public_state(item, ir.BOOL, _literal(False, ir.BOOL), "alarm")
        condition = self.expr(item.condition)
        if item.delay is not None:
            delay = self._to_seconds(self.expr(item.delay), self.type_of(item.delay))
            condition = self._held_for(condition, delay, f"{name}_delay", f"delay of alarm `{name}`")
        values = tuple(self._explaining_values(item.condition))
        active = _ref(name, ir.BOOL)
        raise_ = (
            _assign(name, _true()),
            ir.AlarmChange(self.package.origin(item.span), name, True, values),
        )
        clear = (
            _assign(name, _literal(False, ir.BOOL)),
            ir.AlarmChange(self.package.origin(item.span), name, False, values),
        )
        if item.latching and item.acknowledge is not None:
            reset = _and(active, self.expr(item.acknowledge))
        else:
            reset = active
        out: list[ir.Stmt] = list(self.pending)
        self.pending = []
        out.append(
            ir.If(
                self.package.origin(item.condition.span),
                (
                    ir.Branch(condition, (_if(_not(active), raise_),)),
                    ir.Branch(reset, clear),
                ),
            )
        )
        if item.action:
            action = self._nested(item.action)
            out.extend(self.pending)
            self.pending = []
            out.append(_if(active, action))
        return out

    def _explaining_values(self, condition: n.Expr) -> Iterator[tuple[str, ir.Expr]]:
        """The values an alarm's condition reads, recorded with each raise and clear."""
        seen: set[str] = set()
        found = sorted(
            n.names_read(condition, durations=False), key=lambda node: (node.span.line, node.span.column)
        )
        for node in found:
            symbol = self.checked.resolved.get(id(node))
            if symbol is None or node.name in seen:
                continue
            if symbol.kind in (
                "input",
                "output",
                "var",
                "parameter",
                "totalizer",
                "counter",
                "alarm",
                "const",
            ):
                seen.add(node.name)
                yield node.name, self._name_value(node, symbol)

    # --------------------------------------------------------------------- totals
    def _totalizer(self, item: n.Totalizer) -> list[ir.Stmt]:
        name = item.name.text
        symbol = self.scope.symbols[name]
        vt = self.package.value_type(symbol.type, self.name)
        self._public_state(item, vt, _literal(0.0, vt), "totalizer")
        total_unit = unit_of(symbol.type)
        source_type = self.type_of(item.source)
        source = self.expr(item.source)
        out: list[ir.Stmt] = list(self.pending)
        self.pending = []
        if item.period is not None:
            self.uses_calendar = True
            out.append(_if(_ref(ir.NEW_DAY, ir.BOOL), [_assign(name, _literal(0.0, vt))]))
        dt: ir.Expr = ir.ScanTime(ir.SECONDS)
        if item.period is not None:
            dt = _ref(ir.TODAY_SCAN_TIME, ir.SECONDS)
        if isinstance(source_type, BoolType):
            factor = units.lookup("s").exact_factor_to(total_unit)[0]  # type: ignore[union-attr]
            increment: ir.Expr = _scale(dt, factor, vt)
            out.append(_if(source, [_assign(name, _add(_ref(name, vt), increment))]))
        else:
            source_unit = unit_of(source_type)
            seconds = units.lookup("s")
            assert seconds is not None
            product = units.multiply(source_unit, seconds)
            factor = product.exact_factor_to(total_unit)[0]
            increment = _scale(ir.Binary(vt, "*", _to_real(source), dt), factor, vt)
            out.append(_assign(name, _add(_ref(name, vt), increment)))
        return out

    def _counter(self, item: n.Counter) -> list[ir.Stmt]:
        name = item.name.text
        self._public_state(item, ir.INT, _literal(0, ir.INT), "counter")
        source = self.expr(item.source)
        out: list[ir.Stmt] = list(self.pending)
        self.pending = []
        previous = self._state(
            f"{name}_previous", ir.BOOL, _literal(False, ir.BOOL), "the counted condition in the last scan"
        )
        if item.period is not None:
            self.uses_calendar = True
            out.append(_if(_ref(ir.NEW_DAY, ir.BOOL), [_assign(name, _literal(0, ir.INT))]))
        # The condition may read values this scan changes, so it is read once, into the memory.
        edge = self._state(
            f"{name}_counted", ir.BOOL, _literal(False, ir.BOOL), "the condition rose this scan"
        )
        out.append(_assign(edge, _and(source, _not(_ref(previous, ir.BOOL)))))
        out.append(_assign(previous, source))
        out.append(
            _if(
                _ref(edge, ir.BOOL),
                [_assign(name, ir.Binary(ir.INT, "+", _ref(name, ir.INT), _literal(1, ir.INT)))],
            )
        )
        return out

    def _public_state(
        self, item: n.Item, vt: ir.ValueType, initial: ir.Expr, point: str, doc: str | None = None
    ) -> None:
        """The value a construct shows by its name: a total, a count, an alarm, a machine's state."""
        self.variables[item.name.text] = ir.Variable(
            name=item.name.text,
            role="state",
            type=vt,
            initial=initial,
            doc=(item.meta.doc or "") if doc is None else doc,
            cites=tuple(c.text for c in item.meta.cites),
            origin=self.package.origin(item.span, item.meta),
            point=point,
        )

    # --------------------------------------------------------------------- time-keeping
    def _cycle_time_alarm(self) -> ir.Block:
        """Every program's alarm for a cycle time it could not use as given (ir.CycleTimeFault)."""
        doc = (
            "The cycle time given to a scan was negative, not a number, infinite or longer than a day;"
            " the scan counted 0 s (or a day) instead."
        )
        return self._builtin_alarm(ir.CYCLE_TIME_ALARM, doc, ir.CycleTimeFault(ir.BOOL))

    def _parameter_check(self) -> ir.Block | None:
        """Parameters written at run time are checked as the constructor checks them.

        A value outside the declared range, or not a number, is not used: the parameter takes
        back its last valid value and the program raises PARAMETER_ALARM for that scan. Each
        parameter is compared with its last valid value only where one may have been written
        (ir.ParametersWritten): a PLC every call, the Python target after a write.
        """
        checked = [
            v
            for v in self.variables.values()
            if v.role == "parameter" and (v.low is not None or v.high is not None)
        ]
        if not checked:
            return None
        rejected = self._state(
            "parameter_rejected", ir.BOOL, _literal(False, ir.BOOL), "a parameter was rejected this scan"
        )
        checks: list[ir.Stmt] = []
        for var in checked:
            assert var.initial is not None
            last = self._state(f"{var.name}_last_valid", var.type, var.initial, f"last valid `{var.name}`")
            value, kept = _ref(var.name, var.type), _ref(last, var.type)
            tests: list[ir.Expr] = []
            if var.low is not None:
                tests.append(ir.Compare(ir.BOOL, ">=", value, var.low))
            if var.high is not None:
                tests.append(ir.Compare(ir.BOOL, "<=", value, var.high))
            inside = _and(*tests)
            checks.append(
                _if(
                    ir.Compare(ir.BOOL, "!=", value, kept),
                    [
                        _if(
                            inside,
                            [_assign(last, value)],
                            [_assign(var.name, kept), _assign(rejected, _true())],
                        )
                    ],
                )
            )
        doc = (
            "A parameter was written with a value outside its range or not a number; it keeps its last"
            " valid value."
        )
        alarm = self._builtin_alarm(ir.PARAMETER_ALARM, doc, _ref(rejected, ir.BOOL))
        body = (
            _assign(rejected, _literal(False, ir.BOOL)),
            _if(ir.ParametersWritten(ir.BOOL), checks),
            *alarm.body,
        )
        return ir.Block(None, "parameters written at run time", body, ())

    def _builtin_alarm(self, base: str, doc: str, condition: ir.Expr) -> ir.Block:
        """An alarm every program of a kind has, raised while `condition` holds (no values recorded)."""
        name = base
        counter = 0
        while (
            name in self.variables or name in self.scope.symbols or any(a.name == name for a in self.alarms)
        ):
            counter += 1
            name = f"{base}_{counter}"
        origin = self.package.origin(self.program.span, self.program.meta)
        self.alarms.append(ir.Alarm(name, "high", doc, origin=origin))
        self.variables[name] = ir.Variable(
            name=name,
            role="state",
            type=ir.BOOL,
            initial=_literal(False, ir.BOOL),
            doc=doc,
            origin=origin,
            point="alarm",
        )
        active = _ref(name, ir.BOOL)
        body = (
            ir.If(
                None,
                (
                    ir.Branch(
                        condition,
                        (
                            _if(
                                _not(active),
                                [_assign(name, _true()), ir.AlarmChange(None, name, True, ())],
                            ),
                        ),
                    ),
                    ir.Branch(
                        active,
                        (_assign(name, _literal(False, ir.BOOL)), ir.AlarmChange(None, name, False, ())),
                    ),
                ),
            ),
        )
        return ir.Block(None, f"alarm {name}", body, ())

    def _calendar(self) -> ir.Block:
        sod = _ref(ir.SECOND_OF_DAY, ir.SECONDS)
        weekday = _ref(ir.WEEKDAY, ir.INT)
        day = _seconds(ir.SECONDS_PER_DAY)
        days = ir.Call(ir.INT, "floor", (ir.Binary(ir.REAL, "/", sod, day),))
        body = (
            _assign(ir.NEW_DAY, _literal(False, ir.BOOL)),
            _assign(ir.SECOND_OF_DAY, _add(sod, ir.ScanTime(ir.SECONDS))),
            _if(
                ir.Compare(ir.BOOL, ">=", sod, day),
                [
                    _assign(
                        ir.WEEKDAY,
                        ir.Binary(ir.INT, "mod", ir.Binary(ir.INT, "+", weekday, days), _literal(7, ir.INT)),
                    ),
                    _assign(
                        ir.SECOND_OF_DAY,
                        ir.Binary(ir.SECONDS, "-", sod, ir.Binary(ir.SECONDS, "*", _to_real(days), day)),
                    ),
                    _assign(ir.NEW_DAY, _true()),
                ],
            ),
            # A scan that crosses midnight adds only its part after midnight to the new day's totals.
            _assign(ir.TODAY_SCAN_TIME, ir.ScanTime(ir.SECONDS)),
            _if(
                ir.Compare(ir.BOOL, ">", _ref(ir.TODAY_SCAN_TIME, ir.SECONDS), sod),
                [_assign(ir.TODAY_SCAN_TIME, sod)],
            ),
        )
        for name, type_, doc in (
            (ir.SECOND_OF_DAY, ir.SECONDS, "seconds since midnight of the simulated wall clock"),
            (ir.WEEKDAY, ir.INT, "day of the week of the simulated wall clock, 0 = Monday"),
            (ir.NEW_DAY, ir.BOOL, "midnight passed in this scan"),
            (ir.TODAY_SCAN_TIME, ir.SECONDS, "the part of this scan's time after the last midnight (s)"),
        ):
            initial: ir.Expr = (
                _literal(False, ir.BOOL)
                if type_ == ir.BOOL
                else (_seconds(0.0) if type_ == ir.SECONDS else _literal(0, ir.INT))
            )
            self.variables[name] = ir.Variable(
                name=name, role="state", type=type_, initial=initial, doc=doc, public=False, point="calendar"
            )
        return ir.Block(
            None, "calendar", body, ("the wall clock advances by the scan time; totals reset at midnight",)
        )

    def _min_time_clock(self) -> ir.Block:
        body = []
        for guard in self.min_times.values():
            limit = _max_expr(guard.min_on, guard.min_off)
            body.extend(_advance(guard.held_time, limit))
        return ir.Block(None, "minimum on and off times", tuple(body))

    def _min_time_commit(self) -> ir.Block:
        body = []
        for output, guard in self.min_times.items():
            out = _ref(output, ir.BOOL)
            changed = ir.Compare(ir.BOOL, "!=", out, _ref(guard.held, ir.BOOL))
            body.append(_if(changed, [_assign(guard.held, out), _assign(guard.held_time, _seconds(0.0))]))
        return ir.Block(None, "minimum on and off times: commit this scan's values", tuple(body))

    def _held_for(self, condition: ir.Expr, duration: ir.Expr, base: str, what: str) -> ir.Expr:
        """`condition for duration`: a timer updated every scan; the value reads the timer."""
        elapsed = self._state(f"{base}_elapsed", ir.SECONDS, _seconds(0.0), f"time {what} has held (s)")
        was = self._state(f"{base}_held", ir.BOOL, _literal(False, ir.BOOL), f"{what} held in the last scan")
        elapsed_ref = _ref(elapsed, ir.SECONDS)
        was_ref = _ref(was, ir.BOOL)
        self.pending.append(
            _if(
                condition,
                [
                    _if(
                        was_ref,
                        _advance(elapsed, duration),
                        [_assign(elapsed, _seconds(0.0)), _assign(was, _true())],
                    ),
                ],
                [_assign(elapsed, _seconds(0.0)), _assign(was, _literal(False, ir.BOOL))],
            )
        )
        return _and(was_ref, ir.Compare(ir.BOOL, ">=", elapsed_ref, duration))

    def _memory_name(self, what: str) -> str:
        count = self.counters.get(self.construct_name + what, 0) + 1
        self.counters[self.construct_name + what] = count
        return f"{self.construct_name}_{what}" if count == 1 else f"{self.construct_name}_{what}_{count}"

    # --------------------------------------------------------------------- expressions
    def type_of(self, expr: n.Expr) -> Type:
        type_ = self.checked.expr_types.get(id(expr))
        if type_ is None:
            raise AssertionError(f"unchecked expression at {expr.span}")
        return type_

    def expr(self, expr: n.Expr) -> ir.Expr:
        while isinstance(expr, n.Paren):
            expr = expr.inner
        type_ = self.type_of(expr)
        if isinstance(expr, n.Number):
            if isinstance(type_, IntType):
                return _literal(int(expr.value), ir.INT)
            return _literal(float(expr.value), ir.REAL)
        if isinstance(expr, n.Quantity):
            return _literal(float(expr.value), self.package.value_type(type_, self.name))
        if isinstance(expr, n.BoolLiteral):
            return _literal(expr.value, ir.BOOL)
        if isinstance(expr, n.Name):
            return self._name(expr, type_)
        if isinstance(expr, n.Member):
            return self._member(expr, type_)
        if isinstance(expr, n.Call):
            return self._call(expr, type_)
        if isinstance(expr, n.Unary):
            operand = self.expr(expr.operand)
            if expr.op == "not":
                return _not(operand)
            if isinstance(operand, ir.Literal_) and isinstance(operand.value, (int, float)):
                return _literal(-operand.value, operand.type)
            return ir.Unary(operand.type, "-", operand)
        if isinstance(expr, n.Binary):
            return self._binary(expr, type_)
        if isinstance(expr, n.Compare):
            return self._compare(expr)
        if isinstance(expr, n.HeldFor):
            condition = self.expr(expr.condition)
            duration = self._to_seconds(self.expr(expr.duration), self.type_of(expr.duration))
            return self._held_for(condition, duration, self._memory_name("for"), "the condition of `for`")
        raise AssertionError(f"unhandled expression {type(expr).__name__}")

    def _name(self, expr: n.Name, type_: Type) -> ir.Expr:
        if expr.name == TIME_IN_STATE:
            assert self.machine is not None
            return _ref(f"{self.machine.name.text}_time_in_state", ir.SECONDS)
        symbol = self.checked.resolved.get(id(expr))
        if symbol is None:  # an enumeration member or a state
            vt = self.package.value_type(type_, self.name)
            return _literal(expr.name, vt)
        return self._name_value(expr, symbol)

    def _name_value(self, expr: n.Name, symbol: Symbol) -> ir.Expr:
        vt = self.package.value_type(symbol.type, self.name) if symbol.kind != "schedule" else ir.BOOL
        if symbol.kind == "const" and symbol.program is None:
            return ir.GlobalRef(vt, symbol.name)
        if symbol.kind == "schedule":
            assert isinstance(symbol.node, n.Schedule)
            return self._schedule(symbol.node)
        return _ref(symbol.name, vt)

    def _member(self, expr: n.Member, type_: Type) -> ir.Expr:
        owner = expr.owner
        member = expr.name.text
        if isinstance(owner, n.Name):
            symbol = self.scope.lookup(owner.name)
            if symbol is not None and symbol.kind == "machine":
                if member == TIME_IN_STATE:
                    return _ref(f"{owner.name}_time_in_state", ir.SECONDS)
                return _literal(member, self.package.value_type(symbol.type, self.name))
            if symbol is not None and symbol.kind == "enum":
                return _literal(member, self.package.value_type(symbol.type, self.name))
        assert isinstance(owner, n.Call)
        table_symbol = self.checked.resolved.get(id(owner))
        assert table_symbol is not None and isinstance(table_symbol.node, n.Table)
        table = table_symbol.node
        ir_name = self.package.function_names[table_symbol.program, table.name.text]
        key_type = self.package.written_type(table.key.type)
        key = self._convert(self.expr(owner.args[0]), key_type, self.type_of(owner.args[0]))
        return ir.Lookup(self.package.value_type(type_, self.name), ir_name, member, key)

    def _call(self, expr: n.Call, type_: Type) -> ir.Expr:
        name = expr.function.text
        symbol = self.checked.resolved.get(id(expr))
        if symbol is not None and isinstance(symbol.node, n.Curve):
            curve = symbol.node
            key_type = self.package.written_type(curve.key.type)
            key = self._convert(self.expr(expr.args[0]), key_type, self.type_of(expr.args[0]))
            ir_name = self.package.function_names[symbol.program, curve.name.text]
            return ir.Interpolate(self.package.value_type(type_, self.name), ir_name, key)
        if name in ("min", "max", "clamp"):
            args = tuple(self._convert(self.expr(a), type_, self.type_of(a)) for a in expr.args)
            return ir.Call(self.package.value_type(type_, self.name), name, args)  # type: ignore[arg-type]
        if name == "abs":
            arg = self.expr(expr.args[0])
            return ir.Call(arg.type, "abs", (arg,))
        condition = self.expr(expr.args[0])
        if name in ("rising", "falling"):
            base = self._memory_name(name)
            previous = self._state(
                f"{base}_previous",
                ir.BOOL,
                _literal(False, ir.BOOL),
                f"the condition of `{name}` in the last scan",
            )
            edge = self._state(base, ir.BOOL, _literal(False, ir.BOOL), f"`{name}` this scan")
            prev_ref = _ref(previous, ir.BOOL)
            value = _and(condition, _not(prev_ref)) if name == "rising" else _and(prev_ref, _not(condition))
            self.pending.append(_assign(edge, value))
            self.pending.append(_assign(previous, condition))
            return _ref(edge, ir.BOOL)
        if name == "time_since":
            since = self._state(
                self._memory_name("since"),
                ir.SECONDS,
                _seconds(ir.TIME_SINCE_NEVER),
                "time since the condition of `time_since` was last true (s); 1e9 s if never",
            )
            since_ref = _ref(since, ir.SECONDS)
            self.pending.append(
                _if(
                    condition,
                    [_assign(since, _seconds(0.0))],
                    _advance(since, _seconds(ir.TIME_SINCE_NEVER)),
                )
            )
            return since_ref
        raise AssertionError(f"unhandled call {name}")

    def _binary(self, expr: n.Binary, type_: Type) -> ir.Expr:
        left_type, right_type = self.type_of(expr.left), self.type_of(expr.right)
        left, right = self.expr(expr.left), self.expr(expr.right)
        if expr.op in ("and", "or"):
            return _and(left, right) if expr.op == "and" else _or(left, right)
        vt = self.package.value_type(type_, self.name)
        if expr.op in ("+", "-"):
            if isinstance(type_, IntType):
                return ir.Binary(ir.INT, expr.op, left, right)  # type: ignore[arg-type]
            result_unit = unit_of(type_)
            if expr.op == "-" and unit_of(left_type).absolute and unit_of(right_type).absolute:
                # C - C: both on the left's scale, the result is their difference
                right = self._convert(right, left_type, right_type)
                left = _to_real(left)
            else:
                left = self._convert(left, QuantityType(_operand_unit(result_unit, left_type)), left_type)
                right = self._convert(right, QuantityType(_operand_unit(result_unit, right_type)), right_type)
            return ir.Binary(vt, expr.op, left, right)  # type: ignore[arg-type]
        left, right = _to_real(left), _to_real(right)
        if isinstance(type_, IntType):  # int * int
            return ir.Binary(ir.INT, expr.op, left, right)  # type: ignore[arg-type]
        if expr.op == "*":
            return ir.Binary(vt, "*", left, right)
        if _provably_nonzero(right, self.variables):
            return ir.Binary(vt, "/", left, right)
        return ir.SafeDivide(vt, left, right)

    def _compare(self, expr: n.Compare) -> ir.Expr:
        left_type, right_type = self.type_of(expr.left), self.type_of(expr.right)
        left, right = self.expr(expr.left), self.expr(expr.right)
        if isinstance(left_type, QuantityType) or isinstance(right_type, QuantityType):
            if isinstance(left_type, QuantityType):
                right = self._convert(right, left_type, right_type)
                left = _to_real(left)
            else:
                left = self._convert(left, right_type, left_type)
                right = _to_real(right)
        return ir.Compare(ir.BOOL, expr.op, left, right)  # type: ignore[arg-type]

    def _schedule(self, schedule: n.Schedule) -> ir.Expr:
        self.uses_calendar = True
        sod = _ref(ir.SECOND_OF_DAY, ir.SECONDS)
        weekday = _ref(ir.WEEKDAY, ir.INT)
        terms = []
        for period in schedule.periods:
            days: set[int] = set()
            for day_range in period.days:
                first = _day(day_range.first.text)
                last = _day(day_range.last.text) if day_range.last is not None else first
                day = first
                days.add(day)
                while day != last:
                    day = (day + 1) % 7
                    days.add(day)
            day_terms: list[ir.Expr] = []
            for low, high in _runs(sorted(days)):
                if low == 0 and high == 6:
                    continue
                if low == high:
                    day_terms.append(ir.Compare(ir.BOOL, "==", weekday, _literal(low, ir.INT)))
                else:
                    day_terms.append(
                        _and(
                            ir.Compare(ir.BOOL, ">=", weekday, _literal(low, ir.INT)),
                            ir.Compare(ir.BOOL, "<=", weekday, _literal(high, ir.INT)),
                        )
                    )
            start = period.start.hour * 3600 + period.start.minute * 60
            end = period.end.hour * 3600 + period.end.minute * 60
            time_terms: list[ir.Expr] = []
            if start > 0:
                time_terms.append(ir.Compare(ir.BOOL, ">=", sod, _seconds(start)))
            if end < ir.SECONDS_PER_DAY:
                time_terms.append(ir.Compare(ir.BOOL, "<", sod, _seconds(end)))
            terms.append(_and(_or(*day_terms) if day_terms else _true(), *time_terms))
        return _or(*terms)

    # --------------------------------------------------------------------- units
    def _convert(self, expr: ir.Expr, target: Type, source: Type) -> ir.Expr:
        """`expr`, of type `source`, as a value of type `target` (unit conversion, int to real)."""
        if isinstance(target, IntType) or not isinstance(target, QuantityType):
            return expr
        to_unit = target.unit
        from_unit = unit_of(source) if isinstance(source, (IntType, QuantityType)) else to_unit
        expr = _to_real(expr)
        vt = _value_type_of_unit(to_unit)
        if from_unit == to_unit:
            return _retype(expr, vt)
        if from_unit.dimension != to_unit.dimension or (from_unit.absolute and not to_unit.absolute):
            if isinstance(expr, ir.Literal_) and expr.value == 0:
                return _literal(0.0, vt)  # a bare 0 is zero of any quantity
            raise AssertionError(f"cannot convert {from_unit.symbol} to {to_unit.symbol}")
        if to_unit.absolute and not from_unit.absolute:
            to_unit = units.difference_unit(to_unit)
        scale, offset = from_unit.exact_factor_to(to_unit)
        return _linear(expr, scale, offset, vt)

    def _to_seconds(self, expr: ir.Expr, source: Type) -> ir.Expr:
        seconds = units.lookup("s")
        assert seconds is not None
        return self._convert(expr, QuantityType(seconds), source)


# ------------------------------------------------------------------------------ module helpers


def _operand_unit(result: units.Unit, operand: Type) -> units.Unit:
    """The unit an operand of + or - is held in: the result's, or its difference for a shift."""
    unit = unit_of(operand)
    if result.absolute and not unit.absolute:
        return units.difference_unit(result)
    return result


def _linear(expr: ir.Expr, scale: Fraction, offset: Fraction, vt: ir.ValueType) -> ir.Expr:
    if (
        isinstance(expr, ir.Literal_)
        and isinstance(expr.value, (int, float))
        and not isinstance(expr.value, bool)
    ):
        return _literal(float(Fraction(expr.value) * scale + offset), vt)
    result = _scale(expr, scale, vt)
    if offset:
        if offset > 0:
            result = ir.Binary(vt, "+", result, _fraction_literal(offset))
        else:
            result = ir.Binary(vt, "-", result, _fraction_literal(-offset))
    return result


def _scale(expr: ir.Expr, factor: Fraction, vt: ir.ValueType) -> ir.Expr:
    if factor == 1:
        return _retype(expr, vt)
    if (
        isinstance(expr, ir.Literal_)
        and isinstance(expr.value, (int, float))
        and not isinstance(expr.value, bool)
    ):
        return _literal(float(Fraction(expr.value) * factor), vt)
    # Dividing by a whole number reads better and rounds no worse than multiplying by its inverse.
    if factor.numerator == 1:
        return ir.Binary(vt, "/", expr, _fraction_literal(Fraction(factor.denominator)))
    return ir.Binary(vt, "*", expr, _fraction_literal(factor))


def _retype(expr: ir.Expr, vt: ir.ValueType) -> ir.Expr:
    if expr.type == vt:
        return expr
    if isinstance(expr, ir.Literal_):
        return _literal(expr.value, vt)
    return expr


def _to_real(expr: ir.Expr) -> ir.Expr:
    if expr.type.kind != "int":
        return expr
    if isinstance(expr, ir.Literal_):
        return _literal(float(expr.value), ir.REAL)
    return ir.Call(ir.REAL, "to_real", (expr,))


def _max_expr(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    if isinstance(a, ir.Literal_) and isinstance(b, ir.Literal_):
        return a if float(a.value) >= float(b.value) else b
    return ir.Call(a.type, "max", (a, b))


def _safe_default(
    vt: ir.ValueType, low: ir.Expr | None, high: ir.Expr | None, package: _PackageLowering
) -> ir.Expr:
    """The value of a point before it has one: false, the first member, or zero held in range."""
    if vt.kind == "bool":
        return _literal(False, ir.BOOL)
    if vt.kind == "enum":
        assert vt.enum is not None
        return _literal(package.enums[vt.enum].members[0], vt)
    zero = _literal(0, ir.INT) if vt.kind == "int" else _literal(0.0, vt)
    if low is None or high is None:
        return zero
    if isinstance(low, ir.Literal_) and isinstance(high, ir.Literal_):
        value = min(max(0.0, float(low.value)), float(high.value))
        return _literal(int(value) if vt.kind == "int" else value, vt)
    return ir.Call(vt, "clamp", (zero, low, high))


def _provably_within(value: ir.Expr, low: ir.Expr, high: ir.Expr, variables: dict[str, ir.Variable]) -> bool:
    """True when `value` cannot leave `low .. high`, so an assignment needs no limiting."""
    if isinstance(value, ir.Call) and value.function == "clamp" and value.args[1:] == (low, high):
        return True
    bounds = _interval(low, variables), _interval(high, variables)
    within = _interval(value, variables)
    if within is None or bounds[0] is None or bounds[1] is None:
        return False
    return bounds[0][1] <= within[0] and within[1] <= bounds[1][0]


def _provably_nonzero(expr: ir.Expr, variables: dict[str, ir.Variable]) -> bool:
    """True when the divisor cannot be 0: a literal, or parameters whose ranges exclude 0."""
    interval = _interval(expr, variables)
    return interval is not None and (interval[0] > 0 or interval[1] < 0)


def _interval(expr: ir.Expr, variables: dict[str, ir.Variable]) -> tuple[float, float] | None:
    """Bounds of an expression of literals and ranged parameters (site values stay in range)."""
    if isinstance(expr, ir.Literal_) and not isinstance(expr.value, (bool, str)):
        return float(expr.value), float(expr.value)
    if isinstance(expr, ir.Ref):
        var = variables.get(expr.name)
        # Parameters are checked against their ranges at construction; inputs are read within
        # theirs (a faulted reading is replaced by an in-range value); ranged outputs and vars
        # are held within theirs.
        if var is not None and var.role in ("parameter", "constant", "input", "output", "local"):
            if isinstance(var.low, ir.Literal_) and isinstance(var.high, ir.Literal_):
                return float(var.low.value), float(var.high.value)
            if var.role == "constant" and var.initial is not None:
                return _interval(var.initial, variables)
        return None
    if isinstance(expr, ir.Unary) and expr.op == "-":
        inner = _interval(expr.operand, variables)
        return None if inner is None else (-inner[1], -inner[0])
    if isinstance(expr, ir.Binary) and expr.op in ("+", "-", "*"):
        left, right = _interval(expr.left, variables), _interval(expr.right, variables)
        if left is None or right is None:
            return None
        if expr.op == "+":
            return left[0] + right[0], left[1] + right[1]
        if expr.op == "-":
            return left[0] - right[1], left[1] - right[0]
        products = [a * b for a in left for b in right]
        return min(products), max(products)
    if isinstance(expr, ir.Call) and expr.function == "to_real":
        return _interval(expr.args[0], variables)
    return None


def _day(text: str) -> int:
    lowered = text.lower()
    return DAYS.index(DAY_ALIASES.get(lowered[:3], lowered))


def _runs(days: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


# ------------------------------------------------------------------------------ ordering


def _order_constructs(constructs: list[_Construct]) -> tuple[list[_Construct], dict[int, tuple[str, ...]]]:
    """Data-flow order, priorities respected; loops in the order written. Also the loop notes."""
    writers: dict[str, list[int]] = {}
    for i, c in enumerate(constructs):
        for name in c.writes:
            writers.setdefault(name, []).append(i)
    data_edges: dict[int, set[int]] = {i: set() for i in range(len(constructs))}
    priority_edges: dict[int, set[int]] = {i: set() for i in range(len(constructs))}
    for j, reader in enumerate(constructs):
        for name in reader.reads:
            for i in writers.get(name, ()):
                if i != j:
                    data_edges[i].add(j)
    for ws in writers.values():
        for a in ws:
            for b in ws:
                if constructs[a].priority < constructs[b].priority:
                    priority_edges[a].add(b)
    edges = {i: data_edges[i] | priority_edges[i] for i in data_edges}
    position = [c.position for c in constructs]
    order = _topological(list(range(len(constructs))), edges, priority_edges, position)
    placed = {i: k for k, i in enumerate(order)}
    notes: dict[int, tuple[str, ...]] = {}
    for j in order:
        reader = constructs[j]
        late = sorted(
            name
            for name in reader.reads
            if any(placed[i] > placed[j] for i in writers.get(name, ()) if i != j)
        )
        if late:
            shown = ", ".join(f"`{name}`" for name in late)
            notes[id(reader)] = (f"feedback loop: reads {shown} as set in the previous scan",)
    return [constructs[i] for i in order], notes


def _topological(
    nodes: list[int],
    edges: dict[int, set[int]],
    strict_edges: dict[int, set[int]],
    position: list[tuple[str, int, int]],
) -> list[int]:
    """Order nodes along edges; a cycle runs in `position` order, keeping `strict_edges`."""
    components = _strongly_connected(nodes, edges)
    component_of = {node: k for k, component in enumerate(components) for node in component}
    component_edges: dict[int, set[int]] = {k: set() for k in range(len(components))}
    for a, targets in edges.items():
        for b in targets:
            if component_of[a] != component_of[b]:
                component_edges[component_of[a]].add(component_of[b])
    first = [min(position[node] for node in component) for component in components]
    order: list[int] = []
    for k in _kahn(list(range(len(components))), component_edges, first):
        members = components[k]
        inner = {a: {b for b in strict_edges[a] if b in members} for a in members}
        order.extend(_kahn(sorted(members), inner, position))
    return order


def _kahn(nodes: list[int], edges: dict[int, set[int]], key: list[tuple[str, int, int]]) -> list[int]:
    incoming = {node: 0 for node in nodes}
    for a in nodes:
        for b in edges.get(a, ()):
            if b in incoming:
                incoming[b] += 1
    ready = [(key[node], node) for node in nodes if incoming[node] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for b in sorted(edges.get(node, ())):
            if b in incoming:
                incoming[b] -= 1
                if incoming[b] == 0:
                    heapq.heappush(ready, (key[b], b))
    if len(order) != len(nodes):
        raise AssertionError("cycle among strict edges")
    return order


def _strongly_connected(nodes: list[int], edges: dict[int, set[int]]) -> list[list[int]]:
    """Tarjan's algorithm, iteratively."""
    counter = itertools.count()
    number: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    components: list[list[int]] = []
    for root in nodes:
        if root in number:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        number[root] = low[root] = next(counter)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in number:
                    number[child] = low[child] = next(counter)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], number[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == number[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _order_programs(programs: list[ir.Program]) -> tuple[list[ir.Program], tuple[ir.Wire, ...]]:
    """Programs in wiring order (a source before the programs it feeds), and the wires."""
    by_name = {p.name: i for i, p in enumerate(programs)}
    wires: list[ir.Wire] = []
    edges: dict[int, set[int]] = {i: set() for i in range(len(programs))}
    for j, program in enumerate(programs):
        for var in program.variables:
            if var.role == "input" and var.wiring is not None:
                source_program, source = var.wiring
                wires.append(ir.Wire(program.name, var.name, source_program, source))
                if source_program in by_name:
                    edges[by_name[source_program]].add(j)
    position = [(p.origin.file, p.origin.line, 0) if p.origin is not None else ("", 0, 0) for p in programs]
    no_strict: dict[int, set[int]] = {i: set() for i in range(len(programs))}
    order = _topological(list(range(len(programs))), edges, no_strict, position)
    ordered = [programs[i] for i in order]
    rank = {p.name: k for k, p in enumerate(ordered)}
    wires.sort(key=lambda w: (rank[w.program], w.input))
    return ordered, tuple(wires)
