"""Writers and what they leave behind: an output latched by accident, a lower-priority action a
lockout cancels, and a sensor fallback that hides the alarm it feeds.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope, hpdsl.check.values.
"""

from __future__ import annotations

from collections.abc import Iterator

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic, Note
from hpdsl.base.source import Span
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
    latched: set[Span] = set()
    for writes in by_target.values():
        scope = _scope(model, writes[0].target)
        if scope is None:
            continue
        values = [model.const(w.value, scope) for w in writes]
        for found in _latched(model, writes, values, scope):
            latched.add(found.span)
            yield found
        yield from _cancelled(model, writes, values)
    yield from _fallbacks(model)
    # A value set in some branches only, unless it was reported at that line as set to one
    # value and never set back (the same latch, seen from its one value).
    yield from (found for found in _partial_branches(model, by_target) if found.span not in latched)


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


def _partial_branches(model: Model, by_target: dict[int, list[Write]]) -> Iterator[Diagnostic]:
    """An `if` with an `else` (every case written out) that sets a value in some branches and not
    in the others, with nothing setting it before: in those it keeps its last value by accident."""
    every_scan = {key for key, writes in by_target.items() if any(not w.conditional for w in writes)}
    for module in model.package.modules:
        for program in module.items:
            if not isinstance(program, n.Program):
                continue
            scope = model.package.program_scopes.get(program.name.text)
            if scope is None:
                continue
            for body in _bodies(program):
                yield from _partial_in(body, scope, every_scan, set())


def _bodies(program: n.Program) -> Iterator[tuple[n.Stmt, ...]]:
    for item in program.items:
        if isinstance(item, n.Rule):
            yield item.body
        elif isinstance(item, n.Alarm):
            yield item.action
        elif isinstance(item, n.Machine):
            for state in item.states:
                yield from (b for b in (state.entry, state.during, state.exit) if b is not None)


def _partial_in(
    body: tuple[n.Stmt, ...], scope: Scope, every_scan: set[int], before: set[str]
) -> Iterator[Diagnostic]:
    """The partial `if`s of a statement list; `before` holds what is already set on the way."""
    done = set(before)
    for stmt in body:
        if isinstance(stmt, n.Assign):
            done.add(stmt.target.text)
            continue
        if not isinstance(stmt, n.If):
            continue
        bodies = [branch.body for branch in stmt.branches]
        if stmt.else_body is not None:
            bodies.append(stmt.else_body)
            sets = [_set_in(b) for b in bodies]
            always = set(sets[0]).intersection(*sets[1:])
            for name in sorted(set().union(*sets) - always - done):
                symbol = scope.lookup(name)
                if symbol is None or id(symbol) in every_scan or symbol.kind not in ("output", "var"):
                    continue
                setting = [b for b, names in zip(bodies, sets, strict=True) if name in names]
                yield messages.LATCHED_IN_BRANCHES.at(
                    _first_set(setting[0], name) or stmt.span,
                    name=name,
                    set_in=len(setting),
                    total=len(bodies),
                    hint=(
                        f"the `if` has an `else`, so every case is written out, but `{name}` keeps its "
                        "last value where it is not set: set it in every branch, or once before the `if`"
                    ),
                )
            done |= always
        for inner in bodies:
            yield from _partial_in(inner, scope, every_scan, done)


def _set_in(body: tuple[n.Stmt, ...]) -> set[str]:
    found: set[str] = set()
    for stmt in body:
        if isinstance(stmt, n.Assign):
            found.add(stmt.target.text)
        elif isinstance(stmt, n.If):
            for branch in stmt.branches:
                found |= _set_in(branch.body)
            if stmt.else_body is not None:
                found |= _set_in(stmt.else_body)
    return found


def _first_set(body: tuple[n.Stmt, ...], name: str) -> Span | None:
    for stmt in body:
        if isinstance(stmt, n.Assign) and stmt.target.text == name:
            return stmt.span
        if isinstance(stmt, n.If):
            for inner in (*(b.body for b in stmt.branches), stmt.else_body or ()):
                found = _first_set(inner, name)
                if found is not None:
                    return found
    return None


# ------------------------------------------------------------------------------ priorities
# Lockout and action writes compared for one output at most: a package of thousands of
# prioritised writers of one output stays linear (the first pairs are the nearest priorities).
MAX_LOCKOUT_PAIRS = 2000


def _cancelled(model: Model, writes: list[Write], values: list[Const | None]) -> Iterator[Diagnostic]:
    """A writer of higher priority that writes in every scan cancels every lower one; a
    lockout (an off value, under a condition, not an alarm's action) cancels a lower writer's
    conditional action wherever both can hold at once. Each lower writer is reported once."""
    constructs: dict[str, list[tuple[Write, Const | None]]] = {}
    for write, value in zip(writes, values, strict=True):
        constructs.setdefault(write.construct.description, []).append((write, value))
    ranked = [entries for entries in constructs.values() if entries[0][0].construct.priority is not None]
    ranked.sort(key=lambda entries: -(entries[0][0].construct.priority or 0))
    always: tuple[Write, Const | None] | None = None  # the highest writer in every scan so far
    lockouts: list[tuple[Write, Const]] = []  # the lockout writes of the writers above
    pairs_left = MAX_LOCKOUT_PAIRS
    for entries in ranked:
        if always is not None:
            found = _overridden(entries, always)
        else:
            found, pairs_left = _locked_out(entries, lockouts, pairs_left)
        if found is not None:
            yield found
        for write, value in entries:
            if not write.conditional and always is None:
                always = (write, value)
            elif (
                write.conditional
                and value is not None
                and write.construct.kind != "alarm"
                and _inactive(value, write.target)
            ):
                lockouts.append((write, value))


def _overridden(
    entries: list[tuple[Write, Const | None]], always: tuple[Write, Const | None]
) -> Diagnostic | None:
    """What a writer sets, when a higher one writes the output in every scan."""
    high, high_value = always
    h = high.construct
    for write, value in entries:
        if value is not None and high_value is not None and _key(value) == _key(high_value):
            continue
        return messages.CANCELLED_ACTION.at(
            write.span,
            what=(
                f"{h.description} (priority {h.priority}) sets `{write.target.name}` in every scan, so "
                f"what {write.construct.description} (priority {write.construct.priority}) sets here "
                "never takes effect"
            ),
            hint="give the action the higher priority, or make the other writer set it only when it must",
            notes=(Note(f"{h.description} sets `{write.target.name}` here, unconditionally", high.span),),
        )
    return None


def _locked_out(
    entries: list[tuple[Write, Const | None]], lockouts: list[tuple[Write, Const]], pairs_left: int
) -> tuple[Diagnostic | None, int]:
    """A conditional action of a writer that a lockout above it can cancel (and the pairs left)."""
    for write, value in entries:
        if not write.conditional:
            continue  # a writer in every scan is a default for the others to override
        for high, high_value in lockouts:
            if pairs_left <= 0:
                return None, 0
            pairs_left -= 1
            if value is not None and _key(value) == _key(high_value):
                continue
            if high.env.meet(write.env).unreachable:
                continue
            h, target = high.construct, write.target.name
            return messages.CANCELLED_ACTION.at(
                write.span,
                what=(
                    f"the lockout in {h.description} (priority {h.priority}) sets `{target}` to "
                    f"`{high_value.show()}` and cancels what {write.construct.description} "
                    f"(priority {write.construct.priority}) sets here whenever both apply, and nothing "
                    "keeps them apart"
                ),
                hint=(
                    "if this action must win (a protective action, such as supplemental heat during a "
                    "defrost), give it the higher priority, or exclude its condition from the lockout's"
                ),
                notes=(Note(f"{h.description} sets `{target}` to `{high_value.show()}` here", high.span),),
            ), pairs_left
    return None, pairs_left


def _protective(construct: Construct, model: Model) -> bool:
    """An alarm of severity `critical`, `high` or `medium`: one that protects the plant."""
    scope = model.package.program_scopes.get(construct.program)
    symbol = scope.symbols.get(construct.name) if scope is not None else None
    alarm = symbol.node if symbol is not None else None
    if not isinstance(alarm, n.Alarm) or alarm.severity is None:
        return False
    return alarm.severity.text in ("critical", "high", "medium")


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
    # The alarms that protect the plant (not `low`): hiding an informative one is a choice.
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
