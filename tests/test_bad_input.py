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


def deep_ifs(levels: int) -> bytes:
    """A rule with `levels` `if` statements inside each other."""
    lines = [
        "program P",
        "  input x: real range 0.0 .. 100.0 fallback 0.0",
        "  output y: real = 0.0",
        "  rule r",
    ]
    lines += ["  " * (2 + k) + f"if x > {k}.0 then" for k in range(levels)]
    lines += ["  " * (2 + levels) + "y = 1.0"]
    lines += ["  " * (2 + k) + "end" for k in reversed(range(levels))]
    lines += ["  end", "end", ""]
    return "\n".join(lines).encode()


def test_the_deepest_ifs_check_allows_compile_to_python(tmp_path: Path) -> None:
    write(tmp_path / "deep.rules", deep_ifs(64))
    assert run_cli("check", "deep.rules", cwd=tmp_path).returncode == 0
    result = run_cli("compile", "deep.rules", "--target", "python", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    compile((tmp_path / "out" / "deep.py").read_text(encoding="utf-8"), "deep.py", "exec")


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
        ("deep-if", deep_ifs(65), "too-deep"),
        ("huge-number", b"program P\n  const c: real = 1" + b"0" * 320 + b"\nend\n", "out-of-range"),
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


# --- Parameter files: TOML that tomllib or Python cannot take --------------------------------

HOSTILE_TOML = [
    # Python reads no integer of more than 4300 digits; tomllib raises ValueError.
    pytest.param(
        "[Sources]\nground_installed_cost = " + "9" * 4400 + "\n", "site-file", (2, 25), id="4400-digits"
    ),
    # tomllib recurses once per level of nesting, until Python's stack ends.
    pytest.param("[Sources]\nx = " + "[" * 600 + "]" * 600 + "\n", "site-file", (2, 37), id="nested-600"),
    pytest.param(
        "[Sources]\nx = " + "{a = " * 600 + "1" + "}" * 600 + "\n", "site-file", (2, 165), id="tables-600"
    ),
    # An integer beyond any float: a value out of every range, not an OverflowError.
    pytest.param(
        "[Sources]\nground_installed_cost = 1" + "0" * 400 + "\n", "site-value", (2, 25), id="1e400"
    ),
]


@pytest.mark.parametrize(("content", "code", "where"), HOSTILE_TOML)
def test_hostile_site_files_are_diagnostics(
    tmp_path: Path, content: str, code: str, where: tuple[int, int]
) -> None:
    rules = Path(__file__).resolve().parent.parent / "rules"
    site = tmp_path / "site.toml"
    site.write_text(content, encoding="utf-8")
    result = run_cli("check", str(rules), "--params", str(site), cwd=tmp_path)
    assert (result.returncode, "Traceback" in result.stderr, "internal error" in result.stderr) == (
        1,
        False,
        False,
    )
    assert f"site.toml:{where[0]}:{where[1]}: error:" in result.stdout and f"[{code}]" in result.stdout
    # The source line is shown as a window around the place, however long the line.
    assert max(len(line) for line in result.stdout.splitlines()) < 250


def test_a_string_holding_brackets_is_not_nesting(tmp_path: Path) -> None:
    rules = Path(__file__).resolve().parent.parent / "rules"
    site = tmp_path / "site.toml"
    deep_text = "[" * 100
    site.write_text(
        f'# {deep_text}\n[Occupancy]\noccupied_heating_setpoint = "21C"  # {deep_text}\n'
        f"[Sources]\nground_installed_cost = \"24800 USD\"\n# ''' {deep_text}\n",
        encoding="utf-8",
    )
    result = run_cli("check", str(rules), "--params", str(site), cwd=tmp_path)
    assert result.returncode == 0, result.stdout


def test_an_else_if_chain_longer_than_the_compiled_code_can_nest_is_refused(tmp_path: Path) -> None:
    """Found by hand: 3,000 `else if` checked clean and the Python failed at import (RecursionError)."""
    from hpdsl.codegen.compiler import compile_paths

    def chain(count: int) -> str:
        body = ["        if x < 0 then", "            y = 0"]
        for k in range(1, count):
            body += [f"        else if x < {k} then", f"            y = {k}"]
        rule = "\n".join([*body, "        end"])
        head = 'program P "p"\n    input x: real fallback 0 "x"\n    output y: real = 0 "y"\n'
        return f"{head}    rule r\n{rule}\n    end\nend\n"

    path = tmp_path / "chain.rules"
    path.write_text(chain(3000), encoding="utf-8")
    refused = compile_paths([path], "python")
    assert [d.code for d in refused.diagnostics] == ["too-deep"]
    path.write_text(chain(256), encoding="utf-8")
    accepted = compile_paths([path], "python", "chain")
    assert accepted.ok
    namespace: dict[str, object] = {}
    exec(compile(accepted.files["chain.py"], "chain.py", "exec"), namespace)  # compiles: no RecursionError
