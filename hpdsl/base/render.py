"""Diagnostics rendered for people (text) and for tools (JSON, GitHub Actions, SARIF).

Every renderer sorts before it writes and prints nothing that depends on the clock or the
machine, so the same diagnostics always give the same bytes (golden tests, CI diffs).
Each returns its whole output, ending in a newline unless it is empty.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import quote

from hpdsl.base.diagnostics import CODES, NO_RULES, Diagnostic, Note, Severity
from hpdsl.base.escape import terminal, unsafe
from hpdsl.base.source import SourceFile, Span

# Display columns per tab stop when a source line is echoed. Any value works as long as the
# caret line is laid out with the same one; 4 is what the shipped rules files indent with.
TAB_WIDTH = 4

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"

_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_SEVERITY_COLOR = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;35m", Severity.NOTE: "\x1b[1;36m"}
_NOTE_COLOR = _SEVERITY_COLOR[Severity.NOTE]


def ordered(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in output order: by file, line, column and code, then by everything else."""
    return sorted(diagnostics, key=Diagnostic.sort_key)


# --- Text --------------------------------------------------------------------------------


def render_text(
    diagnostics: Iterable[Diagnostic], sources: Mapping[str, SourceFile], *, color: bool = False
) -> str:
    """Diagnostics as a compiler prints them: location, message, source line, caret, hints, summary."""
    diagnostics = ordered(diagnostics)
    paint = _Painter(color)
    out: list[str] = []
    for diagnostic in diagnostics:
        severity = diagnostic.severity
        out.append(
            f"{paint(_BOLD, _location(diagnostic.span) + ':')} "
            f"{paint(_SEVERITY_COLOR[severity], severity.value + ':')} "
            f"{paint(_BOLD, _printable(diagnostic.message))} [{diagnostic.code}]"
        )
        out.extend(_snippet(diagnostic.span, sources, paint, _SEVERITY_COLOR[severity]))
        if diagnostic.hint:
            out.append(f"  = {paint(_BOLD, 'hint:')} {_indented(diagnostic.hint)}")
        for note in diagnostic.notes:
            out.extend(_note_lines(note, sources, paint))
    out.append(paint(_BOLD, _summary(diagnostics, sources)))
    return "\n".join(out) + "\n"


def _location(span: Span) -> str:
    # Line 0 means "the whole file (or folder)": there is no line to point at.
    if span.line <= 0:
        return span.file
    if span.column <= 0:
        return f"{span.file}:{span.line}"
    return f"{span.file}:{span.line}:{span.column}"


def _note_lines(note: Note, sources: Mapping[str, SourceFile], paint: _Painter) -> list[str]:
    if note.span is None:
        return [f"  = {paint(_BOLD, 'note:')} {_indented(note.message)}"]
    lines = [
        f"{paint(_BOLD, _location(note.span) + ':')} {paint(_NOTE_COLOR, 'note:')} {_printable(note.message)}"
    ]
    lines.extend(_snippet(note.span, sources, paint, _NOTE_COLOR))
    return lines


SNIPPET_WIDTH = 160  # characters of a source line shown around a diagnostic's place, at most


def _snippet(span: Span, sources: Mapping[str, SourceFile], paint: _Painter, caret_color: str) -> list[str]:
    """The source line of a span and a caret line under it; nothing for whole-file spans."""
    source = sources.get(span.file)
    # One line past the end is still a place: "the file ends too early" points there.
    if source is None or span.line <= 0 or span.line > len(source.lines) + 1:
        return []
    text = source.line(span.line)
    start = max(span.column, 1) - 1
    # Span ends are exclusive (lark's end_column); a span over several lines is underlined
    # to the end of its first line.
    end = span.end_column - 1 if span.end_line == span.line else len(text)
    if len(text) > SNIPPET_WIDTH:
        # A very long line (a generated file, a number of thousands of digits) is shown as a
        # window around the place, marked `...` where it is cut.
        low = max(0, start - SNIPPET_WIDTH // 4)
        high = min(len(text), low + SNIPPET_WIDTH)
        lead = "..." if low else ""
        text = lead + text[low:high] + ("..." if high < len(text) else "")
        start, end = start - low + len(lead), min(end, high) - low + len(lead)
    shown, starts = _layout(text)
    first = _display_column(starts, start)
    width = max(1, _display_column(starts, end) - first)
    gutter = str(span.line)
    return [
        f" {gutter} | {shown}".rstrip(),
        f" {' ' * len(gutter)} | {' ' * first}{paint(caret_color, '^' + '~' * (width - 1))}",
    ]


def _layout(text: str) -> tuple[str, list[int]]:
    """A source line as printed, and the display column at which each character starts.

    Tabs become spaces up to the next tab stop, wide (East Asian) characters take two
    columns and combining marks none, so that the caret line can be laid out to match.
    Control characters are shown as their visible Unicode pictures: a rules file must not
    be able to send escape sequences to the reader's terminal.
    """
    shown: list[str] = []
    starts: list[int] = []
    column = 0
    for char in text:
        starts.append(column)
        if char == "\t":
            width = TAB_WIDTH - column % TAB_WIDTH
            shown.append(" " * width)
        elif unsafe(char):
            picture = terminal(char)  # a control picture (␛), or <U+202E> for what hides or reorders
            shown.append(picture)
            width = len(picture)
        else:
            shown.append(char)
            width = _char_width(char)
        column += width
    starts.append(column)
    return "".join(shown), starts


def _display_column(starts: list[int], index: int) -> int:
    """The display column of a character index; past the end of the line, one column per index."""
    if index < len(starts):
        return starts[index]
    return starts[-1] + index - (len(starts) - 1)


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _printable(text: str) -> str:
    """Message text with control, invisible and reordering characters (not newlines) made visible."""
    return terminal(text)


def _indented(text: str) -> str:
    # A hint or note of several lines keeps its continuation lines under its first.
    return _printable(text).replace("\n", "\n    ")


def _summary(diagnostics: list[Diagnostic], sources: Mapping[str, SourceFile]) -> str:
    """`2 errors, 1 warning in 3 files`, or `no problems in 3 files`."""
    files = set(sources)
    # A no-rules span names a folder that was searched, not a file that was checked; every
    # other diagnostic names a file, including one that could not be read or decoded.
    files.update(d.span.file for d in diagnostics if d.code != NO_RULES.code)
    counts = [
        _plural(sum(1 for d in diagnostics if d.severity is severity), severity.value)
        for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTE)
    ]
    found = ", ".join(c for c in counts if c) or "no problems"
    return f"{found} in {_plural(len(files), 'file') or '0 files'}"


def _plural(count: int, noun: str) -> str:
    if count == 0:
        return ""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class _Painter:
    """Wraps text in ANSI colour codes, or leaves it alone when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if self.enabled else text


# --- JSON --------------------------------------------------------------------------------


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    """Diagnostics as a JSON array sorted by file, line, column and code, with sorted keys."""
    return json.dumps([_json_object(d) for d in ordered(diagnostics)], indent=2, sort_keys=True) + "\n"


def _json_object(diagnostic: Diagnostic) -> dict[str, Any]:
    span = diagnostic.span
    return {
        "file": span.file,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
        "severity": diagnostic.severity.value,
        "code": diagnostic.code,
        "message": diagnostic.message,
        "hint": diagnostic.hint,
        "notes": [
            {
                "message": note.message,
                "file": note.span.file if note.span else None,
                "line": note.span.line if note.span else None,
                "column": note.span.column if note.span else None,
            }
            for note in diagnostic.notes
        ],
    }


# --- GitHub Actions ----------------------------------------------------------------------


def render_github(diagnostics: Iterable[Diagnostic]) -> str:
    """Diagnostics as GitHub Actions workflow commands (`::error file=...::message`)."""
    lines = []
    for diagnostic in ordered(diagnostics):
        span = diagnostic.span
        properties = [("file", span.file)]
        if span.line > 0:
            properties.append(("line", str(span.line)))
            if span.column > 0:
                properties.append(("col", str(span.column)))
            properties.append(("endLine", str(span.end_line)))
            if span.end_column > 0:
                properties.append(("endColumn", str(span.end_column)))
        properties.append(("title", diagnostic.code))
        rendered = ",".join(f"{name}={_github_property(value)}" for name, value in properties)
        command = _GITHUB_COMMAND[diagnostic.severity]
        lines.append(f"::{command} {rendered}::{_github_data(_full_message(diagnostic))}")
    return "".join(line + "\n" for line in lines)


def _github_data(text: str) -> str:
    """GitHub's escaping for the message part of a workflow command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    """GitHub's escaping for a property value, where `:` and `,` are separators."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def _full_message(diagnostic: Diagnostic, *, notes_with_span: bool = True) -> str:
    """The message with its hint and notes on following lines, for formats with one text field."""
    parts = [diagnostic.message]
    if diagnostic.hint:
        parts.append(f"hint: {diagnostic.hint}")
    for note in diagnostic.notes:
        if note.span is None:
            parts.append(f"note: {note.message}")
        elif notes_with_span:
            parts.append(f"{_location(note.span)}: note: {note.message}")
    return "\n".join(parts)


# --- SARIF -------------------------------------------------------------------------------


def render_sarif(diagnostics: Iterable[Diagnostic], *, tool_version: str) -> str:
    """Diagnostics as a SARIF 2.1.0 log with one run, for code-scanning services."""
    rule_ids = list(CODES)
    rule_index = {code: index for index, code in enumerate(rule_ids)}
    rules = [
        {
            "id": entry.code,
            "shortDescription": {"text": entry.meaning},
            "defaultConfiguration": {"level": entry.severity.value},
            "properties": {"category": entry.category},
        }
        for entry in CODES.values()
    ]
    results = [_sarif_result(d, rule_index) for d in ordered(diagnostics)]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": "hpdsl", "version": tool_version, "rules": rules}},
                # Columns count characters of the decoded text, as the parser does.
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, sort_keys=True) + "\n"


def _sarif_result(diagnostic: Diagnostic, rule_index: Mapping[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": diagnostic.code,
        "level": diagnostic.severity.value,
        # Notes with a span become related locations; only the others go into the text.
        "message": {"text": _full_message(diagnostic, notes_with_span=False)},
        "locations": [_sarif_location(diagnostic.span)],
    }
    if diagnostic.code in rule_index:
        result["ruleIndex"] = rule_index[diagnostic.code]
    related: list[dict[str, Any]] = []
    for note in diagnostic.notes:
        if note.span is not None:
            location = _sarif_location(note.span)
            related.append({"id": len(related) + 1, **location, "message": {"text": note.message}})
    if related:
        result["relatedLocations"] = related
    return result


def _sarif_location(span: Span) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _sarif_uri(span.file)}}
    if span.line > 0:
        region = {"startLine": span.line}
        if span.column > 0:
            region["startColumn"] = span.column
        end_line = max(span.end_line, span.line)
        region["endLine"] = end_line
        if span.end_column > 0:
            end_column = span.end_column
            if end_line == span.line and span.column > 0:
                end_column = max(end_column, span.column + 1)
            region["endColumn"] = end_column
        physical["region"] = region
    return {"physicalLocation": physical}


_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:/")


def _sarif_uri(name: str) -> str:
    """A file name as a URI reference: forward slashes, percent-encoded, absolute ones as file: URIs."""
    path = name.replace("\\", "/")
    if _WINDOWS_DRIVE.match(path):
        return "file:///" + quote(path, safe="/:")
    if path.startswith("/"):
        return "file://" + quote(path, safe="/")
    return quote(path, safe="/")


# --- Printing for commands ----------------------------------------------------------------

FORMATS = ("text", "json", "github", "sarif")


def render_as(found: list[Diagnostic], sources: dict[str, SourceFile], format_: str, color: bool) -> str:
    """The diagnostics in one of FORMATS (`text` coloured when `color`)."""
    if format_ == "json":
        return render_json(found)
    if format_ == "github":
        return render_github(found)
    if format_ == "sarif":
        import hpdsl

        return render_sarif(found, tool_version=hpdsl.__version__)
    return render_text(found, sources, color=color)


def use_color(choice: str, stream: TextIO) -> bool:
    """`--color`: auto colours only a terminal, and never when NO_COLOR is set (no-color.org)."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return not os.environ.get("NO_COLOR") and stream.isatty()


def write(stream: TextIO, text: str) -> None:
    """Write output, replacing what the stream's encoding cannot show instead of failing."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = stream.encoding or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
    stream.flush()


def report(found: list[Diagnostic], sources: dict[str, SourceFile], stream: TextIO) -> None:
    """Diagnostics as text on `stream`, coloured when it is a terminal: what a command prints
    about the files it was given before it stops."""
    write(stream, render_as(found, sources, "text", use_color("auto", stream)))
