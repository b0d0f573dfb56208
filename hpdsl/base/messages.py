"""Message texts, each tied to its diagnostic code.

A message is a constant: a code from ``diagnostics.CODES`` and a template filled with
``str.format`` keywords. Checker code never writes free text into a diagnostic.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from hpdsl.base import diagnostics as codes
from hpdsl.base.diagnostics import Diagnostic, ErrorCode, Note, Severity
from hpdsl.base.source import Span


@dataclass(frozen=True)
class Message:
    """A message template for one code."""

    code: ErrorCode
    template: str

    def at(
        self,
        span: Span,
        *,
        hint: str | None = None,
        notes: tuple[Note, ...] = (),
        severity: Severity | None = None,
        **values: object,
    ) -> Diagnostic:
        """The diagnostic for this message at a span."""
        return Diagnostic(
            code=self.code.code,
            severity=severity or self.code.severity,
            span=span,
            message=self.template.format(**values),
            hint=hint,
            notes=notes,
        )


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest of the candidates to a misspelt name, or None."""
    # A candidate whose length alone keeps its similarity below the cutoff (2 x the shorter
    # length over the sum) is left out first: difflib would reject it, only more slowly.
    close = {c for c in candidates if 2 * min(len(c), len(name)) >= 0.6 * (len(c) + len(name))}
    matches = difflib.get_close_matches(name, sorted(close), n=1, cutoff=0.6)
    return f"did you mean `{matches[0]}`?" if matches else None


# --- Input files ---------------------------------------------------------------------
NO_RULES = Message(codes.NO_RULES, "no .rules files in folder `{path}`")
FILE_UNREADABLE = Message(codes.FILE_UNREADABLE, "cannot read `{path}`: {reason}")
BAD_ENCODING = Message(codes.BAD_ENCODING, "file is not UTF-8 text (byte 0x{byte:02x} at offset {offset})")
BINARY_FILE = Message(codes.BAD_ENCODING, "file looks binary (it contains a NUL byte at offset {offset})")
FILE_TOO_LARGE = Message(
    codes.FILE_TOO_LARGE, "file is {size} bytes; rules files are limited to {limit} bytes"
)
EMPTY_FILE = Message(codes.EMPTY_FILE, "file holds no declarations")

# --- Syntax --------------------------------------------------------------------------
UNEXPECTED_TOKEN = Message(codes.SYNTAX, "unexpected {found}; expected {expected}")
UNEXPECTED_EOF = Message(codes.SYNTAX, "the file ends too early; expected {expected}")
UNCLOSED_BLOCK = Message(
    codes.UNCLOSED_BLOCK, "`{block}` opened at line {line} is still open at the end of the file"
)
UNCLOSED_BLOCK_AT = Message(
    codes.UNCLOSED_BLOCK, "unexpected {found} inside the `{block}` opened at line {line}; expected {expected}"
)
UNEXPECTED_END = Message(codes.UNEXPECTED_END, "`end` does not close anything here")
UNTERMINATED_STRING = Message(codes.UNTERMINATED_STRING, "string is not closed before the end of the line")
INVALID_CHARACTER = Message(codes.INVALID_CHARACTER, "character {char!r} has no meaning here")
KEYWORD_AS_NAME = Message(codes.KEYWORD_AS_NAME, "`{word}` is a keyword and cannot be used as a name")
UPPERCASE_KEYWORD = Message(codes.SYNTAX, "unexpected `{word}`; keywords are lower case")
COMPARE_WITH_EQUALS = Message(codes.COMPARISON_OPERATOR, "`=` assigns; to compare, write `==`")
CHAINED_COMPARISON = Message(codes.COMPARISON_OPERATOR, "comparisons cannot be chained")
TOO_DEEP = Message(codes.TOO_DEEP, "nesting is deeper than {limit} levels")
UNSAFE_CHARACTER = Message(codes.UNSAFE_CHARACTER, "the string holds {what}")
NAME_TOO_LONG = Message(codes.NAME_TOO_LONG, "a name of {length} characters; names are at most {limit}")

# --- Names ---------------------------------------------------------------------------
UNDEFINED_NAME = Message(codes.UNDEFINED_NAME, "`{name}` is not defined")
UNDEFINED_MEMBER = Message(codes.UNDEFINED_NAME, "`{owner}` has no {what} `{name}`")
UNDEFINED_STATE = Message(codes.UNDEFINED_NAME, "state machine `{machine}` has no state `{name}`")
DUPLICATE_NAME = Message(codes.DUPLICATE_NAME, "`{name}` is already defined")
AMBIGUOUS_MEMBER = Message(codes.AMBIGUOUS_NAME, "`{name}` is a member of several enumerations: {owners}")
CONFUSABLE_NAME = Message(codes.CONFUSABLE_NAME, "`{name}` looks like `{other}`")
UNUSED = Message(codes.UNUSED, "{kind} `{name}` is never used")
OUTPUT_NOT_WRITTEN = Message(codes.OUTPUT_NOT_WRITTEN, "output `{name}` is never set")
UNKNOWN_UNIT = Message(codes.UNKNOWN_UNIT, "unknown unit `{unit}`")
UNKNOWN_TYPE = Message(codes.UNDEFINED_NAME, "`{name}` is not a type or a unit")
UNKNOWN_REQUIREMENT = Message(codes.UNKNOWN_REQUIREMENT, "requirement `{name}` is not declared")
UNCOVERED_REQUIREMENT = Message(codes.UNCOVERED_REQUIREMENT, "requirement `{name}` is not cited by any rule")

# --- Types and units -----------------------------------------------------------------
TYPE_MISMATCH = Message(codes.TYPE_MISMATCH, "{context}: expected {expected}, found {found}")
OPERAND_TYPE = Message(codes.TYPE_MISMATCH, "`{op}` cannot be applied to {found}")
UNIT_MISMATCH = Message(codes.UNIT_MISMATCH, "{context}: {left} and {right} are different quantities")
ABSOLUTE_TEMPERATURE = Message(codes.ABSOLUTE_TEMPERATURE, "{problem}")
MISSING_UNIT = Message(
    codes.MISSING_UNIT, "{context}: the number {value} has no unit, but {expected} is expected"
)
BAD_CALL = Message(codes.BAD_CALL, "{problem}")
NOT_ASSIGNABLE = Message(codes.NOT_ASSIGNABLE, "cannot assign to {kind} `{name}`")
NOT_CONSTANT = Message(
    codes.NOT_CONSTANT, "{context} must be known before the first scan, but it reads {kind} `{name}`"
)
NOT_FIXED = Message(
    codes.NOT_CONSTANT,
    "{context} is fixed when the rules are compiled, but it reads parameter `{name}`, which a site may set",
)
CIRCULAR_CONSTANT = Message(codes.CIRCULAR_CONSTANT, "const `{name}` is defined through itself")
DIVISION_BY_ZERO = Message(codes.DIVISION_BY_ZERO, "division by zero")
INVALID_CLAUSE = Message(codes.INVALID_CLAUSE, "{problem}")

# --- Semantics -----------------------------------------------------------------------
CONFLICTING_WRITERS = Message(
    codes.CONFLICTING_WRITERS, "`{name}` is written by {first} and by {second} without distinct priorities"
)
OUT_OF_RANGE = Message(codes.OUT_OF_RANGE, "{what} {value} is outside the range {low} .. {high} of `{name}`")
NUMBER_TOO_LARGE = Message(
    codes.OUT_OF_RANGE, "the number `{text}` is beyond the largest a PLC or Python can hold (about 1.8e308)"
)
EMPTY_RANGE = Message(codes.EMPTY_RANGE, "range {low} .. {high} is empty: its low end is above its high end")
HYSTERESIS_ORDER = Message(
    codes.HYSTERESIS_ORDER,
    "hysteresis `{name}`: the `below` threshold {low} is not below the `above` threshold {high}",
)
TABLE_GAP = Message(codes.TABLE_GAP, "table `{name}` has no row for {key} {gap}")
TABLE_OVERLAP = Message(
    codes.TABLE_OVERLAP, "table `{name}`: this row overlaps row {other} for {key} {overlap}"
)
TABLE_SHAPE = Message(codes.TABLE_SHAPE, "{problem}")
CURVE_ORDER = Message(
    codes.CURVE_ORDER, "curve `{name}`: input {x} is not above the previous point's {previous}"
)
CURVE_DISCONTINUOUS = Message(codes.CURVE_DISCONTINUOUS, "curve `{name}` jumps at {x}: {y1} and {y2}")
CURVE_NOT_MONOTONIC = Message(
    codes.CURVE_NOT_MONOTONIC,
    "curve `{name}` is declared {direction} but goes from {y1} to {y2} between {x1} and {x2}",
)
CONSTRAINT = Message(codes.CONSTRAINT, "`require {name}` does not hold: {values}")
NO_INITIAL_STATE = Message(codes.INITIAL_STATE, "state machine `{name}` has no initial state")
SEVERAL_INITIAL_STATES = Message(
    codes.INITIAL_STATE, "state machine `{name}` has more than one initial state"
)
UNREACHABLE_STATE = Message(
    codes.UNREACHABLE_STATE, "state `{name}` cannot be reached from the initial state `{initial}`"
)
DEAD_END_STATE = Message(codes.DEAD_END_STATE, "state `{name}` has no transition out of it")
WIRING = Message(codes.WIRING, "{problem}")

# --- Values --------------------------------------------------------------------------
NEVER_TRUE = Message(codes.NEVER_TRUE, "{what} is never true: {why}")
ALWAYS_TRUE = Message(codes.ALWAYS_TRUE, "{what} is always true: {why}")
ALARM_NEVER_RAISES = Message(codes.ALARM_NEVER_RAISES, "alarm `{name}` can never raise: {why}")
SHADOWED_BRANCH = Message(codes.SHADOWED_BRANCH, "this branch is never taken: {why}")
SHADOWED_TRANSITION = Message(codes.SHADOWED_TRANSITION, "the transition to `{target}` never fires: {why}")
UNGUARDED_DIVISION = Message(codes.UNGUARDED_DIVISION, "the divisor can be 0 here: {why}")
NARROW_DOMAIN = Message(codes.NARROW_DOMAIN, "{kind} `{name}` covers {covers}, but is called with {key}")
BAND_CAN_INVERT = Message(codes.BAND_CAN_INVERT, "{what}: {why}")
BAND_TOO_NARROW = Message(codes.BAND_TOO_NARROW, "{what}: {why}")
TIMER_EXCEEDS_TIMEOUT = Message(codes.TIMER_EXCEEDS_TIMEOUT, "{what}: {why}")
SCHEDULE_OVERLAP = Message(
    codes.SCHEDULE_OVERLAP, "schedule `{name}`: this period overlaps {other} on {days}"
)
LATCHED_OUTPUT = Message(
    codes.LATCHED_OUTPUT, "`{name}` is set to {value} here and nothing ever sets it back to {start}"
)
LATCHED_IN_BRANCHES = Message(
    codes.LATCHED_OUTPUT,
    "`{name}` is set in {set_in} of the {total} branches of this `if` and keeps its last value in the others",
)
CANCELLED_ACTION = Message(codes.CANCELLED_ACTION, "{what}")
UNSAFE_FALLBACK = Message(codes.UNSAFE_FALLBACK, "{what}")
PERCENT_AS_FRACTION = Message(
    codes.PERCENT_AS_FRACTION, "`{text}` looks like a fraction written as a percentage: {why}"
)
LITERAL_UNDERFLOW = Message(codes.LITERAL_UNDERFLOW, "`{text}` is stored as {stored}: {why}")
UNIT_PATCH = Message(codes.UNIT_PATCH, "`{op} {text}` changes only the unit, not the value: {why}")
POWER_VS_ENERGY = Message(codes.POWER_VS_ENERGY, "{what}")

# --- Targets -------------------------------------------------------------------------
TARGET_RENAME = Message(codes.TARGET_RENAME, "`{name}` is written `{used}` in the {dialect} output")
TARGET_UNSUPPORTED = Message(codes.TARGET_UNSUPPORTED, "the {dialect} dialect cannot express {what}")

# --- Scenarios -----------------------------------------------------------------------
SCENARIO_NAME = Message(codes.SCENARIO_NAME, "{problem}")
SCENARIO_VALUE = Message(codes.SCENARIO_VALUE, "{problem}")
SCENARIO_STRUCTURE = Message(codes.SCENARIO_STRUCTURE, "{problem}")

# --- Site parameter files ------------------------------------------------------------
SITE_FILE = Message(codes.SITE_FILE, "{problem}")
POINTS_FILE = Message(codes.POINTS_FILE, "{problem}")
FLEET_MANIFEST = Message(codes.FLEET_MANIFEST, "{problem}")
POINTS_UNIT = Message(codes.POINTS_UNIT, "{problem}")
POINTS_UNMAPPED = Message(codes.POINTS_UNMAPPED, "input `{column}` is mapped to no field point")
SITE_PARAMETER = Message(codes.SITE_PARAMETER, "{problem}")
SITE_VALUE = Message(codes.SITE_VALUE, "{problem}")
PLANT_FILE = Message(codes.PLANT_FILE, "{problem}")
WEATHER_FILE = Message(codes.WEATHER_FILE, "{problem}")
TREND_FILE = Message(codes.TREND_FILE, "{problem}")
SCENARIO_FAILED = Message(codes.SCENARIO_FAILED, "scenario `{scenario}` fails {problem}")
SCENARIO_BROKE = Message(codes.SCENARIO_FAILED, "scenario `{scenario}` could not run: {problem}")
RULES_BROKEN = Message(codes.SCENARIO_FAILED, "the rules package of this scenario has errors: {first}")
