"""`hpdsl compile PATH... --target T -o OUTDIR`: the generated files, written only where hpdsl wrote
before (or with --force), and only when they change."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hpdsl.base import diagnostics as diagnostics_
from hpdsl.base.files import UsageError, has_marker, write_if_changed
from hpdsl.base.render import render_as, use_color, write
from hpdsl.base.source import SourceFile
from hpdsl.cli.common import EXIT_ERRORS, EXIT_OK, FORMATS, params_argument

# The first line of every generated file; a file without it was not written by hpdsl and is
# never overwritten without --force.
GENERATED_MARKER = "Heat-pump control rules `"


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
        "--max-identifier",
        metavar="N",
        type=int,
        help="the longest identifier of st and plcopen (default: 31 for iec and plcopen, 128 for siemens,"
        " none for codesys; 0: no limit); a longer name is shortened and listed in the .map.json",
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
    params_argument(parser)


def run(args: argparse.Namespace) -> int:
    from hpdsl.base import diagnostics
    from hpdsl.codegen.compiler import compile_paths

    name = args.name
    if name is not None and not name.isidentifier():
        raise UsageError(f"--name `{name}` is not a valid module name (letters, digits and _)")
    if args.dialect is not None and args.target != "st":
        raise UsageError("--dialect applies to --target st only")
    if args.max_identifier is not None:
        if args.target == "python":
            raise UsageError("--max-identifier applies to --target st and plcopen only")
        if args.max_identifier != 0 and args.max_identifier < 16:
            raise UsageError(
                f"--max-identifier {args.max_identifier} leaves no room for a name: give 16 or more"
            )
    result = compile_paths(
        args.paths,
        args.target,
        name,
        source_comments=not args.no_source_comments,
        dialect=args.dialect,
        real=args.real,
        params=args.params,
        identifier_limit=args.max_identifier,
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
        raise UsageError(f"`{out}` exists and is not a folder")
    refused = [file for file in result.files if not args.force and _foreign(out / file)]
    if refused:
        raise UsageError(
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
    write(stream, render_as(found, sources, args.format, use_color("auto", stream)))
