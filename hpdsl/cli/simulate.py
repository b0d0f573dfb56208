"""`hpdsl simulate`: its arguments are declared without numpy and pyarrow, which only running it needs."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from hpdsl.sim.arguments import simulate_arguments

    simulate_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from hpdsl.sim import command

    return command.run(args)
