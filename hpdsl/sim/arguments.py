"""Command-line arguments of `hpdsl simulate` and `hpdsl verify`, and the check for their libraries.

`hpdsl` builds the parser of every command at start-up, so what is declared here imports only
the standard library and hpdsl's core: `hpdsl check` must run where numpy and pyarrow are not
installed. The commands themselves live in `hpdsl.sim.command` and `hpdsl.verify`.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from hpdsl.base.files import UsageError
from hpdsl.language import units as units_

TREND_FORMATS = ("parquet", "csv", "none")


def require_extras(command: str) -> None:
    """UsageError naming the install command when the simulation libraries are missing."""
    try:
        import numpy  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"{command} needs the simulation extras ({exc.name} is missing): pip install 'hpdsl[sim]'"
        ) from exc


def simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of `hpdsl simulate`."""
    parser.add_argument("paths", metavar="PATH", nargs="+", type=Path, help="the rules files or folders")
    parser.add_argument(
        "-o", "--output", metavar="DIR", type=Path, required=True, help="folder for the results"
    )
    parser.add_argument(
        "--params", metavar="FILE", type=Path, help="a site parameter file (TOML) for the rules"
    )
    parser.add_argument(
        "--plant",
        metavar="FILE",
        type=Path,
        help="the plant model file (TOML); default: the documented defaults",
    )
    parser.add_argument(
        "--weather",
        metavar="NAME|FILE",
        default="greensboro",
        help="a built-in typical year (greensboro, sand-point) or a weather CSV (default: greensboro)",
    )
    parser.add_argument(
        "--start",
        metavar="DATE",
        default="2024-01-01",
        help="first day, YYYY-MM-DD[THH:MM] (default 2024-01-01)",
    )
    parser.add_argument(
        "--days", metavar="N", type=float, default=365.0, help="days to simulate (default 365)"
    )
    parser.add_argument(
        "--step", metavar="TIME", default="60 s", help="scan step, with a unit (default 60 s)"
    )
    parser.add_argument(
        "--trend-format",
        choices=TREND_FORMATS,
        default="parquet",
        help="trend file format (default parquet; csv is larger)",
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the plots and the HTML report")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a goal of the commissioning scorecard is missed (docs/kpis.md)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--force", action="store_true", help="write into a folder that holds other files")


def verify_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of `hpdsl verify`."""
    parser.add_argument(
        "paths", metavar="RULES_PATH", nargs="+", type=Path, help="rules files or folders of them"
    )
    parser.add_argument(
        "--trend",
        metavar="FILE",
        type=Path,
        required=True,
        help="the trend log recorded on the controller (CSV or Parquet): a `time` column and one"
        " column per point, named `Program.point` (or `point` where unambiguous)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUTDIR",
        type=Path,
        help="also write summary.csv and, for each point that departed, pyfunnel's files and a plot",
    )
    parser.add_argument(
        "--params", metavar="FILE", type=Path, help="the site parameter file (TOML) the controller runs with"
    )
    parser.add_argument(
        "--time-tolerance",
        metavar="DURATION",
        type=duration,
        help="how far in time the controller may lag or lead the rules (default: the median sample interval)",
    )
    parser.add_argument(
        "--tolerance",
        metavar="POINT=VALUE",
        action="append",
        default=[],
        help="the value tolerance of one point, in a unit of its quantity (`Program.point=0.5K`); repeatable",
    )
    parser.add_argument(
        "--default-tolerance",
        metavar="PERCENT",
        type=percent,
        default=0.01,
        help="the value tolerance of real points without --tolerance, as a share of the point's declared"
        " range, or of its recorded range when it declares none (default: 1%%); booleans, enumerations"
        " and whole numbers must match exactly",
    )
    parser.add_argument(
        "--points",
        metavar="GLOB",
        action="append",
        default=[],
        help="compare only the points whose name matches (`Changeover.*`); repeatable",
    )
    parser.add_argument(
        "--step",
        metavar="DURATION",
        type=duration,
        help="the longest scan of the replay: a longer gap between rows is run as several scans with the"
        " inputs held (default: the median sample interval)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json (for tools)"
    )
    parser.add_argument(
        "--force", action="store_true", help="write into an OUTDIR that holds files verify did not write"
    )


def duration(text: str) -> float:
    """A duration on the command line (`2min`, `90 s`, `1.5h`; `0` alone needs no unit) in seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*", text)
    if match is not None:
        number, symbol = float(match.group(1)), match.group(2)
        if not symbol and number == 0:
            return 0.0
        unit = units_.lookup(symbol) if symbol else None
        if unit is not None and unit.dimension == units_.Dimension(time=1):
            return number * unit.scale
    raise argparse.ArgumentTypeError(f"`{text}` is not a duration; write it with a unit: 60s, 2min, 1h")


def percent(text: str) -> float:
    """A share on the command line (`1%`, `0.5 %`) as a fraction."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"`{text}` is not a percentage; write it like 1% or 0.5%")
    return float(match.group(1)) / 100.0
