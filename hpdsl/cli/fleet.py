"""`hpdsl fleet`: its arguments are declared without Dask, which only running needs."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", help="verify every site of a manifest and rank them")
    verify.add_argument("manifest", metavar="MANIFEST", type=Path, help="the fleet manifest (TOML)")
    verify.add_argument(
        "-o", "--output", metavar="DIR", type=Path, required=True, help="folder for the report"
    )
    verify.add_argument(
        "--workers", metavar="N", type=int, help="run on a local Dask cluster of N worker processes"
    )
    verify.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on the Dask cluster whose scheduler is at ADDRESS"
    )
    verify.add_argument(
        "--replay",
        choices=("auto", "native", "python"),
        default="auto",
        help="run the rules natively (built with mypyc, once per rules folder) or interpreted;"
        " auto (the default): natively where a module can be built",
    )
    verify.add_argument(
        "--partition",
        choices=("site", "month"),
        default="site",
        help="a task a site (the default), or a task a month of each site, its months run side by"
        " side on a cluster: the same results, the months of a few sites at once",
    )
    verify.add_argument("--force", action="store_true", help="write into a folder that holds other files")
    verify.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    generate = actions.add_parser(
        "generate", help="simulate a fleet of sites, some with faults, for trying fleet verify"
    )
    generate.add_argument("rules", metavar="RULES", type=Path, help="the rules folder or file the sites run")
    generate.add_argument(
        "-o", "--output", metavar="DIR", type=Path, required=True, help="folder for the fleet"
    )
    generate.add_argument("--sites", metavar="N", type=int, default=20, help="how many sites (default 20)")
    generate.add_argument(
        "--days", metavar="D", type=float, default=365.0, help="days of trend per site (default 365)"
    )
    generate.add_argument("--seed", metavar="S", type=int, default=1, help="the plan's seed (default 1)")
    generate.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from hpdsl.fleet import command

    return command.run(args)
