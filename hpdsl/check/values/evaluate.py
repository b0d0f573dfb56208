"""The value of an expression at one point of a scan, and what a condition tells of the values
where it holds.

An `Env` is what is known at a point of a program: the values of the names that conditions on
the way there narrowed (`if outdoor_temp > 21C then` narrows `outdoor_temp` to above 21C inside
the branch), the truth of conditions that are not comparisons (`compressor_running`,
`rising(x)`, `c for 10 min`), and whether the point can be reached at all. `Evaluator.value`
gives an expression's value in an `Env`; `Evaluator.assume` gives the `Env` in which a
condition has a truth.

May import: hpdsl.language, hpdsl.check.scope, hpdsl.check.values.domain.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable

from hpdsl.check.scope import TIME_IN_STATE, CheckedPackage, Symbol
from hpdsl.check.values import domain as d
from hpdsl.check.values.domain import Choice, Num, Value
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.types import BoolType, EnumType, Type, is_numeric

Key = Hashable  # id() of a symbol, or ("time_in_state", id(machine))

# The longest `time_since` reads before its condition was ever true (docs/language.md §18).
NEVER_SINCE = 1e9


class Env:
    """What is known at one point of a scan. Never changed once made: every step makes a new one
    (`replace`), sharing the dictionaries it does not change."""

    __slots__ = (
        "assumed",
        "cache",
        "defs",
        "facts",
        "held_false",
        "held_true",
        "machine",
        "unreachable",
        "values",
    )

    def __init__(
        self,
        values: dict[Key, Value] | None = None,
        facts: dict[Hashable, bool] | None = None,
        held_false: dict[Hashable, float] | None = None,
        held_true: dict[Hashable, float] | None = None,
        defs: dict[Key, tuple[n.Expr, frozenset[Key]]] | None = None,
        machine: int | None = None,
        unreachable: bool = False,
    ) -> None:
        self.values: dict[Key, Value] = values if values is not None else {}  # narrowed values
        self.facts: dict[Hashable, bool] = facts if facts is not None else {}  # truths, by shape
        # `c for D` known false from this D on, and true up to this D
        self.held_false: dict[Hashable, float] = held_false if held_false is not None else {}
        self.held_true: dict[Hashable, float] = held_true if held_true is not None else {}
        # name -> the expression last assigned to it in this scan and the names it reads: a name
        # set from others is worth their values as narrowed later on the way
        self.defs: dict[Key, tuple[n.Expr, frozenset[Key]]] = defs if defs is not None else {}
        self.machine = machine  # id() of the machine whose state this is, for `time_in_state`
        self.unreachable = unreachable
        self.cache: dict[int, Value] = {}  # id(expression) -> its value here (an Env never changes)
        self.assumed: dict[tuple[int, bool], Env] = {}  # (id(condition), truth) -> what follows here

    def replace(self, **changes: object) -> Env:
        copy = Env.__new__(Env)
        copy.values = self.values
        copy.facts = self.facts
        copy.held_false = self.held_false
        copy.held_true = self.held_true
        copy.defs = self.defs
        copy.machine = self.machine
        copy.unreachable = self.unreachable
        copy.cache = {}
        copy.assumed = {}
        for slot, value in changes.items():
            setattr(copy, slot, value)
        return copy

    def with_value(self, key: Key, value: Value) -> Env:
        values = dict(self.values)
        values[key] = value
        return self.replace(values=values, unreachable=self.unreachable or d.is_empty(value))

    def assigned(self, key: Key, value: Value, expr: n.Expr, reads: frozenset[Key]) -> Env:
        """After `key = expr`: the name has the value assigned, what was known of conditions may
        no longer hold, and what was set from the name's old value no longer follows it."""
        values = dict(self.values)
        values[key] = value
        defs = {k: v for k, v in self.defs.items() if key not in v[1] and k != key}
        if key not in reads:
            defs[key] = (expr, reads)
        return self.replace(values=values, defs=defs, facts={}, held_false={}, held_true={})

    def meet(self, other: Env) -> Env:
        """Both at once: where two writers' conditions could hold in the same scan."""
        values = dict(self.values)
        unreachable = self.unreachable or other.unreachable
        for key, value in other.values.items():
            met = d.meet(values[key], value) if key in values else value
            unreachable = unreachable or d.is_empty(met)
            values[key] = met
        facts = dict(self.facts)
        for fact, truth in other.facts.items():
            unreachable = unreachable or facts.get(fact, truth) != truth
            facts[fact] = truth
        defs = {**self.defs, **other.defs}
        return self.replace(values=values, facts=facts, defs=defs, unreachable=unreachable)


UNREACHABLE = Env(unreachable=True)


def shape(expr: n.Expr, resolved: dict[int, Symbol]) -> Hashable:
    """The structure of an expression with its names resolved: two conditions written alike on
    the same names have the same shape."""
    if isinstance(expr, n.Paren):
        return shape(expr.inner, resolved)
    if isinstance(expr, n.Name):
        symbol = resolved.get(id(expr))
        return ("name", id(symbol)) if symbol is not None else ("member", expr.name)
    if isinstance(expr, n.Number):
        return ("number", expr.value)
    if isinstance(expr, n.Quantity):
        return ("quantity", expr.value, expr.unit)
    if isinstance(expr, n.BoolLiteral):
        return ("bool", expr.value)
    if isinstance(expr, n.Member):
        return ("of", shape(expr.owner, resolved), expr.name.text)
    if isinstance(expr, n.Call):
        return ("call", expr.function.text, *(shape(a, resolved) for a in expr.args))
    if isinstance(expr, n.Unary):
        return (expr.op, shape(expr.operand, resolved))
    if isinstance(expr, (n.Binary, n.Compare)):
        return (expr.op, shape(expr.left, resolved), shape(expr.right, resolved))
    if isinstance(expr, n.HeldFor):
        return ("for", shape(expr.condition, resolved), shape(expr.duration, resolved))
    return ("?", id(expr))


def strip(expr: n.Expr) -> n.Expr:
    while isinstance(expr, n.Paren):
        expr = expr.inner
    return expr


def literal(expr: n.Expr) -> float | None:
    """The SI value of a number or quantity literal."""
    expr = strip(expr)
    if isinstance(expr, n.Number):
        return expr.value
    if isinstance(expr, n.Quantity):
        unit = units.lookup(expr.unit)
        return unit.to_si(expr.value) if unit is not None else None
    return None


def value_of_type(type_: Type | None) -> Value:
    """What a value of a type can be when nothing else is known of it."""
    if isinstance(type_, BoolType):
        return d.EITHER
    if isinstance(type_, EnumType):
        return Choice(frozenset(type_.members))
    if type_ is not None and is_numeric(type_):
        return d.UNKNOWN
    return None


_MISSING = object()

# What an expression is, for `Evaluator._classify`.
_LITERAL, _NAME, _OWN_TIME, _OTHER = range(4)


class Evaluator:
    """Values of expressions, given the value of every name where nothing narrows it."""

    def __init__(
        self,
        package: CheckedPackage,
        base: dict[Key, Value],
        call_value: Callable[[Symbol, Value, str | None], Value],
    ) -> None:
        self.package = package
        self.resolved = package.resolved
        self.types = package.expr_types
        self.base = base
        # The value of a curve (column None) or a table's column at a key with this value.
        self.call_value = call_value
        self._shapes: dict[int, Hashable] = {}
        self._kinds: dict[int, tuple[int, object, n.Expr]] = {}
        # With `precise`, the right of `a and b` is evaluated where `a` holds (and of `a or b`
        # where it does not): exact for conditions on one value, and worth its cost where a
        # check reads the result.
        self.precise = True

    def reads(self, expr: n.Expr, env: Env) -> frozenset[Key]:
        """The keys of the names an expression reads."""
        found: set[Key] = set()
        for name in n.names_read(expr):
            key = self.key(name, env)
            if key is not None:
                found.add(key)
        return frozenset(found)

    def shape(self, expr: n.Expr) -> Hashable:
        found = self._shapes.get(id(expr))
        if found is None:
            found = self._shapes[id(expr)] = shape(expr, self.resolved)
        return found

    # ------------------------------------------------------------------ names
    def _classify(self, expr: n.Expr) -> tuple[int, object, n.Expr]:
        """What an expression is, once: (kind, what it needs, the expression without parentheses)."""
        node = strip(expr)
        if isinstance(node, (n.Number, n.Quantity)):
            x = literal(node)
            return _LITERAL, (d.num(x) if x is not None else None), node
        if isinstance(node, n.BoolLiteral):
            return _LITERAL, d.truth(node.value), node
        if isinstance(node, n.Name):
            symbol = self.resolved.get(id(node))
            if symbol is not None:
                return _NAME, id(symbol), node
            if node.name == TIME_IN_STATE:
                return _OWN_TIME, None, node
            return _LITERAL, Choice(frozenset({node.name})), node  # a member or a state, bare
        if isinstance(node, n.Member) and node.name.text == TIME_IN_STATE and isinstance(node.owner, n.Name):
            owner = self.resolved.get(id(node.owner)) or self._symbol_named(node.owner)
            if owner is not None and owner.kind == "machine":
                return _NAME, ("time_in_state", id(owner)), node
        return _OTHER, None, node

    def _info(self, expr: n.Expr) -> tuple[int, object, n.Expr]:
        found = self._kinds.get(id(expr))
        if found is None:
            found = self._kinds[id(expr)] = self._classify(expr)
        return found

    def key(self, expr: n.Expr, env: Env) -> Key | None:
        """The key of a value a condition can narrow: a declared name, or a `time_in_state`."""
        kind, payload, _ = self._info(expr)
        if kind == _NAME:
            return payload
        if kind == _OWN_TIME and env.machine is not None:
            return ("time_in_state", env.machine)
        return None

    def _symbol_named(self, expr: n.Name) -> Symbol | None:
        for scope in (*self.package.program_scopes.values(), self.package.package_scope):
            symbol = scope.symbols.get(expr.name)
            if symbol is not None and symbol.kind == "machine" and isinstance(symbol.node, n.Machine):
                return symbol
        return None

    def base_value(self, key: Key, type_: Type | None) -> Value:
        if key in self.base:
            return self.base[key]
        if isinstance(key, tuple):  # a time in state
            return Num(0.0, d.INF)
        return value_of_type(type_)

    # ------------------------------------------------------------------ values
    def value(self, expr: n.Expr, env: Env) -> Value:
        """The value of an expression at a point where `env` is known."""
        kind, payload, expr = self._kinds.get(id(expr)) or self._info(expr)
        if kind == _LITERAL:
            return payload  # type: ignore[return-value]
        cache = env.cache
        found = cache.get(id(expr), _MISSING)
        if found is _MISSING:
            found = cache[id(expr)] = self._value(kind, payload, expr, env)
        return found  # type: ignore[return-value]

    def _value(self, kind: int, payload: object, expr: n.Expr, env: Env) -> Value:
        if env.facts:
            fact = env.facts.get(self.shape(expr))
            if fact is not None:
                return d.truth(fact)
        if kind == _NAME:
            key: Key | None = payload
        elif kind == _OWN_TIME and env.machine is not None:
            key = ("time_in_state", env.machine)
        else:
            key = None
        if key is not None:
            found = env.values[key] if key in env.values else self.base_value(key, self.types.get(id(expr)))
            if key in env.defs:
                definition = env.defs[key][0]
                without = env.replace(defs={k: v for k, v in env.defs.items() if k != key})
                found = d.meet(found, self.value(definition, without))
            return found
        if kind == _OWN_TIME:
            return Num(0.0, d.INF)
        if isinstance(expr, n.Member):
            return self._member(expr, env)
        if isinstance(expr, n.Unary):
            operand = self.value(expr.operand, env)
            if expr.op == "not":
                return d.negate(operand) if isinstance(operand, Choice) else d.EITHER
            return -operand if isinstance(operand, Num) else None
        if isinstance(expr, n.Binary):
            return self._binary(expr, env)
        if isinstance(expr, n.Compare):
            return d.compare(expr.op, self.value(expr.left, env), self.value(expr.right, env))
        if isinstance(expr, n.HeldFor):
            return self._held_for(expr, env)
        if isinstance(expr, n.Call):
            return self._call(expr, env)
        return None

    def _member(self, expr: n.Member, env: Env) -> Value:
        owner = strip(expr.owner)
        if isinstance(owner, n.Call):
            symbol = self.resolved.get(id(owner))
            if symbol is not None and symbol.kind == "table" and owner.args:
                return self.call_value(symbol, self.value(owner.args[0], env), expr.name.text)
            return None
        return Choice(frozenset({expr.name.text}))  # `Enum.Member`, `machine.State`

    def _binary(self, expr: n.Binary, env: Env) -> Value:
        if expr.op in ("and", "or"):
            left = self.value(expr.left, env)
            wanted = expr.op == "and"
            if isinstance(left, Choice) and not d.can_be(left, wanted):
                return left  # `false and x`, `true or x`
            where = self.assume(expr.left, wanted, env) if self.precise else env
            right = self.value(expr.right, where)
            if not isinstance(left, Choice) or not isinstance(right, Choice):
                return d.EITHER
            if wanted:
                results = {a and b for a in left.values for b in right.values}
            else:
                results = {a or b for a in left.values for b in right.values}
            return Choice(frozenset(bool(r) for r in results))
        left_num = self.value(expr.left, env)
        right_num = self.value(expr.right, env)
        if not isinstance(left_num, Num) or not isinstance(right_num, Num):
            return None
        if expr.op == "+":
            return left_num + right_num
        if expr.op == "-":
            return left_num - right_num
        if expr.op == "*":
            return left_num * right_num
        quotient = left_num.divided_by(right_num)
        return quotient if quotient is not d.UNKNOWN else quotient.hull(d.num(0.0))

    def _held_for(self, expr: n.HeldFor, env: Env) -> Value:
        condition = self.value(expr.condition, env)
        if isinstance(condition, Choice) and True not in condition.values:
            return d.FALSE
        duration = self.value(expr.duration, env)
        if isinstance(duration, Num):
            timed = self.shape(expr.condition)
            if timed in env.held_false and duration.low >= env.held_false[timed]:
                return d.FALSE
            if timed in env.held_true and duration.high <= env.held_true[timed]:
                return d.TRUE
        return d.EITHER

    def _call(self, expr: n.Call, env: Env) -> Value:
        name = expr.function.text
        symbol = self.resolved.get(id(expr))
        if symbol is not None and symbol.kind == "curve" and expr.args:
            return self.call_value(symbol, self.value(expr.args[0], env), None)
        args = [self.value(a, env) for a in expr.args]
        if name in ("rising", "falling"):
            condition = args[0] if args else None
            if isinstance(condition, Choice) and condition.single is not None:
                return d.FALSE  # a condition that never changes has no edge
            return d.EITHER
        if name == "time_since":
            return Num(0.0, NEVER_SINCE)
        if not args or not all(isinstance(a, Num) for a in args):
            return None
        ranges = [a for a in args if isinstance(a, Num)]
        if name == "abs":
            return ranges[0].absolute()
        if name == "min":
            return Num(min(r.low for r in ranges), min(r.high for r in ranges))
        if name == "max":
            return Num(max(r.low for r in ranges), max(r.high for r in ranges))
        if name == "clamp" and len(ranges) == 3:
            x, low, high = ranges
            return Num(min(max(x.low, low.low), high.high), max(min(x.high, high.high), low.low))
        return None

    # ------------------------------------------------------------------ conditions
    def can_hold(self, condition: n.Expr, env: Env, wanted: bool = True) -> bool:
        """Whether the condition can have the truth `wanted` at a point where `env` is known."""
        if env.unreachable:
            return False
        if not d.can_be(self.value(condition, env), wanted):
            return False
        return not self.assume(condition, wanted, env).unreachable

    def assume(self, condition: n.Expr, wanted: bool, env: Env) -> Env:
        """What is known where the condition has the truth `wanted`."""
        if env.unreachable:
            return env
        found = env.assumed.get((id(condition), wanted))
        if found is None:
            found = env.assumed[(id(condition), wanted)] = self._assume(condition, wanted, env)
        return found

    def _assume(self, condition: n.Expr, wanted: bool, env: Env) -> Env:
        expr = strip(condition)
        current = self.value(expr, env)
        if isinstance(current, Choice) and not d.can_be(current, wanted):
            return UNREACHABLE
        if isinstance(expr, n.Unary) and expr.op == "not":
            return self.assume(expr.operand, not wanted, env)
        if isinstance(expr, n.Binary) and expr.op in ("and", "or"):
            both = (expr.op == "and") == wanted
            if both:  # `a and b` true, `a or b` false: both have the truth
                return self.assume(expr.right, wanted, self.assume(expr.left, wanted, env))
            return self._either(expr, wanted, env)
        if isinstance(expr, n.Compare):
            env = self._narrow_comparison(expr, wanted, env)
        elif isinstance(expr, n.HeldFor):
            env = self._assume_held(expr, wanted, env)
        key = self.key(expr, env)
        if key is not None:
            narrowed = env.with_value(key, d.meet(self.value(expr, env), d.truth(wanted)))
            if key in env.defs:  # `ok = a > b` then `if ok`: what holds of `a > b`
                definition = env.defs[key][0]
                without = narrowed.replace(defs={k: v for k, v in env.defs.items() if k != key})
                inner = self.assume(definition, wanted, without)
                return inner.replace(defs=env.defs) if not inner.unreachable else inner
            return narrowed
        if env.unreachable:
            return env
        facts = dict(env.facts)
        facts[self.shape(expr)] = wanted
        return env.replace(facts=facts)

    def _either(self, expr: n.Binary, wanted: bool, env: Env) -> Env:
        """`a and b` false or `a or b` true: one of the two has the truth; what both ways share."""
        first = self.assume(expr.left, wanted, env)
        second = self.assume(expr.right, wanted, self.assume(expr.left, not wanted, env))
        if first.unreachable:
            return second
        if second.unreachable:
            return first
        values = {
            key: d.hull(first.values[key], second.values[key])
            for key in first.values.keys() & second.values.keys()
        }
        facts = {k: v for k, v in first.facts.items() if second.facts.get(k) == v}
        facts[self.shape(expr)] = wanted
        return env.replace(values=values, facts=facts)

    def _narrow_comparison(self, expr: n.Compare, wanted: bool, env: Env) -> Env:
        op = expr.op if wanted else d.NEGATED[expr.op]
        for side, other, side_op in ((expr.left, expr.right, op), (expr.right, expr.left, d.MIRRORED[op])):
            key = self.key(side, env)
            if key is None:
                continue
            value = self.value(side, env)
            bound = self.value(other, env)
            if isinstance(value, Num) and isinstance(bound, Num) and not bound.empty:
                env = env.with_value(key, d.narrowed(side_op, value, bound))
            elif isinstance(value, Choice) and isinstance(bound, Choice):
                if side_op == "==":
                    env = env.with_value(key, value.meet(bound))
                elif side_op == "!=" and bound.single is not None:
                    env = env.with_value(key, Choice(value.values - bound.values))
            if env.unreachable:
                return env
        return env

    def _assume_held(self, expr: n.HeldFor, wanted: bool, env: Env) -> Env:
        duration = self.value(expr.duration, env)
        timed = self.shape(expr.condition)
        if wanted:
            env = self.assume(expr.condition, True, env)
            if isinstance(duration, Num) and not env.unreachable:
                held = dict(env.held_true)
                held[timed] = max(held.get(timed, -d.INF), duration.low)
                env = env.replace(held_true=held)
        elif isinstance(duration, Num):
            held = dict(env.held_false)
            held[timed] = min(held.get(timed, d.INF), duration.high)
            env = env.replace(held_false=held)
        return env


def finite(x: float) -> bool:
    return math.isfinite(x)
