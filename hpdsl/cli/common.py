"""What the command modules share: exit codes, output formats and the `--params` argument.

May import: hpdsl.base.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hpdsl.base.render import FORMATS as FORMATS

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130

COLOR_CHOICES = ("auto", "always", "never")

# Set to 1 to let an internal error raise with its traceback instead of exit code 3.
DEBUG_ENV = "HPDSL_DEBUG"
ISSUES_HINT = (
    "this is a bug in hpdsl; please report it with the command you ran and the rules files involved "
    f"(set {DEBUG_ENV}=1 to see the traceback)"
)


def params_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--params",
        metavar="FILE",
        type=Path,
        help="a site parameter file (TOML) whose values replace the parameters' defaults",
    )
