"""hpdsl: a declarative rules language and compiler for heat-pump control."""

from __future__ import annotations

import functools

# The version in pyproject.toml; used when hpdsl runs from a source checkout that was never installed.
_SOURCE_VERSION = "0.1.0"


@functools.cache
def _installed_version() -> str:
    # importlib.metadata costs about 20 ms to import, a noticeable share of the 0.3 s that a
    # whole `hpdsl check` may take, so it is read only when someone asks for the version.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hpdsl")
    except PackageNotFoundError:
        return _SOURCE_VERSION


def __getattr__(name: str) -> str:
    """`hpdsl.__version__`: the installed package's version, or the source version."""
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module 'hpdsl' has no attribute {name!r}")
