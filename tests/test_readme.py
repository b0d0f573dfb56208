"""The README's example is real: it checks clean, and the mistake it shows gives the errors it shows."""

from __future__ import annotations

import re
from pathlib import Path

from hpdsl.checker import check_package
from hpdsl.source import SourceFile


def readme_example(repo_root: Path) -> str:
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```rules\n(.*?)```", text, re.DOTALL)
    assert match is not None, "README has no ```rules example"
    return match.group(1)


def test_readme_example_checks_clean(repo_root: Path) -> None:
    _, diagnostics = check_package([SourceFile("changeover.rules", readme_example(repo_root))])
    assert diagnostics == []


def test_readme_shows_what_the_mistake_gives(repo_root: Path) -> None:
    wrong = readme_example(repo_root).replace("heating_below: C = 15C", "heating_below: C = 22C")
    _, diagnostics = check_package([SourceFile("changeover.rules", wrong)])
    shown = (repo_root / "README.md").read_text(encoding="utf-8")
    for d in diagnostics:
        assert f"changeover.rules:{d.span.line}:{d.span.column}: error: {d.message} [{d.code}]" in shown
    assert sorted(d.code for d in diagnostics) == ["hysteresis-order", "out-of-range"]


def test_readme_python_example_runs(repo_root: Path, tmp_path: Path) -> None:
    """The README's compile command and Python example, run as a user runs them.

    In a copy of the repository's rules, with the interpreter of the environment the README's
    test command makes (whatever it has installed, pypa `build` included): the command exactly as
    written, then the example as a script from the same folder.
    """
    import shutil
    import subprocess
    import sys

    text = (repo_root / "README.md").read_text(encoding="utf-8")
    section = text.split("## Compiling to Python", 1)[1]
    command = re.search(r"```\n(hpdsl compile [^\n]*--target python[^\n]*)\n```", section)
    example = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert command is not None and example is not None, "README has no Python compile command and example"
    shutil.copytree(repo_root / "rules", tmp_path / "rules")
    arguments = command.group(1).split()[1:]
    done = subprocess.run(
        [sys.executable, "-m", "hpdsl", *arguments], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    script = tmp_path / "example.py"
    script.write_text(example.group(1).replace("...\n", ""), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_readme_scenario_example_passes(repo_root: Path, tmp_path: Path) -> None:
    """The README's scenario example runs against the shipped rules and passes."""
    from hpdsl.testing import run_paths

    text = (repo_root / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```\n(scenario .*?)```", text, re.DOTALL)
    assert match is not None, "README has no scenario example"
    path = tmp_path / "readme.scenario"
    path.write_text(match.group(1), encoding="utf-8")
    report = run_paths([path], rules=[repo_root / "rules"])
    assert report.diagnostics == []
    assert [o.passed for o in report.outcomes] == [True]
