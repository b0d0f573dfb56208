"""Time: a timer in a state that the state's own timeout always (or, within the parameters'
ranges, can) end first, and schedule periods that cover the same time.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope, hpdsl.check.values.
"""

from __future__ import annotations

from collections.abc import Iterator

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic, Note
from hpdsl.check.scope import DAYS, TIME_IN_STATE, day_index
from hpdsl.check.values.domain import Num
from hpdsl.check.values.evaluate import Env, strip
from hpdsl.check.values.explain import quoted, show
from hpdsl.check.values.model import Model
from hpdsl.check.values.relations import Relations, form
from hpdsl.language import nodes as n
from hpdsl.language.types import Type


def check(model: Model) -> Iterator[Diagnostic]:
    for module in model.package.modules:
        for program in module.items:
            if not isinstance(program, n.Program):
                continue
            scope = model.package.program_scopes.get(program.name.text)
            if scope is None:
                continue
            relations: Relations | None = None
            for item in program.items:
                if isinstance(item, n.Machine):
                    relations = relations or Relations(model, program, scope)
                    for state in item.states:
                        yield from _state(model, relations, item, state)
                elif isinstance(item, n.Schedule):
                    yield from _overlaps(item)
            machines = [item for item in program.items if isinstance(item, n.Machine)]
            if machines:
                relations = relations or Relations(model, program, scope)
                yield from _held_in_state(model, relations, program, machines)


# ------------------------------------------------------------------------------ timers
def _state(model: Model, relations: Relations, machine: n.Machine, state: n.State) -> Iterator[Diagnostic]:
    timeouts = [t for t in state.transitions if t.kind == "after"]
    if not timeouts:
        return
    for index, transition in enumerate(state.transitions):
        if transition.kind == "after":
            # A timeout that a shorter one written after it always beats (one written before it is
            # a shadowed transition).
            for later in state.transitions[index + 1 :]:
                if later.kind == "after" and later.target.text != state.name.text:
                    found = _outlasts(model, relations, transition.trigger, later.trigger)
                    if found is not None and found[0] != "can be set at or above":
                        yield _timeout_diagnostic(
                            state, transition, transition.trigger, "the timeout", later, found
                        )
            continue
        for timer, what in _timers(machine, transition.trigger):
            for timeout in timeouts:
                found = _outlasts(model, relations, timer, timeout.trigger)
                if found is not None:
                    yield _timeout_diagnostic(state, transition, timer, what, timeout, found)


def _timeout_diagnostic(
    state: n.State,
    transition: n.Transition,
    timer: n.Expr,
    what: str,
    timeout: n.Transition,
    found: tuple[str, str],
) -> Diagnostic:
    how, why = found
    return messages.TIMER_EXCEEDS_TIMEOUT.at(
        timer.span,
        what=(
            f"{what} {quoted(timer)} of the transition to `{transition.target.text}` "
            f"{how} the timeout `after {_text(timeout.trigger)}` of state `{state.name.text}`"
        ),
        why=why,
        hint=(
            "the state is left at its timeout, so the transition can never wait that long: "
            "shorten the timer, lengthen the timeout, or state their order with `require`"
        ),
        notes=(Note(f"state `{state.name.text}` ends here at the latest", timeout.trigger.span),),
    )


def _held_in_state(
    model: Model, relations: Relations, program: n.Program, machines: list[n.Machine]
) -> Iterator[Diagnostic]:
    """`c for T`, or an alarm's `delay T`, whose condition needs a machine in a state that its
    timeout always ends first: the timer never runs out."""
    timeouts: dict[tuple[str, str], list[n.Transition]] = {}
    for machine in machines:
        for state in machine.states:
            ends = [t for t in state.transitions if t.kind == "after" and t.target.text != state.name.text]
            if ends:
                timeouts[(machine.name.text, state.name.text)] = ends
    if not timeouts:
        return
    for condition, duration, what in _held_conditions(model, program):
        for machine_name, state_name in _states_needed(model, condition, machines):
            for end in _shortest_first(model, timeouts.get((machine_name, state_name), [])):
                found = _outlasts(model, relations, duration, end.trigger)
                if found is None:
                    continue
                how, why = found
                yield messages.TIMER_EXCEEDS_TIMEOUT.at(
                    duration.span,
                    what=(
                        f"{what} {quoted(duration)} needs `{machine_name}` in state `{state_name}` "
                        f"that long, and {how} its timeout `after {_text(end.trigger)}`"
                    ),
                    why=why,
                    hint=(
                        "the state is left at its timeout, so the timer never runs out: shorten it below "
                        "the timeout, or time the condition that the timeout stands for"
                    ),
                    notes=(
                        Note(f"state `{state}` of `{machine}` ends here at the latest", end.trigger.span),
                    ),
                )
                break


def _shortest_first(model: Model, ends: list[n.Transition]) -> list[n.Transition]:
    def longest(end: n.Transition) -> float:
        value = model.evaluator.value(end.trigger, Env())
        return value.high if isinstance(value, Num) else float("inf")

    return sorted(ends, key=longest)


def _held_conditions(model: Model, program: n.Program) -> Iterator[tuple[n.Expr, n.Expr, str]]:
    """(condition, duration, what) of every `c for D` and alarm `delay D` of a program."""
    for item in program.items:
        if isinstance(item, n.Alarm) and item.condition is not None and item.delay is not None:
            yield item.condition, item.delay, f"the delay of alarm `{item.name.text}`"
    program_scope = model.package.program_scopes.get(program.name.text)
    seen: set[int] = set()
    roots = [c.expr for c in model.conditions if c.construct.program == program.name.text]
    roots += [expr for expr, _ in model.values]
    for root in roots:
        stack = [root]
        while stack:
            node = strip(stack.pop())
            if isinstance(node, n.HeldFor):
                if id(node) not in seen and program_scope is not None:
                    seen.add(id(node))
                    yield node.condition, node.duration, "the timer"
                stack.append(node.condition)
            elif isinstance(node, n.Binary):
                stack.extend((node.left, node.right))
            elif isinstance(node, n.Unary):
                stack.append(node.operand)


def _states_needed(model: Model, condition: n.Expr, machines: list[n.Machine]) -> Iterator[tuple[str, str]]:
    """(machine, state) for each `machine == machine.State` the condition needs (its `and`ed parts)."""
    names = {m.name.text for m in machines}
    stack = [condition]
    while stack:
        node = strip(stack.pop())
        if isinstance(node, n.Binary) and node.op == "and":
            stack.extend((node.left, node.right))
        elif isinstance(node, n.Compare) and node.op == "==":
            for side, other in ((node.left, node.right), (node.right, node.left)):
                side, other = strip(side), strip(other)
                if isinstance(side, n.Name) and side.name in names:
                    symbol = model.package.resolved.get(id(side))
                    if symbol is None or symbol.kind != "machine":
                        continue
                    if isinstance(other, n.Member):
                        yield side.name, other.name.text
                    elif isinstance(other, n.Name):
                        yield side.name, other.name


def _text(expr: n.Expr) -> str:
    return quoted(expr).strip("`")


def _timers(machine: n.Machine, condition: n.Expr) -> Iterator[tuple[n.Expr, str]]:
    """The durations a transition's condition waits for: `time_in_state > T` and `c for T`, in the
    parts it needs (`and`)."""
    stack = [condition]
    while stack:
        node = strip(stack.pop())
        if isinstance(node, n.Binary) and node.op == "and":
            stack.extend((node.right, node.left))
        elif isinstance(node, n.HeldFor):
            yield node.duration, "the timer"
        elif isinstance(node, n.Compare):
            if node.op in (">", ">=") and _time_in_state(machine, node.left):
                yield node.right, "the time in state"
            elif node.op in ("<", "<=") and _time_in_state(machine, node.right):
                yield node.left, "the time in state"


def _time_in_state(machine: n.Machine, expr: n.Expr) -> bool:
    expr = strip(expr)
    if isinstance(expr, n.Name):
        return expr.name == TIME_IN_STATE
    return (
        isinstance(expr, n.Member)
        and expr.name.text == TIME_IN_STATE
        and isinstance(expr.owner, n.Name)
        and expr.owner.name == machine.name.text
    )


def _outlasts(model: Model, relations: Relations, timer: n.Expr, timeout: n.Expr) -> tuple[str, str] | None:
    """How a timer outlasts a timeout (`is not shorter than`, `can be set at or above`) and why, or None."""
    duration = model.package.expr_types.get(id(timer))
    t, d = form(timer, model), form(timeout, model)
    if t is not None and d is not None:
        gap = d - t
        reach = relations.range_of(gap)
        default = relations.default_of(gap)
        names = ", ".join(f"`{name}`" for name in relations.names(gap))
        if reach.high <= 0:
            longer = (
                f"{_show(-reach.high, duration)} or more longer" if reach.high < 0 else "at least as long"
            )
            return "is never shorter than", f"it is {longer}{_within(names)}"
        if default is not None and default <= 0:
            return (
                "is not shorter than",
                f"with the defaults it is {_show(-default, duration)} longer or equal",
            )
        if reach.low <= 0 and names:
            return (
                "can be set at or above",
                f"within the ranges of {names} the timer can exceed the timeout by "
                f"{_show(-reach.low, duration)}",
            )
        return None
    timer_value = model.evaluator.value(timer, Env())
    timeout_value = model.evaluator.value(timeout, Env())
    if (
        isinstance(timer_value, Num)
        and isinstance(timeout_value, Num)
        and timer_value.low >= timeout_value.high
    ):
        return (
            "is never shorter than",
            f"the timer is {show(timer_value, duration)}, the timeout {show(timeout_value, duration)}",
        )
    return None


def _within(names: str) -> str:
    return f", whatever {names} are set to within their ranges" if names else ""


def _show(x: float, type_: Type | None) -> str:
    return show(Num(x, x), type_)


# ------------------------------------------------------------------------------ schedules
def _overlaps(schedule: n.Schedule) -> Iterator[Diagnostic]:
    periods = [(period, _days(period), _minutes(period)) for period in schedule.periods]
    for i, (period, days, (start, end)) in enumerate(periods):
        for other, other_days, (other_start, other_end) in periods[:i]:
            shared = days & other_days
            if shared and start < other_end and other_start < end:
                yield messages.SCHEDULE_OVERLAP.at(
                    period.span,
                    name=schedule.name.text,
                    other=f"the period of line {other.span.line}",
                    days=_day_list(shared),
                    hint="merge the two periods into one, or correct the days or times of one of them",
                    notes=(Note("the other period", other.span),),
                )
                break


def _days(period: n.SchedulePeriod) -> set[int]:
    days: set[int] = set()
    for day_range in period.days:
        first = day_index(day_range.first.text)
        last = day_index(day_range.last.text) if day_range.last is not None else first
        if first is None or last is None:
            continue
        day = first
        days.add(day)
        while day != last:
            day = (day + 1) % 7
            days.add(day)
    return days


def _minutes(period: n.SchedulePeriod) -> tuple[int, int]:
    return period.start.hour * 60 + period.start.minute, period.end.hour * 60 + period.end.minute


def _day_list(days: set[int]) -> str:
    return ", ".join(DAYS[day] for day in sorted(days))
