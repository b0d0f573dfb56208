"""The checker: names, types, units and the semantic rules of a whole rules package.

It never raises on bad rules and never stops at the first problem: every check appends
diagnostics and carries on, and a node that fails gets the `ERROR` type so that one
mistake is reported once. The result is a `CheckedPackage` (the modules, their symbols
and the type of every expression) together with the diagnostics.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from hpdsl import consteval, messages, units
from hpdsl import nodes as n
from hpdsl.consteval import Const
from hpdsl.diagnostics import Diagnostic, Note
from hpdsl.parser import parse_source
from hpdsl.source import SourceFile, Span
from hpdsl.types import (
    BOOL,
    BUILTIN_TYPES,
    DURATION,
    ERROR,
    INT,
    REAL,
    BoolType,
    EnumType,
    ErrorType,
    IntType,
    QuantityType,
    RowType,
    Type,
    is_numeric,
    unit_of,
)
from hpdsl.units import UnitError

_T = TypeVar("_T")

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
    # state name -> the state enumerations of this scope's machines that have that state
    machine_states: dict[str, list[EnumType]] = field(default_factory=dict)

    def states_named(self, name: str) -> list[EnumType]:
        found: list[EnumType] = []
        scope: Scope | None = self
        while scope is not None:
            found.extend(scope.machine_states.get(name, ()))
            scope = scope.parent
        return found

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
class _Context:
    """Where an expression or statement stands."""

    scope: Scope
    program: n.Program | None
    machine: n.Machine | None = None
    constant: str | None = None  # when set, the expression must be constant; the text names it

    def requiring_constant(self, what: str) -> _Context:
        """The same place, for an expression that must be known before the first scan."""
        return _Context(self.scope, self.program, constant=what)


def check_sources(sources: list[SourceFile]) -> list[Diagnostic]:
    """Parse and check files as one package; return every diagnostic."""
    _, diagnostics = check_package(sources)
    return diagnostics


def check_package(sources: list[SourceFile]) -> tuple[CheckedPackage | None, list[Diagnostic]]:
    """Parse and check files as one package: (checked package or None, diagnostics)."""
    # The tree and the symbol tables hold no reference cycles, so the cyclic collector has
    # nothing to find; left on, its full passes over the growing heap make checking cost
    # grow faster than the size of the package (measured in benchmarks/bench_check.py).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _check_package(sources)
    finally:
        if was_enabled:
            gc.enable()


def _check_package(sources: list[SourceFile]) -> tuple[CheckedPackage | None, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    modules: list[n.Module] = []
    for source in sources:
        result = parse_source(source)
        diagnostics.extend(result.diagnostics)
        if result.module is None:
            continue
        if not result.module.items:
            diagnostics.append(
                messages.EMPTY_FILE.at(
                    Span.point(source.name, 1, 1),
                    hint="declare a program, an enumeration or a constant, or delete the file",
                )
            )
        modules.append(result.module)
    if len(modules) < len(sources):
        # A file that did not parse may declare names the others use; checking now would
        # bury its syntax error under undefined-name errors.
        return None, diagnostics
    checker = Checker(modules)
    checker.run()
    diagnostics.extend(checker.diagnostics)
    return checker.package, diagnostics


class Checker:
    """Checks a list of parsed modules as one package."""

    def __init__(self, modules: list[n.Module]) -> None:
        self.modules = modules
        self.diagnostics: list[Diagnostic] = []
        self.package_scope = Scope()
        self.program_scopes: dict[str, Scope] = {}
        self.program_contexts: dict[int, _Context] = {}
        self.requirements: dict[str, n.Requirement] = {}
        self.citations: dict[str, list[Span]] = {}
        self.enum_members: dict[str, list[EnumType]] = {}
        self.used: set[int] = set()  # id() of symbols read somewhere
        self.expr_types: dict[int, Type] = {}
        self.resolved: dict[int, Symbol] = {}
        self.ref_types: dict[int, Type] = {}
        self.pending_consts: dict[int, _Context] = {}  # id(declaration) -> where it stands
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

    # ================================================================== driver
    def run(self) -> None:
        items = [item for module in self.modules for item in module.items]
        for item in items:
            if isinstance(item, n.Requirement):
                self._declare_requirement(item)
        for item in items:
            if isinstance(item, n.EnumDecl):
                self._declare_enum(item)
        for item in items:
            if not isinstance(item, (n.Requirement, n.EnumDecl)):
                self._declare_package_item(item)
        # Every program's names exist before any program is checked, so an input wired
        # `from` another program finds its output whatever the order of files and programs.
        for item in items:
            if isinstance(item, n.Program):
                ctx = self.program_contexts[id(item)]
                for member in item.items:
                    self._declare_program_item(member, ctx)
        for scope in (self.package_scope, *(c.scope for c in self.program_contexts.values())):
            self._check_constant_cycles(scope)
        package_context = _Context(self.package_scope, None)
        # Tables and curves first: a call anywhere needs the table's row type.
        for item in sorted(items, key=_functions_first):
            self._cite(item.meta)
            if isinstance(item, n.Declaration):
                self._check_declaration(item, package_context)
            elif isinstance(item, n.Curve):
                self._check_curve(item, package_context)
            elif isinstance(item, n.Table):
                self._check_table(item, package_context)
            elif isinstance(item, n.Program):
                self._check_program(item)
        self._report_unused_package()
        self._report_requirements()

    def _report(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    # ================================================================== declaring names
    def _declare(self, scope: Scope, symbol: Symbol) -> None:
        existing = scope.symbols.get(symbol.name)
        if existing is not None:
            self._report(
                messages.DUPLICATE_NAME.at(
                    symbol.span,
                    name=symbol.name,
                    hint="rename one of them",
                    notes=(Note(f"`{symbol.name}` was first defined here ({existing.kind})", existing.span),),
                )
            )
            return
        scope.symbols[symbol.name] = symbol

    def _declare_requirement(self, item: n.Requirement) -> None:
        first = self.requirements.get(item.name.text)
        if first is not None:
            self._report(
                messages.DUPLICATE_NAME.at(
                    item.name.span,
                    name=item.name.text,
                    hint="each requirement ID is declared once",
                    notes=(Note("first declared here", first.name.span),),
                )
            )
            return
        self.requirements[item.name.text] = item

    def _declare_enum(self, item: n.EnumDecl) -> None:
        enum = EnumType(item.name.text, tuple(m.text for m in item.members))
        self._declare(self.package_scope, Symbol("enum", item.name.text, item.name.span, enum, item))
        members = self._unique(((m, m) for m in item.members), "each member of an enumeration is listed once")
        for member in members.values():
            self.enum_members.setdefault(member.text, []).append(enum)

    def _declare_package_item(self, item: n.Item) -> None:
        scope = self.package_scope
        if isinstance(item, n.Declaration):
            if item.kind != "const":
                self._report(
                    messages.INVALID_CLAUSE.at(
                        item.span.to(item.name.span),
                        problem=f"`{item.kind}` must be declared inside a program",
                        hint="only `const` can stand at package level, shared by every program",
                    )
                )
                return
            type_ = self._declared_type(item, _Context(scope, None))
            self._declare(scope, Symbol("const", item.name.text, item.name.span, type_, item))
        elif isinstance(item, n.Curve):
            self._declare(
                scope, Symbol("curve", item.name.text, item.name.span, self._resolve_type(item.result), item)
            )
        elif isinstance(item, n.Table):
            self._declare(scope, Symbol("table", item.name.text, item.name.span, ERROR, item))
        elif isinstance(item, n.Program):
            self._declare(scope, Symbol("program", item.name.text, item.name.span, ERROR, item))
            program_scope = Scope(parent=scope)
            self.program_contexts[id(item)] = _Context(program_scope, item)
            if scope.symbols[item.name.text].node is item:  # a duplicate is checked on its own
                self.program_scopes[item.name.text] = program_scope

    def _unique(self, entries: Iterable[tuple[n.Ident, _T]], hint: str) -> dict[str, _T]:
        """The entries by name, first occurrence kept; every repeated name is reported."""
        first: dict[str, tuple[n.Ident, _T]] = {}
        for ident, entry in entries:
            if ident.text in first:
                self._report(
                    messages.DUPLICATE_NAME.at(
                        ident.span,
                        name=ident.text,
                        hint=hint,
                        notes=(Note("first defined here", first[ident.text][0].span),),
                    )
                )
                continue
            first[ident.text] = (ident, entry)
        return {name: entry for name, (_, entry) in first.items()}

    # ================================================================== types
    def _resolve_type(self, ref: n.TypeRef | None, scope: Scope | None = None) -> Type:
        """The type a type reference names; each reference is resolved (and reported) once."""
        if ref is None:
            return ERROR
        known = self.ref_types.get(id(ref))
        if known is None:
            known = self.ref_types[id(ref)] = self._resolve_type_uncached(ref, scope)
        return known

    def _resolve_type_uncached(self, ref: n.TypeRef, scope: Scope | None) -> Type:
        builtin = BUILTIN_TYPES.get(ref.text)
        if builtin is not None:
            return builtin
        symbol = (scope or self.package_scope).lookup(ref.text)
        if symbol is not None and symbol.kind == "enum":
            self.used.add(id(symbol))
            return symbol.type
        unit = units.lookup(ref.text)
        if unit is not None:
            return QuantityType(unit)
        # A close unit spelling (`kw`, `Bar`) or a compound is a unit typo; anything else is
        # a type name that is not declared, such as an enumeration nobody wrote.
        unit_suggestions = units.suggest(ref.text)
        if unit_suggestions or "/" in ref.text or "*" in ref.text:
            hint = (
                f"did you mean `{unit_suggestions[0]}`?"
                if unit_suggestions
                else "see the list of units in docs/language.md"
            )
            self._report(messages.UNKNOWN_UNIT.at(ref.span, unit=ref.text, hint=hint))
        else:
            enums = [name for name, s in self.package_scope.symbols.items() if s.kind == "enum"]
            hint = messages.did_you_mean(ref.text, [*BUILTIN_TYPES, *enums]) or (
                "types are bool, int, real, duration, an enumeration, or a unit such as C, K, kW, bar, %"
            )
            self._report(messages.UNKNOWN_TYPE.at(ref.span, name=ref.text, hint=hint))
        return ERROR

    def _declared_type(self, decl: n.Declaration, ctx: _Context) -> Type:
        if decl.type is not None:
            return self._resolve_type(decl.type, ctx.scope)
        if decl.kind == "const" and decl.initial is not None:
            # `const nominal_cop = 3.5`: the type follows from the value, inferred when first
            # needed, so the value may use names declared after it.
            self.pending_consts[id(decl)] = ctx
            return _PENDING
        self._report(
            messages.INVALID_CLAUSE.at(
                decl.name.span,
                problem=f"{decl.kind} `{decl.name.text}` has no type",
                hint=f"write `{decl.kind} {decl.name.text}: <type>`, e.g. `: C`, `: kW`, `: bool`",
            )
        )
        return ERROR

    def _check_constant_cycles(self, scope: Scope) -> None:
        """Report constants and parameter defaults whose values depend on themselves."""
        values = {
            name: symbol.node.initial
            for name, symbol in scope.symbols.items()
            if symbol.kind in ("const", "parameter")
            and isinstance(symbol.node, n.Declaration)
            and symbol.node.initial is not None
        }

        def depends_on(name: str) -> list[str]:
            # A name found in this table is this scope's own symbol: it shadows any outer one.
            return [ref for ref in _names_in(values[name]) if ref in values]

        state: dict[str, int] = {}  # 1: on the current path, 2: finished
        for start in values:
            if state.get(start):
                continue
            path = [(start, iter(depends_on(start)))]
            state[start] = 1
            while path:
                name, pending = path[-1]
                nxt = next(pending, None)
                if nxt is None:
                    state[name] = 2
                    path.pop()
                elif state.get(nxt) == 1:
                    cycle = [p for p, _ in path][[p for p, _ in path].index(nxt) :]
                    first = values[cycle[0]]
                    self._report(
                        messages.CIRCULAR_CONSTANT.at(
                            first.span,
                            name=cycle[0],
                            hint="the values go round: "
                            + " -> ".join([*cycle, cycle[0]])
                            + "; give one of them a literal value",
                        )
                    )
                    for member in cycle:
                        state[member] = 2
                    path = []
                elif not state.get(nxt):
                    state[nxt] = 1
                    path.append((nxt, iter(depends_on(nxt))))

    def _infer_const(self, symbol: Symbol) -> Type:
        """The type of an untyped constant, from its value; checks that value exactly once."""
        decl = symbol.node
        ctx = self.pending_consts.pop(id(decl), None)
        if ctx is None or not isinstance(decl, n.Declaration) or decl.initial is None:
            return symbol.type
        symbol.type = ERROR  # a constant defined through itself stays an error, reported once
        inferred = self._expr(decl.initial, ctx.requiring_constant(f"the value of const `{symbol.name}`"))
        if isinstance(inferred, IntType) and not _is_integer_literal(decl.initial):
            inferred = REAL
        symbol.type = inferred
        return inferred

    # ================================================================== programs
    def _check_program(self, program: n.Program) -> None:
        ctx = self.program_contexts[id(program)]
        scope = ctx.scope
        writers: dict[str, list[Writer]] = {}
        for item in sorted(program.items, key=_functions_first):
            self._cite(item.meta)
            self._check_program_item(item, ctx, writers)
        self._check_writers(writers, scope)
        self._report_unused_program(program, scope, writers)

    def _declare_program_item(self, item: n.Item, ctx: _Context) -> None:
        scope = ctx.scope
        name = ctx.program.name.text if ctx.program else None
        kind: str
        type_: Type
        if isinstance(item, n.Declaration):
            kind, type_ = item.kind, self._declared_type(item, ctx)
        elif isinstance(item, n.Machine):
            kind, type_ = "machine", EnumType(item.name.text, tuple(s.name.text for s in item.states))
            for state_name in dict.fromkeys(type_.members):
                scope.machine_states.setdefault(state_name, []).append(type_)
        elif isinstance(item, n.Alarm):
            kind, type_ = "alarm", BOOL
        elif isinstance(item, n.Totalizer):
            kind, type_ = "totalizer", self._resolve_type(item.type, scope)
        elif isinstance(item, n.Counter):
            kind, type_ = "counter", INT
        elif isinstance(item, n.Schedule):
            kind, type_ = "schedule", BOOL
        elif isinstance(item, n.EventDecl):
            kind, type_ = "event", ERROR
        elif isinstance(item, n.Curve):
            kind, type_ = "curve", self._resolve_type(item.result, scope)
        elif isinstance(item, n.Table):
            kind, type_ = "table", ERROR
        elif isinstance(item, n.Rule):
            kind, type_ = "rule", ERROR
        else:
            return  # a hysteresis drives a name declared elsewhere; it declares none
        self._declare(scope, Symbol(kind, item.name.text, item.name.span, type_, item, name))

    def _check_program_item(self, item: n.Item, ctx: _Context, writers: dict[str, list[Writer]]) -> None:
        if isinstance(item, n.Declaration):
            self._check_declaration(item, ctx)
        elif isinstance(item, n.Rule):
            self._check_rule(item, ctx, writers)
        elif isinstance(item, n.Hysteresis):
            self._check_hysteresis(item, ctx, writers)
        elif isinstance(item, n.Totalizer):
            self._check_totalizer(item, ctx)
        elif isinstance(item, n.Counter):
            self._check_counter(item, ctx)
        elif isinstance(item, n.Schedule):
            self._check_schedule(item)
        elif isinstance(item, n.Machine):
            self._check_machine(item, ctx, writers)
        elif isinstance(item, n.Alarm):
            self._check_alarm(item, ctx, writers)
        elif isinstance(item, n.EventDecl):
            self._check_event(item, ctx)
        elif isinstance(item, n.Curve):
            self._check_curve(item, ctx)
        elif isinstance(item, n.Table):
            self._check_table(item, ctx)

    # ================================================================== declarations
    def _check_declaration(self, decl: n.Declaration, ctx: _Context) -> None:
        symbol = ctx.scope.symbols.get(decl.name.text)
        if symbol is not None and symbol.node is decl:
            type_ = self._infer_const(symbol) if symbol.type is _PENDING else symbol.type
        else:  # a duplicate name: reported already; check the declaration on its own
            type_ = self._declared_type(decl, ctx)
            if type_ is _PENDING:
                self.pending_consts.pop(id(decl), None)
                type_ = ERROR
        inferred = decl.type is None and decl.kind == "const"  # its value was checked while inferring
        kind = decl.kind
        what = f"{kind} `{decl.name.text}`"

        def refuse(clause: str, span: Span, why: str) -> None:
            self._report(
                messages.INVALID_CLAUSE.at(
                    span, problem=f"{what}: `{clause}` {why}", hint=_CLAUSE_HINTS.get((kind, clause))
                )
            )

        if decl.initial is not None and kind == "input":
            refuse("=", decl.initial.span, "is not allowed on an input")
        if decl.initial is None and kind in ("parameter", "const"):
            self._report(
                messages.INVALID_CLAUSE.at(
                    decl.name.span,
                    problem=f"{what} needs a value",
                    hint=f"write `{kind} {decl.name.text}: ... = <value>`",
                )
            )
        if decl.fallback is not None and kind != "input":
            refuse("fallback", decl.fallback.span, "belongs on inputs only")
        if decl.wiring is not None and kind != "input":
            refuse("from", decl.wiring.span, "belongs on inputs only")
        for clause, expr in (("min_on", decl.min_on), ("min_off", decl.min_off)):
            if expr is None:
                continue
            if kind != "output" or not isinstance(type_, (BoolType, ErrorType)):
                refuse(clause, expr.span, "belongs on boolean outputs only")
            else:
                self._expect_duration(expr, ctx.requiring_constant(f"`{clause}`"), f"`{clause}`")
        if decl.range is not None and kind == "const":
            refuse("range", decl.range.span, "is not needed on a constant")

        low = high = None
        if decl.range is not None:
            if not is_numeric(type_) and not isinstance(type_, ErrorType):
                refuse("range", decl.range.span, f"needs a numeric type, not {type_.describe()}")
            else:
                low, high = self._check_range(decl.range, type_, ctx, decl.name.text)

        constant_ctx = ctx.requiring_constant(f"the value of {what}")
        for label, expr in (("value", decl.initial), ("fallback", decl.fallback)):
            if expr is None:
                continue
            if not (label == "value" and inferred):
                value_type = self._expr(expr, constant_ctx, expected=type_)
                if not self._assignable(type_, value_type, expr, f"{label} of {what}"):
                    continue
            what_value = "default" if label == "value" else "fallback"
            self._check_in_range(expr, what_value, decl.name.text, low, high, ctx)
        if decl.wiring is not None:
            self._check_wiring(decl, type_, ctx)

    def _check_range(
        self, range_: n.RangeClause, type_: Type, ctx: _Context, name: str
    ) -> tuple[Const | None, Const | None]:
        constant_ctx = ctx.requiring_constant(f"the range of `{name}`")
        bounds: list[Const | None] = []
        for bound in (range_.low, range_.high):
            bound_type = self._expr(bound, constant_ctx, expected=type_)
            self._assignable(type_, bound_type, bound, f"range of `{name}`")
            bounds.append(self._const(bound, ctx))
        low, high = bounds
        known = _numbers(low, high)
        if low is not None and high is not None and known is not None and known[0] > known[1]:
            self._report(
                messages.EMPTY_RANGE.at(
                    range_.span, low=low.show(), high=high.show(), hint="swap the two ends"
                )
            )
            return None, None
        return low, high

    def _check_wiring(self, decl: n.Declaration, type_: Type, ctx: _Context) -> None:
        wiring = decl.wiring
        assert wiring is not None
        program = self.package_scope.symbols.get(wiring.program.text)
        if program is not None and program.kind != "program":
            self._report(
                messages.WIRING.at(
                    wiring.program.span,
                    problem=f"`{wiring.program.text}` is {_a(program.kind)}, not a program",
                    hint="wire an input `from <Program>.<output>`",
                )
            )
            return
        if program is None:
            self._undefined(
                wiring.program.text,
                wiring.program.span,
                [s.name for s in self.package_scope.symbols.values() if s.kind == "program"],
            )
            return
        self.used.add(id(program))
        if ctx.program is not None and wiring.program.text == ctx.program.name.text:
            self._report(
                messages.WIRING.at(
                    wiring.span,
                    problem=f"input `{decl.name.text}` is wired from its own program",
                    hint="use the output directly, or a `var`",
                )
            )
            return
        scope = self.program_scopes.get(wiring.program.text)
        source = scope.symbols.get(wiring.output.text) if scope else None
        if source is None or source.kind not in ("output", "totalizer", "counter", "alarm"):
            outputs = [s.name for s in (scope.symbols.values() if scope else []) if s.kind == "output"]
            self._report(
                messages.WIRING.at(
                    wiring.output.span,
                    problem=f"program `{wiring.program.text}` has no output `{wiring.output.text}`",
                    hint=messages.did_you_mean(wiring.output.text, outputs),
                )
            )
            return
        if not _same_type(type_, source.type):
            self._report(
                messages.WIRING.at(
                    wiring.span,
                    problem=(
                        f"input `{decl.name.text}` is {type_.describe()} but "
                        f"`{wiring.program.text}.{wiring.output.text}` is {source.type.describe()}"
                    ),
                    hint="declare the input with the same type and unit as the output",
                )
            )

    # ================================================================== rules and statements
    def _check_rule(self, rule: n.Rule, ctx: _Context, writers: dict[str, list[Writer]]) -> None:
        for target in self._statements(rule.body, ctx):
            writers.setdefault(target.text, []).append(
                Writer(f"rule `{rule.name.text}`", target.span, rule.meta.priority)
            )

    def _statements(self, body: Iterable[n.Stmt], ctx: _Context) -> list[n.Ident]:
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
                            hint=_NOT_ASSIGNABLE_HINTS.get(symbol.kind, "assign to an output or a var"),
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

    def _check_constant_in_range(self, symbol: Symbol, value: n.Expr, ctx: _Context) -> None:
        decl = symbol.node
        if isinstance(decl, n.Declaration) and decl.range is not None:
            low, high = self._const(decl.range.low, ctx), self._const(decl.range.high, ctx)
            self._check_in_range(value, "value", symbol.name, low, high, ctx)

    def _check_in_range(
        self, value: n.Expr, what: str, name: str, low: Const | None, high: Const | None, ctx: _Context
    ) -> None:
        """Report a constant value outside the declared range of `name`."""
        assigned = self._const(value, ctx)
        known = _numbers(assigned, low, high)
        if assigned is None or low is None or high is None or known is None:
            return
        x, lo, hi = known
        if not lo - _EPS <= x <= hi + _EPS:
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

    def _check_log(self, stmt: n.Log, ctx: _Context) -> None:
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
    def _check_hysteresis(self, item: n.Hysteresis, ctx: _Context, writers: dict[str, list[Writer]]) -> None:
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
            writers.setdefault(target.name, []).append(
                Writer(f"hysteresis `{item.name.text}`", item.name.span, item.meta.priority)
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
            known = _numbers(low, high)
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

    def _check_totalizer(self, item: n.Totalizer, ctx: _Context) -> None:
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
                    right=_describe_dimension(expected_dimension),
                    hint="a runtime is counted in h or min; an integrated power in kWh",
                )
            )

    def _check_counter(self, item: n.Counter, ctx: _Context) -> None:
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
                    if day is not None and _day_index(day.text) is None:
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
    def _check_machine(self, item: n.Machine, ctx: _Context, writers: dict[str, list[Writer]]) -> None:
        machine_ctx = _Context(ctx.scope, ctx.program, machine=item)
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
            if not state.transitions and len(states) > 1:
                self._report(
                    messages.DEAD_END_STATE.at(
                        state.name.span,
                        name=name,
                        hint=(
                            "add `when <condition> -> <State>` or `after <duration> -> <State>`; a "
                            "lockout leaves on a reset input"
                        ),
                    )
                )

    # ================================================================== alarms and events
    def _check_alarm(self, item: n.Alarm, ctx: _Context, writers: dict[str, list[Writer]]) -> None:
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

    def _check_event(self, item: n.EventDecl, ctx: _Context) -> None:
        for field_decl in item.fields:
            self._resolve_type(field_decl.type, ctx.scope)
        self._unique(((f.name, f) for f in item.fields), "each field of an event has its own name")

    # ================================================================== tables and curves
    def _key_context(
        self, key: n.KeyParam, ctx: _Context, owner: str
    ) -> tuple[Type, _Context, Const | None, Const | None]:
        key_type = self._resolve_type(key.type, ctx.scope)
        scope = Scope(parent=ctx.scope)
        scope.symbols[key.name.text] = Symbol("key", key.name.text, key.name.span, key_type, key)
        inner = _Context(scope, ctx.program, constant=f"a row of {owner}")
        low = high = None
        if key.range is not None:
            low, high = self._check_range(key.range, key_type, ctx, key.name.text)
        return key_type, inner, low, high

    def _check_curve(self, item: n.Curve, ctx: _Context) -> None:
        name = item.name.text
        key_type, inner, _, _ = self._key_context(item.key, ctx, f"curve `{name}`")
        result_type = self._resolve_type(item.result, ctx.scope)
        for t, ref in ((key_type, item.key.type), (result_type, item.result)):
            if not is_numeric(t) and not isinstance(t, ErrorType):
                self._report(
                    messages.TYPE_MISMATCH.at(
                        ref.span,
                        context=f"curve `{name}`",
                        expected="a number or quantity",
                        found=t.describe(),
                    )
                )
                return
        if len(item.points) < 2:
            self._report(
                messages.INVALID_CLAUSE.at(
                    item.name.span,
                    problem=f"curve `{name}` needs at least two points",
                    hint="add rows `| input | output |`",
                )
            )
        points: list[tuple[n.CurvePoint, float, float, Const, Const]] = []
        for point in item.points:
            x_type = self._expr(point.x, inner, expected=key_type)
            y_type = self._expr(point.y, inner, expected=result_type)
            ok_x = self._assignable(key_type, x_type, point.x, f"input of curve `{name}`")
            ok_y = self._assignable(result_type, y_type, point.y, f"output of curve `{name}`")
            x, y = self._const(point.x, ctx), self._const(point.y, ctx)
            if (
                ok_x
                and ok_y
                and x is not None
                and y is not None
                and x.number is not None
                and y.number is not None
            ):
                points.append((point, x.number, y.number, x, y))
        for (_, x1, y1, cx1, cy1), (p2, x2, y2, cx2, cy2) in itertools.pairwise(points):
            if abs(x2 - x1) <= _EPS:
                if abs(y2 - y1) > _EPS:
                    self._report(
                        messages.CURVE_DISCONTINUOUS.at(
                            p2.span,
                            name=name,
                            x=cx2.show(),
                            y1=cy1.show(),
                            y2=cy2.show(),
                            hint="give each input value one output",
                        )
                    )
                else:
                    self._report(
                        messages.CURVE_ORDER.at(
                            p2.x.span,
                            name=name,
                            x=cx2.show(),
                            previous=cx1.show(),
                            hint="remove the repeated point",
                        )
                    )
            elif x2 < x1:
                self._report(
                    messages.CURVE_ORDER.at(
                        p2.x.span,
                        name=name,
                        x=cx2.show(),
                        previous=cx1.show(),
                        hint="list the points from the lowest input to the highest",
                    )
                )
            elif (item.monotonic == "increasing" and y2 < y1 - _EPS) or (
                item.monotonic == "decreasing" and y2 > y1 + _EPS
            ):
                self._report(
                    messages.CURVE_NOT_MONOTONIC.at(
                        p2.span,
                        name=name,
                        direction=item.monotonic,
                        y1=cy1.show(),
                        y2=cy2.show(),
                        x1=cx1.show(),
                        x2=cx2.show(),
                        hint=f"fix the point, or drop `{item.monotonic}` if the curve really turns",
                    )
                )

    def _check_table(self, item: n.Table, ctx: _Context) -> None:
        name = item.name.text
        key_type, inner, low, high = self._key_context(item.key, ctx, f"table `{name}`")
        if item.key_header.text != item.key.name.text:
            self._report(
                messages.TABLE_SHAPE.at(
                    item.key_header.span,
                    problem=(
                        f"table `{name}`: the first column is `{item.key_header.text}`, but the key "
                        f"is `{item.key.name.text}`"
                    ),
                    hint=f"name the first column `{item.key.name.text}`",
                )
            )
        self._unique(((c, c) for c in item.columns), "each column has its own name")
        column_types: list[Type | None] = [None] * len(item.columns)
        intervals: list[tuple[n.TableRow, _Interval]] = []
        for index, row in enumerate(item.rows, start=1):
            if len(row.cells) != len(item.columns):
                self._report(
                    messages.TABLE_SHAPE.at(
                        row.span,
                        problem=(
                            f"table `{name}`: row {index} has {len(row.cells)} value(s) but the "
                            f"header names {len(item.columns)} column(s)"
                        ),
                        hint="give one value per column",
                    )
                )
            interval = self._key_interval(row.key, key_type, inner, ctx, name)
            if interval is not None:
                intervals.append((row, interval))
            for column, cell in enumerate(row.cells[: len(item.columns)]):
                cell_type = self._expr(cell, inner, expected=column_types[column])
                first = column_types[column]
                if first is None or isinstance(first, ErrorType):
                    column_types[column] = cell_type
                elif not isinstance(cell_type, ErrorType) and not _same_type(first, cell_type, loose=True):
                    self._report(
                        messages.TABLE_SHAPE.at(
                            cell.span,
                            problem=(
                                f"table `{name}`, column `{item.columns[column].text}`: "
                                f"{cell_type.describe()} in a column of {first.describe()}"
                            ),
                            hint="every value in a column has the same type and unit",
                        )
                    )
        if not item.rows:
            self._report(
                messages.INVALID_CLAUSE.at(
                    item.name.span,
                    problem=f"table `{name}` has no rows",
                    hint="add rows `| key | value | ... |`",
                )
            )
            return
        symbol = ctx.scope.lookup(name)
        if symbol is not None and symbol.node is item:
            symbol.type = RowType(
                name, tuple((c.text, t or ERROR) for c, t in zip(item.columns, column_types, strict=False))
            )
        if len(intervals) == len(item.rows):
            domain = _Interval(
                low.number if low is not None and low.number is not None else -_INF,
                True,
                high.number if high is not None and high.number is not None else _INF,
                True,
            )
            unit = unit_of(key_type)
            self._check_coverage(item, intervals, domain, unit)

    def _key_interval(
        self, key: n.KeyCell, key_type: Type, inner: _Context, ctx: _Context, table: str
    ) -> _Interval | None:
        bounds: list[float | None] = []
        for bound in (key.low, key.high):
            if bound is None:
                bounds.append(None)
                continue
            bound_type = self._expr(bound, inner, expected=key_type)
            if not self._comparable(key_type, bound_type, None, bound, f"key of table `{table}`"):
                return None
            value = self._const(bound, ctx)
            if value is None or value.number is None:
                return None
            bounds.append(value.number)
        low, high = bounds
        if key.op is None:
            assert low is not None and high is not None
            if low > high:
                self._report(
                    messages.EMPTY_RANGE.at(
                        key.span, low=_show(key.low), high=_show(key.high), hint="write the lower value first"
                    )
                )
                return None
            return _Interval(low, True, high, True)
        if key.op in ("<", "<="):
            assert high is not None
            return _Interval(-_INF, True, high, key.op == "<=")
        assert low is not None
        return _Interval(low, key.op == ">=", _INF, True)

    def _check_coverage(
        self, item: n.Table, rows: list[tuple[n.TableRow, _Interval]], domain: _Interval, unit: units.Unit
    ) -> None:
        """Report key values no row covers and rows that cover the same stretch of keys."""
        points = sorted(
            {
                p
                for _, iv in rows
                for p in (iv.low, iv.high)
                if domain.low <= p <= domain.high and abs(p) != _INF
            }
            | {domain.low, domain.high} - {_INF, -_INF}
        )

        def show(value: float) -> str:
            return units.format_quantity(unit.from_si(value), unit)

        key = item.key.name.text
        # One test value per end point and per stretch between neighbouring end points:
        # (value, lower extent, upper extent, is a single point).
        samples: list[tuple[float, float, float, bool]] = []
        if domain.low == -_INF:
            edge = points[0] if points else 0.0
            samples.append((edge - 1.0, -_INF, edge, False))
        for i, p in enumerate(points):
            samples.append((p, p, p, True))
            if i + 1 < len(points):
                samples.append(((p + points[i + 1]) / 2, p, points[i + 1], False))
        if domain.high == _INF:
            edge = points[-1] if points else 0.0
            samples.append((edge + 1.0, edge, _INF, False))
        samples = [sample for sample in samples if domain.contains(sample[0])]

        def describe(low: float, high: float) -> str:
            if low == -_INF and high == _INF:
                return "any value"
            if low == -_INF:
                return f"below {show(high)}"
            if high == _INF:
                return f"above {show(low)}"
            return f"at {show(low)}" if low == high else f"from {show(low)} to {show(high)}"

        gaps: list[list[float]] = []  # merged runs of uncovered samples: [low, high]
        previous_uncovered = False
        reported_pairs: set[tuple[int, int]] = set()
        for value, low, high, is_point in samples:
            covering = [i for i, (_, iv) in enumerate(rows) if iv.contains(value)]
            if not covering:
                if previous_uncovered:
                    gaps[-1][1] = high
                else:
                    gaps.append([low, high])
            previous_uncovered = not covering
            where = describe(low, high)
            if len(covering) > 1 and not is_point:
                first, second = covering[0], covering[1]
                if (first, second) in reported_pairs:
                    continue
                reported_pairs.add((first, second))
                self._report(
                    messages.TABLE_OVERLAP.at(
                        rows[second][0].key.span,
                        name=item.name.text,
                        other=_row_number(item, rows[first][0]),
                        key=key,
                        overlap=where,
                        hint=(
                            "rows may share an end point (the upper row wins there) but not a stretch "
                            "of values"
                        ),
                        notes=(Note("the row it overlaps", rows[first][0].key.span),),
                    )
                )
        for low, high in gaps:
            self._report(
                messages.TABLE_GAP.at(
                    item.name.span,
                    name=item.name.text,
                    key=key,
                    gap=describe(low, high),
                    hint=(
                        "add a row for these values, or extend a neighbouring row (rows match top "
                        "to bottom, both ends included)"
                    ),
                )
            )

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

    def _report_unused_package(self) -> None:
        for symbol in self.package_scope.symbols.values():
            if symbol.kind in ("enum", "const", "curve", "table") and id(symbol) not in self.used:
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

    def _report_requirements(self) -> None:
        for name, requirement in self.requirements.items():
            if name not in self.citations:
                self._report(
                    messages.UNCOVERED_REQUIREMENT.at(
                        requirement.name.span,
                        name=name,
                        hint=f"cite it on the rule that implements it: `cites {name}`",
                    )
                )

    # ================================================================== expressions
    def _expr(self, expr: n.Expr, ctx: _Context, expected: Type | None = None) -> Type:
        """The type of an expression; reports what is wrong inside it."""
        type_ = self._infer(expr, ctx, expected)
        self.expr_types[id(expr)] = type_
        return type_

    def _infer(self, expr: n.Expr, ctx: _Context, expected: Type | None) -> Type:
        if isinstance(expr, n.Paren):
            return self._expr(expr.inner, ctx, expected)
        if isinstance(expr, n.Number):
            return INT if expr.is_integer else REAL
        if isinstance(expr, n.Quantity):
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

    def _not_in_constant(self, ctx: _Context, span: Span, what: str, kind: str = "the live value of") -> bool:
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

    def _name(self, expr: n.Name, ctx: _Context, expected: Type | None) -> Type:
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
            if symbol.type is _PENDING:
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

    def _member(self, expr: n.Member, ctx: _Context) -> Type:
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

    def _call(self, expr: n.Call, ctx: _Context, expected: Type | None) -> Type:
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
                    hint=f"e.g. `{_CALL_EXAMPLES[name]}`",
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

    def _unary(self, expr: n.Unary, ctx: _Context) -> Type:
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

    def _binary(self, expr: n.Binary, ctx: _Context) -> Type:
        if expr.op in ("and", "or"):
            self._expect_bool(expr.left, ctx, f"operand of `{expr.op}`")
            self._expect_bool(expr.right, ctx, f"operand of `{expr.op}`")
            return BOOL
        left = self._expr(expr.left, ctx)
        right = self._expr(expr.right, ctx)
        if isinstance(left, ErrorType) or isinstance(right, ErrorType):
            return ERROR
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
            lu = unit_of(_zero_adopts(expr.left, left, right))
            ru = unit_of(_zero_adopts(expr.right, right, left))
            try:
                unit = units.add(lu, ru) if expr.op == "+" else units.subtract(lu, ru)
            except UnitError as exc:
                self._unit_error(exc, expr.span, f"`{expr.op}`")
                return ERROR
            return QuantityType(unit)
        if expr.op == "/":
            divisor = self._const(expr.right, ctx)
            if divisor is not None and divisor.number == 0:
                self._report(messages.DIVISION_BY_ZERO.at(expr.right.span, hint="divide by a non-zero value"))
                return ERROR
        try:
            unit = units.multiply(lu, ru) if expr.op == "*" else units.divide(lu, ru)
        except UnitError as exc:
            self._unit_error(exc, expr.span, f"`{expr.op}`")
            return ERROR
        if expr.op == "*" and isinstance(left, IntType) and isinstance(right, IntType):
            return INT
        return QuantityType(unit)

    def _compare(self, expr: n.Compare, ctx: _Context) -> Type:
        left = self._expr(expr.left, ctx)
        right = self._expr(expr.right, ctx, expected=left)
        if isinstance(left, ErrorType) or isinstance(right, ErrorType):
            return BOOL
        if expr.op in ("==", "!=") and (
            isinstance(left, (BoolType, EnumType)) or isinstance(right, (BoolType, EnumType))
        ):
            if not _same_type(left, right):
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
        if not _is_bare_number(bare) or not isinstance(other, QuantityType) or other.unit == units.NUMBER:
            return False
        if _bare_value(bare) == 0 and not other.unit.absolute:
            return False  # zero is zero in any unit but an absolute temperature scale
        text, symbol = _bare_text(bare), other.unit.symbol
        written = f"{text}{symbol}" if symbol in ("C", "F") else f"{text} {symbol}"
        hint = f"write `{written}`"
        value = _bare_value(bare)
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
            if _same_type(left, right) and not is_numeric(left):
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
        left, right = _zero_adopts(left_expr, left, right), _zero_adopts(right_expr, right, left)
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
            value = _zero_adopts(value_expr, value, target)
            try:
                units.compare(unit_of(target), unit_of(value))
            except UnitError as exc:
                self._unit_error(exc, value_expr.span, context)
                return False
            return True
        if not _same_type(target, value):
            self._report(
                messages.TYPE_MISMATCH.at(
                    value_expr.span, context=context, expected=target.describe(), found=value.describe()
                )
            )
            return False
        return True

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
                    left=_unit_words(exc.left),
                    right=_unit_words(exc.right),
                    hint="both sides must measure the same physical quantity",
                )
            )

    def _expect_bool(self, expr: n.Expr, ctx: _Context, context: str) -> None:
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

    def _expect_duration(self, expr: n.Expr, ctx: _Context, context: str) -> None:
        type_ = self._expr(expr, ctx, expected=DURATION)
        if isinstance(type_, ErrorType):
            return
        if _is_bare_number(expr):
            self._report(
                messages.MISSING_UNIT.at(
                    expr.span,
                    context=context,
                    value=_bare_text(expr),
                    expected="a duration",
                    hint=f"write e.g. `{_bare_text(expr)} min` or `{_bare_text(expr)} s`",
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
    def _lookup_symbol(self, name: str, span: Span, ctx: _Context) -> Symbol | None:
        symbol = ctx.scope.lookup(name)
        if symbol is None:
            self._undefined(name, span, list(ctx.scope.visible_names()))
        return symbol

    def _undefined(self, name: str, span: Span, candidates: Iterable[str]) -> None:
        self._report(
            messages.UNDEFINED_NAME.at(span, name=name, hint=messages.did_you_mean(name, list(candidates)))
        )

    def _const(self, expr: n.Expr, ctx: _Context) -> Const | None:
        """The value of an expression known before the first scan (parameters at their defaults)."""
        return evaluate_in_scope(expr, ctx.scope, self.enum_members.__contains__, ("const", "parameter"))


def evaluate_in_scope(
    expr: n.Expr, scope: Scope, is_member: Callable[[str], bool], kinds: tuple[str, ...]
) -> Const | None:
    """A constant expression's value, reading the declarations of `kinds` (const, parameter) in scope.

    A name no declaration has is an enumeration member when `is_member` says so; a constant
    defined through itself has no value.
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
_EPS = 1e-9


class _PendingType(ErrorType):
    """The type of an untyped constant before its value is checked; behaves as an error."""


_PENDING = _PendingType()
_INF = float("inf")


@dataclass(frozen=True)
class _Interval:
    low: float
    low_closed: bool
    high: float
    high_closed: bool

    def contains(self, x: float) -> bool:
        above = x > self.low or (self.low_closed and x == self.low)
        below = x < self.high or (self.high_closed and x == self.high)
        return above and below


_CLAUSE_HINTS = {
    (
        "input",
        "=",
    ): "an input gets its value from the plant each scan; use `fallback <value>` for a faulted sensor",
    ("output", "fallback"): "outputs take their value from rules; `fallback` is the value of a faulted input",
}
_NOT_ASSIGNABLE_HINTS = {
    "input": "inputs come from sensors; assign to an output or a var",
    "parameter": "parameters are site settings, fixed while running; assign to a var",
    "const": "constants never change; declare a var to hold a changing value",
    "key": "a table's or curve's key is its argument",
}
_CALL_EXAMPLES = {
    "abs": "abs(supply_temp - target)",
    "clamp": "clamp(load, 0 %, 100 %)",
    "min": "min(a, b)",
    "max": "max(a, b)",
}


def _names_in(expr: n.Expr) -> list[str]:
    """Every plain name an expression reads."""
    return [node.name for node in n.names_read(expr)]


def _functions_first(item: n.Item) -> int:
    """Sort key that checks tables and curves before the items that call them (a stable sort)."""
    return 0 if isinstance(item, (n.Table, n.Curve)) else 1


def _zero_adopts(expr: n.Expr | None, type_: Type, other: Type) -> Type:
    """A bare `0` beside a quantity (not an absolute temperature) is zero in that quantity's unit."""
    if (
        expr is not None
        and _is_bare_number(expr)
        and _bare_value(expr) == 0
        and isinstance(other, QuantityType)
        and not other.unit.absolute
    ):
        return other
    return type_


def _numbers(*values: Const | None) -> tuple[float, ...] | None:
    """The numeric values of constants, or None when any is unknown or not a number."""
    numbers = [v.number if v is not None else None for v in values]
    if any(x is None for x in numbers):
        return None
    return tuple(x for x in numbers if x is not None)


def _same_type(a: Type, b: Type, loose: bool = False) -> bool:
    if isinstance(a, ErrorType) or isinstance(b, ErrorType):
        return True
    if is_numeric(a) and is_numeric(b):
        ua, ub = unit_of(a), unit_of(b)
        if loose:
            return ua.dimension == ub.dimension and ua.absolute == ub.absolute
        return ua == ub or (isinstance(a, IntType) and isinstance(b, IntType))
    return a == b


def _is_integer_literal(expr: n.Expr) -> bool:
    return isinstance(expr, n.Number) and expr.is_integer


def _is_bare_number(expr: n.Expr) -> bool:
    while isinstance(expr, n.Paren):
        expr = expr.inner
    return isinstance(expr, n.Number)


def _bare_value(expr: n.Expr) -> float:
    while isinstance(expr, n.Paren):
        expr = expr.inner
    return expr.value if isinstance(expr, n.Number) else float("nan")


def _bare_text(expr: n.Expr) -> str:
    while isinstance(expr, n.Paren):
        expr = expr.inner
    return expr.text if isinstance(expr, n.Number) else "?"


def _show(expr: n.Expr | None) -> str:
    if isinstance(expr, (n.Number, n.Quantity)):
        return expr.text
    return "?"


def _unit_words(unit: units.Unit) -> str:
    if unit == units.NUMBER:
        return "a plain number"
    return unit.describe() if unit.symbol == "" else f"{unit.describe()} ({unit.symbol})"


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeio" else f"a {word}"


def _describe_dimension(dimension: units.Dimension) -> str:
    for symbol in ("h", "kWh", "J"):
        unit = units.lookup(symbol)
        if unit is not None and unit.dimension == dimension:
            return unit.describe()
    return "another quantity"


def _day_index(text: str) -> int | None:
    day = DAY_ALIASES.get(text.lower()[:3]) if text.lower() in (*DAYS, *DAY_ALIASES) else None
    return DAYS.index(day) if day else None


def _row_number(table: n.Table, row: n.TableRow) -> int:
    for index, candidate in enumerate(table.rows, start=1):
        if candidate is row:
            return index
    return 0
