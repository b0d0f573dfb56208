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
    """The README's Python example runs against the compiled shipped package."""
    import sys

    from hpdsl.compiler import compile_paths

    text = (repo_root / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert match is not None, "README has no ```python example"
    result = compile_paths([repo_root / "rules"], "python")
    build = tmp_path / "build"
    build.mkdir()
    (build / "__init__.py").write_text("", encoding="utf-8")
    (build / "rules.py").write_text(result.files["rules.py"], encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        namespace: dict[str, object] = {}
        exec(compile(match.group(1).replace("...\n", ""), "README.md", "exec"), namespace)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "build" or m.startswith("build.")]:
            del sys.modules[name]


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
