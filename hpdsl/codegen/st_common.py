"""What the Structured Text generator's parts share: the limits and reserved words of the
dialects, literals and names, the pieces of output (`StOutput`, a POU), the helpers that read
the IR, and the state of one generation (`StBase`: what the parts record, the methods one part
calls in another, and what the program printers ask of the generator).

May import: hpdsl.base, hpdsl.compile.ir, hpdsl.codegen.emitter, hpdsl.codegen.naming,
hpdsl.codegen.templates.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import ClassVar

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.plc_names import IEC_RESERVED as IEC_RESERVED
from hpdsl.base.plc_names import UNSAFE_CHARACTERS as UNSAFE_CHARACTERS
from hpdsl.base.plc_names import sanitized
from hpdsl.base.plc_names import shortened as shortened
from hpdsl.base.source import Span
from hpdsl.codegen.emitter import Emitter
from hpdsl.codegen.escape import st_comment
from hpdsl.codegen.naming import upper_snake
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
        base = sanitized(wanted)
        limit = self.generator.max_identifier
        candidate = shortened(base, limit) if limit and len(base) > limit else base
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
    # Longest identifier the dialect's tools take: strict IEC tools count 31 significant
    # characters. `identifier_limit` overrides it per build (0: no limit).
    max_identifier: int | None = 31
    local_prefix: ClassVar[str] = ""
    comment_open: ClassVar[str] = "(*"
    comment_close: ClassVar[str] = "*)"
    formal_calls: ClassVar[bool] = False  # standard functions called with named inputs (`IN1 := a`)
    enum_constants: ClassVar[bool] = False  # enumerations as integer constants (no enum types)
    main_kind: ClassVar[str] = "PROGRAM"  # what runs every block once per cycle

    def __init__(
        self,
        package: ir.Package,
        *,
        real: str = "LREAL",
        source_comments: bool = True,
        identifier_limit: int | None = None,
    ) -> None:
        if real not in ("REAL", "LREAL"):
            raise ValueError(f"real type must be REAL or LREAL, not {real}")
        if identifier_limit is not None:
            if identifier_limit != 0 and identifier_limit < 16:
                raise ValueError(
                    f"an identifier limit below 16 leaves no room for a name: {identifier_limit}"
                )
            self.max_identifier = identifier_limit or None
        self.renames: list[tuple[str, str, ir.Origin | None]] = []  # (rules name, name used, where)
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
        return self.globals.names[key]

    # ------------------------------------------------------------------ dialect hooks
    def type_name(self, vt: ir.ValueType) -> str:
        if vt.kind == "enum":
            assert vt.enum is not None
            return "DINT" if self.enum_constants else self.global_name("type", vt.enum)
        return {"bool": "BOOL", "int": "DINT", "real": self.real}[vt.kind]

    def block_name(self, name: str) -> str:
        """How a type, function or block is named where it is used or declared."""
        return name

    def local(self, name: str) -> str:
        """How a variable of the block being printed is written in statements."""
        return f"{self.local_prefix}{name}"

    def enum_literal(self, enum: str, member: str) -> str:
        return self.global_name("member", enum, member)

    def comment(self, text: str) -> str:
        return f"{self.comment_open} {st_comment(text)} {self.comment_close}"

    def real_literal(self, value: float, origin: ir.Origin | None = None) -> str:
        if not math.isfinite(value):
            self.unsupported(f"the number {value!r}", origin, "Structured Text has no literal for it")
            return "0.0"
        if self.real == "REAL":
            if abs(value) > 3.4028234663852886e38:
                self.unsupported(
                    f"the number {value!r} (beyond the range of REAL)",
                    origin,
                    "compile with --real LREAL, or use a smaller value",
                )
                return "0.0"
            # print the single-precision value the PLC will hold, so the text says what runs
            single = struct.unpack("f", struct.pack("f", value))[0]
            if single != value:
                return real_text(float(f"{single:.9g}"))
        return real_text(value)

    def string_literal(self, text: str) -> str:
        return "'" + text[:LOG_TEXT].replace("$", "$$").replace("'", "$'") + "'"

    def declaration(self, name: str, type_name: str, initial: str = "", comment: str = "") -> str:
        """`name : TYPE := initial; (* comment *)`, as every variable block and structure declares."""
        text = f"{name} : {type_name}"
        if initial:
            text += f" := {initial}"
        text += ";"
        if comment:
            text += f" {self.comment(comment)}"
        return text

    def _doc_comment(self, doc: str, origin: ir.Origin | None, cites: tuple[str, ...]) -> list[str]:
        lines = []
        if doc.strip():
            lines.append(self.comment(flat_text(doc)))
        if self.source_comments and origin is not None:
            where = origin.describe() + (f" ({', '.join(cites)})" if cites else "")
            lines.append(self.comment(f"Source: {where}"))
        elif cites:
            lines.append(self.comment(f"Requirements: {', '.join(cites)}"))
        return lines

    def _pous(self) -> list[Pou]:
        raise NotImplementedError  # defined in a mixin

    def enum_constant_entries(self, exprs: list[ir.Expr]) -> list[tuple[str, str, str, str]]:
        """(name, type, value, comment) of a constant for each enumeration member the expressions use."""
        used: set[tuple[str, str]] = set()
        for expr in exprs:
            if isinstance(expr, ir.Literal_) and expr.type.kind == "enum":
                assert expr.type.enum is not None and isinstance(expr.value, str)
                used.add((expr.type.enum, expr.value))
        return [
            (self.global_name("member", enum.name, member), "DINT", str(k), f"{enum.name}.{member}")
            for enum in self.package.enums
            for k, member in enumerate(enum.members)
            if (enum.name, member) in used
        ]

    def _xml_var(self, name: str, type_name: str, initial: str = "", doc: str = "") -> dict[str, object]:
        return {"name": name, "type": type_name, "initial": initial, "doc": doc}

    def _source_map(self, file: str, text: str, pous: list[Pou], version: str) -> str:
        raise NotImplementedError  # defined in a mixin

    def _most_record_values(self) -> int:
        """The most values one log record must hold: the largest event or alarm record."""
        most = 1
        for program in self.package.programs:
            for stmt in ir.walk_stmts(program.scan):
                if isinstance(stmt, ir.Log):
                    most = max(most, len(stmt.fields))
                elif isinstance(stmt, ir.AlarmChange):
                    most = max(most, len(stmt.values))
        return most

    def _number_events(self) -> dict[tuple[str, str, tuple[str, ...]], int]:
        """A number for every kind of record the package logs: (program, event or alarm, field names).

        Records carry the number, not text, so that a record is small and copying one is cheap;
        ``HP_EVENT_NAME``, ``HP_EVENT_SOURCE`` and ``HP_FIELD_NAME`` give the text for an HMI.
        Numbered in program order, then in the order the program's statements are written.
        """
        events: dict[tuple[str, str, tuple[str, ...]], int] = {}
        for program in self.package.programs:
            for stmt in ir.in_order(program.scan):
                key = event_key(program.name, stmt)
                if key is not None and key not in events:
                    events[key] = len(events) + 1
        return events

    def _name_globals(self) -> None:
        g = self.globals
        for enum in self.package.enums:
            g.name(("type", enum.name), enum.name, enum.origin)
        for helper in ("HpLogEntry", "HpEventLog"):
            g.name(("type", helper), helper, report=False)
        self._name_members()
        for function in SUPPORT_FUNCTIONS:
            g.name(("fn", function), function, report=False)
        for enum in self.package.enums:
            g.name(("ordinal", enum.name), f"HP_{upper_snake(enum.name)}_ORDINAL", report=False)
        for table in self.tables.values():
            for column, _ in table.columns:
                g.name(("column", table.name, column), f"{table.name}_{column}", table.origin)
        for curve in self.curves.values():
            g.name(("curve", curve.name), curve.name, curve.origin)
        for program in self.package.programs:
            g.name(("type", program.name), program.name, program.origin)
        g.name(("main",), f"{self.package.name}_main", report=False)

    def to_real(self, text: str, vt: ir.ValueType) -> str:
        if vt.kind == "bool":
            return self.call(
                "SEL", [text, self.real_literal(0.0), self.real_literal(1.0)], ["G", "IN0", "IN1"]
            )
        if vt.kind == "enum":
            assert vt.enum is not None
            if self.enum_constants:
                return f"DINT_TO_{self.real}({text})"
            return f"{self.block_name(self.global_name('ordinal', vt.enum))}({text})"
        if vt.kind == "int":
            return f"DINT_TO_{self.real}({text})"
        return text

    def call(self, function: str, args: list[str], formal: list[str] | None = None) -> str:
        """A call of a standard function; `formal` names its inputs where a dialect needs them."""
        if formal is not None and self.formal_calls:
            return f"{function}({', '.join(f'{n} := {a}' for n, a in zip(formal, args, strict=True))})"
        return f"{function}({', '.join(args)})"

    def enum_initial(self, enum: str, member: str) -> str:
        """An enumeration member as the initial value in a declaration."""
        return self.enum_literal(enum, member)

    def int_literal(self, value: int, origin: ir.Origin | None = None) -> str:
        if not DINT_RANGE[0] <= value <= DINT_RANGE[1]:
            self.unsupported(
                f"the whole number {value} (beyond the range of DINT)", origin, "use a smaller value"
            )
        return str(value)

    def region_open(self, out: Emitter, title: str) -> bool:
        """Open a region for a block's statements; True if `region_close` must close it."""
        out.line(self.comment(title))
        return False

    def region_close(self, out: Emitter) -> None:
        """Close what `region_open` opened (only called when it returned True)."""

    # ------------------------------------------------------------------ names
    def renamed(self, wanted: str, used: str, origin: ir.Origin | None, holder: str | None = None) -> None:
        """Report a name the dialect cannot use as written."""
        from hpdsl.base import messages

        if (wanted, used) in self._reported:
            return
        self._reported.add((wanted, used))
        self.renames.append((wanted, used, origin))
        self.diagnostics.append(
            messages.TARGET_RENAME.at(
                span_of(origin),
                dialect=self.dialect,
                name=wanted,
                used=used,
                hint=self._rename_hint(wanted, holder),
            )
        )

    def _rename_hint(self, wanted: str, holder: str | None) -> str:
        keep = "rename it in the rules to choose the name yourself"
        if wanted.upper() in self.reserved:
            return f"`{wanted}` is a keyword or standard name in Structured Text; {keep}"
        if self.max_identifier and len(wanted) > self.max_identifier:
            return f"{self.dialect} names are at most {self.max_identifier} characters; {keep}"
        if holder is not None:
            return f"it clashes with `{holder}` (Structured Text ignores case); {keep}"
        return f"Structured Text names are letters, digits and single underscores; {keep}"

    def unsupported(self, what: str, origin: ir.Origin | None, hint: str) -> None:
        """A construct this dialect cannot express: an error, never dropped silently."""
        from hpdsl.base import messages

        self.diagnostics.append(
            messages.TARGET_UNSUPPORTED.at(span_of(origin), dialect=self.dialect, what=what, hint=hint)
        )

    def _name_members(self) -> None:
        """Enumeration members: global names, prefixed with their enumeration so none repeats."""
        for enum in self.package.enums:
            for member in enum.members:
                wanted = self.member_wanted(enum.name, member)
                self.globals.name(("member", enum.name, member), wanted, enum.origin, report=False)

    def member_wanted(self, enum: str, member: str) -> str:
        return f"{upper_snake(enum)}_{upper_snake(member)}"
