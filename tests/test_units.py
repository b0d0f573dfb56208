"""The units layer: lookup, suggestions, the arithmetic rules, conversion factors, formatting."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpdsl.language.units import (
    DIMENSIONLESS,
    NUMBER,
    SIMPLE_SYMBOLS,
    Dimension,
    Unit,
    UnitError,
    add,
    compare,
    difference_unit,
    divide,
    format_quantity,
    lookup,
    multiply,
    subtract,
    suggest,
)


def unit(symbol: str) -> Unit:
    """The unit a test names; "" is the plain number."""
    if symbol == "":
        return NUMBER
    found = lookup(symbol)
    assert found is not None, symbol
    return found


# --- Lookup -----------------------------------------------------------------------------

PSI_IN_PASCAL = 0.45359237 * 9.80665 / 0.0254**2

# symbol as written, canonical symbol, quantity, SI scale, SI offset
SIMPLE = [
    ("C", "C", "temperature", 1.0, 273.15),
    ("degC", "C", "temperature", 1.0, 273.15),
    ("°C", "C", "temperature", 1.0, 273.15),
    ("F", "F", "temperature", 5 / 9, 459.67 * 5 / 9),
    ("degF", "F", "temperature", 5 / 9, 459.67 * 5 / 9),
    ("°F", "F", "temperature", 5 / 9, 459.67 * 5 / 9),
    ("K", "K", "temperature difference", 1.0, 0.0),
    ("delta_degC", "K", "temperature difference", 1.0, 0.0),
    ("delta_F", "delta_F", "temperature difference", 5 / 9, 0.0),
    ("delta_degF", "delta_F", "temperature difference", 5 / 9, 0.0),
    ("W", "W", "power", 1.0, 0.0),
    ("kW", "kW", "power", 1e3, 0.0),
    ("MW", "MW", "power", 1e6, 0.0),
    ("J", "J", "energy", 1.0, 0.0),
    ("kJ", "kJ", "energy", 1e3, 0.0),
    ("MJ", "MJ", "energy", 1e6, 0.0),
    ("Wh", "Wh", "energy", 3600.0, 0.0),
    ("kWh", "kWh", "energy", 3.6e6, 0.0),
    ("MWh", "MWh", "energy", 3.6e9, 0.0),
    ("Pa", "Pa", "pressure", 1.0, 0.0),
    ("kPa", "kPa", "pressure", 1e3, 0.0),
    ("MPa", "MPa", "pressure", 1e6, 0.0),
    ("bar", "bar", "pressure", 1e5, 0.0),
    ("mbar", "mbar", "pressure", 100.0, 0.0),
    ("psi", "psi", "pressure", PSI_IN_PASCAL, 0.0),
    ("A", "A", "current", 1.0, 0.0),
    ("mA", "mA", "current", 1e-3, 0.0),
    ("V", "V", "voltage", 1.0, 0.0),
    ("ms", "ms", "time", 1e-3, 0.0),
    ("s", "s", "time", 1.0, 0.0),
    ("min", "min", "time", 60.0, 0.0),
    ("h", "h", "time", 3600.0, 0.0),
    ("d", "d", "time", 86400.0, 0.0),
    ("Hz", "Hz", "frequency", 1.0, 0.0),
    ("rpm", "rpm", "frequency", 1 / 60, 0.0),
    ("%", "%", "ratio", 0.01, 0.0),
    ("kg", "kg", "mass", 1.0, 0.0),
    ("g", "g", "mass", 1e-3, 0.0),
    ("m", "m", "length", 1.0, 0.0),
    ("l", "l", "volume", 1e-3, 0.0),
    ("m3", "m3", "volume", 1.0, 0.0),
    ("USD", "USD", "money", 1.0, 0.0),
]


@pytest.mark.parametrize(("symbol", "canonical", "quantity", "scale", "offset"), SIMPLE)
def test_lookup_simple_symbol(
    symbol: str, canonical: str, quantity: str, scale: float, offset: float
) -> None:
    found = unit(symbol)
    assert found.symbol == canonical
    assert found.describe() == quantity
    assert found.scale == pytest.approx(scale, rel=1e-12)
    assert found.offset == pytest.approx(offset, rel=1e-12)
    assert found.absolute == (quantity == "temperature")


def test_simple_table_covers_every_symbol() -> None:
    # A symbol added to the module without a row above would go untested.
    assert sorted(row[0] for row in SIMPLE) == sorted(SIMPLE_SYMBOLS)


def test_simple_symbols_are_longest_first_and_include_aliases() -> None:
    lengths = [len(symbol) for symbol in SIMPLE_SYMBOLS]
    assert lengths == sorted(lengths, reverse=True)
    assert len(set(SIMPLE_SYMBOLS)) == len(SIMPLE_SYMBOLS)
    assert {"degC", "°C", "degF", "°F", "delta_degC", "delta_degF"} <= set(SIMPLE_SYMBOLS)
    # The lexer tries them in order: a symbol must come before every longer one that starts with it.
    for index, symbol in enumerate(SIMPLE_SYMBOLS):
        assert not any(later.startswith(symbol) for later in SIMPLE_SYMBOLS[index + 1 :] if later != symbol)


@pytest.mark.parametrize(
    ("symbol", "canonical", "quantity", "scale"),
    [
        ("kW/K", "kW/K", "power per temperature difference", 1000.0),
        ("m3/h", "m3/h", "volume flow", 1 / 3600),
        ("l/s", "l/s", "volume flow", 1e-3),
        ("kg/s", "kg/s", "mass flow", 1.0),
        ("kW*h", "kW*h", "energy", 3.6e6),
        ("kWh/d", "kWh/d", "power", 3.6e6 / 86400),
        ("delta_degC/h", "K/h", "temperature difference/time", 1 / 3600),
        ("USD/kWh", "USD/kWh", "money/energy", 1 / 3.6e6),
        ("kW/h", "kW/h", "power/time", 1000 / 3600),
        ("1/s", "1/s", "frequency", 1.0),
        ("m*m", "m*m", "area", 1.0),
        ("kW/kW", "", "ratio", 1.0),
        ("W/kW", "W/kW", "ratio", 1e-3),
        ("kW*h/h", "kW", "power", 1000.0),
    ],
)
def test_lookup_compound(symbol: str, canonical: str, quantity: str, scale: float) -> None:
    found = unit(symbol)
    assert found.symbol == canonical
    assert found.describe() == quantity
    assert found.scale == pytest.approx(scale, rel=1e-12)
    assert not found.absolute


@pytest.mark.parametrize(
    "symbol",
    [
        "",  # the plain number has no symbol to write
        "kw",  # symbols are case-sensitive: suggest() offers kW
        "KW",
        "Kelvin",
        "foo",
        "1",  # only a compound's numerator may be 1
        "kW/",
        "/h",
        "kW//h",
        "kW / K",  # no spaces inside a unit
        "k W",
        "kW^2",
        "kW/foo",
        "C/h",  # an absolute temperature cannot be divided: K/h is the rate
        "°C*h",
    ],
)
def test_lookup_unknown(symbol: str) -> None:
    assert lookup(symbol) is None


def test_composed_symbols_read_back_as_the_same_unit() -> None:
    # Messages and generated code show a composed symbol; reading it again must give the same unit.
    kw_per_k, hour = unit("kW/K"), unit("h")
    for composed in [multiply(kw_per_k, hour), divide(kw_per_k, hour), divide(NUMBER, kw_per_k)]:
        assert lookup(composed.symbol) == composed


# --- Suggestions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("kw", ["kW"]),
        ("KWH", ["kWh"]),
        ("Bar", ["bar"]),
        ("degf", ["degF"]),
        ("MS", ["ms"]),
        ("celsius", ["C"]),
        ("Hours", ["h"]),
        ("m³", ["m3"]),
        ("kW/k", ["kW/K"]),
        ("m3/hr", ["m3/h"]),
        ("C/h", ["K/h"]),
        ("degF/min", ["delta_F/min"]),
        ("xyzzy", []),
        ("kW/xyzzy", []),
        ("kW", []),
    ],
)
def test_suggest(symbol: str, expected: list[str]) -> None:
    assert suggest(symbol) == expected


def test_suggest_ranks_the_closest_symbol_first() -> None:
    suggestions = suggest("kWhh")
    assert suggestions[0] == "kWh"
    assert len(suggestions) <= 3


@given(st.text(max_size=8))
def test_suggestions_are_known_symbols(text: str) -> None:
    suggestions = suggest(text)
    assert len(suggestions) <= 3
    assert all(lookup(suggestion) is not None for suggestion in suggestions)


# --- Dimensions and descriptions --------------------------------------------------------


def test_dimension_arithmetic() -> None:
    power = Dimension(mass=1, length=2, time=-3)
    assert power * Dimension(time=1) == Dimension(mass=1, length=2, time=-2)
    assert power / power == DIMENSIONLESS
    assert DIMENSIONLESS.is_dimensionless
    assert not power.is_dimensionless


@pytest.mark.parametrize(
    ("dimension", "quantity"),
    [
        (Dimension(time=5), "time^5"),
        (Dimension(mass=1, current=-2), "mass/current^2"),
        (Dimension(money=1, mass=1, length=2, time=-2), "money*energy"),
    ],
)
def test_describe_falls_back_to_a_formula(dimension: Dimension, quantity: str) -> None:
    assert Unit("x", dimension, 1.0).describe() == quantity


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"scale": 0.0}, "positive"),
        ({"scale": math.inf}, "positive"),
        ({"offset": 1.0}, "offset"),
        ({"absolute": True}, "absolute"),
        ({"exact_scale": Fraction(2)}, "exact_scale"),
    ],
)
def test_unit_rejects_an_inconsistent_definition(fields: dict[str, object], problem: str) -> None:
    arguments: dict[str, object] = {"symbol": "x", "dimension": Dimension(time=1), "scale": 1.0, **fields}
    with pytest.raises(ValueError, match=problem):
        Unit(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(("absolute", "difference"), [("C", "K"), ("F", "delta_F"), ("K", "K"), ("kW", "kW")])
def test_difference_unit(absolute: str, difference: str) -> None:
    assert difference_unit(unit(absolute)) == unit(difference)


# --- Addition and subtraction -----------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "result"),
    [
        ("kW", "kW", "kW"),
        ("kW", "W", "kW"),  # mixed scales: the left operand's unit
        ("W", "kW", "W"),
        ("C", "K", "C"),  # a temperature shifted by a difference
        ("K", "C", "C"),
        ("F", "K", "F"),
        ("delta_F", "C", "C"),
        ("K", "delta_F", "K"),
        ("", "%", ""),  # plain number and percentage are one dimension
        ("%", "", "%"),
        ("h", "min", "h"),
    ],
)
def test_add(left: str, right: str, result: str) -> None:
    assert add(unit(left), unit(right)) == unit(result)


@pytest.mark.parametrize(
    ("left", "right", "result"),
    [
        ("C", "C", "K"),  # two temperatures: their difference
        ("F", "F", "delta_F"),
        ("C", "F", "K"),
        ("F", "C", "delta_F"),
        ("C", "K", "C"),
        ("F", "K", "F"),
        ("K", "delta_F", "K"),
        ("kW", "W", "kW"),
        ("", "%", ""),
    ],
)
def test_subtract(left: str, right: str, result: str) -> None:
    assert subtract(unit(left), unit(right)) == unit(result)


# The reason every absolute-temperature error in a product or quotient gives.
SCALED = "an absolute temperature cannot be multiplied or divided; use a difference from a reference"

# operation, left, right, kind, exact message
ERRORS = [
    (add, "C", "kW", "dimension", "cannot add temperature (C) and power (kW)"),
    (add, "bar", "", "dimension", "cannot add pressure (bar) and a plain number"),
    (add, "K", "h", "dimension", "cannot add temperature difference (K) and time (h)"),
    (
        add,
        "C",
        "C",
        "absolute",
        "cannot add two absolute temperatures (C + C); did you mean a temperature difference, such as 6 K?",
    ),
    (
        add,
        "F",
        "C",
        "absolute",
        (
            "cannot add two absolute temperatures (F + C); did you mean a temperature difference, "
            "such as 6 delta_F?"
        ),
    ),
    (subtract, "kW", "C", "dimension", "cannot subtract temperature (C) from power (kW)"),
    (
        subtract,
        "K",
        "C",
        "absolute",
        (
            "cannot subtract an absolute temperature (C) from a temperature difference (K); "
            "write the temperature first, such as 21C - 6 K"
        ),
    ),
    (multiply, "C", "", "absolute", f"cannot multiply temperature (C) by a plain number: {SCALED}"),
    (
        multiply,
        "kW/K",
        "F",
        "absolute",
        f"cannot multiply power per temperature difference (kW/K) by temperature (F): {SCALED}",
    ),
    (divide, "C", "h", "absolute", f"cannot divide temperature (C) by time (h): {SCALED}"),
    (divide, "C", "C", "absolute", f"cannot divide temperature (C) by temperature (C): {SCALED}"),
    (compare, "C", "bar", "dimension", "cannot compare temperature (C) with pressure (bar)"),
    (compare, "%", "kW", "dimension", "cannot compare ratio (%) with power (kW)"),
    (
        compare,
        "C",
        "K",
        "absolute",
        "cannot compare an absolute temperature (C) with a temperature difference (K)",
    ),
    (
        compare,
        "delta_F",
        "F",
        "absolute",
        "cannot compare a temperature difference (delta_F) with an absolute temperature (F)",
    ),
]


@pytest.mark.parametrize(("operation", "left", "right", "kind", "message"), ERRORS)
def test_arithmetic_errors(
    operation: Callable[[Unit, Unit], object], left: str, right: str, kind: str, message: str
) -> None:
    with pytest.raises(UnitError) as caught:
        operation(unit(left), unit(right))
    assert caught.value.kind == kind
    assert caught.value.message == message
    assert str(caught.value) == message
    assert (caught.value.left, caught.value.right) == (unit(left), unit(right))


# --- Multiplication and division --------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "left", "right", "symbol", "quantity", "scale"),
    [
        (multiply, "kW", "h", "kW*h", "energy", 3.6e6),
        (multiply, "", "kW", "kW", "power", 1e3),  # 0.7 * kW
        (multiply, "kW", "", "kW", "power", 1e3),
        (multiply, "kW/K", "K", "kW", "power", 1e3),
        (multiply, "K", "K", "K*K", "temperature difference*temperature difference", 1.0),
        (multiply, "%", "kW", "%*kW", "power", 10.0),
        (multiply, "V", "A", "V*A", "power", 1.0),
        (divide, "kW", "", "kW", "power", 1e3),  # kW / 2
        (divide, "kW", "K", "kW/K", "power per temperature difference", 1e3),
        (divide, "kW", "kW", "", "ratio", 1.0),
        (divide, "kWh", "kWh", "", "ratio", 1.0),
        (divide, "kWh", "kW*h", "", "ratio", 1.0),
        (divide, "W", "kW", "W/kW", "ratio", 1e-3),
        (divide, "kW*h", "h", "kW", "power", 1e3),
        (divide, "", "s", "1/s", "frequency", 1.0),
        (divide, "m3", "h", "m3/h", "volume flow", 1 / 3600),
        (divide, "kW/K", "h", "kW/K/h", "power per temperature difference/time", 1000 / 3600),
    ],
)
def test_multiply_and_divide(
    operation: Callable[[Unit, Unit], Unit], left: str, right: str, symbol: str, quantity: str, scale: float
) -> None:
    result = operation(unit(left), unit(right))
    assert result.symbol == symbol
    assert result.describe() == quantity
    assert result.scale == pytest.approx(scale, rel=1e-12)


def test_same_unit_divided_is_the_plain_number() -> None:
    assert divide(unit("kW"), unit("kW")) == NUMBER
    assert divide(unit("K"), unit("K")) is NUMBER


@pytest.mark.parametrize(
    ("left", "right"), [("C", "C"), ("F", "C"), ("kW", "W"), ("%", ""), ("K", "delta_F")]
)
def test_compare_allows_the_same_quantity(left: str, right: str) -> None:
    compare(unit(left), unit(right))  # raises UnitError if not


# --- Conversion factors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target", "a", "b"),
    [
        ("C", "F", 1.8, 32.0),
        ("F", "C", 5 / 9, -160 / 9),
        ("degC", "°F", 1.8, 32.0),
        ("K", "delta_F", 1.8, 0.0),
        ("delta_F", "K", 5 / 9, 0.0),
        ("C", "C", 1.0, 0.0),
        ("kW", "W", 1000.0, 0.0),
        ("min", "s", 60.0, 0.0),
        ("%", "", 0.01, 0.0),
        ("kWh", "MJ", 3.6, 0.0),
        ("bar", "kPa", 100.0, 0.0),
        ("l/s", "m3/h", 3.6, 0.0),
        ("rpm", "Hz", 1 / 60, 0.0),
        ("d", "h", 24.0, 0.0),
    ],
)
def test_factor_to_is_exact(source: str, target: str, a: float, b: float) -> None:
    # Exact equality on purpose: these factors are printed into generated code.
    assert unit(source).factor_to(unit(target)) == (a, b)


def test_exact_factor_to() -> None:
    assert unit("C").exact_factor_to(unit("F")) == (Fraction(9, 5), Fraction(32))
    assert unit("F").exact_factor_to(unit("C")) == (Fraction(5, 9), Fraction(-160, 9))


@pytest.mark.parametrize(
    ("source", "target", "kind", "message"),
    [
        ("kW", "C", "dimension", "cannot convert power (kW) to temperature (C)"),
        ("", "s", "dimension", "cannot convert a plain number to time (s)"),
        ("C", "K", "absolute", "cannot convert an absolute temperature (C) to a temperature difference (K)"),
        (
            "delta_F",
            "F",
            "absolute",
            "cannot convert a temperature difference (delta_F) to an absolute temperature (F)",
        ),
    ],
)
def test_factor_to_errors(source: str, target: str, kind: str, message: str) -> None:
    with pytest.raises(UnitError) as caught:
        unit(source).factor_to(unit(target))
    assert (caught.value.kind, caught.value.message) == (kind, message)


def _convertible_pairs() -> list[tuple[Unit, Unit]]:
    units = sorted({unit(symbol) for symbol in SIMPLE_SYMBOLS}, key=lambda u: u.symbol)
    units += [unit(symbol) for symbol in ["kW/K", "m3/h", "l/s", "kW*h", "kWh/d", "K/h"]]
    return [
        (source, target)
        for source in units
        for target in units
        if source.dimension == target.dimension and source.absolute == target.absolute
    ]


PAIRS = _convertible_pairs()
VALUES = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


def _close(actual: float, expected: float) -> bool:
    # Relative to the value, but never tighter than 1e-9 of one unit: around zero an offset
    # such as 273.15 leaves an absolute error of a few 1e-14 that no relative bound can meet.
    return abs(actual - expected) <= 1e-9 * max(abs(expected), 1.0)


def test_every_unit_has_a_convertible_partner() -> None:
    # Guards the property tests below against a pair list that is empty or misses units.
    assert {source.symbol for source, _ in PAIRS} >= {unit(symbol).symbol for symbol in SIMPLE_SYMBOLS}
    assert len(PAIRS) > 100


@given(st.sampled_from(sorted({unit(symbol) for symbol in SIMPLE_SYMBOLS}, key=lambda u: u.symbol)), VALUES)
def test_si_round_trip(source: Unit, value: float) -> None:
    assert _close(source.from_si(source.to_si(value)), value)


@given(st.sampled_from(PAIRS), VALUES)
def test_factor_to_round_trip(pair: tuple[Unit, Unit], value: float) -> None:
    source, target = pair
    a, b = source.factor_to(target)
    back_a, back_b = target.factor_to(source)
    converted = a * value + b
    assert _close(back_a * converted + back_b, value)
    # The factor agrees with going through SI.
    assert _close(converted, target.from_si(source.to_si(value)))


# --- Formatting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "symbol", "text"),
    [
        (21, "C", "21C"),
        (21.0, "°C", "21C"),
        (-5, "C", "-5C"),
        (68.5, "F", "68.5F"),
        (6, "K", "6 K"),
        (10, "delta_F", "10 delta_F"),
        (50, "kW", "50 kW"),
        (90, "min", "90 min"),
        (60, "%", "60 %"),
        (0.7, "", "0.7"),
        (0.1 + 0.2, "kW", "0.3 kW"),
        (1 / 3, "h", "0.333333 h"),
        (1234567, "W", "1234570 W"),
        (2.5e-7, "s", "0.00000025 s"),
        (-0.0, "", "0"),
        (3, "kW/K", "3 kW/K"),
        (math.inf, "kW", "inf kW"),
    ],
)
def test_format_quantity(value: float, symbol: str, text: str) -> None:
    assert format_quantity(value, unit(symbol)) == text
