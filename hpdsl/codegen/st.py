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

import math
import struct

from hpdsl.codegen.emitter import Emitter
from hpdsl.codegen.naming import upper_snake
from hpdsl.codegen.st_common import ALARM_CLEARED as ALARM_CLEARED
from hpdsl.codegen.st_common import ALARM_RAISED as ALARM_RAISED
from hpdsl.codegen.st_common import (
    DINT_RANGE,
    LOG_TEXT,
    SUPPORT_FUNCTIONS,
    Namer,
    flat_text,
    real_text,
    span_of,
)
from hpdsl.codegen.st_common import LOG_SIZE as LOG_SIZE
from hpdsl.codegen.st_common import StOutput as StOutput
from hpdsl.codegen.st_common import event_key as event_key
from hpdsl.codegen.st_pous import SupportPous
from hpdsl.compile import ir


class StGenerator(SupportPous):
    """Prints an IR package as IEC 61131-3 Structured Text (strict 2nd edition; MATIEC accepts it)."""

    # ------------------------------------------------------------------ names
    def renamed(self, wanted: str, used: str, origin: ir.Origin | None, holder: str | None = None) -> None:
        """Report a name the dialect cannot use as written."""
        from hpdsl.base import messages

        if (wanted, used) in self._reported:
            return
        self._reported.add((wanted, used))
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
                return real_text(float(f"{single:.9g}"))
        return real_text(value)

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
                    "doc": flat_text(enum.doc),
                    "comment": self._doc_comment(enum.doc, enum.origin, enum.cites),
                }
            )
        return types

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
            scope = Namer(self)
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
