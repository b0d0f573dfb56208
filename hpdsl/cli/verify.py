"""`hpdsl verify`: its arguments are declared without numpy, pyarrow and pyfunnel, which only
running it needs."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from hpdsl.sim.arguments import verify_arguments

    verify_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from hpdsl.sim.arguments import require_extras

    require_extras("verify")
    from hpdsl.sim import verify

    return verify.run(args)
