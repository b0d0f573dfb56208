"""The scan loop of `hpdsl run`: the compiled Python program in real time, at a fixed cycle.

Each cycle, at `start + k * cycle`:

1. the field's latest readings are set as the package's inputs (a missing, failed or stale
   reading is no value: the rules use the input's fallback and raise its sensor fault);
2. the package scans once, advanced by the time since the previous scan (the first scan by 0 s,
   as a PLC after power-up);
3. the outputs are handed to the field, which writes those that changed;
4. what the scan raised, cleared and logged goes to the event log (and to the controller's own
   BACnet device, when it has one).

The loop never waits for the network: the field links poll and write beside it. A cycle that
starts late is measured (its lateness is the scan jitter) and the next one keeps to the grid;
a cycle that overran a whole period is counted and skipped rather than run twice. The loop
ends at `duration` or on SIGINT/SIGTERM, and always writes the outputs' safe states on the way
out. With the built-in plant (`--plant sim`) time is the plant's: every scan advances exactly one
cycle, and `speed` runs it faster than the wall clock (`math.inf`: as fast as it goes).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import math
import signal
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hpdsl.live.eventlog import EventLog
from hpdsl.live.field import Field, LinkStatus

TIMING_WINDOW = 100_000  # the latest scans whose timings are kept: more than a day at 1 s


class Samples:
    """Timings in ms: those of the latest TIMING_WINDOW scans, and the largest of the whole run.

    A controller runs for months; what it keeps of its timings must not grow with them.
    """

    def __init__(self) -> None:
        self.latest: deque[float] = deque(maxlen=TIMING_WINDOW)
        self.largest = 0.0

    def add(self, ms: float) -> None:
        self.latest.append(ms)
        self.largest = max(self.largest, ms)

    def __len__(self) -> int:
        return len(self.latest)

    def __iter__(self) -> Iterator[float]:
        return iter(self.latest)

    def median(self) -> float:
        return statistics.median(self.latest) if self.latest else 0.0

    def p99(self) -> float:
        """The 99th percentile of the latest timings (nearest rank)."""
        if not self.latest:
            return 0.0
        ordered = sorted(self.latest)
        return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


@dataclass
class Summary:
    """What a run did, for the closing lines, the tests and the benchmarks."""

    scans: int = 0
    simulated_s: float = 0.0
    wall_s: float = 0.0
    late_ms: Samples = field(default_factory=Samples)  # how late each cycle started (real time only)
    scan_ms: Samples = field(default_factory=Samples)  # how long each scan took
    overruns: int = 0
    alarms_raised: int = 0
    stopped_by: str = "duration"
    safe_outputs: int = 0  # outputs written to their safe states when the loop ended
    links: list[LinkStatus] = field(default_factory=list)

    def jitter(self) -> dict[str, float]:
        """Scan-start lateness in ms: median, 99th percentile, largest."""
        return {"p50": self.late_ms.median(), "p99": self.late_ms.p99(), "max": self.late_ms.largest}


class Controller:
    """One package scanned in a loop against a field, with its event log."""

    def __init__(
        self,
        package: Any,
        field_: Field,
        cycle_s: float,
        *,
        log: EventLog | None,
        simulated: bool = False,
        speed: float = 1.0,
        duration_s: float | None = None,
        on_scan: Callable[[Any, Summary], None] | None = None,
    ) -> None:
        self.package = package
        self.field = field_
        self.cycle_s = cycle_s
        self.log = log
        self.simulated = simulated
        self.speed = speed
        self.duration_s = duration_s
        self.on_scan = on_scan
        self.summary = Summary()
        self._stop = asyncio.Event()
        self._instances = [getattr(package, cls.INSTANCE) for cls in type(package).PROGRAMS]
        # The unit of each field of each event, written beside the values in the log.
        self._field_units = {
            (cls.NAME, event.name): {name: unit for name, _, unit in event.fields if unit}
            for cls in type(package).PROGRAMS
            for event in cls.EVENTS
        }

    def stop(self, reason: str = "stop") -> None:
        self.summary.stopped_by = reason
        self._stop.set()

    def record(self, kind: str, fields: dict[str, object]) -> None:
        """An event of the controller itself (start, stop, a lost device) in the event log."""
        if self.log is not None:
            self.log.append({"time": _now_iso(self.package), "kind": kind, **fields})

    async def run(self) -> Summary:
        loop = asyncio.get_running_loop()
        for sig, name in ((signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM")):
            # Not the main thread, or a platform without signals: stop() still works.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.stop, name)
        self.record("controller_started", {"cycle_s": self.cycle_s, "simulated": self.simulated})
        began = time.monotonic()
        try:
            await self.field.start()
            await self._loop(began)
        finally:
            self.summary.wall_s = time.monotonic() - began
            safe = await self.field.stop()
            self.summary.links = self.field.statuses()
            self.summary.safe_outputs = safe
            self.record("controller_stopped", {"by": self.summary.stopped_by, "scans": self.summary.scans})
            if safe:
                self.record("safe_state_written", {"outputs": safe})
            if self.log is not None:
                self.log.sync()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(sig)
        return self.summary

    async def _loop(self, began: float) -> None:
        summary = self.summary
        period = self.cycle_s / self.speed if self.speed > 0 else self.cycle_s
        paced = math.isfinite(period) and period > 0 and not (self.simulated and math.isinf(self.speed))
        k = 0
        last = began
        while not self._stop.is_set():
            if self.duration_s is not None and summary.simulated_s >= self.duration_s - 1e-9:
                summary.stopped_by = "duration"
                break
            target = began + k * period
            if paced:
                delay = target - time.monotonic()
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._stop.wait(), delay)
                        break  # stopped while waiting
                    except TimeoutError:
                        pass
            else:
                await asyncio.sleep(0)  # let the links and the signal handlers run
            woke = time.monotonic()
            if paced and not self.simulated:
                late = woke - target
                if late > period:  # a whole cycle lost: keep to the grid, count it
                    skipped = math.floor(late / period)
                    summary.overruns += skipped
                    k += skipped
                    target = began + k * period
                    late = woke - target
                summary.late_ms.add(late * 1000.0)
            elif paced:
                summary.late_ms.add((woke - target) * 1000.0)
            dt = (self.cycle_s if self.simulated else woke - last) if summary.scans else 0.0
            self.field.feed(self.package, woke)
            started = time.perf_counter()
            self.package.scan(dt)
            summary.scan_ms.add((time.perf_counter() - started) * 1000.0)
            last = woke
            self.field.deliver(self.package)
            self._log_scan()
            summary.scans += 1
            summary.simulated_s += dt
            if self.on_scan is not None:
                self.on_scan(self.package, summary)
            k += 1

    def _log_scan(self) -> None:
        wrote = False
        for instance in self._instances:
            for change in instance.alarm_changes:
                if change.raised:
                    self.summary.alarms_raised += 1
                if self.log is not None:
                    self.log.append(
                        {
                            "time": change.timestamp.isoformat(timespec="milliseconds"),
                            "kind": "alarm_raised" if change.raised else "alarm_cleared",
                            "program": change.program,
                            "alarm": change.alarm,
                            "severity": change.severity,
                            "values": change.values,
                        }
                    )
                    wrote = True
            for entry in instance.log_entries:
                if self.log is not None:
                    self.log.append(
                        {
                            "time": entry.timestamp.isoformat(timespec="milliseconds"),
                            "kind": "event",
                            "program": entry.program,
                            "event": entry.event,
                            "fields": entry.fields,
                            "units": self._field_units.get((entry.program, entry.event), {}),
                        }
                    )
                    wrote = True
        if wrote and self.log is not None:
            self.log.sync()


def _now_iso(package: Any) -> str:
    programs = type(package).PROGRAMS
    if programs:
        now: datetime.datetime = getattr(package, programs[0].INSTANCE).now
        return now.isoformat(timespec="milliseconds")
    return datetime.datetime.now().isoformat(timespec="milliseconds")
