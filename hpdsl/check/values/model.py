"""The values of a whole package: what every name can be, and what happens where.

`build(package)` gives a `Model`:

- `base`: for every declared name, the values it can take anywhere. An input or a parameter
  can take its declared range (a sensor outside its range reads its fallback, a parameter
  outside its range is refused); an output or a var the values its writers can assign, held
  within its declared range; an input wired from another program what that output can be.
  The values of outputs and vars depend on each other, so they are found by iterating until
  nothing grows (widened to the declared range, or to anything, after a few rounds).
- what the walk of every rule, hysteresis, state and alarm saw on the way: each condition
  with what is known where it is tested (`Condition`), each write of an output or var
  (`Write`), each division and each call of a table or curve (`Use`).

The checks of `hpdsl.check.values` read these records; none walks the rules again.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope, hpdsl.check.values.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from hpdsl.base.source import Span
from hpdsl.check.scope import CheckedPackage, Scope, Symbol
from hpdsl.check.values import domain as d
from hpdsl.check.values.domain import Choice, Num, Value
from hpdsl.check.values.evaluate import Env, Evaluator, Key, strip, value_of_type
from hpdsl.language import consteval
from hpdsl.language import nodes as n
from hpdsl.language.consteval import Const
from hpdsl.language.types import BoolType, EnumType, QuantityType

ROUNDS = 6  # rounds of the search for the values of outputs and vars
WIDEN_AFTER = 3  # after this many, a value still growing takes its declared range, or anything


@dataclass(eq=False)
class Construct:
    """A rule, hysteresis, machine or alarm: who writes, with which priority."""

    kind: str  # "rule", "hysteresis", "machine", "alarm"
    name: str
    span: Span
    priority: int | None
    program: str

    @property
    def description(self) -> str:
        return f"{self.kind} `{self.name}`"


@dataclass(eq=False)
class Condition:
    """A condition where it is tested: an `if` branch, a transition, an alarm's `when`."""

    expr: n.Expr
    env: Env  # what is known where its chain starts
    kind: str  # "branch", "transition", "alarm"
    construct: Construct
    chain: Env | None = None  # what is known once the earlier branches or transitions are false
    earlier: tuple[n.Expr, ...] = ()  # those earlier conditions
    state: n.State | None = None  # the state of a transition


@dataclass(eq=False)
class Write:
    """An assignment (or a hysteresis threshold) setting an output or var."""

    target: Symbol
    value: n.Expr
    span: Span
    env: Env  # what is known where it runs
    construct: Construct
    conditional: bool  # under an `if`, in a state, an alarm action or a hysteresis threshold


@dataclass(eq=False)
class Use:
    """A division, or a call of a table or curve, with what is known where it is evaluated."""

    expr: n.Expr
    env: Env
    construct: Construct | None


@dataclass(eq=False)
class Model:
    package: CheckedPackage
    evaluator: Evaluator
    base: dict[Key, Value]
    declared: dict[int, Num]  # id(symbol) -> the declared range of an input, output, var or parameter
    initial: dict[int, Value]  # id(symbol) -> the value an output or var starts with
    tables: Tables
    conditions: list[Condition] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    divisions: list[Use] = field(default_factory=list)
    calls: list[Use] = field(default_factory=list)
    values: list[tuple[n.Expr, Env]] = field(default_factory=list)  # conditions inside values
    _members: frozenset[str] | None = None
    _made: dict[int, n.Expr] = field(default_factory=dict)
    _wires: list[tuple[int, int]] | None = None  # (input, the output it is wired from), by id()

    def made(self, owner: n.Node, make: Callable[[], n.Expr]) -> n.Expr:
        """The condition a construct stands for (`after D`, a hysteresis threshold), made once:
        the analysis keys what it learns by the identity of expressions, so it must not change."""
        found = self._made.get(id(owner))
        if found is None:
            found = self._made[id(owner)] = make()
        return found

    def symbols(self) -> Iterator[tuple[str, Symbol]]:
        """(program, symbol) for every symbol declared in a program."""
        for program, scope in self.package.program_scopes.items():
            for symbol in scope.symbols.values():
                yield program, symbol

    def const(self, expr: n.Expr, scope: Scope) -> Const | None:
        """A constant expression's value with parameters at their defaults (None when it reads a
        live value)."""
        from hpdsl.check.scope import evaluate_in_scope

        return evaluate_in_scope(expr, scope, self.is_member, ("const", "parameter"))

    def is_member(self, name: str) -> bool:
        """Whether a bare name is an enumeration member or a state."""
        if self._members is None:
            found: set[str] = set()
            for symbol in self.package.package_scope.symbols.values():
                if symbol.kind == "enum" and isinstance(symbol.type, EnumType):
                    found.update(symbol.type.members)
            for _, symbol in self.symbols():
                if symbol.kind == "machine" and isinstance(symbol.type, EnumType):
                    found.update(symbol.type.members)
            self._members = frozenset(found)
        return name in self._members


class Tables:
    """The values of curves and table columns over a range of keys, from their constant points."""

    def __init__(self, package: CheckedPackage) -> None:
        self.package = package
        self._rows: dict[int, list[tuple[Num, dict[str, Value]]]] = {}
        self._points: dict[int, list[tuple[float, float]]] = {}

    def value(self, symbol: Symbol, key: Value, column: str | None) -> Value:
        if not isinstance(key, Num) or key.empty:
            return None
        if column is None:
            return self._curve(symbol, key)
        values = [
            row[column] for cover, row in self.rows(symbol) if column in row and not cover.meet(key).empty
        ]
        result: Value = None
        for index, value in enumerate(values):
            result = value if index == 0 else d.hull(result, value)
        return result

    def points(self, symbol: Symbol) -> list[tuple[float, float]]:
        node = symbol.node
        assert isinstance(node, n.Curve)
        if id(node) not in self._points:
            scope = self._scope(symbol)
            found: list[tuple[float, float]] = []
            for point in node.points:
                x, y = _number(point.x, scope), _number(point.y, scope)
                if x is None or y is None:
                    found = []
                    break
                found.append((x, y))
            self._points[id(node)] = found
        return self._points[id(node)]

    def _curve(self, symbol: Symbol, key: Num) -> Value:
        points = self.points(symbol)
        if not points:
            return d.UNKNOWN
        ys = [y for x, y in points if key.contains(x)]
        ys.extend(_interpolate(points, x) for x in (key.low, key.high))
        return Num(min(ys), max(ys))

    def rows(self, symbol: Symbol) -> list[tuple[Num, dict[str, Value]]]:
        node = symbol.node
        assert isinstance(node, n.Table)
        if id(node) not in self._rows:
            scope = self._scope(symbol)
            rows: list[tuple[Num, dict[str, Value]]] = []
            for row in node.rows:
                cover = _cover(row.key, scope)
                cells: dict[str, Value] = {}
                for column, cell in zip(node.columns, row.cells, strict=False):
                    cells[column.text] = _value_of_const(
                        consteval.evaluate(cell, lambda name: _resolve(name, scope))
                    )
                rows.append((cover, cells))
            self._rows[id(node)] = rows
        return self._rows[id(node)]

    def _scope(self, symbol: Symbol) -> Scope:
        if symbol.program is not None:
            return self.package.program_scopes[symbol.program]
        return self.package.package_scope


def _resolve(name: str, scope: Scope) -> Const | None:
    from hpdsl.check.scope import evaluate_in_scope

    return evaluate_in_scope(n.Name(name=name), scope, lambda _: True, ("const",))


def _number(expr: n.Expr, scope: Scope) -> float | None:
    found = consteval.evaluate(expr, lambda name: _resolve(name, scope))
    return found.number if found is not None else None


def _value_of_const(const: Const | None) -> Value:
    if const is None:
        return None
    if isinstance(const.value, bool):
        return d.truth(const.value)
    if isinstance(const.value, str):
        return Choice(frozenset({const.value}))
    return d.num(const.value)


def _cover(cell: n.KeyCell, scope: Scope) -> Num:
    """The keys a row's key cell holds (closed: a shared end point counts for both rows)."""
    low = _number(cell.low, scope) if cell.low is not None else None
    high = _number(cell.high, scope) if cell.high is not None else None
    if cell.op is None:
        return Num(low if low is not None else -d.INF, high if high is not None else d.INF)
    bound = low if low is not None else high
    if bound is None:
        return d.UNKNOWN
    return Num(-d.INF, bound) if cell.op in ("<", "<=") else Num(bound, d.INF)


def _interpolate(points: list[tuple[float, float]], x: float) -> float:
    if x <= points[0][0]:
        return points[0][1]
    if x >= points[-1][0]:
        return points[-1][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


# ------------------------------------------------------------------------------ the walk
class _Walk:
    """One walk over every program: the values written, and the records of what was seen."""

    def __init__(self, model: Model, *, recording: bool) -> None:
        self.model = model
        self.ev = model.evaluator
        self.written: dict[int, Value] = {}
        # The rounds that find the values of outputs and vars only need the values written; the
        # last walk records what the checks read, with `and`/`or` evaluated case by case.
        self.recording = recording
        self.ev.precise = recording

    def program(self, program: n.Program) -> None:
        name = program.name.text
        scope = self.model.package.program_scopes.get(name)
        if scope is None:
            return
        for item in program.items:
            construct = Construct(_kind(item), item.name.text, item.name.span, item.meta.priority, name)
            if isinstance(item, n.Rule):
                self.statements(item.body, Env(), scope, construct, conditional=False)
            elif isinstance(item, n.Hysteresis):
                self.hysteresis(item, scope, construct)
            elif isinstance(item, n.Machine):
                self.machine(item, scope, construct)
            elif isinstance(item, n.Alarm):
                self.alarm(item, scope, construct)
            elif isinstance(item, (n.Totalizer, n.Counter)):
                self.expression(item.source, Env(), None)
            elif isinstance(item, n.Declaration) and item.kind == "const" and item.initial is not None:
                self.expression(item.initial, Env(), None, reported=False)

    # ------------------------------------------------------------------ constructs
    def hysteresis(self, item: n.Hysteresis, scope: Scope, construct: Construct) -> None:
        target = scope.lookup(item.name.text)
        self.expression(item.input, Env(), construct)
        for threshold in item.thresholds:
            condition = self.model.made(threshold, partial(_crossing, item.input, threshold))
            env = self.ev.assume(condition, True, Env())
            if target is not None:
                self.write(target, threshold.value, threshold.value.span, env, construct, conditional=True)

    def machine(self, item: n.Machine, scope: Scope, construct: Construct) -> None:
        symbol = scope.lookup(item.name.text)
        if symbol is None:
            return
        for state in item.states:
            env = Env(machine=id(symbol)).with_value(id(symbol), Choice(frozenset({state.name.text})))
            for body in (state.entry, state.during, state.exit):
                if body is not None:
                    self.statements(body, env, scope, construct, conditional=True)
            chain = env
            earlier: list[n.Expr] = []
            for transition in state.transitions:
                condition = self.model.made(transition, partial(_transition_condition, transition))
                if transition.kind == "when":
                    self.model.conditions.append(
                        Condition(condition, env, "transition", construct, chain, tuple(earlier), state)
                    )
                    self.expression(condition, env, construct, reported=False)
                else:
                    self.model.conditions.append(
                        Condition(condition, env, "timeout", construct, chain, tuple(earlier), state)
                    )
                chain = self.ev.assume(condition, False, chain)
                earlier.append(condition)

    def alarm(self, item: n.Alarm, scope: Scope, construct: Construct) -> None:
        env = Env()
        if item.condition is not None:
            self.model.conditions.append(Condition(item.condition, env, "alarm", construct))
            self.expression(item.condition, env, construct, reported=False)
            if not item.latching:
                env = self.ev.assume(item.condition, True, env)
        symbol = scope.lookup(item.name.text)
        if symbol is not None:
            env = env.with_value(id(symbol), d.TRUE)
        self.statements(item.action, env, scope, construct, conditional=True)

    # ------------------------------------------------------------------ statements
    def statements(
        self, body: tuple[n.Stmt, ...], env: Env, scope: Scope, construct: Construct, *, conditional: bool
    ) -> Env:
        # Unreachable statements are walked too: their writes still count as writes (a value set
        # back in a dead branch is the dead branch's problem, not a latch), their values do not.
        for stmt in body:
            if isinstance(stmt, n.Assign):
                self.expression(stmt.value, env, construct)
                target = scope.lookup(stmt.target.text)
                if target is not None:
                    value = self.write(target, stmt.value, stmt.span, env, construct, conditional=conditional)
                    env = env.assigned(id(target), value, stmt.value, self.ev.reads(stmt.value, env))
            elif isinstance(stmt, n.If):
                env = self.branches(stmt, env, scope, construct)
            elif isinstance(stmt, n.Log):
                for field_value in stmt.fields:
                    self.expression(field_value.value, env, construct)
        return env

    def branches(self, stmt: n.If, env: Env, scope: Scope, construct: Construct) -> Env:
        chain = env
        ends: list[Env] = []
        earlier: list[n.Expr] = []
        for branch in stmt.branches:
            self.model.conditions.append(
                Condition(branch.condition, env, "branch", construct, chain, tuple(earlier))
            )
            self.expression(branch.condition, env, construct, reported=False)
            # The rounds that only collect the values written take every branch as reachable.
            inside = self.ev.assume(branch.condition, True, chain) if self.recording else chain
            ends.append(self.statements(branch.body, inside, scope, construct, conditional=True))
            if self.recording:
                chain = self.ev.assume(branch.condition, False, chain)
            earlier.append(branch.condition)
        if stmt.else_body is not None:
            ends.append(self.statements(stmt.else_body, chain, scope, construct, conditional=True))
        else:
            ends.append(chain)
        return self.join(env, ends)

    def join(self, before: Env, ends: list[Env]) -> Env:
        """What is known after an `if`: what holds at the end of every way through it."""
        reached = [end for end in ends if not end.unreachable]
        if not reached:
            return before.replace(unreachable=True)
        keys = set().union(*(end.values.keys() for end in reached))
        values: dict[Key, Value] = {}
        for key in keys:
            joined: Value = None
            for index, end in enumerate(reached):
                value = end.values[key] if key in end.values else self._before(before, key)
                joined = value if index == 0 else d.hull(joined, value)
            values[key] = joined
        first = reached[0]
        facts = {k: v for k, v in first.facts.items() if all(e.facts.get(k) == v for e in reached)}
        defs = {k: v for k, v in first.defs.items() if all(e.defs.get(k) is v for e in reached)}
        return before.replace(values=values, facts=facts, defs=defs, held_false={}, held_true={})

    def _before(self, env: Env, key: Key) -> Value:
        if key in env.values:
            return env.values[key]
        return self.ev.base_value(key, None)

    def write(
        self, target: Symbol, value: n.Expr, span: Span, env: Env, construct: Construct, *, conditional: bool
    ) -> Value:
        assigned = self.ev.value(value, env)
        declared = self.model.declared.get(id(target))
        if declared is not None and isinstance(assigned, Num):
            held = assigned.meet(declared)  # an output with a range is held within it
            assigned = held if not held.empty else declared
        if target.kind in ("output", "var"):
            self.model.writes.append(Write(target, value, span, env, construct, conditional))
            if env.unreachable:
                return assigned
            previous = self.written.get(id(target))
            self.written[id(target)] = (
                assigned if id(target) not in self.written else d.hull(previous, assigned)
            )
        return assigned

    # ------------------------------------------------------------------ expressions
    def expression(
        self, expr: n.Expr, env: Env, construct: Construct | None, *, reported: bool = True
    ) -> None:
        """Record the divisions and calls in an expression, and (`reported`) it as a value whose
        comparisons are conditions too."""
        if not self.recording:
            return
        if reported and _has_condition(expr):
            self.model.values.append((expr, env))
        stack: list[tuple[n.Expr, Env]] = [(expr, env)]
        while stack:
            node, here = stack.pop()
            node = strip(node)
            if isinstance(node, n.Binary):
                if node.op == "/":
                    self.model.divisions.append(Use(node, here, construct))
                if node.op in ("and", "or"):
                    stack.append((node.right, self.ev.assume(node.left, node.op == "and", here)))
                else:
                    stack.append((node.right, here))
                stack.append((node.left, here))
            elif isinstance(node, n.Compare):
                stack.extend(((node.left, here), (node.right, here)))
            elif isinstance(node, n.Unary):
                stack.append((node.operand, here))
            elif isinstance(node, n.HeldFor):
                stack.extend(((node.condition, here), (node.duration, here)))
            elif isinstance(node, n.Call):
                symbol = self.model.package.resolved.get(id(node))
                if symbol is not None and symbol.kind in ("table", "curve"):
                    self.model.calls.append(Use(node, here, construct))
                stack.extend((arg, here) for arg in node.args)
            elif isinstance(node, n.Member):
                stack.append((node.owner, here))


def _transition_condition(transition: n.Transition) -> n.Expr:
    """`when c` is `c`; `after D` is `time_in_state >= D`."""
    if transition.kind == "when":
        return transition.trigger
    span = transition.trigger.span
    own_time = n.Name(span=span, name="time_in_state")
    return n.Compare(span=span, op=">=", left=own_time, right=transition.trigger)


def _crossing(subject: n.Expr, threshold: n.Threshold) -> n.Expr:
    """`below L` is `subject < L`; `above H` is `subject > H`."""
    op = "<" if threshold.side == "below" else ">"
    return n.Compare(span=threshold.span, op=op, left=subject, right=threshold.level)


def _has_condition(expr: n.Expr) -> bool:
    stack = [expr]
    while stack:
        node = strip(stack.pop())
        if isinstance(node, (n.Compare, n.HeldFor)):
            return True
        if isinstance(node, n.Binary):
            stack.extend((node.left, node.right))
        elif isinstance(node, n.Unary):
            stack.append(node.operand)
    return False


def _kind(item: n.Item) -> str:
    if isinstance(item, n.Hysteresis):
        return "hysteresis"
    if isinstance(item, n.Machine):
        return "machine"
    if isinstance(item, n.Alarm):
        return "alarm"
    return "rule"


# ------------------------------------------------------------------------------ building
def build(package: CheckedPackage) -> Model:
    """The values of every name of a checked package, and the records of one walk over it."""
    tables = Tables(package)
    base: dict[Key, Value] = {}
    model = Model(package, Evaluator(package, base, tables.value), base, {}, {}, tables)
    _declared_values(model)
    programs = _in_wiring_order(
        [item for module in package.modules for item in module.items if isinstance(item, n.Program)]
    )
    # Each program until its own values settle, in wiring order; then again while any grew, if
    # an input is wired back from a program later in the order.
    feedback = _wired_back(programs)
    reads = {id(program): _reads(program, package) for program in programs}
    for _ in range(ROUNDS):
        grew = False
        for program in programs:
            for round_ in range(ROUNDS):
                walk = _Walk(model, recording=False)
                walk.program(program)
                grown = _settle(model, walk.written, widen=round_ >= WIDEN_AFTER)
                grew = grew or bool(grown)
                if not grown & reads[id(program)]:
                    break  # nothing the program reads has changed: another walk gives the same
        if not grew or not feedback:
            break
    model.conditions.clear()
    model.writes.clear()
    walk = _Walk(model, recording=True)
    for program in programs:
        walk.program(program)
    return model


def _in_wiring_order(programs: list[n.Program]) -> list[n.Program]:
    """Programs whose outputs others read first, so one round carries values along the wiring."""
    by_name = {p.name.text: p for p in programs}
    done: dict[str, n.Program] = {}
    visiting: set[str] = set()

    def visit(program: n.Program) -> None:
        name = program.name.text
        if name in done or name in visiting:
            return
        visiting.add(name)
        for item in program.items:
            if isinstance(item, n.Declaration) and item.wiring is not None:
                source = by_name.get(item.wiring.program.text)
                if source is not None:
                    visit(source)
        visiting.discard(name)
        done[name] = program

    for program in programs:
        visit(program)
    return list(done.values())


def _wired_back(programs: list[n.Program]) -> bool:
    """Whether a program reads an output of a program after it in this order."""
    position = {program.name.text: index for index, program in enumerate(programs)}
    for index, program in enumerate(programs):
        for item in program.items:
            wiring = item.wiring if isinstance(item, n.Declaration) else None
            if wiring is not None and position.get(wiring.program.text, -1) >= index:
                return True
    return False


def _declared_values(model: Model) -> None:
    """The values of names that no rule sets: declared ranges, constants, and every value's start."""
    ev, empty = model.evaluator, Env()
    for _, symbol in model.symbols():
        decl = symbol.node
        key = id(symbol)
        if isinstance(decl, n.Declaration):
            declared = None
            if decl.range is not None:
                low, high = ev.value(decl.range.low, empty), ev.value(decl.range.high, empty)
                if isinstance(low, Num) and isinstance(high, Num):
                    declared = Num(low.low, high.high)
                    model.declared[key] = declared
            if symbol.kind == "const" and decl.initial is not None:
                model.base[key] = ev.value(decl.initial, empty)
            elif symbol.kind in ("input", "parameter"):
                model.base[key] = declared if declared is not None else value_of_type(symbol.type)
            elif symbol.kind in ("output", "var"):
                start = _start(model, decl, symbol, declared)
                model.initial[key] = start
                model.base[key] = start
        elif symbol.kind in ("totalizer", "counter"):
            model.base[key] = Num(0.0, d.INF)
        elif symbol.kind in ("alarm", "schedule"):
            model.base[key] = d.EITHER
        elif symbol.kind == "machine" and isinstance(symbol.type, EnumType):
            model.base[key] = Choice(frozenset(symbol.type.members))
    for symbol in model.package.package_scope.symbols.values():
        if (
            symbol.kind == "const"
            and isinstance(symbol.node, n.Declaration)
            and symbol.node.initial is not None
        ):
            model.base[id(symbol)] = ev.value(symbol.node.initial, empty)
    _wire(model)


def _start(model: Model, decl: n.Declaration, symbol: Symbol, declared: Num | None) -> Value:
    if decl.initial is not None:
        value = model.evaluator.value(decl.initial, Env())
    elif isinstance(symbol.type, BoolType):
        value = d.FALSE
    elif isinstance(symbol.type, EnumType):
        value = Choice(frozenset({symbol.type.members[0]}))
    elif isinstance(symbol.type, QuantityType) and symbol.type.unit.absolute:
        value = d.num(symbol.type.unit.to_si(0.0))
    else:
        value = d.num(0.0) if value_of_type(symbol.type) is not None else None
    if declared is not None and isinstance(value, Num):
        held = value.meet(declared)
        if held.empty:
            x = min(max(value.low, declared.low), declared.high)
            held = d.num(x)
        value = held
    return value


def _wire(model: Model) -> None:
    """An input wired from another program's output can be what that output can be."""
    if model._wires is None:
        model._wires = []
        for _, symbol in model.symbols():
            decl = symbol.node
            if symbol.kind == "input" and isinstance(decl, n.Declaration) and decl.wiring is not None:
                scope = model.package.program_scopes.get(decl.wiring.program.text)
                output = scope.symbols.get(decl.wiring.output.text) if scope is not None else None
                if output is not None:
                    model._wires.append((id(symbol), id(output)))
    for target, source in model._wires:
        if source in model.base:
            model.base[target] = model.base[source]


def _settle(model: Model, written: dict[int, Value], *, widen: bool) -> set[int]:
    """Take the values the walk saw written; the keys of those that grew."""
    grown: set[int] = set()
    for key in written:
        if key not in model.initial:
            continue
        new = d.hull(model.initial.get(key), written[key])
        old = model.base.get(key)
        if new == old or (isinstance(old, Num) and isinstance(new, Num) and new.within(old)):
            continue
        if widen and isinstance(new, Num) and isinstance(old, Num):
            declared = model.declared.get(key, d.UNKNOWN)
            new = Num(
                declared.low if new.low < old.low else new.low,
                declared.high if new.high > old.high else new.high,
            )
        model.base[key] = new
        grown.add(key)
    if grown:
        _wire(model)
    return grown


def _reads(program: n.Program, package: CheckedPackage) -> set[int]:
    """The keys of the names a program's rules, hysteresis, machines and alarms read."""
    exprs: list[n.Expr] = []
    bodies: list[tuple[n.Stmt, ...]] = []
    for item in program.items:
        if isinstance(item, n.Rule):
            bodies.append(item.body)
        elif isinstance(item, n.Hysteresis):
            exprs.append(item.input)
            exprs.extend(e for t in item.thresholds for e in (t.level, t.value))
        elif isinstance(item, n.Machine):
            for state in item.states:
                bodies.extend(b for b in (state.entry, state.during, state.exit) if b is not None)
                exprs.extend(t.trigger for t in state.transitions)
        elif isinstance(item, n.Alarm):
            bodies.append(item.action)
            if item.condition is not None:
                exprs.append(item.condition)
        elif isinstance(item, (n.Totalizer, n.Counter)):
            exprs.append(item.source)
    while bodies:
        for stmt in bodies.pop():
            if isinstance(stmt, n.Assign):
                exprs.append(stmt.value)
            elif isinstance(stmt, n.If):
                exprs.extend(branch.condition for branch in stmt.branches)
                bodies.extend(branch.body for branch in stmt.branches)
                if stmt.else_body is not None:
                    bodies.append(stmt.else_body)
            elif isinstance(stmt, n.Log):
                exprs.extend(field.value for field in stmt.fields)
    found: set[int] = set()
    for expr in exprs:
        for name in n.names_read(expr):
            symbol = package.resolved.get(id(name))
            if symbol is not None:
                found.add(id(symbol))
    return found
