"""The types of expressions: names, members, calls of functions, tables and curves, and what
may stand where a constant is required.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope.
"""

from __future__ import annotations

from hpdsl.base import messages
from hpdsl.base.source import Span
from hpdsl.check.scope import (
    BUILTIN_FUNCTIONS,
    CALL_EXAMPLES,
    PENDING,
    TIME_IN_STATE,
    CheckerBase,
    Context,
    Scope,
)
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.types import (
    BOOL,
    DURATION,
    ERROR,
    INT,
    REAL,
    EnumType,
    ErrorType,
    IntType,
    QuantityType,
    RowType,
    Type,
    is_numeric,
    unit_of,
)


class ExpressionChecks(CheckerBase):
    """The types of names, members and calls; each expression's type recorded in the package."""

    # ================================================================== expressions
    def _expr(self, expr: n.Expr, ctx: Context, expected: Type | None = None) -> Type:
        """The type of an expression; reports what is wrong inside it."""
        type_ = self._infer(expr, ctx, expected)
        self.expr_types[id(expr)] = type_
        return type_

    def _infer(self, expr: n.Expr, ctx: Context, expected: Type | None) -> Type:
        if isinstance(expr, n.Paren):
            return self._expr(expr.inner, ctx, expected)
        if isinstance(expr, n.Number):
            self._literal_sanity(expr)
            return INT if expr.is_integer else REAL
        if isinstance(expr, n.Quantity):
            self._literal_sanity(expr)
            unit = units.lookup(expr.unit)
            if unit is None:
                self._report(
                    messages.UNKNOWN_UNIT.at(
                        expr.span,
                        unit=expr.unit,
                        hint=messages.did_you_mean(expr.unit, units.suggest(expr.unit)),
                    )
                )
                return ERROR
            return QuantityType(unit)
        if isinstance(expr, n.BoolLiteral):
            return BOOL
        if isinstance(expr, n.Name):
            return self._name(expr, ctx, expected)
        if isinstance(expr, n.Member):
            return self._member(expr, ctx)
        if isinstance(expr, n.Call):
            return self._call(expr, ctx, expected)
        if isinstance(expr, n.Unary):
            return self._unary(expr, ctx)
        if isinstance(expr, n.Binary):
            return self._binary(expr, ctx)
        if isinstance(expr, n.Compare):
            return self._compare(expr, ctx)
        if isinstance(expr, n.HeldFor):
            self._not_in_constant(ctx, expr.span, "a timer")
            self._expect_bool(expr.condition, ctx, "condition of `for`")
            self._expect_duration(expr.duration, ctx, "duration of `for`")
            return BOOL
        raise AssertionError(f"unhandled expression {type(expr).__name__}")

    def _not_in_constant(self, ctx: Context, span: Span, what: str, kind: str = "the live value of") -> bool:
        """Report a live value read where a constant is required; True when reported."""
        if ctx.constant is None:
            return False
        self._report(
            messages.NOT_CONSTANT.at(
                span,
                context=ctx.constant,
                kind=kind,
                name=what,
                hint="use literals, constants and parameters here",
            )
        )
        return True

    def _name(self, expr: n.Name, ctx: Context, expected: Type | None) -> Type:
        name = expr.name
        if name == TIME_IN_STATE:
            if ctx.machine is None:
                self._report(
                    messages.UNDEFINED_NAME.at(
                        expr.span,
                        name=name,
                        hint=(
                            "`time_in_state` exists inside a state machine; elsewhere write "
                            "`<machine>.time_in_state`"
                        ),
                    )
                )
                return ERROR
            self._not_in_constant(ctx, expr.span, name)
            return DURATION
        symbol = ctx.scope.lookup(name)
        if symbol is not None:
            self.used.add(id(symbol))
            self.resolved[id(expr)] = symbol
            if symbol.type is PENDING:
                self._infer_const(symbol)
            if symbol.kind in ("curve", "table", "event", "program", "rule", "enum"):
                self._report(
                    messages.TYPE_MISMATCH.at(
                        expr.span,
                        context=f"`{name}`",
                        expected="a value",
                        found=f"a {symbol.kind}",
                        hint=f"call a {symbol.kind} with its key: `{name}(...)`"
                        if symbol.kind in ("curve", "table")
                        else None,
                    )
                )
                return ERROR
            if symbol.kind not in ("const", "parameter", "key") and self._not_in_constant(
                ctx, expr.span, name, kind=symbol.kind
            ):
                return ERROR  # reported once: no type error on top of it
            if symbol.kind == "parameter" and ctx.fixed:
                self._report(
                    messages.NOT_FIXED.at(
                        expr.span,
                        context=ctx.constant,
                        name=name,
                        hint="use a literal or a `const`, or compare with the parameter in a rule",
                    )
                )
                return ERROR
            return symbol.type
        member_of = self._enum_for_member(name, expr.span, expected, ctx.scope)
        if member_of is not None:
            return member_of
        self._undefined(name, expr.span, [*ctx.scope.visible_names(), *self.enum_members])
        return ERROR

    def _enum_for_member(self, name: str, span: Span, expected: Type | None, scope: Scope) -> Type | None:
        """The enumeration (or state machine) a bare member name belongs to, if exactly one fits."""
        owners: list[EnumType] = [*self.enum_members.get(name, ()), *scope.states_named(name)]
        if not owners:
            return None
        if len(owners) == 1:
            self._use_enum(owners[0])
            return owners[0]
        if isinstance(expected, EnumType) and expected in owners:
            self._use_enum(expected)
            return expected
        self._report(
            messages.AMBIGUOUS_MEMBER.at(
                span,
                name=name,
                owners=", ".join(f"`{o.name}`" for o in owners),
                hint=f"write it qualified, e.g. `{owners[0].name}.{name}`",
            )
        )
        return ERROR

    def _use_enum(self, enum: EnumType) -> None:
        symbol = self.package_scope.symbols.get(enum.name)
        if symbol is not None:
            self.used.add(id(symbol))

    def _member(self, expr: n.Member, ctx: Context) -> Type:
        owner = expr.owner
        member = expr.name.text
        if isinstance(owner, n.Name):
            symbol = ctx.scope.lookup(owner.name)
            if symbol is not None and symbol.kind == "enum" and isinstance(symbol.type, EnumType):
                self.used.add(id(symbol))
                if member in symbol.type.members:
                    return symbol.type
                self._report(
                    messages.UNDEFINED_MEMBER.at(
                        expr.name.span,
                        owner=owner.name,
                        what="member",
                        name=member,
                        hint=messages.did_you_mean(member, list(symbol.type.members)),
                    )
                )
                return ERROR
            if symbol is not None and symbol.kind == "machine" and isinstance(symbol.type, EnumType):
                self.used.add(id(symbol))
                if member == TIME_IN_STATE:
                    self._not_in_constant(ctx, expr.span, f"{owner.name}.{member}")
                    return DURATION
                if member in symbol.type.members:
                    return symbol.type
                self._report(
                    messages.UNDEFINED_STATE.at(
                        expr.name.span,
                        machine=owner.name,
                        name=member,
                        hint=messages.did_you_mean(member, [*symbol.type.members, TIME_IN_STATE]),
                    )
                )
                return ERROR
        owner_type = self._expr(owner, ctx)
        if isinstance(owner_type, ErrorType):
            return ERROR
        if isinstance(owner_type, RowType):
            column = owner_type.column(member)
            if column is None:
                self._report(
                    messages.UNDEFINED_MEMBER.at(
                        expr.name.span,
                        owner=owner_type.table,
                        what="column",
                        name=member,
                        hint=messages.did_you_mean(member, [c for c, _ in owner_type.columns]),
                    )
                )
                return ERROR
            return column
        self._report(
            messages.TYPE_MISMATCH.at(
                expr.span,
                context=f"`.{member}`",
                expected="an enumeration, a state machine or a table row",
                found=owner_type.describe(),
            )
        )
        return ERROR

    def _call(self, expr: n.Call, ctx: Context, expected: Type | None) -> Type:
        name = expr.function.text
        symbol = ctx.scope.lookup(name)
        if symbol is not None and symbol.kind in ("curve", "table"):
            self.used.add(id(symbol))
            self.resolved[id(expr)] = symbol
            node = symbol.node
            assert isinstance(node, (n.Curve, n.Table))
            if len(expr.args) != 1:
                self._report(
                    messages.BAD_CALL.at(
                        expr.span,
                        problem=f"{symbol.kind} `{name}` takes one key value, got {len(expr.args)}",
                        hint=f"write `{name}({node.key.name.text})`",
                    )
                )
                for arg in expr.args:
                    self._expr(arg, ctx)
                return ERROR
            key_type = self._resolve_type(node.key.type, ctx.scope)
            arg_type = self._expr(expr.args[0], ctx, expected=key_type)
            self._assignable(key_type, arg_type, expr.args[0], f"key of {symbol.kind} `{name}`")
            if symbol.kind == "table":
                return symbol.type if isinstance(symbol.type, RowType) else ERROR
            return symbol.type
        if symbol is not None:
            for arg in expr.args:
                self._expr(arg, ctx)
            self._report(
                messages.BAD_CALL.at(
                    expr.function.span,
                    problem=f"`{name}` is a {symbol.kind} and cannot be called",
                    hint="curves and tables are called with a key; built-in functions are "
                    + ", ".join(BUILTIN_FUNCTIONS),
                )
            )
            return ERROR
        if name not in BUILTIN_FUNCTIONS:
            for arg in expr.args:
                self._expr(arg, ctx)
            callables = [
                *BUILTIN_FUNCTIONS,
                *(
                    s.name
                    for s in (ctx.scope.symbols | self.package_scope.symbols).values()
                    if s.kind in ("curve", "table")
                ),
            ]
            self._undefined(name, expr.function.span, callables)
            return ERROR
        if name in ("rising", "falling", "time_since"):
            self._not_in_constant(ctx, expr.span, f"{name}(...)")
            if len(expr.args) != 1:
                self._report(
                    messages.BAD_CALL.at(
                        expr.span,
                        problem=f"`{name}` takes one condition, got {len(expr.args)}",
                        hint=f"write `{name}(<condition>)`",
                    )
                )
                for arg in expr.args:
                    self._expr(arg, ctx)
                return ERROR
            self._expect_bool(expr.args[0], ctx, f"argument of `{name}`")
            return DURATION if name == "time_since" else BOOL
        arity = {"abs": (1, 1), "clamp": (3, 3), "min": (2, 99), "max": (2, 99)}[name]
        arg_types = [self._expr(arg, ctx, expected) for arg in expr.args]
        if not arity[0] <= len(expr.args) <= arity[1]:
            wanted = {
                "abs": "one value",
                "clamp": "three values (value, low, high)",
                "min": "two or more values",
                "max": "two or more values",
            }[name]
            self._report(
                messages.BAD_CALL.at(
                    expr.span,
                    problem=f"`{name}` takes {wanted}, got {len(expr.args)}",
                    hint=f"e.g. `{CALL_EXAMPLES[name]}`",
                )
            )
            return ERROR
        for arg, arg_type in zip(expr.args, arg_types, strict=True):
            if not is_numeric(arg_type) and not isinstance(arg_type, ErrorType):
                self._report(
                    messages.TYPE_MISMATCH.at(
                        arg.span,
                        context=f"argument of `{name}`",
                        expected="a number or quantity",
                        found=arg_type.describe(),
                    )
                )
                return ERROR
        if any(isinstance(t, ErrorType) for t in arg_types):
            return ERROR
        if name == "abs":
            if unit_of(arg_types[0]).absolute:
                self._report(
                    messages.ABSOLUTE_TEMPERATURE.at(
                        expr.span,
                        problem="the absolute value of an absolute temperature has no meaning",
                        hint="take `abs` of a difference, e.g. `abs(supply_temp - supply_setpoint)`",
                    )
                )
                return ERROR
            return arg_types[0]
        result = arg_types[0]
        for arg, arg_type in zip(expr.args[1:], arg_types[1:], strict=True):
            if not self._comparable(result, arg_type, expr.args[0], arg, f"arguments of `{name}`"):
                return ERROR
            if isinstance(result, IntType) and isinstance(arg_type, QuantityType):
                result = arg_type
        return result
