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

from hpdsl.codegen.emitter import Emitter
from hpdsl.codegen.escape import st_comment
from hpdsl.codegen.st_common import ALARM_CLEARED as ALARM_CLEARED
from hpdsl.codegen.st_common import ALARM_RAISED as ALARM_RAISED
from hpdsl.codegen.st_common import LOG_SIZE as LOG_SIZE
from hpdsl.codegen.st_common import (
    Namer,
    flat_text,
)
from hpdsl.codegen.st_common import StOutput as StOutput
from hpdsl.codegen.st_common import event_key as event_key
from hpdsl.codegen.st_pous import SupportPous


class StGenerator(SupportPous):
    """Prints an IR package as IEC 61131-3 Structured Text (strict 2nd edition; MATIEC accepts it)."""

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
        if self.package.site_line is not None:
            lines.append(self.package.site_line)
        lines.append(
            f"Each program is a function block: call it once per task cycle with cycle_time_s (s);"
            f" `{self.global_name('main')}` calls them all in wiring order."
        )
        return lines

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


class CodesysGenerator(StGenerator):
    """CODESYS V3 and Beckhoff TwinCAT 3: `//` comments, qualified enumerations (`SystemMode.Heating`)."""

    dialect = "codesys"
    title = "Structured Text for CODESYS V3 and Beckhoff TwinCAT 3"
    template = "st/codesys.st.j2"
    extension = ".codesys.st"
    max_identifier = None  # CODESYS and TwinCAT take names of any length

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
        return f"// {st_comment(text)}"


class SiemensGenerator(StGenerator):
    """Siemens TIA Portal SCL source (S7-1200/1500): `#` locals, quoted blocks, regions, attributes."""

    dialect = "siemens"
    title = "SCL source for Siemens TIA Portal (S7-1200 / S7-1500)"
    template = "st/siemens.scl.j2"
    extension = ".scl"
    max_identifier = 128  # TIA Portal's limit
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
        return f"// {st_comment(text)}"

    def region_open(self, out: Emitter, title: str) -> bool:
        out.line(f"REGION {st_comment(title)}")
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
