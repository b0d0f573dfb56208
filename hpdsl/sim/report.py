"""The plots of a simulated run and its report: one self-contained HTML file for the owner.

The plots are drawn on matplotlib `Figure` objects directly, never through pyplot: pyplot
keeps global figures and picks a backend for the whole process, a library needs neither,
and a `Figure` saved as PNG is rendered by Agg whatever backend the process uses. Every
figure is drawn under matplotlib's default style plus the fixed settings below, so a user's
matplotlibrc does not change the pictures, and saved without the "Software" stamp, so the
same run gives byte-identical PNG files.

The report embeds the PNGs as data URIs and its style sheet inline; it has no script and
loads nothing from a network, so it can be mailed, archived and opened anywhere.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import matplotlib
import matplotlib.dates
import matplotlib.style
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from hpdsl.sim import kpi
from hpdsl.sim.kpi import DailySummary, Kpi
from hpdsl.sim.scorecard import Goal, met, shown
from hpdsl.sim.trend import Trend

FloatArray = npt.NDArray[np.float64]

# matplotlib.dates has no type annotations; its locators and formatters are used through this name.
_dates: Any = matplotlib.dates
_EN_DASH = "\u2013"
_MINUS = "\u2212"

_STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: the same glyphs on every machine
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.2,
    "path.simplify": True,
    "agg.path.chunksize": 20000,
}
_DPI = 110
_WIDTH = 10.0  # inches: 1100 pixels, the width of the report's page

# One colour per quantity, the same in every plot.
_OUTDOOR = "#4c72b0"
_INDOOR = "#c44e52"
_SETPOINT = "#222222"
_COIL = "#17becf"
_FROST = "#9fb8d6"
_HP = "#55a868"
_HP_ELECTRIC = "#2f6b3d"
_AUX = "#dd8452"
_BACKUP = "#8c564b"
_COOLING = "#64b5cd"
_DEFROST = "#8172b3"
_SWITCH = "#333333"
_HEATING_SHADE = "#f6d5d2"
_COOLING_SHADE = "#d3e4f3"
_DEAD_BAND = "#bbbbbb"


@dataclass(frozen=True)
class Plot:
    """A picture of the run: its PNG file, or None if the run lacks what it needs (the caption says what)."""

    key: str
    title: str
    path: Path | None
    caption: str


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.style.context("default"), matplotlib.rc_context(_STYLE):
        yield


def _save(figure: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=_DPI, metadata={"Software": None})


def _degrees(value: float) -> str:
    return f"{value:g} °C".replace("-", _MINUS)


def _absent(axes: Axes, text: str) -> None:
    """Say in an empty panel what it would have shown."""
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", color="#777777")


def _shade(
    axes: Axes,
    time: npt.NDArray[Any],
    on: npt.NDArray[np.bool_],
    color: str,
    label: str | None,
    alpha: float = 1.0,
) -> None:
    """Shade the panel's full height wherever `on` holds, each row up to the next."""
    if not np.any(on):
        return
    axes.fill_between(
        time,
        0.0,
        1.0,
        where=on,
        step="post",
        transform=axes.get_xaxis_transform(),
        color=color,
        alpha=alpha,
        linewidth=0.0,
        label=label,
    )


def _legend(
    axes: Axes, handles: list[Any] | None = None, labels: list[str] | None = None, *, beside: bool = False
) -> None:
    """The legend on the panel's title line at the right (or `beside` the panel), never over a curve."""
    if handles is None or labels is None:
        handles, labels = axes.get_legend_handles_labels()
    if not handles:
        return
    if beside:
        axes.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        return
    axes.legend(
        handles,
        labels,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=len(handles),
        borderaxespad=0.1,
        handlelength=1.6,
        columnspacing=1.2,
    )


def _date_axis(axes: Axes) -> None:
    locator = _dates.AutoDateLocator(minticks=4, maxticks=14)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(_dates.ConciseDateFormatter(locator))


def _real(trend: Trend, name: str) -> FloatArray | None:
    return trend[name].as_float() if name in trend else None


def _flag(trend: Trend, name: str) -> npt.NDArray[np.bool_] | None:
    return np.asarray(trend[name].values).astype(bool) if name in trend else None


def _outdoor(trend: Trend, *, controller_first: bool) -> tuple[str, FloatArray] | None:
    """The outdoor temperature: the weather's, or the controller's reading (what the changeover acts on)."""
    names = [kpi.OUTDOOR_TEMP, kpi.CONTROLLER_OUTDOOR_TEMP]
    for name in reversed(names) if controller_first else names:
        if name in trend:
            return name, trend[name].as_float()
    return None


def _rows_of_days(trend: Trend, first: np.datetime64, days: int) -> tuple[int, int]:
    """The rows from midnight of `first` up to midnight `days` days later."""
    begin = first.astype("datetime64[ms]")
    end = (first + np.timedelta64(days, "D")).astype("datetime64[ms]")
    time = trend.time.astype("datetime64[ms]")
    return int(np.searchsorted(time, begin, side="left")), int(np.searchsorted(time, end, side="left"))


# ---------------------------------------------------------------------------------------------
# The plots


def plots(
    trend: Trend,
    outdir: Path,
    *,
    heating_below: float | None,
    cooling_above: float | None,
    source_type: str = "Air",
) -> list[Plot]:
    """Draw the run at a glance, the coldest day with a defrost and the changeover as PNGs in `outdir`.

    The overview is named for the run's length (`year.png`, `week.png`, `month.png`, `day.png`,
    else `N_days.png`) and covers the days the run covers: the single row at midnight that
    ends a run of whole days is not a day of its own. A unit without an outdoor coil (a
    water-loop or ground source) gets its source temperature where an air source's coil and
    frost would be.
    """
    day = _covered(kpi.daily(trend), trend)
    heating_electricity = float(np.nansum(day.hp_heating_electricity_kwh))
    cop = float(np.nansum(day.hp_heat_kwh)) / heating_electricity if heating_electricity > 0.0 else math.nan
    period = period_name(len(day))
    with _style():
        return [
            _overview(day, cop, outdir / f"{period}.png", period),
            _cold_day(trend, day, outdir / "cold_day.png", source_type),
            _changeover(trend, day, outdir / "changeover.png", heating_below, cooling_above),
        ]


def period_name(days: int) -> str:
    """What a run of this many calendar days is called: `day`, `week`, `month`, `year`, or `N_days`."""
    if days <= 1:
        return "day"
    if days == 7:
        return "week"
    if 28 <= days <= 31:
        return "month"
    if 365 <= days <= 366:
        return "year"
    return f"{days}_days"


def _covered(day: DailySummary, trend: Trend) -> DailySummary:
    """The days the run covers: the day it only touches with its last row, at midnight, left out."""
    if len(day) < 2 or trend.time[-1].astype("datetime64[ms]") != day.date[-1].astype("datetime64[ms]"):
        return day
    return dataclasses.replace(day, **{f.name: getattr(day, f.name)[:-1] for f in dataclasses.fields(day)})


def _day_centres(day: DailySummary) -> npt.NDArray[Any]:
    return day.date.astype("datetime64[m]") + np.timedelta64(12 * 60, "m")


def _held(values: FloatArray) -> FloatArray:
    """Daily values for a step drawn over the day edges: the last day's value held to its end."""
    return np.append(values, values[-1])


def _day_bars(
    axes: Axes, edges: npt.NDArray[Any], bottom: FloatArray, top: FloatArray, colour: str, label: str
) -> None:
    """One bar per day from `bottom` to `top`, drawn as one shape (a year of separate bars draws slowly)."""
    axes.fill_between(
        edges,
        _held(bottom),
        _held(top),
        step="post",
        color=colour,
        linewidth=0,
        label=label,
    )


def _overview(day: DailySummary, seasonal_cop: float, path: Path, period: str) -> Plot:
    title = f"The {period.replace('_', ' ')} at a glance"
    if len(day) == 0:
        return Plot(period, title, None, "Left out: the trend has no rows.")
    figure = Figure(figsize=(_WIDTH, 10.0), layout="constrained")
    temperatures, heat, cop, events = figure.subplots(4, 1, sharex=True, height_ratios=(1.1, 1.1, 0.8, 0.8))
    centre = _day_centres(day)
    edges = np.append(day.date, day.date[-1] + 1).astype("datetime64[m]")
    notes: list[str] = []

    temperatures.set_title("Daily temperatures")
    bands = (
        ("Outdoor", day.outdoor_min, day.outdoor_mean, day.outdoor_max, _OUTDOOR, 0.25),
        ("Indoor", day.indoor_min, day.indoor_mean, day.indoor_max, _INDOOR, 0.2),
    )
    for name, low, mean, high, colour, alpha in bands:
        if np.all(np.isnan(mean)):
            notes.append(f"no {name.lower()} temperature")
            continue
        temperatures.fill_between(
            edges,
            _held(low),
            _held(high),
            step="post",
            color=colour,
            alpha=alpha,
            linewidth=0,
            label=f"{name} min{_EN_DASH}max",
        )
        temperatures.step(edges, _held(mean), where="post", color=colour, label=f"{name} mean")
    if not temperatures.lines:
        _absent(temperatures, "No temperatures recorded in this run")
    temperatures.set_ylabel("Temperature [°C]")
    _legend(temperatures)

    heat.set_title("Daily heat by source (cooling below zero)")
    bottom = np.zeros(len(day))
    for values, colour, label in (
        (day.hp_heat_kwh, _HP, "Heat pump"),
        (day.aux_kwh, _AUX, "Electric aux"),
        (day.backup_kwh, _BACKUP, "Fossil backup"),
    ):
        if np.all(np.isnan(values)):
            continue
        amount = np.nan_to_num(values)
        top = bottom + amount
        _day_bars(heat, edges, bottom, top, colour, label)
        bottom = np.maximum(top, bottom)
    if np.nansum(day.hp_cooling_kwh) > 0.0:
        cooling = -np.nan_to_num(day.hp_cooling_kwh)
        _day_bars(heat, edges, np.zeros(len(day)), cooling, _COOLING, "Heat pump cooling")
    if not heat.collections:
        _absent(heat, "No heat recorded in this run")
    heat.axhline(0.0, color="#555555", linewidth=0.6)
    heat.set_ylabel("Energy [kWh/day]")
    _legend(heat)

    cop.set_title("Daily COP in Heating mode")
    # A day with a few minutes of heating gives a COP from almost nothing: such days are left out.
    enough = day.hp_heating_electricity_kwh >= 0.02 * np.nanmax(
        np.append(day.hp_heating_electricity_kwh, 0.0)
    )
    daily_cop = np.where(enough, day.cop, np.nan)
    if not np.all(np.isnan(daily_cop)):
        cop.plot(
            centre, daily_cop, color=_HP_ELECTRIC, marker=".", markersize=3, linewidth=0.8, label="Daily COP"
        )
        if not math.isnan(seasonal_cop):
            cop.axhline(
                seasonal_cop,
                color=_SETPOINT,
                linestyle="--",
                linewidth=0.9,
                label=f"Seasonal {seasonal_cop:.2f}",
            )
        _legend(cop)
    else:
        _absent(cop, "No heating with the heat pump in this run")
    cop.set_ylabel("COP [kW/kW]")
    cop.set_ylim(bottom=0.0)

    events.set_title("Daily defrosts and mode switches")
    if not np.all(np.isnan(day.defrosts)):
        _day_bars(events, edges, np.zeros(len(day)), day.defrosts, _DEFROST, "Defrosts")
    else:
        notes.append("no defrost column")
    if not np.all(np.isnan(day.mode_switches)):
        events.step(
            edges, _held(day.mode_switches), where="post", color=_SWITCH, linewidth=1.0, label="Mode switches"
        )
    else:
        notes.append("no mode column")
    events.set_ylabel("Events [1/day]")
    events.set_ylim(bottom=0.0)
    events.yaxis.set_major_locator(MaxNLocator(integer=True))
    _legend(events)
    _date_axis(events)
    events.set_xlim(edges[0], edges[-1])

    _save(figure, path)
    caption = (
        f"{len(day)} calendar days. Top: outdoor and indoor temperature per day. Then the heat delivered per "
        "day by the heat pump, the electric aux and the fossil backup (cooling below zero): aux and "
        "backup should appear only on the coldest days. Then the heat pump's COP per day (days with "
        "less than 2 % of the busiest day's heating electricity left out): it should fall on cold days "
        "and rise on mild ones. Bottom: defrosts and mode switches per day; more than a few mode "
        "switches a day means the changeover hunts."
    )
    if notes:
        caption += " Not shown: " + "; ".join(notes) + "."
    return Plot(period, title, path, caption)


def _pick_cold_day(day: DailySummary) -> int | None:
    """The day with the lowest mean outdoor temperature that had a defrost, else the coldest day."""
    if len(day) == 0:
        return None
    mean = day.outdoor_mean
    if np.all(np.isnan(mean)):
        return 0
    # A day the trend only partly covers shows little; whole days come first when there are any.
    whole = day.hours >= 23.0
    candidates = whole if np.any(whole & ~np.isnan(mean)) else np.ones(len(day), dtype=bool)
    defrosted = candidates & (np.nan_to_num(day.defrosts) > 0)
    pool = defrosted if np.any(defrosted & ~np.isnan(mean)) else candidates
    return int(np.nanargmin(np.where(pool, mean, np.nan)))


def _cold_day(trend: Trend, day: DailySummary, path: Path, source_type: str = "Air") -> Plot:
    title = "A cold day"
    chosen = _pick_cold_day(day)
    if chosen is None:
        return Plot("cold_day", title, None, "Left out: the trend has no rows.")
    begin, end = _rows_of_days(trend, day.date[chosen], 1)
    part = trend.slice(begin, end)
    time = part.time.astype("datetime64[ms]")
    date = str(day.date[chosen])
    defrosts = int(day.defrosts[chosen]) if not math.isnan(day.defrosts[chosen]) else None
    title = f"A cold day: {date}"

    figure = Figure(figsize=(_WIDTH, 10.5), layout="constrained")
    temperatures, heat, states, indoor = figure.subplots(
        4, 1, sharex=True, height_ratios=(1.1, 1.0, 0.9, 0.9)
    )
    defrost = _flag(part, kpi.DEFROST_ACTIVE)
    notes: list[str] = []
    for axes in (temperatures, heat, states, indoor):
        if defrost is not None:
            _shade(axes, time, defrost, _DEFROST, None, alpha=0.15)
    if defrost is None:
        notes.append(f"no `{kpi.DEFROST_ACTIVE}`, so no defrost shading")

    air = source_type.lower() == "air"
    source_type = _SOURCE_NAMES.get(source_type, source_type.lower())
    twin = (
        _coil_and_frost(temperatures, part, time, notes)
        if air
        else _source(temperatures, part, time, source_type)
    )
    handles, labels = temperatures.get_legend_handles_labels()
    if twin is not None:
        more_handles, more_labels = twin.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    if defrost is not None and np.any(defrost):
        handles.append(Patch(color=_DEFROST, alpha=0.15))
        labels.append("Defrost active")
    _legend(temperatures, handles, labels)

    heat.set_title("Heat and electric power")
    for name, colour, label, style in (
        (kpi.HP_HEAT, _HP, "Heat pump heat", "-"),
        (kpi.HP_POWER, _HP_ELECTRIC, "Heat pump electricity", ":"),
        (kpi.AUX_HEAT, _AUX, "Electric aux heat", "-"),
        (kpi.BACKUP_HEAT, _BACKUP, "Fossil backup heat", "-"),
    ):
        values = _real(part, name)
        if values is not None:
            heat.step(time, values, where="post", color=colour, linestyle=style, label=label)
    heat.axhline(0.0, color="#555555", linewidth=0.6)
    heat.set_ylabel("Power [kW]")
    _legend(heat)

    states.set_title(
        "Compressor, defrost, aux stages and backup" if air else "Compressor, aux stages and backup"
    )
    traces = [
        (name, label, colour)
        for name, label, colour in (
            (kpi.COMPRESSOR_ON, "Compressor", _HP),
            (kpi.DEFROST_ACTIVE, "Defrost", _DEFROST),
            (kpi.AUX_STAGES[0], "Aux stage 1", _AUX),
            (kpi.AUX_STAGES[1], "Aux stage 2", _AUX),
            ("AuxHeat.backup_heat_enable", "Backup", _BACKUP),
        )
        if name in part and (air or name != kpi.DEFROST_ACTIVE)
    ]
    for level, (name, _, colour) in enumerate(reversed(traces)):
        on = np.asarray(part[name].values).astype(np.float64)
        states.fill_between(time, level, level + 0.75 * on, step="post", color=colour, alpha=0.8, linewidth=0)
    states.set_yticks(
        [level + 0.375 for level in range(len(traces))], [label for _, label, _ in reversed(traces)]
    )
    states.set_ylim(-0.15, max(len(traces), 1) - 0.1)
    states.grid(False, axis="y")
    if not traces:
        _absent(states, "No compressor, defrost or aux columns in this run")

    indoor.set_title("Indoor temperature")
    low, high = _real(part, kpi.COMFORT_LOW), _real(part, kpi.COMFORT_HIGH)
    if low is not None and high is not None:
        indoor.fill_between(
            time, low, high, step="post", color=_HP, alpha=0.12, linewidth=0, label="Comfort band"
        )
    setpoint = _real(part, "Occupancy.heating_setpoint")
    if setpoint is not None:
        indoor.step(
            time,
            setpoint,
            where="post",
            color=_SETPOINT,
            linestyle="--",
            linewidth=0.9,
            label="Heating setpoint",
        )
    inside = _real(part, kpi.INDOOR_TEMP)
    if inside is not None:
        indoor.plot(time, inside, color=_INDOOR, label="Indoor")
    else:
        _absent(indoor, f"No `{kpi.INDOOR_TEMP}` column in this run")
    indoor.set_ylabel("Temperature [°C]")
    _legend(indoor)
    indoor.set_xlabel(f"Time on {date}")
    indoor.xaxis.set_major_locator(_dates.HourLocator(byhour=range(0, 24, 3)))
    indoor.xaxis.set_major_formatter(_dates.DateFormatter("%H:%M"))
    if len(time):
        indoor.set_xlim(
            day.date[chosen].astype("datetime64[ms]"), (day.date[chosen] + 1).astype("datetime64[ms]")
        )

    _save(figure, path)
    mean = day.outdoor_mean[chosen]
    if defrosts is None:
        why = "the coldest day"
    elif defrosts > 0:
        why = "the coldest day with a defrost"
    else:
        why = "the coldest day (the run had no defrost)"
    caption = f"{date}, {why}"
    if not math.isnan(mean):
        caption += f": outdoor mean {_degrees(round(float(mean), 1))}"
    if defrosts is not None:
        caption += f", {defrosts} defrost{'s' if defrosts != 1 else ''}"
    if air:
        caption += (
            ". Shaded: defrost active. Frost should build up while the coil is below freezing and fall to "
            "zero in each defrost; during a defrost the heat pump takes heat back from the water (its heat "
            "goes below zero) and the aux heat should cover it, so that the indoor temperature stays in "
            "the comfort band. Aux stages that stay on outside defrosts mean the heat pump alone cannot "
            "carry the load at this outdoor temperature."
        )
    else:
        caption += (
            f". A {source_type} source has no outdoor coil, so no frost and no defrost: the top panel"
            " shows the source temperature the heat pump draws from, which should stay in its band"
            " however cold the air. Aux stages that stay on mean the heat pump alone cannot carry the"
            " load on this day."
        )
    if notes:
        caption += " Not shown: " + "; ".join(notes) + "."
    return Plot("cold_day", title, path, caption)


_SOURCE_NAMES = {"WaterLoop": "water-loop", "Ground": "ground"}


def _coil_and_frost(axes: Axes, part: Trend, time: Any, notes: list[str]) -> Axes | None:
    """The top panel of an air source's cold day: outdoor air, the outdoor coil and its frost.

    The frost is drawn on a second axis, which is returned so that its legend joins the panel's.
    """
    axes.set_title("Outdoor coil and frost")
    outdoor = _outdoor(part, controller_first=False)
    if outdoor is not None:
        axes.plot(time, outdoor[1], color=_OUTDOOR, label="Outdoor air")
    coil = _real(part, "plant.coil_temp")
    if coil is not None:
        axes.plot(time, coil, color=_COIL, label="Outdoor coil")
    axes.set_ylabel("Temperature [°C]")
    frost = _real(part, "plant.frost")
    if frost is None:
        notes.append("no frost (a plant model that does not track it)")
        return None
    frost_axes = axes.twinx()
    frost_axes.grid(False)
    frost_axes.spines["right"].set_visible(True)
    frost_axes.fill_between(
        time, 0.0, frost, step="post", color=_FROST, alpha=0.5, linewidth=0, label="Frost"
    )
    frost_axes.set_ylabel("Frost on the coil [kg]")
    frost_axes.set_ylim(bottom=0.0)
    frost_axes.set_zorder(axes.get_zorder() - 1)
    axes.patch.set_visible(False)
    return frost_axes


def _source(axes: Axes, part: Trend, time: Any, source_type: str) -> Axes | None:
    """The top panel of a water-loop or ground source's cold day: outdoor air and the source."""
    axes.set_title(f"Outdoor air and the {source_type} source")
    outdoor = _outdoor(part, controller_first=False)
    if outdoor is not None:
        axes.plot(time, outdoor[1], color=_OUTDOOR, label="Outdoor air")
    source = _real(part, "plant.source_temp")
    if source is not None:
        axes.plot(time, source, color=_COIL, label=f"{source_type.capitalize()} source water")
    axes.set_ylabel("Temperature [°C]")
    return None  # no second axis


def _pick_changeover_days(day: DailySummary, middle: float) -> tuple[int, str]:
    """The first of three days to show: around the day with the most mode switches, else a mild spell."""
    switches = np.nan_to_num(day.mode_switches)
    if len(day) and switches.max() > 0:
        busiest = int(np.argmax(switches))
        return max(0, min(busiest - 1, len(day) - 3)), "the days with the most mode switches"
    mean = day.outdoor_mean
    if len(day) < 3 or np.all(np.isnan(mean)):
        return 0, "the first days (no mode switch in the run)"
    spell = np.convolve(np.nan_to_num(mean, nan=1e9), np.ones(3) / 3.0, mode="valid")
    first = int(np.argmin(np.abs(spell - middle)))
    return first, f"a mild spell near {_degrees(middle)} (no mode switch in the run)"


def _changeover(
    trend: Trend, day: DailySummary, path: Path, heating_below: float | None, cooling_above: float | None
) -> Plot:
    title = "Changeover between heating and cooling"
    if kpi.SYSTEM_MODE not in trend:
        return Plot("changeover", title, None, f"Left out: the run has no `{kpi.SYSTEM_MODE}` column.")
    outdoor = _outdoor(trend, controller_first=True)
    if outdoor is None or len(day) == 0:
        return Plot("changeover", title, None, "Left out: the run has no outdoor temperature.")
    outdoor_name, outdoor_temp = outdoor
    modes = kpi.mode_rows(trend)
    assert modes is not None  # the mode column is there
    heating, cooling = modes
    thresholds = [value for value in (heating_below, cooling_above) if value is not None]
    middle = float(np.mean(thresholds)) if thresholds else 18.0
    first, why = _pick_changeover_days(day, middle)
    shown_days = min(3, len(day) - first)
    begin, end = _rows_of_days(trend, day.date[first], shown_days)
    time = trend.time[begin:end].astype("datetime64[ms]")

    figure = Figure(figsize=(_WIDTH, 8.0), layout="constrained")
    grid = figure.add_gridspec(2, 2, height_ratios=(1.0, 1.0), width_ratios=(1.6, 1.0))
    series = figure.add_subplot(grid[0, :])
    histogram = figure.add_subplot(grid[1, 0])
    at_switch = figure.add_subplot(grid[1, 1])

    def dead_band(axes: Axes, *, vertical: bool) -> None:
        line = axes.axvline if vertical else axes.axhline
        span = axes.axvspan if vertical else axes.axhspan
        # Over time the mode is shaded already; a second shade for the band would blur it.
        if vertical and heating_below is not None and cooling_above is not None:
            span(heating_below, cooling_above, color=_DEAD_BAND, alpha=0.25, linewidth=0, label="Dead band")
        if heating_below is not None:
            line(
                heating_below,
                color=_INDOOR,
                linestyle="--",
                linewidth=1.0,
                label=f"Heating below {_degrees(heating_below)}",
            )
        if cooling_above is not None:
            line(
                cooling_above,
                color=_OUTDOOR,
                linestyle="--",
                linewidth=1.0,
                label=f"Cooling above {_degrees(cooling_above)}",
            )

    dates = f"{day.date[first]}" + (f" to {day.date[first + shown_days - 1]}" if shown_days > 1 else "")
    series.set_title(f"Outdoor temperature and mode, {dates}")
    _shade(series, time, heating[begin:end], _HEATING_SHADE, "Heating mode")
    _shade(series, time, cooling[begin:end], _COOLING_SHADE, "Cooling mode")
    dead_band(series, vertical=False)
    series.plot(
        time,
        outdoor_temp[begin:end],
        color=_SWITCH,
        linewidth=1.0,
        label="Outdoor, as the\ncontroller reads it",
    )
    series.set_ylabel("Temperature [°C]")
    _legend(series, beside=True)
    series_locator = _dates.AutoDateLocator(minticks=6, maxticks=14)
    series.xaxis.set_major_locator(series_locator)
    series.xaxis.set_major_formatter(_dates.ConciseDateFormatter(series_locator))
    series.set_xlim(
        day.date[first].astype("datetime64[ms]"), (day.date[first] + shown_days).astype("datetime64[ms]")
    )

    dt_hours = kpi.held_seconds(trend) / 3600.0
    finite = ~np.isnan(outdoor_temp)
    # The temperatures seen, and the dead band with a margin even if the run never reached it.
    seen = (
        [float(np.min(outdoor_temp[finite])), float(np.max(outdoor_temp[finite]))] if np.any(finite) else []
    )
    span = seen + [value - 2.0 for value in thresholds] + [value + 2.0 for value in thresholds]
    low = math.floor(min(span, default=0.0))
    high = math.ceil(max(span, default=1.0)) + 1
    edges = np.arange(low, high + 1, 1.0)
    histogram.set_title("Whole run: hours in each mode by outdoor temperature")
    heating_hours, _ = np.histogram(
        outdoor_temp[heating & finite], bins=edges, weights=dt_hours[heating & finite]
    )
    cooling_hours, _ = np.histogram(
        outdoor_temp[cooling & finite], bins=edges, weights=dt_hours[cooling & finite]
    )
    dead_band(histogram, vertical=True)
    histogram.bar(
        edges[:-1], heating_hours, width=1.0, align="edge", color=_INDOOR, alpha=0.75, label="Heating"
    )
    histogram.bar(
        edges[:-1],
        cooling_hours,
        width=1.0,
        align="edge",
        bottom=heating_hours,
        color=_OUTDOOR,
        alpha=0.75,
        label="Cooling",
    )
    histogram.set_xlabel("Outdoor temperature [°C]")
    histogram.set_ylabel("Time [h]")
    histogram.legend(loc="upper left")

    at_switch.set_title("Outdoor temperature at each mode switch")
    changed = kpi.changes(np.asarray(trend[kpi.SYSTEM_MODE].values))
    to_heating = changed & heating
    to_cooling = changed & cooling
    dead_band(at_switch, vertical=True)
    if np.any(changed):
        at_switch.hist(
            [outdoor_temp[to_heating], outdoor_temp[to_cooling]],
            bins=edges.tolist(),
            stacked=True,
            color=[_INDOOR, _OUTDOOR],
            alpha=0.75,
            label=["To Heating", "To Cooling"],
        )
        at_switch.legend(loc="upper left", fontsize=7)
    else:
        _absent(at_switch, "No mode switch in this run")
    at_switch.set_xlabel("Outdoor temperature [°C]")
    at_switch.set_ylabel("Switches")
    at_switch.yaxis.set_major_locator(MaxNLocator(integer=True))
    at_switch.set_xlim(histogram.get_xlim())

    _save(figure, path)
    switches = int(np.count_nonzero(changed))
    caption = (
        f"Top: {why}, with the mode shaded and the outdoor temperature `{outdoor_name}` the changeover "
        f"acts on. Bottom left: how long the plant was in each mode at each outdoor temperature over the "
        f"whole run; bottom right: the outdoor temperature at each of the {switches} mode switches. With "
        "a working dead band the plant switches to Heating only below the heating line and to Cooling "
        "only above the cooling line, both modes share the dead band, and a day has at most a few "
        "switches; many switches a day, or switches inside the dead band, mean the changeover hunts."
    )
    if not thresholds:
        caption += " The changeover parameters were not given, so no dead band is drawn."
    return Plot("changeover", title, path, caption)


# ---------------------------------------------------------------------------------------------
# The report


def format_value(value: float) -> str:
    """A KPI's value as the report shows it: a few significant digits, thin-space thousands, — for none."""
    if math.isnan(value) or math.isinf(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 100.0 or float(value).is_integer():
        text = f"{value:,.0f}"
    elif magnitude >= 10.0:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")  # no "-0.00"
    return text.replace(",", "\u202f").replace("-", _MINUS)


@functools.cache
def _environment() -> jinja2.Environment:
    # The shipped templates' environment, with HTML escaping for this one (code templates have none).
    from hpdsl.codegen.templates import environment

    return environment().overlay(autoescape=True)


_CODE_SPAN = re.compile(r"`([^`]+)`")


def _with_code(text: str) -> markupsafe.Markup:
    """Text escaped for HTML, with `name` spans (column and point names) set as code."""
    escaped = str(markupsafe.escape(text))
    return markupsafe.Markup(_CODE_SPAN.sub(r"<code>\1</code>", escaped))


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(
    *,
    title: str,
    run: list[tuple[str, str]],
    kpis: list[Kpi],
    plots: list[Plot],
    parameters: list[tuple[str, str, str]],
    alarms: list[tuple[str, int]],
    scorecard: list[Goal] | None = None,
) -> str:
    """The report as HTML text (see `write_html`)."""
    sections: dict[str, list[dict[str, object]]] = {}
    for item in kpis:
        sections.setdefault(kpi.SECTION_OF.get(item.key, "Other"), []).append(
            {
                "title": item.title,
                "value": format_value(item.value),
                "unit": item.unit,
                "note": _with_code(item.note),
            }
        )
    figures = [
        {
            "key": plot.key,
            "title": plot.title,
            "caption": _with_code(plot.caption),
            "src": _data_uri(plot.path) if plot.path is not None else "",
        }
        for plot in plots
    ]
    return (
        _environment()
        .get_template("report/report.html.j2")
        .render(
            title=title,
            run=run,
            sections=list(sections.items()),
            plots=figures,
            parameters=parameters,
            alarms=alarms,
            scorecard=[
                {
                    "title": goal.title,
                    "value": shown(goal.value),
                    "unit": goal.unit,
                    "goal": goal.goal,
                    "verdict": goal.verdict,
                    "detail": goal.detail,
                }
                for goal in scorecard or []
            ],
            scorecard_met=met(scorecard) if scorecard else None,
        )
    )


def write_html(
    path: Path,
    *,
    title: str,
    run: list[tuple[str, str]],
    kpis: list[Kpi],
    plots: list[Plot],
    parameters: list[tuple[str, str, str]],
    alarms: list[tuple[str, int]],
    scorecard: list[Goal] | None = None,
) -> None:
    """Write the report: run description, KPIs, plots with captions, parameters and top alarms, in one file.

    The same inputs give the same bytes: the file holds no time stamp and no path of this machine.
    """
    text = render_html(
        title=title,
        run=run,
        kpis=kpis,
        plots=plots,
        parameters=parameters,
        alarms=alarms,
        scorecard=scorecard,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
