"""`hpdsl diff OLD NEW`: changes between two versions of the shipped rules, reported in engineering terms.

Each case copies the shipped rules twice, edits the copy the way a pull request would, and
asserts the exact lines the command reports (locations found in the edited text, not counted
by hand). Most edits share one pair of packages so that the shipped rules are checked only a
few times.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hpdsl import cli
from hpdsl.language import nodes as n
from hpdsl.tools.diff.compare import magnitude, moved, word_diff

ROW_NOTE = "(rows match top to bottom: the first row whose key cell contains the key applies)"


def copy_rules(repo_root: Path, to: Path) -> None:
    to.mkdir(parents=True)
    for path in sorted((repo_root / "rules").glob("*.rules")):
        shutil.copy(path, to / path.name)


def _pattern(text: str) -> re.Pattern[str]:
    """`text` with any whitespace between its words: the shipped files' layout is the formatter's."""
    return re.compile(r"\s+".join(re.escape(word) for word in text.split()))


def edit(path: Path, old: str, new: str) -> None:
    """Replace text that occurs exactly once, so that an edit never lands in the wrong place."""
    text = path.read_text(encoding="utf-8")
    found = list(_pattern(old).finditer(text))
    assert len(found) == 1, f"{old!r} occurs {len(found)} times in {path}"
    path.write_text(text[: found[0].start()] + new + text[found[0].end() :], encoding="utf-8")


def swap_lines(path: Path, first: str, second: str) -> None:
    """Swap the line holding `first` with the line holding `second`."""
    lines = path.read_text(encoding="utf-8").split("\n")
    a, b = (_line_index(path, lines, needle) for needle in (first, second))
    lines[a], lines[b] = lines[b], lines[a]
    path.write_text("\n".join(lines), encoding="utf-8")


def _line_index(path: Path, lines: list[str], needle: str) -> int:
    found = [i for i, line in enumerate(lines) if _pattern(needle).search(line)]
    assert len(found) == 1, f"{needle!r} is on lines {[i + 1 for i in found]} of {path}"
    return found[0]


def line_of(path: Path, needle: str) -> str:
    """`path:line` of the one line that contains `needle`, as the diff names it."""
    index = _line_index(path, path.read_text(encoding="utf-8").split("\n"), needle)
    return f"{path.parent.name}/{path.name}:{index + 1}"


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def diff(capsys: pytest.CaptureFixture[str], *argv: str) -> Outcome:
    code = cli.main(["diff", *argv])
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


# --------------------------------------------------------------------------- one pull request
ALARM = """alarm very_high_discharge_temp "L2: far above the limit: stop the compressor."
        cites L2 priority 5
        when discharge_temp > high_discharge_temp_limit + 20 K
        severity critical
        delay 5 s
        action
            compressor_permissive = false
    end

    """


@dataclass
class PullRequest:
    old: Path
    new: Path
    text: str
    markdown: str
    json: dict[str, object]
    code: int
    exit_code: int


@pytest.fixture(scope="module")
def pull_request(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PullRequest]:
    """The shipped rules and a copy with the edits of one review-sized change."""
    root = tmp_path_factory.mktemp("pr")
    old, new = root / "old", root / "new"
    copy_rules(repo_root, old)
    copy_rules(repo_root, new)
    edit(new / "changeover.rules", "parameter cooling_above: C = 21C", "parameter cooling_above: C = 22C")
    edit(new / "alarms.rules", "alarm high_refrigerant_pressure", ALARM + "alarm high_refrigerant_pressure")
    edit(
        new / "defrost.rules",
        "when not compressor_permissive -> CoolDown",
        "when not compressor_permissive or not compressor_running -> CoolDown",
    )
    swap_lines(new / "regimes.rules", "| -5C .. 5C | Cold |", "| 5C .. 15C | Mild |")
    edit(new / "regimes.rules", "| > 15C | Cool | 3.5 | 4.5 |", "| > 15C | Cool | 3.5 | 5.0 |")
    edit(
        new / "defrost.rules",
        'state CoolDown "Cool-down',
        'state Fault "Held after a failure."\n            when compressor_permissive -> Idle\n'
        '        end\n\n        state CoolDown "Cool-down',
    )
    edit(
        new / "defrost.rules",
        "when defrost_request -> Defrosting cites D4, Q3",
        "when defrost_request -> Defrosting cites D4, Q3\n            after 1 h -> Fault",
    )
    # An output removed together with the statement that set it.
    edit(
        new / "changeover.rules",
        'output economizer_enable: bool = false "Release of the economizer (free cooling) in Cooling mode'
        ' while the compressor is locked out." cites Q1, R1',
        "",
    )
    edit(
        new / "changeover.rules",
        "economizer_enable = system_mode == Cooling and not too_warm_to_economize",
        "",
    )
    edit(
        new / "changeover.rules",
        'follow the mode, or the defrost." cites P1, P2, D5',
        'follow the mode, or the defrost." cites P1, P2, V1',
    )
    edit(
        new / "requirements.rules",
        'requirement P3 "',
        'requirement V1 "Reversing valve position shown"\nrequirement P3 "',
    )
    edit(
        new / "changeover.rules",
        '"Heating is selected when the outdoor temperature falls below this."',
        '"Heating is selected when the outdoor air temperature falls below this value."',
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        text = run_quietly(["diff", "old", "new"])
        markdown = run_quietly(["diff", "old", "new", "--format", "markdown"])
        as_json = run_quietly(["diff", "old", "new", "--format", "json"])
        exit_code = cli.main(["diff", "old", "new", "--exit-code", "--format", "json"])
    yield PullRequest(old, new, text[1], markdown[1], json.loads(as_json[1]), text[0], exit_code)


def run_quietly(argv: list[str]) -> tuple[int, str]:
    """Run the CLI and return its exit code and stdout (module fixtures cannot use capsys)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(argv)
    return code, out.getvalue()


def lines_of(text: str, group: str) -> list[str]:
    """The change lines under one group heading of the text report."""
    lines = text.split("\n")
    start = lines.index(group) + 1
    end = start
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    return lines[start:end]


def test_a_changed_parameter_default_says_how_far_it_moved(pull_request: PullRequest) -> None:
    where = line_of(pull_request.new / "changeover.rules", "parameter cooling_above")
    assert (
        f"  parameter `cooling_above`: default `21C` -> `22C` (raised by 1 K)  [{where}; cites C1]"
        in lines_of(pull_request.text, "program Changeover")
    )


def test_an_added_alarm_is_reported_with_its_severity_condition_and_citations(
    pull_request: PullRequest,
) -> None:
    where = line_of(pull_request.new / "alarms.rules", "alarm very_high_discharge_temp")
    assert lines_of(pull_request.text, "program EquipmentProtection") == [
        "  alarm `very_high_discharge_temp`: added (severity critical,"
        f" when `discharge_temp > high_discharge_temp_limit + 20 K`)  [{where}; cites L2]"
    ]


def test_state_machine_guard_state_and_transition_changes(pull_request: PullRequest) -> None:
    defrost = pull_request.new / "defrost.rules"
    assert lines_of(pull_request.text, "program DefrostControl") == [
        "  machine `defrost_sequence`, state `Idle`: transition `after 1 h -> Fault` added at position 2"
        f"  [{line_of(defrost, 'after 1 h -> Fault')}; cites D5, D6, D7, D8]",
        "  machine `defrost_sequence`, state `Defrosting`: guard of the transition to `CoolDown` changed:"
        " `not compressor_permissive` -> `not compressor_permissive or not compressor_running`"
        f"  [{line_of(defrost, 'or not compressor_running')}; cites D5, D6]",
        "  machine `defrost_sequence`, state `Fault`: added, with 1 transition:"
        f" `when compressor_permissive -> Idle`  [{line_of(defrost, 'state Fault')}; cites D5, D6, D7, D8]",
    ]


def test_a_moved_table_row_and_a_changed_cell(pull_request: PullRequest) -> None:
    regimes = pull_request.new / "regimes.rules"
    cites = "cites R1, R2, R3, R4"
    assert lines_of(pull_request.text, "table operating_regime") == [
        f"  table `operating_regime`: row `5C .. 15C` moved from position 3 to 2 {ROW_NOTE}"
        f"  [{line_of(regimes, '| 5C .. 15C')}; {cites}]",
        "  table `operating_regime`: row `> 15C`: `cop_high` `4.5` -> `5.0` (raised by 0.5)"
        f"  [{line_of(regimes, '| > 15C')}; {cites}]",
    ]


def test_a_removed_output_is_located_in_old(pull_request: PullRequest) -> None:
    old = pull_request.old / "changeover.rules"
    lines = lines_of(pull_request.text, "program Changeover")
    where = line_of(old, "output economizer_enable")
    assert f"  output `economizer_enable`: removed  [was {where}; cited Q1, R1]" in lines
    assert (
        "  rule `select_cooling_source`: statement"
        " `economizer_enable = system_mode == Cooling and not too_warm_to_economize` removed"
        f"  [was {line_of(old, 'economizer_enable =')}; cited Q1, R1]"
    ) in lines


def test_changed_citations_and_documentation_are_not_behaviour(pull_request: PullRequest) -> None:
    changeover = pull_request.new / "changeover.rules"
    assert lines_of(pull_request.text, "program ReversingValve") == [
        "  rule `follow_mode`: now also cites V1; no longer cites D5"
        f"  [{line_of(changeover, 'rule follow_mode')}; cites P1, P2, V1]"
    ]
    assert (
        "  parameter `heating_below`: documentation changed: … selected when the outdoor {+air+} temperature"
        " falls below [-this.-] {+this value.+}"
        f"  [{line_of(changeover, 'outdoor air temperature falls')}; cites C2]"
    ) in lines_of(pull_request.text, "program Changeover")
    where = line_of(pull_request.new / "requirements.rules", "requirement V1")
    assert lines_of(pull_request.text, "requirement V1") == [
        f'  requirement `V1`: added ("Reversing valve position shown")  [{where}]'
    ]
    assert pull_request.text.endswith(
        "\n\n12 changes: 9 in behaviour, 3 in documentation, citations or requirements\n"
    )


def test_groups_follow_the_order_of_the_new_package(pull_request: PullRequest) -> None:
    headings = [line for line in pull_request.text.split("\n") if line and not line.startswith(" ")]
    # Files in name order (alarms, changeover, defrost, regimes, requirements), items in file order.
    assert headings[:-1] == [
        "program EquipmentProtection",
        "program Changeover",
        "program ReversingValve",
        "program DefrostControl",
        "table operating_regime",
        "requirement V1",
    ]


def test_markdown_has_a_heading_per_construct_bullets_and_a_table_of_rows(pull_request: PullRequest) -> None:
    markdown = pull_request.markdown
    assert markdown.startswith("## Rules changes\n\n12 changes: 9 in behaviour, 3 in documentation")
    assert (
        "\n### program `Changeover`\n\n- parameter `cooling_above`: default `21C` → `22C` (raised by 1 K) (`"
        in markdown
    )
    table = markdown[markdown.index("### table `operating_regime`") :]
    assert (
        "| change | `outdoor` | `regime` | `cop_low` | `cop_high` |\n"
        "|---|---|---|---|---|\n"
        "| row moved from 3 to 2 | `5C .. 15C` | `Mild` | `3.0` | `3.5` |\n"
        "| row changed | `> 15C` | `Cool` | `3.5` | `4.5` → **`5.0`** |\n"
    ) in table
    # Documentation: both texts as written, in a collapsed block; no word-diff markup in Markdown.
    assert (
        "<details><summary>parameter <code>heating_below</code>: documentation before and after</summary>"
        in markdown
    )
    assert "```text\nHeating is selected when the outdoor temperature falls below this.\n```" in markdown
    assert "{+" not in markdown


def test_json_lists_every_change_with_location_and_citations(pull_request: PullRequest) -> None:
    changes = pull_request.json["changes"]
    assert isinstance(changes, list)
    assert len(changes) == 12
    cooling = next(c for c in changes if c["subject"] == "parameter `cooling_above`")
    assert cooling["change"] == "default `21C` -> `22C` (raised by 1 K)"
    assert cooling["cites"] == ["C1"] and cooling["behaviour"] is True and cooling["removed"] is False
    row = next(c for c in changes if "row" in c and c["row"]["status"] == "changed")
    assert row["row"]["cells"]["cop_high"] == {"old": "4.5", "new": "5.0"}


def test_exit_code_is_0_with_differences_and_1_with_exit_code_option(pull_request: PullRequest) -> None:
    assert pull_request.code == 0
    assert pull_request.exit_code == 1


# --------------------------------------------------------------------------- small pairs
@pytest.fixture
def pair(repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.chdir(tmp_path)
    copy_rules(repo_root, tmp_path / "old")
    copy_rules(repo_root, tmp_path / "new")
    return tmp_path / "old", tmp_path / "new"


def test_layout_and_comments_are_no_change(
    pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, new = pair
    edit(
        new / "changeover.rules",
        "    parameter heating_below: C = 15C range 5C .. 16C\n",
        "    # the heating limit\n    parameter   heating_below :C= 15.0C\n"
        "        range 5 C..16C # site may lower it\n",
    )
    edit(
        new / "regimes.rules",
        "| -5C .. 5C | Cold | 2.0 | 3.0 |",
        "| -5C..5C | Cold | 2.00 | 3.0 |  # colder band",
    )
    edit(
        new / "changeover.rules",
        '"Heating is selected when the outdoor temperature falls below this."',
        '"""Heating is selected when the outdoor\n        temperature falls below this."""',
    )
    outcome = diff(capsys, "old", "new", "--exit-code")
    assert (outcome.code, outcome.out, outcome.err) == (
        0,
        "no change in behaviour (layout and comments are not compared)\n",
        "",
    )


def test_changes_inside_if_branches_and_renamed_rules(
    pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, new = pair
    edit(new / "occupancy.rules", "rule apply_schedule ", "rule follow_schedule ")
    edit(
        new / "regimes.rules",
        "            regime_key = min(outdoor_temp, heating_regime_limit)",
        "            regime_key = min(outdoor_temp, heating_regime_limit - 1 K)",
    )
    outcome = diff(capsys, "old", "new")
    regimes, occupancy = new / "regimes.rules", new / "occupancy.rules"
    assert outcome.out.split("\n")[:4] == [
        "program Occupancy",
        "  rule `apply_schedule`: renamed to `follow_schedule`, otherwise unchanged"
        f"  [{line_of(occupancy, 'rule follow_schedule')}; cites Q6, D9]",
        "program OperatingRegime",
        "  rule `classify`: in the `if system_mode == Heating` branch: statement"
        " `regime_key = min(outdoor_temp, heating_regime_limit)` ->"
        " `regime_key = min(outdoor_temp, heating_regime_limit - 1 K)`"
        f"  [{line_of(regimes, 'heating_regime_limit - 1 K')}; cites R1, R2, R3, R4, W1, G1, M9]",
    ]


def test_errors_in_one_side_are_printed_and_nothing_is_compared(
    pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, new = pair
    edit(new / "changeover.rules", "parameter cooling_above: C = 21C", "parameter cooling_above: C = 21 bar")
    where = line_of(new / "changeover.rules", "parameter cooling_above")
    outcome = diff(capsys, "old", "new", "--format", "markdown")
    assert outcome.code == 1
    assert outcome.out == ""
    assert f"{where}:" in outcome.err
    assert "[unit-mismatch]" in outcome.err or "error:" in outcome.err
    assert outcome.err.endswith(
        "hpdsl diff: NEW has errors, nothing compared;"
        " fix them first (`hpdsl check` shows the same diagnostics)\n"
    )
    assert "Traceback" not in outcome.err


def test_a_missing_path_is_a_usage_error(pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    outcome = diff(capsys, "old", "nowhere")
    assert outcome.code == 2
    assert outcome.err == "hpdsl diff: error: no such file or folder: `nowhere`\n"


def test_single_files_can_be_compared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.rules").write_text(
        "enum Mode (Heating, Cooling)\nconst limit: C = 21C\n", encoding="utf-8"
    )
    (tmp_path / "b.rules").write_text(
        "enum Mode (Heating, Cooling, Auto)\nconst limit: C = 72F\n", encoding="utf-8"
    )
    outcome = diff(capsys, "a.rules", "b.rules")
    assert outcome.out == (
        "enum Mode\n"
        "  enum `Mode`: member `Auto` added  [b.rules:1]\n"
        "const limit\n"
        "  const `limit`: value `21C` -> `72F` (raised by 2.2 delta_F)  [b.rules:2]\n"
        "\n"
        "2 changes: 2 in behaviour\n"
    )
    again = diff(capsys, "a.rules", "b.rules")
    assert again.out == outcome.out


# --------------------------------------------------------------------------- pieces
def quantity(value: float, unit: str) -> n.Quantity:
    return n.Quantity(value=value, unit=unit, text=f"{value}{unit}")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (quantity(21, "C"), quantity(22, "C"), " (raised by 1 K)"),
        (quantity(30, "s"), quantity(2, "min"), " (longer by 90 s)"),
        (quantity(90, "min"), quantity(1, "h"), " (shorter by 30 min)"),
        (quantity(60, "%"), quantity(60, "%"), " (the same value)"),
        (quantity(21, "C"), quantity(69.8, "F"), " (the same value)"),
        (quantity(5, "K"), quantity(5, "bar"), ""),
        (
            n.Number(value=1.0, text="1.0", is_integer=False),
            n.Number(value=0.5, text="0.5", is_integer=False),
            " (lowered by 0.5)",
        ),
        (n.Unary(op="-", operand=quantity(5, "C")), quantity(3, "C"), " (raised by 8 K)"),
        (n.Name(name="x"), quantity(3, "C"), ""),
    ],
)
def test_magnitude(old: n.Expr, new: n.Expr, expected: str) -> None:
    assert magnitude(old, new) == expected


def test_moved_keeps_the_longest_ordered_run() -> None:
    # Row 3 moved to the top: only it moved, not the two it passed.
    assert moved([(2, 0), (0, 1), (1, 2), (3, 3)]) == {0}
    assert moved([(0, 0), (1, 1)]) == set()
    assert moved([(1, 0), (0, 1)]) in ({0}, {1})


def test_word_diff_shows_changed_words_with_context() -> None:
    assert word_diff("a b c d e f g h i j", "a b c d X f g h i j", context=2) == "… c d [-e-] {+X+} f g …"
    assert word_diff("one two", "one two three") == "one two {+three+}"


def test_curves_alarms_schedules_totalizers_and_enumerations(
    pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, new = pair
    edit(new / "aux_heat.rules", "| -10C | 40 % |", "| -10C | 45 % |")
    edit(new / "aux_heat.rules", "| -5C | 60 % |", "| -5C | 60 % |\n    | 0C | 80 % |")
    edit(new / "occupancy.rules", "monday .. friday 14:00 .. 16:00", "monday .. friday 14:00 .. 17:00")
    edit(
        new / "monitoring.rules",
        "totalizer aux_runtime_today: h of aux_stage_1 or aux_stage_2 or backup_heat_enable per day",
        "totalizer aux_runtime_today: h of aux_stage_1 or aux_stage_2",
    )
    edit(new / "defrost.rules", "severity low delay 2 min", "severity medium delay 90 s")
    edit(
        new / "plant.rules",
        "enum SourceType (Air, WaterLoop, Ground)",
        "enum SourceType (Air, Ground, WaterLoop)",
    )
    edit(
        new / "alarms.rules",
        "when compressor_current > high_current_limit severity critical delay 5 s"
        " latching acknowledge alarm_reset",
        "when compressor_current > high_current_limit severity critical delay 5 s",
    )
    out = diff(capsys, "old", "new").out
    alarms, aux = line_of(new / "alarms.rules", "alarm compressor_high_current"), new / "aux_heat.rules"
    assert lines_of(out, "program EquipmentProtection") == [
        f"  alarm `compressor_high_current`: no longer latching  [{alarms}; cites L5]",
        f"  alarm `compressor_high_current`: acknowledge `alarm_reset` removed  [{alarms}; cites L5]",
    ]
    curve_cites = "cites K1, A1, A2, A3, A4"
    assert lines_of(out, "curve hp_capacity_fraction") == [
        "  curve `hp_capacity_fraction`: point at `-10C`: `40 %` -> `45 %` (raised by 5 %)"
        f"  [{line_of(aux, '| -10C | 45 % |')}; {curve_cites}]",
        "  curve `hp_capacity_fraction`: point `| 0C | 80 % |` added"
        f"  [{line_of(aux, '| 0C | 80 % |')}; {curve_cites}]",
    ]
    defrost = new / "defrost.rules"
    assert lines_of(out, "program DefrostControl") == [
        "  alarm `defrost_comfort_loss`: severity `low` -> `medium`"
        f"  [{line_of(defrost, 'severity medium')}; cites D9]",
        "  alarm `defrost_comfort_loss`: delay `2 min` -> `90 s` (shorter by 30 s)"
        f"  [{line_of(defrost, 'delay 90 s')}; cites D9]",
    ]
    totalizer = line_of(new / "monitoring.rules", "totalizer aux_runtime_today")
    assert lines_of(out, "program PerformanceTracking") == [
        "  totalizer `aux_runtime_today`: source `aux_stage_1 or aux_stage_2 or backup_heat_enable` ->"
        f" `aux_stage_1 or aux_stage_2`  [{totalizer}; cites M8]",
        f"  totalizer `aux_runtime_today`: reset `per day` -> `never reset`  [{totalizer}; cites M8]",
    ]
    assert lines_of(out, "program Occupancy") == [
        "  schedule `peak_hours`: period `monday .. friday 14:00 .. 17:00` added"
        f"  [{line_of(new / 'occupancy.rules', '14:00 .. 17:00')}; cites D9]",
        "  schedule `peak_hours`: period `monday .. friday 14:00 .. 16:00` removed"
        f"  [was {line_of(pair[0] / 'occupancy.rules', '14:00 .. 16:00')}; cited D9]",
    ]
    assert lines_of(out, "enum SourceType") == [
        "  enum `SourceType`: member order `Air, WaterLoop, Ground` -> `Air, Ground, WaterLoop`"
        f"  [{line_of(new / 'plant.rules', 'enum SourceType')}; cites P3, W1, G1]"
    ]
