"""Declaring names and checking declarations: requirements, enumerations, package and program
items, their types, ranges, defaults and wiring, constants that depend on each other, and the
`require`s between parameters.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope.
"""

from __future__ import annotations

from collections.abc import Iterable

from hpdsl.base import messages
from hpdsl.base.diagnostics import Note
from hpdsl.base.source import Span
from hpdsl.check.scope import (
    CLAUSE_HINTS,
    PENDING,
    CheckerBase,
    Context,
    ItemT,
    Scope,
    Symbol,
    Writer,
    confusable_skeleton,
    const_numbers,
    functions_first,
    is_integer_literal,
    names_in,
    same_type,
    with_article,
)
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.consteval import Const
from hpdsl.language.types import (
    BOOL,
    BUILTIN_TYPES,
    ERROR,
    INT,
    REAL,
    BoolType,
    EnumType,
    ErrorType,
    IntType,
    QuantityType,
    Type,
    is_numeric,
)


class DeclarationChecks(CheckerBase):
    """The checks of declarations: every name declared once, with a type, a range and a value that fit."""

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
        skeleton = confusable_skeleton(symbol.name)
        other = scope.look_alike(skeleton)
        if other is not None and other.name != symbol.name:
            self._report(
                messages.CONFUSABLE_NAME.at(
                    symbol.span,
                    name=symbol.name,
                    other=other.name,
                    hint="rename one so that they differ in more than case, `0`/`O` or `1`/`l`/`I`;"
                    " a PLC, which ignores case, would rename one",
                    notes=(Note(f"`{other.name}` is defined here ({other.kind})", other.span),),
                )
            )
        else:
            scope.skeletons.setdefault(skeleton, symbol)

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
            type_ = self._declared_type(item, Context(scope, None))
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
            self.program_contexts[id(item)] = Context(program_scope, item)
            if scope.symbols[item.name.text].node is item:  # a duplicate is checked on its own
                self.program_scopes[item.name.text] = program_scope

    def _unique(self, entries: Iterable[tuple[n.Ident, ItemT]], hint: str) -> dict[str, ItemT]:
        """The entries by name, first occurrence kept; every repeated name is reported."""
        first: dict[str, tuple[n.Ident, ItemT]] = {}
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

    def _declared_type(self, decl: n.Declaration, ctx: Context) -> Type:
        if decl.type is not None:
            return self._resolve_type(decl.type, ctx.scope)
        if decl.kind == "const" and decl.initial is not None:
            # `const nominal_cop = 3.5`: the type follows from the value, inferred when first
            # needed, so the value may use names declared after it.
            self.pending_consts[id(decl)] = ctx
            return PENDING
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
            return [ref for ref in names_in(values[name]) if ref in values]

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
        if isinstance(inferred, IntType) and not is_integer_literal(decl.initial):
            inferred = REAL
        symbol.type = inferred
        return inferred

    # ================================================================== programs
    def _check_program(self, program: n.Program) -> None:
        ctx = self.program_contexts[id(program)]
        scope = ctx.scope
        writers: dict[str, list[Writer]] = {}
        for item in sorted(program.items, key=functions_first):
            self._cite(item.meta)
            self._check_program_item(item, ctx, writers)
        self._check_writers(writers, scope)
        self._report_unused_program(program, scope, writers)

    def _declare_program_item(self, item: n.Item, ctx: Context) -> None:
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
        elif isinstance(item, n.Require):
            kind, type_ = "require", ERROR
        else:
            return  # a hysteresis drives a name declared elsewhere; it declares none
        self._declare(scope, Symbol(kind, item.name.text, item.name.span, type_, item, name))

    def _check_program_item(self, item: n.Item, ctx: Context, writers: dict[str, list[Writer]]) -> None:
        self.site_reads.clear()
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
        elif isinstance(item, n.Require):
            self._check_require(item, ctx)

    # ================================================================== relations between parameters
    def _check_require(self, item: n.Require, ctx: Context) -> None:
        name = item.name.text
        if item.meta.priority is not None:
            self._report(
                messages.INVALID_CLAUSE.at(
                    item.meta.span,
                    problem=f"`require {name}` writes nothing, so it has no priority",
                    hint="remove `priority`",
                )
            )
        self._expect_bool(item.condition, ctx.requiring_constant(f"`require {name}`"), f"`require {name}`")
        value = self._const(item.condition, ctx)
        if value is None or value.value is not False:
            return
        shown = []
        read = sorted(n.names_read(item.condition), key=lambda r: (r.span.line, r.span.column))
        for ref in dict.fromkeys(r.name for r in read):
            known = self._const(n.Name(name=ref, span=item.condition.span), ctx)
            if known is not None and ref not in self.enum_members:
                shown.append(f"`{ref}` = {known.show()}")
        values = ", ".join(shown) or "the condition is false"
        self._report(
            messages.CONSTRAINT.at(
                item.condition.span,
                name=name,
                values=values,
                hint=" ".join((item.meta.doc or "").split())
                or "change the values so that the condition holds",
            )
        )

    # ================================================================== declarations
    def _check_declaration(self, decl: n.Declaration, ctx: Context) -> None:
        symbol = ctx.scope.symbols.get(decl.name.text)
        if symbol is not None and symbol.node is decl:
            type_ = self._infer_const(symbol) if symbol.type is PENDING else symbol.type
        else:  # a duplicate name: reported already; check the declaration on its own
            type_ = self._declared_type(decl, ctx)
            if type_ is PENDING:
                self.pending_consts.pop(id(decl), None)
                type_ = ERROR
        inferred = decl.type is None and decl.kind == "const"  # its value was checked while inferring
        kind = decl.kind
        what = f"{kind} `{decl.name.text}`"

        def refuse(clause: str, span: Span, why: str) -> None:
            self._report(
                messages.INVALID_CLAUSE.at(
                    span, problem=f"{what}: `{clause}` {why}", hint=CLAUSE_HINTS.get((kind, clause))
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
        self, range_: n.RangeClause, type_: Type, ctx: Context, name: str
    ) -> tuple[Const | None, Const | None]:
        constant_ctx = ctx.requiring_constant(f"the range of `{name}`")
        bounds: list[Const | None] = []
        for bound in (range_.low, range_.high):
            bound_type = self._expr(bound, constant_ctx, expected=type_)
            self._assignable(type_, bound_type, bound, f"range of `{name}`")
            bounds.append(self._const(bound, ctx))
        low, high = bounds
        known = const_numbers(low, high)
        if low is not None and high is not None and known is not None and known[0] > known[1]:
            self._report(
                messages.EMPTY_RANGE.at(
                    range_.span, low=low.show(), high=high.show(), hint="swap the two ends"
                )
            )
            return None, None
        return low, high

    def _check_wiring(self, decl: n.Declaration, type_: Type, ctx: Context) -> None:
        wiring = decl.wiring
        assert wiring is not None
        program = self.package_scope.symbols.get(wiring.program.text)
        if program is not None and program.kind != "program":
            self._report(
                messages.WIRING.at(
                    wiring.program.span,
                    problem=f"`{wiring.program.text}` is {with_article(program.kind)}, not a program",
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
        if not same_type(type_, source.type):
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
