"""The `hpdsl` command line, run in-process: exit codes, output formats, usage and internal errors."""

from __future__ import annotations

import importlib
import importlib.util
import io
import json
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

import hpdsl
from hpdsl import cli
from hpdsl.base.diagnostics import Diagnostic, Severity
from hpdsl.base.source import SourceFile, Span

CheckSources = Callable[[list[SourceFile]], list[Diagnostic]]


@pytest.fixture
def checker(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The checker module that `check_paths` calls: the real one, or a stub until it is written.

    The files these tests use all fail while loading, so they reach the checker with no
    sources; a stub that finds nothing stands in only while `hpdsl.check.checker` does not exist.
    """
    if importlib.util.find_spec("hpdsl.check.checker") is None:
        stub = types.ModuleType("hpdsl.check.checker")
        stub.check_package = lambda sources: (None, [])  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "hpdsl.check.checker", stub)
        return stub
    return importlib.import_module("hpdsl.check.checker")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checker: types.ModuleType) -> Path:
    """Run in a temporary folder, so file names in diagnostics are short and relative."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str) -> None:
    assert err.count("\n") == 1, err
    assert "error:" in err
    assert "Traceback" not in err


# --- Version and usage errors ------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--version")
    assert (code, out, err) == (0, f"hpdsl {hpdsl.__version__}\n", "")
    assert hpdsl.__version__ == "0.1.0"


def test_python_dash_m_runs_the_same_command() -> None:
    # Run from the folder holding the imported package: the source tree, or site-packages.
    package_parent = Path(hpdsl.__file__).resolve().parent.parent
    completed = subprocess.run(
        [sys.executable, "-m", "hpdsl", "--version"],
        cwd=package_parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (completed.returncode, completed.stdout) == (0, "hpdsl 0.1.0\n"), completed.stderr


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-command"),
        pytest.param(["check"], id="no-path"),
        pytest.param(["check", "--bogus", "x.rules"], id="unknown-option"),
        pytest.param(["check", "--format", "xml", "x.rules"], id="unknown-format"),
        pytest.param(["frobnicate"], id="unknown-command"),
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], in_tmp: Path, argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert_one_line_error(err)


def test_missing_path_exits_2(capsys: pytest.CaptureFixture[str], in_tmp: Path) -> None:
    code, out, err = run(capsys, "check", "nowhere.rules")
    assert code == 2
    assert out == ""
    assert_one_line_error(err)
    assert "nowhere.rules" in err


# --- Files that fail while loading -------------------------------------------------------


def test_non_utf8_file(capsys: pytest.CaptureFixture[str], in_tmp: Path) -> None:
    (in_tmp / "latin1.rules").write_bytes(b"program Caf\xe9\nend\n")
    code, out, err = run(capsys, "check", "latin1.rules")
    assert code == 1
    assert err == ""
    assert out.splitlines()[0] == (
        "latin1.rules:1:12: error: file is not UTF-8 text (byte 0xe9 at offset 11) [bad-encoding]"
    )
    assert "  = hint: save the file as UTF-8" in out
    assert out.splitlines()[-1] == "1 error in 1 file"


def test_binary_file(capsys: pytest.CaptureFixture[str], in_tmp: Path) -> None:
    (in_tmp / "image.rules").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    code, out, _ = run(capsys, "check", "image.rules")
    assert code == 1
    # The NUL byte comes just after the second line break.
    header = "image.rules:3:1: error: file looks binary (it contains a NUL byte at offset 8) [bad-encoding]"
    assert header in out


def test_empty_folder(capsys: pytest.CaptureFixture[str], in_tmp: Path) -> None:
    (in_tmp / "site").mkdir()
    code, out, _ = run(capsys, "check", "site")
    assert code == 1
    assert out.splitlines()[0] == "site: error: no .rules files in folder `site` [no-rules]"


@pytest.mark.parametrize("fmt", ["json", "github", "sarif", "text"])
def test_every_format_reports_the_error(capsys: pytest.CaptureFixture[str], in_tmp: Path, fmt: str) -> None:
    (in_tmp / "bad.rules").write_bytes(b"\xff\xfe")
    code, out, _ = run(capsys, "check", "--format", fmt, "bad.rules")
    assert code == 1
    assert "bad-encoding" in out
    if fmt == "json":
        [obj] = json.loads(out)
        assert (obj["file"], obj["line"], obj["column"], obj["code"]) == ("bad.rules", 1, 1, "bad-encoding")
    elif fmt == "sarif":
        log = json.loads(out)
        assert log["runs"][0]["tool"]["driver"]["version"] == hpdsl.__version__
        assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["bad-encoding"]
    elif fmt == "github":
        assert out.startswith("::error file=bad.rules,line=1,col=1,")


# --- Strictness, colour and internal errors ----------------------------------------------


def one_warning(sources: list[SourceFile]) -> tuple[None, list[Diagnostic]]:
    return None, [Diagnostic("unused", Severity.WARNING, Span("site.rules", 1, 1, 1, 2), "`x` is never used")]


def test_strict_turns_warnings_into_errors(
    capsys: pytest.CaptureFixture[str],
    in_tmp: Path,
    checker: types.ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (in_tmp / "site.rules").write_text("x\n", encoding="utf-8")
    monkeypatch.setattr(checker, "check_package", one_warning)
    code, out, _ = run(capsys, "check", "site.rules")
    assert code == 0
    assert "site.rules:1:1: warning: `x` is never used [unused]" in out
    code, out, _ = run(capsys, "check", "--strict", "site.rules")
    assert code == 1
    assert "site.rules:1:1: error: `x` is never used [unused]" in out


def test_colour(capsys: pytest.CaptureFixture[str], in_tmp: Path) -> None:
    (in_tmp / "bad.rules").write_bytes(b"\xff")
    assert "\x1b[" in run(capsys, "check", "--color", "always", "bad.rules")[1]
    assert "\x1b[" not in run(capsys, "check", "--color", "never", "bad.rules")[1]
    # capsys is not a terminal, so auto means no colour
    assert "\x1b[" not in run(capsys, "check", "bad.rules")[1]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("choice", "tty", "no_color", "expected"),
    [
        ("auto", True, None, True),
        ("auto", True, "1", False),
        ("auto", True, "", True),  # no-color.org: only a non-empty NO_COLOR counts
        ("auto", False, None, False),
        ("always", False, "1", True),
        ("never", True, None, False),
    ],
)
def test_colour_choice(
    monkeypatch: pytest.MonkeyPatch, choice: str, tty: bool, no_color: str | None, expected: bool
) -> None:
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    stream = _Terminal() if tty else io.StringIO()
    assert cli.use_color(choice, stream) is expected


def test_internal_error_exits_3_without_traceback(
    capsys: pytest.CaptureFixture[str],
    in_tmp: Path,
    checker: types.ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(sources: list[SourceFile]) -> tuple[None, list[Diagnostic]]:
        raise RuntimeError("the checker tripped")

    (in_tmp / "site.rules").write_text("x\n", encoding="utf-8")
    monkeypatch.setattr(checker, "check_package", broken)
    code, out, err = run(capsys, "check", "site.rules")
    assert code == 3
    assert out == ""
    assert err.splitlines()[0] == "hpdsl: internal error: RuntimeError: the checker tripped"
    assert "report" in err
    assert "Traceback" not in err

    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    with pytest.raises(RuntimeError, match="the checker tripped"):
        cli.main(["check", "site.rules"])


def test_every_command_is_in_the_table() -> None:
    parser = cli.build_parser()
    minimal_arguments = {
        "check": ["x"],
        "compile": ["x", "--target", "python", "-o", "out"],
        "test": ["x"],
        "trace": ["x"],
        "simulate": ["x", "-o", "out"],
        "verify": ["x", "--trend", "trend.csv"],
        "fmt": ["x"],
        "doc": ["x", "-o", "out"],
        "diff": ["old", "new"],
        "lsp": [],
        "run": ["x", "--plant", "sim"],
        "fleet": ["verify", "fleet.toml", "-o", "out"],
    }
    assert set(cli.COMMANDS) == set(minimal_arguments)
    for name, arguments in minimal_arguments.items():
        assert parser.parse_args([name, *arguments]).run is cli.COMMANDS[name].run


def test_output_survives_a_terminal_that_cannot_show_it() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    cli.write(stream, "Temperatur \u00b0C \u540d\n")
    assert raw.getvalue() == b"Temperatur \\xb0C \\u540d\n"


# Without the simulation extras (`pip install .` as the README's first command does), every
# command still starts: only running simulate or verify needs numpy and pyarrow.
WITHOUT_EXTRAS = (
    "import sys\n"
    "for name in ('numpy', 'pyarrow', 'pandas', 'pvlib', 'matplotlib', 'pyfunnel', 'tqdm'):\n"
    "    sys.modules[name] = None  # an import of it raises ImportError\n"
    "from hpdsl.cli import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


def run_without_extras(*args: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS, *args], cwd=root, capture_output=True, text=True, check=False
    )


def test_run_names_the_missing_extras() -> None:
    result = run_without_extras("run", "rules/", "--plant", "sim")
    assert result.returncode == 2
    assert "run needs the runtime extras" in result.stderr and "pip install 'hpdsl[runtime]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_fleet_names_the_missing_extras() -> None:
    result = run_without_extras("fleet", "verify", "fleet.toml", "-o", "out")
    assert result.returncode == 2
    assert "pip install 'hpdsl[fleet]'" in result.stderr and "Traceback" not in result.stderr


def test_check_runs_without_the_simulation_extras() -> None:
    result = run_without_extras("check", "rules/")
    assert result.returncode == 0, result.stderr
    assert "no problems in 13 files" in result.stdout + result.stderr  # 12 rules files, 1 site file


@pytest.mark.parametrize(
    "command", [["simulate", "rules/", "-o", "run"], ["verify", "rules/", "--trend", "t.csv"]]
)
def test_simulate_and_verify_name_the_missing_extras(command: list[str]) -> None:
    result = run_without_extras(*command)
    assert result.returncode == 2
    assert f"{command[0]} needs the simulation extras" in result.stderr
    assert "pip install 'hpdsl[sim]'" in result.stderr
    assert "Traceback" not in result.stderr
