"""The `hpdsl` command line.

Exit codes: 0 no errors, 1 the rules have errors, 2 the command line is wrong (unknown
option, missing or non-existent path), 3 hpdsl itself failed (a bug to report).
Each subcommand is one entry in ``COMMANDS``: a help line, a function that declares its
arguments and a function that runs it and returns the exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from hpdsl.package import UsageError as UsageError_
from hpdsl.package import has_marker, write_if_changed

if TYPE_CHECKING:
    from hpdsl import diagnostics as diagnostics_
    from hpdsl.source import SourceFile

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130

FORMATS = ("text", "json", "github", "sarif")
COLOR_CHOICES = ("auto", "always", "never")

# Set to 1 to let an internal error raise with its traceback instead of exit code 3.
DEBUG_ENV = "HPDSL_DEBUG"
ISSUES_HINT = (
    "this is a bug in hpdsl; please report it with the command you ran and the rules files involved "
    f"(set {DEBUG_ENV}=1 to see the traceback)"
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


# --- check -------------------------------------------------------------------------------


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", metavar="PATH", nargs="+", type=Path, help="rules files or folders of them")
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="how to print the diagnostics (default: text)"
    )
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    _params_argument(parser)
    parser.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default="auto",
        help="colour the text output (default: auto, when printing to a terminal and NO_COLOR is unset)",
    )


def _params_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--params",
        metavar="FILE",
        type=Path,
        help="a site parameter file (TOML) whose values replace the parameters' defaults",
    )


def _run_check(args: argparse.Namespace) -> int:
    from hpdsl import diagnostics
    from hpdsl.package import check_paths

    if args.params is not None:
        from hpdsl.compiler import lower_paths
        from hpdsl.site import read

        lowered = lower_paths(args.paths)
        result = lowered.check
        if lowered.package is not None:
            settings = read(args.params, lowered.package)
            if settings.source is not None:
                result.sources[settings.name] = settings.source
            result.diagnostics.extend(settings.diagnostics)
            result.diagnostics.sort(key=diagnostics.Diagnostic.sort_key)
    else:
        result = check_paths(args.paths)
    found = result.diagnostics
    if args.strict:
        found = diagnostics.promote_warnings(found)
    _write(sys.stdout, _render(found, result.sources, args.format, _use_color(args.color, sys.stdout)))
    return EXIT_ERRORS if any(d.is_error for d in found) else EXIT_OK


def _render(
    found: list[diagnostics_.Diagnostic], sources: dict[str, SourceFile], format_: str, color: bool
) -> str:
    """The diagnostics in one of FORMATS."""
    from hpdsl import render

    if format_ == "json":
        return render.render_json(found)
    if format_ == "github":
        return render.render_github(found)
    if format_ == "sarif":
        import hpdsl

        return render.render_sarif(found, tool_version=hpdsl.__version__)
    return render.render_text(found, sources, color=color)


def _use_color(choice: str, stream: TextIO) -> bool:
    """`--color`: auto colours only a terminal, and never when NO_COLOR is set (no-color.org)."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return not os.environ.get("NO_COLOR") and stream.isatty()


# --- compile -----------------------------------------------------------------------------

# The first line of every generated file; a file without it was not written by hpdsl and is
# never overwritten without --force.
GENERATED_MARKER = "Heat-pump control rules `"


def _compile_arguments(parser: argparse.ArgumentParser) -> None:
    from hpdsl.codegen import DIALECTS, TARGETS

    parser.add_argument("paths", metavar="PATH", nargs="+", type=Path, help="rules files or folders of them")
    parser.add_argument(
        "--target",
        choices=TARGETS,
        required=True,
        help="what to generate: python, st (Structured Text), plcopen (PLCopen TC6 XML)",
    )
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        help="the Structured Text flavour of --target st (default: iec): iec (MATIEC, OpenPLC, Beremiz),"
        " codesys (CODESYS V3, TwinCAT 3), siemens (TIA Portal SCL)",
    )
    parser.add_argument(
        "--real",
        choices=("LREAL", "REAL"),
        default="LREAL",
        help="the PLC type of real numbers for st and plcopen (default: LREAL, as Python computes)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUTDIR",
        type=Path,
        required=True,
        help="folder to write the generated files to",
    )
    parser.add_argument(
        "--name", help="package (and module) name; default: the name of the folder given, else `rules`"
    )
    parser.add_argument(
        "--no-source-comments",
        action="store_true",
        help="leave out the comments that cite .rules files and lines (for golden files)",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite output files that hpdsl did not generate"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="how to print the diagnostics (default: text)"
    )
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    _params_argument(parser)


def _run_compile(args: argparse.Namespace) -> int:
    from hpdsl import diagnostics
    from hpdsl.compiler import compile_paths

    name = args.name
    if name is not None and not name.isidentifier():
        raise UsageError_(f"--name `{name}` is not a valid module name (letters, digits and _)")
    if args.dialect is not None and args.target != "st":
        raise UsageError_("--dialect applies to --target st only")
    result = compile_paths(
        args.paths,
        args.target,
        name,
        source_comments=not args.no_source_comments,
        dialect=args.dialect,
        real=args.real,
        params=args.params,
    )
    found = result.diagnostics
    if args.strict:
        found = diagnostics.promote_warnings(found)
    if found:
        sources = dict(result.check.sources)
        sources.update({name: source for name, source in result.site_sources.items() if source is not None})
        _print_diagnostics(found, sources, args)
    if any(d.is_error for d in found) or not result.files:
        return EXIT_ERRORS
    out: Path = args.output
    if out.exists() and not out.is_dir():
        raise UsageError_(f"`{out}` exists and is not a folder")
    refused = [file for file in result.files if not args.force and _foreign(out / file)]
    if refused:
        raise UsageError_(
            "will not overwrite "
            + ", ".join(f"`{out / f}`" for f in refused)
            + ": hpdsl did not generate it (use --force to overwrite it)"
        )
    out.mkdir(parents=True, exist_ok=True)
    for file, text in result.files.items():
        write_if_changed(out / file, text)
    print(f"wrote {len(result.files)} file(s) to {out}: " + ", ".join(sorted(result.files)))
    return EXIT_OK


def _foreign(path: Path) -> bool:
    """True when `path` holds something hpdsl did not write."""
    # The marker opens the header of every generated file: the docstring of a Python module,
    # the first comment of ST, the comment after an XML declaration, the first key of a map.
    return path.exists() and not has_marker(path, GENERATED_MARKER)


def _print_diagnostics(
    found: list[diagnostics_.Diagnostic], sources: dict[str, SourceFile], args: argparse.Namespace
) -> None:
    """Compile's diagnostics: text on stderr (stdout is for what was written), other formats on stdout."""
    stream = sys.stderr if args.format == "text" else sys.stdout
    _write(stream, _render(found, sources, args.format, _use_color("auto", stream)))


# --- test --------------------------------------------------------------------------------


def _test_arguments(parser: argparse.ArgumentParser) -> None:
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
    _params_argument(parser)
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


def _run_test(args: argparse.Namespace) -> int:
    from hpdsl import testing

    junit: Path | None = args.junit
    if junit is not None and not args.force and _not_junit(junit):
        raise UsageError_(
            f"will not overwrite `{junit}`: it is not a JUnit report (use --force to overwrite it)"
        )
    if args.plc:
        from hpdsl import matiec

        try:
            matiec.find_toolchain()
        except matiec.ToolchainError as exc:
            raise UsageError_(str(exc)) from None
    from hpdsl import progress

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
        color = _use_color("auto", sys.stdout)
        _write(sys.stdout, _render(report.diagnostics, report.sources, args.format, color))
    lines = [*testing.render_outcomes(report, args.verbose), testing.summary(report)]
    _write(report_stream, "\n".join(lines) + "\n")
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


# --- trace -------------------------------------------------------------------------------


def _trace_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", metavar="PATH", nargs="+", type=Path, help="rules files, scenario files, or folders of them"
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default), markdown (a traceability matrix), or json (for tools)",
    )


def _run_trace(args: argparse.Namespace) -> int:
    from hpdsl import trace

    result = trace.trace_paths(args.paths)
    if result.diagnostics:
        _write(
            sys.stderr, _render(result.diagnostics, result.sources, "text", _use_color("auto", sys.stderr))
        )
    render = {"text": trace.render_text, "markdown": trace.render_markdown, "json": trace.render_json}
    _write(sys.stdout, render[args.format](result))
    return EXIT_OK if result.ok else EXIT_ERRORS


# --- simulate ----------------------------------------------------------------------------


# Their arguments are declared without numpy and pyarrow, which only running them needs.


def _simulate_arguments(parser: argparse.ArgumentParser) -> None:
    from hpdsl.sim.arguments import simulate_arguments

    simulate_arguments(parser)


def _run_simulate(args: argparse.Namespace) -> int:
    from hpdsl.sim import command

    return command.run(args)


def _verify_arguments(parser: argparse.ArgumentParser) -> None:
    from hpdsl.sim.arguments import verify_arguments

    verify_arguments(parser)


def _run_verify(args: argparse.Namespace) -> int:
    from hpdsl.sim.arguments import require_extras

    require_extras("verify")
    from hpdsl.sim import verify

    return verify.run(args)


# --- fmt, doc, diff, lsp ------------------------------------------------------------------

# Each lives in a module of its own that declares its arguments (`add_arguments`) and runs
# (`run`); the modules are imported only when their command is used or --help is built.


def _delegate(
    module: str,
) -> tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]:
    """The argument and run functions of the command implemented by `hpdsl.<module>`."""
    import importlib

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        importlib.import_module(f"hpdsl.{module}").add_arguments(parser)

    def run(args: argparse.Namespace) -> int:
        result: int = importlib.import_module(f"hpdsl.{module}").run(args)
        return result

    return add_arguments, run


# --- The command table -------------------------------------------------------------------

COMMANDS: dict[str, Command] = {
    "check": Command("check rules files for errors", _check_arguments, _run_check),
    "compile": Command(
        "compile rules files to Python, Structured Text or PLCopen XML", _compile_arguments, _run_compile
    ),
    "trace": Command(
        "report which rules and scenarios cover each requirement ID; fail on gaps",
        _trace_arguments,
        _run_trace,
    ),
    "test": Command("run scenario files against the rules they sit beside", _test_arguments, _run_test),
    "simulate": Command(
        "run the rules in closed loop with a building and heat-pump model on a year of weather",
        _simulate_arguments,
        _run_simulate,
    ),
    "verify": Command(
        "compare a trend log recorded on a controller with what the rules would have done",
        _verify_arguments,
        _run_verify,
    ),
    "fmt": Command(
        "rewrite rules files in the one canonical layout, or check that they are", *_delegate("fmt")
    ),
    "doc": Command(
        "write the package as a sequence-of-operations document (Markdown and HTML)", *_delegate("doc")
    ),
    "diff": Command(
        "describe what changed between two versions of the rules, in engineering terms", *_delegate("semdiff")
    ),
    "lsp": Command("run the language server for editors (over stdio)", *_delegate("lsp")),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for `hpdsl` and all its subcommands."""
    from hpdsl import __version__

    parser = _Parser(prog="hpdsl", description="A rules language and compiler for heat-pump control.")
    parser.add_argument("--version", action="version", version=f"hpdsl {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(subparser)
        subparser.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `hpdsl` with the given arguments (default: the process's) and return its exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version and usage errors end inside argparse
        return _exit_code(stop)
    run: Callable[[argparse.Namespace], int] = args.run
    from hpdsl.package import UsageError

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


def _write(stream: TextIO, text: str) -> None:
    """Write output, replacing what the stream's encoding cannot show instead of failing."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = stream.encoding or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
    stream.flush()


def _silence_stdout() -> None:
    # Python flushes stdout again at exit and would report the broken pipe a second time.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
