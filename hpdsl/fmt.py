"""Placeholder: `hpdsl fmt` is being built."""

from __future__ import annotations

import argparse

from hpdsl.package import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*")


def run(args: argparse.Namespace) -> int:
    raise UsageError("not built yet")
