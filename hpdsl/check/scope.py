"""What every pass of the checker shares: symbols and scopes, the checked package, the context
an expression stands in, the names the language reserves, and the state of one check
(`CheckerBase`: what the passes record, and the methods one pass calls in another).

May import: hpdsl.base, hpdsl.language.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic, Note
from hpdsl.base.source import Span
from hpdsl.language import consteval, units
from hpdsl.language import nodes as n
from hpdsl.language.consteval import Const
from hpdsl.language.types import (
    EnumType,
    ErrorType,
    IntType,
    QuantityType,
    Type,
    is_numeric,
    unit_of,
)

ItemT = TypeVar("ItemT")


SEVERITIES = ("critical", "high", "medium", "low")


PERIODS = ("day",)


DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


DAY_ALIASES = {day[:3]: day for day in DAYS}


BUILTIN_FUNCTIONS = ("min", "max", "clamp", "abs", "rising", "falling", "time_since")


TIME_IN_STATE = "time_in_state"


# ------------------------------------------------------------------------------ symbols
@dataclass(eq=False)
class Symbol:
    """A declared name. `kind` is the keyword that declared it (input, machine, enum, ...)."""

    kind: str
    name: str
    span: Span
    type: Type
    node: n.Node
    program: str | None = None  # None for package-level symbols


@dataclass(eq=False)
class Scope:
    symbols: dict[str, Symbol] = field(default_factory=dict)
    parent: Scope | None = None
    skeletons: dict[str, Symbol] = field(default_factory=dict)  # confusable_skeleton -> the first name
    # state name -> the state enumerations of this scope's machines that have that state
    machine_states: dict[str, list[EnumType]] = field(default_factory=dict)

    def states_named(self, name: str) -> list[EnumType]:
        found: list[EnumType] = []
        scope: Scope | None = self
        while scope is not None:
            found.extend(scope.machine_states.get(name, ()))
            scope = scope.parent
        return found

    def look_alike(self, skeleton: str) -> Symbol | None:
        """A name of this scope or an enclosing one that looks like `skeleton`."""
        scope: Scope | None = self
        while scope is not None:
            if skeleton in scope.skeletons:
                return scope.skeletons[skeleton]
            scope = scope.parent
        return None

    def lookup(self, name: str) -> Symbol | None:
        scope: Scope | None = self
        while scope is not None:
            found = scope.symbols.get(name)
            if found is not None:
                return found
            scope = scope.parent
        return None

    def visible_names(self) -> Iterator[str]:
        scope: Scope | None = self
        while scope is not None:
            yield from scope.symbols
            scope = scope.parent


@dataclass
class CheckedPackage:
    """The checked package: modules, scopes, and what every name and expression is."""

    modules: list[n.Module]
    package_scope: Scope
    program_scopes: dict[str, Scope]
    requirements: dict[str, n.Requirement]
    citations: dict[str, list[Span]]
    expr_types: dict[int, Type] = field(default_factory=dict)
    resolved: dict[int, Symbol] = field(default_factory=dict)
    ref_types: dict[int, Type] = field(default_factory=dict)  # id(TypeRef) -> the type it names


@dataclass(frozen=True)
class Writer:
    """A construct that sets an output or var: who, where, and with which priority."""

    description: str
    span: Span
    priority: int | None


@dataclass
class Context:
    """Where an expression or statement stands."""

    scope: Scope
    program: n.Program | None
    machine: n.Machine | None = None
    constant: str | None = None  # when set, the expression must be constant; the text names it
    fixed: bool = False  # with `constant`: fixed when the rules are compiled, so no parameter either

    def requiring_constant(self, what: str) -> Context:
        """The same place, for an expression that must be known before the first scan."""
        return Context(self.scope, self.program, constant=what)


@dataclass(frozen=True)
class SiteValue:
    """A site file's value of a parameter, for checking the rules with it: the value and where it is set."""

    value: Const
    span: Span
    name: str  # `Program.parameter`, as the site file's table and key name it


# (program, parameter) -> the site's value
SiteValues = Mapping[tuple[str, str], SiteValue]


def evaluate_in_scope(
    expr: n.Expr,
    scope: Scope,
    is_member: Callable[[str], bool],
    kinds: tuple[str, ...],
    site: Callable[[Symbol], Const | None] | None = None,
) -> Const | None:
    """A constant expression's value, reading the declarations of `kinds` (const, parameter) in scope.

    A name no declaration has is an enumeration member when `is_member` says so; a constant
    defined through itself has no value. `site` gives a parameter's value where a site file
    sets it (None: the default).
    """
    stack: list[n.Expr] = []

    def resolve(name: str) -> Const | None:
        if "." in name:
            owner, member = name.split(".", 1)
            symbol = scope.lookup(owner)
            if symbol is not None and symbol.kind == "enum":
                return Const(member)
            return None
        symbol = scope.lookup(name)
        if symbol is None:
            return Const(name) if is_member(name) else None
        if site is not None and symbol.kind == "parameter" and symbol.kind in kinds:
            value = site(symbol)
            if value is not None:
                return value
        decl = symbol.node
        if symbol.kind in kinds and isinstance(decl, n.Declaration) and decl.initial is not None:
            if any(decl.initial is e for e in stack):
                return None  # a constant defined through itself
            stack.append(decl.initial)
            try:
                return consteval.evaluate(decl.initial, resolve)
            finally:
                stack.pop()
        return None

    return consteval.evaluate(expr, resolve)


# ---------------------------------------------------------------------------- module helpers
EPS = 1e-9

_LOOK_ALIKE = str.maketrans({"0": "o", "O": "o", "1": "l", "I": "l"})


def confusable_skeleton(name: str) -> str:
    """What a name looks like to a reader, or to a PLC that ignores case: `Stage_1` ~ `stage_l`.

    `_` is kept: `system_mode` and `SystemMode` (a value named after its type) are told apart
    by every target, and by a reader."""
    return name.translate(_LOOK_ALIKE).casefold()


# The checks of values: what a site file's values can break.
VALUE_CODES = frozenset(
    {
        "out-of-range",
        "empty-range",
        "hysteresis-order",
        "table-gap",
        "table-overlap",
        "curve-order",
        "curve-discontinuous",
        "curve-not-monotonic",
        "division-by-zero",
        "constraint",
    }
)


def _at_site(diagnostic: Diagnostic, reads: list[SiteValue]) -> Diagnostic:
    """A problem the site's values cause, reported at the first value's line in the site file."""
    first, *others = reads
    notes = (
        Note(f"with the site's `{first.name}` = {first.value.show()}, in the rules here", diagnostic.span),
        *(Note(f"the site sets `{read.name}` = {read.value.show()} here", read.span) for read in others),
        *diagnostic.notes,
    )
    return dataclasses.replace(diagnostic, span=first.span, notes=notes)


class PendingType(ErrorType):
    """The type of an untyped constant before its value is checked; behaves as an error."""


PENDING = PendingType()


INF = float("inf")


@dataclass(frozen=True)
class Interval:
    low: float
    low_closed: bool
    high: float
    high_closed: bool

    def contains(self, x: float) -> bool:
        above = x > self.low or (self.low_closed and x == self.low)
        below = x < self.high or (self.high_closed and x == self.high)
        return above and below


CLAUSE_HINTS = {
    (
        "input",
        "=",
    ): "an input gets its value from the plant each scan; use `fallback <value>` for a faulted sensor",
    ("output", "fallback"): "outputs take their value from rules; `fallback` is the value of a faulted input",
}


NOT_ASSIGNABLE_HINTS = {
    "input": "inputs come from sensors; assign to an output or a var",
    "parameter": "parameters are site settings, fixed while running; assign to a var",
    "const": "constants never change; declare a var to hold a changing value",
    "key": "a table's or curve's key is its argument",
}


CALL_EXAMPLES = {
    "abs": "abs(supply_temp - target)",
    "clamp": "clamp(load, 0 %, 100 %)",
    "min": "min(a, b)",
    "max": "max(a, b)",
}


def names_in(expr: n.Expr) -> list[str]:
    """Every plain name an expression reads."""
    return [node.name for node in n.names_read(expr)]


def functions_first(item: n.Item) -> int:
    """Sort key that checks tables and curves before the items that call them (a stable sort)."""
    return 0 if isinstance(item, (n.Table, n.Curve)) else 1


def zero_adopts(expr: n.Expr | None, type_: Type, other: Type) -> Type:
    """A bare `0` beside a quantity (not an absolute temperature) is zero in that quantity's unit."""
    if (
        expr is not None
        and is_bare_number(expr)
        and bare_value(expr) == 0
        and isinstance(other, QuantityType)
        and not other.unit.absolute
    ):
        return other
    return type_


def const_numbers(*values: Const | None) -> tuple[float, ...] | None:
    """The numeric values of constants, or None when any is unknown or not a number."""
    numbers = [v.number if v is not None else None for v in values]
    if any(x is None for x in numbers):
        return None
    return tuple(x for x in numbers if x is not None)


def same_type(a: Type, b: Type, loose: bool = False) -> bool:
    if isinstance(a, ErrorType) or isinstance(b, ErrorType):
        return True
    if is_numeric(a) and is_numeric(b):
        ua, ub = unit_of(a), unit_of(b)
        if loose:
            return ua.dimension == ub.dimension and ua.absolute == ub.absolute
        return ua == ub or (isinstance(a, IntType) and isinstance(b, IntType))
    return a == b


def is_integer_literal(expr: n.Expr) -> bool:
    return isinstance(expr, n.Number) and expr.is_integer


def is_bare_number(expr: n.Expr) -> bool:
    while isinstance(expr, n.Paren):
        expr = expr.inner
    return isinstance(expr, n.Number)


def bare_value(expr: n.Expr) -> float:
    while isinstance(expr, n.Paren):
        expr = expr.inner
    return expr.value if isinstance(expr, n.Number) else float("nan")


def bare_text(expr: n.Expr) -> str:
    while isinstance(expr, n.Paren):
        expr = expr.inner
    return expr.text if isinstance(expr, n.Number) else "?"


def show_expr(expr: n.Expr | None) -> str:
    if isinstance(expr, (n.Number, n.Quantity)):
        return expr.text
    return "?"


def unit_words(unit: units.Unit) -> str:
    if unit == units.NUMBER:
        return "a plain number"
    return unit.describe() if unit.symbol == "" else f"{unit.describe()} ({unit.symbol})"


def with_article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeio" else f"a {word}"


def describe_dimension(dimension: units.Dimension) -> str:
    for symbol in ("h", "kWh", "J"):
        unit = units.lookup(symbol)
        if unit is not None and unit.dimension == dimension:
            return unit.describe()
    return "another quantity"


def day_index(text: str) -> int | None:
    day = DAY_ALIASES.get(text.lower()[:3]) if text.lower() in (*DAYS, *DAY_ALIASES) else None
    return DAYS.index(day) if day else None


def row_number(table: n.Table, row: n.TableRow) -> int:
    for index, candidate in enumerate(table.rows, start=1):
        if candidate is row:
            return index
    return 0


# Misspelt names that get a "did you mean" hint in one check; the rest get the error alone.
MAX_SUGGESTIONS = 200


class CheckerBase:
    """The state of one check, shared by its passes, and the methods each pass may call in another."""

    def __init__(self, modules: list[n.Module], site: SiteValues | None = None) -> None:
        self.modules = modules
        # With a site file: its values stand for the parameters' defaults in every check of
        # values, and a problem they cause is reported at the site file's line (`relocated`).
        self.site = site
        self.site_reads: list[SiteValue] = []  # the site values the current item's checks read
        self.relocated: list[Diagnostic] = []  # the problems of values found with site values
        self.diagnostics: list[Diagnostic] = []
        self.package_scope = Scope()
        self.program_scopes: dict[str, Scope] = {}
        self.program_contexts: dict[int, Context] = {}
        self.requirements: dict[str, n.Requirement] = {}
        self.citations: dict[str, list[Span]] = {}
        self.enum_members: dict[str, list[EnumType]] = {}
        self.used: set[int] = set()  # id() of symbols read somewhere
        self.expr_types: dict[int, Type] = {}
        self.resolved: dict[int, Symbol] = {}
        self.ref_types: dict[int, Type] = {}
        self.pending_consts: dict[int, Context] = {}  # id(declaration) -> where it stands
        # "Did you mean" hints left to compute: each compares a name with every name in scope,
        # so a file of thousands of misspellings would make checking quadratic.
        self.suggestions_left = MAX_SUGGESTIONS
        # `x * 1 h` and `x / 1 K` seen, and those a comparison explained as power-vs-energy
        self.unit_patches: list[tuple[n.Binary, n.Quantity]] = []
        self.explained_patches: set[int] = set()
        self.package = CheckedPackage(
            modules,
            self.package_scope,
            self.program_scopes,
            self.requirements,
            self.citations,
            self.expr_types,
            self.resolved,
            self.ref_types,
        )

    def _report(self, diagnostic: Diagnostic) -> None:
        if self.site_reads and diagnostic.code in VALUE_CODES:
            diagnostic = _at_site(diagnostic, self.site_reads)
            self.relocated.append(diagnostic)
        self.diagnostics.append(diagnostic)

    def _site_value(self, symbol: Symbol) -> Const | None:
        """The site's value of a parameter, noted as read by the item being checked."""
        assert self.site is not None
        found = self.site.get((symbol.program or "", symbol.name))
        if found is None:
            return None
        if found not in self.site_reads:
            self.site_reads.append(found)
        return found.value

    def _declare_requirement(self, item: n.Requirement) -> None:
        raise NotImplementedError  # defined in a mixin

    def _declare_enum(self, item: n.EnumDecl) -> None:
        raise NotImplementedError  # defined in a mixin

    def _declare_package_item(self, item: n.Item) -> None:
        raise NotImplementedError  # defined in a mixin

    def _unique(self, entries: Iterable[tuple[n.Ident, ItemT]], hint: str) -> dict[str, ItemT]:
        raise NotImplementedError  # defined in a mixin

    def _resolve_type(self, ref: n.TypeRef | None, scope: Scope | None = None) -> Type:
        raise NotImplementedError  # defined in a mixin

    def _check_constant_cycles(self, scope: Scope) -> None:
        raise NotImplementedError  # defined in a mixin

    def _infer_const(self, symbol: Symbol) -> Type:
        raise NotImplementedError  # defined in a mixin

    def _check_program(self, program: n.Program) -> None:
        raise NotImplementedError  # defined in a mixin

    def _declare_program_item(self, item: n.Item, ctx: Context) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_declaration(self, decl: n.Declaration, ctx: Context) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_range(
        self, range_: n.RangeClause, type_: Type, ctx: Context, name: str
    ) -> tuple[Const | None, Const | None]:
        raise NotImplementedError  # defined in a mixin

    def _check_rule(self, rule: n.Rule, ctx: Context, writers: dict[str, list[Writer]]) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_in_range(
        self, value: n.Expr, what: str, name: str, low: Const | None, high: Const | None, ctx: Context
    ) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_hysteresis(self, item: n.Hysteresis, ctx: Context, writers: dict[str, list[Writer]]) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_totalizer(self, item: n.Totalizer, ctx: Context) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_counter(self, item: n.Counter, ctx: Context) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_schedule(self, item: n.Schedule) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_machine(self, item: n.Machine, ctx: Context, writers: dict[str, list[Writer]]) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_alarm(self, item: n.Alarm, ctx: Context, writers: dict[str, list[Writer]]) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_event(self, item: n.EventDecl, ctx: Context) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_curve(self, item: n.Curve, ctx: Context) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_table(self, item: n.Table, ctx: Context) -> None:
        raise NotImplementedError  # defined in a mixin

    def _check_require(self, item: n.Require, ctx: Context) -> None:
        raise NotImplementedError  # defined in a mixin

    # ================================================================== writers and usage
    def _check_writers(self, writers: dict[str, list[Writer]], scope: Scope) -> None:
        for name, entries in writers.items():
            distinct: dict[str, Writer] = {}
            for writer in entries:
                distinct.setdefault(writer.description, writer)
            constructs = list(distinct.values())
            for i, first in enumerate(constructs):
                for second in constructs[i + 1 :]:
                    if first.priority is None or second.priority is None or first.priority == second.priority:
                        self._report(
                            messages.CONFLICTING_WRITERS.at(
                                second.span,
                                name=name,
                                first=first.description,
                                second=second.description,
                                hint=(
                                    "merge them into one rule, or give each a distinct `priority N` "
                                    "(the higher number wins)"
                                ),
                                notes=(Note(f"{first.description} writes it here", first.span),),
                            )
                        )

    def _report_unused_program(
        self, program: n.Program, scope: Scope, writers: dict[str, list[Writer]]
    ) -> None:
        for symbol in scope.symbols.values():
            if symbol.kind == "output" and symbol.name not in writers:
                decl = symbol.node
                if isinstance(decl, n.Declaration) and decl.wiring is None:
                    self._report(
                        messages.OUTPUT_NOT_WRITTEN.at(
                            symbol.span,
                            name=symbol.name,
                            hint="set it in a rule, state or alarm action, or remove it",
                        )
                    )
            elif (
                symbol.kind in ("input", "parameter", "const", "var", "schedule", "curve", "table", "event")
                and id(symbol) not in self.used
            ):
                self._report(
                    messages.UNUSED.at(
                        symbol.span, kind=symbol.kind, name=symbol.name, hint="remove it, or use it in a rule"
                    )
                )

    def _cite(self, meta: n.Meta) -> None:
        for ident in meta.cites:
            self.citations.setdefault(ident.text, []).append(ident.span)
            if ident.text not in self.requirements:
                self._report(
                    messages.UNKNOWN_REQUIREMENT.at(
                        ident.span,
                        name=ident.text,
                        hint=messages.did_you_mean(ident.text, list(self.requirements))
                        or 'declare it with `requirement <ID> "summary"`',
                    )
                )

    def _expr(self, expr: n.Expr, ctx: Context, expected: Type | None = None) -> Type:
        raise NotImplementedError  # defined in a mixin

    def _unary(self, expr: n.Unary, ctx: Context) -> Type:
        raise NotImplementedError  # defined in a mixin

    def _binary(self, expr: n.Binary, ctx: Context) -> Type:
        raise NotImplementedError  # defined in a mixin

    def _compare(self, expr: n.Compare, ctx: Context) -> Type:
        raise NotImplementedError  # defined in a mixin

    def _comparable(
        self, left: Type, right: Type, left_expr: n.Expr | None, right_expr: n.Expr, context: str
    ) -> bool:
        raise NotImplementedError  # defined in a mixin

    def _assignable(self, target: Type, value: Type, value_expr: n.Expr, context: str) -> bool:
        raise NotImplementedError  # defined in a mixin

    def _expect_bool(self, expr: n.Expr, ctx: Context, context: str) -> None:
        raise NotImplementedError  # defined in a mixin

    def _expect_duration(self, expr: n.Expr, ctx: Context, context: str) -> None:
        raise NotImplementedError  # defined in a mixin

    def _lookup_symbol(self, name: str, span: Span, ctx: Context) -> Symbol | None:
        raise NotImplementedError  # defined in a mixin

    def _undefined(self, name: str, span: Span, candidates: Iterable[str]) -> None:
        raise NotImplementedError  # defined in a mixin

    def _const(self, expr: n.Expr, ctx: Context) -> Const | None:
        raise NotImplementedError  # defined in a mixin

    def _literal_sanity(self, expr: n.Number | n.Quantity) -> None:
        raise NotImplementedError  # defined in a mixin

    def _note_unit_patch(self, expr: n.Binary) -> None:
        raise NotImplementedError  # defined in a mixin

    def _power_vs_energy(self, expr: n.Compare) -> None:
        raise NotImplementedError  # defined in a mixin

    def _report_unit_patches(self) -> None:
        raise NotImplementedError  # defined in a mixin
