"""Lowering what a program does: rules and their statements, log entries, hysteresis, state
machines, alarms, totalizers and counters, each into explicit state and per-scan statements.

May import: hpdsl.base, hpdsl.language, hpdsl.check, hpdsl.compile.ir, hpdsl.compile.common.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hpdsl.compile import ir
from hpdsl.compile.common import (
    Construct,
    ProgramLoweringBase,
    added,
    advance_timer,
    all_of,
    as_real,
    assign_stmt,
    if_,
    literal_of,
    negated,
    provably_within,
    reads_of,
    ref,
    scaled,
    seconds_literal,
    true_literal,
    writes_of,
)
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.types import BoolType, unit_of


class StatementLowering(ProgramLoweringBase):
    """Rules, hysteresis, machines, alarms, totalizers and counters as IR statements."""

    # --------------------------------------------------------------------- constructs
    def _construct(self, item: n.Item) -> Construct | None:
        self.construct_name = item.name.text
        origin = self.package.origin(item.span, item.meta)
        body: list[ir.Stmt]
        writes: set[str] = set()
        if isinstance(item, n.Rule):
            title = f"rule {item.name.text}"
            body = self._body(item.body)
        elif isinstance(item, n.Hysteresis):
            title = f"hysteresis {item.name.text}"
            body = self._hysteresis(item)
        elif isinstance(item, n.Machine):
            title = f"machine {item.name.text}"
            body = self._machine(item)
            writes = {item.name.text, f"{item.name.text}_time_in_state"}
        elif isinstance(item, n.Alarm):
            title = f"alarm {item.name.text}"
            body = self._alarm(item)
            writes = {item.name.text}
        elif isinstance(item, n.Totalizer):
            title = f"totalizer {item.name.text}"
            body = self._totalizer(item)
            writes = {item.name.text}
        elif isinstance(item, n.Counter):
            title = f"counter {item.name.text}"
            body = self._counter(item)
            writes = {item.name.text}
        else:
            return None
        stmts = tuple(body)
        return Construct(
            title=title,
            origin=origin,
            priority=item.meta.priority or 0,
            position=(item.span.file, item.span.line, item.span.column),
            body=stmts,
            writes=writes | writes_of(stmts),
            reads=reads_of(stmts),
        )

    def _body(self, stmts: Iterable[n.Stmt]) -> list[ir.Stmt]:
        """Statements of a body, each preceded by the timer and edge updates it needs."""
        out: list[ir.Stmt] = []
        for stmt in stmts:
            lowered = self._stmt(stmt)
            out.extend(self.pending)
            self.pending = []
            out.extend(lowered)
        return out

    def _nested(self, stmts: Iterable[n.Stmt]) -> tuple[ir.Stmt, ...]:
        """Statements inside a branch: their updates go before the enclosing top-level statement."""
        out: list[ir.Stmt] = []
        for stmt in stmts:
            out.extend(self._stmt(stmt))
        return tuple(out)

    def _stmt(self, stmt: n.Stmt) -> list[ir.Stmt]:
        if isinstance(stmt, n.Assign):
            symbol = self.scope.lookup(stmt.target.text)
            assert symbol is not None
            value = self._convert(self.expr(stmt.value), symbol.type, self.type_of(stmt.value))
            origin = self.package.origin(stmt.span)
            return self.assign(stmt.target.text, value, origin)
        if isinstance(stmt, n.If):
            branches = tuple(ir.Branch(self.expr(b.condition), self._nested(b.body)) for b in stmt.branches)
            else_body = self._nested(stmt.else_body) if stmt.else_body is not None else ()
            return without_empty_branches(self.package.origin(stmt.span), branches, else_body)
        if isinstance(stmt, n.Log):
            return [self._log(stmt)]
        raise AssertionError(f"unhandled statement {type(stmt).__name__}")

    def assign(self, target: str, value: ir.Expr, origin: ir.Origin | None) -> list[ir.Stmt]:
        """An assignment, held within the target's range and its minimum on and off times."""
        var = self.variables[target]
        low, high = var.low, var.high
        numeric = var.type.kind in ("int", "real")
        if (
            numeric
            and low is not None
            and high is not None
            and not provably_within(value, low, high, self.variables)
        ):
            value = ir.Call(var.type, "clamp", (value, low, high))
        stmts: list[ir.Stmt] = [assign_stmt(target, value, origin)]
        guard = self.min_times.get(target)
        if guard is not None:
            held = ref(guard.held, ir.BOOL)
            held_time = ref(guard.held_time, ir.SECONDS)
            out = ref(target, ir.BOOL)
            stmts.append(
                ir.If(
                    None,
                    (
                        ir.Branch(
                            all_of(held, negated(out), ir.Compare(ir.BOOL, "<", held_time, guard.min_on)),
                            (assign_stmt(target, true_literal()),),
                        ),
                        ir.Branch(
                            all_of(negated(held), out, ir.Compare(ir.BOOL, "<", held_time, guard.min_off)),
                            (assign_stmt(target, literal_of(False, ir.BOOL)),),
                        ),
                    ),
                )
            )
        return stmts

    def _log(self, stmt: n.Log) -> ir.Log:
        """A log entry with every field of the event, in declaration order, in the field's type."""
        symbol = self.scope.lookup(stmt.event.text)
        assert symbol is not None and isinstance(symbol.node, n.EventDecl)
        given = {f.name.text: f.value for f in stmt.fields}
        fields = []
        for declared in symbol.node.fields:
            value = given[declared.name.text]
            field_type = self.package.written_type(declared.type)
            fields.append(
                (declared.name.text, self._convert(self.expr(value), field_type, self.type_of(value)))
            )
        return ir.Log(self.package.origin(stmt.span), stmt.event.text, tuple(fields))

    # --------------------------------------------------------------------- hysteresis
    def _hysteresis(self, item: n.Hysteresis) -> list[ir.Stmt]:
        target = self.scope.lookup(item.name.text)
        assert target is not None
        input_type = self.type_of(item.input)
        value = self.expr(item.input)
        pending, self.pending = self.pending, []
        branches = []
        for side in ("below", "above"):
            threshold = next(t for t in item.thresholds if t.side == side)
            level = self._convert(self.expr(threshold.level), input_type, self.type_of(threshold.level))
            result = self._convert(self.expr(threshold.value), target.type, self.type_of(threshold.value))
            condition = ir.Compare(ir.BOOL, "<" if side == "below" else ">", value, level)
            branches.append(
                ir.Branch(
                    condition, tuple(self.assign(item.name.text, result, self.package.origin(threshold.span)))
                )
            )
        stmts: list[ir.Stmt] = [*pending, *self.pending]
        self.pending = []
        stmts.append(ir.If(self.package.origin(item.span), tuple(branches)))
        return stmts

    # --------------------------------------------------------------------- state machines
    def _machine(self, item: n.Machine) -> list[ir.Stmt]:
        self.machine = item
        name = item.name.text
        enum_name = self.package.machine_enums[self.name, name]
        state_type = ir.enum_type(enum_name)
        initial = next(s for s in item.states if s.initial)
        self._public_state(
            item,
            state_type,
            literal_of(initial.name.text, state_type),
            "machine",
            doc=item.meta.doc or f"Current state of the machine `{name}`.",
        )
        time_name = f"{name}_time_in_state"
        self.variables[time_name] = ir.Variable(
            name=time_name,
            role="state",
            type=ir.SECONDS,
            initial=seconds_literal(0.0),
            doc=f"Time since `{name}` entered its current state (s).",
            origin=self.package.origin(item.span),
            point="machine",
        )
        state_ref = ref(name, state_type)
        time_ref = ref(time_name, ir.SECONDS)
        out: list[ir.Stmt] = advance_timer(time_name, seconds_literal(ir.TIME_SINCE_NEVER))
        if initial.entry:
            started = self._state(
                f"{name}_started",
                ir.BOOL,
                literal_of(False, ir.BOOL),
                f"the entry actions of `{initial.name.text}` have run",
            )
            entry = self._nested(initial.entry)
            out.extend(self.pending)
            self.pending = []
            out.append(if_(negated(ref(started, ir.BOOL)), [assign_stmt(started, true_literal()), *entry]))
        states = {s.name.text: s for s in item.states}
        transition_branches = []
        for state in item.states:
            choices = []
            for transition in state.transitions:
                if transition.kind == "when":
                    condition = self.expr(transition.trigger)
                else:
                    timeout = self._to_seconds(
                        self.expr(transition.trigger), self.type_of(transition.trigger)
                    )
                    condition = ir.Compare(ir.BOOL, ">=", time_ref, timeout)
                target = states[transition.target.text]
                actions: list[ir.Stmt] = []
                if state.exit:
                    actions.extend(self._nested(state.exit))
                actions.append(
                    assign_stmt(
                        name,
                        literal_of(target.name.text, state_type),
                        self.package.origin(transition.span, transition.meta),
                    )
                )
                actions.append(assign_stmt(time_name, seconds_literal(0.0)))
                if target.entry:
                    actions.extend(self._nested(target.entry))
                choices.append(ir.Branch(condition, tuple(actions)))
            if choices:
                is_state = ir.Compare(ir.BOOL, "==", state_ref, literal_of(state.name.text, state_type))
                transition_branches.append(
                    ir.Branch(is_state, (ir.If(self.package.origin(state.span, state.meta), tuple(choices)),))
                )
        out.extend(self.pending)
        self.pending = []
        if transition_branches:
            out.append(ir.If(None, tuple(transition_branches)))
        during_branches = []
        for state in item.states:
            if state.during:
                body = self._nested(state.during)
                is_state = ir.Compare(ir.BOOL, "==", state_ref, literal_of(state.name.text, state_type))
                during_branches.append(ir.Branch(is_state, body))
        out.extend(self.pending)
        self.pending = []
        if during_branches:
            out.append(ir.If(None, tuple(during_branches)))
        self.machine = None
        return out

    # --------------------------------------------------------------------- alarms
    def _alarm(self, item: n.Alarm) -> list[ir.Stmt]:
        name = item.name.text
        assert item.condition is not None and item.severity is not None
        self.alarms.append(
            ir.Alarm(
                name,
                item.severity.text,
                item.meta.doc or "",
                tuple(c.text for c in item.meta.cites),
                self.package.origin(item.span, item.meta),
                latching=item.latching,
            )
        )
        self._public_state(item, ir.BOOL, literal_of(False, ir.BOOL), "alarm")
        condition = self.expr(item.condition)
        if item.delay is not None:
            delay = self._to_seconds(self.expr(item.delay), self.type_of(item.delay))
            condition = self._held_for(condition, delay, f"{name}_delay", f"delay of alarm `{name}`")
        values = tuple(self._explaining_values(item.condition))
        active = ref(name, ir.BOOL)
        raise_ = (
            assign_stmt(name, true_literal()),
            ir.AlarmChange(self.package.origin(item.span), name, True, values),
        )
        clear = (
            assign_stmt(name, literal_of(False, ir.BOOL)),
            ir.AlarmChange(self.package.origin(item.span), name, False, values),
        )
        if item.latching and item.acknowledge is not None:
            reset = all_of(active, self.expr(item.acknowledge))
        else:
            reset = active
        out: list[ir.Stmt] = list(self.pending)
        self.pending = []
        out.append(
            ir.If(
                self.package.origin(item.condition.span),
                (
                    ir.Branch(condition, (if_(negated(active), raise_),)),
                    ir.Branch(reset, clear),
                ),
            )
        )
        if item.action:
            action = self._nested(item.action)
            out.extend(self.pending)
            self.pending = []
            out.append(if_(active, action))
        return out

    def _explaining_values(self, condition: n.Expr) -> Iterator[tuple[str, ir.Expr]]:
        """The values an alarm's condition reads, recorded with each raise and clear."""
        seen: set[str] = set()
        found = sorted(
            n.names_read(condition, durations=False), key=lambda node: (node.span.line, node.span.column)
        )
        for node in found:
            symbol = self.checked.resolved.get(id(node))
            if symbol is None or node.name in seen:
                continue
            if symbol.kind in (
                "input",
                "output",
                "var",
                "parameter",
                "totalizer",
                "counter",
                "alarm",
                "const",
            ):
                seen.add(node.name)
                yield node.name, self._name_value(node, symbol)

    # --------------------------------------------------------------------- totals
    def _totalizer(self, item: n.Totalizer) -> list[ir.Stmt]:
        name = item.name.text
        symbol = self.scope.symbols[name]
        vt = self.package.value_type(symbol.type, self.name)
        self._public_state(item, vt, literal_of(0.0, vt), "totalizer")
        total_unit = unit_of(symbol.type)
        source_type = self.type_of(item.source)
        source = self.expr(item.source)
        out: list[ir.Stmt] = list(self.pending)
        self.pending = []
        if item.period is not None:
            self.uses_calendar = True
            out.append(if_(ref(ir.NEW_DAY, ir.BOOL), [assign_stmt(name, literal_of(0.0, vt))]))
        dt: ir.Expr = ir.ScanTime(ir.SECONDS)
        if item.period is not None:
            dt = ref(ir.TODAY_SCAN_TIME, ir.SECONDS)
        if isinstance(source_type, BoolType):
            factor = units.lookup("s").exact_factor_to(total_unit)[0]  # type: ignore[union-attr]
            increment: ir.Expr = scaled(dt, factor, vt)
            out.append(if_(source, [assign_stmt(name, added(ref(name, vt), increment))]))
        else:
            source_unit = unit_of(source_type)
            seconds = units.lookup("s")
            assert seconds is not None
            product = units.multiply(source_unit, seconds)
            factor = product.exact_factor_to(total_unit)[0]
            increment = scaled(ir.Binary(vt, "*", as_real(source), dt), factor, vt)
            out.append(assign_stmt(name, added(ref(name, vt), increment)))
        return out

    def _counter(self, item: n.Counter) -> list[ir.Stmt]:
        name = item.name.text
        self._public_state(item, ir.INT, literal_of(0, ir.INT), "counter")
        source = self.expr(item.source)
        out: list[ir.Stmt] = list(self.pending)
        self.pending = []
        previous = self._state(
            f"{name}_previous", ir.BOOL, literal_of(False, ir.BOOL), "the counted condition in the last scan"
        )
        if item.period is not None:
            self.uses_calendar = True
            out.append(if_(ref(ir.NEW_DAY, ir.BOOL), [assign_stmt(name, literal_of(0, ir.INT))]))
        # The condition may read values this scan changes, so it is read once, into the memory.
        edge = self._state(
            f"{name}_counted", ir.BOOL, literal_of(False, ir.BOOL), "the condition rose this scan"
        )
        out.append(assign_stmt(edge, all_of(source, negated(ref(previous, ir.BOOL)))))
        out.append(assign_stmt(previous, source))
        out.append(
            if_(
                ref(edge, ir.BOOL),
                [assign_stmt(name, ir.Binary(ir.INT, "+", ref(name, ir.INT), literal_of(1, ir.INT)))],
            )
        )
        return out

    def _public_state(
        self, item: n.Item, vt: ir.ValueType, initial: ir.Expr, point: str, doc: str | None = None
    ) -> None:
        """The value a construct shows by its name: a total, a count, an alarm, a machine's state."""
        self.variables[item.name.text] = ir.Variable(
            name=item.name.text,
            role="state",
            type=vt,
            initial=initial,
            doc=(item.meta.doc or "") if doc is None else doc,
            cites=tuple(c.text for c in item.meta.cites),
            origin=self.package.origin(item.span, item.meta),
            point=point,
        )


def without_empty_branches(
    origin: ir.Origin | None, branches: tuple[ir.Branch, ...], else_body: tuple[ir.Stmt, ...]
) -> list[ir.Stmt]:
    """An `if` written with an empty branch, as one without: no target prints an empty branch.

    `if a then (nothing) elif b then B else C` means `if not a then (if b then B else C)`;
    a branch left empty only stops the later ones. An `if` that does nothing at all is dropped.
    """
    for k, branch in enumerate(branches):
        if branch.body:
            continue
        rest = without_empty_branches(origin, branches[k + 1 :], else_body)
        if not rest:
            return without_empty_branches(origin, branches[:k], ())
        return [ir.If(origin, (*branches[:k], ir.Branch(negated(branch.condition), tuple(rest))), ())]
    if not branches:
        return list(else_body)
    return [ir.If(origin, branches, else_body)]
