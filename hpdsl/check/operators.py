"""Units and operators: arithmetic and comparisons with their units, what may be assigned to
what, booleans and durations where they are required, and constant values.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope.
"""

from __future__ import annotations

from collections.abc import Iterable

from hpdsl.base import messages
from hpdsl.base.source import Span
from hpdsl.check.scope import (
    CheckerBase,
    Context,
    Symbol,
    bare_text,
    bare_value,
    evaluate_in_scope,
    is_bare_number,
    same_type,
    unit_words,
    zero_adopts,
)
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.consteval import Const
from hpdsl.language.types import (
    BOOL,
    DURATION,
    ERROR,
    INT,
    BoolType,
    EnumType,
    ErrorType,
    IntType,
    QuantityType,
    Type,
    is_numeric,
    unit_of,
)
from hpdsl.language.units import UnitError


class OperatorChecks(CheckerBase):
    """The units of operators and assignments: a temperature never compared with a pressure."""

    def _unary(self, expr: n.Unary, ctx: Context) -> Type:
        if expr.op == "not":
            self._expect_bool(expr.operand, ctx, "operand of `not`")
            return BOOL
        operand = self._expr(expr.operand, ctx)
        if isinstance(operand, ErrorType):
            return ERROR
        if not is_numeric(operand):
            self._report(messages.OPERAND_TYPE.at(expr.span, op="-", found=operand.describe()))
            return ERROR
        if unit_of(operand).absolute:
            self._report(
                messages.ABSOLUTE_TEMPERATURE.at(
                    expr.span,
                    problem="an absolute temperature cannot be negated",
                    hint="negate a difference instead, e.g. `-(outdoor_temp - 0C)`",
                )
            )
            return ERROR
        return operand

    def _binary(self, expr: n.Binary, ctx: Context) -> Type:
        if expr.op in ("and", "or"):
            self._expect_bool(expr.left, ctx, f"operand of `{expr.op}`")
            self._expect_bool(expr.right, ctx, f"operand of `{expr.op}`")
            return BOOL
        left = self._expr(expr.left, ctx)
        right = self._expr(expr.right, ctx)
        if isinstance(left, ErrorType) or isinstance(right, ErrorType):
            return ERROR
        self._note_unit_patch(expr)
        for side, side_type in ((expr.left, left), (expr.right, right)):
            if not is_numeric(side_type):
                self._report(
                    messages.OPERAND_TYPE.at(
                        side.span,
                        op=expr.op,
                        found=side_type.describe(),
                        hint="arithmetic works on numbers and quantities",
                    )
                )
                return ERROR
        lu, ru = unit_of(left), unit_of(right)
        if expr.op in ("+", "-"):
            if not self._units_meet(expr.left, expr.right, left, right, f"`{expr.op}`"):
                return ERROR
            if isinstance(left, IntType) and isinstance(right, IntType):
                return INT
            lu = unit_of(zero_adopts(expr.left, left, right))
            ru = unit_of(zero_adopts(expr.right, right, left))
            try:
                unit = units.add(lu, ru) if expr.op == "+" else units.subtract(lu, ru)
            except UnitError as exc:
                self._unit_error(exc, expr.span, f"`{expr.op}`")
                return ERROR
            return QuantityType(unit)
        if expr.op == "/":
            divisor = self._const(expr.right, ctx)
            if divisor is not None and divisor.number == 0:
                tiny = _underflowed(expr.right)
                hint = (
                    f"`{tiny}` is too small for a real and is stored as 0; write it in a larger unit"
                    if tiny is not None
                    else "divide by a non-zero value"
                )
                self._report(messages.DIVISION_BY_ZERO.at(expr.right.span, hint=hint))
                return ERROR
        try:
            unit = units.multiply(lu, ru) if expr.op == "*" else units.divide(lu, ru)
        except UnitError as exc:
            self._unit_error(exc, expr.span, f"`{expr.op}`")
            return ERROR
        if expr.op == "*" and isinstance(left, IntType) and isinstance(right, IntType):
            return INT
        return QuantityType(unit)

    def _compare(self, expr: n.Compare, ctx: Context) -> Type:
        left = self._expr(expr.left, ctx)
        right = self._expr(expr.right, ctx, expected=left)
        if isinstance(left, ErrorType) or isinstance(right, ErrorType):
            return BOOL
        if self.unit_patches:
            self._power_vs_energy(expr)
        if expr.op in ("==", "!=") and (
            isinstance(left, (BoolType, EnumType)) or isinstance(right, (BoolType, EnumType))
        ):
            if not same_type(left, right):
                self._report(
                    messages.TYPE_MISMATCH.at(
                        expr.right.span,
                        context=f"comparison `{expr.op}`",
                        expected=left.describe(),
                        found=right.describe(),
                    )
                )
            return BOOL
        if not is_numeric(left) or not is_numeric(right):
            bad = expr.left if not is_numeric(left) else expr.right
            self._report(
                messages.OPERAND_TYPE.at(
                    bad.span,
                    op=expr.op,
                    found=(left if bad is expr.left else right).describe(),
                    hint="only numbers and quantities are ordered; test booleans and modes with `==`",
                )
            )
            return BOOL
        self._comparable(left, right, expr.left, expr.right, f"comparison `{expr.op}`")
        return BOOL

    # ================================================================== type relations
    def _missing_unit(self, bare: n.Expr, other: Type, context: str) -> bool:
        """Report a bare number where a quantity with a unit is meant; True when reported."""
        if not is_bare_number(bare) or not isinstance(other, QuantityType) or other.unit == units.NUMBER:
            return False
        if bare_value(bare) == 0 and not other.unit.absolute:
            return False  # zero is zero in any unit but an absolute temperature scale
        text, symbol = bare_text(bare), other.unit.symbol
        written = f"{text}{symbol}" if symbol in ("C", "F") else f"{text} {symbol}"
        hint = f"write `{written}`"
        if other.unit.absolute and context in ("`+`", "`-`"):
            # A temperature plus or minus a number: the number is a difference, in kelvin.
            written = units.format_quantity(bare_value(bare), units.difference_unit(other.unit))
            hint = f"write `{written}`: what is added to a temperature is a difference"
        value = bare_value(bare)
        if symbol == "%" and 0 < abs(value) <= 1 and "." in text:
            # `load > 0.3` almost always means 30 %, not 0.3 %.
            percent = units.format_quantity(value * 100, other.unit)
            hint = f"write `{percent}` (the fraction {text}), or `{written}` if that is what you mean"
        self._report(
            messages.MISSING_UNIT.at(
                bare.span, context=context, value=text, expected=other.describe(), hint=hint
            )
        )
        return True

    def _units_meet(
        self, left_expr: n.Expr, right_expr: n.Expr, left: Type, right: Type, context: str
    ) -> bool:
        """A bare number beside a quantity with a unit is almost always a forgotten unit."""
        return not (
            self._missing_unit(left_expr, right, context) or self._missing_unit(right_expr, left, context)
        )

    def _comparable(
        self, left: Type, right: Type, left_expr: n.Expr | None, right_expr: n.Expr, context: str
    ) -> bool:
        if isinstance(left, ErrorType) or isinstance(right, ErrorType):
            return True
        if not (is_numeric(left) and is_numeric(right)):
            if same_type(left, right) and not is_numeric(left):
                return True  # booleans with booleans, members of one enumeration
            self._report(
                messages.TYPE_MISMATCH.at(
                    right_expr.span, context=context, expected=left.describe(), found=right.describe()
                )
            )
            return False
        if left_expr is not None and not self._units_meet(left_expr, right_expr, left, right, context):
            return False
        if left_expr is None and self._missing_unit(right_expr, left, context):
            return False
        left, right = zero_adopts(left_expr, left, right), zero_adopts(right_expr, right, left)
        try:
            units.compare(unit_of(left), unit_of(right))
        except UnitError as exc:
            self._unit_error(exc, right_expr.span, context)
            return False
        return True

    def _assignable(self, target: Type, value: Type, value_expr: n.Expr, context: str) -> bool:
        """Can a value of type `value` be stored where `target` is declared? Reports if not."""
        if isinstance(target, ErrorType) or isinstance(value, ErrorType):
            return True
        if isinstance(target, IntType) and isinstance(value, QuantityType) and value.unit == units.NUMBER:
            self._report(
                messages.TYPE_MISMATCH.at(
                    value_expr.span,
                    context=context,
                    expected=target.describe(),
                    found="a real number",
                    hint="integers hold whole numbers; declare it `real` to keep fractions",
                )
            )
            return False
        if is_numeric(target) and is_numeric(value):
            if self._missing_unit(value_expr, target, context):
                return False
            value = zero_adopts(value_expr, value, target)
            try:
                units.compare(unit_of(target), unit_of(value))
            except UnitError as exc:
                if exc.kind == "absolute":
                    self._stored_temperature(unit_of(target), unit_of(value), value_expr.span, context)
                else:
                    self._unit_error(exc, value_expr.span, context)
                return False
            return True
        if not same_type(target, value):
            self._report(
                messages.TYPE_MISMATCH.at(
                    value_expr.span, context=context, expected=target.describe(), found=value.describe()
                )
            )
            return False
        return True

    def _stored_temperature(self, target: units.Unit, value: units.Unit, span: Span, context: str) -> None:
        """A temperature difference given where an absolute temperature is stored, or the reverse."""
        difference = f"a temperature difference ({value.symbol if target.absolute else target.symbol})"
        temperature = f"a temperature ({target.symbol if target.absolute else value.symbol})"
        if target.absolute:
            problem = f"{context}: {difference} where {temperature} is expected"
            hint = f"write a temperature (`21{target.symbol}`), or add the difference to one"
        else:
            problem = f"{context}: {temperature} where {difference} is expected"
            hint = f"a difference is the gap between two temperatures: `a - b` is in {target.symbol}"
        self._report(messages.ABSOLUTE_TEMPERATURE.at(span, problem=problem, hint=hint))

    def _unit_error(self, exc: UnitError, span: Span, context: str) -> None:
        if exc.kind == "absolute":
            self._report(
                messages.ABSOLUTE_TEMPERATURE.at(
                    span,
                    problem=str(exc),
                    hint="a temperature difference is written in K: `21C - 15C` is `6 K`",
                )
            )
        else:
            self._report(
                messages.UNIT_MISMATCH.at(
                    span,
                    context=context,
                    left=unit_words(exc.left),
                    right=unit_words(exc.right),
                    hint="both sides must measure the same physical quantity",
                )
            )

    def _expect_bool(self, expr: n.Expr, ctx: Context, context: str) -> None:
        type_ = self._expr(expr, ctx, expected=BOOL)
        if not isinstance(type_, (BoolType, ErrorType)):
            self._report(
                messages.TYPE_MISMATCH.at(
                    expr.span,
                    context=context,
                    expected="a boolean condition",
                    found=type_.describe(),
                    hint="compare it with something, e.g. `x > 5C`",
                )
            )

    def _expect_duration(self, expr: n.Expr, ctx: Context, context: str) -> None:
        type_ = self._expr(expr, ctx, expected=DURATION)
        if isinstance(type_, ErrorType):
            return
        if is_bare_number(expr):
            self._report(
                messages.MISSING_UNIT.at(
                    expr.span,
                    context=context,
                    value=bare_text(expr),
                    expected="a duration",
                    hint=f"write e.g. `{bare_text(expr)} min` or `{bare_text(expr)} s`",
                )
            )
            return
        if not (isinstance(type_, QuantityType) and type_.is_time):
            self._report(
                messages.TYPE_MISMATCH.at(
                    expr.span, context=context, expected="a duration such as 10 min", found=type_.describe()
                )
            )

    # ================================================================== helpers
    def _lookup_symbol(self, name: str, span: Span, ctx: Context) -> Symbol | None:
        symbol = ctx.scope.lookup(name)
        if symbol is None:
            self._undefined(name, span, list(ctx.scope.visible_names()))
        return symbol

    def _undefined(self, name: str, span: Span, candidates: Iterable[str]) -> None:
        hint = None
        if self.suggestions_left > 0:
            self.suggestions_left -= 1
            hint = messages.did_you_mean(name, candidates)
        self._report(messages.UNDEFINED_NAME.at(span, name=name, hint=hint))

    def _const(self, expr: n.Expr, ctx: Context) -> Const | None:
        """The value of an expression known before the first scan (parameters at their defaults)."""
        return evaluate_in_scope(
            expr,
            ctx.scope,
            self.enum_members.__contains__,
            ("const", "parameter"),
            self._site_value if self.site is not None else None,
        )


def _underflowed(expr: n.Expr) -> str | None:
    """The text of a literal in an expression that is written non-zero and stored as 0."""
    for node in _literals(expr):
        if node.value == 0.0 and any(c in "123456789" for c in node.text.split("e")[0].split("E")[0]):
            return node.text
    return None


def _literals(expr: n.Expr) -> list[n.Number | n.Quantity]:
    found: list[n.Number | n.Quantity] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (n.Number, n.Quantity)):
            found.append(node)
        elif isinstance(node, n.Paren):
            stack.append(node.inner)
        elif isinstance(node, n.Unary):
            stack.append(node.operand)
        elif isinstance(node, n.Binary):
            stack.extend((node.left, node.right))
    return found
