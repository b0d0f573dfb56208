"""Compile rules text to a Python module and import it, for tests that drive programs through time."""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

from hpdsl.codegen.compiler import CompileResult, compile_paths

_counter = itertools.count()


def compile_text(tmp_path: Path, text: str, target: str, name: str = "pkg", **options: Any) -> CompileResult:
    """Write `text` (dedented) as the one rules file of a new package folder and compile it."""
    folder = tmp_path / f"{name}_{next(_counter)}"
    folder.mkdir()
    (folder / "test.rules").write_text(textwrap.dedent(text), encoding="utf-8")
    return compile_paths([folder], target, name, **options)


def compile_rules(tmp_path: Path, text: str, name: str = "scenario") -> ModuleType:
    """Write `text` as a rules file, compile it and import the generated module."""
    result = compile_text(tmp_path, text, "python", name)
    errors = [f"{d.span}: {d.message}" for d in result.diagnostics if d.is_error]
    assert not errors, errors
    return import_module(tmp_path, result.files[f"{name}.py"], f"{name}_{next(_counter)}")


def import_module(tmp_path: Path, text: str, module_name: str) -> ModuleType:
    path = tmp_path / f"{module_name}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def run(program: Any, seconds: float, dt: float = 1.0, **inputs: Any) -> None:
    """Set inputs, then scan for `seconds` in steps of `dt`."""
    for name, value in inputs.items():
        setattr(program, name, value)
    steps = round(seconds / dt)
    for _ in range(steps):
        program.scan(dt)


def assert_mypy_strict_and_ruff_pass(path: Path, repo_root: Path) -> None:
    for tool in (
        ["mypy", "--strict", "--no-incremental", str(path)],
        ["ruff", "check", "--no-cache", str(path)],
    ):
        # From the repository root, so that both read the project's settings (pyproject.toml).
        completed = subprocess.run(
            [sys.executable, "-m", *tool], cwd=repo_root, capture_output=True, text=True, check=False
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
