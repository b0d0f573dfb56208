"""The `hpdsl` command line: the table of subcommands, the argument parser, and `main`.

Exit codes: 0 no errors, 1 the rules have errors, 2 the command line is wrong (unknown
option, missing or non-existent path), 3 hpdsl itself failed (a bug to report).
Each subcommand is one entry in ``COMMANDS``: a help line, a function that declares its
arguments and a function that runs it and returns the exit code. The functions live in the
command's own module (`hpdsl.cli.check`, `hpdsl.tools.fmt`, `hpdsl.sim.command`, ...), which is
imported only when its command is used or --help is built.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from hpdsl.cli.common import (
    DEBUG_ENV,
    EXIT_ERRORS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    ISSUES_HINT,
)


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, how it declares its arguments, and what it does."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _lazy(module: str) -> Command:
    """The command implemented by `module` (its `HELP`, `add_arguments` and `run`), imported when used."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        importlib.import_module(module).add_arguments(parser)

    def run(args: argparse.Namespace) -> int:
        result: int = importlib.import_module(module).run(args)
        return result

    return Command(_HELP[module], add_arguments, run)


# A command's help line is here, not in its module, so that `hpdsl --help` imports none of them.
_HELP = {
    "hpdsl.cli.check": "check rules files for errors",
    "hpdsl.cli.compile": "compile rules files to Python, Structured Text or PLCopen XML",
    "hpdsl.cli.trace": "report which rules and scenarios cover each requirement ID; fail on gaps",
    "hpdsl.cli.test": "run scenario files against the rules they sit beside",
    "hpdsl.cli.simulate": (
        "run the rules in closed loop with a building and heat-pump model on a year of weather"
    ),
    "hpdsl.cli.run": (
        "run the rules as a live controller on BACnet/IP and Modbus TCP points, or on the built-in plant"
    ),
    "hpdsl.cli.verify": "compare a trend log recorded on a controller with what the rules would have done",
    "hpdsl.cli.fleet": "verify a fleet of sites, each a year of trends through its own rules, on Dask",
    "hpdsl.tools.fmt": "rewrite rules files in the one canonical layout, or check that they are",
    "hpdsl.tools.doc.command": "write the package as a sequence-of-operations document (Markdown and HTML)",
    "hpdsl.tools.diff.command": (
        "describe what changed between two versions of the rules, in engineering terms"
    ),
    "hpdsl.tools.lsp.server": "run the language server for editors (over stdio)",
}

COMMANDS: dict[str, Command] = {
    "check": _lazy("hpdsl.cli.check"),
    "compile": _lazy("hpdsl.cli.compile"),
    "trace": _lazy("hpdsl.cli.trace"),
    "test": _lazy("hpdsl.cli.test"),
    "simulate": _lazy("hpdsl.cli.simulate"),
    "verify": _lazy("hpdsl.cli.verify"),
    "run": _lazy("hpdsl.cli.run"),
    "fleet": _lazy("hpdsl.cli.fleet"),
    "fmt": _lazy("hpdsl.tools.fmt"),
    "doc": _lazy("hpdsl.tools.doc.command"),
    "diff": _lazy("hpdsl.tools.diff.command"),
    "lsp": _lazy("hpdsl.tools.lsp.server"),
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser for `hpdsl` and its subcommands.

    Given the command line, only the command it names declares its arguments (and so imports
    its module): `hpdsl check` does not pay for importing the compiler, the simulator and the
    language server. Without one, or when the line names no command, every command does.
    """
    from hpdsl import __version__

    parser = _Parser(prog="hpdsl", description="A rules language and compiler for heat-pump control.")
    parser.add_argument("--version", action="version", version=f"hpdsl {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = _command_named(argv)
    for name, command in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=command.help, description=command.help)
        if named is None or name == named:
            command.add_arguments(subparser)
        subparser.set_defaults(run=command.run)
    return parser


def _command_named(argv: list[str] | None) -> str | None:
    """The command a command line runs: its first word when that is a command, else None."""
    if argv is None or not argv or argv[0] not in COMMANDS:
        return None
    return argv[0]


def main(argv: list[str] | None = None) -> int:
    """Run `hpdsl` with the given arguments (default: the process's) and return its exit code."""
    if argv is None:
        argv = sys.argv[1:]
    try:
        args = build_parser(argv).parse_args(argv)
    except SystemExit as stop:  # --help, --version and usage errors end inside argparse
        return _exit_code(stop)
    run: Callable[[argparse.Namespace], int] = args.run
    from hpdsl.base.files import UsageError

    try:
        return run(args)
    except UsageError as exc:
        print(f"hpdsl {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("hpdsl: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`hpdsl check rules/ | head`): nothing left to tell anyone.
        _silence_stdout()
        return EXIT_ERRORS
    except Exception as exc:
        if os.environ.get(DEBUG_ENV) == "1":
            raise
        print(f"hpdsl: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"hpdsl: {ISSUES_HINT}", file=sys.stderr)
        return EXIT_INTERNAL


def _exit_code(stop: SystemExit) -> int:
    if stop.code is None:
        return EXIT_OK
    if isinstance(stop.code, int):
        return stop.code
    print(stop.code, file=sys.stderr)
    return EXIT_USAGE


def _silence_stdout() -> None:
    # Python flushes stdout again at exit and would report the broken pipe a second time.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
