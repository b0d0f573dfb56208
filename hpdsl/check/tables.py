"""The checks of range tables and curves: keys, cells, the order of points, and gaps and
overlaps between rows.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope.
"""

from __future__ import annotations

import itertools

from hpdsl.base import messages
from hpdsl.base.diagnostics import Note
from hpdsl.check.scope import (
    EPS,
    INF,
    CheckerBase,
    Context,
    Interval,
    Scope,
    Symbol,
    row_number,
    same_type,
    show_expr,
)
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.consteval import Const
from hpdsl.language.types import (
    ERROR,
    ErrorType,
    RowType,
    Type,
    is_numeric,
    unit_of,
)


class TableChecks(CheckerBase):
    """The checks of tables and curves, and of the coverage of their keys."""

    # ================================================================== tables and curves
    def _key_context(
        self, key: n.KeyParam, ctx: Context, owner: str
    ) -> tuple[Type, Context, Const | None, Const | None]:
        key_type = self._resolve_type(key.type, ctx.scope)
        scope = Scope(parent=ctx.scope)
        scope.symbols[key.name.text] = Symbol("key", key.name.text, key.name.span, key_type, key)
        # Rows and points are fixed when the rules are compiled: a site file cannot move them.
        inner = Context(scope, ctx.program, constant=f"a row of {owner}", fixed=True)
        low = high = None
        if key.range is not None:
            low, high = self._check_range(key.range, key_type, ctx, key.name.text)
        return key_type, inner, low, high

    def _check_curve(self, item: n.Curve, ctx: Context) -> None:
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
            if abs(x2 - x1) <= EPS:
                if abs(y2 - y1) > EPS:
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
            elif (item.monotonic == "increasing" and y2 < y1 - EPS) or (
                item.monotonic == "decreasing" and y2 > y1 + EPS
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

    def _check_table(self, item: n.Table, ctx: Context) -> None:
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
        intervals: list[tuple[n.TableRow, Interval]] = []
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
                elif not isinstance(cell_type, ErrorType) and not same_type(first, cell_type, loose=True):
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
            domain = Interval(
                low.number if low is not None and low.number is not None else -INF,
                True,
                high.number if high is not None and high.number is not None else INF,
                True,
            )
            unit = unit_of(key_type)
            self._check_coverage(item, intervals, domain, unit)

    def _key_interval(
        self, key: n.KeyCell, key_type: Type, inner: Context, ctx: Context, table: str
    ) -> Interval | None:
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
                        key.span,
                        low=show_expr(key.low),
                        high=show_expr(key.high),
                        hint="write the lower value first",
                    )
                )
                return None
            return Interval(low, True, high, True)
        if key.op in ("<", "<="):
            assert high is not None
            return Interval(-INF, True, high, key.op == "<=")
        assert low is not None
        return Interval(low, key.op == ">=", INF, True)

    def _check_coverage(
        self, item: n.Table, rows: list[tuple[n.TableRow, Interval]], domain: Interval, unit: units.Unit
    ) -> None:
        """Report key values no row covers and rows that cover the same stretch of keys."""
        points = sorted(
            {
                p
                for _, iv in rows
                for p in (iv.low, iv.high)
                if domain.low <= p <= domain.high and abs(p) != INF
            }
            | {domain.low, domain.high} - {INF, -INF}
        )

        def show(value: float) -> str:
            return units.format_quantity(unit.from_si(value), unit)

        key = item.key.name.text
        # One test value per end point and per stretch between neighbouring end points:
        # (value, lower extent, upper extent, is a single point).
        samples: list[tuple[float, float, float, bool]] = []
        if domain.low == -INF:
            edge = points[0] if points else 0.0
            samples.append((edge - 1.0, -INF, edge, False))
        for i, p in enumerate(points):
            samples.append((p, p, p, True))
            if i + 1 < len(points):
                samples.append(((p + points[i + 1]) / 2, p, points[i + 1], False))
        if domain.high == INF:
            edge = points[-1] if points else 0.0
            samples.append((edge + 1.0, edge, INF, False))
        samples = [sample for sample in samples if domain.contains(sample[0])]

        def describe(low: float, high: float) -> str:
            if low == -INF and high == INF:
                return "any value"
            if low == -INF:
                return f"below {show(high)}"
            if high == INF:
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
                        other=row_number(item, rows[first][0]),
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
            # At the rows either side of the gap: the one that ends below it, with a note at the
            # one that starts above it (the table's name when no row is on a side).
            below = [(iv.high, row) for row, iv in rows if iv.high <= low]
            above = [(iv.low, row) for row, iv in rows if iv.low >= high]
            before = max(below, key=lambda pair: pair[0])[1] if below else None
            after = min(above, key=lambda pair: pair[0])[1] if above else None
            primary = before or after
            notes = (Note("the row after the gap", after.key.span),) if before and after else ()
            self._report(
                messages.TABLE_GAP.at(
                    primary.key.span if primary is not None else item.name.span,
                    name=item.name.text,
                    key=key,
                    gap=describe(low, high),
                    hint=(
                        "add a row for these values, or extend a neighbouring row (rows match top "
                        "to bottom, both ends included)"
                    ),
                    notes=notes,
                )
            )
