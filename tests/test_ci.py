"""CI integration: the pre-commit hooks and the GitHub Actions workflow of docs/ci.md do what they say.

The hooks' manifest is validated by pre-commit's own loader, and every hpdsl command the hooks
and the workflow run is run here on a copy of the shipped rules, the way pre-commit and the
runner would run it (the hook's entry, its arguments, the changed files; a workflow step's
redirections and environment).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pre_commit.clientlib import load_manifest

from hpdsl import cli

REPO = Path(__file__).resolve().parent.parent
HOOKS = REPO / ".pre-commit-hooks.yaml"
CI_DOC = REPO / "docs" / "ci.md"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding a copy of the shipped rules as `rules/`, made the current folder."""
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@contextlib.contextmanager
def _stdout_to(path: Path | None, append: bool) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
        yield buffer
    if path is not None:
        with path.open("a" if append else "w", encoding="utf-8") as stream:
            stream.write(buffer.getvalue())


def _run(argv: list[str], stdout: Path | None = None, append: bool = False) -> int:
    assert argv[0] == "hpdsl", argv
    with _stdout_to(stdout, append):
        return cli.main(argv[1:])


# --------------------------------------------------------------------------- pre-commit


def _hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in load_manifest(str(HOOKS))}


def _hook_argv(hook: dict[str, Any], changed: list[str]) -> list[str]:
    """The command pre-commit runs: the entry, the hook's args, then the changed files it matches."""
    matching = [name for name in changed if re.search(hook["files"], name)]
    return [*shlex.split(hook["entry"]), *hook["args"], *(matching if hook["pass_filenames"] else [])]


def test_the_hooks_manifest_is_valid_for_pre_commit() -> None:
    hooks = _hooks()
    assert {"hpdsl-check", "hpdsl-fmt-check", "hpdsl-fmt"} <= set(hooks)
    for hook in hooks.values():
        assert hook["language"] == "python"  # pre-commit installs this repository to run it
        argv = _hook_argv(hook, ["rules/changeover.rules"])
        parsed = cli.build_parser().parse_args(argv[1:])
        assert parsed.command in ("check", "fmt")


def test_the_check_hook_checks_the_whole_package(package: Path) -> None:
    hook = _hooks()["hpdsl-check"]
    # A rules file names programs of other files, so the hook is given the package folder.
    assert hook["pass_filenames"] is False
    assert _run(_hook_argv(hook, ["rules/changeover.rules"])) == 0
    defrost = package / "rules" / "defrost.rules"
    defrost.write_text(defrost.read_text(encoding="utf-8") + "\nprogram Broken\n", encoding="utf-8")
    assert _run(_hook_argv(hook, ["rules/defrost.rules"])) == 1


def test_the_check_hook_runs_when_a_site_file_changes() -> None:
    hook = _hooks()["hpdsl-check"]
    assert re.search(hook["files"], "rules/sites/ground-source-example.toml")
    assert re.search(hook["files"], "rules/alarms.rules")
    assert not re.search(hook["files"], "README.md")


def test_the_format_hooks_pass_the_shipped_files_and_catch_a_misformatted_one(package: Path) -> None:
    hooks = _hooks()
    changed = ["rules/changeover.rules", "rules/defrost.rules", "README.md"]
    check = _hook_argv(hooks["hpdsl-fmt-check"], changed)
    assert "README.md" not in check
    assert _run(check) == 0
    changeover = package / "rules" / "changeover.rules"
    shipped = changeover.read_text(encoding="utf-8")
    # Declarations indented by two spaces instead of four (docstrings are kept as written).
    misformatted = re.sub(r"^    (input|output|parameter) ", r"  \1 ", shipped, flags=re.M)
    assert misformatted != shipped
    changeover.write_text(misformatted, encoding="utf-8")
    assert _run(check) == 1
    assert changeover.read_text(encoding="utf-8") != shipped  # --check writes nothing
    assert _run(_hook_argv(hooks["hpdsl-fmt"], changed)) == 0
    assert changeover.read_text(encoding="utf-8") == shipped
    assert _run(check) == 0


# --------------------------------------------------------------------------- GitHub Actions


def _workflow() -> dict[Any, Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", CI_DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    workflows = [yaml.safe_load(block) for block in blocks]
    found = [w for w in workflows if isinstance(w, dict) and "jobs" in w]
    assert len(found) == 1, "docs/ci.md holds one workflow"
    workflow: dict[Any, Any] = found[0]
    return workflow


def _steps(workflow: dict[Any, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in workflow["jobs"].items() for step in job["steps"]]


def test_the_workflow_has_the_shape_github_expects() -> None:
    workflow = _workflow()
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as the string.
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"pull_request", "push"}
    for _, job in workflow["jobs"].items():
        assert job["runs-on"] == "ubuntu-latest"
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", step["uses"]), step["uses"]
    uses = {step["uses"].split("@")[0] for _, step in _steps(workflow) if "uses" in step}
    assert {
        "github/codeql-action/upload-sarif",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    } <= uses
    assert workflow["jobs"]["check"]["permissions"]["security-events"] == "write"
    assert workflow["jobs"]["document"]["permissions"]["pages"] == "write"


def _hpdsl_lines(workflow: dict[Any, Any]) -> list[str]:
    lines = []
    for _, step in _steps(workflow):
        for line in str(step.get("run", "")).splitlines():
            if line.strip().startswith("hpdsl "):
                lines.append(line.strip())
    return lines


def test_the_workflow_runs_every_command_the_issue_names() -> None:
    commands = " ; ".join(_hpdsl_lines(_workflow()))
    for expected in (
        "hpdsl check rules/ --strict --format github",
        "--format sarif",
        "hpdsl test rules/ --junit",
        "hpdsl fmt --check",
        "hpdsl doc rules/ -o",
        "hpdsl diff",
        "hpdsl trace rules/",
    ):
        assert expected in commands


def test_every_workflow_command_runs_clean_on_the_shipped_rules(package: Path) -> None:
    """Each `hpdsl` line of the workflow, run as the runner would, on the shipped package."""
    runner_temp = package / "runner-temp"
    shutil.copytree(REPO / "rules", runner_temp / "base" / "rules")  # the `git worktree add`
    summary = package / "step-summary.md"
    environment = {"RUNNER_TEMP": str(runner_temp), "GITHUB_STEP_SUMMARY": str(summary)}
    (package / "reports").mkdir()
    ran = []
    for line in _hpdsl_lines(_workflow()):
        # `|| true` keeps a step going on errors; the shipped rules have none, so it must pass.
        words = shlex.split(line.removesuffix("|| true"))
        words = [re.sub(r"\$(\w+)", lambda m: environment[m.group(1)], word) for word in words]
        target: Path | None = None
        append = False
        if ">>" in words or ">" in words:
            arrow = ">>" if ">>" in words else ">"
            index = words.index(arrow)
            target, append = Path(words[index + 1]), arrow == ">>"
            words = words[:index] + words[index + 2 :]
        code = _run(words, target, append)
        assert code == 0, f"{line} -> exit {code} on the shipped rules"
        ran.append(words[1])
    assert sorted(set(ran)) == ["check", "diff", "doc", "fmt", "test", "trace"]

    sarif = json.loads((package / "reports" / "hpdsl.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["tool"]["driver"]["name"] == "hpdsl"
    junit = ET.parse(package / "reports" / "scenarios.xml").getroot()
    assert junit.tag in ("testsuites", "testsuite")
    suites = [junit] if junit.tag == "testsuite" else list(junit)
    assert sum(int(suite.get("tests", "0")) for suite in suites) > 100
    assert all(suite.get("failures") == "0" for suite in suites)
    assert (package / "site" / "index.html").is_file() and (package / "site" / "index.md").is_file()
    assert summary.read_text(encoding="utf-8").strip()  # the diff wrote its report to the summary


def test_the_github_format_annotates_a_line(package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changeover = package / "rules" / "changeover.rules"
    text = changeover.read_text(encoding="utf-8")
    changeover.write_text(text.replace("= 21C range 20C .. 30C", "= 21 bar range 20C .. 30C", 1), "utf-8")
    line = next(i for i, t in enumerate(text.split("\n"), 1) if "= 21C range 20C .. 30C" in t)
    assert cli.main(["check", "rules/", "--strict", "--format", "github"]) == 1
    printed = capsys.readouterr().out
    assert re.search(rf"^::error file=rules/changeover\.rules,line={line},col=\d+", printed, re.M), printed


def test_the_documented_commands_do_not_depend_on_the_tests_own_folder() -> None:
    # The workflow and the hooks name `rules/` relative to the repository root, as a runner does.
    assert all(" rules/" in line or " rules " in line for line in _hpdsl_lines(_workflow()))
    assert os.sep not in _hooks()["hpdsl-check"]["args"][0].rstrip("/")
