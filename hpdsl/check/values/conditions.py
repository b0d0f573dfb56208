"""Conditions the declared ranges decide: never true, always true, an alarm that cannot raise,
and a branch or transition that an earlier one always takes first.

May import: hpdsl.base, hpdsl.language, hpdsl.check.values.
"""

from __future__ import annotations

from collections.abc import Iterator

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic, Note
from hpdsl.check.values import domain as d
from hpdsl.check.values.evaluate import Env, strip
from hpdsl.check.values.explain import notes, quoted, why
from hpdsl.check.values.model import Condition, Model
from hpdsl.language import nodes as n

NEVER_HINT = (
    "compare with a value the inputs and parameters can reach, or correct the range that rules it out"
)
ALWAYS_HINT = "leave the test out if it is meant to hold always, or correct the threshold"


def check(model: Model) -> Iterator[Diagnostic]:
    for condition in model.conditions:
        yield from _condition(model, condition)
    for expr, env in model.values:
        yield from _parts(model, expr, env)


def _condition(model: Model, condition: Condition) -> Iterator[Diagnostic]:
    ev = model.evaluator
    expr = condition.expr
    if condition.env.unreachable:
        return
    if condition.kind != "timeout" and not isinstance(strip(expr), n.BoolLiteral):
        if not ev.can_hold(expr, condition.env, True):
            yield _never(model, condition)
            return
        if not ev.can_hold(expr, condition.env, False):
            yield messages.ALWAYS_TRUE.at(
                expr.span,
                what=_what(condition),
                why=why(expr, condition.env, model),
                hint=ALWAYS_HINT,
                notes=notes(expr, model),
            )
            return
        yield from _parts(model, expr, condition.env)
    if condition.chain is not None and condition.earlier and not ev.can_hold(expr, condition.chain):
        yield _shadowed(model, condition)


def _what(condition: Condition) -> str:
    shown = quoted(condition.expr)
    if condition.kind == "transition" and condition.state is not None:
        return f"the condition {shown} of a transition of state `{condition.state.name.text}`"
    return f"the condition {shown}"


def _never(model: Model, condition: Condition) -> Diagnostic:
    expr = condition.expr
    reason = why(expr, condition.env, model)
    if condition.kind == "alarm":
        return messages.ALARM_NEVER_RAISES.at(
            expr.span,
            name=condition.construct.name,
            why=f"{quoted(expr)} cannot hold; {reason}",
            hint=(
                "a set point beyond what the sensor reads is never reached: put it inside the sensor's "
                "range, or widen the range if the sensor really reads further"
            ),
            notes=notes(expr, model),
        )
    return messages.NEVER_TRUE.at(
        expr.span, what=_what(condition), why=reason, hint=NEVER_HINT, notes=notes(expr, model)
    )


def _shadowed(model: Model, condition: Condition) -> Diagnostic:
    ev = model.evaluator
    inside = ev.assume(condition.expr, True, condition.env)
    takers = [e for e in condition.earlier if ev.can_hold(e, inside)] or list(condition.earlier)
    kind = "transition" if condition.kind in ("transition", "timeout") else "branch"
    taken = tuple(
        Note(f"the earlier {kind} {quoted(e)} is tested first and holds in those cases", e.span)
        for e in takers
    )
    reason = (
        f"whenever {quoted(condition.expr)} holds, an earlier {kind} of the same {_chain(kind)} holds too"
    )
    if condition.kind in ("transition", "timeout") and condition.state is not None:
        target = next(
            (t.target.text for t in condition.state.transitions if _same(model, t, condition.expr)), "?"
        )
        return messages.SHADOWED_TRANSITION.at(
            condition.expr.span,
            target=target,
            why=reason,
            hint="put the more particular transition first, or correct its condition",
            notes=taken,
        )
    return messages.SHADOWED_BRANCH.at(
        condition.expr.span,
        why=reason,
        hint="put the more particular branch first, or correct its condition",
        notes=taken,
    )


def _chain(kind: str) -> str:
    return "state" if kind == "transition" else "`if`"


def _same(model: Model, transition: n.Transition, expr: n.Expr) -> bool:
    return transition.trigger is expr or (
        transition.kind == "after" and isinstance(expr, n.Compare) and expr.right is transition.trigger
    )


def _parts(model: Model, expr: n.Expr, env: Env) -> Iterator[Diagnostic]:
    """The comparisons inside a condition or value that the ranges decide where they stand."""
    ev = model.evaluator
    stack: list[tuple[n.Expr, Env]] = [(expr, env)]
    while stack:
        node, here = stack.pop()
        node = strip(node)
        if here.unreachable:
            continue
        if isinstance(node, n.Binary) and node.op in ("and", "or"):
            stack.append((node.right, ev.assume(node.left, node.op == "and", here)))
            stack.append((node.left, here))
        elif isinstance(node, n.Unary) and node.op == "not":
            stack.append((node.operand, here))
        elif isinstance(node, n.HeldFor):
            stack.append((node.condition, here))
        elif isinstance(node, n.Compare):
            value = ev.value(node, here)
            if value == d.FALSE or not ev.can_hold(node, here, True):
                yield messages.NEVER_TRUE.at(
                    node.span,
                    what=f"the comparison {quoted(node)}",
                    why=why(node, here, model),
                    hint=NEVER_HINT,
                    notes=notes(node, model),
                )
            elif value == d.TRUE or not ev.can_hold(node, here, False):
                yield messages.ALWAYS_TRUE.at(
                    node.span,
                    what=f"the comparison {quoted(node)}",
                    why=why(node, here, model),
                    hint=ALWAYS_HINT,
                    notes=notes(node, model),
                )
