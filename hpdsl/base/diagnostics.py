"""Diagnostics as data, and the registry of their codes.

Every problem hpdsl reports has a stable code defined once here, with its default
severity and a one-line meaning. Message texts live in ``messages.py`` and are tied to
these codes, so a code and its wording cannot drift apart. ``docs/language.md`` documents
every code; a test keeps the two in step.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hpdsl.base.source import Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class ErrorCode:
    """A stable diagnostic code: its name, default severity and meaning."""

    code: str
    severity: Severity
    meaning: str
    category: str


CODES: dict[str, ErrorCode] = {}


def _code(code: str, severity: Severity, category: str, meaning: str) -> ErrorCode:
    assert code not in CODES, code
    entry = ErrorCode(code, severity, meaning, category)
    CODES[code] = entry
    return entry


E, W = Severity.ERROR, Severity.WARNING

# --- Input files ---------------------------------------------------------------------
NO_RULES = _code("no-rules", E, "input", "A folder given on the command line holds no .rules files.")
FILE_UNREADABLE = _code("file-unreadable", E, "input", "A rules file cannot be read.")
BAD_ENCODING = _code("bad-encoding", E, "input", "A rules file is not UTF-8 text (often: a binary file).")
FILE_TOO_LARGE = _code("file-too-large", E, "input", "A rules file is larger than 8 MiB.")
EMPTY_FILE = _code("empty-file", W, "input", "A rules file holds no declarations.")

# --- Syntax --------------------------------------------------------------------------
SYNTAX = _code("syntax", E, "syntax", "The text does not follow the grammar at this point.")
UNCLOSED_BLOCK = _code(
    "unclosed-block", E, "syntax", "A block (program, rule, if, state, ...) is missing its `end`."
)
UNEXPECTED_END = _code("unexpected-end", E, "syntax", "An `end` with no open block to close.")
UNTERMINATED_STRING = _code(
    "unterminated-string", E, "syntax", "A string is not closed before the end of the line."
)
INVALID_CHARACTER = _code(
    "invalid-character", E, "syntax", "A character that has no meaning in the language."
)
KEYWORD_AS_NAME = _code("keyword-as-name", E, "syntax", "A keyword is used where a name is expected.")
COMPARISON_OPERATOR = _code(
    "comparison-operator", E, "syntax", "`=` used to compare (write `==`), or comparisons chained."
)
TOO_DEEP = _code("too-deep", E, "syntax", "Expressions or blocks nested deeper than the limit.")
UNSAFE_CHARACTER = _code(
    "unsafe-character",
    E,
    "syntax",
    "A control, invisible or reordering character (such as U+202E) in a string or documentation.",
)
NAME_TOO_LONG = _code("name-too-long", E, "syntax", "A declared name longer than 40 characters.")

# --- Names ---------------------------------------------------------------------------
UNDEFINED_NAME = _code("undefined-name", E, "names", "A name that is not declared anywhere in the package.")
DUPLICATE_NAME = _code("duplicate-name", E, "names", "The same name declared twice in one scope.")
AMBIGUOUS_NAME = _code(
    "ambiguous-name", E, "names", "A bare enumeration member that belongs to several enumerations."
)
UNUSED = _code("unused", W, "names", "A declaration that nothing reads.")
CONFUSABLE_NAME = _code(
    "confusable-name",
    W,
    "names",
    "Two names that differ only in case, `0`/`O` or `1`/`l`/`I`: easy to mistake for each other.",
)
OUTPUT_NOT_WRITTEN = _code(
    "output-not-written", W, "names", "An output that no rule, state or alarm ever sets."
)
UNKNOWN_UNIT = _code("unknown-unit", E, "names", "A unit symbol hpdsl does not know.")
UNKNOWN_REQUIREMENT = _code(
    "unknown-requirement", E, "names", "A citation of a requirement ID that no `requirement` declares."
)
UNCOVERED_REQUIREMENT = _code(
    "uncovered-requirement", W, "names", "A declared requirement that nothing cites."
)

# --- Types and units -----------------------------------------------------------------
TYPE_MISMATCH = _code(
    "type-mismatch", E, "types", "A value of the wrong type (boolean, number, enumeration, duration)."
)
UNIT_MISMATCH = _code(
    "unit-mismatch", E, "types", "Quantities of different physical dimensions combined or compared."
)
ABSOLUTE_TEMPERATURE = _code(
    "absolute-temperature", E, "types", "Absolute temperatures added, scaled, or mixed with differences."
)
MISSING_UNIT = _code("missing-unit", E, "types", "A bare number where a quantity with a unit is needed.")
BAD_CALL = _code(
    "bad-call", E, "types", "A call with the wrong number or kind of arguments, or of something not callable."
)
NOT_ASSIGNABLE = _code(
    "not-assignable", E, "types", "An assignment to an input, parameter, constant or derived value."
)
NOT_CONSTANT = _code(
    "not-constant", E, "types", "An expression that must be known before the first scan reads a live value."
)
CIRCULAR_CONSTANT = _code("circular-constant", E, "types", "A constant whose value depends on itself.")
DIVISION_BY_ZERO = _code("division-by-zero", E, "types", "A division whose divisor is the constant zero.")
INVALID_CLAUSE = _code(
    "invalid-clause", E, "structure", "A clause that does not belong, is repeated, or is missing."
)

# --- Semantics -----------------------------------------------------------------------
CONFLICTING_WRITERS = _code(
    "conflicting-writers",
    E,
    "semantics",
    "Two constructs may write one output in the same scan without distinct priorities.",
)
OUT_OF_RANGE = _code(
    "out-of-range",
    E,
    "semantics",
    "A constant, default or fallback outside the declared range of its target.",
)
EMPTY_RANGE = _code("empty-range", E, "semantics", "A declared range whose low end is above its high end.")
HYSTERESIS_ORDER = _code(
    "hysteresis-order", E, "semantics", "A hysteresis whose low threshold is not below its high threshold."
)
TABLE_GAP = _code("table-gap", E, "semantics", "Key values that no row of a range table covers.")
TABLE_OVERLAP = _code(
    "table-overlap", E, "semantics", "Two rows of a range table that cover the same key values."
)
TABLE_SHAPE = _code(
    "table-shape",
    E,
    "semantics",
    "A table row whose cells do not match the header, or a column of mixed types.",
)
CURVE_ORDER = _code("curve-order", E, "semantics", "Curve points whose input values do not increase.")
CURVE_DISCONTINUOUS = _code(
    "curve-discontinuous", E, "semantics", "A curve with two outputs for one input value (a jump)."
)
CURVE_NOT_MONOTONIC = _code(
    "curve-not-monotonic", E, "semantics", "A curve declared increasing or decreasing that is not."
)
CONSTRAINT = _code(
    "constraint",
    E,
    "semantics",
    "A `require` between parameters that their values break: the defaults, or a site file's values.",
)
INITIAL_STATE = _code("initial-state", E, "semantics", "A state machine without exactly one initial state.")
UNREACHABLE_STATE = _code(
    "unreachable-state", E, "semantics", "A state no transition path reaches from the initial state."
)
DEAD_END_STATE = _code("dead-end-state", E, "semantics", "A state with no transition out of it.")
WIRING = _code(
    "wiring",
    E,
    "semantics",
    "An input wired `from` something that is not a matching output of another program.",
)

# --- Values: what the ranges of inputs and parameters prove (hpdsl.check.values) -----------
NEVER_TRUE = _code("never-true", W, "values", "A condition that no value in the declared ranges makes true.")
ALWAYS_TRUE = _code(
    "always-true", W, "values", "A condition that every value in the declared ranges makes true."
)
ALARM_NEVER_RAISES = _code(
    "alarm-never-raises", W, "values", "An alarm whose set point lies outside what its sensor can read."
)
SHADOWED_BRANCH = _code(
    "shadowed-branch", W, "values", "An `else if` branch that an earlier branch takes every case of."
)
SHADOWED_TRANSITION = _code(
    "shadowed-transition",
    W,
    "values",
    "A transition that an earlier transition of its state takes every time.",
)
UNGUARDED_DIVISION = _code(
    "unguarded-division", W, "values", "A division whose divisor can be 0 where it is evaluated."
)
NARROW_DOMAIN = _code(
    "narrow-domain", W, "values", "A table or curve called with a key beyond the keys it covers."
)
BAND_CAN_INVERT = _code(
    "band-can-invert",
    W,
    "values",
    "A hysteresis, dead band or pair of ordered thresholds that the parameters' ranges let cross or close.",
)
BAND_TOO_NARROW = _code(
    "band-too-narrow", W, "values", "A hysteresis or dead band narrower than a sensor can resolve."
)
TIMER_EXCEEDS_TIMEOUT = _code(
    "timer-exceeds-timeout",
    W,
    "values",
    "A timer in a state that its state's timeout ends before it runs out.",
)
SCHEDULE_OVERLAP = _code(
    "schedule-overlap", W, "values", "Two periods of a schedule that cover the same time."
)
LATCHED_OUTPUT = _code(
    "latched-output", W, "values", "An output or var set to one value under a condition and never set back."
)
CANCELLED_ACTION = _code(
    "cancelled-action", W, "values", "A higher-priority writer that cancels what a lower-priority one does."
)
UNSAFE_FALLBACK = _code(
    "unsafe-fallback", W, "values", "A sensor's fallback value that keeps the alarm it feeds from raising."
)
PERCENT_AS_FRACTION = _code(
    "percent-as-fraction", W, "values", "A fraction written as a percentage (`0.6 %` where 60 % was meant)."
)
LITERAL_UNDERFLOW = _code(
    "literal-underflow",
    W,
    "values",
    "A number too small (or too large) for a real: it is stored as 0 (or infinity).",
)
UNIT_PATCH = _code(
    "unit-patch", W, "values", "A multiplication or division by 1 of a unit that only makes the units agree."
)
POWER_VS_ENERGY = _code(
    "power-vs-energy",
    W,
    "values",
    "A total of a totalizer compared with a rate made into an amount by `* 1 h`.",
)

# --- Targets -------------------------------------------------------------------------
TARGET_RENAME = _code(
    "target-rename",
    W,
    "targets",
    "A name that a PLC dialect reserves, or that is too long or clashes there, is renamed in its output.",
)
TARGET_UNSUPPORTED = _code(
    "target-unsupported", E, "targets", "A construct or value that the chosen PLC dialect cannot express."
)

# --- Scenarios (`hpdsl test`) ---------------------------------------------------------
SCENARIO_NAME = _code(
    "scenario-name",
    E,
    "scenarios",
    "A scenario names a program, point, alarm or event the package does not have, or sets a wired input.",
)
SCENARIO_VALUE = _code(
    "scenario-value",
    E,
    "scenarios",
    "A value or time in a scenario of the wrong kind or unit for what it sets or expects.",
)
SCENARIO_STRUCTURE = _code(
    "scenario-structure",
    E,
    "scenarios",
    "A scenario that is well formed but cannot be run as written (a setting twice, a set inside `during`).",
)
SCENARIO_FAILED = _code(
    "scenario-failed",
    E,
    "scenarios",
    "An expectation of a scenario that does not hold when it runs (shown by the language server at its line).",
)

# --- Fleet manifests (hpdsl fleet verify) ----------------------------------------------
FLEET_MANIFEST = _code(
    "fleet-manifest",
    E,
    "fleet",
    "A fleet manifest that is not valid TOML of the expected shape, or names a site's rules, site file or trend that is not there.",
)

# --- Points files (hpdsl run) -----------------------------------------------------------
POINTS_FILE = _code(
    "points-file",
    E,
    "points",
    "A points file that is not valid TOML of the expected shape, or names a point, device or register that cannot be.",
)
POINTS_UNIT = _code(
    "points-unit",
    E,
    "points",
    "A field point whose unit does not convert to the unit the rules declare for it.",
)
POINTS_UNMAPPED = _code(
    "points-unmapped",
    E,
    "points",
    "An input of the rules that the points file maps to no field point.",
)

# --- Site parameter files --------------------------------------------------------------
SITE_FILE = _code(
    "site-file", E, "site", "A site parameter file that is not valid TOML of the expected shape."
)
SITE_PARAMETER = _code(
    "site-parameter",
    E,
    "site",
    "A site parameter file names a program or parameter the package does not have.",
)
SITE_VALUE = _code(
    "site-value",
    E,
    "site",
    "A site parameter value of the wrong type or unit, or outside the parameter's range.",
)

# --- Simulation ----------------------------------------------------------------------
PLANT_FILE = _code(
    "plant-file",
    E,
    "simulation",
    "A plant model file that is not valid TOML, names an unknown parameter or point, or holds a value of the wrong unit or outside its range.",
)
WEATHER_FILE = _code(
    "weather-file",
    E,
    "simulation",
    "A weather file that cannot be read: a missing time or temperature column, an unreadable value, times out of order, or too short for the run.",
)
TREND_FILE = _code(
    "trend-file",
    E,
    "simulation",
    "A recorded trend file that cannot be read or does not match the package.",
)

del E, W


@dataclass(frozen=True)
class Note:
    """Extra context attached to a diagnostic, optionally pointing at another span."""

    message: str
    span: Span | None = None


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in the rules."""

    code: str
    severity: Severity
    span: Span
    message: str
    hint: str | None = None
    notes: tuple[Note, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, int, int, str, str]:
        """The output order: by file, line, column and code, then by everything else."""
        span = self.span
        return (
            span.file,
            span.line,
            span.column,
            self.code,
            span.end_line,
            span.end_column,
            self.severity.value,
            self.message,
        )


def promote_warnings(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """`--strict`: every warning becomes an error."""
    return [
        Diagnostic(d.code, Severity.ERROR, d.span, d.message, d.hint, d.notes)
        if d.severity is Severity.WARNING
        else d
        for d in diagnostics
    ]
