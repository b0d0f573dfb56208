"""Physical units: dimensional analysis for the checker, conversion factors for the generators.

This is our own small module rather than pint: pint's import and registry cost 0.4 s, more
than a whole check may take. It knows the units a heat-pump rule set needs and is exact:
every built-in unit carries its scale as a fraction, so C -> F comes out as exactly
(1.8, 32) and a generator can print a factor without float noise.

Temperatures follow HVAC practice rather than SI: ``C`` and ``F`` are absolute temperatures
(a point on a scale, with an offset), while ``K`` and ``delta_F`` are temperature
*differences* ("a dead band of 6 K"). The arithmetic rules reject exactly the mixtures that
have no physical meaning, which are the mistakes controls engineers actually make: adding two
absolute temperatures, scaling one, or comparing one with a difference.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Literal

# --- Dimensions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """Exponents of the base dimensions; two quantities combine only if these agree."""

    time: int = 0
    length: int = 0
    mass: int = 0
    current: int = 0
    temperature: int = 0
    money: int = 0

    def exponents(self) -> tuple[int, int, int, int, int, int]:
        """The exponents in field order: time, length, mass, current, temperature, money."""
        return (self.time, self.length, self.mass, self.current, self.temperature, self.money)

    def __mul__(self, other: Dimension) -> Dimension:
        """The dimension of a product."""
        return Dimension(*(a + b for a, b in zip(self.exponents(), other.exponents(), strict=True)))

    def __truediv__(self, other: Dimension) -> Dimension:
        """The dimension of a quotient."""
        return Dimension(*(a - b for a, b in zip(self.exponents(), other.exponents(), strict=True)))

    @property
    def is_dimensionless(self) -> bool:
        """True for ratios and plain numbers."""
        return not any(self.exponents())


DIMENSIONLESS = Dimension()
_TIME = Dimension(time=1)
_LENGTH = Dimension(length=1)
_MASS = Dimension(mass=1)
_CURRENT = Dimension(current=1)
_TEMPERATURE = Dimension(temperature=1)
_MONEY = Dimension(money=1)
_FREQUENCY = DIMENSIONLESS / _TIME
_VOLUME = Dimension(length=3)
_ENERGY = Dimension(mass=1, length=2, time=-2)
_POWER = _ENERGY / _TIME
_PRESSURE = Dimension(mass=1, length=-1, time=-2)
_VOLTAGE = _POWER / _CURRENT

# Words for messages. Ordered: when a dimension has no name of its own, describe() tries
# "A/B" and then "A*B" over this list, and the first hit should be the one an engineer
# would say ("power/time" rather than "frequency*power"). Temperature appears as a
# difference because only differences can be part of a compound.
_QUANTITY_NAMES: dict[Dimension, str] = {
    DIMENSIONLESS: "ratio",
    _TIME: "time",
    _LENGTH: "length",
    _MASS: "mass",
    _CURRENT: "current",
    _TEMPERATURE: "temperature difference",
    _MONEY: "money",
    _FREQUENCY: "frequency",
    Dimension(length=2): "area",
    _VOLUME: "volume",
    _LENGTH / _TIME: "speed",
    _VOLUME / _TIME: "volume flow",
    _MASS / _TIME: "mass flow",
    _POWER: "power",
    _ENERGY: "energy",
    _PRESSURE: "pressure",
    _VOLTAGE: "voltage",
    _POWER / _TEMPERATURE: "power per temperature difference",
}

_BASE_NAMES = ("time", "length", "mass", "current", "temperature", "money")


def _describe_dimension(dimension: Dimension) -> str:
    """A dimension in words: its own name, a ratio or product of two names, or base powers."""
    name = _QUANTITY_NAMES.get(dimension)
    if name is not None:
        return name
    named = [(d, n) for d, n in _QUANTITY_NAMES.items() if not d.is_dimensionless]
    for (numerator, top), (denominator, bottom) in itertools.product(named, named):
        if numerator / denominator == dimension:
            return f"{top}/{bottom}"
    for (left, first), (right, second) in itertools.product(named, named):
        if left * right == dimension:
            return f"{first}*{second}"
    above = [_power_of(n, e) for n, e in zip(_BASE_NAMES, dimension.exponents(), strict=True) if e > 0]
    below = [_power_of(n, -e) for n, e in zip(_BASE_NAMES, dimension.exponents(), strict=True) if e < 0]
    return ("*".join(above) or "1") + "".join(f"/{b}" for b in below)


def _power_of(name: str, exponent: int) -> str:
    return name if exponent == 1 else f"{name}^{exponent}"


# --- Units ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A unit of measure and how a value in it maps onto SI: ``value * scale + offset``."""

    symbol: str
    dimension: Dimension
    scale: float
    offset: float = 0.0
    absolute: bool = False
    # The same scale and offset as exact fractions, when known. Only exact arithmetic gives
    # C -> F as (1.8, 32) instead of (1.7999999999999998, 32.00000000000003). They restate
    # scale and offset, so they take no part in equality.
    exact_scale: Fraction | None = field(default=None, compare=False, repr=False, kw_only=True)
    exact_offset: Fraction | None = field(default=None, compare=False, repr=False, kw_only=True)

    def __post_init__(self) -> None:
        # The arithmetic below relies on these; a bad table entry must fail at import time,
        # not as a wrong conversion factor in generated plant code.
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"unit {self.symbol!r}: scale must be positive and finite")
        if self.absolute and self.dimension != _TEMPERATURE:
            raise ValueError(f"unit {self.symbol!r}: only a temperature can be absolute")
        if self.offset and not self.absolute:
            raise ValueError(f"unit {self.symbol!r}: only an absolute temperature has an offset")
        if self.exact_scale is not None and float(self.exact_scale) != self.scale:
            raise ValueError(f"unit {self.symbol!r}: exact_scale does not match scale")
        if self.exact_offset is not None and float(self.exact_offset) != self.offset:
            raise ValueError(f"unit {self.symbol!r}: exact_offset does not match offset")

    def exact(self) -> tuple[Fraction, Fraction]:
        """Scale and offset as fractions (the floats' exact values when no fraction was given)."""
        scale = self.exact_scale if self.exact_scale is not None else Fraction(self.scale)
        offset = self.exact_offset if self.exact_offset is not None else Fraction(self.offset)
        return scale, offset

    def to_si(self, v: float) -> float:
        """The SI value of v given in this unit."""
        return v * self.scale + self.offset

    def from_si(self, v: float) -> float:
        """The value in this unit of the SI value v."""
        return (v - self.offset) / self.scale

    def exact_factor_to(self, other: Unit) -> tuple[Fraction, Fraction]:
        """Exact (a, b) with value_in_other = a * value + b; raises UnitError if not convertible."""
        if self.dimension != other.dimension:
            raise UnitError("dimension", f"cannot convert {_named(self)} to {_named(other)}", self, other)
        if self.absolute != other.absolute:
            raise UnitError(
                "absolute",
                f"cannot convert {_temperature_kind(self)} to {_temperature_kind(other)}",
                self,
                other,
            )
        scale, offset = self.exact()
        other_scale, other_offset = other.exact()
        return scale / other_scale, (offset - other_offset) / other_scale

    def factor_to(self, other: Unit) -> tuple[float, float]:
        """(a, b) with value_in_other = a * value + b; raises UnitError if not convertible."""
        a, b = self.exact_factor_to(other)
        return float(a), float(b)

    def describe(self) -> str:
        """The quantity in words for messages, such as "power" or "temperature difference"."""
        if self.absolute:
            return "temperature"
        return _describe_dimension(self.dimension)


def _unit(
    symbol: str,
    dimension: Dimension,
    scale: int | str,
    offset: int | str = 0,
    *,
    absolute: bool = False,
) -> Unit:
    # Scales are written as decimal or fraction strings ("5/9", "273.15") so that they are
    # read exactly, never through a float.
    exact_scale, exact_offset = Fraction(scale), Fraction(offset)
    return Unit(
        symbol,
        dimension,
        float(exact_scale),
        float(exact_offset),
        absolute,
        exact_scale=exact_scale,
        exact_offset=exact_offset,
    )


NUMBER = _unit("", DIMENSIONLESS, 1)

# The pound-force per square inch from its definition: 0.45359237 kg * 9.80665 m/s2 / (0.0254 m)^2.
_PSI = Fraction("0.45359237") * Fraction("9.80665") / Fraction("0.0254") ** 2

_UNITS: tuple[Unit, ...] = (
    # Temperature: C and F are points on a scale; K and delta_F are differences.
    _unit("C", _TEMPERATURE, 1, "273.15", absolute=True),
    _unit("F", _TEMPERATURE, "5/9", "45967/180", absolute=True),  # 459.67 * 5/9
    _unit("K", _TEMPERATURE, 1),
    _unit("delta_F", _TEMPERATURE, "5/9"),
    # Power and energy.
    _unit("W", _POWER, 1),
    _unit("kW", _POWER, 1000),
    _unit("MW", _POWER, 10**6),
    _unit("J", _ENERGY, 1),
    _unit("kJ", _ENERGY, 1000),
    _unit("MJ", _ENERGY, 10**6),
    _unit("Wh", _ENERGY, 3600),
    _unit("kWh", _ENERGY, 3600 * 1000),
    _unit("MWh", _ENERGY, 3600 * 10**6),
    # Pressure.
    _unit("Pa", _PRESSURE, 1),
    _unit("kPa", _PRESSURE, 1000),
    _unit("MPa", _PRESSURE, 10**6),
    _unit("bar", _PRESSURE, 10**5),
    _unit("mbar", _PRESSURE, 100),
    _unit("psi", _PRESSURE, str(_PSI)),
    # Electrical.
    _unit("A", _CURRENT, 1),
    _unit("mA", _CURRENT, "1/1000"),
    _unit("V", _VOLTAGE, 1),
    # Time and frequency.
    _unit("ms", _TIME, "1/1000"),
    _unit("s", _TIME, 1),
    _unit("min", _TIME, 60),
    _unit("h", _TIME, 3600),
    _unit("d", _TIME, 86400),
    _unit("Hz", _FREQUENCY, 1),
    _unit("rpm", _FREQUENCY, "1/60"),
    # Ratio: the same dimension as a plain number, so 60 % and 0.6 are interchangeable.
    _unit("%", DIMENSIONLESS, "1/100"),
    # Mass, length, volume, money.
    _unit("kg", _MASS, 1),
    _unit("g", _MASS, "1/1000"),
    _unit("m", _LENGTH, 1),
    _unit("l", _VOLUME, "1/1000"),
    _unit("m3", _VOLUME, 1),
    _unit("USD", _MONEY, 1),
)

# Other spellings engineers use; lookup() answers with the canonical unit so that messages
# and generated code always show one symbol per unit.
_ALIASES = {
    "degC": "C",
    "°C": "C",
    "degF": "F",
    "°F": "F",
    "delta_degC": "K",
    "delta_degF": "delta_F",
}

_BY_SYMBOL: dict[str, Unit] = {unit.symbol: unit for unit in _UNITS}
_BY_SYMBOL.update({alias: _BY_SYMBOL[canonical] for alias, canonical in _ALIASES.items()})

# Longest first so that a lexer trying them in order matches "kWh" before "kW" and "min"
# before "m"; ties alphabetical so that the order is stable.
SIMPLE_SYMBOLS: tuple[str, ...] = tuple(sorted(_BY_SYMBOL, key=lambda symbol: (-len(symbol), symbol)))


def difference_unit(unit: Unit) -> Unit:
    """The temperature-difference unit on an absolute unit's scale (C -> K); others unchanged."""
    if not unit.absolute:
        return unit
    for candidate in _UNITS:
        if candidate.dimension == unit.dimension and not candidate.absolute and candidate.scale == unit.scale:
            return candidate
    return Unit(f"delta_{unit.symbol}", unit.dimension, unit.scale, exact_scale=unit.exact()[0])


# --- Errors -----------------------------------------------------------------------------

UnitErrorKind = Literal["dimension", "absolute"]


class UnitError(Exception):
    """Two units that cannot be combined: different quantities, or a misused absolute temperature.

    ``kind`` is "dimension" or "absolute" (the checker maps them to its unit-mismatch and
    absolute-temperature codes); ``message`` is ready for a diagnostic and names both units.
    """

    def __init__(self, kind: UnitErrorKind, message: str, left: Unit, right: Unit) -> None:
        super().__init__(message)
        self.kind: UnitErrorKind = kind
        self.message = message
        self.left = left
        self.right = right


def _named(unit: Unit) -> str:
    """A unit as messages name it: "power (kW)", or "a plain number"."""
    if not unit.symbol:
        return "a plain number"
    return f"{unit.describe()} ({unit.symbol})"


def _temperature_kind(unit: Unit) -> str:
    if unit.absolute:
        return f"an absolute temperature ({unit.symbol})"
    if unit.dimension == _TEMPERATURE:
        return f"a temperature difference ({unit.symbol})"
    return _named(unit)


# --- Lookup and suggestions -------------------------------------------------------------

# A compound is simple symbols joined by * and /, read left to right as in the rules
# language (so "kW/K/h" is kW per kelvin per hour). "1" stands for the plain number there,
# which is how divide() writes a reciprocal ("1/s").
_COMPOUND = re.compile(r"[^*/\s]+(?:[*/][^*/\s]+)+")
_OPERATOR = re.compile(r"([*/])")


def _part(symbol: str) -> Unit | None:
    return NUMBER if symbol == "1" else _BY_SYMBOL.get(symbol)


def lookup(symbol: str) -> Unit | None:
    """The unit a symbol or compound (kW, °C, kW/K, m3/h, kW*h) names, or None if unknown."""
    unit = _BY_SYMBOL.get(symbol)
    if unit is not None or not _COMPOUND.fullmatch(symbol):
        return unit
    parts = _OPERATOR.split(symbol)
    result = _part(parts[0])
    for operator, part in zip(parts[1::2], parts[2::2], strict=True):
        operand = _part(part)
        if result is None or operand is None:
            return None
        try:
            result = multiply(result, operand) if operator == "*" else divide(result, operand)
        except UnitError:
            # An absolute temperature inside a compound ("C/h") has no meaning; suggest()
            # offers the difference ("K/h") that the engineer meant.
            return None
    return result


# Words engineers type for a unit, which no string similarity would connect to its symbol.
_SPELLED_OUT = {
    "celsius": "C",
    "fahrenheit": "F",
    "kelvin": "K",
    "degk": "K",
    "percent": "%",
    "pct": "%",
    "sec": "s",
    "second": "s",
    "seconds": "s",
    "mins": "min",
    "minute": "min",
    "minutes": "min",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "watt": "W",
    "watts": "W",
    "kilowatt": "kW",
    "kilowatts": "kW",
    "litre": "l",
    "liter": "l",
    "litres": "l",
    "liters": "l",
    "m³": "m3",
}

_FOLDED: dict[str, list[str]] = {}
for _symbol in SIMPLE_SYMBOLS:
    _FOLDED.setdefault(_symbol.casefold(), []).append(_symbol)
del _symbol


def _suggest_simple(symbol: str) -> list[str]:
    folded = symbol.casefold()
    if folded in _SPELLED_OUT:
        return [_SPELLED_OUT[folded]]
    # A wrong case ("kw", "Bar") is by far the commonest slip, and the intent is then certain,
    # so it is the only suggestion rather than one among similar-looking symbols.
    if folded in _FOLDED:
        return _FOLDED[folded][:3]
    # Imported here because it is needed only on the error path and costs import time.
    import difflib

    close = difflib.get_close_matches(folded, list(_FOLDED), n=3, cutoff=0.6)
    return [original for match in close for original in _FOLDED[match]][:3]


def _suggest_compound(symbol: str) -> list[str]:
    choices: list[list[str]] = []
    for index, part in enumerate(_OPERATOR.split(symbol)):
        unit = _part(part)
        if index % 2:
            options = [part]  # an operator
        elif unit is None:
            options = _suggest_simple(part)
        elif unit.absolute:
            # "C/h" means a rate of change, which is a difference per time: "K/h".
            options = [difference_unit(unit).symbol]
        else:
            options = [part]
        if not options:
            return []
        choices.append(options)
    candidates = ("".join(combination) for combination in itertools.product(*choices))
    return [candidate for candidate in candidates if lookup(candidate) is not None][:3]


def suggest(symbol: str) -> list[str]:
    """Up to three known symbols close to an unknown one, for a "did you mean" hint."""
    if lookup(symbol) is not None:
        return []
    if _COMPOUND.fullmatch(symbol):
        return _suggest_compound(symbol)
    return _suggest_simple(symbol)


# --- Arithmetic -------------------------------------------------------------------------


def add(a: Unit, b: Unit) -> Unit:
    """The unit of a + b: the left unit, or the absolute one when a difference shifts a temperature."""
    if a.dimension != b.dimension:
        raise UnitError("dimension", f"cannot add {_named(a)} and {_named(b)}", a, b)
    if a.absolute and b.absolute:
        example = format_quantity(6, difference_unit(a))
        raise UnitError(
            "absolute",
            f"cannot add two absolute temperatures ({a.symbol} + {b.symbol}); "
            f"did you mean a temperature difference, such as {example}?",
            a,
            b,
        )
    # A temperature shifted by a difference is still a temperature, whichever side it is on.
    return b if b.absolute else a


def subtract(a: Unit, b: Unit) -> Unit:
    """The unit of a - b: two absolute temperatures give their difference unit (C - C -> K)."""
    if a.dimension != b.dimension:
        raise UnitError("dimension", f"cannot subtract {_named(b)} from {_named(a)}", a, b)
    if a.absolute and b.absolute:
        return difference_unit(a)
    if b.absolute:
        raise UnitError(
            "absolute",
            f"cannot subtract {_temperature_kind(b)} from {_temperature_kind(a)}; "
            f"write the temperature first, such as {format_quantity(21, b)} - {format_quantity(6, a)}",
            a,
            b,
        )
    return a


def _reject_absolute(verb: str, a: Unit, b: Unit) -> None:
    if a.absolute or b.absolute:
        raise UnitError(
            "absolute",
            f"cannot {verb} {_named(a)} by {_named(b)}: an absolute temperature cannot be "
            "multiplied or divided; use a difference from a reference",
            a,
            b,
        )


def _factors(symbol: str) -> dict[str, int]:
    """A symbol as powers of simple symbols ("kW/K" -> {kW: 1, K: -1}), so products can cancel."""
    if not _COMPOUND.fullmatch(symbol):
        return {symbol: 1} if symbol else {}
    parts = _OPERATOR.split(symbol)
    powers: dict[str, int] = {}
    for operator, part in zip(["*", *parts[1::2]], parts[0::2], strict=True):
        if part != "1":
            powers[part] = powers.get(part, 0) + (1 if operator == "*" else -1)
    return powers


def _render(powers: dict[str, int]) -> str:
    """Powers of simple symbols as text lookup() reads back: numerators joined by *, then /each."""
    above = [symbol for symbol, power in powers.items() for _ in range(power)]
    below = [symbol for symbol, power in powers.items() for _ in range(-power)]
    if not above and not below:
        return ""
    return ("*".join(above) or "1") + "".join(f"/{symbol}" for symbol in below)


def _combine(a: Unit, b: Unit, operator: Literal["*", "/"]) -> Unit:
    # A plain number scales a value without changing what it is: 0.7 * kW is kW.
    if b == NUMBER:
        return a
    if a == NUMBER and operator == "*":
        return b
    sign = 1 if operator == "*" else -1
    powers = _factors(a.symbol)
    for symbol, power in _factors(b.symbol).items():
        powers[symbol] = powers.get(symbol, 0) + sign * power
    symbol = _render({s: p for s, p in powers.items() if p})
    dimension = a.dimension * b.dimension if operator == "*" else a.dimension / b.dimension
    a_scale, b_scale = a.exact()[0], b.exact()[0]
    scale = a_scale * b_scale if operator == "*" else a_scale / b_scale
    if dimension.is_dimensionless and scale == 1:
        return NUMBER  # kW/kW, kWh/(kW*h): just a number
    if not symbol:
        # Two different units that share a symbol cancelled in the text but not in scale;
        # keep both rather than print a unit with no symbol.
        symbol = f"{a.symbol}{operator}{b.symbol}"
    known = _BY_SYMBOL.get(symbol)
    if known is not None and known.dimension == dimension and known.exact()[0] == scale:
        return known  # kW*h/h is the table's kW, not a look-alike
    return Unit(symbol, dimension, float(scale), exact_scale=scale, exact_offset=Fraction(0))


def multiply(a: Unit, b: Unit) -> Unit:
    """The unit of a * b (kW * h -> kW*h); raises UnitError for an absolute temperature."""
    _reject_absolute("multiply", a, b)
    return _combine(a, b, "*")


def divide(a: Unit, b: Unit) -> Unit:
    """The unit of a / b (kW / K -> kW/K, kW / kW -> NUMBER); raises UnitError for an absolute temperature."""
    _reject_absolute("divide", a, b)
    return _combine(a, b, "/")


def compare(a: Unit, b: Unit) -> None:
    """Raise UnitError unless a and b can be compared (same quantity, both absolute or neither)."""
    if a.dimension != b.dimension:
        raise UnitError("dimension", f"cannot compare {_named(a)} with {_named(b)}", a, b)
    if a.absolute != b.absolute:
        raise UnitError(
            "absolute", f"cannot compare {_temperature_kind(a)} with {_temperature_kind(b)}", a, b
        )


# --- Formatting -------------------------------------------------------------------------


def _format_number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    # Six significant digits hide float noise (0.1 + 0.2 is "0.3"); Decimal then writes the
    # rounded value without an exponent, because "1.2e+06 W" is not how a plant is described.
    rounded = Decimal(f"{value:.6g}")
    if rounded == 0:
        return "0"  # not "-0"
    return format(rounded, "f")


def format_quantity(value: float, unit: Unit) -> str:
    """A value with its unit as an engineer writes it: "21C", "6 K", "50 kW", "0.7"."""
    number = _format_number(value)
    if not unit.symbol:
        return number
    # Absolute temperatures are written like the language's literals (21C); everything else,
    # differences included, with a space as in SI practice (6 K, 50 kW, 60 %).
    separator = "" if unit.absolute else " "
    return f"{number}{separator}{unit.symbol}"
