"""What verify reports: the text and JSON reports, summary.csv and a plot per departed point.

Departed points are reported in their groups (causes.py): the group's first point, the
statements that write it and the parameter that explains the group where one does, then
each point's first and last departure, its time outside the funnel and its largest error.

May import: hpdsl.sim.verify.{compare, causes, recording}, hpdsl.sim.loaded, hpdsl.language.units,
hpdsl.base.render, numpy, matplotlib.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.render import write
from hpdsl.base.source import SourceFile
from hpdsl.language import units as units_
from hpdsl.sim.loaded import PointSpec
from hpdsl.sim.verify.causes import Group, describe
from hpdsl.sim.verify.recording import span_of_time
from hpdsl.sim.verify.results import PointResult, Report
from hpdsl.sim.verify.trendfile import count_of

FloatArray = npt.NDArray[np.float64]

PLOT_FILE = "plot.png"
SUMMARY_FILE = "summary.csv"
SUMMARY_HEADER = (
    "point",
    "unit",
    "value_tolerance",
    "time_tolerance_s",
    "samples",
    "departed",
    "first_departure",
    "last_departure",
    "time_outside_s",
    "max_error",
    "max_error_time",
    "group",
)


def write_summary(path: Path, report: Report) -> None:
    """summary.csv: one row per compared point."""
    groups = _group_numbers(report)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(SUMMARY_HEADER)
        for result in report.results:
            writer.writerow(
                [
                    result.point.column,
                    result.point.unit,
                    _number(result.value_tolerance),
                    _number(result.time_tolerance_s),
                    result.samples,
                    "true" if result.departed else "false",
                    _stamp(report.at(result.first_s)) if result.first_s is not None else "",
                    _stamp(report.at(result.last_s)) if result.last_s is not None else "",
                    _number(result.outside_s),
                    _number(result.max_error),
                    _stamp(report.at(result.max_error_s)) if result.max_error_s is not None else "",
                    groups.get(result.point.column, ""),
                ]
            )


def plot(result: PointResult, report: Report) -> None:
    """plot.png beside pyfunnel's files: what was compared above, the first departure close up below.

    The upper panel shows the stretches pyfunnel compared (the chunks where the point came
    near its tolerance), with breaks between them.

    Each panel shows the rules' replay inside its funnel, the controller's recording and the
    departures shaded; drawn from the files pyfunnel wrote, so the plot shows what it compared.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # type: ignore[import-untyped, unused-ignore]
    from matplotlib.figure import Figure  # type: ignore[import-untyped, unused-ignore]

    assert result.folder is not None and report.start is not None and result.first_s is not None
    folder, point = result.folder, result.point
    curves = {
        name: np.loadtxt(folder / f"{name}.csv", delimiter=",", skiprows=1, ndmin=2)
        for name in ("reference", "test", "lowerBound", "upperBound", "errors")
    }
    figure = Figure(figsize=(11, 7.5), dpi=100)
    FigureCanvasAgg(figure)
    whole, close = figure.subplots(2, 1)
    start = np.datetime64(report.start, "ms")
    _draw(whole, curves, point, start, None)
    # The close-up: an hour each side of the first departure, or 60 time tolerances if longer.
    margin = max(3600.0, 60.0 * result.time_tolerance_s)
    _draw(close, curves, point, start, (result.first_s - margin, result.first_s + margin))
    unit = f" [{point.unit}]" if point.unit else ""
    whole.set_title(f"{point.column}{unit}: the controller left the funnel")
    close.set_title(f"around the first departure, {_stamp(report.at(result.first_s))}", fontsize="medium")
    # A fixed place: "best" would search every one of a year of samples for the emptiest corner.
    whole.legend(loc="upper left", fontsize="small", framealpha=0.8)
    figure.tight_layout()
    # No software version or date in the file: the same comparison gives the same bytes.
    figure.savefig(folder / PLOT_FILE, format="png", metadata={"Software": None})


def _draw(
    axes: Any, curves: dict[str, FloatArray], point: PointSpec, start: Any, window: tuple[float, float] | None
) -> None:
    """One panel of the plot: the funnel, the replay, the recording and the departures in `window`."""

    def part(curve: FloatArray) -> FloatArray:
        if window is None:
            return _broken(curve)
        # One sample beyond each end, so that lines run to the edges of the panel.
        first = max(int(np.searchsorted(curve[:, 0], window[0])) - 1, 0)
        last = int(np.searchsorted(curve[:, 0], window[1], side="right")) + 1
        return curve[first:last]

    def stamps(seconds: FloatArray) -> Any:
        return start + np.round(seconds * 1000.0).astype("timedelta64[ms]")

    lower, upper, errors = part(curves["lowerBound"]), part(curves["upperBound"]), part(curves["errors"])
    reference, test = part(curves["reference"]), part(curves["test"])
    grid = np.union1d(lower[:, 0], upper[:, 0])
    axes.fill_between(
        stamps(grid),
        np.interp(grid, lower[:, 0], lower[:, 1]),
        np.interp(grid, upper[:, 0], upper[:, 1]),
        color="tab:blue",
        alpha=0.2,
        linewidth=0,
        label="funnel (tolerance)",
    )
    for bound in (lower, upper):
        axes.plot(stamps(bound[:, 0]), bound[:, 1], color="tab:blue", linewidth=0.5, alpha=0.6)
    drawstyle = "steps-post" if point.kind in ("bool", "enum", "int") else "default"
    axes.plot(
        stamps(reference[:, 0]),
        reference[:, 1],
        color="tab:blue",
        drawstyle=drawstyle,
        label="rules (replay)",
    )
    axes.plot(
        stamps(test[:, 0]),
        test[:, 1],
        color="black",
        drawstyle=drawstyle,
        linewidth=0.9,
        zorder=3,  # the recording is what is in question: on top
        label="controller (recorded)",
    )
    if len(errors):
        axes.fill_between(
            stamps(errors[:, 0]),
            0,
            1,
            where=errors[:, 1] > 0,
            step="post",
            color="tab:red",
            alpha=0.25,
            transform=axes.get_xaxis_transform(),
            linewidth=0,
            label="departed",
        )
    if window is not None:
        axes.set_xlim(stamps(np.array(window)))
    if point.kind == "enum":
        axes.set_yticks(range(len(point.members)), point.members)
    elif point.kind == "bool":
        axes.set_yticks([0, 1], ["false", "true"])
    for label in axes.get_xticklabels():
        label.set_rotation(20)
        label.set_horizontalalignment("right")


def _broken(curve: FloatArray) -> FloatArray:
    """A curve with a NaN row where it skips a stretch no chunk compared, so that no line spans it."""
    if len(curve) < 3:
        return curve
    steps = np.diff(curve[:, 0])
    jumps = np.flatnonzero(steps > 20.0 * max(float(np.median(steps)), 1e-9))
    if not len(jumps):
        return curve
    gap = np.full((len(jumps), curve.shape[1]), np.nan)
    gap[:, 0] = curve[jumps, 0] + steps[jumps] / 2
    return np.insert(curve, jumps + 1, gap, axis=0)


def render_report(report: Report, output: Path | None) -> str:
    """The text report: the departures by group, each point where and when, then a one-line summary."""
    lines: list[str] = []
    for number, group in enumerate(report.groups, start=1):
        lines.extend(_group_lines(number, group, report))
    if output is not None and report.results:
        departed = [r.point.column for r in report.results if r.departed]
        folders = "".join(f", {name}/" for name in departed)
        lines.append(f"wrote {output / SUMMARY_FILE}{folders}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _group_lines(number: int, group: Group, report: Report) -> list[str]:
    root = group.root
    others = len(group.results) - 1
    lines = [
        f"GROUP {number}: {root.point.column}"
        + (f" and {others} point{'s' if others != 1 else ''} that follow from it" if others else "")
        + f", from {_stamp(report.at(group.first_s))}"
    ]
    if group.writers:
        lines.append(f"  {root.point.column.split('.', 1)[1]} is written at " + ", ".join(group.writers))
    for explanation in group.explanations:
        shown = [describe(v, explanation.unit) for v in explanation.values]
        values = (
            shown[0]
            if len(shown) == 1
            else f"{shown[0]} .. {shown[-1]}"
            if explanation.kind
            in (
                "int",
                "real",
            )
            else ", ".join(shown)
        )
        lines.append(
            f"  explained by {explanation.parameter} ({explanation.source}): the controller behaves as the"
            f" rules do with {values}; the rules have {describe(explanation.rules_value, explanation.unit)}"
        )
    closest = group.closest
    if closest is not None:
        end = (
            " (near an end of its declared range: a value beyond it may explain it)"
            if closest.at_range_end
            else ""
        )
        lines.append(
            f"  closest: {closest.parameter} ({closest.source}) = {describe(closest.values[0], closest.unit)}"
            f" leaves {closest.outside} of {group.outside} samples outside in the stretches tried, where the"
            f" rules' {describe(closest.rules_value, closest.unit)} leaves all{end}"
        )
    elif group.tried and not group.explanations:
        lines.append(
            f"  no single parameter explains it ({len(group.tried)} tried:"
            f" {', '.join(group.tried[:6])}{', ...' if len(group.tried) > 6 else ''});"
            " look at the rules above"
        )
    for result in group.results:
        lines.extend("  " + line for line in _point_lines(result, report))
    return lines


def _point_lines(result: PointResult, report: Report) -> list[str]:
    point = result.point
    assert result.first_s is not None and result.last_s is not None and result.max_error_s is not None
    first, last = _stamp(report.at(result.first_s)), _stamp(report.at(result.last_s))
    controller, rules = _show(point, result.recorded_at_first), _show(point, result.reference_at_first)
    return [
        f"DEPARTED {point.column}",
        f"  first at {first}: the controller {controller}, the rules {rules}",
        f"  last at {last}; {span_of_time(result.outside_s)} outside the funnel in all",
        f"  largest error {_amount(point, result.max_error)} beyond the funnel at"
        f" {_stamp(report.at(result.max_error_s))}"
        f" (tolerance {_amount(point, result.value_tolerance)}, {span_of_time(result.time_tolerance_s)})",
    ]


def _group_numbers(report: Report) -> dict[str, str]:
    return {r.point.column: str(n) for n, g in enumerate(report.groups, start=1) for r in g.results}


def summary(report: Report) -> str:
    """`12 points compared, 3 departed in 1 group (2880 rows, 2024-01-01 .. 2024-01-02 23:59:00) in 1.2 s`."""
    departed = sum(1 for r in report.results if r.departed)
    line = f"{count_of(len(report.results), 'point')} compared, {departed} departed"
    if departed:
        line += f" in {count_of(len(report.groups), 'group')}"
    if report.start is not None and report.end is not None:
        line += f" ({count_of(report.rows, 'row')}, {_stamp(report.start)} .. {_stamp(report.end)})"
    return line + f" in {report.seconds:.1f} s"


def report_json(report: Report) -> dict[str, Any]:
    """The report for tools: the trend's extent, every compared point, and the diagnostics."""
    from hpdsl.base.render import render_json

    def when(seconds: float | None) -> str | None:
        return None if seconds is None else _stamp(report.at(seconds))

    def value(point: PointSpec, number: float | None) -> object:
        if number is None or math.isnan(number):
            return None
        if point.kind == "bool":
            return bool(number)
        if point.kind == "enum":
            return point.members[int(number)]
        return int(number) if point.kind == "int" else number

    return {
        "trend": report.trend,
        "rows": report.rows,
        "step_s": report.step_s,
        "start": _stamp(report.start) if report.start else None,
        "end": _stamp(report.end) if report.end else None,
        "compared": len(report.results),
        "departed": sum(1 for r in report.results if r.departed),
        "ok": report.ok,
        "points": [
            {
                "point": r.point.column,
                "unit": r.point.unit,
                "kind": r.point.kind,
                "role": r.point.role,
                "value_tolerance": r.value_tolerance,
                "time_tolerance_s": r.time_tolerance_s,
                "samples": r.samples,
                "departed": r.departed,
                "first_departure": when(r.first_s),
                "last_departure": when(r.last_s),
                "time_outside_s": r.outside_s,
                "max_error": r.max_error,
                "max_error_time": when(r.max_error_s),
                "rules_at_first_departure": value(r.point, r.reference_at_first),
                "controller_at_first_departure": value(r.point, r.recorded_at_first),
            }
            for r in report.results
        ],
        "groups": [
            {
                "first_point": g.root.point.column,
                "points": [r.point.column for r in g.results],
                "first_departure": when(g.first_s),
                "written_at": g.writers,
                "parameters_tried": g.tried,
                "explained_by": [
                    {
                        "parameter": e.parameter,
                        "declared_at": e.source,
                        "rules_value": _plain(e.rules_value),
                        "values": [_plain(v) for v in e.values],
                    }
                    for e in g.explanations
                ],
            }
            for g in report.groups
        ],
        "diagnostics": json.loads(render_json(report.diagnostics)),
    }


def _plain(value: object) -> object:
    return getattr(value, "name", value)


def emit_diagnostics(found: list[Diagnostic], sources: dict[str, SourceFile], format_: str) -> None:
    """Diagnostics about the rules or the trend: a JSON object on stdout, or text on stderr."""
    from hpdsl.base.render import render_json, render_text

    if format_ == "json":
        write(sys.stdout, json.dumps({"diagnostics": json.loads(render_json(found))}, indent=2) + "\n")
    else:
        write(sys.stderr, render_text(found, sources))


def _stamp(when: datetime.datetime) -> str:
    text = when.isoformat(sep=" ", timespec="milliseconds")
    return text[:-4] if text.endswith(".000") else text


def _number(value: float) -> str:
    return f"{value:.6g}"


def _show(point: PointSpec, value: float | None) -> str:
    """A value of a point as the rules write it: `21.5C`, `true`, `Heating`."""
    if value is None or math.isnan(value):
        return "no value"
    if math.isinf(value) and point.kind in ("int", "enum"):
        return "infinite" if value > 0 else "minus infinite"
    if point.kind == "bool":
        return "true" if value else "false"
    if point.kind == "enum":
        index = int(value)
        return point.members[index] if 0 <= index < len(point.members) else "no member"
    if point.kind == "int":
        return str(int(value))
    unit = units_.lookup(point.unit) if point.unit else None
    return units_.format_quantity(value, unit or units_.NUMBER)


def _amount(point: PointSpec, value: float) -> str:
    """A difference of a point's values: `0.5 K` for a temperature, `1` for a boolean or member."""
    unit = units_.lookup(point.unit) if point.unit and point.kind == "real" else None
    return units_.format_quantity(value, units_.difference_unit(unit) if unit else units_.NUMBER)
