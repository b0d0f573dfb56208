"""Any input gets diagnostics and a clean exit code, never a Python traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpdsl.base.diagnostics import CODES, Diagnostic
from hpdsl.base.files import decode
from hpdsl.base.render import render_github, render_json, render_sarif, render_text
from hpdsl.base.source import SourceFile
from hpdsl.check.checker import check_sources
from hpdsl.language.parser import keywords

VALID = """
requirement C1 "OutdoorTemp > 21C selects Cooling"
enum SystemMode (Heating, Cooling)
curve hp_capacity(outdoor: C) -> kW increasing
    | -10C | 10 kW |
    |   5C | 50 kW |
end
program Changeover "Mode changeover" cites C1
    input outdoor_temp: C range -40C .. 60C fallback 10C
    input reset: bool
    parameter heating_below: C = 15C range 5C .. 20C
    output system_mode: SystemMode = Heating
    output capacity: kW = 0 kW
    hysteresis system_mode on outdoor_temp
        below heating_below -> Heating
        above 21C -> Cooling
    end
    rule derate
        if outdoor_temp < 5C for 10 min then
            capacity = hp_capacity(outdoor_temp) * 0.7
        else
            capacity = max(hp_capacity(outdoor_temp), 10 kW)
        end
    end
    machine sequence
        initial state Idle
            when reset -> Busy
        end
        state Busy
            after 15 min -> Idle
        end
    end
    alarm cold when outdoor_temp < -30C severity low latching acknowledge reset end
end
"""

TOKENS = [
    *sorted(keywords()),
    "outdoor_temp",
    "x",
    "Heating",
    "(",
    ")",
    ",",
    ":",
    "=",
    "==",
    "<",
    ">",
    "->",
    "..",
    "|",
    "+",
    "-",
    "*",
    "/",
    ".",
    "21C",
    "6 K",
    "50 kW",
    "10 min",
    "0.7",
    "3",
    '"doc"',
    '"""long\ndoc"""',
    "#c\n",
    "\n",
    "07:00",
    "%",
    "°C",
    "\t",
    ";",
    "{",
    "'",
    '"',
]


def assert_well_formed(diagnostics: list[Diagnostic], source: SourceFile) -> None:
    for d in diagnostics:
        assert d.code in CODES
        assert d.span.line >= 0 and d.span.column >= 0
        assert d.message
    # every renderer copes with whatever came out
    render_text(diagnostics, {source.name: source})
    render_json(diagnostics)
    render_github(diagnostics)
    render_sarif(diagnostics, tool_version="test")


def check_text(text: str) -> list[Diagnostic]:
    source = SourceFile("fuzz.rules", text)
    diagnostics = check_sources([source])
    assert_well_formed(diagnostics, source)
    return diagnostics


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    source, problem = decode("fuzz.rules", data)
    if problem is not None:
        assert problem.code in CODES
    if source is not None:
        check_text(source.text)


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    check_text(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=120).map(" ".join))
def test_token_soup(text: str) -> None:
    check_text(text)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 30)) :]
        elif action == "insert":
            text = text[:at] + " " + draw(st.sampled_from(TOKENS)) + " " + text[at:]
        else:
            end = min(len(text), at + draw(st.integers(1, 60)))
            text = text[:end] + text[at:end] + text[end:]
    return text


@FUZZ
@given(mutated())
def test_mutated_valid_package(text: str) -> None:
    check_text(text)


def test_the_valid_package_is_clean() -> None:
    assert check_text(VALID) == []


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hpdsl", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("binary", bytes(range(256)) * 4, "bad-encoding"),
        ("latin1", "input température: C".encode("latin-1"), "bad-encoding"),
        ("empty", b"", "empty-file"),
        ("huge", b"# padding\n" * 1_100_000, "file-too-large"),
        ("deep", b"program P rule r x = " + b"(" * 10_000 + b"1" + b")" * 10_000 + b" end end", "too-deep"),
        ("unterminated", b'program P "the doc\nend\n', "unterminated-string"),
        ("keyword", b"program P\n  input end: C\nend\n", "keyword-as-name"),
        ("unclosed", b"program P\n  rule r\n", "unclosed-block"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_bad_files_exit_cleanly(tmp_path: Path, name: str, content: bytes, code: str) -> None:
    write(tmp_path / f"{name}.rules", content)
    result = run_cli("check", f"{name}.rules", "--format", "json", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1)
    assert f'"code": "{code}"' in result.stdout


def test_folder_without_rules(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli("check", "empty", cwd=tmp_path)
    assert (result.returncode, "Traceback" in result.stderr) == (1, False)
    assert "[no-rules]" in result.stdout


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("check", "nowhere.rules", cwd=tmp_path)
    assert (result.returncode, "Traceback" in result.stderr) == (2, False)


def test_a_corrupt_parser_cache_is_rebuilt(tmp_path: Path) -> None:
    rules = write(tmp_path / "ok.rules", b"program P\nend\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hpdsl", "check", str(rules)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert check().returncode == 0
    (cache,) = (tmp_path / "cache" / "hpdsl").iterdir()
    for damage in (cache.read_bytes()[:200], b"not a cache"):
        cache.write_bytes(damage)
        result = check()
        assert (result.returncode, result.stderr) == (0, "")
