"""`hpdsl verify RULES... --trend FILE`: the command line around the comparison.

Checks the arguments and the output folder, loads the rules, runs the comparison with progress
on a terminal, prints the report and writes the output folder: summary.csv and, for each
departed point, pyfunnel's files and a plot. An output folder is replaced only when it holds
nothing but an earlier verify's results, and never holds one run's results beside another's.

May import: everything in hpdsl.sim.verify, hpdsl.sim.loaded, hpdsl.check.package, hpdsl.base.progress.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hpdsl.base import progress as progress_
from hpdsl.base.files import UsageError
from hpdsl.base.render import write
from hpdsl.base.source import Span
from hpdsl.sim.loaded import LoadedPackage, load
from hpdsl.sim.verify.compare import FUNNEL_FILES, verify
from hpdsl.sim.verify.recording import PointNames
from hpdsl.sim.verify.report import (
    PLOT_FILE,
    SUMMARY_FILE,
    SUMMARY_HEADER,
    emit_diagnostics,
    plot,
    render_report,
    report_json,
    write_summary,
)
from hpdsl.sim.verify.results import Settings

EXIT_OK = 0
EXIT_DEPARTED = 1


def run(args: argparse.Namespace) -> int:
    """Run `hpdsl verify`: 0 when every point stays in its funnel, 1 on a departure or a trend-file error."""
    trend_path: Path = args.trend
    if not trend_path.exists():
        raise UsageError(f"no such file: `{trend_path}`")
    if trend_path.is_dir():
        raise UsageError(f"`{trend_path}` is a folder, not a trend file")
    output: Path | None = args.output
    if output is not None:
        _check_output(output, args.force)
    if args.step is not None and args.step <= 0:
        raise UsageError("--step must be longer than 0 s")
    funnel = _import_pyfunnel()
    started = time.perf_counter()
    loaded = load(args.paths, args.params, name="verified_rules")
    if not isinstance(loaded, LoadedPackage):
        sources = dict(loaded.check.sources)
        sources.update({name: source for name, source in loaded.site_sources.items() if source is not None})
        emit_diagnostics(loaded.diagnostics, sources, args.format)
        return EXIT_DEPARTED
    tolerances = _tolerance_arguments(args.tolerance, loaded)
    progress = progress_.Progress("verify", progress_.wanted())
    with contextlib.ExitStack() as stack:
        staging = None
        if output is not None:
            # Everything is written beside the folder first and moved in at the end, so that the
            # folder never holds one run's results beside another's.
            output.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(
                stack.enter_context(tempfile.TemporaryDirectory(dir=output.parent, prefix=".hpdsl-verify-"))
            )
        report = verify(
            loaded,
            trend_path,
            Settings(
                time_tolerance_s=args.time_tolerance,
                step_s=args.step,
                default_tolerance=args.default_tolerance,
                tolerances=tolerances,
                globs=tuple(args.points),
            ),
            staging,
            funnel,
            progress,
        )
        if output is not None and staging is not None and report.results:
            departed = [r for r in report.results if r.departed]
            with progress.phase("writing the plots", total=len(departed), unit="plots") as step:
                for result in departed:
                    plot(result, report)
                    step.advance()
            write_summary(staging / SUMMARY_FILE, report)
            _clear_output(output)
            for entry in sorted(staging.iterdir()):
                entry.rename(output / entry.name)
            for result in departed:
                result.folder = output / result.point.column
    report.seconds = time.perf_counter() - started
    if args.format == "json":
        write(sys.stdout, json.dumps(report_json(report), indent=2, sort_keys=True) + "\n")
    else:
        if report.diagnostics:
            emit_diagnostics(report.diagnostics, report.sources, "text")
        if report.results or not any(d.is_error for d in report.diagnostics):
            write(sys.stdout, render_report(report, output))
    return EXIT_OK if report.ok else EXIT_DEPARTED


def _import_pyfunnel() -> Any:
    try:
        import pyfunnel  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise UsageError("hpdsl verify needs pyfunnel (pip install pyfunnel)") from None
    return pyfunnel


def _tolerance_arguments(items: list[str], loaded: LoadedPackage) -> dict[str, float]:
    """`--tolerance Program.point=0.5K` as {column: tolerance in the point's unit}; UsageError if wrong."""
    from hpdsl.language.values import Target, ValueProblem, convert_tolerance, from_text

    result: dict[str, float] = {}
    resolver = PointNames(loaded)
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--tolerance `{item}`: write POINT=VALUE, such as Changeover.system_mode=0")
        point, problem = resolver.resolve(name.strip())
        if point is None:
            raise UsageError(f"--tolerance `{item}`: {problem}")
        if point.kind in ("bool", "enum"):
            raise UsageError(
                f"--tolerance `{item}`: {point.kind} points are compared exactly; give a time tolerance"
            )
        try:
            amount = convert_tolerance(from_text(value, _NO_PLACE), Target(point.kind, point.unit))
        except ValueProblem as exc:
            raise UsageError(
                f"--tolerance `{item}`: {exc.problem}" + (f" ({exc.hint})" if exc.hint else "")
            ) from None
        result[point.column] = amount
    return result


_NO_PLACE = Span("<command line>", 0, 0, 0, 0)


def _check_output(output: Path, force: bool) -> None:
    """Refuse an OUTDIR that is a file, or that holds something an earlier verify did not write."""
    if output.exists() and not output.is_dir():
        raise UsageError(f"`{output}` exists and is not a folder")
    if force or not output.exists() or _is_verify_output(output):
        return
    raise UsageError(
        f"will not write into `{output}`: it is not empty and holds no earlier `hpdsl verify` results"
        " (use --force to write into it)"
    )


def _is_verify_output(folder: Path) -> bool:
    """An empty folder, or one holding only an earlier verify's summary and point folders."""
    entries = list(folder.iterdir())
    if not entries:
        return True
    summary = folder / SUMMARY_FILE
    try:
        with summary.open(encoding="utf-8") as stream:
            first = stream.readline().strip()
    except OSError:
        return False
    if first not in (",".join(SUMMARY_HEADER), ",".join(SUMMARY_HEADER[:-1])):  # [:-1]: before groups
        return False
    return all(entry == summary or _is_point_folder(entry) for entry in entries)


def _is_point_folder(path: Path) -> bool:
    return path.is_dir() and all(f.name in (*FUNNEL_FILES, PLOT_FILE) for f in path.iterdir())


def _clear_output(output: Path) -> None:
    """Remove an earlier verify's summary and point folders, so that none outlives its point."""
    output.mkdir(parents=True, exist_ok=True)
    for entry in output.iterdir():
        if _is_point_folder(entry):
            shutil.rmtree(entry)
    (output / SUMMARY_FILE).unlink(missing_ok=True)
