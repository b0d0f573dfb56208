"""The README's example is real: it checks clean, and the mistake it shows gives the errors it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hpdsl.base.source import SourceFile
from hpdsl.check.checker import check_package


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
    assert sorted(d.code for d in diagnostics) == ["constraint", "hysteresis-order", "out-of-range"]


def test_readme_shows_what_the_value_check_says_without_the_require(repo_root: Path) -> None:
    example = readme_example(repo_root)
    without = re.sub(r"    require dead_band:.*\n.*\n", "", example)
    assert without != example
    _, diagnostics = check_package([SourceFile("changeover.rules", without)])
    shown = (repo_root / "README.md").read_text(encoding="utf-8")
    assert [d.code for d in diagnostics] == ["band-can-invert"]
    (d,) = diagnostics
    assert f"changeover.rules:{d.span.line}:{d.span.column}: warning: {d.message} [{d.code}]" in shown


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
    from hpdsl.tools.testing.runner import run_paths

    text = (repo_root / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```\n(scenario .*?)```", text, re.DOTALL)
    assert match is not None, "README has no scenario example"
    path = tmp_path / "readme.scenario"
    path.write_text(match.group(1), encoding="utf-8")
    report = run_paths([path], rules=[repo_root / "rules"])
    assert report.diagnostics == []
    assert [o.passed for o in report.outcomes] == [True]


# --- Every command of the README, as written --------------------------------------------------

# Commands of the README that this test does not run as written, and why.
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install --quiet '.[test]' && .venv/bin/pytest"
NOT_RUN = {TEST_COMMAND: "the README's test command is what runs this test"}
_PLACEHOLDER = re.compile(r"^export .*/path/to/")  # a path for the reader to fill in


def readme_commands(text: str) -> list[str]:
    """The command lines of the README's code blocks, in order, without their trailing comments."""
    commands: list[str] = []
    blocks: list[tuple[str, list[str]]] = []  # (language, lines)
    open_block: tuple[str, list[str]] | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            if open_block is None:
                open_block = (line[3:].strip(), [])
            else:
                blocks.append(open_block)
                open_block = None
        elif open_block is not None:
            open_block[1].append(line)
    for language, block in blocks:
        if language not in ("", "sh", "bash"):
            continue
        lines = [line for line in block if line.strip()]
        if not lines or not lines[0].startswith(("hpdsl ", "python3 ", "export ", ".venv/bin/")):
            continue  # output shown, or a rules or scenario example
        commands.extend(re.split(r"\s{2,}#\s", line, maxsplit=1)[0].rstrip() for line in lines)
    return commands


@pytest.mark.heavy
def test_readme_commands_run_as_written(repo_root: Path, tmp_path: Path) -> None:
    """Every command of the README, in a copy of the repository's files, in the venv it makes.

    The first command makes `.venv` and installs hpdsl into it; the others run with that venv's
    `hpdsl` first on PATH, as a reader who activated it runs them, in the README's order. The
    diff example compares `old/rules`, which the reader is told is an older version: it is
    made as a copy of `rules/`. A benchmark is run with `--help` only (each takes minutes and
    is a measurement, not a test); `hpdsl lsp` runs with its input closed, as an editor that
    quits at once; `--plc` needs MATIEC (IEC2C, MATIEC_LIB) and is left out without it.
    """
    import os
    import shutil
    import subprocess

    listed = subprocess.run(
        ["git", "ls-files"], cwd=repo_root, capture_output=True, text=True, check=False
    ).stdout.split()
    if not listed:
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    clone = tmp_path / "clone"
    for name in listed:
        target = clone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (repo_root / name).is_file():
            shutil.copy2(repo_root / name, target)
    shutil.copytree(clone / "rules", clone / "old" / "rules")
    commands = readme_commands((repo_root / "README.md").read_text(encoding="utf-8"))
    assert commands[0].startswith("python3 -m venv .venv && .venv/bin/pip install --quiet . && ")
    assert len(commands) > 20
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{clone / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    plc = bool(os.environ.get("IEC2C") and os.environ.get("MATIEC_LIB"))
    ran = 0
    for command in commands:
        if command in NOT_RUN or _PLACEHOLDER.match(command):
            continue
        if "--plc" in command and not plc:
            continue
        if command.startswith("python3 benchmarks/"):
            command = command.split(" --", 1)[0] + " --help"
            command = command.replace("python3 ", f"{clone / '.venv' / 'bin' / 'python'} ", 1)
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"$ {command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        ran += 1
    assert ran >= len(commands) - 4
    # What they wrote is where the README says.
    for written in (
        "compiled/rules.py",
        "build/rules.iec.st",
        "build/rules.codesys.st",
        "build/rules.scl",
        "build/rules.xml",
        "run/trend.csv",
        "run/report.html",
        "checks/summary.csv",
        "site/rules.html",
        "out.xml",
    ):
        assert (clone / written).is_file(), written
