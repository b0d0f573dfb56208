"""Bands the parameters' ranges let close: a hysteresis, a dead band written as `if ... else if`,
and thresholds of one `if` that must keep their order.

A band is the gap between two thresholds. With the parameters anywhere in their ranges (and
every `require` kept) the gap can be negative (the thresholds cross: the band inverts), zero
(it vanishes: the output chatters), or smaller than a sensor resolves. Each is a warning at the
threshold that moves, with the ranges that allow it.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope, hpdsl.check.values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic, Note
from hpdsl.base.source import Span
from hpdsl.check.values import domain as d
from hpdsl.check.values.domain import Num
from hpdsl.check.values.evaluate import strip
from hpdsl.check.values.explain import quoted, show
from hpdsl.check.values.model import Model
from hpdsl.check.values.relations import Form, Relations, form
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.types import QuantityType, Type

# The smallest difference a temperature sensor of a plant resolves; a band below it is noise.
TEMPERATURE_RESOLUTION = 0.1  # K
# For other quantities: this share of the span of the input's declared range.
SPAN_RESOLUTION = 0.001
KELVIN = units.lookup("K")


@dataclass(eq=False)
class Band:
    """The gap `upper - lower` between two thresholds that must keep their order."""

    upper: n.Expr
    lower: n.Expr
    subject: n.Expr  # what the thresholds are compared with
    what: str  # "the hysteresis of `x`", "the dead band of `mode`", ...
    at: Span  # where to report: the threshold that moves
    band: bool = True  # a band the output holds in (not only two thresholds in order)


def check(model: Model) -> Iterator[Diagnostic]:
    for module in model.package.modules:
        for program in module.items:
            if not isinstance(program, n.Program):
                continue
            scope = model.package.program_scopes.get(program.name.text)
            if scope is None:
                continue
            bands = list(_bands(model, program))
            if bands:
                relations = Relations(model, program, scope)
                for band in bands:
                    yield from _band(model, relations, band)


def _bands(model: Model, program: n.Program) -> Iterator[Band]:
    for item in program.items:
        if isinstance(item, n.Hysteresis):
            below = next((t for t in item.thresholds if t.side == "below"), None)
            above = next((t for t in item.thresholds if t.side == "above"), None)
            if below is not None and above is not None:
                yield Band(
                    above.level,
                    below.level,
                    item.input,
                    f"the hysteresis band of `{item.name.text}` on {quoted(item.input)}",
                    above.level.span,
                )
    for stmt in _ifs(program):
        yield from _chain_bands(model, stmt)


def _ifs(program: n.Program) -> Iterator[n.If]:
    bodies: list[tuple[n.Stmt, ...]] = []
    for item in program.items:
        if isinstance(item, n.Rule):
            bodies.append(item.body)
        elif isinstance(item, n.Alarm):
            bodies.append(item.action)
        elif isinstance(item, n.Machine):
            for state in item.states:
                bodies.extend(b for b in (state.entry, state.during, state.exit) if b is not None)
    while bodies:
        for stmt in bodies.pop():
            if isinstance(stmt, n.If):
                yield stmt
                bodies.extend(branch.body for branch in stmt.branches)
                if stmt.else_body is not None:
                    bodies.append(stmt.else_body)


def _chain_bands(model: Model, stmt: n.If) -> Iterator[Band]:
    """In `if X > A then v1 else if X < B then v2 end` the plant keeps its value between B and A:
    a dead band, `A - B`. In `if X > A ... else if X > B ...` the second needs B below A."""
    ev = model.evaluator
    for i, first in enumerate(stmt.branches):
        for second in stmt.branches[i + 1 :]:
            common = _constants(first.body).items() & _constants(second.body).items()
            targets = set(_constants(first.body)) & set(_constants(second.body))
            if not targets or len(common) == len(targets):
                continue  # the two branches set nothing in common to different values
            target = sorted(targets)[0]
            for x1, op1, t1 in _comparisons(model, first.condition):
                for x2, op2, t2 in _comparisons(model, second.condition):
                    if ev.shape(x1) != ev.shape(x2):
                        continue
                    up1, up2 = op1 in (">", ">="), op2 in (">", ">=")
                    if up1 != up2 and stmt.else_body is None:
                        upper, lower = (t1, t2) if up1 else (t2, t1)
                        yield Band(upper, lower, x1, f"the dead band of `{target}` on {quoted(x1)}", t2.span)
                    elif up1 == up2:
                        if _constant(model, t1) and _constant(model, t2):
                            continue  # fixed thresholds in the wrong order: a shadowed branch
                        upper, lower = (t1, t2) if up1 else (t2, t1)
                        yield Band(
                            upper,
                            lower,
                            x1,
                            f"the thresholds {quoted(t1)} and {quoted(t2)} of `{target}` on {quoted(x1)}",
                            t2.span,
                            band=False,
                        )


def _constant(model: Model, expr: n.Expr) -> bool:
    f = form(expr, model)
    return f is not None and not f.terms


def _constants(body: tuple[n.Stmt, ...]) -> dict[str, str]:
    """target -> the literal it is set to, for the assignments of literal values in a body."""
    found: dict[str, str] = {}
    for stmt in body:
        if isinstance(stmt, n.Assign):
            value = strip(stmt.value)
            if isinstance(value, (n.Name, n.Member, n.BoolLiteral, n.Number, n.Quantity)):
                found[stmt.target.text] = quoted(value)
    return found


def _comparisons(model: Model, condition: n.Expr) -> Iterator[tuple[n.Expr, str, n.Expr]]:
    """(subject, op, threshold) of the comparisons a condition needs (its `and`ed parts): the
    threshold is made of parameters, constants and literals, the subject reads a live value."""
    stack = [condition]
    while stack:
        node = strip(stack.pop())
        if isinstance(node, n.Binary) and node.op == "and":
            stack.extend((node.right, node.left))
        elif isinstance(node, n.HeldFor):
            stack.append(node.condition)
        elif isinstance(node, n.Compare) and node.op not in ("==", "!="):
            left, right = form(node.left, model), form(node.right, model)
            if right is not None and left is None:
                yield node.left, node.op, node.right
            elif left is not None and right is None:
                yield node.right, d.MIRRORED[node.op], node.left


def _band(model: Model, relations: Relations, band: Band) -> Iterator[Diagnostic]:
    upper, lower = form(band.upper, model), form(band.lower, model)
    if upper is None or lower is None:
        return
    gap = upper - lower
    type_ = model.package.expr_types.get(id(band.subject))
    difference = _difference_type(type_)
    reach = relations.range_of(gap)
    default = relations.default_of(gap)
    moved = relations.names(gap)
    shown = f"`{_written(band.upper)} - {_written(band.lower)}`"
    notes = _notes(model, relations, gap)
    if default is not None and default <= 0:
        yield messages.BAND_CAN_INVERT.at(
            band.at,
            what=f"{band.what} is {'closed' if default == 0 else 'inverted'}",
            why=f"with the defaults {shown} is {_show(default, difference)}",
            hint="the upper threshold must lie above the lower one; correct the thresholds",
            notes=notes,
        )
        return
    if reach.low <= 0 and moved:
        state = "invert" if reach.low < 0 else "close"
        yield messages.BAND_CAN_INVERT.at(
            band.at,
            what=f"{band.what} can {state}",
            why=f"within the ranges of {_names(moved)}, {shown} can be {_show(reach.low, difference)}",
            hint=(
                "narrow the parameters' ranges so the thresholds cannot meet, or state the order "
                f"with `require`, e.g. `require ...: {_written(band.upper)} - {_written(band.lower)} "
                ">= <least band>`"
            ),
            notes=notes,
        )
        return
    least = _resolution(model, band.subject, type_) if band.band else None
    if least is not None and 0 < reach.low < least:
        where = f"within the ranges of {_names(moved)}, " if moved else ""
        yield messages.BAND_TOO_NARROW.at(
            band.at,
            what=f"{band.what} can be narrower than a sensor resolves",
            why=(
                f"{where}{shown} can be {_show(reach.low, difference)}, "
                f"below the {_show(least, difference)} a measurement of {quoted(band.subject)} resolves"
            ),
            hint="widen the band, or raise the low end of the range of the parameter that sets it",
            notes=notes,
        )


def _difference_type(type_: Type | None) -> Type | None:
    if isinstance(type_, QuantityType) and type_.unit.absolute:
        return QuantityType(units.difference_unit(type_.unit))
    return type_


def _show(x: float, type_: Type | None) -> str:
    return show(Num(x, x), type_)


def _names(names: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _written(expr: n.Expr) -> str:
    return quoted(expr).strip("`")


def _resolution(model: Model, subject: n.Expr, type_: Type | None) -> float | None:
    """The least band worth having on a subject: a temperature sensor's resolution, or for a
    measured input a small share of its declared span; None for a computed subject."""
    if isinstance(type_, QuantityType) and KELVIN is not None and type_.unit.dimension == KELVIN.dimension:
        return TEMPERATURE_RESOLUTION
    subject = strip(subject)
    symbol = model.package.resolved.get(id(subject)) if isinstance(subject, n.Name) else None
    span = model.declared.get(id(symbol)) if symbol is not None and symbol.kind == "input" else None
    if span is not None and span.known and span.high - span.low < float("inf"):
        return (span.high - span.low) * SPAN_RESOLUTION
    return None


def _notes(model: Model, relations: Relations, gap: Form) -> tuple[Note, ...]:
    found: list[Note] = []
    for key, _ in gap.terms:
        for symbol in relations.scope.symbols.values():
            if id(symbol) == key and isinstance(symbol.node, n.Declaration) and symbol.node.range is not None:
                value = model.base.get(key)
                found.append(
                    Note(
                        f"`{symbol.name}` may be set to {show(value, symbol.type)} here",
                        symbol.node.range.span,
                    )
                )
    return tuple(found)
