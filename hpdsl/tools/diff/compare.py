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
from collections.abc import Sequence

from hpdsl.language import nodes as n
from hpdsl.tools.diff.behaviour import BehaviourDiff
from hpdsl.tools.diff.common import VALUE_WORDS, cites_of, key_of, named
from hpdsl.tools.diff.common import Change as Change
from hpdsl.tools.diff.common import Group as Group
from hpdsl.tools.diff.common import RowChange as RowChange
from hpdsl.tools.diff.common import Side as Side
from hpdsl.tools.diff.common import canonical as canonical
from hpdsl.tools.diff.common import clip as clip
from hpdsl.tools.diff.common import magnitude as magnitude
from hpdsl.tools.diff.common import match as match
from hpdsl.tools.diff.common import moved as moved
from hpdsl.tools.diff.common import normalise_code as normalise_code
from hpdsl.tools.diff.common import word_diff as word_diff
from hpdsl.tools.diff.data import DataDiff


class Differ(BehaviourDiff, DataDiff):
    """Walks OLD and NEW together and collects the changes, grouped by top-level construct."""

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
        pairs, gone, added = match(olds, news, key_of)
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
                    named(before),
                    f"renamed to `{item.name.text}`, otherwise unchanged",
                    item.name,
                    cites_of(item.meta),
                    behaviour=not isinstance(item, n.Requirement),
                )
            else:
                self._emit(
                    named(item),
                    "added" + self._summary(self.new, item),
                    item.name,
                    cites_of(item.meta),
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
                named(item),
                "removed",
                item.name,
                cites_of(item.meta),
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
        elif isinstance(item, n.Require):
            parts.append(f"`{clip(side.raw(item.condition), 80)}`")
        return f" ({', '.join(parts)})" if parts else ""

    def _item(self, old: n.Item, new: n.Item) -> None:
        """Two items with the same kind and name: what differs inside."""
        if old == new:
            return
        subject = named(new)
        cites = cites_of(new.meta)
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
        subject = named(new)
        cites = cites_of(new.meta)
        at = new.name
        if old.kind != new.kind:
            self._emit(subject, f"`{old.kind}` -> `{new.kind}`", at, cites)
        if old.type != new.type:
            self._value_text(subject, "type", old.type, new.type, at, cites)
        self._value(subject, VALUE_WORDS.get(new.kind, "value"), old.initial, new.initial, at, cites)
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


def compare(old: Side, new: Side) -> list[Group]:
    """The changes from OLD to NEW, grouped by top-level construct."""
    return Differ(old, new).run()
