"""A rules package: the files given on the command line, loaded, parsed and checked as one.

All top-level names of all files share one namespace, so a site combines the shipped
library with its own files simply by naming both folders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hpdsl import messages
from hpdsl.diagnostics import Diagnostic
from hpdsl.source import MAX_FILE_BYTES, SourceFile, Span, discover, display_name


@dataclass
class CheckResult:
    """What checking a set of paths produced."""

    sources: dict[str, SourceFile] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.is_error)

    @property
    def warning_count(self) -> int:
        return sum(1 for d in self.diagnostics if not d.is_error)


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


def load_paths(paths: list[Path]) -> CheckResult:
    """Read every rules file under the given paths; unreadable files become diagnostics."""
    files, empty_dirs, missing = discover(paths)
    if missing:
        raise UsageError("no such file or folder: " + ", ".join(f"`{p}`" for p in missing))
    result = CheckResult()
    for folder in empty_dirs:
        name = display_name(folder)
        result.diagnostics.append(
            messages.NO_RULES.at(
                Span.point(name, 0, 0),
                path=name,
                hint="rules files end in `.rules`; give the folder that holds them",
            )
        )
    for path in files:
        name = display_name(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            result.diagnostics.append(
                messages.FILE_UNREADABLE.at(
                    Span.point(name, 0, 0), path=name, reason=exc.strerror or str(exc)
                )
            )
            continue
        source, problem = decode(name, data)
        if problem is not None:
            result.diagnostics.append(problem)
        if source is not None:
            result.sources[name] = source
    return result


def check_paths(paths: list[Path]) -> CheckResult:
    """Load, parse and check every rules file under the given paths as one package."""
    result = load_paths(paths)
    from hpdsl.checker import check_sources  # the checker imports the whole front end

    result.diagnostics.extend(check_sources(list(result.sources.values())))
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result
