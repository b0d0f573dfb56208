"""An indentation-aware line emitter shared by the generators."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

from hpdsl.codegen.escape import printable


class Emitter:
    """Collects lines of code at the current indentation level."""

    def __init__(self, indent: str = "    ", level: int = 0) -> None:
        self.unit = indent
        self.level = level
        self.lines: list[str] = []

    def line(self, text: str = "") -> None:
        """One line at the current level (an empty line stays empty)."""
        self.lines.append(f"{self.unit * self.level}{text}" if text else "")

    @contextmanager
    def indented(self) -> Iterator[None]:
        """Lines emitted inside the block go one level deeper."""
        self.level += 1
        try:
            yield
        finally:
            self.level -= 1

    def comment(self, text: str, marker: str, width: int) -> None:
        """A comment, wrapped to fit `width` columns at the current level."""
        prefix = f"{self.unit * self.level}{marker} "
        for paragraph in [printable(line) for line in text.splitlines()] or [""]:
            wrapped = textwrap.wrap(paragraph, max(20, width - len(prefix))) or [""]
            for piece in wrapped:
                self.lines.append(f"{prefix}{piece}".rstrip())

    def text(self) -> str:
        """Everything emitted, one line per entry, ending in a newline."""
        return "\n".join(self.lines) + "\n" if self.lines else ""
