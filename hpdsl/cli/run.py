"""`hpdsl run`: its arguments are declared without the runtime libraries, which only running needs."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from hpdsl.sim.arguments import duration

    parser.add_argument("paths", metavar="PATH", nargs="+", type=Path, help="the rules files or folders")
    parser.add_argument(
        "--points",
        metavar="FILE",
        type=Path,
        help="the points file (TOML): where each input and output lives",
    )
    parser.add_argument(
        "--params", metavar="FILE", type=Path, help="a site parameter file (TOML) for the rules"
    )
    parser.add_argument(
        "--plant",
        choices=("sim",),
        help="run against the built-in plant model instead of field devices (no network)",
    )
    parser.add_argument(
        "--speed",
        metavar="N|max",
        default="1",
        help="with --plant sim: run N times faster than real time, or `max` (default 1)",
    )
    parser.add_argument(
        "--duration",
        metavar="TIME",
        type=duration,
        help="stop after this much (plant) time, e.g. 1d, 2h; default: run until stopped",
    )
    parser.add_argument(
        "--cycle",
        metavar="TIME",
        type=duration,
        help="the scan period (default: the points file's, else 1 s)",
    )
    parser.add_argument(
        "--start",
        metavar="DATE",
        help="with --plant sim: the plant's first moment, YYYY-MM-DD[THH:MM] (default 2024-01-01)",
    )
    parser.add_argument(
        "--weather",
        metavar="NAME|FILE",
        default="greensboro",
        help="with --plant sim: a built-in typical year or a weather CSV (default greensboro)",
    )
    parser.add_argument(
        "--event-log",
        metavar="DIR",
        type=Path,
        help="folder of the event log (default: the points file's, else ./events)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no status line")


def run(args: argparse.Namespace) -> int:
    from hpdsl.live import command

    return command.run(args)
