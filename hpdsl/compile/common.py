"""What the lowering passes share: builders of IR expressions and statements, the constructs
of a program and the order they run in, the order of programs, and the state of one
program's lowering (`ProgramLoweringBase`).

May import: hpdsl.base, hpdsl.language, hpdsl.check, hpdsl.compile.ir.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

from hpdsl.base.source import Span
from hpdsl.check.checker import (
    DAY_ALIASES,
    DAYS,
    CheckedPackage,
    Scope,
    Symbol,
    evaluate_in_scope,
)
from hpdsl.compile import ir
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.consteval import Const
from hpdsl.language.types import IntType, Type, unit_of

SENSOR_FAULT_SEVERITY = "high"


SENSOR_FAULT_SUFFIX = "_sensor_fault"


def literal_of(value: bool | int | float | str, type_: ir.ValueType) -> ir.Literal_:
    return ir.Literal_(type_, value)


def true_literal() -> ir.Literal_:
    return literal_of(True, ir.BOOL)


def real_literal(value: float, unit: str = "") -> ir.Literal_:
    return literal_of(float(value), ir.quantity(unit) if unit else ir.REAL)


def seconds_literal(value: float) -> ir.Literal_:
    return literal_of(float(value), ir.SECONDS)


def ref(name: str, type_: ir.ValueType) -> ir.Ref:
    return ir.Ref(type_, name)


def negated(expr: ir.Expr) -> ir.Expr:
    if isinstance(expr, ir.Literal_) and isinstance(expr.value, bool):
        return literal_of(not expr.value, ir.BOOL)
    if isinstance(expr, ir.Unary) and expr.op == "not":
        return expr.operand
    return ir.Unary(ir.BOOL, "not", expr)


def all_of(*terms: ir.Expr) -> ir.Expr:
    kept = [t for t in terms if not (isinstance(t, ir.Literal_) and t.value is True)]
    if any(isinstance(t, ir.Literal_) and t.value is False for t in kept):
        return literal_of(False, ir.BOOL)
    if not kept:
        return true_literal()
    result = kept[0]
    for term in kept[1:]:
        result = ir.Binary(ir.BOOL, "and", result, term)
    return result


def any_of(*terms: ir.Expr) -> ir.Expr:
    kept = [t for t in terms if not (isinstance(t, ir.Literal_) and t.value is False)]
    if any(isinstance(t, ir.Literal_) and t.value is True for t in kept):
        return true_literal()
    if not kept:
        return literal_of(False, ir.BOOL)
    result = kept[0]
    for term in kept[1:]:
        result = ir.Binary(ir.BOOL, "or", result, term)
    return result


def added(left: ir.Expr, right: ir.Expr) -> ir.Expr:
    return ir.Binary(left.type, "+", left, right)


def advance_timer(name: str, limit: ir.Expr) -> list[ir.Stmt]:
    """A timer `name` (seconds) advanced by the scan time and held at `limit`, so it stays bounded."""
    timer = ref(name, ir.SECONDS)
    return [
        assign_stmt(name, added(timer, ir.ScanTime(ir.SECONDS))),
        if_(ir.Compare(ir.BOOL, ">", timer, limit), [assign_stmt(name, limit)]),
    ]


def assign_stmt(target: str, value: ir.Expr, origin: ir.Origin | None = None) -> ir.Assign:
    return ir.Assign(origin, target, value)


def if_(condition: ir.Expr, body: Iterable[ir.Stmt], else_body: Iterable[ir.Stmt] = ()) -> ir.If:
    return ir.If(None, (ir.Branch(condition, tuple(body)),), tuple(else_body))


def fraction_literal(value: Fraction, unit: str = "") -> ir.Literal_:
    return real_literal(float(value), unit)


def value_type_of_unit(unit: units.Unit) -> ir.ValueType:
    return ir.REAL if unit == units.NUMBER else ir.quantity(unit.symbol)


def reads_of(stmts: Iterable[ir.Stmt]) -> set[str]:
    names = {e.name for e in ir.walk_exprs(stmts) if isinstance(e, ir.Ref)}
    for stmt in ir.walk_stmts(stmts):
        if isinstance(stmt, ir.ReadInput) and stmt.last_good:
            names.add(stmt.last_good)
    return names


def writes_of(stmts: Iterable[ir.Stmt]) -> set[str]:
    return {s.target for s in ir.walk_stmts(stmts) if isinstance(s, ir.Assign)}


def end_rows(rows: list[ir.TableRow]) -> tuple[int, int]:
    """The rows reaching lowest and highest (the first of equals): where an uncovered key goes."""
    lowest = highest = 0
    for i, row in enumerate(rows):
        low, high = rows[lowest].low, rows[highest].high
        if row.low is None or (low is not None and row.low < low):
            lowest = i
        if row.high is None or (high is not None and row.high > high):
            highest = i
    return lowest, highest


def camel_case(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def evaluate_fixed(expr: n.Expr, scope: Scope, checked: CheckedPackage) -> Const | None:
    """A constant expression's value when it reads no parameter (directly or through a const)."""
    # The checker accepted the expression, so a name with no declaration is a member.
    return evaluate_in_scope(expr, scope, lambda _: True, ("const",))


def const_literal(value: Const, target: Type, vt: ir.ValueType) -> ir.Literal_:
    if isinstance(value.value, bool):
        return literal_of(value.value, ir.BOOL)
    if isinstance(value.value, str):
        return literal_of(value.value, vt)
    if isinstance(target, IntType):
        return literal_of(round(value.value), ir.INT)
    unit = unit_of(target)
    return literal_of(float(unit.from_si(value.value)), vt)


@dataclass
class Construct:
    """One lowered construct of a program, before ordering."""

    title: str
    origin: ir.Origin
    priority: int
    position: tuple[str, int, int]
    body: tuple[ir.Stmt, ...]
    writes: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)


@dataclass
class MinTime:
    """A bool output with minimum on and off times: its state variables and limits."""

    held: str
    held_time: str
    min_on: ir.Expr
    min_off: ir.Expr


def operand_unit(result: units.Unit, operand: Type) -> units.Unit:
    """The unit an operand of + or - is held in: the result's, or its difference for a shift."""
    unit = unit_of(operand)
    if result.absolute and not unit.absolute:
        return units.difference_unit(result)
    return result


def linear(expr: ir.Expr, scale: Fraction, offset: Fraction, vt: ir.ValueType) -> ir.Expr:
    if (
        isinstance(expr, ir.Literal_)
        and isinstance(expr.value, (int, float))
        and not isinstance(expr.value, bool)
    ):
        return literal_of(float(Fraction(expr.value) * scale + offset), vt)
    result = scaled(expr, scale, vt)
    if offset:
        if offset > 0:
            result = ir.Binary(vt, "+", result, fraction_literal(offset))
        else:
            result = ir.Binary(vt, "-", result, fraction_literal(-offset))
    return result


def scaled(expr: ir.Expr, factor: Fraction, vt: ir.ValueType) -> ir.Expr:
    if factor == 1:
        return retyped(expr, vt)
    if (
        isinstance(expr, ir.Literal_)
        and isinstance(expr.value, (int, float))
        and not isinstance(expr.value, bool)
    ):
        return literal_of(float(Fraction(expr.value) * factor), vt)
    # Dividing by a whole number reads better and rounds no worse than multiplying by its inverse.
    if factor.numerator == 1:
        return ir.Binary(vt, "/", expr, fraction_literal(Fraction(factor.denominator)))
    return ir.Binary(vt, "*", expr, fraction_literal(factor))


def retyped(expr: ir.Expr, vt: ir.ValueType) -> ir.Expr:
    if expr.type == vt:
        return expr
    if isinstance(expr, ir.Literal_):
        return literal_of(expr.value, vt)
    return expr


def as_real(expr: ir.Expr) -> ir.Expr:
    if expr.type.kind != "int":
        return expr
    if isinstance(expr, ir.Literal_):
        return literal_of(float(expr.value), ir.REAL)
    return ir.Call(ir.REAL, "to_real", (expr,))


def max_of(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    if isinstance(a, ir.Literal_) and isinstance(b, ir.Literal_):
        return a if float(a.value) >= float(b.value) else b
    return ir.Call(a.type, "max", (a, b))


def safe_default(
    vt: ir.ValueType, low: ir.Expr | None, high: ir.Expr | None, package: PackageContext
) -> ir.Expr:
    """The value of a point before it has one: false, the first member, or zero held in range."""
    if vt.kind == "bool":
        return literal_of(False, ir.BOOL)
    if vt.kind == "enum":
        assert vt.enum is not None
        return literal_of(package.enums[vt.enum].members[0], vt)
    zero = literal_of(0, ir.INT) if vt.kind == "int" else literal_of(0.0, vt)
    if low is None or high is None:
        return zero
    if isinstance(low, ir.Literal_) and isinstance(high, ir.Literal_):
        value = min(max(0.0, float(low.value)), float(high.value))
        return literal_of(int(value) if vt.kind == "int" else value, vt)
    return ir.Call(vt, "clamp", (zero, low, high))


def provably_within(value: ir.Expr, low: ir.Expr, high: ir.Expr, variables: dict[str, ir.Variable]) -> bool:
    """True when `value` cannot leave `low .. high`, so an assignment needs no limiting."""
    if isinstance(value, ir.Call) and value.function == "clamp" and value.args[1:] == (low, high):
        return True
    bounds = interval_of(low, variables), interval_of(high, variables)
    within = interval_of(value, variables)
    if within is None or bounds[0] is None or bounds[1] is None:
        return False
    return bounds[0][1] <= within[0] and within[1] <= bounds[1][0]


def provably_nonzero(expr: ir.Expr, variables: dict[str, ir.Variable]) -> bool:
    """True when the divisor cannot be 0: a literal, or parameters whose ranges exclude 0."""
    interval = interval_of(expr, variables)
    return interval is not None and (interval[0] > 0 or interval[1] < 0)


def interval_of(expr: ir.Expr, variables: dict[str, ir.Variable]) -> tuple[float, float] | None:
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
                return interval_of(var.initial, variables)
        return None
    if isinstance(expr, ir.Unary) and expr.op == "-":
        inner = interval_of(expr.operand, variables)
        return None if inner is None else (-inner[1], -inner[0])
    if isinstance(expr, ir.Binary) and expr.op in ("+", "-", "*"):
        left, right = interval_of(expr.left, variables), interval_of(expr.right, variables)
        if left is None or right is None:
            return None
        if expr.op == "+":
            return left[0] + right[0], left[1] + right[1]
        if expr.op == "-":
            return left[0] - right[1], left[1] - right[0]
        products = [a * b for a in left for b in right]
        return min(products), max(products)
    if isinstance(expr, ir.Call) and expr.function == "to_real":
        return interval_of(expr.args[0], variables)
    return None


def day_number(text: str) -> int:
    lowered = text.lower()
    return DAYS.index(DAY_ALIASES.get(lowered[:3], lowered))


def day_runs(days: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def order_constructs(constructs: list[Construct]) -> tuple[list[Construct], dict[int, tuple[str, ...]]]:
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
    # A higher priority writes later, so that it wins. Each priority level points at the next
    # one only: its transitive reduction orders the same, with edges linear in the writers
    # (10,000 prioritised writers of one output would otherwise make 50 million).
    for ws in writers.values():
        levels: dict[int, list[int]] = {}
        for i in ws:
            levels.setdefault(constructs[i].priority, []).append(i)
        ordered = [levels[p] for p in sorted(levels)]
        for lower, higher in itertools.pairwise(ordered):
            for a in lower:
                priority_edges[a].update(higher)
    edges = {i: data_edges[i] | priority_edges[i] for i in data_edges}
    position = [c.position for c in constructs]
    order = topological(list(range(len(constructs))), edges, priority_edges, position)
    placed = {i: k for k, i in enumerate(order)}
    # For each name, its two last writers in the order: a reader is late when a writer other
    # than itself comes after it, which one of these two answers.
    last_two = {name: heapq.nlargest(2, (placed[i] for i in ws)) for name, ws in writers.items()}
    notes: dict[int, tuple[str, ...]] = {}
    for j in order:
        reader = constructs[j]
        here = placed[j]
        late = sorted(
            name for name in reader.reads if any(k > here for k in last_two.get(name, ()) if k != here)
        )
        if late:
            shown = ", ".join(f"`{name}`" for name in late)
            notes[id(reader)] = (f"feedback loop: reads {shown} as set in the previous scan",)
    return [constructs[i] for i in order], notes


def topological(
    nodes: list[int],
    edges: dict[int, set[int]],
    strict_edges: dict[int, set[int]],
    position: list[tuple[str, int, int]],
) -> list[int]:
    """Order nodes along edges; a cycle runs in `position` order, keeping `strict_edges`."""
    components = strongly_connected(nodes, edges)
    component_of = {node: k for k, component in enumerate(components) for node in component}
    component_edges: dict[int, set[int]] = {k: set() for k in range(len(components))}
    for a, targets in edges.items():
        for b in targets:
            if component_of[a] != component_of[b]:
                component_edges[component_of[a]].add(component_of[b])
    first = [min(position[node] for node in component) for component in components]
    order: list[int] = []
    for k in kahn(list(range(len(components))), component_edges, first):
        members = components[k]
        inner = {a: {b for b in strict_edges[a] if b in members} for a in members}
        order.extend(kahn(sorted(members), inner, position))
    return order


def kahn(nodes: list[int], edges: dict[int, set[int]], key: list[tuple[str, int, int]]) -> list[int]:
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


def strongly_connected(nodes: list[int], edges: dict[int, set[int]]) -> list[list[int]]:
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


def order_programs(programs: list[ir.Program]) -> tuple[list[ir.Program], tuple[ir.Wire, ...]]:
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
    order = topological(list(range(len(programs))), edges, no_strict, position)
    ordered = [programs[i] for i in order]
    rank = {p.name: k for k, p in enumerate(ordered)}
    wires.sort(key=lambda w: (rank[w.program], w.input))
    return ordered, tuple(wires)


class PackageContext(Protocol):
    """What a program's lowering asks of the package's (`hpdsl.compile.lower`): names and types
    decided once for the whole package, and where a span of the rules comes from."""

    checked: CheckedPackage
    enums: dict[str, ir.Enum]
    machine_enums: dict[tuple[str, str], str]
    function_names: dict[tuple[str | None, str], str]

    def origin(self, span: Span, meta: n.Meta | None = None) -> ir.Origin: ...

    def value_type(self, type_: Type, program: str | None = None) -> ir.ValueType: ...

    def written_type(self, ref: n.TypeRef) -> Type: ...

    def tables_of(self, owner: str | None) -> tuple[ir.Table, ...]: ...

    def curves_of(self, owner: str | None) -> tuple[ir.Curve, ...]: ...

    def lower_function(self, item: n.Table | n.Curve, program: str | None, scope: Scope) -> None: ...


class ProgramLoweringBase:
    """The state of one program's lowering, shared by its parts, and the methods one part calls in another."""

    def __init__(self, package: PackageContext, program: n.Program, scope: Scope) -> None:
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
        self.min_times: dict[str, MinTime] = {}
        self.constraints: list[ir.Constraint] = []
        self.construct_name = ""

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

    def _construct(self, item: n.Item) -> Construct | None:
        raise NotImplementedError  # defined in a mixin

    def _cycle_time_alarm(self) -> ir.Block:
        raise NotImplementedError  # defined in a mixin

    def _parameter_check(self) -> ir.Block | None:
        raise NotImplementedError  # defined in a mixin

    def _calendar(self) -> ir.Block:
        raise NotImplementedError  # defined in a mixin

    def _min_time_clock(self) -> ir.Block:
        raise NotImplementedError  # defined in a mixin

    def _min_time_commit(self) -> ir.Block:
        raise NotImplementedError  # defined in a mixin

    def _held_for(self, condition: ir.Expr, duration: ir.Expr, base: str, what: str) -> ir.Expr:
        raise NotImplementedError  # defined in a mixin

    def _memory_name(self, what: str) -> str:
        raise NotImplementedError  # defined in a mixin

    def type_of(self, expr: n.Expr) -> Type:
        raise NotImplementedError  # defined in a mixin

    def expr(self, expr: n.Expr) -> ir.Expr:
        raise NotImplementedError  # defined in a mixin

    def _name_value(self, expr: n.Name, symbol: Symbol) -> ir.Expr:
        raise NotImplementedError  # defined in a mixin

    def _convert(self, expr: ir.Expr, target: Type, source: Type) -> ir.Expr:
        raise NotImplementedError  # defined in a mixin

    def _to_seconds(self, expr: ir.Expr, source: Type) -> ir.Expr:
        raise NotImplementedError  # defined in a mixin
