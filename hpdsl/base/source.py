"""Source files and spans: where every piece of a rules package came from."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

RULES_SUFFIX = ".rules"

# A rules file is hand-written text; anything bigger than this is a mistake
# (a log or a data file passed by accident) and would make editor checks slow.
MAX_FILE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Span:
    """A region of a source file: 1-based line and column; the end column is one past the last character."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def point(file: str, line: int, column: int) -> Span:
        """A span covering one character."""
        return Span(file, line, column, line, column + 1)

    def to(self, other: Span) -> Span:
        """The span from the start of self to the end of other."""
        return Span(self.file, self.line, self.column, other.end_line, other.end_column)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NO_SPAN = Span("<unknown>", 0, 0, 0, 0)


def span_field() -> Span:
    """A dataclass field for a node's span that takes no part in equality or hashing."""
    return field(default=NO_SPAN, compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class SourceFile:
    """One rules file: its display name (as the user gave it) and its text."""

    name: str
    text: str
    lines: tuple[str, ...] = dataclasses.field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Only "\n" ends a line, as the lexer counts lines; splitlines() would also break
        # at form feeds and put carets under the wrong line.
        object.__setattr__(self, "lines", tuple(self.text.split("\n")))

    def line(self, number: int) -> str:
        """The text of a 1-based line, or '' past the end."""
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return ""

    def text_of(self, span: Span) -> str:
        """The text a span covers, as written (line breaks included)."""
        if span.line == span.end_line:
            return self.line(span.line)[span.column - 1 : span.end_column - 1]
        parts = [self.line(span.line)[span.column - 1 :]]
        parts.extend(self.line(number) for number in range(span.line + 1, span.end_line))
        parts.append(self.line(span.end_line)[: span.end_column - 1])
        return "\n".join(parts)


def display_name(path: Path) -> str:
    """The name a diagnostic shows for a path: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path.as_posix()
    if rel.startswith(".."):
        return path.as_posix()
    return Path(rel).as_posix()


def discover(paths: list[Path]) -> tuple[list[Path], list[Path], list[Path]]:
    """Expand files and folders into rules files, sorted within each folder.

    Returns (rules files, folders that held none, paths that do not exist).
    """
    files: list[Path] = []
    empty_dirs: list[Path] = []
    missing: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob(f"*{RULES_SUFFIX}") if p.is_file())
            if not found:
                empty_dirs.append(path)
            for p in found:
                key = p.resolve()
                if key not in seen:
                    seen.add(key)
                    files.append(p)
        elif path.exists():
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                files.append(path)
        else:
            missing.append(path)
    return files, empty_dirs, missing
