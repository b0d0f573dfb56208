"""What the Structured Text generator's parts share: the limits and reserved words of the
dialects, literals and names, the pieces of output (`StOutput`, a POU), the helpers that read
the IR, and the state of one generation (`StBase`: what the parts record, the methods one part
calls in another, and what the program printers ask of the generator).

May import: hpdsl.base, hpdsl.compile.ir, hpdsl.codegen.emitter, hpdsl.codegen.naming,
hpdsl.codegen.templates.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import ClassVar

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.source import Span
from hpdsl.codegen.emitter import Emitter
from hpdsl.compile import ir

INDENT = "    "


LINE_WIDTH = 110


# How many records the event log keeps (a ring: the oldest is overwritten).
LOG_SIZE = 64


# The longest text a string literal holds: names of events, alarms, programs and fields are
# cut there, so that every compiler's plain STRING (80 characters in CODESYS, 126 in MATIEC,
# 254 in TIA Portal) holds them.
LOG_TEXT = 64


# Record kinds in the event log.
LOG_EVENT, ALARM_RAISED, ALARM_CLEARED = 1, 2, 3


DINT_RANGE = (-(2**31), 2**31 - 1)


# Keywords of IEC 61131-3 (2nd and 3rd edition) and the names of its standard data types,
# functions and function blocks: none may name a variable, in any dialect.
IEC_RESERVED = frozenset(
    [
        "ACTION",
        "ANY",
        "ANY_BIT",
        "ANY_DATE",
        "ANY_DERIVED",
        "ANY_ELEMENTARY",
        "ANY_INT",
        "ANY_MAGNITUDE",
        "ANY_NUM",
        "ANY_REAL",
        "ANY_STRING",
        "ARRAY",
        "AT",
        "BOOL",
        "BY",
        "BYTE",
        "CASE",
        "CONFIGURATION",
        "CONSTANT",
        "DATE",
        "DATE_AND_TIME",
        "DINT",
        "DO",
        "DT",
        "DWORD",
        "ELSE",
        "ELSIF",
        "EN",
        "ENO",
        "END_ACTION",
        "END_CASE",
        "END_CONFIGURATION",
        "END_FOR",
        "END_FUNCTION",
        "END_FUNCTION_BLOCK",
        "END_IF",
        "END_PROGRAM",
        "END_REPEAT",
        "END_RESOURCE",
        "END_STEP",
        "END_STRUCT",
        "END_TRANSITION",
        "END_TYPE",
        "END_VAR",
        "END_WHILE",
        "EXIT",
        "FALSE",
        "FOR",
        "FROM",
        "FUNCTION",
        "FUNCTION_BLOCK",
        "F_EDGE",
        "IF",
        "INITIAL_STEP",
        "INT",
        "INTERVAL",
        "LINT",
        "LREAL",
        "LWORD",
        "NON_RETAIN",
        "OF",
        "ON",
        "OR",
        "PRIORITY",
        "PROGRAM",
        "READ_ONLY",
        "READ_WRITE",
        "REAL",
        "REPEAT",
        "RESOURCE",
        "RETAIN",
        "RETURN",
        "R_EDGE",
        "SINGLE",
        "SINT",
        "STEP",
        "STRING",
        "STRUCT",
        "TASK",
        "THEN",
        "TIME",
        "TIME_OF_DAY",
        "TO",
        "TOD",
        "TRANSITION",
        "TRUE",
        "TYPE",
        "UDINT",
        "UINT",
        "ULINT",
        "UNTIL",
        "USINT",
        "VAR",
        "VAR_ACCESS",
        "VAR_CONFIG",
        "VAR_EXTERNAL",
        "VAR_GLOBAL",
        "VAR_INPUT",
        "VAR_IN_OUT",
        "VAR_OUTPUT",
        "VAR_TEMP",
        "WHILE",
        "WITH",
        "WORD",
        "WSTRING",
        "XOR",
        "AND",
        "NOT",
        "MOD",
        "LTIME",
        "LDATE",
        "LTOD",
        "LDT",
        "CHAR",
        "WCHAR",
        "REF",
        "REF_TO",
        "NULL",
        "THIS",
        "SUPER",
        "METHOD",
        "END_METHOD",
        "INTERFACE",
        "END_INTERFACE",
        "EXTENDS",
        "IMPLEMENTS",
        "PUBLIC",
        "PRIVATE",
        "PROTECTED",
        "INTERNAL",
        "FINAL",
        "ABSTRACT",
        "OVERRIDE",
        "NAMESPACE",
        "END_NAMESPACE",
        "USING",
        "CONTINUE",
        "PROPERTY",
        "END_PROPERTY",
        "ABS",
        "SQRT",
        "LN",
        "LOG",
        "EXP",
        "SIN",
        "COS",
        "TAN",
        "ASIN",
        "ACOS",
        "ATAN",
        "ADD",
        "MUL",
        "SUB",
        "DIV",
        "MOVE",
        "EXPT",
        "SHL",
        "SHR",
        "ROR",
        "ROL",
        "GT",
        "GE",
        "EQ",
        "LE",
        "LT",
        "NE",
        "SEL",
        "MAX",
        "MIN",
        "LIMIT",
        "MUX",
        "LEN",
        "LEFT",
        "RIGHT",
        "MID",
        "CONCAT",
        "INSERT",
        "DELETE",
        "REPLACE",
        "FIND",
        "TRUNC",
        "ROUND",
        "SR",
        "RS",
        "SEMA",
        "R_TRIG",
        "F_TRIG",
        "CTU",
        "CTD",
        "CTUD",
        "TP",
        "TON",
        "TOF",
        "RTC",
        "HYSTERESIS",
        "RAMP",
        "INTEGRAL",
        "DERIVATIVE",
        "PID",
        "LAG",
        "DEAD_TIME",
        "ALARM",
        "ACK",
        "NOW",
        "INIT",
    ]
)


UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9_]")


def real_text(value: float) -> str:
    """A REAL literal with digits on both sides of the dot: `21.0`, `1.5E-3`, `1.0E9`."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        mantissa, _, exponent = text.lower().partition("e")
        if "." not in mantissa:
            mantissa += ".0"
        sign = "-" if exponent.startswith("-") else ""
        return f"{mantissa}E{sign}{exponent.lstrip('+-')}"
    if "." not in text:
        text += ".0"
    return text


def flat_text(text: str) -> str:
    return " ".join(text.split())


class Namer:
    """Identifiers for one scope: valid in the dialect, never a reserved word, never colliding.

    ST identifiers are case-insensitive, so names are compared upper-cased. A name the
    engineer wrote that has to change is reported (``renamed``).
    """

    def __init__(self, generator: StBase, outer: Namer | None = None) -> None:
        self.generator = generator
        self.outer = outer
        self.taken: dict[str, str] = {}  # upper-cased -> as written
        self.names: dict[Hashable, str] = {}

    def _holder(self, upper: str) -> str | None:
        """What already holds a name (as written), or None while it is free."""
        scope: Namer | None = self
        while scope is not None:
            if upper in scope.taken:
                return scope.taken[upper]
            scope = scope.outer
        return upper if upper in self.generator.reserved else None

    def name(
        self, key: Hashable, wanted: str, origin: ir.Origin | None = None, *, report: bool = True
    ) -> str:
        """The identifier for `key` (first call decides), built from `wanted`."""
        if key in self.names:
            return self.names[key]
        base = UNSAFE_CHARACTERS.sub("_", wanted)
        base = re.sub(r"_{2,}", "_", base).strip("_") or "value"
        if base[0].isdigit():
            base = f"n_{base}"
        limit = self.generator.max_identifier
        candidate = base[:limit] if limit else base
        first_holder = self._holder(candidate.upper())
        counter = 0
        while self._holder(candidate.upper()) is not None:
            counter += 1
            suffix = f"_{counter}"
            stem = base[: limit - len(suffix)] if limit else base
            candidate = f"{stem}{suffix}"
        self.taken[candidate.upper()] = candidate
        self.names[key] = candidate
        if report and candidate != wanted:
            self.generator.renamed(wanted, candidate, origin, first_holder)
        return candidate


@dataclass
class Pou:
    """One program organisation unit ready for the template."""

    kind: str  # FUNCTION, FUNCTION_BLOCK, PROGRAM
    name: str
    comment: list[str]
    sections: list[tuple[str, list[str]]]  # (VAR_INPUT, declaration lines)
    body: str
    return_type: str = ""
    origins: list[ir.Origin | None] = field(default_factory=list)  # per body line
    doc: str = ""
    xml_sections: list[tuple[str, list[dict[str, object]]]] = field(default_factory=list)


@dataclass
class StOutput:
    """What a dialect generator produced: files by name, and the diagnostics."""

    files: dict[str, str]
    diagnostics: list[Diagnostic]


# The support functions every output carries, by the name they are given.
SUPPORT_FUNCTIONS = (
    "HP_FLOOR",
    "HP_DIVIDE",
    "HP_CLAMP",
    "HP_FINITE",
    "HP_RECORD",
    "HP_EVENT_NAME",
    "HP_EVENT_SOURCE",
    "HP_FIELD_NAME",
)


def call_lines(head: str, args: list[str], indent: int) -> list[str]:
    """`head` (ending in `(`) with its arguments and `);`: one line if it fits, else one a line."""
    if indent + len(head) + sum(len(a) + 2 for a in args) <= LINE_WIDTH:
        return [f"{head}{', '.join(args)});"]
    return [head, *(f"{INDENT}{arg}{',' if k < len(args) - 1 else ''}" for k, arg in enumerate(args)), ");"]


def event_key(program: str, stmt: ir.Stmt) -> tuple[str, str, tuple[str, ...]] | None:
    """What identifies a kind of log record: (program, event or alarm, field names); None for others."""
    if isinstance(stmt, ir.ReadInput):
        return (program, stmt.alarm, (stmt.input,))
    if isinstance(stmt, ir.AlarmChange):
        return (program, stmt.alarm, tuple(n for n, _ in stmt.values))
    if isinstance(stmt, ir.Log):
        return (program, stmt.event, tuple(n for n, _ in stmt.fields))
    return None


def reads_variables(expr: ir.Expr) -> bool:
    return any(isinstance(e, ir.Ref) for e in ir.walk_exprs([ir.Assign(None, "", expr)]))


def folded(expr: ir.Expr, variables: dict[str, ir.Variable]) -> bool | int | float | str:
    """The value of a constant expression, a variable read as its initial value (a parameter's default).

    Computed in Python floats in the IR's order of operations, so the value is the one the
    Python target starts with.
    """
    if isinstance(expr, ir.Literal_):
        return expr.value
    if isinstance(expr, ir.Ref):
        initial = variables[expr.name].initial
        assert initial is not None, expr.name
        return folded(initial, variables)
    if isinstance(expr, ir.Unary):
        operand = folded(expr.operand, variables)
        return (not operand) if expr.op == "not" else -operand  # type: ignore[operator]
    if isinstance(expr, (ir.Binary, ir.SafeDivide)):
        left, right = folded(expr.left, variables), folded(expr.right, variables)
        op = "/" if isinstance(expr, ir.SafeDivide) else expr.op
        if op == "/" and right == 0:
            return 0.0
        operations = {
            "+": lambda a, b: a + b,
            "-": lambda a, b: a - b,
            "*": lambda a, b: a * b,
            "/": lambda a, b: a / b,
            "mod": lambda a, b: a % b,
            "and": lambda a, b: a and b,
            "or": lambda a, b: a or b,
        }
        return operations[op](left, right)  # type: ignore[no-any-return]
    if isinstance(expr, ir.Call):
        args = [folded(a, variables) for a in expr.args]
        if expr.function == "to_real":
            return float(args[0])
        if expr.function == "abs":
            return abs(args[0])  # type: ignore[arg-type]
        if expr.function == "min":
            return min(args)
        if expr.function == "max":
            return max(args)
    raise AssertionError(f"not a constant: {expr}")


def find_block(lines: list[str], body: str, start: int) -> int | None:
    """The index of the line where `body` (a run of whole lines, maybe indented) starts."""
    body_lines = body.rstrip("\n").split("\n")
    first = body_lines[0].strip()
    for index in range(start, len(lines) - len(body_lines) + 1):
        if lines[index].strip() != first:
            continue
        if all(lines[index + k].strip() == body_lines[k].strip() for k in range(len(body_lines))):
            return index
    return None


def span_of(origin: ir.Origin | None) -> Span:
    if origin is None:
        return Span("<package>", 0, 0, 0, 0)
    return Span(origin.file, origin.line, origin.column, origin.line, origin.column + 1)


# ST precedence (IEC 61131-3 table 55), loosest first.
PRECEDENCE = {
    "or": 1,
    "xor": 2,
    "and": 3,
    "equality": 4,
    "compare": 5,
    "+": 6,
    "-": 6,
    "*": 7,
    "/": 7,
    "mod": 7,
    "unary": 8,
    "atom": 9,
}


OPERATORS = {"and": "AND", "or": "OR", "mod": "MOD", "+": "+", "-": "-", "*": "*", "/": "/"}


COMPARISONS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class StBase:
    """The state of one generation of Structured Text, shared by its parts."""

    dialect: ClassVar[str] = "iec"
    title: ClassVar[str] = "IEC 61131-3 Structured Text, strict 2nd edition (MATIEC, OpenPLC, Beremiz)"
    template: ClassVar[str] = "st/iec.st.j2"
    extension: ClassVar[str] = ".iec.st"  # the file name says the dialect: two dialects write .st
    reserved: ClassVar[frozenset[str]] = IEC_RESERVED
    max_identifier: ClassVar[int | None] = None
    local_prefix: ClassVar[str] = ""
    comment_open: ClassVar[str] = "(*"
    comment_close: ClassVar[str] = "*)"
    formal_calls: ClassVar[bool] = False  # standard functions called with named inputs (`IN1 := a`)
    enum_constants: ClassVar[bool] = False  # enumerations as integer constants (no enum types)
    main_kind: ClassVar[str] = "PROGRAM"  # what runs every block once per cycle

    def __init__(self, package: ir.Package, *, real: str = "LREAL", source_comments: bool = True) -> None:
        if real not in ("REAL", "LREAL"):
            raise ValueError(f"real type must be REAL or LREAL, not {real}")
        self.package = package
        self.real = real
        self.source_comments = source_comments
        self.diagnostics: list[Diagnostic] = []
        self._reported: set[tuple[str, str]] = set()
        self.enums = {e.name: e for e in package.enums}
        owners: list[ir.Package | ir.Program] = [package, *package.programs]
        self.tables = {t.name: t for owner in owners for t in owner.tables}
        self.curves = {c.name: c for owner in owners for c in owner.curves}
        self.log_fields = self._most_record_values()
        self.events = self._number_events()
        self.globals = Namer(self)
        self._name_globals()
        # Filled by generate(): the printer of each program and the names of the package program,
        # for tools that reach the generated code from outside (hpdsl.tools.testing.matiec's scan driver).
        self.main_names: dict[str, str] = {}

    def global_name(self, *key: str) -> str:
        raise NotImplementedError  # defined in a mixin

    def type_name(self, vt: ir.ValueType) -> str:
        raise NotImplementedError  # defined in a mixin

    def block_name(self, name: str) -> str:
        raise NotImplementedError  # defined in a mixin

    def local(self, name: str) -> str:
        raise NotImplementedError  # defined in a mixin

    def enum_literal(self, enum: str, member: str) -> str:
        raise NotImplementedError  # defined in a mixin

    def comment(self, text: str) -> str:
        raise NotImplementedError  # defined in a mixin

    def real_literal(self, value: float, origin: ir.Origin | None = None) -> str:
        raise NotImplementedError  # defined in a mixin

    def string_literal(self, text: str) -> str:
        raise NotImplementedError  # defined in a mixin

    def declaration(self, name: str, type_name: str, initial: str = "", comment: str = "") -> str:
        raise NotImplementedError  # defined in a mixin

    def _doc_comment(self, doc: str, origin: ir.Origin | None, cites: tuple[str, ...]) -> list[str]:
        raise NotImplementedError  # defined in a mixin

    def _pous(self) -> list[Pou]:
        raise NotImplementedError  # defined in a mixin

    def enum_constant_entries(self, exprs: list[ir.Expr]) -> list[tuple[str, str, str, str]]:
        raise NotImplementedError  # defined in a mixin

    def _xml_var(self, name: str, type_name: str, initial: str = "", doc: str = "") -> dict[str, object]:
        raise NotImplementedError  # defined in a mixin

    def _source_map(self, file: str, text: str, pous: list[Pou], version: str) -> str:
        raise NotImplementedError  # defined in a mixin

    def _most_record_values(self) -> int:
        raise NotImplementedError  # defined in a mixin

    def _number_events(self) -> dict[tuple[str, str, tuple[str, ...]], int]:
        raise NotImplementedError  # defined in a mixin

    def _name_globals(self) -> None:
        raise NotImplementedError  # defined in a mixin

    def to_real(self, text: str, vt: ir.ValueType) -> str:
        raise NotImplementedError  # defined in a mixin

    def call(self, function: str, args: list[str], formal: list[str] | None = None) -> str:
        raise NotImplementedError  # defined in a mixin

    def enum_initial(self, enum: str, member: str) -> str:
        raise NotImplementedError  # defined in a mixin

    def int_literal(self, value: int, origin: ir.Origin | None = None) -> str:
        raise NotImplementedError  # defined in a mixin

    def region_open(self, out: Emitter, title: str) -> bool:
        raise NotImplementedError  # defined in a mixin

    def region_close(self, out: Emitter) -> None:
        raise NotImplementedError  # defined in a mixin

    def renamed(self, wanted: str, used: str, origin: ir.Origin | None, holder: str | None = None) -> None:
        raise NotImplementedError  # defined in a mixin
