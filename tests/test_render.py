"""Rendering diagnostics as text, JSON, GitHub workflow commands and SARIF."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from hpdsl.base.diagnostics import CODES, Diagnostic, Note, Severity
from hpdsl.base.render import render_github, render_json, render_sarif, render_text
from hpdsl.base.source import SourceFile, Span

FILE = "rules/defrost.rules"


def diagnostic(
    line: int,
    column: int,
    end_line: int,
    end_column: int,
    *,
    file: str = FILE,
    code: str = "unit-mismatch",
    severity: Severity = Severity.ERROR,
    message: str = "cannot compare temperature with pressure",
    hint: str | None = None,
    notes: tuple[Note, ...] = (),
) -> Diagnostic:
    return Diagnostic(code, severity, Span(file, line, column, end_line, end_column), message, hint, notes)


def sources(*files: tuple[str, str]) -> dict[str, SourceFile]:
    return {name: SourceFile(name, text) for name, text in files}


# --- Text: the source line and the caret under the span ----------------------------------

# (source line, column, end_line offset, end_column, expected source line, expected caret line)
CARET_CASES = [
    pytest.param(
        "    if coil_temp > suction_pressure then",
        8,
        0,
        36,
        " 2 |     if coil_temp > suction_pressure then",
        "   |        ^" + "~" * 27,
        id="plain",
    ),
    pytest.param(
        "\tif\tcoil_temp > 3 bar",
        5,
        0,
        14,
        " 2 |     if  coil_temp > 3 bar",
        "   |         ^" + "~" * 8,
        id="tabs-before-the-span",
    ),
    pytest.param(
        "x = a\t+ b",
        5,
        0,
        9,
        " 2 | x = a   + b",
        "   |     ^~~~~~",
        id="tab-inside-the-span",
    ),
    pytest.param(
        "    if coil_temp > 3",
        8,
        1,
        5,
        " 2 |     if coil_temp > 3",
        "   |        ^~~~~~~~~~~~~",
        id="several-lines-underlined-to-end-of-first",
    ),
    pytest.param(
        "end",
        4,
        0,
        5,
        " 2 | end",
        "   |    ^",
        id="just-past-the-end-of-the-line",
    ),
    pytest.param(
        "名前 = 1",
        4,
        0,
        5,
        " 2 | 名前 = 1",
        "   |      ^",
        id="wide-characters",
    ),
    pytest.param(
        "a\x1b[31mb = 1",
        7,
        0,
        8,
        " 2 | a\u241b[31mb = 1",
        "   |       ^",
        id="control-characters-made-visible",
    ),
    pytest.param(
        "    x",
        5,
        0,
        5,
        " 2 |     x",
        "   |     ^",
        id="empty-span-gets-one-caret",
    ),
]


@pytest.mark.parametrize(("text", "column", "extra_lines", "end_column", "shown", "caret"), CARET_CASES)
def test_text_caret_sits_under_the_span(
    text: str, column: int, extra_lines: int, end_column: int, shown: str, caret: str
) -> None:
    src = sources((FILE, f"program Defrost\n{text}\nend\n"))
    output = render_text([diagnostic(2, column, 2 + extra_lines, end_column)], src)
    lines = output.splitlines()
    assert lines[0] == f"{FILE}:2:{column}: error: cannot compare temperature with pressure [unit-mismatch]"
    assert lines[1] == shown
    assert lines[2] == caret


def test_text_whole_file_problem_has_no_source_line() -> None:
    src = sources((FILE, "program Defrost\nend\n"))
    whole_file = diagnostic(0, 0, 0, 0, code="empty-file", severity=Severity.WARNING, message="m")
    output = render_text([whole_file], src)
    assert output == f"{FILE}: warning: m [empty-file]\n1 warning in 1 file\n"


def test_text_without_the_source_prints_only_the_header() -> None:
    output = render_text([diagnostic(3, 1, 3, 2, code="bad-encoding", message="not UTF-8")], {})
    assert output == f"{FILE}:3:1: error: not UTF-8 [bad-encoding]\n1 error in 1 file\n"


def test_text_hint_and_notes() -> None:
    src = sources((FILE, "program Defrost\n    input coil_temp: C\n    x = coil_temp > 3 bar\nend\n"))
    d = diagnostic(
        3,
        9,
        3,
        26,
        hint="compare with a temperature, e.g. `3C`",
        notes=(
            Note("`coil_temp` is declared here", Span(FILE, 2, 11, 2, 20)),
            Note("temperatures and pressures are different quantities"),
        ),
    )
    assert render_text([d], src) == "\n".join(
        [
            f"{FILE}:3:9: error: cannot compare temperature with pressure [unit-mismatch]",
            " 3 |     x = coil_temp > 3 bar",
            "   |         ^~~~~~~~~~~~~~~~~",
            "  = hint: compare with a temperature, e.g. `3C`",
            f"{FILE}:2:11: note: `coil_temp` is declared here",
            " 2 |     input coil_temp: C",
            "   |           ^~~~~~~~~",
            "  = note: temperatures and pressures are different quantities",
            "1 error in 1 file",
            "",
        ]
    )


def test_text_sorts_by_file_line_and_column() -> None:
    src = sources(("a.rules", "x\ny\n"), ("b.rules", "z\n"))
    found = [
        diagnostic(1, 1, 1, 2, file="b.rules", message="third"),
        diagnostic(2, 1, 2, 2, file="a.rules", message="second"),
        diagnostic(1, 1, 1, 2, file="a.rules", message="first"),
    ]
    headers = [line for line in render_text(found, src).splitlines() if ": error: " in line]
    assert [h.split(": error: ")[1].split(" [")[0] for h in headers] == ["first", "second", "third"]


# (diagnostics, sources, expected summary)
SUMMARY_CASES = [
    pytest.param(
        [], sources(("a.rules", ""), ("b.rules", ""), ("c.rules", "")), "no problems in 3 files", id="clean"
    ),
    pytest.param(
        [
            diagnostic(1, 1, 1, 2, file="a.rules"),
            diagnostic(1, 1, 1, 2, file="b.rules"),
            diagnostic(1, 1, 1, 2, file="b.rules", code="unused", severity=Severity.WARNING),
        ],
        sources(("a.rules", "x\n"), ("b.rules", "x\n"), ("c.rules", "x\n")),
        "2 errors, 1 warning in 3 files",
        id="errors-and-warnings",
    ),
    pytest.param(
        [diagnostic(1, 1, 1, 2, file="a.rules")],
        sources(("a.rules", "x\n")),
        "1 error in 1 file",
        id="singular",
    ),
    pytest.param(
        [
            diagnostic(1, 1, 1, 2, severity=Severity.WARNING, code="unused"),
            diagnostic(1, 1, 1, 2, severity=Severity.NOTE, code="unused"),
        ],
        sources((FILE, "x\n")),
        "1 warning, 1 note in 1 file",
        id="notes-counted-apart",
    ),
    pytest.param(
        [diagnostic(0, 0, 0, 0, file="rules/empty", code="no-rules", message="no .rules files")],
        {},
        "1 error in 0 files",
        id="empty-folder-is-not-a-file",
    ),
    pytest.param(
        [diagnostic(1, 1, 1, 2, file="binary.rules", code="bad-encoding")],
        sources(("good.rules", "x\n")),
        "1 error in 2 files",
        id="undecodable-file-still-counts",
    ),
]


@pytest.mark.parametrize(("found", "srcs", "summary"), SUMMARY_CASES)
def test_text_summary_line(found: list[Diagnostic], srcs: dict[str, SourceFile], summary: str) -> None:
    assert render_text(found, srcs).splitlines()[-1] == summary


def test_text_colour_only_when_asked() -> None:
    src = sources((FILE, "x\n"))
    found = [diagnostic(1, 1, 1, 2)]
    assert "\x1b[" not in render_text(found, src)
    coloured = render_text(found, src, color=True)
    assert "\x1b[1;31merror:\x1b[0m" in coloured
    # Colour codes wrap the text; they do not replace any of it.
    assert coloured.replace("\x1b[1;31m", "").replace("\x1b[1m", "").replace("\x1b[0m", "") == render_text(
        found, src
    )


def test_text_message_cannot_send_escape_sequences() -> None:
    output = render_text([diagnostic(1, 1, 1, 2, message="bad \x1b[2J name")], {})
    assert "\x1b" not in output
    assert "bad \u241b[2J name" in output


# --- JSON --------------------------------------------------------------------------------

JSON_KEYS = {
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
    "severity",
    "code",
    "message",
    "hint",
    "notes",
}


def test_json_fields_and_types() -> None:
    d = diagnostic(
        2, 8, 2, 36, hint="use `C`", notes=(Note("declared here", Span(FILE, 1, 1, 1, 4)), Note("plain"))
    )
    [obj] = json.loads(render_json([d]))
    assert set(obj) == JSON_KEYS
    assert obj == {
        "file": FILE,
        "line": 2,
        "column": 8,
        "end_line": 2,
        "end_column": 36,
        "severity": "error",
        "code": "unit-mismatch",
        "message": "cannot compare temperature with pressure",
        "hint": "use `C`",
        "notes": [
            {"message": "declared here", "file": FILE, "line": 1, "column": 1},
            {"message": "plain", "file": None, "line": None, "column": None},
        ],
    }


def test_json_hint_is_null_when_absent_and_keys_are_sorted() -> None:
    text = render_json([diagnostic(1, 1, 1, 2)])
    [obj] = json.loads(text)
    assert obj["hint"] is None
    assert obj["notes"] == []
    key_lines = [line.strip().split('"')[1] for line in text.splitlines() if line.startswith('    "')]
    assert key_lines == sorted(JSON_KEYS)
    assert text.startswith("[\n  {\n    ")  # indent 2
    assert render_json([]) == "[]\n"


def test_json_sorted_by_file_line_column_code() -> None:
    found = [
        diagnostic(1, 1, 1, 2, file="b.rules", code="syntax"),
        diagnostic(2, 5, 2, 6, file="a.rules", code="unused"),
        diagnostic(2, 5, 2, 6, file="a.rules", code="type-mismatch"),
        diagnostic(2, 1, 2, 2, file="a.rules", code="unused"),
        diagnostic(0, 0, 0, 0, file="a.rules", code="empty-file"),
    ]
    order = [(o["file"], o["line"], o["column"], o["code"]) for o in json.loads(render_json(found))]
    assert order == [
        ("a.rules", 0, 0, "empty-file"),
        ("a.rules", 2, 1, "unused"),
        ("a.rules", 2, 5, "type-mismatch"),
        ("a.rules", 2, 5, "unused"),
        ("b.rules", 1, 1, "syntax"),
    ]


# --- GitHub Actions ----------------------------------------------------------------------

GITHUB_CASES = [
    pytest.param(
        diagnostic(12, 5, 12, 9),
        f"::error file={FILE},line=12,col=5,endLine=12,endColumn=9,title=unit-mismatch::"
        "cannot compare temperature with pressure",
        id="error",
    ),
    pytest.param(
        diagnostic(3, 1, 3, 4, code="unused", severity=Severity.WARNING, message="`x` is never used"),
        f"::warning file={FILE},line=3,col=1,endLine=3,endColumn=4,title=unused::`x` is never used",
        id="warning",
    ),
    pytest.param(
        diagnostic(1, 2, 1, 3, file="odd:name,with%.rules", message="100% sure\r\nnext: a, b"),
        "::error file=odd%3Aname%2Cwith%25.rules,line=1,col=2,endLine=1,endColumn=3,title=unit-mismatch::"
        "100%25 sure%0D%0Anext: a, b",
        id="escaping-properties-and-data",
    ),
    pytest.param(
        diagnostic(0, 0, 0, 0, file="rules/empty", code="no-rules", message="no .rules files"),
        "::error file=rules/empty,title=no-rules::no .rules files",
        id="whole-file-has-no-line",
    ),
    pytest.param(
        diagnostic(1, 1, 1, 2, hint="try `==`", notes=(Note("n1"), Note("n2", Span(FILE, 4, 2, 4, 3)))),
        f"::error file={FILE},line=1,col=1,endLine=1,endColumn=2,title=unit-mismatch::"
        f"cannot compare temperature with pressure%0Ahint: try `==`%0Anote: n1%0A{FILE}:4:2: note: n2",
        id="hint-and-notes-on-following-lines",
    ),
]


@pytest.mark.parametrize(("found", "expected"), GITHUB_CASES)
def test_github_workflow_command(found: Diagnostic, expected: str) -> None:
    assert render_github([found]) == expected + "\n"


def test_github_empty_prints_nothing() -> None:
    assert render_github([]) == ""


# --- SARIF -------------------------------------------------------------------------------


def sarif(found: list[Diagnostic]) -> Any:
    return json.loads(render_sarif(found, tool_version="9.8.7"))


def test_sarif_log_structure() -> None:
    log = sarif([])
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "hpdsl"
    assert driver["version"] == "9.8.7"
    assert "informationUri" not in driver
    assert [rule["id"] for rule in driver["rules"]] == list(CODES)
    for rule in driver["rules"]:
        entry = CODES[rule["id"]]
        assert rule["shortDescription"] == {"text": entry.meaning}
        assert rule["defaultConfiguration"] == {"level": entry.severity.value}
    assert run["results"] == []


def test_sarif_result_fields() -> None:
    declared = Note("declared here", Span(FILE, 2, 3, 2, 7))
    found = [
        diagnostic(12, 5, 12, 9, hint="convert first", notes=(declared,)),
        diagnostic(3, 1, 3, 4, file="sub dir\\w.rules", code="unused", severity=Severity.WARNING),
        diagnostic(0, 0, 0, 0, file="rules/empty", code="no-rules", message="no .rules files"),
    ]
    log = sarif(found)
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    by_rule = {result["ruleId"]: result for result in run["results"]}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]

    error = by_rule["unit-mismatch"]
    assert error["level"] == "error"
    assert error["message"]["text"] == "cannot compare temperature with pressure\nhint: convert first"
    [location] = error["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": FILE},
        "region": {"startLine": 12, "startColumn": 5, "endLine": 12, "endColumn": 9},
    }
    [related] = error["relatedLocations"]
    assert related["message"] == {"text": "declared here"}
    assert related["physicalLocation"]["region"]["startLine"] == 2

    warning = by_rule["unused"]
    assert warning["level"] == "warning"
    assert warning["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "sub%20dir/w.rules"

    whole_file = by_rule["no-rules"]["locations"][0]["physicalLocation"]
    assert whole_file == {"artifactLocation": {"uri": "rules/empty"}}


# --- Every format: the same input in any order gives the same bytes ----------------------


@pytest.mark.parametrize(
    "render",
    [
        lambda found: render_text(found, sources((FILE, "x\ny\nz\n"))),
        render_json,
        render_github,
        lambda found: render_sarif(found, tool_version="0.1.0"),
    ],
    ids=["text", "json", "github", "sarif"],
)
def test_output_is_deterministic(render: object) -> None:
    found = [
        diagnostic(3, 1, 3, 2),
        diagnostic(1, 1, 1, 2, code="unused", severity=Severity.WARNING),
        diagnostic(1, 1, 1, 2, code="syntax", message="a"),
        diagnostic(1, 1, 1, 2, code="syntax", message="b"),
        diagnostic(0, 0, 0, 0, code="empty-file", severity=Severity.WARNING),
    ]
    assert callable(render)
    outputs = {render(list(order)) for order in itertools.permutations(found)}
    assert len(outputs) == 1
