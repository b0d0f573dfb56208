"""Reading and writing the files a user gives: rules text decoded, outputs written only when
they change, a command-line mistake told apart from a diagnostic.

May import: hpdsl.base.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.source import MAX_FILE_BYTES, SourceFile, Span, display_name


class UsageError(Exception):
    """A command-line mistake (a path that does not exist): exit code 2, not a diagnostic."""


def decode(name: str, data: bytes) -> tuple[SourceFile | None, Diagnostic | None]:
    """Turn the bytes of a rules file into text, or say why they are not rules text."""
    file_span = Span.point(name, 1, 1)
    if len(data) > MAX_FILE_BYTES:
        return None, messages.FILE_TOO_LARGE.at(
            file_span,
            size=len(data),
            limit=MAX_FILE_BYTES,
            hint="split the package into several files, or check that this is the file you meant",
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        return None, messages.BINARY_FILE.at(
            _offset_span(name, data, nul), offset=nul, hint="rules files are plain UTF-8 text"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, messages.BAD_ENCODING.at(
            _offset_span(name, data, exc.start),
            byte=data[exc.start],
            offset=exc.start,
            hint="save the file as UTF-8",
        )
    return SourceFile(name, normalised(text)), None


def normalised(text: str) -> str:
    """Rules text as hpdsl reads it: without a byte-order mark, with one newline convention
    inside, so columns and carets are right on every platform."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_source(path: Path) -> tuple[SourceFile | None, Diagnostic | None]:
    """A text file given on the command line (a scenario or site file) as a SourceFile, or why it is not text.

    A file that cannot be read at all is a command-line mistake: UsageError.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read `{path}`: {exc.strerror or exc}") from None
    return decode(display_name(path), data)


class Checked(Protocol):
    """What reading a file of hpdsl's own kinds gives: the file's contents and its problems."""

    diagnostics: list[Diagnostic]


_C = TypeVar("_C", bound=Checked)


def read_checked(path: Path, empty: Callable[[str], _C], check: Callable[[SourceFile], _C]) -> _C:
    """A text file read and checked (a site, plant, points or manifest file), or, when it is not
    text, `empty(its name)` holding why not. A file that cannot be read at all is UsageError."""
    source, problem = read_source(path)
    if source is None:
        result = empty(display_name(path))
        if problem is not None:
            result.diagnostics.append(problem)
        return result
    return check(source)


def has_marker(path: Path, marker: str) -> bool:
    """True when the head (first 512 bytes) of a file holds `marker`: a file hpdsl wrote and may
    write again. False for a file that cannot be read."""
    try:
        with path.open("rb") as stream:
            head = stream.read(512).decode("utf-8", errors="replace")
    except OSError:
        return False
    return marker in head


def write_if_changed(path: Path, text: str) -> None:
    """Write `text` as UTF-8 unless the file already holds exactly it, so that unchanged
    files keep their timestamps and builds that depend on them stay incremental."""
    data = text.encode("utf-8")
    if not (path.exists() and path.read_bytes() == data):
        path.write_bytes(data)


def _offset_span(name: str, data: bytes, offset: int) -> Span:
    head = data[:offset]
    line = head.count(b"\n") + 1
    column = offset - (head.rfind(b"\n") + 1) + 1
    return Span.point(name, line, column)
