"""Values written outside the rules (scenarios, site parameter files), and their conversion.

A scenario writes `set outdoor_temp = 68F` and a site file `cooling_above = "22 C"`; both
mean a value of a declared point, held in the unit the rules declare it in. `convert` does
that one conversion for both, with the reasons a value does not fit in the engineer's words.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from hpdsl.base.source import Span, span_field
from hpdsl.language import units as units_

ValueKind = Literal["quantity", "number", "bool", "member", "fault"]


@dataclass(frozen=True)
class Value:
    """A value as written: a quantity (21C), a plain number, true/false, a member name, or `fault`."""

    kind: ValueKind
    text: str
    number: float = 0.0
    unit: str = ""
    member: str = ""
    span: Span = span_field()


@dataclass(frozen=True)
class Target:
    """What a value must become: the kind of the point, its unit, the members of its enumeration."""

    kind: str  # bool, int, real, enum
    unit: str = ""
    members: tuple[str, ...] = ()
    enum: str = ""

    def describe(self) -> str:
        if self.kind == "enum":
            return f"a member of {self.enum} ({', '.join(self.members)})"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "int":
            return "a whole number"
        unit = units_.lookup(self.unit) if self.unit else None
        if unit is None:
            return "a number"
        return f"a {unit.describe()} ({units_.format_quantity(21.0 if unit.absolute else 5.0, unit)})"


class ValueProblem(Exception):
    """A value that does not fit its target; `hint` says how to write it."""

    def __init__(self, problem: str, hint: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


_TEXT_QUANTITY = re.compile(r"(-?)(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)[ \t]*(\S+)")
_TEXT_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def from_text(text: str, span: Span) -> Value:
    """A value written in a string (a site file's "22 C", "TimeBased", "true")."""
    stripped = text.strip()
    if stripped in ("true", "false"):
        return Value("bool", stripped, 1.0 if stripped == "true" else 0.0, span=span)
    if _TEXT_NUMBER.fullmatch(stripped):
        return Value("number", stripped, float(stripped), span=span)
    match = _TEXT_QUANTITY.fullmatch(stripped)
    if match:
        sign, number, unit = match.groups()
        value = float(number) * (-1.0 if sign else 1.0)
        return Value("quantity", stripped, value, unit, span=span)
    return Value("member", stripped, member=stripped, span=span)


def convert(value: Value, target: Target) -> bool | int | float | str:
    """The value in the target's type and unit (a member by name); ValueProblem if it does not fit."""
    if value.kind == "fault":
        raise ValueProblem("`fault` can only be set on an input", "expect a value instead")
    if target.kind == "bool":
        if value.kind != "bool":
            raise ValueProblem(f"`{value.text}` is not true or false", "write `true` or `false`")
        return value.number != 0.0
    if target.kind == "enum":
        if value.kind != "member" or value.member not in target.members:
            raise ValueProblem(
                f"`{value.text}` is not a member of {target.enum}",
                "write one of " + ", ".join(target.members),
            )
        return value.member
    if value.kind in ("bool", "member"):
        raise ValueProblem(f"`{value.text}` is not a number; expected {target.describe()}")
    if target.kind == "int":
        if value.kind != "number" or not math.isfinite(value.number) or value.number != int(value.number):
            raise ValueProblem(f"`{value.text}` is not a whole number", "write it without a unit: `2`")
        return int(value.number)
    return _in_unit(value, target.unit, difference=False)


def range_problem(
    value: bool | int | float | str, low: float | None, high: float | None, unit: str
) -> str | None:
    """Why a value lies outside a declared range ("35C is outside its range 18C .. 30C"), or None."""
    if isinstance(value, bool | str):
        return None
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    shown_unit = units_.lookup(unit) if unit else units_.NUMBER

    def shown(number: float | None) -> str:
        return "" if number is None else units_.format_quantity(number, shown_unit or units_.NUMBER)

    return f"{shown(value)} is outside its range {shown(low)} .. {shown(high)}"


def convert_tolerance(value: Value, target: Target) -> float:
    """A tolerance in the target's unit; for a temperature it is a difference (0.5 K)."""
    if value.kind not in ("quantity", "number") or value.number < 0:
        raise ValueProblem(f"tolerance `{value.text}` is not a positive amount", "write `± 0.5 K` or `± 0.1`")
    if target.kind not in ("int", "real"):
        raise ValueProblem(f"a tolerance applies to numbers, not to {target.describe()}")
    return _in_unit(value, target.unit, difference=True)


def _in_unit(value: Value, symbol: str, *, difference: bool) -> float:
    unit = units_.lookup(symbol) if symbol else units_.NUMBER
    if unit is None:  # a unit the rules accepted always resolves
        raise ValueProblem(f"unknown unit `{symbol}`")
    if difference:
        unit = units_.difference_unit(unit)
    if value.kind == "number":
        if unit.symbol:
            raise ValueProblem(
                f"`{value.text}` has no unit, but {unit.describe()} is expected",
                f"write `{value.text}{'' if unit.absolute else ' '}{unit.symbol}`",
            )
        return value.number
    given = units_.lookup(value.unit)
    if given is None:
        suggestions = units_.suggest(value.unit)
        raise ValueProblem(
            f"unknown unit `{value.unit}`", f"did you mean {suggestions[0]}?" if suggestions else None
        )
    try:
        a, b = given.factor_to(unit)
    except units_.UnitError as exc:
        expected = "a temperature difference" if difference and unit.dimension == given.dimension else None
        raise ValueProblem(
            exc.message, f"{expected} is expected here: write `0.5 K`" if expected else None
        ) from None
    return a * value.number + b
