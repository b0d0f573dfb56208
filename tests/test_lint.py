"""Static checks as tests: mypy in strict mode on the package, ruff on all Python code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

# Folders of Python code that ruff checks; one that does not exist yet is skipped.
LINTED_FOLDERS = ("hpdsl", "tests", "benchmarks")


def run_tool(repo_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Run from the repository root so that the tools read their settings from pyproject.toml.
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=repo_root, capture_output=True, text=True, check=False
    )


def test_mypy_strict(repo_root: Path) -> None:
    completed = run_tool(repo_root, "mypy", "--strict", str(repo_root / "hpdsl"))
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_ruff_check(repo_root: Path) -> None:
    folders = [name for name in LINTED_FOLDERS if (repo_root / name).is_dir()]
    completed = run_tool(repo_root, "ruff", "check", "--no-cache", *folders)
    assert completed.returncode == 0, completed.stdout + completed.stderr
