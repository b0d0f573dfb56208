"""Lowering expressions: names, members, calls, operators and comparisons, schedules, and the
conversion of every value to the unit its target computes in.

May import: hpdsl.base, hpdsl.language, hpdsl.check, hpdsl.compile.ir, hpdsl.compile.common.
"""

from __future__ import annotations

from hpdsl.check.checker import (
    TIME_IN_STATE,
    Symbol,
)
from hpdsl.compile import ir
from hpdsl.compile.common import (
    ProgramLoweringBase,
    advance_timer,
    all_of,
    any_of,
    as_real,
    assign_stmt,
    day_number,
    day_runs,
    if_,
    linear,
    literal_of,
    negated,
    operand_unit,
    provably_nonzero,
    ref,
    retyped,
    seconds_literal,
    true_literal,
    value_type_of_unit,
)
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.types import IntType, QuantityType, Type, unit_of


class ExpressionLowering(ProgramLoweringBase):
    """Expressions as IR expressions, every quantity converted to its target's unit."""

    # --------------------------------------------------------------------- expressions
    def type_of(self, expr: n.Expr) -> Type:
        type_ = self.checked.expr_types.get(id(expr))
        if type_ is None:
            raise AssertionError(f"unchecked expression at {expr.span}")
        return type_

    def expr(self, expr: n.Expr) -> ir.Expr:
        while isinstance(expr, n.Paren):
            expr = expr.inner
        type_ = self.type_of(expr)
        if isinstance(expr, n.Number):
            if isinstance(type_, IntType):
                return literal_of(int(expr.value), ir.INT)
            return literal_of(float(expr.value), ir.REAL)
        if isinstance(expr, n.Quantity):
            return literal_of(float(expr.value), self.package.value_type(type_, self.name))
        if isinstance(expr, n.BoolLiteral):
            return literal_of(expr.value, ir.BOOL)
        if isinstance(expr, n.Name):
            return self._name(expr, type_)
        if isinstance(expr, n.Member):
            return self._member(expr, type_)
        if isinstance(expr, n.Call):
            return self._call(expr, type_)
        if isinstance(expr, n.Unary):
            operand = self.expr(expr.operand)
            if expr.op == "not":
                return negated(operand)
            if isinstance(operand, ir.Literal_) and isinstance(operand.value, (int, float)):
                return literal_of(-operand.value, operand.type)
            return ir.Unary(operand.type, "-", operand)
        if isinstance(expr, n.Binary):
            return self._binary(expr, type_)
        if isinstance(expr, n.Compare):
            return self._compare(expr)
        if isinstance(expr, n.HeldFor):
            condition = self.expr(expr.condition)
            duration = self._to_seconds(self.expr(expr.duration), self.type_of(expr.duration))
            return self._held_for(condition, duration, self._memory_name("for"), "the condition of `for`")
        raise AssertionError(f"unhandled expression {type(expr).__name__}")

    def _name(self, expr: n.Name, type_: Type) -> ir.Expr:
        if expr.name == TIME_IN_STATE:
            assert self.machine is not None
            return ref(f"{self.machine.name.text}_time_in_state", ir.SECONDS)
        symbol = self.checked.resolved.get(id(expr))
        if symbol is None:  # an enumeration member or a state
            vt = self.package.value_type(type_, self.name)
            return literal_of(expr.name, vt)
        return self._name_value(expr, symbol)

    def _name_value(self, expr: n.Name, symbol: Symbol) -> ir.Expr:
        vt = self.package.value_type(symbol.type, self.name) if symbol.kind != "schedule" else ir.BOOL
        if symbol.kind == "const" and symbol.program is None:
            return ir.GlobalRef(vt, symbol.name)
        if symbol.kind == "schedule":
            assert isinstance(symbol.node, n.Schedule)
            return self._schedule(symbol.node)
        return ref(symbol.name, vt)

    def _member(self, expr: n.Member, type_: Type) -> ir.Expr:
        owner = expr.owner
        member = expr.name.text
        if isinstance(owner, n.Name):
            symbol = self.scope.lookup(owner.name)
            if symbol is not None and symbol.kind == "machine":
                if member == TIME_IN_STATE:
                    return ref(f"{owner.name}_time_in_state", ir.SECONDS)
                return literal_of(member, self.package.value_type(symbol.type, self.name))
            if symbol is not None and symbol.kind == "enum":
                return literal_of(member, self.package.value_type(symbol.type, self.name))
        assert isinstance(owner, n.Call)
        table_symbol = self.checked.resolved.get(id(owner))
        assert table_symbol is not None and isinstance(table_symbol.node, n.Table)
        table = table_symbol.node
        ir_name = self.package.function_names[table_symbol.program, table.name.text]
        key_type = self.package.written_type(table.key.type)
        key = self._convert(self.expr(owner.args[0]), key_type, self.type_of(owner.args[0]))
        return ir.Lookup(self.package.value_type(type_, self.name), ir_name, member, key)

    def _call(self, expr: n.Call, type_: Type) -> ir.Expr:
        name = expr.function.text
        symbol = self.checked.resolved.get(id(expr))
        if symbol is not None and isinstance(symbol.node, n.Curve):
            curve = symbol.node
            key_type = self.package.written_type(curve.key.type)
            key = self._convert(self.expr(expr.args[0]), key_type, self.type_of(expr.args[0]))
            ir_name = self.package.function_names[symbol.program, curve.name.text]
            return ir.Interpolate(self.package.value_type(type_, self.name), ir_name, key)
        if name in ("min", "max", "clamp"):
            args = tuple(self._convert(self.expr(a), type_, self.type_of(a)) for a in expr.args)
            return ir.Call(self.package.value_type(type_, self.name), name, args)  # type: ignore[arg-type]
        if name == "abs":
            arg = self.expr(expr.args[0])
            return ir.Call(arg.type, "abs", (arg,))
        condition = self.expr(expr.args[0])
        if name in ("rising", "falling"):
            base = self._memory_name(name)
            previous = self._state(
                f"{base}_previous",
                ir.BOOL,
                literal_of(False, ir.BOOL),
                f"the condition of `{name}` in the last scan",
            )
            edge = self._state(base, ir.BOOL, literal_of(False, ir.BOOL), f"`{name}` this scan")
            prev_ref = ref(previous, ir.BOOL)
            value = (
                all_of(condition, negated(prev_ref))
                if name == "rising"
                else all_of(prev_ref, negated(condition))
            )
            self.pending.append(assign_stmt(edge, value))
            self.pending.append(assign_stmt(previous, condition))
            return ref(edge, ir.BOOL)
        if name == "time_since":
            since = self._state(
                self._memory_name("since"),
                ir.SECONDS,
                seconds_literal(ir.TIME_SINCE_NEVER),
                "time since the condition of `time_since` was last true (s); 1e9 s if never",
            )
            since_ref = ref(since, ir.SECONDS)
            self.pending.append(
                if_(
                    condition,
                    [assign_stmt(since, seconds_literal(0.0))],
                    advance_timer(since, seconds_literal(ir.TIME_SINCE_NEVER)),
                )
            )
            return since_ref
        raise AssertionError(f"unhandled call {name}")

    def _binary(self, expr: n.Binary, type_: Type) -> ir.Expr:
        left_type, right_type = self.type_of(expr.left), self.type_of(expr.right)
        left, right = self.expr(expr.left), self.expr(expr.right)
        if expr.op in ("and", "or"):
            return all_of(left, right) if expr.op == "and" else any_of(left, right)
        vt = self.package.value_type(type_, self.name)
        if expr.op in ("+", "-"):
            if isinstance(type_, IntType):
                return ir.Binary(ir.INT, expr.op, left, right)  # type: ignore[arg-type]
            result_unit = unit_of(type_)
            if expr.op == "-" and unit_of(left_type).absolute and unit_of(right_type).absolute:
                # C - C: both on the left's scale, the result is their difference
                right = self._convert(right, left_type, right_type)
                left = as_real(left)
            else:
                left = self._convert(left, QuantityType(operand_unit(result_unit, left_type)), left_type)
                right = self._convert(right, QuantityType(operand_unit(result_unit, right_type)), right_type)
            return ir.Binary(vt, expr.op, left, right)  # type: ignore[arg-type]
        left, right = as_real(left), as_real(right)
        if isinstance(type_, IntType):  # int * int
            return ir.Binary(ir.INT, expr.op, left, right)  # type: ignore[arg-type]
        if expr.op == "*":
            return ir.Binary(vt, "*", left, right)
        if provably_nonzero(right, self.variables):
            return ir.Binary(vt, "/", left, right)
        return ir.SafeDivide(vt, left, right)

    def _compare(self, expr: n.Compare) -> ir.Expr:
        left_type, right_type = self.type_of(expr.left), self.type_of(expr.right)
        left, right = self.expr(expr.left), self.expr(expr.right)
        if isinstance(left_type, QuantityType) or isinstance(right_type, QuantityType):
            if isinstance(left_type, QuantityType):
                right = self._convert(right, left_type, right_type)
                left = as_real(left)
            else:
                left = self._convert(left, right_type, left_type)
                right = as_real(right)
        return ir.Compare(ir.BOOL, expr.op, left, right)  # type: ignore[arg-type]

    def _schedule(self, schedule: n.Schedule) -> ir.Expr:
        self.uses_calendar = True
        sod = ref(ir.SECOND_OF_DAY, ir.SECONDS)
        weekday = ref(ir.WEEKDAY, ir.INT)
        terms = []
        for period in schedule.periods:
            days: set[int] = set()
            for day_range in period.days:
                first = day_number(day_range.first.text)
                last = day_number(day_range.last.text) if day_range.last is not None else first
                day = first
                days.add(day)
                while day != last:
                    day = (day + 1) % 7
                    days.add(day)
            day_terms: list[ir.Expr] = []
            for low, high in day_runs(sorted(days)):
                if low == 0 and high == 6:
                    continue
                if low == high:
                    day_terms.append(ir.Compare(ir.BOOL, "==", weekday, literal_of(low, ir.INT)))
                else:
                    day_terms.append(
                        all_of(
                            ir.Compare(ir.BOOL, ">=", weekday, literal_of(low, ir.INT)),
                            ir.Compare(ir.BOOL, "<=", weekday, literal_of(high, ir.INT)),
                        )
                    )
            start = period.start.hour * 3600 + period.start.minute * 60
            end = period.end.hour * 3600 + period.end.minute * 60
            time_terms: list[ir.Expr] = []
            if start > 0:
                time_terms.append(ir.Compare(ir.BOOL, ">=", sod, seconds_literal(start)))
            if end < ir.SECONDS_PER_DAY:
                time_terms.append(ir.Compare(ir.BOOL, "<", sod, seconds_literal(end)))
            terms.append(all_of(any_of(*day_terms) if day_terms else true_literal(), *time_terms))
        return any_of(*terms)

    # --------------------------------------------------------------------- units
    def _convert(self, expr: ir.Expr, target: Type, source: Type) -> ir.Expr:
        """`expr`, of type `source`, as a value of type `target` (unit conversion, int to real)."""
        if isinstance(target, IntType) or not isinstance(target, QuantityType):
            return expr
        to_unit = target.unit
        from_unit = unit_of(source) if isinstance(source, (IntType, QuantityType)) else to_unit
        expr = as_real(expr)
        vt = value_type_of_unit(to_unit)
        if from_unit == to_unit:
            return retyped(expr, vt)
        if from_unit.dimension != to_unit.dimension or (from_unit.absolute and not to_unit.absolute):
            if isinstance(expr, ir.Literal_) and expr.value == 0:
                return literal_of(0.0, vt)  # a bare 0 is zero of any quantity
            raise AssertionError(f"cannot convert {from_unit.symbol} to {to_unit.symbol}")
        if to_unit.absolute and not from_unit.absolute:
            to_unit = units.difference_unit(to_unit)
        scale, offset = from_unit.exact_factor_to(to_unit)
        return linear(expr, scale, offset, vt)

    def _to_seconds(self, expr: ir.Expr, source: Type) -> ir.Expr:
        seconds = units.lookup("s")
        assert seconds is not None
        return self._convert(expr, QuantityType(seconds), source)
