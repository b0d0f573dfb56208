"""What every program runs besides its constructs: the cycle-time and parameter checks and
their alarms, the calendar, minimum on and off times, and timers held for a duration.

May import: hpdsl.base, hpdsl.language, hpdsl.check, hpdsl.compile.ir, hpdsl.compile.common.
"""

from __future__ import annotations

from hpdsl.compile import ir
from hpdsl.compile.common import (
    ProgramLoweringBase,
    added,
    advance_timer,
    all_of,
    as_real,
    assign_stmt,
    if_,
    literal_of,
    max_of,
    negated,
    ref,
    seconds_literal,
    true_literal,
)


class RuntimeLowering(ProgramLoweringBase):
    """The built-in alarms, the calendar, minimum times and held-for timers of a program."""

    # --------------------------------------------------------------------- time-keeping
    def _cycle_time_alarm(self) -> ir.Block:
        """Every program's alarm for a cycle time it could not use as given (ir.CycleTimeFault)."""
        doc = (
            "The cycle time given to a scan was negative, not a number, infinite or longer than a day;"
            " the scan counted 0 s (or a day) instead."
        )
        return self._builtin_alarm(ir.CYCLE_TIME_ALARM, doc, ir.CycleTimeFault(ir.BOOL))

    def _parameter_check(self) -> ir.Block | None:
        """Parameters written at run time are checked as the constructor checks them.

        A value outside the declared range, or not a number, is not used: the parameter takes
        back its last valid value and the program raises PARAMETER_ALARM for that scan. Then
        each `require` is tested on the values now in force; where one fails, every parameter
        it links (through any chain of `require`s) takes back its last valid value, which kept
        them all. Each parameter is compared with its last valid value only where one may have
        been written (ir.ParametersWritten): a PLC every call, the Python target after a write.
        """
        linked = _linked_parameters(self.constraints)
        checked = [
            v
            for v in self.variables.values()
            if v.role == "parameter" and (v.low is not None or v.high is not None or v.name in linked)
        ]
        if not checked:
            return None
        rejected = self._state(
            "parameter_rejected", ir.BOOL, literal_of(False, ir.BOOL), "a parameter was rejected this scan"
        )
        last: dict[str, str] = {}
        for var in checked:
            assert var.initial is not None
            last[var.name] = self._state(
                f"{var.name}_last_valid", var.type, var.initial, f"last valid `{var.name}`"
            )
        checks: list[ir.Stmt] = []
        for var in checked:
            tests: list[ir.Expr] = []
            value = ref(var.name, var.type)
            if var.low is not None:
                tests.append(ir.Compare(ir.BOOL, ">=", value, var.low))
            if var.high is not None:
                tests.append(ir.Compare(ir.BOOL, "<=", value, var.high))
            if tests:
                checks.append(
                    if_(
                        negated(all_of(*tests)),
                        [
                            assign_stmt(var.name, ref(last[var.name], var.type)),
                            assign_stmt(rejected, true_literal()),
                        ],
                    )
                )
        for group in _groups(self.constraints):
            restore: list[ir.Stmt] = [
                assign_stmt(name, ref(last[name], self.variables[name].type))
                for name in dict.fromkeys(p for c in group for p in c.parameters)
            ]
            holds = all_of(*(c.condition for c in group))
            checks.append(
                ir.If(
                    group[0].origin,
                    (ir.Branch(negated(holds), (*restore, assign_stmt(rejected, true_literal()))),),
                    (),
                )
            )
        checks.extend(assign_stmt(last[var.name], ref(var.name, var.type)) for var in checked)
        doc = (
            "A parameter was written with a value outside its range, not a number, or breaking a"
            " `require`; it keeps its last valid value."
        )
        alarm = self._builtin_alarm(ir.PARAMETER_ALARM, doc, ref(rejected, ir.BOOL))
        body = (
            assign_stmt(rejected, literal_of(False, ir.BOOL)),
            if_(ir.ParametersWritten(ir.BOOL), checks),
            *alarm.body,
        )
        return ir.Block(None, "parameters written at run time", body, ())

    def _builtin_alarm(self, base: str, doc: str, condition: ir.Expr) -> ir.Block:
        """An alarm every program of a kind has, raised while `condition` holds (no values recorded)."""
        name = base
        counter = 0
        while (
            name in self.variables or name in self.scope.symbols or any(a.name == name for a in self.alarms)
        ):
            counter += 1
            name = f"{base}_{counter}"
        origin = self.package.origin(self.program.span, self.program.meta)
        self.alarms.append(ir.Alarm(name, "high", doc, origin=origin))
        self.variables[name] = ir.Variable(
            name=name,
            role="state",
            type=ir.BOOL,
            initial=literal_of(False, ir.BOOL),
            doc=doc,
            origin=origin,
            point="alarm",
        )
        active = ref(name, ir.BOOL)
        body = (
            ir.If(
                None,
                (
                    ir.Branch(
                        condition,
                        (
                            if_(
                                negated(active),
                                [assign_stmt(name, true_literal()), ir.AlarmChange(None, name, True, ())],
                            ),
                        ),
                    ),
                    ir.Branch(
                        active,
                        (
                            assign_stmt(name, literal_of(False, ir.BOOL)),
                            ir.AlarmChange(None, name, False, ()),
                        ),
                    ),
                ),
            ),
        )
        return ir.Block(None, f"alarm {name}", body, ())

    def _calendar(self) -> ir.Block:
        sod = ref(ir.SECOND_OF_DAY, ir.SECONDS)
        weekday = ref(ir.WEEKDAY, ir.INT)
        day = seconds_literal(ir.SECONDS_PER_DAY)
        days = ir.Call(ir.INT, "floor", (ir.Binary(ir.REAL, "/", sod, day),))
        body = (
            assign_stmt(ir.NEW_DAY, literal_of(False, ir.BOOL)),
            assign_stmt(ir.SECOND_OF_DAY, added(sod, ir.ScanTime(ir.SECONDS))),
            if_(
                ir.Compare(ir.BOOL, ">=", sod, day),
                [
                    assign_stmt(
                        ir.WEEKDAY,
                        ir.Binary(
                            ir.INT, "mod", ir.Binary(ir.INT, "+", weekday, days), literal_of(7, ir.INT)
                        ),
                    ),
                    assign_stmt(
                        ir.SECOND_OF_DAY,
                        ir.Binary(ir.SECONDS, "-", sod, ir.Binary(ir.SECONDS, "*", as_real(days), day)),
                    ),
                    assign_stmt(ir.NEW_DAY, true_literal()),
                ],
            ),
            # A scan that crosses midnight adds only its part after midnight to the new day's totals.
            assign_stmt(ir.TODAY_SCAN_TIME, ir.ScanTime(ir.SECONDS)),
            if_(
                ir.Compare(ir.BOOL, ">", ref(ir.TODAY_SCAN_TIME, ir.SECONDS), sod),
                [assign_stmt(ir.TODAY_SCAN_TIME, sod)],
            ),
        )
        for name, type_, doc in (
            (ir.SECOND_OF_DAY, ir.SECONDS, "seconds since midnight of the simulated wall clock"),
            (ir.WEEKDAY, ir.INT, "day of the week of the simulated wall clock, 0 = Monday"),
            (ir.NEW_DAY, ir.BOOL, "midnight passed in this scan"),
            (ir.TODAY_SCAN_TIME, ir.SECONDS, "the part of this scan's time after the last midnight (s)"),
        ):
            initial: ir.Expr = (
                literal_of(False, ir.BOOL)
                if type_ == ir.BOOL
                else (seconds_literal(0.0) if type_ == ir.SECONDS else literal_of(0, ir.INT))
            )
            self.variables[name] = ir.Variable(
                name=name, role="state", type=type_, initial=initial, doc=doc, public=False, point="calendar"
            )
        return ir.Block(
            None, "calendar", body, ("the wall clock advances by the scan time; totals reset at midnight",)
        )

    def _min_time_clock(self) -> ir.Block:
        body = []
        for guard in self.min_times.values():
            limit = max_of(guard.min_on, guard.min_off)
            body.extend(advance_timer(guard.held_time, limit))
        return ir.Block(None, "minimum on and off times", tuple(body))

    def _min_time_commit(self) -> ir.Block:
        body = []
        for output, guard in self.min_times.items():
            out = ref(output, ir.BOOL)
            changed = ir.Compare(ir.BOOL, "!=", out, ref(guard.held, ir.BOOL))
            body.append(
                if_(
                    changed,
                    [assign_stmt(guard.held, out), assign_stmt(guard.held_time, seconds_literal(0.0))],
                )
            )
        return ir.Block(None, "minimum on and off times: commit this scan's values", tuple(body))

    def _held_for(self, condition: ir.Expr, duration: ir.Expr, base: str, what: str) -> ir.Expr:
        """`condition for duration`: a timer updated every scan; the value reads the timer."""
        elapsed = self._state(
            f"{base}_elapsed", ir.SECONDS, seconds_literal(0.0), f"time {what} has held (s)"
        )
        was = self._state(
            f"{base}_held", ir.BOOL, literal_of(False, ir.BOOL), f"{what} held in the last scan"
        )
        elapsed_ref = ref(elapsed, ir.SECONDS)
        was_ref = ref(was, ir.BOOL)
        self.pending.append(
            if_(
                condition,
                [
                    if_(
                        was_ref,
                        advance_timer(elapsed, duration),
                        [assign_stmt(elapsed, seconds_literal(0.0)), assign_stmt(was, true_literal())],
                    ),
                ],
                [assign_stmt(elapsed, seconds_literal(0.0)), assign_stmt(was, literal_of(False, ir.BOOL))],
            )
        )
        return all_of(was_ref, ir.Compare(ir.BOOL, ">=", elapsed_ref, duration))

    def _memory_name(self, what: str) -> str:
        count = self.counters.get(self.construct_name + what, 0) + 1
        self.counters[self.construct_name + what] = count
        return f"{self.construct_name}_{what}" if count == 1 else f"{self.construct_name}_{what}_{count}"


def _linked_parameters(constraints: list[ir.Constraint]) -> set[str]:
    return {name for constraint in constraints for name in constraint.parameters}


def _groups(constraints: list[ir.Constraint]) -> list[list[ir.Constraint]]:
    """The `require`s in groups that share no parameter, each in the order written.

    Restoring one group's parameters cannot break another group's `require`, and the last
    valid values of a group kept every `require` of it.
    """
    groups: list[tuple[set[str], list[ir.Constraint]]] = []
    for constraint in constraints:
        names = set(constraint.parameters)
        joined = [g for g in groups if g[0] & names]
        merged: tuple[set[str], list[ir.Constraint]] = (names, [])
        for group in joined:
            merged[0].update(group[0])
            merged[1].extend(group[1])
            groups.remove(group)
        merged[1].append(constraint)
        groups.append(merged)
    order = {id(c): k for k, c in enumerate(constraints)}
    return sorted(
        (sorted(members, key=lambda c: order[id(c)]) for _, members in groups), key=lambda g: order[id(g[0])]
    )
