"""What the analysis of values knows of one value: a range of numbers, or a set of booleans or
enumeration members.

Every number is in SI units, as `consteval` holds them (`21C` is 294.15, `10 min` is 600,
`60 %` is 0.6). A range is closed, and either end may be infinite: `Num(-inf, inf)` knows
nothing. The arithmetic is sound: the range of `a + b` holds every sum of a value of `a`
and a value of `b`, so whatever the analysis proves of a range holds of every value.

May import: the standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

INF = math.inf


@dataclass(frozen=True)
class Num:
    """The numbers from `low` to `high`, both included; empty when `low > high`."""

    low: float
    high: float

    @property
    def empty(self) -> bool:
        return self.low > self.high

    @property
    def known(self) -> bool:
        """True when at least one end is finite: something bounds the value."""
        return math.isfinite(self.low) or math.isfinite(self.high)

    @property
    def point(self) -> bool:
        return self.low == self.high

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def hull(self, other: Num) -> Num:
        if self.empty:
            return other
        if other.empty:
            return self
        return Num(min(self.low, other.low), max(self.high, other.high))

    def meet(self, other: Num) -> Num:
        return Num(max(self.low, other.low), min(self.high, other.high))

    def within(self, other: Num) -> bool:
        return other.low <= self.low and self.high <= other.high

    def __add__(self, other: Num) -> Num:
        return Num(_sum(self.low, other.low, -INF), _sum(self.high, other.high, INF))

    def __neg__(self) -> Num:
        return Num(-self.high, -self.low)

    def __sub__(self, other: Num) -> Num:
        return self + (-other)

    def __mul__(self, other: Num) -> Num:
        products = [_product(a, b) for a in (self.low, self.high) for b in (other.low, other.high)]
        return Num(min(products), max(products))

    def divided_by(self, other: Num) -> Num:
        """The quotient; where the divisor can be 0 the result can be anything (and a controller
        gives 0 for a division by zero)."""
        if other.contains(0.0):
            return UNKNOWN
        return self * Num(1.0 / other.high, 1.0 / other.low)

    def absolute(self) -> Num:
        if self.low >= 0:
            return self
        if self.high <= 0:
            return -self
        return Num(0.0, max(-self.low, self.high))


def _sum(a: float, b: float, nan_as: float) -> float:
    total = a + b
    return nan_as if math.isnan(total) else total


def _product(a: float, b: float) -> float:
    result = a * b
    return 0.0 if math.isnan(result) else result  # 0 x inf: the 0 is exact


UNKNOWN = Num(-INF, INF)
NOTHING = Num(INF, -INF)


def num(x: float) -> Num:
    return Num(x, x)


def hull_of(ranges: Iterable[Num]) -> Num:
    result = NOTHING
    for r in ranges:
        result = result.hull(r)
    return result


@dataclass(frozen=True)
class Choice:
    """A value from a finite set: booleans, or the members of an enumeration or machine."""

    values: frozenset[bool | str]

    @property
    def empty(self) -> bool:
        return not self.values

    def hull(self, other: Choice) -> Choice:
        return Choice(self.values | other.values)

    def meet(self, other: Choice) -> Choice:
        return Choice(self.values & other.values)

    @property
    def single(self) -> bool | str | None:
        if len(self.values) == 1:
            return next(iter(self.values))
        return None


TRUE = Choice(frozenset({True}))
FALSE = Choice(frozenset({False}))
EITHER = Choice(frozenset({True, False}))


def truth(value: bool) -> Choice:
    return TRUE if value else FALSE


# A value: a range, a choice, or None when the analysis knows nothing of it (a table row).
Value = Num | Choice | None


def hull(a: Value, b: Value) -> Value:
    if isinstance(a, Num) and isinstance(b, Num):
        return a.hull(b)
    if isinstance(a, Choice) and isinstance(b, Choice):
        return a.hull(b)
    return None


def meet(a: Value, b: Value) -> Value:
    """What both say; `a` when they are of different kinds (one of them knows nothing)."""
    if isinstance(a, Num) and isinstance(b, Num):
        return a.meet(b)
    if isinstance(a, Choice) and isinstance(b, Choice):
        return a.meet(b)
    return b if a is None else a


def is_empty(value: Value) -> bool:
    return value is not None and value.empty


def can_be(value: Value, wanted: bool) -> bool:
    """Whether a condition with this value can be `wanted`."""
    return not isinstance(value, Choice) or wanted in value.values


# --------------------------------------------------------------------- comparisons
def compare(op: str, left: Value, right: Value) -> Choice:
    """The truth of `left op right` for every pair of values the two can take."""
    if isinstance(left, Num) and isinstance(right, Num):
        if left.empty or right.empty:
            return EITHER
        return _compare_ranges(op, left, right)
    if isinstance(left, Choice) and isinstance(right, Choice) and op in ("==", "!="):
        if not left.values & right.values:
            equal = FALSE
        elif left.single is not None and left.values == right.values:
            equal = TRUE
        else:
            equal = EITHER
        return equal if op == "==" else negate(equal)
    return EITHER


def _compare_ranges(op: str, a: Num, b: Num) -> Choice:
    if op == "<":
        return _decided(a.high < b.low, a.low >= b.high)
    if op == "<=":
        return _decided(a.high <= b.low, a.low > b.high)
    if op == ">":
        return _decided(a.low > b.high, a.high <= b.low)
    if op == ">=":
        return _decided(a.low >= b.high, a.high < b.low)
    equal = _decided(a.point and b.point and a.low == b.low, a.high < b.low or b.high < a.low)
    return equal if op == "==" else negate(equal)


def _decided(always: bool, never: bool) -> Choice:
    if always:
        return TRUE
    if never:
        return FALSE
    return EITHER


def negate(value: Choice) -> Choice:
    return Choice(frozenset(not v for v in value.values if isinstance(v, bool)))


NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def narrowed(op: str, value: Num, bound: Num) -> Num:
    """The values of `value` for which `value op bound` can hold."""
    if op == "<":
        return value.meet(Num(-INF, math.nextafter(bound.high, -INF)))
    if op == "<=":
        return value.meet(Num(-INF, bound.high))
    if op == ">":
        return value.meet(Num(math.nextafter(bound.low, INF), INF))
    if op == ">=":
        return value.meet(Num(bound.low, INF))
    if op == "==":
        return value.meet(bound)
    return value
