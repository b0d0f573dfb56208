"""Spelling rules for generated names that every target follows (and its tests rely on)."""

from __future__ import annotations

import re

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(name: str) -> str:
    """`PlantSignals` -> `plant_signals`: a program's instance in a package."""
    return _WORD_START.sub("_", name).lower()


def upper_snake(name: str) -> str:
    """`CoolDown` -> `COOL_DOWN`: an enumeration member as a Structured Text constant."""
    return _WORD_START.sub("_", name).upper()
