"""What verify is asked and what it finds: the settings, each point's result, the report.

Shared by the comparison (which fills them), the causes (which group them) and the report
(which prints them), so that none of those imports another for its data.

May import: hpdsl.base, hpdsl.sim.loaded.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.source import SourceFile
from hpdsl.sim.loaded import PointSpec

CHUNK_ROWS = 16384  # rows replayed and compared at a time: between 22 and 23 days of one-minute samples


@dataclass(frozen=True)
class Settings:
    """What the command line sets: tolerances, the replay's longest scan, which points."""

    time_tolerance_s: float | None = None  # None: the median sample interval
    step_s: float | None = None  # None: the median sample interval
    default_tolerance: float = 0.01  # share of the declared (else recorded) range, for reals
    tolerances: dict[str, float] = field(default_factory=dict)  # column -> in the point's unit
    globs: tuple[str, ...] = ()
    chunk_rows: int = CHUNK_ROWS


@dataclass
class PointResult:
    """The comparison of one point: its tolerances and, if it left its funnel, where and when."""

    point: PointSpec
    value_tolerance: float
    time_tolerance_s: float
    samples: int
    departed: bool = False
    first_s: float | None = None  # seconds since the first row
    last_s: float | None = None
    outside_s: float = 0.0
    max_error: float = 0.0
    max_error_s: float | None = None
    reference_at_first: float | None = None  # the rules' value at the first departure
    recorded_at_first: float | None = None  # the controller's
    first_row: int | None = None  # the row of the first departure, in time order
    episodes: list[int] = field(default_factory=list)  # rows where departures began, the first 64
    folder: Path | None = None  # pyfunnel's files and the plot, when written


@dataclass
class Report:
    """Everything verify found: the trend's problems, each compared point's result, their causes."""

    trend: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    results: list[PointResult] = field(default_factory=list)
    groups: list[Any] = field(default_factory=list)  # causes.Group, in time order
    rows: int = 0
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    step_s: float = 0.0  # the replay's longest scan
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics) and not any(r.departed for r in self.results)

    def at(self, seconds: float) -> datetime.datetime:
        assert self.start is not None
        return self.start + datetime.timedelta(seconds=seconds)
