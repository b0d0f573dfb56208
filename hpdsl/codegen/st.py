"""The Structured Text targets: IEC 61131-3 ST in the flavours PLC vendors use, printed from the IR.

One generator prints the lowered IR of a package as function blocks; each vendor dialect is
a subclass that overrides small tables and hooks - the type names, reserved words, how an
enumeration member, a local variable or a block name is written, comments, regions - never
the logic. Every dialect prints the same statements in the same order, so the PLC computes
exactly what the Python target computes.

What a program becomes (see ``docs/targets.md``):

- a FUNCTION_BLOCK named as the program, with VAR_INPUT (the time since the previous call,
  the inputs, each with an ``<input>_io_fault`` flag the I/O card's status drives, then the
  parameters with their defaults), VAR_OUTPUT (outputs, machine states, alarms, sensor-fault
  flags, and the records of this call), VAR_OUTPUT RETAIN (totals, counters, latched alarms)
  and VAR (the memory of timers, edges and machines); nothing large is passed in or out;
- timers as cycle-time arithmetic: the caller passes ``cycle_time_s`` and every timer adds it,
  as the Python target adds ``dt_s`` (no TON/TOF/TP, so a PLC and a simulation agree to the
  scan);
- tables and curves as FUNCTIONs, enumerations as TYPE declarations, and a PROGRAM that
  calls the blocks in wiring order and appends their records to the event log;
- the only support code, emitted once with the output: the event log (a ring of numbered
  records, and functions giving their text) and a few small functions (floor, safe division,
  clamp, finiteness, enumeration ordinals).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import struct
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import ClassVar

from hpdsl import ir
from hpdsl.codegen.emitter import Emitter
from hpdsl.codegen.naming import snake, upper_snake
from hpdsl.diagnostics import Diagnostic
from hpdsl.source import Span

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

_SAFE = re.compile(r"[^A-Za-z0-9_]")


def _real_text(value: float) -> str:
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


def _flat(text: str) -> str:
    return " ".join(text.split())


class _Namer:
    """Identifiers for one scope: valid in the dialect, never a reserved word, never colliding.

    ST identifiers are case-insensitive, so names are compared upper-cased. A name the
    engineer wrote that has to change is reported (``renamed``).
    """

    def __init__(self, generator: StGenerator, outer: _Namer | None = None) -> None:
        self.generator = generator
        self.outer = outer
        self.taken: dict[str, str] = {}  # upper-cased -> as written
        self.names: dict[Hashable, str] = {}

    def _holder(self, upper: str) -> str | None:
        """What already holds a name (as written), or None while it is free."""
        scope: _Namer | None = self
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
        base = _SAFE.sub("_", wanted)
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
class _Pou:
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


class StGenerator:
    """Prints an IR package as IEC 61131-3 Structured Text (strict 2nd edition; MATIEC accepts it)."""

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
        self.globals = _Namer(self)
        self._name_globals()
        # Filled by generate(): the printer of each program and the names of the package program,
        # for tools that reach the generated code from outside (hpdsl.matiec's scan driver).
        self.printers: dict[str, _ProgramPrinter] = {}
        self.main_names: dict[str, str] = {}

    # ------------------------------------------------------------------ names
    def renamed(self, wanted: str, used: str, origin: ir.Origin | None, holder: str | None = None) -> None:
        """Report a name the dialect cannot use as written."""
        from hpdsl import messages

        if (wanted, used) in self._reported:
            return
        self._reported.add((wanted, used))
        self.diagnostics.append(
            messages.TARGET_RENAME.at(
                _span(origin),
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
        from hpdsl import messages

        self.diagnostics.append(
            messages.TARGET_UNSUPPORTED.at(_span(origin), dialect=self.dialect, what=what, hint=hint)
        )

    def _name_globals(self) -> None:
        g = self.globals
        for enum in self.package.enums:
            g.name(("type", enum.name), enum.name, enum.origin)
        for helper in ("HpLogEntry", "HpEventLog"):
            g.name(("type", helper), helper, report=False)
        self._name_members()
        for function in _SUPPORT_FUNCTIONS:
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

    def _name_members(self) -> None:
        """Enumeration members: global names, prefixed with their enumeration so none repeats."""
        for enum in self.package.enums:
            for member in enum.members:
                wanted = self.member_wanted(enum.name, member)
                self.globals.name(("member", enum.name, member), wanted, enum.origin, report=False)

    def global_name(self, *key: str) -> str:
        return self.globals.names[key]

    def member_wanted(self, enum: str, member: str) -> str:
        return f"{upper_snake(enum)}_{upper_snake(member)}"

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

    def enum_initial(self, enum: str, member: str) -> str:
        """An enumeration member as the initial value in a declaration."""
        return self.enum_literal(enum, member)

    def comment(self, text: str) -> str:
        return f"{self.comment_open} {text.replace('(*', '( *').replace('*)', '* )')} {self.comment_close}"

    def region_open(self, out: Emitter, title: str) -> bool:
        """Open a region for a block's statements; True if `region_close` must close it."""
        out.line(self.comment(title))
        return False

    def region_close(self, out: Emitter) -> None:
        """Close what `region_open` opened (only called when it returned True)."""

    def call(self, function: str, args: list[str], formal: list[str] | None = None) -> str:
        """A call of a standard function; `formal` names its inputs where a dialect needs them."""
        if formal is not None and self.formal_calls:
            return f"{function}({', '.join(f'{n} := {a}' for n, a in zip(formal, args, strict=True))})"
        return f"{function}({', '.join(args)})"

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
                return _real_text(float(f"{single:.9g}"))
        return _real_text(value)

    def int_literal(self, value: int, origin: ir.Origin | None = None) -> str:
        if not DINT_RANGE[0] <= value <= DINT_RANGE[1]:
            self.unsupported(
                f"the whole number {value} (beyond the range of DINT)", origin, "use a smaller value"
            )
        return str(value)

    def string_literal(self, text: str) -> str:
        return "'" + text[:LOG_TEXT].replace("$", "$$").replace("'", "$'") + "'"

    # ------------------------------------------------------------------ the output
    def generate(self, version: str) -> StOutput:
        """The dialect's files (source, and a JSON source map) and the diagnostics."""
        from hpdsl.codegen.templates import render

        pous = self._pous()
        text = render(
            self.template,
            generator=self,
            header=self._header(version),
            types=self._types(),
            pous=pous,
            log_types=self.log_types(),
        )
        name = f"{self.package.name}{self.extension}"
        return StOutput(
            {name: text, f"{name}.map.json": self._source_map(name, text, pous, version)}, self.diagnostics
        )

    def _header(self, version: str) -> list[str]:
        lines = [
            f"Heat-pump control rules `{self.package.name}`, compiled by hpdsl {version}.",
            f"Dialect: {self.dialect} - {self.title}; real numbers as {self.real}.",
            "Generated from the rules files below; do not edit, change the rules and compile again.",
        ]
        lines.extend(f"    {source}" for source in self.package.sources)
        lines.append(
            f"Each program is a function block: call it once per task cycle with cycle_time_s (s);"
            f" `{self.global_name('main')}` calls them all in wiring order."
        )
        return lines

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

    def log_types(self) -> list[dict[str, object]]:
        """The event log's record (name, doc, fields as (name, type, initial, comment)).

        One description for every layout: the ST and SCL templates and the PLCopen data types.
        """
        entry = self.block_name(self.global_name("type", "HpLogEntry"))
        event_name = self.global_name("fn", "HP_EVENT_NAME")
        field_name = self.global_name("fn", "HP_FIELD_NAME")
        return [
            {
                "name": entry,
                "doc": "One record of the event log: an event logged, or an alarm raised or cleared.",
                "fields": [
                    ("kind", "INT", "", "1 event logged, 2 alarm raised, 3 alarm cleared"),
                    ("event", "INT", "", f"which event or alarm: {event_name}(event), 0 in an empty record"),
                    ("time_s", self.real, "", "s since the program started"),
                    ("field_count", "INT", "", "values 1 .. field_count hold values, the rest 0"),
                    (
                        "field_value",
                        f"ARRAY[1..{self.log_fields}] OF {self.real}",
                        "",
                        f"value k is {field_name}(event, k); booleans 0/1, enumerations their position",
                    ),
                ],
            },
        ]

    def declaration(self, name: str, type_name: str, initial: str = "", comment: str = "") -> str:
        """`name : TYPE := initial; (* comment *)`, as every variable block and structure declares."""
        text = f"{name} : {type_name}"
        if initial:
            text += f" := {initial}"
        text += ";"
        if comment:
            text += f" {self.comment(comment)}"
        return text

    def _types(self) -> list[dict[str, object]]:
        types: list[dict[str, object]] = []
        for enum in self.package.enums:
            members = [self.global_name("member", enum.name, m) for m in enum.members]
            types.append(
                {
                    "kind": "enum",
                    "name": self.block_name(self.global_name("type", enum.name)),
                    "members": members,
                    "values": list(range(len(members))),
                    "doc": _flat(enum.doc),
                    "comment": self._doc_comment(enum.doc, enum.origin, enum.cites),
                }
            )
        return types

    def _doc_comment(self, doc: str, origin: ir.Origin | None, cites: tuple[str, ...]) -> list[str]:
        lines = []
        if doc.strip():
            lines.append(self.comment(_flat(doc)))
        if self.source_comments and origin is not None:
            where = origin.describe() + (f" ({', '.join(cites)})" if cites else "")
            lines.append(self.comment(f"Source: {where}"))
        elif cites:
            lines.append(self.comment(f"Requirements: {', '.join(cites)}"))
        return lines

    def _pous(self) -> list[_Pou]:
        pous = [self._floor(), self._divide(), self._clamp(), self._finite()]
        if not self.enum_constants:
            pous.extend(self._ordinal(enum) for enum in self.package.enums)
        pous.extend([self._record(), *self._event_texts(), self._log_block()])
        for table in self.tables.values():
            pous.extend(self._table_column(table, k) for k in range(len(table.columns)))
        pous.extend(self._curve(curve) for curve in self.curves.values())
        self.printers = {program.name: _ProgramPrinter(self, program) for program in self.package.programs}
        pous.extend(printer.pou() for printer in self.printers.values())
        pous.append(self._main(self.printers))
        return pous

    # ------------------------------------------------------------------ support code
    def _function(
        self, name: str, return_type: str, inputs: list[tuple[str, str]], body: Emitter, comment: list[str]
    ) -> _Pou:
        declarations = [self.declaration(n, t) for n, t in inputs]
        return _Pou(
            "FUNCTION",
            self.block_name(name),
            comment,
            [("VAR_INPUT", declarations)],
            body.text(),
            return_type,
            origins=[None] * len(body.lines),
            xml_sections=[("inputVars", [self._xml_var(n, t) for n, t in inputs])],
        )

    def _floor(self) -> _Pou:
        name = self.global_name("fn", "HP_FLOOR")
        result, x = self.local(name), self.local("x")
        out = Emitter(INDENT)
        out.line(f"{result} := TRUNC({x});")
        out.line(f"IF DINT_TO_{self.real}({result}) > {x} THEN")
        out.line(f"{INDENT}{result} := {result} - 1;")
        out.line("END_IF;")
        comment = [self.comment("The largest whole number not above x (TRUNC rounds towards zero).")]
        return self._function(name, "DINT", [("x", self.real)], out, comment)

    def _divide(self) -> _Pou:
        name = self.global_name("fn", "HP_DIVIDE")
        result, a, b = self.local(name), self.local("dividend"), self.local("divisor")
        out = Emitter(INDENT)
        out.line(f"IF {b} = {self.real_literal(0.0)} THEN")
        out.line(f"{INDENT}{result} := {self.real_literal(0.0)};")
        out.line("ELSE")
        out.line(f"{INDENT}{result} := {a} / {b};")
        out.line("END_IF;")
        comment = [
            self.comment("dividend / divisor, and 0 when the divisor is 0 (a COP with no power drawn).")
        ]
        return self._function(
            name, self.real, [("dividend", self.real), ("divisor", self.real)], out, comment
        )

    def _clamp(self) -> _Pou:
        name = self.global_name("fn", "HP_CLAMP")
        result, x, low, high = (self.local(n) for n in (name, "x", "low", "high"))
        out = Emitter(INDENT)
        out.line(f"IF NOT ({x} >= {low}) THEN")
        out.line(f"{INDENT}{result} := {low};")
        out.line(f"ELSIF {x} > {high} THEN")
        out.line(f"{INDENT}{result} := {high};")
        out.line("ELSE")
        out.line(f"{INDENT}{result} := {x};")
        out.line("END_IF;")
        comment = [self.comment("x held within low .. high; a value that is not a number gives low.")]
        inputs = [("x", self.real), ("low", self.real), ("high", self.real)]
        return self._function(name, self.real, inputs, out, comment)

    def _finite(self) -> _Pou:
        name = self.global_name("fn", "HP_FINITE")
        x = self.local("x")
        out = Emitter(INDENT)
        out.line(f"{self.local(name)} := {x} - {x} = {self.real_literal(0.0)};")
        comment = [
            self.comment(
                "TRUE when x is a number and not infinite: x - x is 0 for every finite x, and not a"
                " number for an infinite one or for not a number (IEEE 754)."
            )
        ]
        return self._function(name, "BOOL", [("x", self.real)], out, comment)

    def _record(self) -> _Pou:
        """HP_RECORD: one log record from its parts; values past the field count are 0, never stale."""
        name = self.global_name("fn", "HP_RECORD")
        result = self.local(name)
        out = Emitter(INDENT)
        for fld in ("kind", "event", "time_s", "field_count"):
            out.line(f"{result}.{fld} := {self.local(fld)};")
        for k in range(1, self.log_fields + 1):
            out.line(f"{result}.field_value[{k}] := {self.local(f'value_{k}')};")
        inputs = [("kind", "INT"), ("event", "INT"), ("time_s", self.real), ("field_count", "INT")]
        inputs += [(f"value_{k}", self.real) for k in range(1, self.log_fields + 1)]
        comment = [
            self.comment(
                "One record of the event log from its parts. Every call passes every value, 0 past the"
                " field count, so a record never carries a value from an earlier one."
            )
        ]
        entry = self.block_name(self.global_name("type", "HpLogEntry"))
        return self._function(name, entry, inputs, out, comment)

    def _event_texts(self) -> list[_Pou]:
        """HP_EVENT_NAME, HP_EVENT_SOURCE and HP_FIELD_NAME: the text of a record's numbers."""
        event = self.local("event")
        pous = []
        for function, part, doc in (  # part: 1 the event's name, 0 its program
            ("HP_EVENT_NAME", 1, "The name of an event or alarm, by the number a log record carries."),
            ("HP_EVENT_SOURCE", 0, "The program that logs an event or raises an alarm, by its number."),
        ):
            name = self.global_name("fn", function)
            out = Emitter(INDENT)
            out.line(f"{self.local(name)} := '';")
            if self.events:
                out.line(f"CASE {event} OF")
                for (program, event_name, _), number in self.events.items():
                    text = self.string_literal(event_name if part else program)
                    out.line(f"{INDENT}{number}: {self.local(name)} := {text};")
                out.line("END_CASE;")
            pous.append(self._function(name, "STRING", [("event", "INT")], out, [self.comment(doc)]))
        name = self.global_name("fn", "HP_FIELD_NAME")
        out = Emitter(INDENT)
        out.line(f"{self.local(name)} := '';")
        named = [(number, key[2]) for key, number in self.events.items() if key[2]]
        if named:
            out.line(f"CASE {event} OF")
            for number, fields in named:
                out.line(f"{INDENT}{number}:")
                out.line(f"{INDENT * 2}CASE {self.local('field')} OF")
                for k, field_name in enumerate(fields, start=1):
                    out.line(f"{INDENT * 3}{k}: {self.local(name)} := {self.string_literal(field_name)};")
                out.line(f"{INDENT * 2}END_CASE;")
            out.line("END_CASE;")
        doc = "The name of value `field` (1 = first) of a log record with the number `event`."
        pous.append(
            self._function(name, "STRING", [("event", "INT"), ("field", "INT")], out, [self.comment(doc)])
        )
        return pous

    def _ordinal(self, enum: ir.Enum) -> _Pou:
        name = self.global_name("ordinal", enum.name)
        result = self.local(name)
        out = Emitter(INDENT)
        out.line(f"CASE {self.local('value')} OF")
        for k, member in enumerate(enum.members):
            out.line(
                f"{INDENT}{self.enum_literal(enum.name, member)}: {result} := {self.real_literal(float(k))};"
            )
        out.line("END_CASE;")
        comment = [self.comment(f"The position of a {enum.name} value (0 = first), for the event log.")]
        type_name = self.block_name(self.global_name("type", enum.name))
        return self._function(name, self.real, [("value", type_name)], out, comment)

    def _log_block(self) -> _Pou:
        """HpEventLog: the ring of the last LOG_SIZE records, appended one record per call."""
        name = self.block_name(self.global_name("type", "HpEventLog"))
        loc = self.local
        entries, nxt, sequence = loc("entries"), loc("next"), loc("sequence")
        out = Emitter(INDENT)
        out.line(f"{entries}[{nxt}] := {loc('entry')};")
        out.line(f"{sequence} := {sequence} + 1;")
        out.line(f"IF {nxt} >= {LOG_SIZE} THEN")
        out.line(f"{INDENT}{nxt} := 1;")
        out.line("ELSE")
        out.line(f"{INDENT}{nxt} := {nxt} + 1;")
        out.line("END_IF;")
        entry = self.block_name(self.global_name("type", "HpLogEntry"))
        inputs = [("entry", entry, "", "the record to append")]
        outputs = [
            ("entries", f"ARRAY[1..{LOG_SIZE}] OF {entry}", "", "the last records, oldest overwritten"),
            ("next", "INT", "1", "where the next record goes"),
            ("sequence", "DINT", "", "records appended since the log was first started"),
        ]
        comment = [
            self.comment(
                f"The event log: appends one record per call to a ring of {LOG_SIZE}; the oldest is"
                " overwritten. `sequence` counts every record ever appended, so an HMI or a historian"
                " polling `entries` sees what is new. Retained: the log survives a power cycle."
            )
        ]
        return _Pou(
            "FUNCTION_BLOCK",
            name,
            comment,
            [
                ("VAR_INPUT", [self.declaration(*v) for v in inputs]),
                ("VAR_OUTPUT RETAIN", [self.declaration(*v) for v in outputs]),
            ],
            out.text(),
            origins=[None] * len(out.lines),
            xml_sections=[
                ("inputVars", [self._xml_var(*v) for v in inputs]),
                ("outputVars:retain", [self._xml_var(*v) for v in outputs]),
            ],
        )

    def _table_column(self, table: ir.Table, column_index: int) -> _Pou:
        column, vt = table.columns[column_index]
        name = self.global_name("column", table.name, column)
        result = self.local(name)
        key = self.local("key")
        out = Emitter(INDENT)
        printer = _ExprPrinter(self, {})
        branches: list[tuple[str, str]] = []
        for row in table.rows:
            tests = []
            if row.low is not None:
                tests.append(
                    f"{key} {'>=' if row.low_closed else '>'} {self.real_literal(row.low, row.origin)}"
                )
            if row.high is not None:
                tests.append(
                    f"{key} {'<=' if row.high_closed else '<'} {self.real_literal(row.high, row.origin)}"
                )
            value = printer.expr(row.values[column_index])
            branches.append((" AND ".join(tests), value))
            if not tests:
                break
        else:
            if table.low_edge is not None:
                lowest = printer.expr(table.rows[table.lowest].values[column_index])
                branches.append((f"{key} < {self.real_literal(table.low_edge)}", lowest))
            branches.append(("", printer.expr(table.rows[table.highest].values[column_index])))
        for k, (condition, value) in enumerate(branches):
            if not condition:
                if k == 0:
                    out.line(f"{result} := {value};")
                    break
                out.line("ELSE")
            else:
                out.line(f"{'IF' if k == 0 else 'ELSIF'} {condition} THEN")
            out.line(f"{INDENT}{result} := {value};")
        if len(branches) > 1 or branches[0][0]:
            out.line("END_IF;")
        doc = f"Column `{column}` of table `{table.name}`"
        if table.doc.strip():
            doc += f": {_flat(table.doc)}"
        comment = [
            self.comment(doc + ". Rows match top to bottom; a key no row holds gets the nearest end row.")
        ]
        comment.extend(self._doc_comment("", table.origin, table.cites))
        key_type = self.real
        pou = self._function(name, self.type_name(vt), [("key", key_type)], out, comment)
        if self.enum_constants:
            entries = self.enum_constant_entries([row.values[column_index] for row in table.rows])
            if entries:
                pou.sections.append(("VAR CONSTANT", [self.declaration(*entry) for entry in entries]))
        return pou

    def _curve(self, curve: ir.Curve) -> _Pou:
        name = self.global_name("curve", curve.name)
        result, key = self.local(name), self.local("key")
        out = Emitter(INDENT)
        points = curve.points
        lit = self.real_literal
        out.line(f"IF {key} <= {lit(points[0][0])} THEN")
        out.line(f"{INDENT}{result} := {lit(points[0][1])};")
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            slope = (y2 - y1) / (x2 - x1)
            shift = f"{key} - {lit(x1)}" if x1 >= 0 else f"{key} + {lit(-x1)}"
            out.line(f"ELSIF {key} <= {lit(x2)} THEN")
            out.line(f"{INDENT}{result} := {lit(y1)} + ({shift}) * {lit(slope)};")
        out.line("ELSE")
        out.line(f"{INDENT}{result} := {lit(points[-1][1])};")
        out.line("END_IF;")
        doc = f"Curve `{curve.name}`" + (f": {_flat(curve.doc)}" if curve.doc.strip() else "")
        comment = [self.comment(doc + ". Linear between the points, flat beyond the first and the last.")]
        comment.extend(self._doc_comment("", curve.origin, curve.cites))
        return self._function(name, self.real, [("key", self.real)], out, comment)

    def _main(self, printers: dict[str, _ProgramPrinter]) -> _Pou:
        """The PROGRAM that runs every block once per cycle, in wiring order, and keeps the event log."""
        namer = _Namer(self, self.globals)
        cycle = namer.name("cycle", "cycle_time_s", report=False)
        clock = namer.name("clock", "clock_s", report=False)
        second_of_day = namer.name("clock_sod", "clock_second_of_day", report=False)
        weekday = namer.name("clock_weekday", "clock_weekday", report=False)
        dt = namer.name("dt", "dt_s", report=False)
        last_clock = namer.name("last_clock", "last_clock_s", report=False)
        log = namer.name("log", "event_log", report=False)
        instances = {p.name: namer.name(p.name, snake(p.name), report=False) for p in self.package.programs}
        self.main_names = {
            "cycle_time_s": cycle,
            "clock_s": clock,
            "clock_second_of_day": second_of_day,
            "clock_weekday": weekday,
            "event_log": log,
            **{f"instance:{name}": instance for name, instance in instances.items()},
        }
        wires: dict[str, list[ir.Wire]] = {}
        for wire in self.package.wires:
            wires.setdefault(wire.program, []).append(wire)
        loc = self.local
        zero = self.real_literal(0.0)
        out = Emitter(INDENT)
        out.line(self.comment(f"the time since the previous call: measured on {clock} once it runs"))
        out.line(f"IF {loc(last_clock)} > {zero} AND {loc(clock)} > {loc(last_clock)} THEN")
        out.line(f"{INDENT}{loc(dt)} := {loc(clock)} - {loc(last_clock)};")
        out.line("ELSE")
        out.line(f"{INDENT}{loc(dt)} := {loc(cycle)};")
        out.line("END_IF;")
        out.line(f"{loc(last_clock)} := {loc(clock)};")
        for program in self.package.programs:
            names = printers[program.name].names
            instance = loc(instances[program.name])
            args = [f"{names['cycle_time_s']} := {loc(dt)}"]
            if program.uses_calendar:
                args.append(f"{names['start_second_of_day']} := {loc(second_of_day)}")
                args.append(f"{names['start_weekday']} := {loc(weekday)}")
            if program.name in wires:
                args.append(f"{names['inputs_wired']} := TRUE")
            for wire in wires.get(program.name, ()):
                source = loc(instances[wire.source_program])
                args.append(
                    f"{names[wire.input]} := {source}.{printers[wire.source_program].names[wire.source]}"
                )
            for line in _call_lines(f"{instance}(", args, 0):
                out.line(line)
            records, count = names["records"], names["record_count"]
            for k in range(1, printers[program.name].capacity + 1):
                append = f"{loc(log)}(entry := {instance}.{records}[{k}]);"
                out.line(f"IF {instance}.{count} >= {k} THEN {append} END_IF;")
        real = self.real
        inputs = [
            (cycle, real, self.real_literal(0.1), f"s, the task interval, used until {clock} runs"),
            (
                clock,
                real,
                zero,
                "s, a free-running clock (the PLC's time since start-up); the cycle time is measured on it",
            ),
            (second_of_day, real, zero, "s after midnight, from the PLC's real-time clock"),
            (weekday, "DINT", "0", "weekday from the PLC's real-time clock, 0 = Monday"),
        ]
        variables = [
            (dt, real, "s, the time since the previous call"),
            (last_clock, real, f"s, {clock} at the previous call"),
        ]
        variables.extend(
            (instances[p.name], self.block_name(self.global_name("type", p.name)), "")
            for p in self.package.programs
        )
        retained = [(log, self.block_name(self.global_name("type", "HpEventLog")), "every block's records")]
        comment = [
            self.comment(
                "Runs every program once per task cycle, in wiring order: each wired input takes its"
                " source's value of this cycle, and each block's records of the cycle go to the event"
                " log in order. Field inputs are written to the instances (e.g. changeover.outdoor_temp)"
                f" by the I/O mapping before this program runs; {second_of_day} and {weekday} set the"
                " wall clock of schedules and daily totals at the first call after a start."
            )
        ]
        return _Pou(
            self.main_kind,
            self.block_name(self.global_name("main")),
            comment,
            [
                ("VAR_INPUT", [self.declaration(n, t, i, c) for n, t, i, c in inputs]),
                ("VAR", [self.declaration(n, t, comment=c) for n, t, c in variables]),
                ("VAR RETAIN", [self.declaration(n, t, comment=c) for n, t, c in retained]),
            ],
            out.text(),
            origins=[None] * len(out.lines),
            xml_sections=[
                ("inputVars", [self._xml_var(n, t, i, c) for n, t, i, c in inputs]),
                ("localVars", [self._xml_var(n, t, doc=c) for n, t, c in variables]),
                ("localVars:retain", [self._xml_var(n, t, doc=c) for n, t, c in retained]),
            ],
        )

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

    # ------------------------------------------------------------------ source map
    def _source_map(self, file: str, text: str, pous: list[_Pou], version: str) -> str:
        """Generated line -> rules file and line, for every statement printed from a rule."""
        lines = text.split("\n")
        mappings: list[list[object]] = []
        position = 0
        for pou in pous:
            if not pou.body.strip():
                continue
            first = _find_block(lines, pou.body, position)
            if first is None:
                continue
            position = first + pou.body.count("\n")
            for k, origin in enumerate(pou.origins):
                if origin is not None:
                    mappings.append([first + k + 1, pou.name, origin.file, origin.line, list(origin.cites)])
        document = {
            "generator": f"Heat-pump control rules `{self.package.name}`, compiled by hpdsl {version}",
            "file": file,
            "dialect": self.dialect,
            "sources": list(self.package.sources),
            "columns": ["line", "pou", "source", "source_line", "requirements"],
            "events": [
                [number, program, name, list(fields)]
                for (program, name, fields), number in self.events.items()
            ],
            "mappings": mappings,
        }
        # One row a line: the file stays small and reads in a diff. `events` numbers the log
        # records ([number, program, event or alarm, [field names]]), for an HMI's text list.
        head = json.dumps({k: v for k, v in document.items() if k not in ("events", "mappings")}, indent=1)
        tables = {"events": document["events"], "mappings": mappings}
        lists = ",\n".join(
            f' "{key}": [\n' + ",\n".join(f"  {json.dumps(row)}" for row in rows) + "\n ]"
            for key, rows in tables.items()
        )
        return f"{head[:-2]},\n{lists}\n}}\n"


# The support functions every output carries, by the name they are given.
_SUPPORT_FUNCTIONS = (
    "HP_FLOOR",
    "HP_DIVIDE",
    "HP_CLAMP",
    "HP_FINITE",
    "HP_RECORD",
    "HP_EVENT_NAME",
    "HP_EVENT_SOURCE",
    "HP_FIELD_NAME",
)


def _call_lines(head: str, args: list[str], indent: int) -> list[str]:
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


def _reads_variables(expr: ir.Expr) -> bool:
    return any(isinstance(e, ir.Ref) for e in ir.walk_exprs([ir.Assign(None, "", expr)]))


def _fold(expr: ir.Expr, variables: dict[str, ir.Variable]) -> bool | int | float | str:
    """The value of a constant expression, a variable read as its initial value (a parameter's default).

    Computed in Python floats in the IR's order of operations, so the value is the one the
    Python target starts with.
    """
    if isinstance(expr, ir.Literal_):
        return expr.value
    if isinstance(expr, ir.Ref):
        initial = variables[expr.name].initial
        assert initial is not None, expr.name
        return _fold(initial, variables)
    if isinstance(expr, ir.Unary):
        operand = _fold(expr.operand, variables)
        return (not operand) if expr.op == "not" else -operand  # type: ignore[operator]
    if isinstance(expr, (ir.Binary, ir.SafeDivide)):
        left, right = _fold(expr.left, variables), _fold(expr.right, variables)
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
        args = [_fold(a, variables) for a in expr.args]
        if expr.function == "to_real":
            return float(args[0])
        if expr.function == "abs":
            return abs(args[0])  # type: ignore[arg-type]
        if expr.function == "min":
            return min(args)
        if expr.function == "max":
            return max(args)
    raise AssertionError(f"not a constant: {expr}")


def _find_block(lines: list[str], body: str, start: int) -> int | None:
    """The index of the line where `body` (a run of whole lines, maybe indented) starts."""
    body_lines = body.rstrip("\n").split("\n")
    first = body_lines[0].strip()
    for index in range(start, len(lines) - len(body_lines) + 1):
        if lines[index].strip() != first:
            continue
        if all(lines[index + k].strip() == body_lines[k].strip() for k in range(len(body_lines))):
            return index
    return None


def _span(origin: ir.Origin | None) -> Span:
    if origin is None:
        return Span("<package>", 0, 0, 0, 0)
    return Span(origin.file, origin.line, origin.column, origin.line, origin.column + 1)


# ---------------------------------------------------------------------------------- expressions

# ST precedence (IEC 61131-3 table 55), loosest first.
_PRECEDENCE = {
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
_OPERATORS = {"and": "AND", "or": "OR", "mod": "MOD", "+": "+", "-": "-", "*": "*", "/": "/"}
_COMPARE = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _ExprPrinter:
    """Prints IR expressions as ST text with the fewest parentheses that keep their meaning."""

    def __init__(
        self,
        generator: StGenerator,
        names: dict[str, str],
        origin: ir.Origin | None = None,
        *,
        declaration: bool = False,
    ) -> None:
        self.g = generator
        self.names = names
        self.origin = origin
        self.declaration = declaration  # an initial value in a declaration, not a statement

    def _local(self, name: str) -> str:
        return name if self.declaration else self.g.local(name)

    def expr(self, expr: ir.Expr) -> str:
        return self._expr(expr)[0]

    def _operand(self, expr: ir.Expr, level: int) -> str:
        text, own = self._expr(expr)
        return text if own >= level else f"({text})"

    def _expr(self, expr: ir.Expr) -> tuple[str, int]:
        g = self.g
        atom = _PRECEDENCE["atom"]
        if isinstance(expr, ir.Literal_):
            return self.literal(expr), atom
        if isinstance(expr, ir.Ref):
            return self._local(self.names[expr.name]), atom
        if isinstance(expr, ir.GlobalRef):
            return self._local(self.names[f"global:{expr.name}"]), atom
        if isinstance(expr, ir.ScanTime):
            return self._local(self.names["dt"]), atom
        if isinstance(expr, ir.CycleTimeFault):
            cycle = self._local(self.names["cycle_time_s"])
            zero, limit = g.real_literal(0.0), g.real_literal(ir.CYCLE_TIME_LIMIT_S)
            return f"NOT ({cycle} >= {zero} AND {cycle} <= {limit})", _PRECEDENCE["unary"]
        if isinstance(expr, ir.Unary):
            operand = expr.operand
            negated = ir.negated_comparison(expr)
            if negated is not None:  # `a <> b` rather than `NOT (a = b)`
                return self._expr(negated)
            if expr.op == "not":
                return f"NOT {self._operand(operand, atom)}", _PRECEDENCE["unary"]
            return f"-{self._operand(operand, atom)}", _PRECEDENCE["unary"]
        if isinstance(expr, ir.Binary):
            if expr.op == "/" and expr.type.kind != "real":
                raise AssertionError("the IR divides reals only")
            level = _PRECEDENCE[expr.op]
            left = self._operand(expr.left, level)
            right_level = level if expr.op in ("and", "or") else level + 1
            right = self._operand(expr.right, right_level)
            if expr.op in ("and", "or") and isinstance(expr.right, ir.Binary) and expr.right.op != expr.op:
                right = f"({right})" if not right.startswith("(") else right
            if expr.op == "or" and isinstance(expr.left, ir.Binary) and expr.left.op == "and":
                left = f"({left})"
            if expr.op == "mod" and expr.type.kind != "int":
                raise AssertionError("the IR takes `mod` of whole numbers only")
            return f"{left} {_OPERATORS[expr.op]} {right}", level
        if isinstance(expr, ir.SafeDivide):
            name = g.block_name(g.global_name("fn", "HP_DIVIDE"))
            return f"{name}({self._real_arg(expr.left)}, {self._real_arg(expr.right)})", atom
        if isinstance(expr, ir.Compare):
            level = _PRECEDENCE["equality" if expr.op in ("==", "!=") else "compare"]
            left_expr, right_expr = expr.left, expr.right
            left = self._operand(left_expr, level + 1)
            right = self._operand(right_expr, level + 1)
            if left_expr.type.kind != right_expr.type.kind:
                left, right = self._real_arg(left_expr), self._real_arg(right_expr)
            return f"{left} {_COMPARE[expr.op]} {right}", level
        if isinstance(expr, ir.Call):
            return self._call(expr), atom
        if isinstance(expr, ir.Lookup):
            table = g.tables[expr.table]
            name = g.block_name(g.global_name("column", table.name, expr.column))
            return f"{name}({self._real_arg(expr.key)})", atom
        if isinstance(expr, ir.Interpolate):
            name = g.block_name(g.global_name("curve", expr.curve))
            return f"{name}({self._real_arg(expr.key)})", atom
        raise AssertionError(f"unhandled IR expression {type(expr).__name__}")

    def _real_arg(self, expr: ir.Expr) -> str:
        """An expression where a real is expected; a whole number is converted explicitly."""
        if expr.type.kind == "real":
            return self.expr(expr)
        if isinstance(expr, ir.Literal_) and expr.type.kind == "int":
            return self.g.real_literal(float(expr.value), self.origin)
        return self.g.to_real(self.expr(expr), expr.type)

    def _call(self, expr: ir.Call) -> str:
        g = self.g
        function = expr.function
        if function == "to_real":
            return self._real_arg(expr.args[0])
        if function == "floor":
            return f"{g.block_name(g.global_name('fn', 'HP_FLOOR'))}({self._real_arg(expr.args[0])})"
        if function == "abs":
            return f"ABS({self.expr(expr.args[0])})"
        if function == "clamp":
            if expr.type.kind == "real":
                text = ", ".join(self._real_arg(a) for a in expr.args)
                return f"{g.block_name(g.global_name('fn', 'HP_CLAMP'))}({text})"
            value, low, high = (self.expr(a) for a in expr.args)
            return g.call("LIMIT", [low, value, high], ["MN", "IN", "MX"])
        args = [self._real_arg(a) if expr.type.kind == "real" else self.expr(a) for a in expr.args]
        return g.call(function.upper(), args, [f"IN{k + 1}" for k in range(len(args))])

    def literal(self, literal: ir.Literal_) -> str:
        g = self.g
        value = literal.value
        kind = literal.type.kind
        if kind == "enum":
            assert isinstance(value, str) and literal.type.enum is not None
            if self.declaration:
                return g.enum_initial(literal.type.enum, value)
            return g.enum_literal(literal.type.enum, value)
        if kind == "bool":
            return "TRUE" if value else "FALSE"
        if kind == "int":
            return g.int_literal(int(value), self.origin)
        return g.real_literal(float(value), self.origin)


# ---------------------------------------------------------------------------------- programs


class _ProgramPrinter:
    """Declarations and statements of one program's function block."""

    def __init__(self, generator: StGenerator, program: ir.Program) -> None:
        self.g = generator
        self.program = program
        self.variables = {v.name: v for v in program.variables}
        self.reads = [s for s in ir.walk_stmts(program.scan) if isinstance(s, ir.ReadInput)]
        self.fault_flags = {s.fault for s in self.reads}
        self.wired = [
            s for s in program.scan if isinstance(s, ir.ReadInput) and self.variables[s.input].wiring
        ]
        # Values whose initial value reads parameters: a declaration holds only constants, so
        # they start from the parameters' defaults and are computed at the first call.
        role_order = ("constant", "input", "output", "local", "state")
        self.deferred = [
            v
            for role in role_order
            for v in program.of_role(role)  # type: ignore[arg-type]
            if v.initial is not None and _reads_variables(v.initial)
        ]
        self.needs_start = program.uses_calendar or bool(self.deferred)
        # The most records one call can produce: each input check, alarm change and log
        # statement runs at most once per call (the generated code has no loops).
        self.capacity = sum(
            1 for stmt in ir.walk_stmts(program.scan) if event_key(program.name, stmt) is not None
        )
        self.namer = self._name_all()
        self.names = {k: v for k, v in self.namer.names.items() if isinstance(k, str)}
        self.origins: list[ir.Origin | None] = []

    def _name_all(self) -> _Namer:
        g = self.g
        namer = _Namer(g, g.globals)
        program = self.program
        namer.name("cycle_time_s", "cycle_time_s", report=False)
        for var in program.of_role("input"):
            namer.name(var.name, var.name, var.origin)
            namer.name(f"io_fault:{var.name}", f"{var.name}_io_fault", var.origin, report=False)
        if self.wired:
            namer.name("inputs_wired", "inputs_wired", report=False)
        for var in program.of_role("parameter"):
            namer.name(var.name, var.name, var.origin)
        if program.uses_calendar:
            namer.name("start_second_of_day", "start_second_of_day", report=False)
            namer.name("start_weekday", "start_weekday", report=False)
        for var in program.variables:
            if var.role in ("output", "local", "constant") or (
                var.role == "state" and var.public and var.point
            ):
                namer.name(var.name, var.name, var.origin)
        for name in sorted(self.fault_flags):
            namer.name(name, name, report=False)
        namer.name("records", "records", report=False)
        namer.name("record_count", "record_count", report=False)
        namer.name("dt", "dt_s", report=False)
        namer.name("time_s", "time_s", report=False)
        if self.needs_start:
            namer.name("started", "started", report=False)
        for read in self.reads:
            namer.name(f"checked:{read.input}", f"{read.input}_checked", report=False)
        for var in program.variables:
            namer.name(var.name, var.name, var.origin, report=False)
        for constant in g.package.constants:
            if any(
                isinstance(e, ir.GlobalRef) and e.name == constant.name for e in ir.walk_exprs(program.scan)
            ):
                namer.name(f"global:{constant.name}", constant.name, constant.origin, report=False)
        return namer

    def _printer(self, origin: ir.Origin | None, *, declaration: bool = False) -> _ExprPrinter:
        names = dict(self.names)
        # Statements read an input's checked value, never the raw reading.
        if not declaration:
            for read in self.reads:
                names[read.input] = self.names[f"checked:{read.input}"]
        return _ExprPrinter(self.g, names, origin, declaration=declaration)

    # ------------------------------------------------------------------ declarations
    def pou(self) -> _Pou:
        g = self.g
        program = self.program
        body = self._body()
        sections: list[tuple[str, list[tuple[str, str, str, str]]]] = []
        inputs: list[tuple[str, str, str, str]] = [
            (
                "cycle_time_s",
                g.real,
                "",
                "s, time since the previous call (the task interval); 0 or less stops time",
            )
        ]
        printer = self._printer(None, declaration=True)
        for var in program.of_role("input"):
            inputs.append((self.names[var.name], g.type_name(var.type), "", self._describe(var, printer)))
            inputs.append(
                (
                    self.names[f"io_fault:{var.name}"],
                    "BOOL",
                    "",
                    f"TRUE: the I/O channel of {var.name} is faulted",
                )
            )
        if self.wired:
            inputs.append(
                (
                    self.names["inputs_wired"],
                    "BOOL",
                    "",
                    "TRUE in the package program: wired inputs come checked",
                )
            )
        for var in program.of_role("parameter"):
            assert var.initial is not None
            inputs.append(
                (
                    self.names[var.name],
                    g.type_name(var.type),
                    self._initial(var, printer),
                    "parameter, " + self._describe(var, printer),
                )
            )
        if program.uses_calendar:
            inputs.append(
                (
                    self.names["start_second_of_day"],
                    g.real,
                    g.real_literal(0.0),
                    "s after midnight at the first call",
                )
            )
            inputs.append((self.names["start_weekday"], "DINT", "0", "weekday at the first call, 0 = Monday"))
        outputs: list[tuple[str, str, str, str]] = []
        retained: list[tuple[str, str, str, str]] = []
        keep = program.retained()
        memory: list[tuple[str, str, str, str]] = []
        constants: list[tuple[str, str, str, str]] = []
        for var in program.variables:
            if var.role in ("input", "parameter"):
                continue
            initial = self._initial(var, printer)
            entry = (self.names[var.name], g.type_name(var.type), initial, self._describe(var, printer))
            if var.role == "constant" and var not in self.deferred:
                constants.append(entry)
            elif var.name in keep:
                retained.append(entry)
            elif var.role == "output" or (var.public and var.point) or var.name in self.fault_flags:
                outputs.append(entry)
            else:
                memory.append(entry)
        for read in self.reads:
            var = self.variables[read.input]
            memory.insert(
                0,
                (
                    self.names[f"checked:{read.input}"],
                    g.type_name(var.type),
                    "",
                    f"{read.input} as used this scan",
                ),
            )
        memory[0:0] = [
            (self.names["dt"], g.real, "", "s, this scan's time"),
            (self.names["time_s"], g.real, "", "s since the first call"),
        ]
        if self.needs_start:
            memory.append((self.names["started"], "BOOL", "", "the first call has been made"))
        entry_type = g.block_name(g.global_name("type", "HpLogEntry"))
        outputs.append(
            (
                self.names["records"],
                f"ARRAY[1..{max(self.capacity, 1)}] OF {entry_type}",
                "",
                f"what this call logged, raised or cleared: records 1 .. {self.names['record_count']}",
            )
        )
        outputs.append((self.names["record_count"], "INT", "", "records of this call"))
        for constant in g.package.constants:
            key = f"global:{constant.name}"
            if key in self.names:
                constants.append(
                    (self.names[key], g.type_name(constant.value.type), printer.literal(constant.value), "")
                )
        sections.append(("VAR_INPUT", inputs))
        sections.append(("VAR_OUTPUT", outputs))
        sections.append(("VAR_OUTPUT RETAIN", retained))
        sections.append(("VAR", memory))
        if constants:
            sections.append(("VAR CONSTANT", constants))
        if g.enum_constants:
            members = self._enum_constants()
            if members:
                sections.append(("VAR CONSTANT", members))
        xml_kinds = {
            "VAR_INPUT": "inputVars",
            "VAR_OUTPUT": "outputVars",
            "VAR_OUTPUT RETAIN": "outputVars:retain",
            "VAR": "localVars",
            "VAR CONSTANT": "localVars:constant",
        }
        return _Pou(
            "FUNCTION_BLOCK",
            g.block_name(g.global_name("type", program.name)),
            g._doc_comment(program.doc, program.origin, program.cites),
            [(kind, [g.declaration(*entry) for entry in entries]) for kind, entries in sections],
            body,
            origins=self.origins,
            doc=_flat(program.doc),
            xml_sections=[
                (xml_kinds[kind], [g._xml_var(n, t, i, c) for n, t, i, c in entries])
                for kind, entries in sections
            ],
        )

    def _initial(self, var: ir.Variable, printer: _ExprPrinter) -> str:
        """The initial value in a declaration: a literal; one read from parameters is their defaults'."""
        if var.initial is None:
            return ""
        return self._constant(var.initial, var.type, printer)

    def _constant(self, expr: ir.Expr, vt: ir.ValueType, printer: _ExprPrinter) -> str:
        """A constant expression as one literal (`4.18 kJ/l / 1 K` is `4.18`), as strict compilers need."""
        if isinstance(expr, ir.Literal_) and expr.type.kind == vt.kind:
            return printer.literal(expr)
        value = _fold(expr, self.variables)
        return printer.literal(ir.Literal_(vt, float(value) if vt.kind == "real" else value))

    def _enum_constants(self) -> list[tuple[str, str, str, str]]:
        """Siemens: each enumeration member the block uses is a constant of its position."""
        values = [v.initial for v in self.program.variables if v.initial is not None]
        return self.g.enum_constant_entries([*ir.walk_exprs(self.program.scan), *values])

    def _describe(self, var: ir.Variable, printer: _ExprPrinter) -> str:
        parts = []
        if var.type.unit:
            parts.append(var.type.unit)
        if var.type.kind == "enum" and self.g.enum_constants:
            parts.append(f"{var.type.enum}")
        if var.low is not None and var.high is not None:
            low, high = (
                self._constant(var.low, var.type, printer),
                self._constant(var.high, var.type, printer),
            )
            parts.append(f"range {low} .. {high}")
        if var.fallback is not None:
            parts.append(f"fallback {self._constant(var.fallback, var.type, printer)}")
        if var.wiring is not None:
            parts.append(f"from {var.wiring[0]}.{var.wiring[1]}")
        if var.point and var.point not in ("input", "output", "parameter"):
            parts.append(var.point)
        doc = _flat(var.doc)
        if doc and var.public:
            parts.append(doc[:100] + ("..." if len(doc) > 100 else ""))
        return ", ".join(parts)

    # ------------------------------------------------------------------ statements
    def _body(self) -> str:
        g = self.g
        out = Emitter(INDENT)
        loc = g.local
        dt, cycle = loc(self.names["dt"]), loc(self.names["cycle_time_s"])
        finite = g.block_name(g.global_name("fn", "HP_FINITE"))
        self._emit(out, f"{loc(self.names['record_count'])} := 0;", None)
        zero, limit = g.real_literal(0.0), g.real_literal(ir.CYCLE_TIME_LIMIT_S)
        self._emit(
            out,
            g.comment(
                "A negative, not-a-number or endless cycle time counts as 0, one above a day as a day"
                f" (either raises {ir.CYCLE_TIME_ALARM})."
            ),
            None,
        )
        self._emit(out, f"IF {cycle} >= {zero} AND {cycle} <= {limit} THEN", None)
        self._emit(out, f"{INDENT}{dt} := {cycle};", None)
        self._emit(out, f"ELSIF {cycle} > {limit} AND {finite}({cycle}) THEN", None)
        self._emit(out, f"{INDENT}{dt} := {limit};", None)
        self._emit(out, "ELSE", None)
        self._emit(out, f"{INDENT}{dt} := {g.real_literal(0.0)};", None)
        self._emit(out, "END_IF;", None)
        time_s = loc(self.names["time_s"])
        self._emit(out, f"{time_s} := {time_s} + {dt};", None)
        if self.needs_start:
            started = loc(self.names["started"])
            self._emit(out, f"IF NOT {started} THEN", None)
            with out.indented():
                if self.program.uses_calendar:
                    self._emit(out, g.comment("the wall clock starts where the caller says"), None)
                    sod, weekday = loc(self.names[ir.SECOND_OF_DAY]), loc(self.names[ir.WEEKDAY])
                    self._emit(out, f"{sod} := {loc(self.names['start_second_of_day'])};", None)
                    self._emit(out, f"{weekday} := {loc(self.names['start_weekday'])};", None)
                if self.deferred:
                    self._emit(out, g.comment("values derived from the parameters"), None)
                for var in self.deferred:
                    assert var.initial is not None
                    printer = self._printer(var.origin)
                    target = loc(self.names[var.name])
                    self._emit(out, f"{target} := {self._typed(printer, var.initial, var.type)};", var.origin)
                self._emit(out, f"{started} := TRUE;", None)
            self._emit(out, "END_IF;", None)
        for stmt in self.program.scan:
            if self.wired and stmt is self.wired[0]:
                self._wired_inputs(out)
            elif not (isinstance(stmt, ir.ReadInput) and stmt in self.wired):
                self.stmt(out, stmt, None)
        return out.text()

    def _emit(self, out: Emitter, text: str, origin: ir.Origin | None) -> None:
        out.line(text)
        self.origins.append(origin)

    def stmt(self, out: Emitter, stmt: ir.Stmt, context: ir.Origin | None) -> None:
        g = self.g
        origin = stmt.origin or context
        printer = self._printer(origin)
        if isinstance(stmt, ir.Block):
            where = ""
            if g.source_comments and stmt.origin is not None:
                cites = f" ({', '.join(stmt.origin.cites)})" if stmt.origin.cites else ""
                where = f": {stmt.origin.describe()}{cites}"
            closes = g.region_open(_Recorder(self, out, origin), f"{stmt.title}{where}")
            if closes:
                out.level += 1
            for note in stmt.notes:
                self._emit(out, g.comment(note), origin)
            for inner in stmt.body:
                self.stmt(out, inner, origin)
            if closes:
                out.level -= 1
                g.region_close(_Recorder(self, out, origin))
        elif isinstance(stmt, ir.Assign):
            target = g.local(self.names[stmt.target])
            value = stmt.value
            target_type = self.variables[stmt.target].type
            if isinstance(value, ir.Call) and value.function == "clamp":
                low, high = (self._typed(printer, bound, target_type) for bound in value.args[1:])
                self._emit(out, f"{target} := {self._typed(printer, value.args[0], target_type)};", origin)
                self._emit(out, f"IF NOT ({target} >= {low}) THEN", origin)
                self._emit(out, f"{INDENT}{target} := {low};", origin)
                self._emit(out, f"ELSIF {target} > {high} THEN", origin)
                self._emit(out, f"{INDENT}{target} := {high};", origin)
                self._emit(out, "END_IF;", origin)
                return
            self._emit(out, f"{target} := {self._typed(printer, value, target_type)};", origin)
        elif isinstance(stmt, ir.If) and isinstance(stmt.branches[0].condition, ir.ParametersWritten):
            # a PLC cannot see a parameter being written: it checks them at every call
            assert len(stmt.branches) == 1 and not stmt.else_body
            self._body_of(out, stmt.branches[0].body, origin)
        elif isinstance(stmt, ir.If):
            for k, branch in enumerate(stmt.branches):
                keyword = "IF" if k == 0 else "ELSIF"
                self._emit(out, f"{keyword} {printer.expr(branch.condition)} THEN", origin)
                with out.indented():
                    self._body_of(out, branch.body, origin)
            if stmt.else_body:
                self._emit(out, "ELSE", origin)
                with out.indented():
                    self._body_of(out, stmt.else_body, origin)
            self._emit(out, "END_IF;", origin)
        elif isinstance(stmt, ir.Log):
            self._record(out, printer, LOG_EVENT, stmt, stmt.fields, origin)
        elif isinstance(stmt, ir.AlarmChange):
            kind = ALARM_RAISED if stmt.raised else ALARM_CLEARED
            self._record(out, printer, kind, stmt, stmt.values, origin)
        elif isinstance(stmt, ir.ReadInput):
            self._read_input(out, stmt, printer, origin)
        else:
            raise AssertionError(f"unhandled IR statement {type(stmt).__name__}")

    def _body_of(self, out: Emitter, body: tuple[ir.Stmt, ...], origin: ir.Origin | None) -> None:
        if not body:  # strict ST has no empty statement: a branch always does something
            raise AssertionError("the IR has an empty branch")
        for inner in body:
            self.stmt(out, inner, origin)

    def _typed(self, printer: _ExprPrinter, value: ir.Expr, target: ir.ValueType) -> str:
        if target.kind == "real" and value.type.kind != "real":
            return printer._real_arg(value)
        return printer.expr(value)

    def _record(
        self,
        out: Emitter,
        printer: _ExprPrinter,
        kind: int,
        stmt: ir.Stmt,
        values: tuple[tuple[str, ir.Expr], ...],
        origin: ir.Origin | None,
    ) -> None:
        self._append_record(out, kind, stmt, [(n, printer._real_arg(v)) for n, v in values], origin)

    def _append_record(
        self, out: Emitter, kind: int, stmt: ir.Stmt, values: list[tuple[str, str]], origin: ir.Origin | None
    ) -> None:
        """Count the record, then write it whole: every value slot, 0 past its field count."""
        g = self.g
        loc = g.local
        count = loc(self.names["record_count"])
        key = event_key(self.program.name, stmt)
        assert key is not None
        event = g.events[key]
        self._emit(out, g.comment(f"record {event}: {key[1]}"), origin)
        self._emit(out, f"{count} := {count} + 1;", origin)
        args = [
            f"kind := {kind}",
            f"event := {event}",
            f"time_s := {loc(self.names['time_s'])}",
            f"field_count := {len(values)}",
        ]
        zero = g.real_literal(0.0)
        padded = [value for _, value in values] + [zero] * (g.log_fields - len(values))
        args.extend(f"value_{k} := {value}" for k, value in enumerate(padded, start=1))
        head = f"{loc(self.names['records'])}[{count}] := {g.block_name(g.global_name('fn', 'HP_RECORD'))}("
        for line in _call_lines(head, args, len(INDENT * out.level)):
            self._emit(out, line, origin)

    def _wired_inputs(self, out: Emitter) -> None:
        g = self.g
        self._emit(out, f"IF {g.local(self.names['inputs_wired'])} THEN", None)
        with out.indented():
            self._emit(
                out, g.comment("copied by the package program from outputs their sources checked"), None
            )
            for read in self.wired:
                checked = g.local(self.names[f"checked:{read.input}"])
                self._emit(out, f"{checked} := {g.local(self.names[read.input])};", read.origin)
        self._emit(out, "ELSE", None)
        with out.indented():
            for read in self.wired:
                self._read_input(out, read, self._printer(read.origin), read.origin)
        self._emit(out, "END_IF;", None)

    def _read_input(
        self, out: Emitter, stmt: ir.ReadInput, printer: _ExprPrinter, origin: ir.Origin | None
    ) -> None:
        g = self.g
        loc = g.local
        var = self.variables[stmt.input]
        raw = loc(self.names[stmt.input])
        checked = loc(self.names[f"checked:{stmt.input}"])
        io_fault = loc(self.names[f"io_fault:{stmt.input}"])
        flag = loc(self.names[stmt.fault])
        where = f" ({stmt.origin.describe()})" if stmt.origin is not None and g.source_comments else ""
        self._emit(out, g.comment(f"input {stmt.input}: {self._describe(var, printer)}{where}"), origin)
        self._emit(out, f"{checked} := {raw};", origin)
        faulted = io_fault
        if var.type.kind in ("real", "int"):
            tests = []
            if stmt.low is not None:
                tests.append(f"{raw} >= {printer.expr(stmt.low)}")
            if stmt.high is not None:
                tests.append(f"{raw} <= {printer.expr(stmt.high)}")
            if var.type.kind == "real" and (stmt.low is None or stmt.high is None):
                # a comparison with a bound is false for not a number; an infinity needs the test
                tests.append(f"{g.block_name(g.global_name('fn', 'HP_FINITE'))}({raw})")
            if tests:
                faulted = f"{io_fault} OR NOT ({' AND '.join(tests)})"
        substitute = (
            printer.expr(stmt.fallback) if stmt.fallback is not None else loc(self.names[str(stmt.last_good)])
        )
        value = g.to_real(raw, var.type)
        self._emit(out, f"IF {faulted} THEN", origin)
        with out.indented():
            self._emit(out, f"{checked} := {substitute};", origin)
            self._emit(out, f"IF NOT {flag} THEN", origin)
            with out.indented():
                self._emit(out, f"{flag} := TRUE;", origin)
                self._append_record(out, ALARM_RAISED, stmt, [(stmt.input, value)], origin)
            self._emit(out, "END_IF;", origin)
        if stmt.last_good is not None:
            self._emit(out, "ELSE", origin)
            with out.indented():
                self._emit(out, f"{loc(self.names[stmt.last_good])} := {raw};", origin)
                self._emit(out, f"IF {flag} THEN", origin)
                with out.indented():
                    self._emit(out, f"{flag} := FALSE;", origin)
                    self._append_record(out, ALARM_CLEARED, stmt, [(stmt.input, value)], origin)
                self._emit(out, "END_IF;", origin)
        else:
            self._emit(out, f"ELSIF {flag} THEN", origin)
            with out.indented():
                self._emit(out, f"{flag} := FALSE;", origin)
                self._append_record(out, ALARM_CLEARED, stmt, [(stmt.input, value)], origin)
        self._emit(out, "END_IF;", origin)


class _Recorder(Emitter):
    """An emitter that writes into a program's body and records the origin of each line."""

    def __init__(self, printer: _ProgramPrinter, out: Emitter, origin: ir.Origin | None) -> None:
        super().__init__(out.unit, out.level)
        self.printer = printer
        self.out = out
        self.origin = origin

    def line(self, text: str = "") -> None:
        self.printer._emit(self.out, text, self.origin)


# ---------------------------------------------------------------------------------- dialects


class CodesysGenerator(StGenerator):
    """CODESYS V3 and Beckhoff TwinCAT 3: `//` comments, qualified enumerations (`SystemMode.Heating`)."""

    dialect = "codesys"
    title = "Structured Text for CODESYS V3 and Beckhoff TwinCAT 3"
    template = "st/codesys.st.j2"
    extension = ".codesys.st"

    def member_wanted(self, enum: str, member: str) -> str:
        return member

    def enum_literal(self, enum: str, member: str) -> str:
        return f"{self.global_name('type', enum)}.{self.global_name('member', enum, member)}"

    def _name_members(self) -> None:
        # Qualified members live in their enumeration's scope, not among the global names.
        for enum in self.package.enums:
            scope = _Namer(self)
            for member in enum.members:
                key = ("member", enum.name, member)
                self.globals.names[key] = scope.name(member, member, enum.origin)

    def comment(self, text: str) -> str:
        return f"// {text}"


class SiemensGenerator(StGenerator):
    """Siemens TIA Portal SCL source (S7-1200/1500): `#` locals, quoted blocks, regions, attributes."""

    dialect = "siemens"
    title = "SCL source for Siemens TIA Portal (S7-1200 / S7-1500)"
    template = "st/siemens.scl.j2"
    extension = ".scl"
    max_identifier = 128
    local_prefix = "#"
    formal_calls = True
    enum_constants = True
    main_kind = "FUNCTION_BLOCK"

    def block_name(self, name: str) -> str:
        return f'"{name}"'

    def enum_literal(self, enum: str, member: str) -> str:
        return f"#{self.global_name('member', enum, member)}"

    def enum_initial(self, enum: str, member: str) -> str:
        return str(self.enums[enum].members.index(member))

    def comment(self, text: str) -> str:
        return f"// {text}"

    def region_open(self, out: Emitter, title: str) -> bool:
        out.line(f"REGION {title}")
        return True

    def region_close(self, out: Emitter) -> None:
        out.line("END_REGION")

    def _types(self) -> list[dict[str, object]]:
        return []  # enumerations become integer constants in the blocks that use them


GENERATORS: dict[str, type[StGenerator]] = {
    "iec": StGenerator,
    "codesys": CodesysGenerator,
    "siemens": SiemensGenerator,
}
