"""What the comparison's parts share: the changes it finds and how they are grouped, one side of
the comparison (a package and the text it was written in), the canonical form of a construct,
the words a change is told in, and the state of one comparison (`DifferBase`).

May import: hpdsl.base, hpdsl.language.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, TypeVar

from hpdsl.base.source import SourceFile
from hpdsl.language import nodes as n
from hpdsl.language import units

NodeT = TypeVar("NodeT")


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
        # The parameters' values in force, when a site file is compared (hpdsl.tools.diff.site).
        self.in_force: dict[tuple[str, str], Any] | None = None
        # Documentation is compared with its line breaks collapsed; shown as written.
        self.written: dict[str, str] = {}
        self.modules = [canonical(module, self.written) for module in modules]

    def raw(self, node: n.Node) -> str:
        """The text of a node as written, comments left out and whitespace collapsed."""
        source = self.sources.get(node.span.file)
        if source is None:
            return fallback_text(node)
        return normalise_code(source.text_of(node.span))

    def text(self, node: n.Node) -> str:
        """`raw`, clipped to a readable length."""
        return clip(self.raw(node))

    def where(self, node: n.Node) -> str:
        return f"{node.span.file}:{node.span.line}"


CODE_TOKENS = re.compile(r'"""(?:.|\n)*?"""|"(?:[^"\\\n]|\\.)*"|(?:#|//)[^\n]*')


def normalise_code(text: str) -> str:
    """Code as one line: comments removed (strings kept), runs of whitespace made one space."""
    stripped = CODE_TOKENS.sub(lambda m: m.group(0) if m.group(0).startswith('"') else " ", text)
    return " ".join(stripped.split())


def clip(text: str, limit: int = MAX_SHOWN) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 2].rstrip() + " …"


def fallback_text(node: n.Node) -> str:
    for name in ("text", "name"):
        value = getattr(node, name, None)
        if isinstance(value, str):
            return value
        if isinstance(value, n.Ident):
            return value.text
    return type(node).__name__


# --------------------------------------------------------------------------- canonical form
def canonical(node: NodeT, written: dict[str, str] | None = None) -> NodeT:
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
def key_of(item: n.Item) -> tuple[str, str]:
    """How an item is matched: declarations of any kind share one namespace, other kinds their own."""
    category = "declaration" if isinstance(item, n.Declaration) else type(item).__name__
    return category, item.name.text


def named(item: n.Item) -> str:
    return f"{n.keyword(item)} `{item.name.text}`"


def cites_of(meta: n.Meta) -> tuple[str, ...]:
    return tuple(ident.text for ident in meta.cites)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


VALUE_WORDS = {"parameter": "default", "const": "value", "output": "initial value", "var": "initial value"}


TIME = units.Dimension(time=1)


def magnitude(old: n.Expr, new: n.Expr) -> str:
    """How far a numeric value moved, in the finer unit: " (raised by 1 K)", "" unless two numbers."""
    a, b = numeric_of(old), numeric_of(new)
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
    return moved_by(delta, unit)


def moved_by(delta: float, unit: units.Unit) -> str:
    """A change of a value in words: " (raised by 1 K)", " (shorter by 30 s)"."""
    size = units.format_quantity(abs(delta), units.difference_unit(unit))
    if unit.dimension == TIME:
        word = "longer" if delta > 0 else "shorter"
    else:
        word = "raised" if delta > 0 else "lowered"
    return f" ({word} by {size})"


def numeric_of(expr: n.Expr) -> tuple[float, units.Unit] | None:
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
        text += f" (and {plural(len(groups) - max_hunks, 'more change')})"
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
    olds: Sequence[NodeT],
    news: Sequence[NodeT],
    *keys: Callable[[NodeT], object],
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


def located(node: n.Node, fallback: n.Node) -> n.Node:
    """The node, or `fallback` when the node has no place in the source (an empty Meta)."""
    return node if node.span.line else fallback


def statement_key(statement: n.Stmt) -> object:
    """Statements of a changed stretch pair up: assignments to one name, logs of one event, `if`s."""
    if isinstance(statement, n.Assign):
        return ("assign", statement.target.text)
    if isinstance(statement, n.Log):
        return ("log", statement.event.text)
    return type(statement).__name__


class DifferBase:
    """The state of one comparison, shared by its parts, and the methods one part calls in another."""

    def __init__(self, old: Side, new: Side) -> None:
        self.old = old
        self.new = new
        self._groups: dict[str, list[Change]] = {}
        self._group = ""

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
            where: n.Node = located(new, at) if new.doc is not None else at
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
        before, after = cites_of(old), cites_of(new)
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
            self._emit(subject, "; ".join(parts), located(new, at), after, behaviour=False)
        if old.priority != new.priority:
            if old.priority is None:
                description = f"priority {new.priority} added"
            elif new.priority is None:
                description = f"priority {old.priority} removed"
            else:
                word = "raised" if new.priority > old.priority else "lowered"
                description = f"priority {old.priority} -> {new.priority} ({word})"
            self._emit(subject, description, located(new, at), cites)

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

    def _body(
        self,
        subject: str,
        context: str,
        olds: tuple[n.Stmt, ...],
        news: tuple[n.Stmt, ...],
        at: n.Node,
        cites: Sequence[str],
    ) -> None:
        raise NotImplementedError  # defined in a mixin

    def _machine(self, old: n.Machine, new: n.Machine) -> None:
        raise NotImplementedError  # defined in a mixin

    def _alarm(self, old: n.Alarm, new: n.Alarm) -> None:
        raise NotImplementedError  # defined in a mixin

    def _table(self, old: n.Table, new: n.Table) -> None:
        raise NotImplementedError  # defined in a mixin

    def _curve(self, old: n.Curve, new: n.Curve) -> None:
        raise NotImplementedError  # defined in a mixin

    def _hysteresis(self, old: n.Hysteresis, new: n.Hysteresis) -> None:
        raise NotImplementedError  # defined in a mixin

    def _enum(self, old: n.EnumDecl, new: n.EnumDecl) -> None:
        raise NotImplementedError  # defined in a mixin

    def _schedule(self, old: n.Schedule, new: n.Schedule) -> None:
        raise NotImplementedError  # defined in a mixin

    def _accumulator(self, old: n.Totalizer | n.Counter, new: n.Totalizer | n.Counter) -> None:
        raise NotImplementedError  # defined in a mixin

    def _event(self, old: n.EventDecl, new: n.EventDecl) -> None:
        raise NotImplementedError  # defined in a mixin
