"""Comparing the data of a package: range tables row by row, curves point by point, hysteresis,
enumerations, schedules, totalizers and counters, and events.

May import: hpdsl.base, hpdsl.language, hpdsl.tools.diff.common.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpdsl.language import nodes as n
from hpdsl.tools.diff.common import (
    ROW_ORDER_NOTE,
    DifferBase,
    RowChange,
    cites_of,
    magnitude,
    match,
    moved,
    named,
)


class DataDiff(DifferBase):
    """Changes in tables, curves, hysteresis, enumerations, schedules, totals and events."""

    # -- tables and curves
    def _key_param(self, subject: str, old: n.KeyParam, new: n.KeyParam, cites: Sequence[str]) -> None:
        if old.name != new.name:
            self._emit(subject, f"key `{old.name.text}` renamed to `{new.name.text}`", new.name, cites)
        if old.type != new.type:
            self._value_text(subject, "key type", old.type, new.type, new, cites)
        if old.range != new.range:
            self._value_text(subject, "key range", old.range, new.range, new, cites)

    def _table(self, old: n.Table, new: n.Table) -> None:
        subject = named(new)
        cites = cites_of(new.meta)
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
        subject = named(new)
        cites = cites_of(new.meta)
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
        subject = named(new)
        cites = cites_of(new.meta)
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
        subject = named(new)
        cites = cites_of(new.meta)
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
        subject = named(new)
        cites = cites_of(new.meta)
        for period in new.periods:
            if period not in old.periods:
                self._emit(subject, f"period `{self.new.text(period)}` added", period, cites)
        for period in old.periods:
            if period not in new.periods:
                self._emit(subject, f"period `{self.old.text(period)}` removed", period, cites, removed=True)

    def _accumulator(self, old: n.Totalizer | n.Counter, new: n.Totalizer | n.Counter) -> None:
        subject = named(new)
        cites = cites_of(new.meta)
        if isinstance(old, n.Totalizer) and isinstance(new, n.Totalizer) and old.type != new.type:
            self._value_text(subject, "unit", old.type, new.type, new.type, cites)
        self._value(subject, "source", old.source, new.source, new.name, cites)
        if old.period != new.period:
            before = f"per {old.period.text}" if old.period else "never reset"
            after = f"per {new.period.text}" if new.period else "never reset"
            self._emit(subject, f"reset `{before}` -> `{after}`", new.name, cites)

    def _event(self, old: n.EventDecl, new: n.EventDecl) -> None:
        subject = named(new)
        cites = cites_of(new.meta)
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
