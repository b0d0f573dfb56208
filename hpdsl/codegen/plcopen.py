"""The PLCopen TC6 XML target (v2.01): the whole package as one project file for PLC editors.

CODESYS, TwinCAT and the Beremiz / OpenPLC editor import this file. Every POU keeps its
interface as XML declarations and its body as Structured Text, printed by the strict IEC
generator (``st.StGenerator``), so the bodies are the same text the `iec` dialect writes.
The layout is the template ``targets/plcopen/project.xml.j2``.
"""

from __future__ import annotations

import re
from typing import ClassVar

from hpdsl.codegen.st import StGenerator, StOutput

# The project's creation time: fixed, so the same rules always give the same bytes.
CREATION_TIME = "2000-01-01T00:00:00"

_ARRAY = re.compile(r"ARRAY\[(-?\d+)\.\.(-?\d+)\] OF (.+)$")
_STRING = re.compile(r"STRING\[(\d+)\]$")
_ELEMENTARY = frozenset({"BOOL", "INT", "DINT", "LINT", "SINT", "REAL", "LREAL", "TIME", "BYTE", "WORD"})


def xml_type(type_name: str) -> str:
    """An ST type as the XML `dataType` content: `<LREAL/>`, `<derived name="X"/>`, arrays, strings."""
    array = _ARRAY.match(type_name)
    if array:
        low, high, element = array.groups()
        dimension = f'<dimension lower="{low}" upper="{high}"/>'
        return f"<array>{dimension}<baseType>{xml_type(element)}</baseType></array>"
    string = _STRING.match(type_name)
    if string:
        return f'<string length="{string.group(1)}"/>'
    if type_name in _ELEMENTARY:
        return f"<{type_name}/>"
    return f'<derived name="{type_name}"/>'


class PlcopenGenerator(StGenerator):
    """Prints an IR package as a PLCopen TC6 XML v2.01 project with Structured Text bodies."""

    dialect: ClassVar[str] = "plcopen"
    title: ClassVar[str] = "PLCopen TC6 XML v2.01 project with IEC 61131-3 Structured Text bodies"

    def generate(self, version: str) -> StOutput:
        """The project file, its source map, and the diagnostics."""
        from hpdsl.codegen.templates import render

        pous = self._pous()
        name = f"{self.package.name}.xml"
        document = render(
            "plcopen/project.xml.j2",
            generator=self,
            header=self._header(version),
            version=version,
            creation_time=CREATION_TIME,
            types=self._types(),
            structs=self.log_types(),
            pous=pous,
            xml_type=xml_type,
            main=self.global_name("main"),
        )
        return StOutput(
            {name: document, f"{name}.map.json": self._source_map(name, document, pous, version)},
            self.diagnostics,
        )
