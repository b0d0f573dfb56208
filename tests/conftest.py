"""Fixtures shared by the test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Name this test session for the processes that run it (pytest-xdist workers inherit it)."""
    if not hasattr(config, "workerinput"):
        import os
        import uuid

        os.environ.setdefault("HPDSL_TEST_SESSION", uuid.uuid4().hex)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spread the tests marked `heavy` evenly through the run, the first one first.

    With the tests shared out in equal runs of the list (pytest-xdist's `worksteal`), each
    process then starts on a heavy test of its own while the others fill the time beside it,
    instead of the heavy tests meeting at the end.
    """
    heavy = [item for item in items if item.get_closest_marker("heavy")]
    if not heavy:
        return
    rest = [item for item in items if not item.get_closest_marker("heavy")]
    step = len(items) / len(heavy)
    for k, item in enumerate(heavy):
        rest.insert(min(round(k * step), len(rest)), item)
    items[:] = rest


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The process that ran the session (not a pytest-xdist worker) removes the shared parse trees."""
    if hasattr(session.config, "workerinput"):
        return
    import shutil

    from stinterp import session_cache_folder

    shutil.rmtree(session_cache_folder(), ignore_errors=True)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the source tree these tests belong to (found from this file, not the working folder)."""
    return REPO_ROOT
