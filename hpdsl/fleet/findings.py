"""Faults found in a site's trend: what the rules alone cannot see, judged over weeks and months.

The rules raise alarms scan by scan. A service company also looks at a plant over months, and
compares it with itself and with the weather. Three checks, each a fault kind of
`hpdsl.sim.faults` so that a generated fleet's faults and the findings compare directly:

- **stuck aux stage** (and **failed aux stage**): the rules' feedback alarm on an aux stage
  (`AuxHeat.aux_stage_N_feedback`) says the stage and its current switch disagree; the rows
  it was active on tell which way: current with the stage commanded off is a stuck contactor
  (energised for `AUX_HOURS` or more in all), no current with it commanded on a failed stage.
- **drifting sensor**: the outdoor air sensor against the site's weather reference (the
  manifest's `weather`). Each day's median difference; the first `BASELINE_DAYS` days with
  readings are the sensor's own offset at commissioning (siting, a station some way off), and
  a run of `WINDOW_DAYS` days whose median difference has moved from it by `DRIFT_LIMIT` or
  more is a drifting sensor. Without a reference the sensor is not judged.
- **fouled coil** (air source): the outdoor coil's approach, the outdoor air temperature (the
  reference when there is one, so that a drifting sensor does not read as a fouled coil) less
  the coil's, on rows of heating at full load (`FULL_LOAD` % demand or more, running) with a
  coil free of frost: above 0C, or between `CLEAR_AFTER` minutes after a defrost ended (the
  coil has cooled from the hot gas) and `CLEAR_UNTIL` minutes after it (before frost builds
  again). Frost widens the approach too, and anything that delays defrosts (a drifting outdoor
  sensor among them) would otherwise read as fouling; dirt stays after a defrost, frost does
  not. Compared in the same way with the first days it was seen; a rise of `APPROACH_RISE` or
  more is a fouled (or blocked) coil.

The limits are chosen so that a healthy plant of either built-in climate, a whole year long,
raises none of them (tests/test_fleet.py and docs/fleet.md).

May import: hpdsl.sim (the fault kinds, the KPIs' column names), numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hpdsl.sim import faults, kpi

FloatArray = npt.NDArray[np.float64]

OUTDOOR_SENSOR = "PlantSignals.outdoor_temp_sensor"
COIL_SENSOR = "PlantSignals.outdoor_coil_temp_sensor"
RUNNING = "PlantSignals.compressor_running"
DEMAND = "PlantSignals.load_demand"
DEFROST = kpi.DEFROST_ACTIVE
MODE = kpi.SYSTEM_MODE  # member 0: Heating
SOURCE = "Sources.source_type"  # member 0: Air
AUX_STAGES = (1, 2)
FAILED_AUX_STAGE = "failed-aux-stage"  # the other way round from a stuck one: no current when on


def aux_columns(stage: int) -> tuple[str, str, str]:
    """The command, the current switch and the feedback alarm of an aux stage."""
    return (
        f"AuxHeat.aux_stage_{stage}",
        f"AuxHeat.aux_stage_{stage}_proven",
        f"AuxHeat.aux_stage_{stage}_feedback",
    )


COLUMNS = (
    OUTDOOR_SENSOR,
    COIL_SENSOR,
    RUNNING,
    DEMAND,
    DEFROST,
    MODE,
    SOURCE,
    *(name for stage in AUX_STAGES for name in aux_columns(stage)),
)

AUX_HOURS = 1.0  # h a stage disagrees with its command, in all, before it is a finding
BASELINE_DAYS = 14  # days of the baseline: the sensor and the coil as commissioned
WINDOW_DAYS = 14  # days of each later window the baseline is compared with
MIN_DAYS = 7  # days with readings a window needs to count
DRIFT_LIMIT = 2.0  # K the outdoor sensor may move from its baseline offset to the reference
APPROACH_RISE = 3.0  # K the full-load coil approach may rise over its baseline
FULL_LOAD = 90.0  # % load demand counted as full load
MIN_ROWS_A_DAY = 10  # rows a day needs for its median to count (10 minutes at 1 min)
CLEAR_AFTER = 5.0 * 60.0  # s after a defrost ends: the coil has cooled from the hot gas
CLEAR_UNTIL = 20.0 * 60.0  # s after a defrost ends: frost has not yet built up again


@dataclass(frozen=True)
class Finding:
    """A fault found in a trend: its kind (a fault kind of hpdsl.sim.faults), what, since when, why."""

    kind: str
    subject: str
    since: str
    evidence: str

    def describe(self) -> str:
        return f"{self.kind}: {self.subject} since {self.since} ({self.evidence})"


def find(
    columns: dict[str, FloatArray],
    times: npt.NDArray[np.datetime64],
    held: FloatArray,
    reference: FloatArray | None,
) -> tuple[Finding, ...]:
    """Every finding in a site's trend: `columns` by name (numbers, flags 0/1, enumerations by
    member position, NaN where none), the rows' `times`, the seconds each row holds, and the
    weather's outdoor temperature at each row (None without a reference)."""
    found = [*_aux(columns, times, held)]
    days = _day_numbers(times)
    outdoor = columns.get(OUTDOOR_SENSOR)
    if outdoor is not None and reference is not None:
        drift = _moved(outdoor - reference, days, np.isfinite(outdoor), DRIFT_LIMIT)
        if drift is not None:
            day, change = drift
            found.append(
                Finding(
                    faults.DRIFTING_SENSOR,
                    OUTDOOR_SENSOR,
                    _date(day),
                    f"reads up to {change:+.1f} K against the weather, from its offset of the"
                    f" first {BASELINE_DAYS} days",
                )
            )
    coil = _coil(columns, times, days, reference if reference is not None else outdoor)
    if coil is not None:
        found.append(coil)
    return tuple(sorted(found, key=lambda f: (f.kind, f.subject)))


def _aux(
    columns: dict[str, FloatArray], times: npt.NDArray[np.datetime64], held: FloatArray
) -> list[Finding]:
    found: list[Finding] = []
    for stage in AUX_STAGES:
        command, proven, alarm = (columns.get(name) for name in aux_columns(stage))
        if command is None or proven is None or alarm is None:
            continue
        active = alarm > 0.5
        on, off = proven > 0.5, proven < 0.5
        for kind, rows, what in (
            (faults.STUCK_AUX_STAGE, active & on & (command < 0.5), "energised while commanded off"),
            (FAILED_AUX_STAGE, active & off & (command > 0.5), "without current while commanded on"),
        ):
            hours = float(np.sum(held[rows])) / 3600.0
            if hours >= AUX_HOURS:
                first = int(np.argmax(rows))
                since = str(times[first].astype("datetime64[s]")).replace("T", " ")
                found.append(Finding(kind, f"aux stage {stage}", since, f"{hours:.1f} h {what}"))
    return found


def _coil(
    columns: dict[str, FloatArray],
    times: npt.NDArray[np.datetime64],
    days: npt.NDArray[np.int64],
    outdoor: FloatArray | None,
) -> Finding | None:
    coil = columns.get(COIL_SENSOR)
    needed = (columns.get(name) for name in (RUNNING, DEMAND, DEFROST, MODE, SOURCE))
    running, demand, defrost, mode, source = needed
    if coil is None or outdoor is None or running is None or demand is None or mode is None:
        return None
    rows = (running > 0.5) & (demand >= FULL_LOAD) & (mode == 0) & np.isfinite(coil) & np.isfinite(outdoor)
    if defrost is None:
        return None
    rows &= (defrost < 0.5) & ((coil > 0.0) | _clear_of_frost(defrost > 0.5, times))
    if source is not None:
        rows &= source == 0
    moved = _moved(outdoor - coil, days, rows, APPROACH_RISE, rising_only=True)
    if moved is None:
        return None
    day, change = moved
    return Finding(
        faults.FOULED_COIL,
        "outdoor coil",
        _date(day),
        f"its approach at full load has risen up to {change:.1f} K over the first {BASELINE_DAYS} days seen",
    )


def _clear_of_frost(
    defrosting: npt.NDArray[np.bool_], times: npt.NDArray[np.datetime64]
) -> npt.NDArray[np.bool_]:
    """The rows between CLEAR_AFTER and CLEAR_UNTIL seconds after a defrost ended."""
    seconds = (times - times[0]).astype("timedelta64[ms]").astype(np.float64) / 1000.0
    ended = np.zeros(len(defrosting), dtype=bool)
    ended[1:] = defrosting[:-1] & ~defrosting[1:]
    last = np.where(ended, np.arange(len(defrosting)), -1)
    np.maximum.accumulate(last, out=last)
    since = np.where(last >= 0, seconds - seconds[np.maximum(last, 0)], np.inf)
    clear: npt.NDArray[np.bool_] = (since >= CLEAR_AFTER) & (since <= CLEAR_UNTIL)
    return clear


def _moved(
    values: FloatArray,
    days: npt.NDArray[np.int64],
    rows: npt.NDArray[np.bool_],
    limit: float,
    *,
    rising_only: bool = False,
) -> tuple[int, float] | None:
    """(its onset, the farthest a window moved) when a window of daily medians moved from the
    baseline by `limit` or more; None when none did. The onset is the first such window's first
    day that had moved half as far."""
    medians = _daily_medians(values, days, rows)
    if len(medians) < MIN_DAYS * 2:
        return None
    numbers = sorted(medians)
    baseline_days = numbers[:BASELINE_DAYS]
    if len(baseline_days) < MIN_DAYS:
        return None
    baseline = float(np.median([medians[d] for d in baseline_days]))
    later = numbers[len(baseline_days) :]
    onset: int | None = None
    largest = 0.0
    for index in range(len(later)):
        window = [d for d in later[index:] if d < later[index] + WINDOW_DAYS]
        if len(window) < MIN_DAYS:
            break
        change = float(np.median([medians[d] for d in window])) - baseline
        if change >= limit or (not rising_only and change <= -limit):
            if onset is None:
                # Since the first day of the first such window that had moved half as far.
                onset = next(d for d in window if abs(medians[d] - baseline) >= limit / 2)
            if abs(change) > abs(largest):
                largest = change
    return None if onset is None else (onset, largest)


def _daily_medians(
    values: FloatArray, days: npt.NDArray[np.int64], rows: npt.NDArray[np.bool_]
) -> dict[int, float]:
    """Each day's median of `values` on `rows`, for the days with MIN_ROWS_A_DAY such rows."""
    chosen = rows & np.isfinite(values)
    picked_days, picked = days[chosen], values[chosen]
    medians: dict[int, float] = {}
    if len(picked) == 0:
        return medians
    order = np.argsort(picked_days, kind="stable")
    picked_days, picked = picked_days[order], picked[order]
    bounds = np.flatnonzero(np.diff(picked_days)) + 1
    for part_days, part in zip(np.split(picked_days, bounds), np.split(picked, bounds), strict=True):
        if len(part) >= MIN_ROWS_A_DAY:
            medians[int(part_days[0])] = float(np.median(part))
    return medians


def _day_numbers(times: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int64]:
    days: npt.NDArray[np.int64] = times.astype("datetime64[D]").astype(np.int64)
    return days


def _date(day: int) -> str:
    """A day number (days since 1970-01-01) as its ISO date."""
    return str(np.datetime64(int(day), "D"))
