"""Writers and what they leave behind: an output latched by accident, a lower-priority action a
lockout cancels, and a sensor fallback that hides the alarm it feeds.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope, hpdsl.check.values.
"""

from __future__ import annotations

from collections.abc import Iterator

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic, Note
from hpdsl.check.scope import Scope, Symbol
from hpdsl.check.values import domain as d
from hpdsl.check.values.evaluate import Env
from hpdsl.check.values.explain import names, quoted, show
from hpdsl.check.values.model import Construct, Model, Write
from hpdsl.language import nodes as n
from hpdsl.language.consteval import Const
from hpdsl.language.types import BoolType, EnumType, QuantityType


def check(model: Model) -> Iterator[Diagnostic]:
    by_target: dict[int, list[Write]] = {}
    for write in model.writes:
        by_target.setdefault(id(write.target), []).append(write)
    for writes in by_target.values():
        scope = _scope(model, writes[0].target)
        if scope is None:
            continue
        values = [model.const(w.value, scope) for w in writes]
        yield from _latched(model, writes, values, scope)
        yield from _cancelled(model, writes, values)
    yield from _fallbacks(model)


def _scope(model: Model, symbol: Symbol) -> Scope | None:
    return model.package.program_scopes.get(symbol.program or "")


# ------------------------------------------------------------------------------ latches
def _latched(
    model: Model, writes: list[Write], values: list[Const | None], scope: Scope
) -> Iterator[Diagnostic]:
    """Every write sets one constant value, each under a condition, and the start value differs:
    once set, the value never changes again."""
    if any(v is None for v in values) or any(not w.conditional for w in writes):
        return
    distinct = {_key(v) for v in values if v is not None}
    if len(distinct) != 1:
        return
    target = writes[0].target
    start = _start(model, target, scope)
    if start is None or _key(start) in distinct:
        return
    value = values[0]
    assert value is not None
    decl = target.node
    yield messages.LATCHED_OUTPUT.at(
        writes[0].span,
        name=target.name,
        value=f"`{value.show()}`",
        start=f"`{start.show()}`",
        hint=(
            f"set it back where the condition ends (an `else` branch, an `exit` action, or a rule that "
            f"writes `{target.name}` every scan); if it must latch, make that explicit with a latching "
            "alarm and an `acknowledge`"
        ),
        notes=(
            *(
                Note(f"{w.construct.description} also sets it to `{value.show()}` only", w.span)
                for w in writes[1:3]
            ),
            Note(
                f"`{target.name}` starts at `{start.show()}`", decl.span if isinstance(decl, n.Node) else None
            ),
        ),
    )


def _key(value: Const) -> object:
    return (type(value.value).__name__, value.value)


def _start(model: Model, target: Symbol, scope: Scope) -> Const | None:
    decl = target.node
    if not isinstance(decl, n.Declaration):
        return None
    if decl.initial is not None:
        return model.const(decl.initial, scope)
    if isinstance(target.type, BoolType):
        return Const(False)
    if isinstance(target.type, EnumType):
        return Const(target.type.members[0])
    unit = target.type.unit if isinstance(target.type, QuantityType) else None
    zero = unit.to_si(0.0) if unit is not None else 0.0
    low = model.declared.get(id(target))
    if low is not None:
        zero = min(max(zero, low.low), low.high)
    return Const(zero, unit)


# ------------------------------------------------------------------------------ priorities
def _cancelled(model: Model, writes: list[Write], values: list[Const | None]) -> Iterator[Diagnostic]:
    """A writer of higher priority that writes in every scan cancels every lower one; a
    lockout (a constant value, under a condition, not an alarm) cancels a lower writer's
    conditional action wherever both can hold at once."""
    constructs: dict[str, list[tuple[Write, Const | None]]] = {}
    for write, value in zip(writes, values, strict=True):
        constructs.setdefault(write.construct.description, []).append((write, value))
    ranked = [entries for entries in constructs.values() if entries[0][0].construct.priority is not None]
    ranked.sort(key=lambda entries: -(entries[0][0].construct.priority or 0))
    for i, high in enumerate(ranked):
        for low in ranked[i + 1 :]:
            hp, lp = high[0][0].construct.priority, low[0][0].construct.priority
            if hp is None or lp is None or hp <= lp:
                continue
            found = _cancels(model, high, low)
            if found is not None:
                yield found


def _cancels(
    model: Model, high: list[tuple[Write, Const | None]], low: list[tuple[Write, Const | None]]
) -> Diagnostic | None:
    h0 = high[0][0].construct
    target = high[0][0].target.name
    always = next((w for w, _ in high if not w.conditional), None)
    for lw, lv in low:
        if always is not None:
            av = next(v for w, v in high if w is always)
            if lv is not None and av is not None and _key(lv) == _key(av):
                continue
            return messages.CANCELLED_ACTION.at(
                lw.span,
                what=(
                    f"{h0.description} (priority {h0.priority}) sets `{target}` in every scan, so what "
                    f"{lw.construct.description} (priority {lw.construct.priority}) sets here "
                    "never takes effect"
                ),
                hint=(
                    "give the action the higher priority, or make the other writer set the value "
                    "only when it must"
                ),
                notes=(Note(f"{h0.description} sets `{target}` here, unconditionally", always.span),),
            )
        if h0.kind == "alarm" or not lw.conditional:
            continue  # protection wins by design; an unconditional low writer is a default
        for hw, hv in high:
            if hv is None or not hw.conditional or not _inactive(hv, hw.target):
                continue
            if lv is not None and _key(lv) == _key(hv):
                continue
            both = hw.env.meet(lw.env)
            if both.unreachable:
                continue
            return messages.CANCELLED_ACTION.at(
                lw.span,
                what=(
                    f"the lockout in {h0.description} (priority {h0.priority}) sets `{target}` to "
                    f"`{hv.show()}` and cancels what {lw.construct.description} "
                    f"(priority {lw.construct.priority}) sets here whenever both apply, and nothing "
                    "keeps them apart"
                ),
                hint=(
                    "if this action must win (a protective action, such as supplemental heat during a "
                    "defrost), give it the higher priority, or exclude its condition from the lockout's"
                ),
                notes=(Note(f"{h0.description} sets `{target}` to `{hv.show()}` here", hw.span),),
            )
    return None


def _protective(construct: Construct, model: Model) -> bool:
    scope = model.package.program_scopes.get(construct.program)
    symbol = scope.symbols.get(construct.name) if scope is not None else None
    alarm = symbol.node if symbol is not None else None
    if not isinstance(alarm, n.Alarm) or alarm.severity is None:
        return False
    return alarm.severity.text in ("critical", "high")


def _inactive(value: Const, target: Symbol) -> bool:
    """The value a lockout sets: off, zero, or the first member (`Off`, `Stopped`)."""
    if isinstance(value.value, bool):
        return value.value is False
    if isinstance(value.value, str):
        return isinstance(target.type, EnumType) and value.value == target.type.members[0]
    return value.value == 0.0


# ------------------------------------------------------------------------------ fallbacks
def _fallbacks(model: Model) -> Iterator[Diagnostic]:
    """A fallback with which no alarm that reads the input can raise: a faulted sensor then
    hides the fault it should protect against."""
    # The alarms that protect the plant: a fallback that hides an informative one is a choice.
    alarms = [c for c in model.conditions if c.kind == "alarm" and _protective(c.construct, model)]
    for _, symbol in model.symbols():
        decl = symbol.node
        if symbol.kind != "input" or not isinstance(decl, n.Declaration) or decl.fallback is None:
            continue
        scope = _scope(model, symbol)
        fallback = model.const(decl.fallback, scope) if scope is not None else None
        if fallback is None or fallback.number is None:
            continue  # a status has no safe side to speak of; a measurement against a set point has
        value = d.num(fallback.number)
        fed = [c for c in alarms if any(s is symbol for _, s in names(c.expr, model))]
        if not fed:
            continue
        env = Env().with_value(id(symbol), value)
        if any(model.evaluator.can_hold(c.expr, env) for c in fed):
            continue
        first = fed[0]
        yield messages.UNSAFE_FALLBACK.at(
            decl.fallback.span,
            what=(
                f"while `{symbol.name}` is faulted it reads its fallback {fallback.show()}, and then alarm "
                f"`{first.construct.name}` ({quoted(first.expr)}) can never raise"
            ),
            hint=(
                f"choose the fallback on the side that raises the alarm (the value `{symbol.name}` reads "
                "when the plant is at risk), so that a failed sensor stops the plant rather than "
                "hiding the fault"
            ),
            notes=tuple(
                Note(
                    f"alarm `{c.construct.name}` needs {quoted(c.expr)}; `{symbol.name}` ranges over "
                    f"{show(model.base.get(id(symbol)), symbol.type)}",
                    c.expr.span,
                )
                for c in fed[:3]
            ),
        )
