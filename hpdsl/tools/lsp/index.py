"""What every name in a checked package refers to, for the language server.

The checker already resolved names (`CheckedPackage.resolved`, its scopes and expression
types); this module walks the checked tree once more to record each place a name is written
(an occurrence) and what it designates (a target: a declaration, an enumeration member, a
state, a table column, a requirement, a unit). Go to definition, find references and hover
are then lookups in that index. Completion and the document outline live here too. Nothing
here knows about the protocol: positions are our 1-based line and column (code points).
"""

from __future__ import annotations

import bisect
import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from hpdsl.base.source import SourceFile, Span
from hpdsl.check.checker import BUILTIN_FUNCTIONS, TIME_IN_STATE, CheckedPackage, Scope, Symbol
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.parser import keywords
from hpdsl.language.types import BUILTIN_TYPES, EnumType, ErrorType, QuantityType, RowType, Type

# A target is known by where it is defined; a unit or a built-in has no definition in the
# package and is known by its name.
Key = tuple[str, int, int] | tuple[str, str]

_BUILTIN_DOCS = {
    "min": "`min(a, b, ...)`: the smallest of its arguments, which share one unit.",
    "max": "`max(a, b, ...)`: the largest of its arguments, which share one unit.",
    "clamp": "`clamp(value, low, high)`: the value limited to the range low .. high.",
    "abs": "`abs(value)`: the magnitude of a number or a temperature difference.",
    "rising": "`rising(condition)`: true in the one scan where the condition becomes true.",
    "falling": "`falling(condition)`: true in the one scan where the condition becomes false.",
    "time_since": "`time_since(condition)`: how long ago the condition was last true.",
    TIME_IN_STATE: "`time_in_state`: how long the state machine has been in its current state.",
}


@dataclass(frozen=True)
class Target:
    """Something a name designates: where it is defined (None for units and built-ins) and its hover text."""

    key: Key
    name: str
    kind: str
    definition: Span | None
    hover: str


@dataclass(frozen=True)
class Occurrence:
    """A name as written in a file, and the target it designates."""

    span: Span
    key: Key
    is_definition: bool = False


@dataclass(frozen=True)
class OutlineSymbol:
    """One entry of a document outline: a declaration and the declarations inside it."""

    name: str
    kind: str
    detail: str
    span: Span
    selection: Span
    children: tuple[OutlineSymbol, ...] = ()


@dataclass(frozen=True)
class CompletionEntry:
    label: str
    kind: str  # keyword, unit, member, state, function, type, or a declaration kind
    detail: str = ""


@dataclass
class PackageIndex:
    """Every occurrence of a name in a checked package, by file, and the targets they designate."""

    package: CheckedPackage
    targets: dict[Key, Target] = field(default_factory=dict)
    occurrences: dict[str, list[Occurrence]] = field(default_factory=dict)

    def at(self, file: str, line: int, column: int) -> Occurrence | None:
        """The occurrence under a 1-based position (the character after the cursor, or the one before)."""
        found = self.occurrences.get(file, [])
        starts = [(o.span.line, o.span.column) for o in found]
        index = bisect.bisect_right(starts, (line, column))
        nearby = found[max(0, index - 8) : index]
        # A name under the cursor wins over one that ends just before it (`a.b` with the cursor on `b`).
        for strict in (True, False):
            best: Occurrence | None = None
            for occurrence in nearby:
                span = occurrence.span
                if _contains(span, line, column, strict) and (best is None or _narrower(span, best.span)):
                    best = occurrence
            if best is not None:
                return best
        return None

    def target_at(self, file: str, line: int, column: int) -> Target | None:
        occurrence = self.at(file, line, column)
        return self.targets.get(occurrence.key) if occurrence else None

    def definition(self, file: str, line: int, column: int) -> Span | None:
        target = self.target_at(file, line, column)
        return target.definition if target else None

    def references(self, file: str, line: int, column: int, include_declaration: bool = True) -> list[Span]:
        """Every place the name under the position is written, its definition first when asked."""
        occurrence = self.at(file, line, column)
        if occurrence is None:
            return []
        spans = [
            o.span
            for name in sorted(self.occurrences)
            for o in self.occurrences[name]
            if o.key == occurrence.key and (include_declaration or not o.is_definition)
        ]
        return sorted(spans, key=lambda s: (not _is_definition_of(self, occurrence.key, s), _order(s)))

    def hover(self, file: str, line: int, column: int) -> tuple[str, Span] | None:
        occurrence = self.at(file, line, column)
        if occurrence is None:
            return None
        target = self.targets.get(occurrence.key)
        return (target.hover, occurrence.span) if target else None


def _is_definition_of(index: PackageIndex, key: Key, span: Span) -> bool:
    target = index.targets.get(key)
    return target is not None and target.definition == span


def _order(span: Span) -> tuple[str, int, int]:
    return (span.file, span.line, span.column)


def _contains(span: Span, line: int, column: int, strict: bool) -> bool:
    if (line, column) < (span.line, span.column):
        return False
    # The end is one past the last character; a cursor right after a name still names it.
    if strict:
        return (line, column) < (span.end_line, span.end_column)
    return (line, column) <= (span.end_line, span.end_column)


def _narrower(a: Span, b: Span) -> bool:
    return (a.end_line - a.line, a.end_column - a.column) < (b.end_line - b.line, b.end_column - b.column)


# ================================================================================ building
def build_index(package: CheckedPackage, sources: dict[str, SourceFile]) -> PackageIndex:
    """Index every name written in the package's files."""
    index = PackageIndex(package)
    _Indexer(index, sources).run()
    for found in index.occurrences.values():
        found.sort(key=lambda o: (o.span.line, o.span.column, o.span.end_line, o.span.end_column))
    return index


@dataclass
class _Where:
    scope: Scope
    program: n.Program | None = None
    machine: n.Machine | None = None
    event: n.EventDecl | None = None


class _Indexer:
    def __init__(self, index: PackageIndex, sources: dict[str, SourceFile]) -> None:
        self.index = index
        self.package = index.package
        self.sources = sources

    # -------------------------------------------------------------------- recording
    def _occur(self, span: Span, key: Key, is_definition: bool = False) -> None:
        if span.line <= 0:
            return
        self.index.occurrences.setdefault(span.file, []).append(Occurrence(span, key, is_definition))

    def _define(self, ident: n.Ident, kind: str, hover: str) -> Key:
        key = _span_key(ident.span)
        if key not in self.index.targets:
            self.index.targets[key] = Target(key, ident.text, kind, ident.span, hover)
        self._occur(ident.span, key, is_definition=True)
        return key

    def _refer(self, span: Span, definition: Span | None) -> None:
        if definition is not None:
            self._occur(span, _span_key(definition))

    def _named(self, span: Span, name: str, kind: str, hover: str) -> None:
        """An occurrence of something defined outside the package: a unit or a built-in."""
        key: Key = (kind, name)
        if key not in self.index.targets:
            self.index.targets[key] = Target(key, name, kind, None, hover)
        self._occur(span, key)

    # -------------------------------------------------------------------- walking
    def run(self) -> None:
        package_where = _Where(self.package.package_scope)
        for module in self.package.modules:
            for item in module.items:
                if isinstance(item, n.Program):
                    scope = self.package.program_scopes.get(item.name.text)
                    where = _Where(scope, item) if scope is not None else package_where
                    self._item(item, package_where)
                    for member in item.items:
                        self._item(member, where)
                else:
                    self._item(item, package_where)

    def _item(self, item: n.Item, where: _Where) -> None:
        self._meta(item.meta)
        if isinstance(item, n.Requirement):
            self._define(item.name, "requirement", self._requirement_hover(item))
            return
        if isinstance(item, n.Hysteresis):
            self._lookup_ident(item.name, where)
            self._expr(item.input, where)
            for threshold in item.thresholds:
                self._expr(threshold.level, where)
                self._expr(threshold.value, where)
            return
        symbol = where.scope.symbols.get(item.name.text)
        if symbol is None or symbol.node is not item:
            symbol = None
        self._define(item.name, n.keyword(item), self._item_hover(item, symbol, where))
        if isinstance(item, n.EnumDecl):
            for member in item.members:
                self._define(member, "member", self._member_hover(item.name.text, member.text, item.meta.doc))
        elif isinstance(item, n.Declaration):
            self._type_ref(item.type, where)
            for expr in (item.initial, item.fallback, item.min_on, item.min_off):
                self._expr(expr, where)
            if item.range is not None:
                self._expr(item.range.low, where)
                self._expr(item.range.high, where)
            if item.wiring is not None:
                self._wiring(item.wiring)
        elif isinstance(item, n.Rule):
            self._statements(item.body, where)
        elif isinstance(item, n.Totalizer):
            self._type_ref(item.type, where)
            self._expr(item.source, where)
        elif isinstance(item, n.Counter):
            self._expr(item.source, where)
        elif isinstance(item, n.Require):
            self._expr(item.condition, where)
        elif isinstance(item, n.Machine):
            self._machine(item, where)
        elif isinstance(item, n.Alarm):
            for expr in (item.condition, item.delay, item.acknowledge):
                self._expr(expr, where)
            self._statements(item.action, where)
        elif isinstance(item, n.EventDecl):
            for event_field in item.fields:
                self._define(event_field.name, "field", self._field_hover(item, event_field))
                self._type_ref(event_field.type, where)
        elif isinstance(item, (n.Table, n.Curve)):
            self._function(item, where)

    def _meta(self, meta: n.Meta) -> None:
        for ident in meta.cites:
            requirement = self.package.requirements.get(ident.text)
            if requirement is not None:
                self._refer(ident.span, requirement.name.span)

    def _machine(self, machine: n.Machine, where: _Where) -> None:
        inside = _Where(where.scope, where.program, machine)
        states = {state.name.text: state for state in machine.states}
        for state in machine.states:
            self._meta(state.meta)
            self._define(state.name, "state", self._state_hover(machine, state))
            for body in (state.entry, state.during, state.exit):
                if body is not None:
                    self._statements(body, inside)
            for transition in state.transitions:
                self._meta(transition.meta)
                self._expr(transition.trigger, inside)
                target = states.get(transition.target.text)
                if target is not None:
                    self._refer(transition.target.span, target.name.span)

    def _function(self, item: n.Table | n.Curve, where: _Where) -> None:
        key_hover = (
            f"**key** `{item.key.name.text}` of {n.keyword(item)} `{item.name.text}`: "
            f"{self._describe_ref(item.key.type)}"
        )
        self._define(item.key.name, "key", key_hover)
        self._type_ref(item.key.type, where)
        if item.key.range is not None:
            self._expr(item.key.range.low, where)
            self._expr(item.key.range.high, where)
        if isinstance(item, n.Curve):
            self._type_ref(item.result, where)
            for point in item.points:
                self._expr(point.x, where)
                self._expr(point.y, where)
            return
        self._refer(item.key_header.span, item.key.name.span)
        row = self._row_type(item.name.text, where.scope)
        for column in item.columns:
            column_type = row.column(column.text) if row else None
            self._define(column, "column", self._column_hover(item, column.text, column_type))
        for table_row in item.rows:
            for expr in (table_row.key.low, table_row.key.high, *table_row.cells):
                self._expr(expr, where)

    def _wiring(self, wiring: n.Wiring) -> None:
        program = self.package.package_scope.symbols.get(wiring.program.text)
        if program is None or program.kind != "program":
            return
        self._refer(wiring.program.span, program.span)
        scope = self.package.program_scopes.get(wiring.program.text)
        output = scope.symbols.get(wiring.output.text) if scope else None
        if output is not None:
            self._refer(wiring.output.span, output.span)

    def _statements(self, body: Iterable[n.Stmt], where: _Where) -> None:
        for stmt in body:
            if isinstance(stmt, n.Assign):
                self._lookup_ident(stmt.target, where)
                self._expr(stmt.value, where)
            elif isinstance(stmt, n.If):
                for branch in stmt.branches:
                    self._expr(branch.condition, where)
                    self._statements(branch.body, where)
                if stmt.else_body is not None:
                    self._statements(stmt.else_body, where)
            elif isinstance(stmt, n.Log):
                symbol = self._lookup_ident(stmt.event, where)
                event = symbol.node if symbol is not None else None
                fields = {f.name.text: f for f in event.fields} if isinstance(event, n.EventDecl) else {}
                for value in stmt.fields:
                    declared = fields.get(value.name.text)
                    if declared is not None:
                        self._refer(value.name.span, declared.name.span)
                    self._expr(value.value, where)

    def _lookup_ident(self, ident: n.Ident, where: _Where) -> Symbol | None:
        symbol = where.scope.lookup(ident.text)
        if symbol is not None:
            self._refer(ident.span, symbol.span)
        return symbol

    def _type_ref(self, ref: n.TypeRef | None, where: _Where) -> None:
        if ref is None:
            return
        type_ = self.package.ref_types.get(id(ref))
        if isinstance(type_, EnumType):
            symbol = where.scope.lookup(type_.name)
            if symbol is not None:
                self._refer(ref.span, symbol.span)
        elif ref.text in BUILTIN_TYPES:
            self._named(
                ref.span, ref.text, "type", f"**type** `{ref.text}`: {BUILTIN_TYPES[ref.text].describe()}"
            )
        elif isinstance(type_, QuantityType):
            self._named(ref.span, ref.text, "unit", _unit_hover(ref.text))

    def _expr(self, expr: n.Expr | None, where: _Where) -> None:
        stack: list[n.Expr] = [expr] if expr is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, n.Name):
                self._name(node, where)
            elif isinstance(node, n.Member):
                if not self._qualified(node, where):
                    stack.append(node.owner)
            elif isinstance(node, n.Call):
                symbol = self.package.resolved.get(id(node))
                if symbol is not None:
                    self._refer(node.function.span, symbol.span)
                elif node.function.text in _BUILTIN_DOCS:
                    self._named(
                        node.function.span, node.function.text, "function", _BUILTIN_DOCS[node.function.text]
                    )
                stack.extend(node.args)
            elif isinstance(node, n.Quantity):
                self._named(node.span, node.unit, "unit", _unit_hover(node.unit))
            elif isinstance(node, n.Paren):
                stack.append(node.inner)
            elif isinstance(node, n.Unary):
                stack.append(node.operand)
            elif isinstance(node, (n.Binary, n.Compare)):
                stack.extend((node.left, node.right))
            elif isinstance(node, n.HeldFor):
                stack.extend((node.condition, node.duration))

    def _name(self, expr: n.Name, where: _Where) -> None:
        symbol = self.package.resolved.get(id(expr))
        if symbol is not None:
            self._refer(expr.span, symbol.span)
            return
        if expr.name == TIME_IN_STATE:
            self._named(expr.span, expr.name, "function", _BUILTIN_DOCS[TIME_IN_STATE])
            return
        type_ = self.package.expr_types.get(id(expr))
        if isinstance(type_, EnumType):
            self._refer(expr.span, self._member_definition(type_, expr.name, where.scope))

    def _qualified(self, expr: n.Member, where: _Where) -> bool:
        """Index `Enum.Member`, `machine.State`, `machine.time_in_state` and `table(key).column`."""
        owner = expr.owner
        if isinstance(owner, n.Name):
            symbol = where.scope.lookup(owner.name)
            if (
                symbol is not None
                and symbol.kind in ("enum", "machine")
                and isinstance(symbol.type, EnumType)
            ):
                self._refer(owner.span, symbol.span)
                if expr.name.text == TIME_IN_STATE and symbol.kind == "machine":
                    self._named(expr.name.span, TIME_IN_STATE, "function", _BUILTIN_DOCS[TIME_IN_STATE])
                else:
                    self._refer(
                        expr.name.span, self._member_definition(symbol.type, expr.name.text, where.scope)
                    )
                return True
        row = self.package.expr_types.get(id(owner))
        if isinstance(row, RowType):
            table = where.scope.lookup(row.table)
            if table is not None and isinstance(table.node, n.Table):
                for column in table.node.columns:
                    if column.text == expr.name.text:
                        self._refer(expr.name.span, column.span)
        return False

    def _member_definition(self, enum: EnumType, member: str, scope: Scope) -> Span | None:
        symbol = scope.lookup(enum.name)
        if symbol is None or symbol.type != enum:
            return None
        node = symbol.node
        if isinstance(node, n.EnumDecl):
            return next((m.span for m in node.members if m.text == member), None)
        if isinstance(node, n.Machine):
            return next((s.name.span for s in node.states if s.name.text == member), None)
        return None

    def _row_type(self, table: str, scope: Scope) -> RowType | None:
        symbol = scope.lookup(table)
        return symbol.type if symbol is not None and isinstance(symbol.type, RowType) else None

    # -------------------------------------------------------------------- hover texts
    def _text(self, node: n.Node | None) -> str:
        if node is None:
            return ""
        source = self.sources.get(node.span.file)
        return source.text_of(node.span) if source is not None else ""

    def _describe_ref(self, ref: n.TypeRef | None) -> str:
        if ref is None:
            return ""
        type_ = self.package.ref_types.get(id(ref))
        if type_ is None or isinstance(type_, ErrorType):
            return f"`{ref.text}`"
        return _describe_type(type_, ref.text)

    def _item_hover(self, item: n.Item, symbol: Symbol | None, where: _Where) -> str:
        kind = n.keyword(item)
        head = f"**{kind}** `{item.name.text}`"
        facts: list[str] = []
        if isinstance(item, n.Declaration):
            if item.type is not None:
                head += f": `{item.type.text}`"
                facts.append(self._describe_ref(item.type))
            elif symbol is not None and not isinstance(symbol.type, ErrorType):
                facts.append(_describe_type(symbol.type, None))
            facts.extend(self._declaration_facts(item))
        elif isinstance(item, n.Totalizer):
            head += f": `{item.type.text}`"
            facts.append(f"{self._describe_ref(item.type)} of `{self._text(item.source)}`")
            facts.append(f"reset every {item.period.text}" if item.period else "never reset")
        elif isinstance(item, n.Require):
            facts.append(f"the parameters keep `{self._text(item.condition)}`")
        elif isinstance(item, n.Counter):
            facts.append(f"an integer: how often `{self._text(item.source)}` became true")
            facts.append(f"reset every {item.period.text}" if item.period else "never reset")
        elif isinstance(item, n.EnumDecl):
            facts.append("members: " + ", ".join(f"`{m.text}`" for m in item.members))
        elif isinstance(item, n.Machine):
            facts.append("states: " + ", ".join(f"`{s.name.text}`" for s in item.states))
        elif isinstance(item, n.Alarm):
            if item.condition is not None:
                facts.append(f"when `{self._text(item.condition)}`")
            if item.severity is not None:
                facts.append(f"severity {item.severity.text}")
            if item.delay is not None:
                facts.append(f"delay {self._text(item.delay)}")
            if item.latching:
                facts.append("latching")
        elif isinstance(item, n.Table):
            facts.append(f"key `{item.key.name.text}`: {self._describe_ref(item.key.type)}")
            facts.append("columns: " + ", ".join(f"`{c.text}`" for c in item.columns))
        elif isinstance(item, n.Curve):
            head += f"(`{item.key.name.text}`: `{item.key.type.text}`) -> `{item.result.text}`"
            facts.append(f"{len(item.points)} points" + (f", {item.monotonic}" if item.monotonic else ""))
        elif isinstance(item, n.EventDecl):
            facts.append("fields: " + ", ".join(f"`{f.name.text}`" for f in item.fields))
        elif isinstance(item, n.Program):
            counts: dict[str, int] = {}
            for member in item.items:
                counts[n.keyword(member)] = counts.get(n.keyword(member), 0) + 1
            facts.append(", ".join(f"{count} {kind}" for kind, count in counts.items()))
        if where.program is not None and not isinstance(item, n.Program):
            facts.append(f"in program `{where.program.name.text}`")
        return self._compose(head, facts, item.meta)

    def _declaration_facts(self, item: n.Declaration) -> list[str]:
        facts: list[str] = []
        if item.initial is not None:
            label = (
                "value" if item.kind == "const" else "default" if item.kind == "parameter" else "initially"
            )
            facts.append(f"{label} `{self._text(item.initial)}`")
        if item.range is not None:
            facts.append(f"range `{self._text(item.range.low)} .. {self._text(item.range.high)}`")
        if item.fallback is not None:
            facts.append(f"fallback `{self._text(item.fallback)}`")
        if item.min_on is not None:
            facts.append(f"min_on `{self._text(item.min_on)}`")
        if item.min_off is not None:
            facts.append(f"min_off `{self._text(item.min_off)}`")
        if item.wiring is not None:
            facts.append(f"from `{item.wiring.program.text}.{item.wiring.output.text}`")
        return facts

    def _compose(self, head: str, facts: list[str], meta: n.Meta) -> str:
        parts = [head]
        shown = [fact for fact in facts if fact]
        if shown:
            parts.append(" · ".join(shown))
        if meta.doc:
            parts.append(inspect.cleandoc(meta.doc))
        if meta.cites:
            lines = []
            for ident in meta.cites:
                requirement = self.package.requirements.get(ident.text)
                summary = f": {requirement.summary}" if requirement else " (not declared)"
                lines.append(f"- `{ident.text}`{summary}")
            parts.append("Cites:\n" + "\n".join(lines))
        return "\n\n".join(parts)

    def _requirement_hover(self, item: n.Requirement) -> str:
        cited = len(self.package.citations.get(item.name.text, ()))
        facts = [f"cited {cited} time{'s' if cited != 1 else ''}" if cited else "not cited yet"]
        return f"**requirement** `{item.name.text}`\n\n{item.summary}\n\n" + " · ".join(facts)

    def _member_hover(self, enum: str, member: str, doc: str | None) -> str:
        return f"**member** `{member}` of enumeration `{enum}`"

    def _state_hover(self, machine: n.Machine, state: n.State) -> str:
        head = f"**state** `{state.name.text}` of machine `{machine.name.text}`"
        facts = ["initial state"] if state.initial else []
        facts.extend(f"{t.kind} `{self._text(t.trigger)}` -> `{t.target.text}`" for t in state.transitions)
        return self._compose(head, facts, state.meta)

    def _field_hover(self, event: n.EventDecl, event_field: n.EventField) -> str:
        text = f"**field** `{event_field.name.text}` of event `{event.name.text}`: `{event_field.type.text}`"
        return text + (f"\n\n{inspect.cleandoc(event_field.doc)}" if event_field.doc else "")

    def _column_hover(self, table: n.Table, column: str, type_: Type | None) -> str:
        described = f": {_describe_type(type_, None)}" if type_ is not None else ""
        return f"**column** `{column}` of table `{table.name.text}`{described}"


def _span_key(span: Span) -> Key:
    return (span.file, span.line, span.column)


def _describe_type(type_: Type, written: str | None) -> str:
    if isinstance(type_, QuantityType) and type_.unit != units.NUMBER:
        return f"{type_.unit.describe()} in {written or type_.unit.symbol}"
    if isinstance(type_, EnumType):
        return f"one of {', '.join(type_.members)}"
    return type_.describe()


def _unit_hover(symbol: str) -> str:
    unit = units.lookup(symbol)
    if unit is None:
        return f"**unit** `{symbol}`: not a unit hpdsl knows"
    canonical = f" (written `{unit.symbol}` in messages)" if unit.symbol != symbol else ""
    kind = "a point on the temperature scale" if unit.absolute else unit.describe()
    return f"**unit** `{symbol}`: {kind}{canonical}"


# ================================================================================ completion
_OWNER_DOT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_]*)$")
_AFTER_NUMBER = re.compile(r"(?<![A-Za-z0-9_.:])\d+(\.\d+)?([eE][+-]?\d+)?[ \t]*([A-Za-z_%°]*)$")
_AFTER_COLON = re.compile(r":[ \t]*([A-Za-z_]*)$")
_PROGRAM_HEADER = re.compile(r"^[ \t]*program[ \t]+([A-Za-z_][A-Za-z0-9_]*)")


def unit_symbols() -> list[str]:
    """Every unit symbol a quantity may be written with, in a stable order."""
    return sorted(units.SIMPLE_SYMBOLS, key=lambda s: (s.lower(), s))


def program_at(text: str, line: int) -> str | None:
    """The program whose header is the last one above a 1-based line (top-level `end`s are not tracked)."""
    lines = text.split("\n")[:line]
    for candidate in reversed(lines):
        match = _PROGRAM_HEADER.match(candidate)
        if match:
            return match.group(1)
    return None


def complete(package: CheckedPackage | None, text: str, line: int, column: int) -> list[CompletionEntry]:
    """What may be written at a 1-based position.

    Members after `Owner.`, units after a number, types after `:`, else names and keywords.
    """
    lines = text.split("\n")
    before = lines[line - 1][: column - 1] if 1 <= line <= len(lines) else ""
    scope: Scope | None = None
    if package is not None:
        program = program_at(text, line)
        scope = package.program_scopes.get(program or "", package.package_scope)
    dotted = _OWNER_DOT.search(before)
    if dotted is not None:
        return _members(package, scope, dotted.group(1))
    if _AFTER_NUMBER.search(before):
        return [_unit_entry(symbol) for symbol in unit_symbols()]
    if _AFTER_COLON.search(before):
        return _types(package)
    entries: list[CompletionEntry] = []
    seen: set[str] = set()

    def add(entry: CompletionEntry) -> None:
        if entry.label not in seen:
            seen.add(entry.label)
            entries.append(entry)

    if scope is not None and package is not None:
        for name in sorted(set(scope.visible_names())):
            symbol = scope.lookup(name)
            if symbol is not None:
                add(CompletionEntry(name, symbol.kind, _symbol_detail(symbol)))
        for symbol in sorted(package.package_scope.symbols.values(), key=lambda s: s.name):
            if symbol.kind == "enum" and isinstance(symbol.type, EnumType):
                for member in symbol.type.members:
                    add(CompletionEntry(member, "member", f"{symbol.name}.{member}"))
        for states in scope.machine_states.values():
            for machine in states:
                for state in machine.members:
                    add(CompletionEntry(state, "state", f"state of {machine.name}"))
        for requirement in sorted(package.requirements):
            add(CompletionEntry(requirement, "requirement", package.requirements[requirement].summary))
    for function in (*BUILTIN_FUNCTIONS, TIME_IN_STATE):
        add(CompletionEntry(function, "function", _BUILTIN_DOCS.get(function, "")))
    for word in sorted(keywords()):
        add(CompletionEntry(word, "keyword"))
    return entries


def _members(package: CheckedPackage | None, scope: Scope | None, owner: str) -> list[CompletionEntry]:
    if package is None or scope is None:
        return []
    symbol = scope.lookup(owner)
    if symbol is None:
        return []
    if symbol.kind == "enum" and isinstance(symbol.type, EnumType):
        return [CompletionEntry(m, "member", f"member of {owner}") for m in symbol.type.members]
    if symbol.kind == "machine" and isinstance(symbol.type, EnumType):
        states = [CompletionEntry(s, "state", f"state of {owner}") for s in symbol.type.members]
        return [*states, CompletionEntry(TIME_IN_STATE, "function", _BUILTIN_DOCS[TIME_IN_STATE])]
    if symbol.kind == "program":
        program_scope = package.program_scopes.get(owner)
        if program_scope is None:
            return []
        return [
            CompletionEntry(s.name, s.kind, _symbol_detail(s))
            for s in program_scope.symbols.values()
            if s.kind in ("output", "totalizer", "counter", "alarm")
        ]
    if isinstance(symbol.type, RowType):
        return [CompletionEntry(c, "column", f"column of {owner}") for c, _ in symbol.type.columns]
    return []


def _types(package: CheckedPackage | None) -> list[CompletionEntry]:
    entries = [CompletionEntry(name, "type", t.describe()) for name, t in BUILTIN_TYPES.items()]
    if package is not None:
        entries.extend(
            CompletionEntry(s.name, "enum", "enumeration")
            for s in sorted(package.package_scope.symbols.values(), key=lambda s: s.name)
            if s.kind == "enum"
        )
    entries.extend(_unit_entry(symbol) for symbol in unit_symbols() if symbol.isidentifier() or symbol == "%")
    return entries


def _unit_entry(symbol: str) -> CompletionEntry:
    unit = units.lookup(symbol)
    detail = ("temperature" if unit.absolute else unit.describe()) if unit is not None else ""
    return CompletionEntry(symbol, "unit", detail)


def _symbol_detail(symbol: Symbol) -> str:
    if isinstance(symbol.type, (ErrorType, RowType)):
        return symbol.kind
    return f"{symbol.kind}: {_describe_type(symbol.type, None)}"


# ================================================================================ outline
def outline(module: n.Module) -> list[OutlineSymbol]:
    """The document outline of one parsed file: programs with their declarations inside."""
    return [_outline_item(item) for item in module.items]


def _outline_item(item: n.Item) -> OutlineSymbol:
    kind = n.keyword(item)
    children: list[OutlineSymbol] = []
    detail = kind
    if isinstance(item, n.Program):
        children = [_outline_item(member) for member in item.items]
    elif isinstance(item, n.Machine):
        children = [
            OutlineSymbol(
                s.name.text, "state", "initial state" if s.initial else "state", s.span, s.name.span
            )
            for s in item.states
        ]
    elif isinstance(item, n.EnumDecl):
        children = [OutlineSymbol(m.text, "member", "member", m.span, m.span) for m in item.members]
    elif isinstance(item, n.Declaration) and item.type is not None:
        detail = f"{kind}: {item.type.text}"
    elif isinstance(item, n.Requirement):
        detail = item.summary
    span = item.span if item.span.line > 0 else item.name.span
    return OutlineSymbol(item.name.text, kind, detail, span, item.name.span, tuple(children))
