"""Phases and progress of long commands, on a terminal only.

A command that takes more than a couple of seconds (simulate, verify, test, doc of a large
package) names each phase as it starts and, where the amount of work is known, shows a bar
(tqdm) on stderr. The bars are drawn only when stderr is a terminal and the command is not
running in CI (`CI` set) or asked to be quiet; otherwise nothing at all is written, so logs
stay clean and outputs stay byte-identical.

May import: the standard library and tqdm (imported only when a bar is drawn).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO


def wanted(stream: TextIO | None = None, quiet: bool = False) -> bool:
    """Whether to show progress on `stream` (stderr): a terminal, not CI, not quiet."""
    stream = stream if stream is not None else sys.stderr
    if quiet or os.environ.get("CI") or os.environ.get("HPDSL_NO_PROGRESS"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Step:
    """The bar of one phase: `advance(n)` as work is done."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar

    def advance(self, amount: float = 1) -> None:
        if self._bar is not None:
            self._bar.update(amount)


class Progress:
    """The phases of one command; silent when not wanted."""

    def __init__(self, command: str, enabled: bool, stream: TextIO | None = None) -> None:
        self.command = command
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr

    @contextmanager
    def phase(self, title: str, total: float | None = None, unit: str = "") -> Iterator[Step]:
        """A phase: its title (and a bar over `total` units) while it runs, its time when done."""
        if not self.enabled:
            yield Step(None)
            return
        from tqdm import tqdm

        started = time.perf_counter()
        bar = tqdm(
            total=total,
            desc=f"{self.command}: {title}",
            unit=f" {unit}" if unit else "it",
            unit_scale=True,
            file=self.stream,
            leave=False,
            mininterval=0.25,
            bar_format=None if total is not None else "{desc} {elapsed}",
        )
        try:
            yield Step(bar)
        finally:
            bar.close()
            self.stream.write(f"{self.command}: {title} ({time.perf_counter() - started:.1f} s)\n")
            self.stream.flush()
