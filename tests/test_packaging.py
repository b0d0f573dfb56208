"""The built distributions carry the grammar and the templates inside the package."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tarfile
import types
import zipfile
from pathlib import Path

import pytest

from hpdsl.base import resources

SHIPPED_FOLDERS = ("grammar", "targets")  # top-level folders that a wheel carries as hpdsl/<folder>


def _can_import(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def build(repo_root: Path, out: Path, *, sdist_first: bool) -> tuple[Path, Path | None]:
    """Build a wheel (and, where possible, the sdist it is built from) into `out`."""
    if _can_import("build"):
        command = [sys.executable, "-m", "build", "--outdir", str(out)]
        if _can_import("hatchling"):
            # The backend is installed already: no isolated environment, no download.
            command.append("--no-isolation")
        if not sdist_first:
            command.append("--wheel")  # straight from the source tree, as `pip install .` does
    elif not sdist_first:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out)]
        if _can_import("hatchling"):
            command.append("--no-build-isolation")
    else:
        pytest.skip("building an sdist needs the `build` package")
    completed = subprocess.run([*command, str(repo_root)], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [wheel] = out.glob("*.whl")
    sdists = list(out.glob("*.tar.gz"))
    return wheel, (sdists[0] if sdists else None)


def shipped_files(repo_root: Path) -> list[str]:
    """The files under grammar/ and targets/ in the source tree, as relative POSIX paths."""
    return sorted(
        path.relative_to(repo_root).as_posix()
        for folder in SHIPPED_FOLDERS
        for path in (repo_root / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


@pytest.mark.slow
@pytest.mark.parametrize("sdist_first", [False, True], ids=["wheel-from-source", "wheel-from-sdist"])
def test_distributions_ship_grammar_and_targets(repo_root: Path, tmp_path: Path, sdist_first: bool) -> None:
    wheel, sdist = build(repo_root, tmp_path, sdist_first=sdist_first)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entry_points_text = archive.read(entry_points).decode()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata_text = archive.read(metadata).decode()
        licences = [n for n in names if n.endswith("/LICENSE") and ".dist-info/" in n]

    # The licence: the LICENSE file, the wheel's metadata and the VS Code extension agree.
    assert "License-Expression: MIT" in metadata_text
    assert len(licences) == 1
    assert (repo_root / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    extension = json.loads((repo_root / "editors" / "vscode" / "package.json").read_text(encoding="utf-8"))
    assert extension["license"] == "MIT"

    assert "hpdsl/grammar/hpdsl.lark" in names
    assert "hpdsl/targets/README.md" in names
    for relative in shipped_files(repo_root):
        assert f"hpdsl/{relative}" in names
    assert "hpdsl/cli/__init__.py" in names and "hpdsl/base/resources.py" in names
    assert "hpdsl/py.typed" in names
    # Only the package goes into site-packages, never a top-level grammar/ or targets/.
    assert {name.split("/")[0] for name in names} == {"hpdsl", entry_points.split("/")[0]}
    assert "[console_scripts]\nhpdsl = hpdsl.cli:main" in entry_points_text

    if sdist_first:
        assert sdist is not None
        with tarfile.open(sdist) as archive:
            members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
        for relative in ["grammar/hpdsl.lark", "targets/README.md", "pyproject.toml", "README.md", "LICENSE"]:
            assert relative in members
        for relative in shipped_files(repo_root):
            assert relative in members


def test_resources_found_from_any_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    grammar = resources.resource_path("grammar", "hpdsl.lark")
    assert grammar.is_absolute()
    assert grammar.is_file()
    assert resources.resource_path("targets").is_dir()


def _load_resources_module(package_dir: Path) -> types.ModuleType:
    """A copy of hpdsl/base/resources.py loaded from `package_dir`, as if hpdsl were installed there."""
    (package_dir / "base").mkdir(parents=True)
    copy = package_dir / "base" / "resources.py"
    copy.write_text(Path(resources.__file__).read_text(encoding="utf-8"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("resources_copy", copy)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_resources_prefer_the_package_folder(tmp_path: Path) -> None:
    installed = tmp_path / "site-packages" / "hpdsl"
    module = _load_resources_module(installed)
    (installed / "grammar").mkdir()
    (tmp_path / "site-packages" / "grammar").mkdir()  # must not be picked
    assert module.resource_path("grammar") == installed / "grammar"


def test_resources_fall_back_to_the_repository_root(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    module = _load_resources_module(checkout / "hpdsl")
    (checkout / "grammar").mkdir()
    path = module.resource_path("grammar", "hpdsl.lark")
    assert path == checkout / "grammar" / "hpdsl.lark"


def test_ci_runs_the_readme_test_command(repo_root: Path) -> None:
    script = (repo_root / ".ci" / "run").read_text(encoding="utf-8")
    [definition] = [line for line in script.splitlines() if line.startswith("TEST_COMMAND=")]
    command = definition.removeprefix("TEST_COMMAND=").strip('"')
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    assert f"```\n{command}\n```" in readme
