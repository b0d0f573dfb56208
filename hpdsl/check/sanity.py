"""Unit sanity beyond dimensions: literals a real cannot hold, a fraction written as a percentage,
`* 1 h` and `/ 1 K` written only to make the units agree, and a day's total compared with a
rate made into an amount that way.

The dimensions of all of these agree, so the type checker accepts them; each is a warning.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope.
"""

from __future__ import annotations

import re
import sys

from hpdsl.base import messages
from hpdsl.base.diagnostics import Note
from hpdsl.check.scope import CheckerBase
from hpdsl.language import nodes as n
from hpdsl.language import units

_NONZERO_DIGIT = re.compile(r"^[^eE]*[1-9]")
TIME = units.lookup("s")


def _strip(expr: n.Expr) -> n.Expr:
    while isinstance(expr, n.Paren):
        expr = expr.inner
    return expr


def unit_one(expr: n.Expr) -> n.Quantity | None:
    """A literal `1 <unit>` of a unit with a dimension (`1 h`, `1 K`), or None."""
    expr = _strip(expr)
    if not isinstance(expr, n.Quantity) or expr.value != 1.0:
        return None
    unit = units.lookup(expr.unit)
    if unit is None or unit.dimension.is_dimensionless or unit.absolute:
        return None
    return expr


class SanityChecks(CheckerBase):
    """Literals and unit idioms that type-check and are still wrong."""

    def _literal_sanity(self, expr: n.Number | n.Quantity) -> None:
        value = expr.value
        unit = units.lookup(expr.unit) if isinstance(expr, n.Quantity) else units.NUMBER
        si = unit.to_si(value) if unit is not None else value
        written = _NONZERO_DIGIT.match(expr.text) is not None
        if written and (value == 0.0 or (si == 0.0 and not (unit is not None and unit.absolute))):
            self._report(
                messages.LITERAL_UNDERFLOW.at(
                    expr.span,
                    text=expr.text,
                    stored="0",
                    why="it is smaller than the smallest number a real holds (about 1e-308)",
                    hint="write the value in a larger unit, or as the 0 it is stored as",
                )
            )
        elif value != 0.0 and abs(value) < sys.float_info.min:
            self._report(
                messages.LITERAL_UNDERFLOW.at(
                    expr.span,
                    text=expr.text,
                    stored=f"{value:.3g}, with few significant digits",
                    why="it is below the smallest normal real (about 2.2e-308) and loses precision",
                    hint="write the value in a larger unit",
                )
            )
        if isinstance(expr, n.Quantity) and expr.unit == "%" and 0.0 < value < 1.0:
            self._report(
                messages.PERCENT_AS_FRACTION.at(
                    expr.span,
                    text=expr.text,
                    why=f"`{expr.text}` is {value / 100:g}, not {value:g}",
                    hint=f"write `{value * 100:g} %` if the fraction {value:g} was meant",
                )
            )

    def _note_unit_patch(self, expr: n.Binary) -> None:
        """Remember `x * 1 h` and `x / 1 K`; reported after the comparisons that explain them."""
        if expr.op in ("*", "/"):
            sides = (
                ((expr.right, expr.left),)
                if expr.op == "/"
                else ((expr.left, expr.right), (expr.right, expr.left))
            )
            for side, other in sides:
                literal = unit_one(side)
                # `4.18 kJ/l / 1 K` writes a compound unit into a literal: that is not a patch
                if literal is not None and not _literals_only(other):
                    self.unit_patches.append((expr, literal))
                    return

    def _power_vs_energy(self, expr: n.Compare) -> None:
        """`energy_today > rated_power * 1 h`: a day's total against a rate made into an amount."""
        for total_side, other in ((expr.left, expr.right), (expr.right, expr.left)):
            totals = [
                symbol
                for name in n.names_read(total_side)
                if (symbol := self.resolved.get(id(name))) is not None and symbol.kind == "totalizer"
            ]
            if not totals:
                continue
            patched = [
                (binary, literal)
                for binary, literal in self.unit_patches
                if _inside(binary, other) and units.lookup(literal.unit) is not None
            ]
            patched = [
                (b, lit)
                for b, lit in patched
                if TIME is not None and units.lookup(lit.unit).dimension == TIME.dimension  # type: ignore[union-attr]
            ]
            if not patched:
                continue
            binary, literal = patched[0]
            self.explained_patches.add(id(binary))
            total = totals[0]
            self._report(
                messages.POWER_VS_ENERGY.at(
                    binary.span,
                    what=(
                        f"`{total.name}` is a running total, compared here with a rate times "
                        f"`{literal.text}`: "
                        "the total grows all day, so the comparison says when enough has added up, not how "
                        "large the rate is now"
                    ),
                    hint=(
                        "to limit the rate, compare the rate itself (an input or output, not the totalizer); "
                        "to limit the total, compare it with an amount (an energy budget in kWh, "
                        "a runtime in h)"
                    ),
                    notes=(Note(f"totalizer `{total.name}` adds up here", total.span),),
                )
            )
            return

    def _report_unit_patches(self) -> None:
        for binary, literal in self.unit_patches:
            if id(binary) in self.explained_patches:
                continue
            self._report(
                messages.UNIT_PATCH.at(
                    literal.span,
                    op=binary.op,
                    text=literal.text,
                    why="the value stays the same and only its unit changes",
                    hint=(
                        "if a rate was meant, divide by the time it took (or multiply by how long it "
                        "lasted); if a conversion was meant, give the quantity its own unit or make "
                        "the constant a named parameter"
                    ),
                )
            )


def _literals_only(expr: n.Expr) -> bool:
    expr = _strip(expr)
    if isinstance(expr, (n.Number, n.Quantity)):
        return True
    if isinstance(expr, n.Unary):
        return _literals_only(expr.operand)
    if isinstance(expr, n.Binary):
        return _literals_only(expr.left) and _literals_only(expr.right)
    return False


def _inside(node: n.Expr, expr: n.Expr) -> bool:
    stack = [expr]
    while stack:
        current = stack.pop()
        if current is node:
            return True
        if isinstance(current, n.Paren):
            stack.append(current.inner)
        elif isinstance(current, (n.Binary, n.Compare)):
            stack.extend((current.left, current.right))
        elif isinstance(current, n.Unary):
            stack.append(current.operand)
        elif isinstance(current, n.Call):
            stack.extend(current.args)
    return False
