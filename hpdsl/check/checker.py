"""The checker: names, types, units and the semantic rules of a whole rules package.

It never raises on bad rules and never stops at the first problem: every check appends
diagnostics and carries on, and a node that fails gets the `ERROR` type so that one
mistake is reported once. The result is a `CheckedPackage` (the modules, their symbols
and the type of every expression) together with the diagnostics.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.source import SourceFile, Span
from hpdsl.check.constructs import ConstructChecks
from hpdsl.check.declarations import DeclarationChecks
from hpdsl.check.expressions import ExpressionChecks
from hpdsl.check.operators import OperatorChecks
from hpdsl.check.sanity import SanityChecks
from hpdsl.check.scope import BUILTIN_FUNCTIONS as BUILTIN_FUNCTIONS
from hpdsl.check.scope import DAY_ALIASES as DAY_ALIASES
from hpdsl.check.scope import DAYS as DAYS
from hpdsl.check.scope import PERIODS as PERIODS
from hpdsl.check.scope import SEVERITIES as SEVERITIES
from hpdsl.check.scope import TIME_IN_STATE as TIME_IN_STATE
from hpdsl.check.scope import CheckedPackage as CheckedPackage
from hpdsl.check.scope import Context, functions_first
from hpdsl.check.scope import Scope as Scope
from hpdsl.check.scope import SiteValue as SiteValue
from hpdsl.check.scope import SiteValues as SiteValues
from hpdsl.check.scope import Symbol as Symbol
from hpdsl.check.scope import Writer as Writer
from hpdsl.check.scope import evaluate_in_scope as evaluate_in_scope
from hpdsl.check.tables import TableChecks
from hpdsl.language import nodes as n
from hpdsl.language.parser import parse_source


class Checker(
    DeclarationChecks, ConstructChecks, TableChecks, ExpressionChecks, OperatorChecks, SanityChecks
):
    """Checks a list of parsed modules as one package."""

    # ================================================================== driver
    def run(self) -> None:
        """Run every pass of PASSES, in order, over the package's items."""
        items = [item for module in self.modules for item in module.items]
        for _, check in PASSES:
            check(self, items)

    # Each pass is one concern and reads what the earlier ones recorded.
    def _declare_requirements(self, items: list[n.Item]) -> None:
        for item in items:
            if isinstance(item, n.Requirement):
                self._declare_requirement(item)

    def _declare_enums(self, items: list[n.Item]) -> None:
        for item in items:
            if isinstance(item, n.EnumDecl):
                self._declare_enum(item)

    def _declare_package_items(self, items: list[n.Item]) -> None:
        for item in items:
            if not isinstance(item, (n.Requirement, n.EnumDecl)):
                self._declare_package_item(item)

    def _declare_program_items(self, items: list[n.Item]) -> None:
        # Every program's names exist before any program is checked, so an input wired
        # `from` another program finds its output whatever the order of files and programs.
        for item in items:
            if isinstance(item, n.Program):
                ctx = self.program_contexts[id(item)]
                for member in item.items:
                    self._declare_program_item(member, ctx)

    def _check_constants(self, items: list[n.Item]) -> None:
        for scope in (self.package_scope, *(c.scope for c in self.program_contexts.values())):
            self._check_constant_cycles(scope)

    def _check_items(self, items: list[n.Item]) -> None:
        package_context = Context(self.package_scope, None)
        # Tables and curves first: a call anywhere needs the table's row type.
        for item in sorted(items, key=functions_first):
            self.site_reads.clear()
            self._cite(item.meta)
            if isinstance(item, n.Declaration):
                self._check_declaration(item, package_context)
            elif isinstance(item, n.Curve):
                self._check_curve(item, package_context)
            elif isinstance(item, n.Table):
                self._check_table(item, package_context)
            elif isinstance(item, n.Program):
                self._check_program(item)

    def _check_usage(self, items: list[n.Item]) -> None:
        self._report_unused_package()

    def _check_requirements(self, items: list[n.Item]) -> None:
        self._report_requirements()

    def _check_unit_patches(self, items: list[n.Item]) -> None:
        self._report_unit_patches()

    def _report_unused_package(self) -> None:
        for symbol in self.package_scope.symbols.values():
            if symbol.kind in ("enum", "const", "curve", "table") and id(symbol) not in self.used:
                self._report(
                    messages.UNUSED.at(
                        symbol.span, kind=symbol.kind, name=symbol.name, hint="remove it, or use it in a rule"
                    )
                )

    def _report_requirements(self) -> None:
        for name, requirement in self.requirements.items():
            if name not in self.citations:
                self._report(
                    messages.UNCOVERED_REQUIREMENT.at(
                        requirement.name.span,
                        name=name,
                        hint=f"cite it on the rule that implements it: `cites {name}`",
                    )
                )


# The passes of a check, in order: (what it does, the method that does it). The declaration passes
# come first so that every later one finds every name, whatever the order of files and items.
PASSES: tuple[tuple[str, Callable[[Checker, list[n.Item]], None]], ...] = (
    ("declare the requirements", Checker._declare_requirements),
    ("declare the enumerations", Checker._declare_enums),
    ("declare the package's items", Checker._declare_package_items),
    ("declare every program's items", Checker._declare_program_items),
    ("constants that depend on each other", Checker._check_constants),
    ("check the declarations, tables, curves and programs", Checker._check_items),
    ("names declared and never used", Checker._check_usage),
    ("requirements implemented and cited", Checker._check_requirements),
    ("multiplications by 1 of a unit", Checker._check_unit_patches),
)


def check_site(modules: list[n.Module], site: SiteValues) -> list[Diagnostic]:
    """The problems a site file's values cause in a package that checks clean with its defaults.

    Every check of values (hysteresis order, ranges, division by zero, `require`) runs again
    with the site's values in place of the defaults; table rows and curve points read no
    parameter, so their checks come out as before. Each check of values reports an error, and
    the defaults caused none (the package checks clean), so every one found now is the site's:
    it is reported at the site file's line.
    """
    with_site = Checker(modules, site)
    with_site.run()
    return with_site.relocated


def check_sources(sources: list[SourceFile]) -> list[Diagnostic]:
    """Parse and check files as one package; return every diagnostic."""
    _, diagnostics = check_package(sources)
    return diagnostics


def check_package(sources: list[SourceFile]) -> tuple[CheckedPackage | None, list[Diagnostic]]:
    """Parse and check files as one package: (checked package or None, diagnostics)."""
    # The tree and the symbol tables hold no reference cycles, so the cyclic collector has
    # nothing to find; left on, its full passes over the growing heap make checking cost
    # grow faster than the size of the package (measured in benchmarks/bench_check.py).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _check_package(sources)
    finally:
        if was_enabled:
            gc.enable()


def _check_package(sources: list[SourceFile]) -> tuple[CheckedPackage | None, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    modules: list[n.Module] = []
    for source in sources:
        result = parse_source(source)
        diagnostics.extend(result.diagnostics)
        if result.module is None:
            continue
        if not result.module.items:
            diagnostics.append(
                messages.EMPTY_FILE.at(
                    Span.point(source.name, 1, 1),
                    hint="declare a program, an enumeration or a constant, or delete the file",
                )
            )
        modules.append(result.module)
    if len(modules) < len(sources):
        # A file that did not parse may declare names the others use; checking now would
        # bury its syntax error under undefined-name errors.
        return None, diagnostics
    checker = Checker(modules)
    checker.run()
    diagnostics.extend(checker.diagnostics)
    if not any(d.is_error for d in diagnostics):
        from hpdsl.check.values import analyse

        diagnostics.extend(analyse(checker.package))
    return checker.package, without_allowed(diagnostics, sources)


# `# allow: never-true, unit-patch` at the end of a line: the engineer has seen these warnings
# there and keeps the line as it is.
_ALLOW = re.compile(r"#\s*allow:\s*([a-z0-9][a-z0-9, -]*)")


def without_allowed(diagnostics: list[Diagnostic], sources: list[SourceFile]) -> list[Diagnostic]:
    """The diagnostics less the warnings that a `# allow: CODE` comment on their line accepts."""
    if not any("allow:" in source.text for source in sources):
        return diagnostics
    files = {source.name: source for source in sources}
    kept: list[Diagnostic] = []
    for diagnostic in diagnostics:
        source = files.get(diagnostic.span.file)
        line = source.line(diagnostic.span.line) if source is not None else ""
        found = _ALLOW.search(line) if not diagnostic.is_error else None
        if found is None or diagnostic.code not in {c.strip() for c in found.group(1).split(",")}:
            kept.append(diagnostic)
    return kept
