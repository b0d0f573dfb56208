"""Suggested BACnet objects for the points of a rules package (ASHRAE 135, BACnetEngineeringUnits).

The object type follows from the kind of value and from where it goes:

- a field input (read from a sensor or the BAS, not wired from another program) is an input
  object: AI, BI, MSI;
- an output that no program of the package reads leaves the controller: a boolean or an
  enumeration is a command to equipment, BO or MSO; an analog output is a value the rules
  compute (a COP, a capacity, a cost) and is shown as AV, since the language has no modulating
  actuator commands of its own — a site that drives one from it changes the suggestion to AO;
- an output that another program reads, a totalizer and a counter are values the controller
  computes for itself and for trending: AV, BV, MSV;
- a parameter is a setting written at commissioning: a writable AV, BV or MSV.

Multi-state objects number their states from 1, in the order the enumeration declares them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hpdsl.language.types import BoolType, EnumType, IntType, QuantityType, Type

# hpdsl unit symbol -> (BACnetEngineeringUnits name, enumeration value).
ENGINEERING_UNITS: dict[str, tuple[str, int]] = {
    "": ("no-units", 95),
    "%": ("percent", 98),
    "C": ("degrees-celsius", 62),
    "F": ("degrees-fahrenheit", 64),
    "K": ("delta-degrees-kelvin", 121),
    "delta_F": ("delta-degrees-fahrenheit", 120),
    "W": ("watts", 47),
    "kW": ("kilowatts", 48),
    "MW": ("megawatts", 49),
    "J": ("joules", 16),
    "kJ": ("kilojoules", 17),
    "MJ": ("megajoules", 126),
    "Wh": ("watt-hours", 18),
    "kWh": ("kilowatt-hours", 19),
    "MWh": ("megawatt-hours", 146),
    "Pa": ("pascals", 53),
    "kPa": ("kilopascals", 54),
    "bar": ("bars", 55),
    "mbar": ("millibars", 134),
    "psi": ("pounds-force-per-square-inch", 56),
    "A": ("amperes", 3),
    "mA": ("milliamperes", 2),
    "V": ("volts", 5),
    "ms": ("milliseconds", 159),
    "s": ("seconds", 73),
    "min": ("minutes", 72),
    "h": ("hours", 71),
    "d": ("days", 70),
    "Hz": ("hertz", 27),
    "rpm": ("revolutions-per-minute", 104),
    "kg": ("kilograms", 39),
    "g": ("grams", 195),
    "m": ("meters", 31),
    "l": ("liters", 82),
    "m3": ("cubic-meters", 80),
    "USD": ("currency1", 105),  # the site assigns currency1 to its currency
    "l/s": ("liters-per-second", 87),
    "l/min": ("liters-per-minute", 88),
    "l/h": ("liters-per-hour", 136),
    "m3/s": ("cubic-meters-per-second", 85),
    "m3/h": ("cubic-meters-per-hour", 135),
    "kg/s": ("kilograms-per-second", 42),
    "kg/h": ("kilograms-per-hour", 44),
    "K/h": ("degrees-kelvin-per-hour", 181),
    "K/min": ("degrees-kelvin-per-minute", 182),
    "kJ/K": ("kilojoules-per-degree-kelvin", 151),
    "J/K": ("joules-per-degree-kelvin", 127),
}

NO_UNITS = ENGINEERING_UNITS[""]

# How a point is used, which decides input, output or value objects.
FIELD_INPUT = "field input"
COMMAND = "command"
COMPUTED = "computed"
SETTING = "setting"


@dataclass(frozen=True)
class BacnetObject:
    """A suggested object: its type (AI, BO, MSV ...), units, and the states of a multi-state one."""

    object_type: str
    units: str  # "degrees-celsius (62)"; "" for a binary or multi-state object
    states: tuple[str, ...] = ()
    unit_note: str = ""  # why the units are no-units for a quantity that has a unit

    def describe_states(self) -> str:
        """`1 Heating, 2 Cooling`: the state numbers of a multi-state object."""
        return ", ".join(f"{number} {state}" for number, state in enumerate(self.states, start=1))


def object_for(type_: Type, use: str) -> BacnetObject:
    """The suggested object for a value of `type_` used as `use` (FIELD_INPUT, COMMAND ...)."""
    if isinstance(type_, BoolType):
        family = "B"
    elif isinstance(type_, EnumType):
        family = "MS"
    else:
        family = "A"
    if use == FIELD_INPUT:
        suffix = "I"
    elif use == COMMAND and family != "A":
        suffix = "O"
    else:
        suffix = "V"
    object_type = family + suffix
    if isinstance(type_, EnumType):
        return BacnetObject(object_type, "", states=type_.members)
    if isinstance(type_, BoolType):
        return BacnetObject(object_type, "")
    symbol = type_.unit.symbol if isinstance(type_, QuantityType) else ""
    if isinstance(type_, IntType):
        symbol = ""
    found = ENGINEERING_UNITS.get(symbol)
    if found is None:
        name, number = NO_UNITS
        return BacnetObject(object_type, f"{name} ({number})", unit_note=f"BACnet has no unit for {symbol}")
    name, number = found
    return BacnetObject(object_type, f"{name} ({number})")
