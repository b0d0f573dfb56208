"""`hpdsl trace PATH...`: each requirement and the rules and scenarios citing it; exit 1 on a gap."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hpdsl.base.escape import terminal
from hpdsl.base.render import report, write
from hpdsl.cli.common import EXIT_ERRORS, EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", metavar="PATH", nargs="+", type=Path, help="rules files, scenario files, or folders of them"
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default), markdown (a traceability matrix), or json (for tools)",
    )


def run(args: argparse.Namespace) -> int:
    from hpdsl.tools.testing import trace

    result = trace.trace_paths(args.paths)
    if result.diagnostics:
        report(result.diagnostics, result.sources, sys.stderr)
    render = {"text": trace.render_text, "markdown": trace.render_markdown, "json": trace.render_json}
    text = render[args.format](result)
    # What the rules say (requirement text, names) never reaches the terminal as control sequences.
    write(sys.stdout, text if args.format == "json" else terminal(text))
    return EXIT_OK if result.ok else EXIT_ERRORS
