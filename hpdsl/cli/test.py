"""`hpdsl test PATH...`: the scenario files run against their package, a report and JUnit XML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hpdsl.base.escape import terminal
from hpdsl.base.files import UsageError
from hpdsl.base.render import render_as, use_color, write
from hpdsl.cli.common import EXIT_ERRORS, EXIT_OK, FORMATS, params_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", metavar="PATH", nargs="+", type=Path, help="scenario files (.scenario) or folders of them"
    )
    parser.add_argument(
        "--rules",
        metavar="PATH",
        type=Path,
        action="append",
        help="the rules package to test (repeatable); default: the nearest folder at or above each"
        " scenario file that holds .rules files",
    )
    params_argument(parser)
    parser.add_argument("--junit", metavar="FILE", type=Path, help="also write the results as JUnit XML")
    parser.add_argument(
        "-k", dest="select", metavar="TEXT", help="run only scenarios whose name contains TEXT"
    )
    parser.add_argument("--cites", metavar="ID", help="run only scenarios that cite requirement ID")
    parser.add_argument(
        "--plc",
        action="store_true",
        help="run the scenarios on the iec Structured Text compiled by MATIEC (iec2c) instead of the"
        " Python target",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every scenario, passed ones too")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="how to print diagnostics in the files (default: text)",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite a --junit file that is not a JUnit report"
    )


def run(args: argparse.Namespace) -> int:
    from hpdsl.tools.testing import runner as testing

    junit: Path | None = args.junit
    if junit is not None and not args.force and _not_junit(junit):
        raise UsageError(
            f"will not overwrite `{junit}`: it is not a JUnit report (use --force to overwrite it)"
        )
    if args.plc:
        from hpdsl.tools.testing import matiec

        try:
            matiec.find_toolchain()
        except matiec.ToolchainError as exc:
            raise UsageError(str(exc)) from None
    from hpdsl.base import progress

    report = testing.run_paths(
        args.paths,
        rules=args.rules,
        params=args.params,
        select=args.select,
        cites=args.cites,
        plc=args.plc,
        progress=progress.Progress("test", progress.wanted()),
    )
    # With a machine format, stdout holds only the diagnostics in it; the report goes to stderr.
    report_stream = sys.stdout if args.format == "text" else sys.stderr
    if report.diagnostics or args.format != "text":
        color = use_color("auto", sys.stdout)
        write(sys.stdout, render_as(report.diagnostics, report.sources, args.format, color))
    lines = [*testing.render_outcomes(report, args.verbose), testing.summary(report)]
    write(report_stream, terminal("\n".join(lines) + "\n"))  # scenario titles never reach it raw
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(testing.junit_xml(report), encoding="utf-8")
    return EXIT_OK if report.ok else EXIT_ERRORS


def _not_junit(path: Path) -> bool:
    """True when `path` holds something other than a JUnit report (which a test run may replace)."""
    if not path.exists():
        return False
    try:
        head = path.read_bytes()[:512].decode("utf-8", errors="replace")
    except OSError:
        return True
    return "<testsuites" not in head and "<testsuite" not in head
