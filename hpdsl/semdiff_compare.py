"""The comparison behind `hpdsl diff`: two checked packages in, a list of changes in engineering terms out.

Constructs are matched by kind and name (programs, then the items inside them, states of a
machine, rows of a table by their key, ...), never by position in a file, so moving a construct
to another file or re-indenting it is no change. Nodes are compared in a canonical form: spans,
the spelling of a number (`2.0` and `2.00`), unit aliases (`°C` and `C`) and line breaks inside
documentation take no part. Comments are not in the tree at all. What is shown is the text as
written in the source, with its whitespace normalised and its comments left out.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, TypeVar

from hpdsl import nodes as n
from hpdsl import units
from hpdsl.source import SourceFile

_N = TypeVar("_N")

# Lines stay readable in a terminal: a longer construct is clipped, its location says where to read it.
MAX_SHOWN = 120

ROW_ORDER_NOTE = "rows match top to bottom: the first row whose key cell contains the key applies"
TRANSITION_ORDER_NOTE = "the first transition whose guard is true is taken"
STATEMENT_ORDER_NOTE = "statements run in order: a later assignment wins"


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class RowChange:
    """One changed row of a table, cell by cell, for the Markdown table of a review comment."""

    status: str  # "added", "removed", "changed", "moved", "key changed"
    key: str  # the key cell as written (in OLD for a removed row)
    cells: tuple[tuple[str | None, str | None], ...]  # per column of `columns`: (old, new) as written


@dataclass(frozen=True)
class Change:
    """One difference between OLD and NEW, described for a reviewer."""

    group: str  # the top-level construct it belongs to: "program Changeover", "table operating_regime"
    subject: str  # what changed: "parameter `cooling_above`", "machine `defrost`, state `Idle`"
    description: str  # how: "default `21C` -> `22C` (raised by 1 K)", "added"
    location: str  # file:line in NEW, or in OLD when the construct is gone (`removed`)
    removed: bool
    cites: tuple[str, ...]  # requirement IDs the construct cites
    behaviour: bool  # False for documentation, citations and the requirement list
    detail: str = ""  # a word diff of changed documentation, for a terminal
    documentation: tuple[str, str] | None = None  # old and new documentation text, when that changed
    row: RowChange | None = None
    columns: tuple[str, ...] = ()  # the table's columns (key first), with `row`

    @property
    def line(self) -> str:
        """The change as one sentence, without its location."""
        text = f"{self.subject}: {self.description}" if self.subject else self.description
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(frozen=True)
class Group:
    """A top-level construct and its changes, in the order they are reported."""

    title: str
    changes: tuple[Change, ...]


# --------------------------------------------------------------------------- one side
class Side:
    """One version of the package: its files (to show text as written) and its canonical modules."""

    def __init__(self, sources: dict[str, SourceFile], modules: Sequence[n.Module]) -> None:
        self.sources = sources
        # Documentation is compared with its line breaks collapsed; shown as written.
        self.written: dict[str, str] = {}
        self.modules = [canonical(module, self.written) for module in modules]

    def raw(self, node: n.Node) -> str:
        """The text of a node as written, comments left out and whitespace collapsed."""
        source = self.sources.get(node.span.file)
        if source is None:
            return _fallback_text(node)
        return normalise_code(source.text_of(node.span))

    def text(self, node: n.Node) -> str:
        """`raw`, clipped to a readable length."""
        return clip(self.raw(node))

    def where(self, node: n.Node) -> str:
        return f"{node.span.file}:{node.span.line}"


_CODE_TOKENS = re.compile(r'"""(?:.|\n)*?"""|"(?:[^"\\\n]|\\.)*"|(?:#|//)[^\n]*')


def normalise_code(text: str) -> str:
    """Code as one line: comments removed (strings kept), runs of whitespace made one space."""
    stripped = _CODE_TOKENS.sub(lambda m: m.group(0) if m.group(0).startswith('"') else " ", text)
    return " ".join(stripped.split())


def clip(text: str, limit: int = MAX_SHOWN) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 2].rstrip() + " …"


def _fallback_text(node: n.Node) -> str:
    for name in ("text", "name"):
        value = getattr(node, name, None)
        if isinstance(value, str):
            return value
        if isinstance(value, n.Ident):
            return value.text
    return type(node).__name__


# --------------------------------------------------------------------------- canonical form
def canonical(node: _N, written: dict[str, str] | None = None) -> _N:
    """The node with what does not change behaviour made uniform, spans kept for locations.

    Documentation strings are collapsed to one line; `written` collects each one's original.
    """
    if isinstance(node, n.Quantity):
        unit = units.lookup(node.unit)
        return dataclasses.replace(node, text="", unit=unit.symbol if unit is not None else node.unit)
    if isinstance(node, (n.Number, n.TimeOfDay)):
        return dataclasses.replace(node, text="")
    if isinstance(node, n.TypeRef):
        return dataclasses.replace(node, text="".join(node.text.split()))
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(node):
        if not f.compare or not f.init:
            continue
        value = getattr(node, f.name)
        new_value: Any
        if isinstance(value, tuple):
            new_value = tuple(canonical(v, written) for v in value)
        elif isinstance(value, str) and f.name in ("doc", "summary"):
            new_value = " ".join(value.split())
            if written is not None:
                written.setdefault(new_value, value)
        else:
            new_value = canonical(value, written)
        if new_value is not value:
            changes[f.name] = new_value
    return dataclasses.replace(node, **changes) if changes else node


# --------------------------------------------------------------------------- words
def _key_of(item: n.Item) -> tuple[str, str]:
    """How an item is matched: declarations of any kind share one namespace, other kinds their own."""
    category = "declaration" if isinstance(item, n.Declaration) else type(item).__name__
    return category, item.name.text


def _named(item: n.Item) -> str:
    return f"{n.keyword(item)} `{item.name.text}`"


def _cites(meta: n.Meta) -> tuple[str, ...]:
    return tuple(ident.text for ident in meta.cites)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


_VALUE_WORDS = {"parameter": "default", "const": "value", "output": "initial value", "var": "initial value"}
_TIME = units.Dimension(time=1)


def magnitude(old: n.Expr, new: n.Expr) -> str:
    """How far a numeric value moved, in the finer unit: " (raised by 1 K)", "" unless two numbers."""
    a, b = _numeric(old), _numeric(new)
    if a is None or b is None:
        return ""
    unit = a[1] if a[1].scale < b[1].scale else b[1]  # the finer of the two: 90 s, not 1.5 min
    try:
        to_old, to_new = a[1].factor_to(unit), b[1].factor_to(unit)
    except units.UnitError:
        return ""
    before = a[0] * to_old[0] + to_old[1]
    after = b[0] * to_new[0] + to_new[1]
    delta = after - before
    if abs(delta) <= 1e-9 * max(abs(before), abs(after), 1.0):
        return " (the same value)"
    size = units.format_quantity(abs(delta), units.difference_unit(unit))
    if unit.dimension == _TIME:
        word = "longer" if delta > 0 else "shorter"
    else:
        word = "raised" if delta > 0 else "lowered"
    return f" ({word} by {size})"


def _numeric(expr: n.Expr) -> tuple[float, units.Unit] | None:
    sign = 1.0
    while True:
        if isinstance(expr, n.Paren):
            expr = expr.inner
        elif isinstance(expr, n.Unary) and expr.op == "-":
            sign, expr = -sign, expr.operand
        else:
            break
    if isinstance(expr, n.Number):
        return sign * expr.value, units.NUMBER
    if isinstance(expr, n.Quantity):
        unit = units.lookup(expr.unit)
        return (sign * expr.value, unit) if unit is not None else None
    return None


def word_diff(old: str, new: str, *, context: int = 4, max_hunks: int = 3, fragment: int = 60) -> str:
    """The words that changed between two texts, git-style: `... [-old words-] {+new words+} ...`."""
    a, b = old.split(), new.split()
    hunks: list[str] = []
    groups = list(SequenceMatcher(a=a, b=b, autojunk=False).get_grouped_opcodes(context))
    for group in groups[:max_hunks]:
        parts: list[str] = []
        if group[0][1] > 0:
            parts.append("…")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                parts.append(" ".join(a[i1:i2]))
                continue
            if i2 > i1:
                parts.append("[-" + clip(" ".join(a[i1:i2]), fragment) + "-]")
            if j2 > j1:
                parts.append("{+" + clip(" ".join(b[j1:j2]), fragment) + "+}")
        if group[-1][2] < len(a):
            parts.append("…")
        hunks.append(" ".join(parts))
    text = " ".join(hunks).replace("… …", "…")
    if len(groups) > max_hunks:
        text += f" (and {_plural(len(groups) - max_hunks, 'more change')})"
    return text


def moved(pairs: Sequence[tuple[int, int]]) -> set[int]:
    """Of matched (old position, new position) pairs in NEW order, the NEW positions that moved.

    The longest run that kept its relative order stays; everything else counts as moved, so
    moving one row up is one move, not a shift of every row it passed.
    """
    olds = [old for old, _ in pairs]
    # Longest increasing subsequence by patience sorting, with back links to recover it.
    tails: list[int] = []
    tail_index: list[int] = []
    back: list[int] = [-1] * len(olds)
    for index, value in enumerate(olds):
        low, high = 0, len(tails)
        while low < high:
            middle = (low + high) // 2
            if tails[middle] < value:
                low = middle + 1
            else:
                high = middle
        if low > 0:
            back[index] = tail_index[low - 1]
        if low == len(tails):
            tails.append(value)
            tail_index.append(index)
        else:
            tails[low] = value
            tail_index[low] = index
    kept: set[int] = set()
    index = tail_index[-1] if tail_index else -1
    while index >= 0:
        kept.add(index)
        index = back[index]
    return {pairs[i][1] for i in range(len(pairs)) if i not in kept}


def match(
    olds: Sequence[_N],
    news: Sequence[_N],
    *keys: Callable[[_N], object],
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pair elements of two sequences: first by the first key, what is left by the next, ...

    Returns the pairs (old index, new index) in NEW order, and the unmatched old and new indices.
    """
    pairs: dict[int, int] = {}  # new index -> old index
    used: set[int] = set()
    for key in keys:
        waiting: dict[object, list[int]] = {}
        for i, old in enumerate(olds):
            if i not in used:
                waiting.setdefault(key(old), []).append(i)
        for j, new in enumerate(news):
            if j in pairs:
                continue
            candidates = waiting.get(key(new))
            if candidates:
                i = candidates.pop(0)
                pairs[j] = i
                used.add(i)
    return (
        sorted(((i, j) for j, i in pairs.items()), key=lambda pair: pair[1]),
        [i for i in range(len(olds)) if i not in used],
        [j for j in range(len(news)) if j not in pairs],
    )


# --------------------------------------------------------------------------- the comparison
class Differ:
    """Walks OLD and NEW together and collects the changes, grouped by top-level construct."""

    def __init__(self, old: Side, new: Side) -> None:
        self.old = old
        self.new = new
        self._groups: dict[str, list[Change]] = {}
        self._group = ""

    # -- recording
    def _emit(
        self,
        subject: str,
        description: str,
        node: n.Node,
        cites: Iterable[str],
        *,
        removed: bool = False,
        behaviour: bool = True,
        detail: str = "",
        documentation: tuple[str, str] | None = None,
        row: RowChange | None = None,
        columns: tuple[str, ...] = (),
    ) -> None:
        side = self.old if removed else self.new
        self._groups.setdefault(self._group, []).append(
            Change(
                group=self._group,
                subject=subject,
                description=description,
                location=side.where(node),
                removed=removed,
                cites=tuple(cites),
                behaviour=behaviour,
                detail=detail,
                documentation=documentation,
                row=row,
                columns=columns,
            )
        )

    def _value(
        self,
        subject: str,
        label: str,
        old: n.Expr | None,
        new: n.Expr | None,
        at: n.Node,
        cites: Sequence[str],
    ) -> None:
        """A clause holding one expression: added, removed, or changed from one text to another."""
        if old == new:
            return
        if old is None and new is not None:
            self._emit(subject, f"{label} `{self.new.text(new)}` added", new, cites)
        elif new is None and old is not None:
            self._emit(subject, f"{label} `{self.old.text(old)}` removed", at, cites)
        elif old is not None and new is not None:
            self._emit(subject, f"{label} {self._before_after(old, new)}{magnitude(old, new)}", new, cites)

    def _before_after(self, old: n.Node, new: n.Node) -> str:
        """ "`old` -> `new`" as written; for long text only the words that changed."""
        before, after = self.old.raw(old), self.new.raw(new)
        if max(len(before), len(after)) <= MAX_SHOWN // 2:
            return f"`{before}` -> `{after}`"
        return f"changed: `{word_diff(before, after, context=3, fragment=MAX_SHOWN)}`"

    def _meta(self, subject: str, old: n.Meta, new: n.Meta, at: n.Node, cites: Sequence[str]) -> None:
        """Documentation, citations and priority of a construct."""
        if old.doc != new.doc:
            where: n.Node = _located(new, at) if new.doc is not None else at
            if new.doc is None:
                description, detail = "documentation removed", ""
            elif old.doc is None:
                description, detail = "documentation added", f'"{clip(new.doc, 80)}"'
            else:
                description, detail = "documentation changed", word_diff(old.doc, new.doc)
            self._emit(
                subject,
                description,
                where,
                cites,
                behaviour=False,
                detail=detail,
                documentation=(
                    self.old.written.get(old.doc or "", ""),
                    self.new.written.get(new.doc or "", ""),
                ),
            )
        before, after = _cites(old), _cites(new)
        if before != after:
            added = [c for c in after if c not in before]
            gone = [c for c in before if c not in after]
            parts = []
            if added:
                parts.append("now also cites " + ", ".join(added))
            if gone:
                parts.append("no longer cites " + ", ".join(gone))
            if not parts:
                parts.append("citations reordered")
            self._emit(subject, "; ".join(parts), _located(new, at), after, behaviour=False)
        if old.priority != new.priority:
            if old.priority is None:
                description = f"priority {new.priority} added"
            elif new.priority is None:
                description = f"priority {old.priority} removed"
            else:
                word = "raised" if new.priority > old.priority else "lowered"
                description = f"priority {old.priority} -> {new.priority} ({word})"
            self._emit(subject, description, _located(new, at), cites)

    # -- the package
    def run(self) -> list[Group]:
        """Every change, grouped by top-level construct: NEW's order, then what only OLD has."""
        olds = [item for module in self.old.modules for item in module.items]
        news = [item for module in self.new.modules for item in module.items]
        self._items(olds, news, top_level=True)
        return [Group(title, tuple(changes)) for title, changes in self._groups.items()]

    def _items(
        self,
        olds: Sequence[n.Item],
        news: Sequence[n.Item],
        *,
        top_level: bool,
    ) -> None:
        """Match items by kind and name; report additions, removals, renames and changes."""
        pairs, gone, added = match(olds, news, _key_of)
        renamed = self._renames([olds[i] for i in gone], [news[j] for j in added])
        paired = {j: olds[i] for i, j in pairs}
        for j, item in enumerate(news):
            if top_level:
                self._group = f"{n.keyword(item)} {item.name.text}"
            if j in paired:
                self._item(paired[j], item)
            elif id(item) in renamed:
                before = renamed[id(item)]
                self._emit(
                    _named(before),
                    f"renamed to `{item.name.text}`, otherwise unchanged",
                    item.name,
                    _cites(item.meta),
                    behaviour=not isinstance(item, n.Requirement),
                )
            else:
                self._emit(
                    _named(item),
                    "added" + self._summary(self.new, item),
                    item.name,
                    _cites(item.meta),
                    behaviour=not isinstance(item, n.Requirement),
                )
        renamed_old = {id(old) for old in renamed.values()}
        for i in gone:
            item = olds[i]
            if id(item) in renamed_old:
                continue
            if top_level:
                self._group = f"{n.keyword(item)} {item.name.text}"
            self._emit(
                _named(item),
                "removed",
                item.name,
                _cites(item.meta),
                removed=True,
                behaviour=not isinstance(item, n.Requirement),
            )

    def _renames(self, gone: Sequence[n.Item], added: Sequence[n.Item]) -> dict[int, n.Item]:
        """NEW items (by id) that are an OLD item under another name, everything else equal."""
        found: dict[int, n.Item] = {}
        for old in gone:
            candidates = [
                new
                for new in added
                if type(new) is type(old) and dataclasses.replace(old, name=new.name) == new
            ]
            if len(candidates) == 1 and id(candidates[0]) not in found:
                found[id(candidates[0])] = old
        return found

    def _summary(self, side: Side, item: n.Item) -> str:
        """What a new construct is, in brief: a declaration's type and value, an alarm's condition."""
        parts: list[str] = []
        if isinstance(item, n.Declaration):
            parts.append(item.name.text + (":" if item.type is not None else ""))
            if item.type is not None:
                parts.append(side.raw(item.type))
            if item.initial is not None:
                parts.append("= " + side.raw(item.initial))
            if item.range is not None:
                parts.append(f"range {side.raw(item.range.low)} .. {side.raw(item.range.high)}")
            return f" (`{clip(' '.join(parts), 100)}`)"
        if isinstance(item, n.Alarm):
            if item.severity is not None:
                parts.append(f"severity {item.severity.text}")
            if item.condition is not None:
                parts.append(f"when `{clip(side.raw(item.condition), 80)}`")
        elif isinstance(item, n.EnumDecl):
            parts.append(", ".join(f"`{m.text}`" for m in item.members))
        elif isinstance(item, n.Requirement):
            parts.append(f'"{clip(item.summary, 80)}"')
        return f" ({', '.join(parts)})" if parts else ""

    def _item(self, old: n.Item, new: n.Item) -> None:
        """Two items with the same kind and name: what differs inside."""
        if old == new:
            return
        subject = _named(new)
        cites = _cites(new.meta)
        self._meta(subject, old.meta, new.meta, new.name, cites)
        if isinstance(old, n.Program) and isinstance(new, n.Program):
            self._items(old.items, new.items, top_level=False)
        elif isinstance(old, n.Declaration) and isinstance(new, n.Declaration):
            self._declaration(old, new)
        elif isinstance(old, n.Rule) and isinstance(new, n.Rule):
            self._body(subject, "", old.body, new.body, new.name, cites)
        elif isinstance(old, n.Machine) and isinstance(new, n.Machine):
            self._machine(old, new)
        elif isinstance(old, n.Alarm) and isinstance(new, n.Alarm):
            self._alarm(old, new)
        elif isinstance(old, n.Table) and isinstance(new, n.Table):
            self._table(old, new)
        elif isinstance(old, n.Curve) and isinstance(new, n.Curve):
            self._curve(old, new)
        elif isinstance(old, n.Hysteresis) and isinstance(new, n.Hysteresis):
            self._hysteresis(old, new)
        elif isinstance(old, n.EnumDecl) and isinstance(new, n.EnumDecl):
            self._enum(old, new)
        elif isinstance(old, n.Requirement) and isinstance(new, n.Requirement):
            if old.summary != new.summary:
                self._emit(
                    subject,
                    "summary changed",
                    new.name,
                    (),
                    behaviour=False,
                    detail=word_diff(old.summary, new.summary),
                    documentation=(self.old.written[old.summary], self.new.written[new.summary]),
                )
        elif isinstance(old, n.Schedule) and isinstance(new, n.Schedule):
            self._schedule(old, new)
        elif isinstance(old, (n.Totalizer, n.Counter)) and isinstance(new, (n.Totalizer, n.Counter)):
            self._accumulator(old, new)
        elif isinstance(old, n.EventDecl) and isinstance(new, n.EventDecl):
            self._event(old, new)
        else:
            self._fields(subject, old, new, cites)

    def _fields(self, subject: str, old: n.Node, new: n.Node, cites: Sequence[str]) -> None:
        """Any other construct: each differing field, as written."""
        for f in dataclasses.fields(old):
            if not f.compare or f.name in ("name", "meta"):
                continue
            before, after = getattr(old, f.name), getattr(new, f.name)
            if before == after:
                continue
            self._emit(
                subject,
                f"{f.name} `{self._show(self.old, before)}` -> `{self._show(self.new, after)}`",
                new,
                cites,
            )

    def _show(self, side: Side, value: object) -> str:
        if isinstance(value, n.Node):
            return side.text(value)
        if isinstance(value, tuple):
            return clip(", ".join(self._show(side, v) for v in value))
        return str(value)

    # -- declarations
    def _declaration(self, old: n.Declaration, new: n.Declaration) -> None:
        subject = _named(new)
        cites = _cites(new.meta)
        at = new.name
        if old.kind != new.kind:
            self._emit(subject, f"`{old.kind}` -> `{new.kind}`", at, cites)
        if old.type != new.type:
            self._value_text(subject, "type", old.type, new.type, at, cites)
        self._value(subject, _VALUE_WORDS.get(new.kind, "value"), old.initial, new.initial, at, cites)
        if old.range != new.range:
            if old.range is None or new.range is None:
                self._value_text(subject, "range", old.range, new.range, at, cites)
            else:
                self._value(subject, "lower end of the range", old.range.low, new.range.low, at, cites)
                self._value(subject, "upper end of the range", old.range.high, new.range.high, at, cites)
        self._value(subject, "fallback", old.fallback, new.fallback, at, cites)
        self._value(subject, "minimum on time", old.min_on, new.min_on, at, cites)
        self._value(subject, "minimum off time", old.min_off, new.min_off, at, cites)
        if old.wiring != new.wiring:
            self._value_text(subject, "wired from", old.wiring, new.wiring, at, cites)

    def _value_text(
        self,
        subject: str,
        label: str,
        old: n.Node | None,
        new: n.Node | None,
        at: n.Node,
        cites: Sequence[str],
    ) -> None:
        """A clause that is not an expression (a type, a range, a wiring): shown as written."""
        if old is None and new is not None:
            self._emit(subject, f"{label} `{self.new.text(new)}` added", new, cites)
        elif new is None and old is not None:
            self._emit(subject, f"{label} `{self.old.text(old)}` removed", at, cites)
        elif old is not None and new is not None:
            self._emit(subject, f"{label} `{self.old.text(old)}` -> `{self.new.text(new)}`", new, cites)

    # -- statements
    def _body(
        self,
        subject: str,
        context: str,
        olds: tuple[n.Stmt, ...],
        news: tuple[n.Stmt, ...],
        at: n.Node,
        cites: Sequence[str],
    ) -> None:
        """A block of statements: added, removed, changed and moved ones.

        `context` says where the block sits ("in `entry`", "in the `if x` branch"); `at` locates
        changes that have no node of their own in NEW.
        """
        if olds == news:
            return
        prefix = f"{context}: " if context else ""
        events: list[tuple[str, int, int]] = []  # ("pair" | "add" | "remove", old index, new index)
        for tag, i1, i2, j1, j2 in SequenceMatcher(a=olds, b=news, autojunk=False).get_opcodes():
            if tag == "equal":
                continue
            pairs, gone, _ = match(olds[i1:i2], news[j1:j2], _statement_key)
            paired = {j: i for i, j in pairs}
            for j in range(j2 - j1):
                if j in paired:
                    events.append(("pair", i1 + paired[j], j1 + j))
                else:
                    events.append(("add", -1, j1 + j))
            events.extend(("remove", i1 + i, -1) for i in gone)
        # A statement removed in one place and added in another moved: order matters in a block.
        removed_at = {olds[i]: i for kind, i, _ in events if kind == "remove"}
        moves: dict[int, int] = {}
        for kind, _, j in events:
            if kind == "add" and news[j] in removed_at:
                moves[j] = removed_at.pop(news[j])
        moved_old = set(moves.values())
        for kind, i, j in events:
            if kind == "pair":
                self._statement(subject, context, olds[i], news[j], cites)
            elif kind == "add" and j in moves:
                self._emit(
                    subject,
                    f"{prefix}statement `{self.new.text(news[j])}` moved from position {moves[j] + 1}"
                    f" to {j + 1} ({STATEMENT_ORDER_NOTE})",
                    news[j],
                    cites,
                )
            elif kind == "add":
                self._emit(subject, f"{prefix}statement `{self.new.text(news[j])}` added", news[j], cites)
            elif kind == "remove" and i not in moved_old:
                self._emit(
                    subject,
                    f"{prefix}statement `{self.old.text(olds[i])}` removed",
                    olds[i],
                    cites,
                    removed=True,
                )

    def _statement(self, subject: str, context: str, old: n.Stmt, new: n.Stmt, cites: Sequence[str]) -> None:
        if isinstance(old, n.If) and isinstance(new, n.If):
            self._if(subject, context, old, new, cites)
            return
        prefix = f"{context}: " if context else ""
        extra = (
            magnitude(old.value, new.value) if isinstance(old, n.Assign) and isinstance(new, n.Assign) else ""
        )
        self._emit(subject, f"{prefix}statement {self._before_after(old, new)}{extra}", new, cites)

    def _if(self, subject: str, context: str, old: n.If, new: n.If, cites: Sequence[str]) -> None:
        """Branches matched by their condition, then by position; their bodies compared."""
        prefix = f"{context}: " if context else ""
        inside = f"{context}, " if context else ""
        head = f"`if {clip(self.new.raw(new.branches[0].condition), 60)}`"
        pairs, gone, added = match(old.branches, new.branches, lambda b: b.condition, lambda b: "by position")
        for i, j in pairs:
            before, after = old.branches[i], new.branches[j]
            if before.condition != after.condition:
                self._emit(
                    subject,
                    f"{prefix}condition {self._before_after(before.condition, after.condition)} of {head}",
                    after.condition,
                    cites,
                )
            label = self._branch_label(self.new, new, j)
            self._body(subject, f"{inside}in {label}", before.body, after.body, after, cites)
        for j in added:
            self._emit(
                subject,
                f"{prefix}{self._branch_label(self.new, new, j)} added to {head}: "
                + self._statements(new.branches[j].body),
                new.branches[j],
                cites,
            )
        for i in gone:
            self._emit(
                subject,
                f"{prefix}{self._branch_label(self.old, old, i)} removed from {head}",
                old.branches[i],
                cites,
                removed=True,
            )
        if old.else_body is not None and new.else_body is not None:
            self._body(
                subject, f"{inside}in the `else` branch of {head}", old.else_body, new.else_body, new, cites
            )
        elif new.else_body is not None:
            self._emit(
                subject,
                f"{prefix}`else` branch added to {head}: " + self._statements(new.else_body),
                new,
                cites,
            )
        elif old.else_body is not None:
            self._emit(subject, f"{prefix}`else` branch removed from {head}", new, cites)

    def _branch_label(self, side: Side, statement: n.If, index: int) -> str:
        keyword = "if" if index == 0 else "else if"
        return f"the `{keyword} {clip(side.raw(statement.branches[index].condition), 60)}` branch"

    # -- state machines
    def _machine(self, old: n.Machine, new: n.Machine) -> None:
        subject = _named(new)
        cites = _cites(new.meta)
        old_initial = next((s.name.text for s in old.states if s.initial), None)
        new_initial = next((s.name.text for s in new.states if s.initial), None)
        if old_initial != new_initial:
            self._emit(subject, f"initial state `{old_initial}` -> `{new_initial}`", new.name, cites)
        pairs, gone, _ = match(old.states, new.states, lambda s: s.name.text)
        paired = {j: i for i, j in pairs}
        for j, state in enumerate(new.states):
            if j in paired:
                self._state(new, old.states[paired[j]], state)
            else:
                initial = " (the initial state)" if state.initial else ""
                self._emit(
                    f"{subject}, state `{state.name.text}`",
                    f"added{initial}, with {_plural(len(state.transitions), 'transition')}"
                    + self._transition_list(self.new, state.transitions),
                    state.name,
                    _cites(state.meta) or cites,
                )
        for i in gone:
            state = old.states[i]
            self._emit(
                f"{subject}, state `{state.name.text}`",
                "removed",
                state.name,
                _cites(state.meta) or cites,
                removed=True,
            )

    def _transition_list(self, side: Side, transitions: Sequence[n.Transition]) -> str:
        if not transitions:
            return ""
        return ": " + ", ".join(f"`{self._transition(side, t)}`" for t in transitions)

    def _transition(self, side: Side, transition: n.Transition) -> str:
        return f"{transition.kind} {side.text(transition.trigger)} -> {transition.target.text}"

    def _state(self, machine: n.Machine, old: n.State, new: n.State) -> None:
        if old == new:
            return
        subject = f"{_named(machine)}, state `{new.name.text}`"
        cites = _cites(new.meta) or _cites(machine.meta)
        self._meta(subject, old.meta, new.meta, new.name, cites)
        for label, before, after in (
            ("entry", old.entry, new.entry),
            ("during", old.during, new.during),
            ("exit", old.exit, new.exit),
        ):
            if before is None and after is not None:
                self._emit(subject, f"`{label}` actions added: {self._statements(after)}", new.name, cites)
            elif after is None and before is not None:
                self._emit(subject, f"`{label}` actions removed", new.name, cites)
            elif before is not None and after is not None:
                self._body(subject, f"in `{label}`", before, after, new.name, cites)
        self._transitions(subject, old, new, cites)

    def _statements(self, body: Sequence[n.Stmt]) -> str:
        """New statements in brief, for a block that was added."""
        if not body:
            return "no statements"
        return clip("; ".join(f"`{self.new.raw(s)}`" for s in body))

    def _transitions(self, subject: str, old: n.State, new: n.State, cites: Sequence[str]) -> None:
        olds, news = old.transitions, new.transitions
        pairs, gone, added = match(
            olds,
            news,
            lambda t: (t.kind, t.trigger, t.target.text),
            lambda t: (t.kind, t.target.text),
            lambda t: (t.kind, t.trigger),
        )
        moved_to = moved(pairs)
        for i, j in pairs:
            before, after = olds[i], news[j]
            own = _cites(after.meta) or cites
            shown = f"`{self._transition(self.new, after)}`"
            if before.trigger != after.trigger:
                word = "guard" if after.kind == "when" else "timeout"
                self._emit(
                    subject,
                    f"{word} of the transition to `{after.target.text}` changed: "
                    f"`{self.old.text(before.trigger)}` -> `{self.new.text(after.trigger)}`"
                    + magnitude(before.trigger, after.trigger),
                    after.trigger,
                    own,
                )
            if before.target != after.target:
                self._emit(
                    subject,
                    f"target of `{after.kind} {self.new.text(after.trigger)}` changed: "
                    f"`{before.target.text}` -> `{after.target.text}`",
                    after.target,
                    own,
                )
            self._meta(f"{subject}, transition {shown}", before.meta, after.meta, after, own)
            if j in moved_to:
                self._emit(
                    subject,
                    f"transition {shown} moved from position {i + 1} to {j + 1} ({TRANSITION_ORDER_NOTE})",
                    after,
                    own,
                )
        for j in added:
            transition = news[j]
            self._emit(
                subject,
                f"transition `{self._transition(self.new, transition)}` added at position {j + 1}",
                transition,
                _cites(transition.meta) or cites,
            )
        for i in gone:
            transition = olds[i]
            self._emit(
                subject,
                f"transition `{self._transition(self.old, transition)}` removed",
                transition,
                _cites(transition.meta) or cites,
                removed=True,
            )

    # -- alarms
    def _alarm(self, old: n.Alarm, new: n.Alarm) -> None:
        subject = _named(new)
        cites = _cites(new.meta)
        at = new.name
        self._value(subject, "condition", old.condition, new.condition, at, cites)
        if old.severity != new.severity:
            self._value_text(subject, "severity", old.severity, new.severity, at, cites)
        self._value(subject, "delay", old.delay, new.delay, at, cites)
        if old.latching != new.latching:
            self._emit(subject, "now latching" if new.latching else "no longer latching", at, cites)
        self._value(subject, "acknowledge", old.acknowledge, new.acknowledge, at, cites)
        self._body(subject, "in the action", old.action, new.action, at, cites)

    # -- tables and curves
    def _key_param(self, subject: str, old: n.KeyParam, new: n.KeyParam, cites: Sequence[str]) -> None:
        if old.name != new.name:
            self._emit(subject, f"key `{old.name.text}` renamed to `{new.name.text}`", new.name, cites)
        if old.type != new.type:
            self._value_text(subject, "key type", old.type, new.type, new, cites)
        if old.range != new.range:
            self._value_text(subject, "key range", old.range, new.range, new, cites)

    def _table(self, old: n.Table, new: n.Table) -> None:
        subject = _named(new)
        cites = _cites(new.meta)
        self._key_param(subject, old.key, new.key, cites)
        old_columns = [c.text for c in old.columns]
        new_columns = [c.text for c in new.columns]
        for column in new.columns:
            if column.text not in old_columns:
                self._emit(subject, f"column `{column.text}` added", column, cites)
        for column in old.columns:
            if column.text not in new_columns:
                self._emit(subject, f"column `{column.text}` removed", column, cites, removed=True)
        columns = (new.key_header.text, *new_columns, *(c for c in old_columns if c not in new_columns))

        def cells(table: n.Table, row: n.TableRow) -> dict[str, n.Expr]:
            return {c.text: cell for c, cell in zip(table.columns, row.cells, strict=False)}

        def comparable(table: n.Table, row: n.TableRow) -> tuple[tuple[str, n.Expr], ...]:
            shared = cells(table, row)
            return tuple(
                (c, shared[c]) for c in columns if c in shared and c in old_columns and c in new_columns
            )

        pairs, gone, added = match(
            old.rows,
            new.rows,
            lambda r: r.key,
        )
        # A row whose cells stayed while its key changed is one change, not a removal and an addition.
        rekeyed_pairs, gone_left, added_left = match(
            [old.rows[i] for i in gone], [new.rows[j] for j in added], lambda r: r.cells
        )
        rekeyed = {added[j]: gone[i] for i, j in rekeyed_pairs}
        gone = [gone[i] for i in gone_left]
        added = [added[j] for j in added_left]
        moved_to = moved(pairs)
        paired = {j: i for i, j in pairs}

        def row_cells(
            old_row: n.TableRow | None, new_row: n.TableRow | None
        ) -> tuple[tuple[str | None, str | None], ...]:
            before = cells(old, old_row) if old_row is not None else {}
            after = cells(new, new_row) if new_row is not None else {}
            shown: list[tuple[str | None, str | None]] = []
            for column in columns[1:]:
                a = self.old.text(before[column]) if column in before else None
                b = self.new.text(after[column]) if column in after else None
                shown.append((a, b))
            return tuple(shown)

        for j, row in enumerate(new.rows):
            key_text = self.new.text(row.key)
            if j in paired:
                before = old.rows[paired[j]]
                changed = [
                    (column, cells(old, before)[column], cell)
                    for column, cell in comparable(new, row)
                    if cells(old, before).get(column) != cell
                ]
                key_cell = (self.old.text(before.key), key_text)
                if changed:
                    described = ", ".join(
                        f"`{column}` `{self.old.text(a)}` -> `{self.new.text(b)}`{magnitude(a, b)}"
                        for column, a, b in changed
                    )
                    self._emit(
                        subject,
                        f"row `{key_text}`: {described}",
                        row,
                        cites,
                        row=RowChange("changed", key_cell[1], row_cells(before, row)),
                        columns=columns,
                    )
                if j in moved_to:
                    self._emit(
                        subject,
                        f"row `{key_text}` moved from position {paired[j] + 1} to {j + 1} ({ROW_ORDER_NOTE})",
                        row,
                        cites,
                        row=RowChange(
                            f"moved from {paired[j] + 1} to {j + 1}", key_text, row_cells(before, row)
                        ),
                        columns=columns,
                    )
            elif j in rekeyed:
                before = old.rows[rekeyed[j]]
                self._emit(
                    subject,
                    f"row key `{self.old.text(before.key)}` -> `{key_text}`, its values unchanged",
                    row,
                    cites,
                    row=RowChange(
                        "key changed", f"{self.old.text(before.key)} -> {key_text}", row_cells(before, row)
                    ),
                    columns=columns,
                )
            elif j in added:
                self._emit(
                    subject,
                    f"row `{self.new.text(row)}` added at position {j + 1}",
                    row,
                    cites,
                    row=RowChange("added", key_text, row_cells(None, row)),
                    columns=columns,
                )
        for i in gone:
            row = old.rows[i]
            self._emit(
                subject,
                f"row `{self.old.text(row)}` removed (was at position {i + 1})",
                row,
                cites,
                removed=True,
                row=RowChange("removed", self.old.text(row.key), row_cells(row, None)),
                columns=columns,
            )

    def _curve(self, old: n.Curve, new: n.Curve) -> None:
        subject = _named(new)
        cites = _cites(new.meta)
        self._key_param(subject, old.key, new.key, cites)
        if old.result != new.result:
            self._value_text(subject, "result type", old.result, new.result, new.result, cites)
        if old.monotonic != new.monotonic:
            self._emit(
                subject,
                f"monotonic `{old.monotonic or 'not declared'}` -> `{new.monotonic or 'not declared'}`",
                new.name,
                cites,
            )
        pairs, gone, added = match(old.points, new.points, lambda p: p.x)
        for i, j in pairs:
            before, after = old.points[i], new.points[j]
            if before.y != after.y:
                self._emit(
                    subject,
                    f"point at `{self.new.text(after.x)}`: `{self.old.text(before.y)}` -> "
                    f"`{self.new.text(after.y)}`{magnitude(before.y, after.y)}",
                    after,
                    cites,
                )
        for j in added:
            point = new.points[j]
            self._emit(subject, f"point `{self.new.text(point)}` added", point, cites)
        for i in gone:
            point = old.points[i]
            self._emit(subject, f"point `{self.old.text(point)}` removed", point, cites, removed=True)

    # -- the rest
    def _hysteresis(self, old: n.Hysteresis, new: n.Hysteresis) -> None:
        subject = _named(new)
        cites = _cites(new.meta)
        self._value(subject, "input", old.input, new.input, new.name, cites)
        pairs, gone, added = match(
            old.thresholds,
            new.thresholds,
            lambda t: (t.side, t.value, t.level),
            lambda t: (t.side, t.value),
            lambda t: (t.side, t.level),
        )
        for i, j in pairs:
            before, after = old.thresholds[i], new.thresholds[j]
            label = f"`{after.side}` threshold"
            self._value(
                subject,
                f"level of the {label} to `{self.new.text(after.value)}`",
                before.level,
                after.level,
                after,
                cites,
            )
            self._value(
                subject,
                f"value of the {label} at `{self.new.text(after.level)}`",
                before.value,
                after.value,
                after,
                cites,
            )
        for j in added:
            self._emit(
                subject, f"threshold `{self.new.text(new.thresholds[j])}` added", new.thresholds[j], cites
            )
        for i in gone:
            threshold = old.thresholds[i]
            self._emit(
                subject, f"threshold `{self.old.text(threshold)}` removed", threshold, cites, removed=True
            )

    def _enum(self, old: n.EnumDecl, new: n.EnumDecl) -> None:
        subject = _named(new)
        cites = _cites(new.meta)
        before = [m.text for m in old.members]
        after = [m.text for m in new.members]
        for member in new.members:
            if member.text not in before:
                self._emit(subject, f"member `{member.text}` added", member, cites)
        for member in old.members:
            if member.text not in after:
                self._emit(subject, f"member `{member.text}` removed", member, cites, removed=True)
        kept_before = [m for m in before if m in after]
        kept_after = [m for m in after if m in before]
        if kept_before != kept_after:
            self._emit(
                subject,
                f"member order `{', '.join(before)}` -> `{', '.join(after)}`",
                new.name,
                cites,
            )

    def _schedule(self, old: n.Schedule, new: n.Schedule) -> None:
        subject = _named(new)
        cites = _cites(new.meta)
        for period in new.periods:
            if period not in old.periods:
                self._emit(subject, f"period `{self.new.text(period)}` added", period, cites)
        for period in old.periods:
            if period not in new.periods:
                self._emit(subject, f"period `{self.old.text(period)}` removed", period, cites, removed=True)

    def _accumulator(self, old: n.Totalizer | n.Counter, new: n.Totalizer | n.Counter) -> None:
        subject = _named(new)
        cites = _cites(new.meta)
        if isinstance(old, n.Totalizer) and isinstance(new, n.Totalizer) and old.type != new.type:
            self._value_text(subject, "unit", old.type, new.type, new.type, cites)
        self._value(subject, "source", old.source, new.source, new.name, cites)
        if old.period != new.period:
            before = f"per {old.period.text}" if old.period else "never reset"
            after = f"per {new.period.text}" if new.period else "never reset"
            self._emit(subject, f"reset `{before}` -> `{after}`", new.name, cites)

    def _event(self, old: n.EventDecl, new: n.EventDecl) -> None:
        subject = _named(new)
        cites = _cites(new.meta)
        pairs, gone, added = match(old.fields, new.fields, lambda f: f.name.text)
        for i, j in pairs:
            before, after = old.fields[i], new.fields[j]
            field_subject = f"{subject}, field `{after.name.text}`"
            if before.type != after.type:
                self._value_text(field_subject, "type", before.type, after.type, after, cites)
            if before.doc != after.doc:
                self._meta(field_subject, n.Meta(doc=before.doc), n.Meta(doc=after.doc), after, cites)
        for j in added:
            self._emit(subject, f"field `{self.new.text(new.fields[j])}` added", new.fields[j], cites)
        for i in gone:
            self._emit(
                subject, f"field `{old.fields[i].name.text}` removed", old.fields[i], cites, removed=True
            )


def _located(node: n.Node, fallback: n.Node) -> n.Node:
    """The node, or `fallback` when the node has no place in the source (an empty Meta)."""
    return node if node.span.line else fallback


def _statement_key(statement: n.Stmt) -> object:
    """Statements of a changed stretch pair up: assignments to one name, logs of one event, `if`s."""
    if isinstance(statement, n.Assign):
        return ("assign", statement.target.text)
    if isinstance(statement, n.Log):
        return ("log", statement.event.text)
    return type(statement).__name__


def compare(old: Side, new: Side) -> list[Group]:
    """The changes from OLD to NEW, grouped by top-level construct."""
    return Differ(old, new).run()
