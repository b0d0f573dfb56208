"""Arithmetic the ranges put at risk: a division whose divisor can be 0 where it is evaluated,
and a table or curve called with keys beyond what it covers.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope, hpdsl.check.values.
"""

from __future__ import annotations

from collections.abc import Iterator

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic, Note
from hpdsl.check.values import domain as d
from hpdsl.check.values.domain import Num
from hpdsl.check.values.evaluate import Env, strip
from hpdsl.check.values.explain import notes, quoted, show, why
from hpdsl.check.values.model import Model
from hpdsl.language import nodes as n


def check(model: Model) -> Iterator[Diagnostic]:
    yield from _divisions(model)
    yield from _domains(model)


def _divisions(model: Model) -> Iterator[Diagnostic]:
    ev = model.evaluator
    seen: set[int] = set()
    for use in model.divisions:
        expr = use.expr
        assert isinstance(expr, n.Binary)
        if id(expr) in seen or use.env.unreachable:
            continue
        divisor = ev.value(expr.right, use.env)
        dividend = ev.value(expr.left, use.env)
        if not isinstance(divisor, Num) or not divisor.known or not divisor.contains(0.0):
            continue
        if isinstance(dividend, Num) and dividend.point and dividend.low == 0.0:
            continue
        seen.add(id(expr))
        shown = quoted(expr.right)
        yield messages.UNGUARDED_DIVISION.at(
            expr.right.span,
            why=(
                f"{why(expr.right, use.env, model)}; a controller gives 0 for a division by zero, "
                f"so {quoted(expr)} reads 0 then"
            ),
            hint=(
                f"guard it where it is used (`if {shown.strip('`')} > <smallest meaningful value> then`), "
                f"or divide by `max({shown.strip('`')}, <smallest meaningful value>)`"
            ),
            notes=notes(expr.right, model),
        )


def _domains(model: Model) -> Iterator[Diagnostic]:
    ev = model.evaluator
    seen: set[tuple[int, int]] = set()
    for use in model.calls:
        call = use.expr
        assert isinstance(call, n.Call)
        symbol = model.package.resolved.get(id(call))
        if symbol is None or not call.args or use.env.unreachable:
            continue
        key = ev.value(call.args[0], use.env)
        if not isinstance(key, Num) or not key.known or key.empty:
            continue
        node = symbol.node
        # A curve holds its end values flat beyond its points and a table without a key range
        # covers every key (`table-gap`): only a declared key range is narrower than some keys.
        covers: Num | None = None
        if isinstance(node, (n.Curve, n.Table)) and node.key.range is not None:
            low = ev.value(node.key.range.low, Env())
            high = ev.value(node.key.range.high, Env())
            if isinstance(low, Num) and isinstance(high, Num):
                covers = Num(low.low, high.high)
        behaviour = (
            "its key's declared range is what it is defined for"
            if isinstance(node, n.Curve)
            else "its rows are proven complete only over its key's range"
        )
        if covers is None or key.within(covers):
            continue
        mark = (id(call), id(node))
        if mark in seen:
            continue
        seen.add(mark)
        key_type = model.package.expr_types.get(id(call.args[0]))
        kind = "curve" if isinstance(node, n.Curve) else "table"
        beyond = []
        if key.low < covers.low:
            beyond.append(f"below {show(d.num(covers.low), key_type)}")
        if key.high > covers.high:
            beyond.append(f"above {show(d.num(covers.high), key_type)}")
        yield messages.NARROW_DOMAIN.at(
            call.args[0].span,
            kind=kind,
            name=symbol.name,
            covers=show(covers, key_type),
            key=f"{quoted(strip(call.args[0]))}, which can be {show(key, key_type)}",
            hint=(
                f"{behaviour}: widen it to cover {' and '.join(beyond)} (with "
                f"{'points' if kind == 'curve' else 'rows'} there), or keep the key inside it with `clamp`"
            ),
            notes=(
                Note(f"{kind} `{symbol.name}` is declared here", symbol.span),
                *notes(call.args[0], model),
            ),
        )
