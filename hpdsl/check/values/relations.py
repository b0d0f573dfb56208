"""How far apart two thresholds can be: linear forms of parameters, bounded by the parameters'
ranges and by the `require`s of their program.

A threshold made of parameters, constants and literals (`cooling_above`, `setpoint - 2 K`,
`1.2 * limit`) is a linear form: a constant plus parameters times coefficients. The gap
between two thresholds is the difference of their forms. Its least and greatest values
follow from the ranges, tightened by every `require` that bounds the difference of two
parameters (`cooling_above - heating_below >= 5 K`), through chains of them.

May import: hpdsl.language, hpdsl.check.scope, hpdsl.check.values.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

from hpdsl.check.scope import Scope, Symbol
from hpdsl.check.values import domain as d
from hpdsl.check.values.domain import Num
from hpdsl.check.values.evaluate import literal, strip
from hpdsl.check.values.model import Model
from hpdsl.language import nodes as n


@dataclass(eq=False)
class Form:
    """`constant + sum(coefficient x parameter)`, parameters by id() of their symbol."""

    terms: tuple[tuple[int, float], ...]
    constant: float

    def __sub__(self, other: Form) -> Form:
        terms = dict(self.terms)
        for key, coefficient in other.terms:
            terms[key] = terms.get(key, 0.0) - coefficient
        # In the order the parameters are written: ids order nothing a reader should see.
        kept = tuple((k, c) for k, c in terms.items() if c != 0.0)
        return Form(kept, self.constant - other.constant)


def form(expr: n.Expr, model: Model) -> Form | None:
    """The linear form of a threshold, or None when it reads a live value or is not linear."""
    expr = strip(expr)
    x = literal(expr)
    if x is not None:
        return Form((), x)
    if isinstance(expr, n.Name):
        symbol = model.package.resolved.get(id(expr))
        if symbol is None:
            return None
        if symbol.kind == "parameter" and isinstance(model.base.get(id(symbol)), Num):
            return Form(((id(symbol), 1.0),), 0.0)
        value = model.base.get(id(symbol))
        if symbol.kind == "const" and isinstance(value, Num) and value.point:
            return Form((), value.low)
        return None
    if isinstance(expr, n.Unary) and expr.op == "-":
        inner = form(expr.operand, model)
        return None if inner is None else Form((), 0.0) - inner
    if isinstance(expr, n.Binary) and expr.op in ("+", "-", "*", "/"):
        left, right = form(expr.left, model), form(expr.right, model)
        if left is None or right is None:
            return None
        if expr.op == "+":
            return left - (Form((), 0.0) - right)
        if expr.op == "-":
            return left - right
        if expr.op == "*" and not right.terms:
            return _scaled(left, right.constant)
        if expr.op == "*" and not left.terms:
            return _scaled(right, left.constant)
        if expr.op == "/" and not right.terms and right.constant != 0.0:
            return _scaled(left, 1.0 / right.constant)
    return None


def _scaled(f: Form, factor: float) -> Form:
    return Form(tuple((k, c * factor) for k, c in f.terms if c * factor != 0.0), f.constant * factor)


class Relations:
    """The bounds the ranges and the `require`s of one program put on linear forms."""

    def __init__(self, model: Model, program: n.Program, scope: Scope) -> None:
        self.model = model
        self.scope = scope
        # (p, q) -> the greatest p - q can be, from the `require`s, closed under chaining
        self.upper: dict[tuple[int, int], float] = {}
        for item in program.items:
            if isinstance(item, n.Require):
                self._require(item.condition)
        self._close()

    def _require(self, condition: n.Expr) -> None:
        condition = strip(condition)
        if isinstance(condition, n.Binary) and condition.op == "and":
            self._require(condition.left)
            self._require(condition.right)
            return
        if not isinstance(condition, n.Compare) or condition.op in ("==", "!="):
            return
        left, right = form(condition.left, self.model), form(condition.right, self.model)
        if left is None or right is None:
            return
        # Every comparison as `f <= 0`; a strict one as `f <= the float just below 0`.
        f = left - right if condition.op in ("<", "<=") else right - left
        strict = condition.op in ("<", ">")
        if len(f.terms) == 2:
            (p, a), (q, b) = f.terms
            most = -f.constant
            if strict:
                most = math.nextafter(most, -d.INF)
            if a == 1.0 and b == -1.0:
                self._bound(p, q, most)
            elif a == -1.0 and b == 1.0:
                self._bound(q, p, most)

    def _bound(self, p: int, q: int, most: float) -> None:
        self.upper[(p, q)] = min(self.upper.get((p, q), d.INF), most)

    def _close(self) -> None:
        keys = sorted({k for pair in self.upper for k in pair})
        for k in keys:
            for i in keys:
                ik = self.upper.get((i, k))
                if ik is None:
                    continue
                for j in keys:
                    kj = self.upper.get((k, j))
                    if kj is not None and ik + kj < self.upper.get((i, j), d.INF):
                        self.upper[(i, j)] = ik + kj

    def range_of(self, f: Form) -> Num:
        """The least and greatest values of a form, for parameters in their ranges that keep
        every `require`."""
        total = Num(f.constant, f.constant)
        for key, coefficient in f.terms:
            value = self.model.base.get(key)
            if not isinstance(value, Num):
                return d.UNKNOWN
            total = total + value * d.num(coefficient)
        if len(f.terms) == 2:
            (p, a), (q, b) = f.terms
            if a == -b and abs(a) > 0:
                scale = abs(a)
                high_pq = self.upper.get((p, q))  # p - q <= high_pq
                high_qp = self.upper.get((q, p))  # q - p <= high_qp
                if a < 0:
                    high_pq, high_qp = high_qp, high_pq
                # f = constant + scale * (first - second), `first` the positive term
                low = -high_qp * scale + f.constant if high_qp is not None else -d.INF
                high = high_pq * scale + f.constant if high_pq is not None else d.INF
                total = total.meet(Num(low, high)) if not total.meet(Num(low, high)).empty else total
        return total

    def default_of(self, f: Form) -> float | None:
        """The value of a form with every parameter at its default."""
        total = f.constant
        for key, coefficient in f.terms:
            symbol = _symbol(self.scope, key)
            if symbol is None or not isinstance(symbol.node, n.Declaration) or symbol.node.initial is None:
                return None
            found = self.model.const(symbol.node.initial, self.scope)
            if found is None or found.number is None:
                return None
            total += coefficient * found.number
        return total

    def names(self, f: Form) -> list[str]:
        return [symbol.name for key, _ in f.terms if (symbol := _symbol(self.scope, key)) is not None]


def _symbol(scope: Scope, key: Hashable) -> Symbol | None:
    for symbol in scope.symbols.values():
        if id(symbol) == key:
            return symbol
    return None
