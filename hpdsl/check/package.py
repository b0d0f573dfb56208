"""A rules package: the files given on the command line, loaded, parsed and checked as one.

May import: hpdsl.base, hpdsl.language, hpdsl.check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.files import UsageError, decode
from hpdsl.base.source import SourceFile, Span, discover, display_name
from hpdsl.language.nodes import Module


@dataclass
class CheckResult:
    """What checking a set of paths produced."""

    sources: dict[str, SourceFile] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    modules: list[Module] = field(default_factory=list)  # the parsed files, when they all parsed

    @property
    def error_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.is_error)

    @property
    def warning_count(self) -> int:
        return sum(1 for d in self.diagnostics if not d.is_error)


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
    from hpdsl.check.checker import check_package  # the checker imports the whole front end

    package, found = check_package(list(result.sources.values()))
    result.diagnostics.extend(found)
    result.diagnostics.sort(key=Diagnostic.sort_key)
    if package is not None:
        result.modules = package.modules
    return result
