"""The checker's reasoning about values: what the declared ranges of inputs and parameters
prove of conditions, divisions, tables and curves, bands, timers, writers and fallbacks.

Data flow: a `CheckedPackage` without errors -> `model.build` (the values every name can take,
and a walk that records each condition, write, division and call with what is known there)
-> the checks, each a module reading those records -> warnings with their own codes.

`domain` holds the values (ranges and choices), `evaluate` the value of an expression and what
a condition tells, `model` the package's values and the walk, `explain` the wording of why.
Every warning here is sound in one direction: it fires only where the ranges prove it.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope.
"""

from __future__ import annotations

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.check.scope import CheckedPackage


def analyse(package: CheckedPackage) -> list[Diagnostic]:
    """The warnings about values of a package that checks without errors."""
    from hpdsl.check.values import arithmetic, bands, conditions, timing, writes
    from hpdsl.check.values.model import build

    model = build(package)
    found: list[Diagnostic] = []
    for check in (conditions.check, arithmetic.check, bands.check, timing.check, writes.check):
        found.extend(check(model))
    return found
