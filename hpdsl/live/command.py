"""`hpdsl run`: the rules as a live controller.

    hpdsl run rules/ --plant sim                          # the built-in plant, in real time
    hpdsl run rules/ --plant sim --speed max --duration 1d
    hpdsl run rules/ --points site/points.toml --params site/site.toml

compiles the rules to the Python target, checks the points file against them (every input
mapped, every unit convertible), and scans the package at the cycle time until it is stopped
(SIGINT, SIGTERM) or `--duration` has passed; the outputs then go to their safe states. The
event log is written as it happens; the closing lines give the scans, the alarms and the scan
jitter.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import math
import sys
from pathlib import Path
from typing import Any

from hpdsl.base import progress as progress_
from hpdsl.base.files import UsageError

EXIT_OK = 0
EXIT_ERRORS = 1
DEFAULT_START = datetime.datetime(2024, 1, 1)
STATUS_EVERY_S = 1.0  # wall-clock seconds between two status lines on a terminal


def run(args: argparse.Namespace) -> int:
    _require_runtime(field_devices=args.plant is None)
    from hpdsl.base.render import report
    from hpdsl.live import points as points_
    from hpdsl.live.controller import Controller
    from hpdsl.live.eventlog import EventLog
    from hpdsl.sim import loaded as loaded_

    speed = _speed(args.speed)
    if args.points is None and args.plant is None:
        raise UsageError("give the field points (--points FILE) or run on the built-in plant (--plant sim)")
    if args.plant is None and speed != 1.0:
        raise UsageError("--speed runs the built-in plant faster; field devices run in real time")
    if args.plant is None and (args.start is not None):
        raise UsageError("--start sets the built-in plant's clock; a live controller runs on the wall clock")
    progress = progress_.Progress("run", progress_.wanted(quiet=args.quiet))
    with progress.phase("compiling the rules"):
        package_or_errors = loaded_.load(args.paths, args.params)
    if not isinstance(package_or_errors, loaded_.LoadedPackage):
        sources = {
            **package_or_errors.check.sources,
            **{k: v for k, v in package_or_errors.site_sources.items() if v is not None},
        }
        report([d for d in package_or_errors.diagnostics if d.is_error], sources, sys.stderr)
        return EXIT_ERRORS
    loaded = package_or_errors
    points = None
    if args.points is not None:
        points = points_.read(args.points, loaded)
        if points.diagnostics:
            sources = {points.source.name: points.source} if points.source is not None else {}
            report(points.diagnostics, sources, sys.stderr)
        if not points.ok:
            return EXIT_ERRORS
    cycle_s = args.cycle or (points.cycle_s if points is not None else points_.DEFAULT_CYCLE_S)
    if points is not None and points.server is not None and args.plant is None:
        from hpdsl.live.bacnet import address_problem

        problem = address_problem(points.server)
        if problem is not None:
            raise UsageError(f"{problem} (is another BACnet device on that port? see `[server] address`)")
    folder = args.event_log or (
        points.event_log if points is not None and points.event_log else Path("events")
    )
    rotation = (
        (points.log_rotate_bytes, points.log_keep)
        if points is not None
        else (points_.LOG_ROTATE_BYTES, points_.LOG_KEEP)
    )
    try:
        log = EventLog(folder, *rotation)
    except OSError as exc:
        raise UsageError(f"cannot write the event log in `{folder}`: {exc.strerror or exc}") from None
    try:
        if args.plant == "sim":
            start = _start(args.start)
            package = loaded.new(start)
            field = _simulated_field(loaded, package, args.weather, start, cycle_s)
        else:
            assert points is not None
            package = loaded.new(datetime.datetime.now().replace(microsecond=0))
            field = _network_field(loaded, points, log, package)
        status = _Status(progress.enabled, field.statuses)
        controller = Controller(
            package,
            field,
            cycle_s,
            log=log,
            simulated=args.plant == "sim",
            speed=speed,
            duration_s=args.duration,
            on_scan=status.show if status.enabled else None,
        )
        summary = asyncio.run(controller.run())
        status.clear()
    finally:
        log.close()
    _print_summary(summary, cycle_s, args.plant == "sim", folder, log.written)
    return EXIT_OK


def _simulated_field(
    loaded: Any, package: Any, weather_name: str, start: datetime.datetime, cycle_s: float
) -> Any:
    from hpdsl.live.plant import SimulatedField
    from hpdsl.sim import config
    from hpdsl.sim import weather as weather_
    from hpdsl.sim.run import PlantLoop

    weather = weather_.load(weather_name)
    return SimulatedField(PlantLoop(loaded, config.defaults(), weather, start, cycle_s, package))


def _network_field(loaded: Any, points: Any, log: Any, package: Any) -> Any:
    from hpdsl.live.field import NetworkField, Readings
    from hpdsl.live.modbus import ModbusField

    readings = Readings(loaded, points.inputs, points.stale_after_s)

    def record(kind: str, fields: dict[str, object]) -> None:
        """A device's fault or recovery in the event log, at the wall-clock time it happened."""
        log.append(
            {"time": datetime.datetime.now().isoformat(timespec="milliseconds"), "kind": kind, **fields}
        )

    links: list[Any] = [ModbusField(loaded, points, readings, record)]
    if points.server is not None:
        from hpdsl.live.bacnet import BacnetField

        bacnet = BacnetField(loaded, points, readings, package, record)
        log.listeners.append(bacnet.device.logged)
        links.append(bacnet)
    return NetworkField(readings, links)


def _require_runtime(field_devices: bool) -> None:
    """UsageError naming the install command when a library `run` needs is missing."""
    import importlib

    needed = ["numpy", "pyarrow", *(["pymodbus", "bacpypes3"] if field_devices else [])]
    for name in needed:
        try:
            importlib.import_module(name)
        except ImportError:
            raise UsageError(
                f"run needs the runtime extras ({name} is missing): pip install 'hpdsl[runtime]'"
            ) from None


def _speed(text: str) -> float:
    if text.strip().lower() == "max":
        return math.inf
    try:
        speed = float(text)
    except ValueError:
        raise UsageError(f"--speed {text}: write a number of times real time (60) or `max`") from None
    if not (math.isfinite(speed) and 0.0 < speed <= 1e6):
        raise UsageError(f"--speed {text}: choose a speed above 0 (1 is real time) or `max`")
    return speed


def _start(text: str | None) -> datetime.datetime:
    if text is None:
        return DEFAULT_START
    try:
        return datetime.datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise UsageError(f"--start {text}: not a date; write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


class _Status:
    """One status line on a terminal, rewritten about once a second; nothing elsewhere."""

    def __init__(self, enabled: bool, statuses: Any) -> None:
        import time

        self.enabled = enabled
        self.statuses = statuses  # the device links' states, now
        self._clock = time.monotonic
        self._next = 0.0
        self._width = 0

    def show(self, package: Any, summary: Any) -> None:
        now = self._clock()
        if now < self._next:
            return
        self._next = now + STATUS_EVERY_S
        programs = type(package).PROGRAMS
        active = sum(len(getattr(package, cls.INSTANCE).active_alarms()) for cls in programs)
        when = getattr(package, programs[0].INSTANCE).now.strftime("%Y-%m-%d %H:%M:%S") if programs else ""
        faults = sum(1 for link in self.statuses() if not link.connected)
        line = f"hpdsl run: {when}  scan {summary.scans:,}  alarms active {active}"
        line += f"  raised {summary.alarms_raised}"
        if faults:
            line += f"  devices not answering {faults}"
        sys.stderr.write("\r" + line.ljust(self._width))
        sys.stderr.flush()
        self._width = len(line)

    def clear(self) -> None:
        if self.enabled and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()


def _print_summary(summary: Any, cycle_s: float, simulated: bool, folder: Path, records: int) -> None:
    out = sys.stdout
    out.write(
        f"{summary.scans:,} scans at {cycle_s:g} s"
        f" ({_duration(summary.simulated_s)} of {'plant' if simulated else 'controller'} time)"
        f" in {summary.wall_s:.1f} s; stopped by {summary.stopped_by}\n"
    )
    out.write(f"alarms raised: {summary.alarms_raised}; event log: {records} records in {folder}\n")
    if summary.scan_ms:
        scan = summary.scan_ms
        out.write(f"scan time: median {scan.median():.2f} ms, largest {scan.largest:.2f} ms\n")
    if summary.late_ms and not simulated:
        jitter = summary.jitter()
        out.write(
            f"scan start jitter: median {jitter['p50']:.2f} ms, 99th percentile {jitter['p99']:.2f} ms,"
            f" largest {jitter['max']:.2f} ms; overruns {summary.overruns}\n"
        )
    for link in summary.links:
        out.write(
            f"device {link.device}: {link.reads} reads ({link.read_errors} failed),"
            f" {link.writes} writes ({link.write_errors} failed)\n"
        )
    if summary.safe_outputs:
        out.write(f"{summary.safe_outputs} outputs written to their safe states\n")


def _duration(seconds: float) -> str:
    """A span of time as an engineer says it: 45 s, 12.5 min, 24.00 h, 30.0 d."""
    if seconds < 120.0:
        return f"{seconds:.0f} s"
    if seconds < 7200.0:
        return f"{seconds / 60.0:.1f} min"
    if seconds < 4 * 86400.0:
        return f"{seconds / 3600.0:.2f} h"
    return f"{seconds / 86400.0:.1f} d"
