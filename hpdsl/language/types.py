"""Types of the rules language: booleans, integers, quantities with units, enumerations.

A real number is a quantity whose unit is the plain number; a duration is a quantity in
seconds. `ERROR` is the type of anything that already failed to check: it is compatible
with everything, so one mistake is reported once and does not cascade.
"""

from __future__ import annotations

from dataclasses import dataclass

from hpdsl.language import units
from hpdsl.language.units import Unit


def _known(symbol: str) -> Unit:
    unit = units.lookup(symbol)
    assert unit is not None, symbol
    return unit


SECOND = _known("s")


@dataclass(frozen=True)
class Type:
    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class BoolType(Type):
    def describe(self) -> str:
        return "a boolean"


@dataclass(frozen=True)
class IntType(Type):
    def describe(self) -> str:
        return "an integer"


@dataclass(frozen=True)
class QuantityType(Type):
    """A real number with a unit; `units.NUMBER` for a plain real."""

    unit: Unit

    def describe(self) -> str:
        if self.unit == units.NUMBER:
            return "a number"
        return f"{self.unit.describe()} ({self.unit.symbol})"

    @property
    def is_time(self) -> bool:
        return self.unit.dimension == SECOND.dimension


@dataclass(frozen=True)
class EnumType(Type):
    name: str
    members: tuple[str, ...]

    def describe(self) -> str:
        return f"`{self.name}`"


@dataclass(frozen=True)
class RowType(Type):
    """The row a table call returns; only its columns (`table(key).column`) are values."""

    table: str
    columns: tuple[tuple[str, Type], ...]

    def describe(self) -> str:
        return f"a row of table `{self.table}`"

    def column(self, name: str) -> Type | None:
        for column, type_ in self.columns:
            if column == name:
                return type_
        return None


@dataclass(frozen=True)
class ErrorType(Type):
    def describe(self) -> str:
        return "an invalid value"


BOOL = BoolType()
INT = IntType()
REAL = QuantityType(units.NUMBER)
DURATION = QuantityType(SECOND)
ERROR = ErrorType()

BUILTIN_TYPES: dict[str, Type] = {"bool": BOOL, "int": INT, "real": REAL, "duration": DURATION}


def is_numeric(type_: Type) -> bool:
    return isinstance(type_, (IntType, QuantityType))


def unit_of(type_: Type) -> Unit:
    """The unit of a numeric type (an integer is a plain number)."""
    if isinstance(type_, QuantityType):
        return type_.unit
    return units.NUMBER
