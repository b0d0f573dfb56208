"""The checks of what a program does: rules and their statements, log entries, hysteresis,
totalizers and counters, schedules, state machines, alarms and events.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope.
"""

from __future__ import annotations

from collections.abc import Iterable

from hpdsl.base import messages
from hpdsl.base.diagnostics import Note
from hpdsl.check.scope import (
    DAY_ALIASES,
    DAYS,
    EPS,
    NOT_ASSIGNABLE_HINTS,
    PERIODS,
    SEVERITIES,
    CheckerBase,
    Context,
    Symbol,
    Writer,
    const_numbers,
    day_index,
    describe_dimension,
)
from hpdsl.language import nodes as n
from hpdsl.language.consteval import Const
from hpdsl.language.types import (
    DURATION,
    ERROR,
    BoolType,
    ErrorType,
    QuantityType,
    is_numeric,
    unit_of,
)


class ConstructChecks(CheckerBase):
    """The checks of rules, hysteresis, totals, schedules, machines, alarms and events."""

    # ================================================================== rules and statements
    def _check_rule(self, rule: n.Rule, ctx: Context, writers: dict[str, list[Writer]]) -> None:
        for target in self._statements(rule.body, ctx):
            writers.setdefault(target.text, []).append(
                Writer(f"rule `{rule.name.text}`", target.span, rule.meta.priority)
            )

    def _statements(self, body: Iterable[n.Stmt], ctx: Context) -> list[n.Ident]:
        """Check statements; return the assignment targets, for the writer analysis."""
        targets: list[n.Ident] = []
        for stmt in body:
            if isinstance(stmt, n.Assign):
                symbol = self._lookup_symbol(stmt.target.text, stmt.target.span, ctx)
                value_type = self._expr(stmt.value, ctx, expected=symbol.type if symbol else None)
                if symbol is None:
                    continue
                if symbol.kind not in ("output", "var"):
                    self._report(
                        messages.NOT_ASSIGNABLE.at(
                            stmt.target.span,
                            kind=symbol.kind,
                            name=symbol.name,
                            hint=NOT_ASSIGNABLE_HINTS.get(symbol.kind, "assign to an output or a var"),
                        )
                    )
                    continue
                self._assignable(symbol.type, value_type, stmt.value, f"assignment to `{symbol.name}`")
                self._check_constant_in_range(symbol, stmt.value, ctx)
                targets.append(stmt.target)
            elif isinstance(stmt, n.If):
                for branch in stmt.branches:
                    self._expect_bool(branch.condition, ctx, "condition of `if`")
                    targets.extend(self._statements(branch.body, ctx))
                if stmt.else_body is not None:
                    targets.extend(self._statements(stmt.else_body, ctx))
            elif isinstance(stmt, n.Log):
                self._check_log(stmt, ctx)
        return targets

    def _check_constant_in_range(self, symbol: Symbol, value: n.Expr, ctx: Context) -> None:
        decl = symbol.node
        if isinstance(decl, n.Declaration) and decl.range is not None:
            low, high = self._const(decl.range.low, ctx), self._const(decl.range.high, ctx)
            self._check_in_range(value, "value", symbol.name, low, high, ctx)

    def _check_in_range(
        self, value: n.Expr, what: str, name: str, low: Const | None, high: Const | None, ctx: Context
    ) -> None:
        """Report a constant value outside the declared range of `name`."""
        assigned = self._const(value, ctx)
        known = const_numbers(assigned, low, high)
        if assigned is None or low is None or high is None or known is None:
            return
        x, lo, hi = known
        if not lo - EPS <= x <= hi + EPS:
            self._report(
                messages.OUT_OF_RANGE.at(
                    value.span,
                    what=what,
                    value=assigned.show(),
                    low=low.show(),
                    high=high.show(),
                    name=name,
                    hint="change the value or widen the range",
                )
            )

    def _check_log(self, stmt: n.Log, ctx: Context) -> None:
        symbol = self._lookup_symbol(stmt.event.text, stmt.event.span, ctx)
        for value in stmt.fields:
            self._expr(value.value, ctx)
        if symbol is None:
            return
        self.used.add(id(symbol))
        event = symbol.node
        if not isinstance(event, n.EventDecl):
            self._report(
                messages.BAD_CALL.at(
                    stmt.event.span,
                    problem=f"`{stmt.event.text}` is a {symbol.kind}, not an event",
                    hint="declare `event <name> ... end` and log that",
                )
            )
            return
        declared = {f.name.text: f for f in event.fields}
        given: set[str] = set()
        for value in stmt.fields:
            field_decl = declared.get(value.name.text)
            if field_decl is None:
                self._report(
                    messages.BAD_CALL.at(
                        value.name.span,
                        problem=f"event `{event.name.text}` has no field `{value.name.text}`",
                        hint=messages.did_you_mean(value.name.text, list(declared)),
                    )
                )
                continue
            if value.name.text in given:
                self._report(
                    messages.BAD_CALL.at(value.name.span, problem=f"field `{value.name.text}` is given twice")
                )
                continue
            given.add(value.name.text)
            field_type = self._resolve_type(field_decl.type, ctx.scope)
            self._assignable(
                field_type,
                self.expr_types.get(id(value.value), ERROR),
                value.value,
                f"field `{value.name.text}`",
            )
        missing = [name for name in declared if name not in given]
        if missing:
            self._report(
                messages.BAD_CALL.at(
                    stmt.span,
                    problem=f"`log {event.name.text}` leaves out {', '.join(f'`{m}`' for m in missing)}",
                    hint="give every field of the event",
                )
            )

    # ================================================================== derived signals
    def _check_hysteresis(self, item: n.Hysteresis, ctx: Context, writers: dict[str, list[Writer]]) -> None:
        target = self._lookup_symbol(item.name.text, item.name.span, ctx)
        if target is not None and target.kind not in ("output", "var"):
            self._report(
                messages.NOT_ASSIGNABLE.at(
                    item.name.span,
                    kind=target.kind,
                    name=target.name,
                    hint="a hysteresis drives an output or a var",
                )
            )
            target = None
        if target is not None:
            # Named with its line: two hysteresis blocks driving one output carry the same name.
            writers.setdefault(target.name, []).append(
                Writer(
                    f"hysteresis `{item.name.text}` (line {item.span.line})",
                    item.name.span,
                    item.meta.priority,
                )
            )
        input_type = self._expr(item.input, ctx)
        if not is_numeric(input_type) and not isinstance(input_type, ErrorType):
            self._report(
                messages.TYPE_MISMATCH.at(
                    item.input.span,
                    context="input of a hysteresis",
                    expected="a number or quantity",
                    found=input_type.describe(),
                )
            )
        sides: dict[str, n.Threshold] = {}
        for threshold in item.thresholds:
            if threshold.side in sides:
                self._report(
                    messages.INVALID_CLAUSE.at(
                        threshold.span,
                        problem=f"hysteresis `{item.name.text}` has two `{threshold.side}` thresholds",
                        hint="keep one",
                    )
                )
                continue
            sides[threshold.side] = threshold
            level_type = self._expr(threshold.level, ctx, expected=input_type)
            self._comparable(
                input_type, level_type, item.input, threshold.level, f"`{threshold.side}` threshold"
            )
            value_type = self._expr(threshold.value, ctx, expected=target.type if target else None)
            if target is not None:
                self._assignable(
                    target.type, value_type, threshold.value, f"value of hysteresis `{item.name.text}`"
                )
        for side in ("below", "above"):
            if side not in sides:
                self._report(
                    messages.INVALID_CLAUSE.at(
                        item.name.span,
                        problem=f"hysteresis `{item.name.text}` has no `{side}` threshold",
                        hint=f"add `{side} <level> -> <value>`",
                    )
                )
        if "below" in sides and "above" in sides:
            low, high = self._const(sides["below"].level, ctx), self._const(sides["above"].level, ctx)
            known = const_numbers(low, high)
            if low is not None and high is not None and known is not None and known[0] >= known[1]:
                self._report(
                    messages.HYSTERESIS_ORDER.at(
                        sides["below"].level.span,
                        name=item.name.text,
                        low=low.show(),
                        high=high.show(),
                        hint="the dead band lies between the two thresholds; the `below` one must be lower",
                        notes=(Note("the `above` threshold", sides["above"].level.span),),
                    )
                )

    def _check_totalizer(self, item: n.Totalizer, ctx: Context) -> None:
        symbol = ctx.scope.symbols.get(item.name.text)
        total_type = (
            symbol.type
            if symbol is not None and symbol.node is item
            else self._resolve_type(item.type, ctx.scope)
        )
        source_type = self._expr(item.source, ctx)
        self._check_period(item.period)
        if isinstance(total_type, ErrorType) or isinstance(source_type, ErrorType):
            return
        if not isinstance(total_type, QuantityType):
            self._report(
                messages.TYPE_MISMATCH.at(
                    item.type.span,
                    context=f"totalizer `{item.name.text}`",
                    expected="a quantity such as h or kWh",
                    found=total_type.describe(),
                )
            )
            return
        if isinstance(source_type, BoolType):
            expected_dimension = DURATION.unit.dimension
            source_text = "the time its condition is true"
        elif is_numeric(source_type):
            source_unit = unit_of(source_type)
            if source_unit.absolute:
                self._report(
                    messages.ABSOLUTE_TEMPERATURE.at(
                        item.source.span,
                        problem="an absolute temperature cannot be totalized",
                        hint="totalize a difference (degree-hours) instead, e.g. `setpoint - outdoor_temp`",
                    )
                )
                return
            expected_dimension = source_unit.dimension * DURATION.unit.dimension
            source_text = f"{source_unit.describe()} over time"
        else:
            self._report(
                messages.TYPE_MISMATCH.at(
                    item.source.span,
                    context=f"totalizer `{item.name.text}`",
                    expected="a boolean or a quantity",
                    found=source_type.describe(),
                )
            )
            return
        if total_type.unit.dimension != expected_dimension:
            self._report(
                messages.UNIT_MISMATCH.at(
                    item.type.span,
                    context=f"totalizer `{item.name.text}` adds up {source_text}",
                    left=total_type.unit.describe(),
                    right=describe_dimension(expected_dimension),
                    hint="a runtime is counted in h or min; an integrated power in kWh",
                )
            )

    def _check_counter(self, item: n.Counter, ctx: Context) -> None:
        self._expect_bool(item.source, ctx, f"counter `{item.name.text}`")
        self._check_period(item.period)

    def _check_period(self, period: n.Ident | None) -> None:
        if period is not None and period.text not in PERIODS:
            self._report(
                messages.INVALID_CLAUSE.at(
                    period.span,
                    problem=f"`per {period.text}` is not a reset period",
                    hint="totals reset `per day` (at midnight); leave `per` out to never reset",
                )
            )

    def _check_schedule(self, item: n.Schedule) -> None:
        if not item.periods:
            self._report(
                messages.INVALID_CLAUSE.at(
                    item.name.span,
                    problem=f"schedule `{item.name.text}` has no periods",
                    hint="add e.g. `monday .. friday 07:00 .. 18:00`",
                )
            )
        for period in item.periods:
            for days in period.days:
                for day in (days.first, days.last):
                    if day is not None and day_index(day.text) is None:
                        self._report(
                            messages.INVALID_CLAUSE.at(
                                day.span,
                                problem=f"`{day.text}` is not a day of the week",
                                hint=messages.did_you_mean(day.text.lower(), [*DAYS, *DAY_ALIASES])
                                or "write monday ... sunday",
                            )
                        )
            for time in (period.start, period.end):
                if not (0 <= time.hour <= 24 and 0 <= time.minute < 60) or (time.hour == 24 and time.minute):
                    self._report(
                        messages.INVALID_CLAUSE.at(
                            time.span,
                            problem=f"`{time.text}` is not a time of day",
                            hint="write hh:mm from 00:00 to 24:00",
                        )
                    )
            start = period.start.hour * 60 + period.start.minute
            end = period.end.hour * 60 + period.end.minute
            if start >= end:
                self._report(
                    messages.INVALID_CLAUSE.at(
                        period.span,
                        problem=(
                            f"period {period.start.text} .. {period.end.text} does not end after it starts"
                        ),
                        hint=(
                            "split a period that runs past midnight into two, ending at 24:00 and "
                            "starting at 00:00"
                        ),
                    )
                )

    # ================================================================== state machines
    def _check_machine(self, item: n.Machine, ctx: Context, writers: dict[str, list[Writer]]) -> None:
        machine_ctx = Context(ctx.scope, ctx.program, machine=item)
        for state in item.states:
            self._cite(state.meta)
        states = self._unique(((s.name, s) for s in item.states), "each state of a machine has its own name")
        initial = [s for s in item.states if s.initial]
        if not item.states:
            self._report(
                messages.INVALID_CLAUSE.at(
                    item.name.span,
                    problem=f"state machine `{item.name.text}` has no states",
                    hint="add `initial state <Name> ... end`",
                )
            )
            return
        if not initial:
            self._report(
                messages.NO_INITIAL_STATE.at(
                    item.name.span,
                    name=item.name.text,
                    hint=f"write `initial state {item.states[0].name.text}`",
                )
            )
        elif len(initial) > 1:
            self._report(
                messages.SEVERAL_INITIAL_STATES.at(
                    initial[1].name.span,
                    name=item.name.text,
                    hint="mark exactly one state `initial`",
                    notes=(Note("the first initial state", initial[0].name.span),),
                )
            )
        edges: dict[str, set[str]] = {name: set() for name in states}
        machine_writes: list[n.Ident] = []
        for state in states.values():
            for body in (state.entry, state.during, state.exit):
                if body is not None:
                    machine_writes.extend(self._statements(body, machine_ctx))
            for transition in state.transitions:
                self._cite(transition.meta)
                if transition.kind == "when":
                    self._expect_bool(transition.trigger, machine_ctx, "transition guard")
                else:
                    self._expect_duration(transition.trigger, machine_ctx, "timeout")
                if transition.target.text not in states:
                    self._report(
                        messages.UNDEFINED_STATE.at(
                            transition.target.span,
                            machine=item.name.text,
                            name=transition.target.text,
                            hint=messages.did_you_mean(transition.target.text, list(states)),
                        )
                    )
                    continue
                edges[state.name.text].add(transition.target.text)
        for target in machine_writes:
            writers.setdefault(target.text, []).append(
                Writer(f"state machine `{item.name.text}`", target.span, item.meta.priority)
            )
        if len(initial) >= 1:
            start = initial[0].name.text
            reached = {start}
            frontier = [start]
            while frontier:
                for nxt in edges[frontier.pop()]:
                    if nxt not in reached:
                        reached.add(nxt)
                        frontier.append(nxt)
            for name, state in states.items():
                if name not in reached:
                    self._report(
                        messages.UNREACHABLE_STATE.at(
                            state.name.span,
                            name=name,
                            initial=start,
                            hint=f"add a transition `-> {name}` to some state, or remove the state",
                        )
                    )
        for name, state in states.items():
            # A transition back to the state itself leaves nothing: the state is still a dead end.
            if len(states) > 1 and all(t.target.text == name for t in state.transitions):
                self._report(
                    messages.DEAD_END_STATE.at(
                        state.name.span,
                        name=name,
                        hint=(
                            "add `when <condition> -> <State>` or `after <duration> -> <State>`; a "
                            "lockout leaves on a reset input"
                            + (
                                "; a transition to the state itself leads nowhere"
                                if state.transitions
                                else ""
                            )
                        ),
                    )
                )

    # ================================================================== alarms and events
    def _check_alarm(self, item: n.Alarm, ctx: Context, writers: dict[str, list[Writer]]) -> None:
        name = item.name.text
        if item.condition is None:
            self._report(
                messages.INVALID_CLAUSE.at(
                    item.name.span, problem=f"alarm `{name}` has no condition", hint="add `when <condition>`"
                )
            )
        else:
            self._expect_bool(item.condition, ctx, f"condition of alarm `{name}`")
        if item.severity is None:
            self._report(
                messages.INVALID_CLAUSE.at(
                    item.name.span,
                    problem=f"alarm `{name}` has no severity",
                    hint="add `severity critical`, `high`, `medium` or `low`",
                )
            )
        elif item.severity.text not in SEVERITIES:
            self._report(
                messages.INVALID_CLAUSE.at(
                    item.severity.span,
                    problem=f"`{item.severity.text}` is not a severity",
                    hint=messages.did_you_mean(item.severity.text, list(SEVERITIES))
                    or "severities are critical, high, medium, low",
                )
            )
        if item.delay is not None:
            self._expect_duration(item.delay, ctx.requiring_constant("the alarm delay"), "alarm delay")
        if item.latching and item.acknowledge is None:
            self._report(
                messages.INVALID_CLAUSE.at(
                    item.name.span,
                    problem=f"latching alarm `{name}` has no way to be acknowledged",
                    hint=(
                        "add `acknowledge <input>`: a latched alarm clears once acknowledged and its "
                        "condition is gone"
                    ),
                )
            )
        if item.acknowledge is not None:
            self._expect_bool(item.acknowledge, ctx, "acknowledge signal")
            if not item.latching:
                self._report(
                    messages.INVALID_CLAUSE.at(
                        item.acknowledge.span,
                        problem=f"alarm `{name}` is not latching, so there is nothing to acknowledge",
                        hint="add `latching`, or remove `acknowledge`",
                    )
                )
        for target in self._statements(item.action, ctx):
            writers.setdefault(target.text, []).append(
                Writer(f"alarm `{name}`", target.span, item.meta.priority)
            )

    def _check_event(self, item: n.EventDecl, ctx: Context) -> None:
        for field_decl in item.fields:
            self._resolve_type(field_decl.type, ctx.scope)
        self._unique(((f.name, f) for f in item.fields), "each field of an event has its own name")
