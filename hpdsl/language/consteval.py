"""Evaluate expressions known before the first scan: literals, constants, parameter defaults.

The checker uses this to compare thresholds, table keys, curve points and defaults with
declared ranges. Numbers are held in SI units, so `21C - 15C` is 6 (kelvin) and `90 min`
is 5400 (seconds); the unit is kept for showing the value back to the engineer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.units import Unit, UnitError


@dataclass(frozen=True)
class Const:
    """A value known at check time: a number in SI units with its unit, a boolean or an enum member."""

    value: float | bool | str
    unit: Unit | None = None

    @property
    def number(self) -> float | None:
        if isinstance(self.value, (bool, str)):
            return None
        return self.value

    def show(self) -> str:
        """The value as an engineer writes it: `21C`, `6 K`, `90 min`, `Heating`."""
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        if isinstance(self.value, str):
            return self.value
        unit = self.unit or units.NUMBER
        return units.format_quantity(unit.from_si(self.value), unit)


Resolver = Callable[[str], "Const | None"]


def evaluate(expr: n.Expr, resolve: Resolver) -> Const | None:
    """The value of a constant expression, or None when it reads a live value or fails."""
    try:
        return _eval(expr, resolve)
    except (UnitError, ZeroDivisionError, OverflowError, ValueError):
        return None


def _eval(expr: n.Expr, resolve: Resolver) -> Const | None:
    if isinstance(expr, n.Paren):
        return _eval(expr.inner, resolve)
    if isinstance(expr, n.Number):
        return Const(expr.value, units.NUMBER)
    if isinstance(expr, n.Quantity):
        unit = units.lookup(expr.unit)
        return None if unit is None else Const(unit.to_si(expr.value), unit)
    if isinstance(expr, n.BoolLiteral):
        return Const(expr.value)
    if isinstance(expr, n.Name):
        return resolve(expr.name)
    if isinstance(expr, n.Member) and isinstance(expr.owner, n.Name):
        return resolve(f"{expr.owner.name}.{expr.name.text}")
    if isinstance(expr, n.Unary):
        operand = _eval(expr.operand, resolve)
        if operand is None:
            return None
        if expr.op == "not":
            return Const(not operand.value) if isinstance(operand.value, bool) else None
        number = operand.number
        if number is None or (operand.unit is not None and operand.unit.absolute):
            return None
        return Const(-number, operand.unit)
    if isinstance(expr, n.Binary):
        return _binary(expr, resolve)
    if isinstance(expr, n.Compare):
        return _compare(expr, resolve)
    if isinstance(expr, n.Call):
        return _call(expr, resolve)
    return None


def _binary(expr: n.Binary, resolve: Resolver) -> Const | None:
    left = _eval(expr.left, resolve)
    right = _eval(expr.right, resolve)
    if left is None or right is None:
        return None
    if expr.op in ("and", "or"):
        if isinstance(left.value, bool) and isinstance(right.value, bool):
            return Const(left.value and right.value if expr.op == "and" else left.value or right.value)
        return None
    a, b = left.number, right.number
    if a is None or b is None:
        return None
    ua, ub = left.unit or units.NUMBER, right.unit or units.NUMBER
    if expr.op == "+":
        return Const(a + b, units.add(ua, ub))
    if expr.op == "-":
        return Const(a - b, units.subtract(ua, ub))
    if expr.op == "*":
        return Const(a * b, units.multiply(ua, ub))
    if expr.op == "/":
        result = a / b
        if not math.isfinite(result):
            return None
        return Const(result, units.divide(ua, ub))
    return None


def _compare(expr: n.Compare, resolve: Resolver) -> Const | None:
    left = _eval(expr.left, resolve)
    right = _eval(expr.right, resolve)
    if left is None or right is None:
        return None
    if expr.op in ("==", "!="):
        equal = left.value == right.value
        return Const(equal if expr.op == "==" else not equal)
    a, b = left.number, right.number
    if a is None or b is None:
        return None
    result = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[expr.op]
    return Const(result)


def _call(expr: n.Call, resolve: Resolver) -> Const | None:
    name = expr.function.text
    args = [_eval(a, resolve) for a in expr.args]
    if any(a is None or a.number is None for a in args) or not args:
        return None
    values = [a.number for a in args if a is not None and a.number is not None]
    unit = args[0].unit if args[0] is not None else None
    if name == "min" and len(values) >= 2:
        return Const(min(values), unit)
    if name == "max" and len(values) >= 2:
        return Const(max(values), unit)
    if name == "clamp" and len(values) == 3:
        return Const(min(max(values[0], values[1]), values[2]), unit)
    if name == "abs" and len(values) == 1:
        return Const(abs(values[0]), unit)
    return None
