"""Scenario files and `hpdsl test`: the parser, the runner's semantics, and the command line.

The parser tests read scenario text into `hpdsl.tools.testing.scenario` data and check every construct of
`grammar/scenario.lark` and every diagnostic the reader adds. The runner tests write a small
rules package and a scenario file beside it into a temporary folder and run them with
`hpdsl.tools.testing.runner.run_paths` or `hpdsl.cli.main`, asserting the outcome of each scenario and the
exact text of failures, as `docs/testing.md` describes them.
"""

from __future__ import annotations

import datetime
import json
import re
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from hpdsl import cli
from hpdsl.base.source import SourceFile
from hpdsl.tools.testing import runner as testing
from hpdsl.tools.testing import scenario as sc


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# =============================================================================== parser


def parse(text: str) -> sc.ScenarioFile:
    return sc.parse_scenarios(SourceFile("t.scenario", dedent(text)))


def parse_one(text: str) -> sc.Scenario:
    parsed = parse(text)
    assert [d.message for d in parsed.diagnostics] == []
    assert len(parsed.scenarios) == 1
    return parsed.scenarios[0]


def problems(text: str) -> list[tuple[str, int, int, str]]:
    """(code, line, column, message) of every diagnostic of the text."""
    parsed = parse(text)
    return [(d.code, d.span.line, d.span.column, d.message) for d in parsed.diagnostics]


def actions(text: str) -> list[sc.Action]:
    """The actions of the one block of a one-scenario text."""
    scenario = parse_one(text)
    assert len(scenario.blocks) == 1
    return list(scenario.blocks[0].actions)


def test_settings_are_read() -> None:
    scenario = parse_one(
        """
        scenario dead_band "The mode holds in the dead band" cites C1, C2
            program Changeover
            step 1 min
            start 2024-03-04 06:30
            until 10 h
            parameter cooling_above = 22C
            parameter Changeover.hold_time = 2 h
            parameters "site.toml"
            at 0 s
                set outdoor_temp = 10C
        end
        """
    )
    assert scenario.name == "dead_band"
    assert scenario.title == "The mode holds in the dead band"
    assert [(name, span.line, span.column) for name, span in scenario.cites] == [("C1", 1, 60), ("C2", 1, 64)]
    assert scenario.program == "Changeover"
    assert scenario.step_s == 60.0
    assert scenario.start == datetime.datetime(2024, 3, 4, 6, 30)
    assert scenario.until_s == 36000.0
    assert scenario.end_s == 36000.0
    first, second = scenario.parameters
    assert (first.path.program, first.path.name) == (None, "cooling_above")
    assert (first.value.kind, first.value.number, first.value.unit) == ("quantity", 22.0, "C")
    assert (second.path.program, second.path.name, str(second.path)) == (
        "Changeover",
        "hold_time",
        "Changeover.hold_time",
    )
    assert (second.value.number, second.value.unit) == (2.0, "h")
    assert [name for name, _ in scenario.parameter_files] == ["site.toml"]
    assert (scenario.span.line, scenario.span.column) == (1, 10)


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        ("    step 0.000001 s\n    until 1e308 s\n", 4),
        ("    step 1 s\n    until 100 d\n", 4),  # 8.64 million scans
        ("    step 1 s\n", 3),  # no `until`: the last time a block names; reported at the step
    ],
    ids=["1e308-s", "100-days-at-1-s", "a-block-at-1e300-s"],
)
def test_a_scenario_runs_a_bounded_number_of_scans(settings: str, line: int) -> None:
    text = 'scenario s "long"\n    program P\n' + settings + "    at 1e300 s\n        set x = 1\nend\n"
    if "until" in settings:
        text = text.replace("    at 1e300 s\n", "    at 0 s\n")
    found = problems(text)
    assert len(found) == 1
    code, at_line, _, message = found[0]
    assert code == "scenario-structure" and "a scenario is limited to 5,256,000" in message
    assert at_line == line
    assert parse_one('scenario s "a year"\n    program P\n    step 1 min\n    until 365 d\nend\n').until_s


def test_defaults_when_nothing_is_set() -> None:
    scenario = parse_one(
        """
        scenario plain
            at 5 min
                expect echo == 10C
            during 1 min .. 7 min
                expect echo == 10C
        end
        """
    )
    assert scenario.title == ""
    assert scenario.cites == ()
    assert scenario.program is None  # the whole package
    assert scenario.step_s == 1.0
    assert scenario.start == datetime.datetime(2024, 1, 1, 0, 0)
    assert scenario.start.weekday() == 0  # a Monday
    assert scenario.until_s is None
    assert scenario.end_s == 420.0  # the latest time a block names


def test_package_setting_runs_the_whole_package() -> None:
    scenario = parse_one(
        """
        scenario whole
            package
            at 0 s
                set outdoor_raw = 10C
        end
        """
    )
    assert scenario.program is None


def test_start_without_time_of_day_is_midnight() -> None:
    scenario = parse_one("scenario s start 2024-06-15 at 0 s set x = 1 end")
    assert scenario.start == datetime.datetime(2024, 6, 15, 0, 0)


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("90 s", 90.0),
        ("10 min", 600.0),
        ("1 h 30 min", 5400.0),
        ("1 h 1 min 1 s", 3661.0),
        ("2 d", 172800.0),
        ("1.5 h", 5400.0),
        ("500 ms", 0.5),
        ("30min 30s", 1830.0),
    ],
)
def test_times_are_summed_to_seconds(written: str, seconds: float) -> None:
    scenario = parse_one(f"scenario s\n    at {written}\n        set x = 1\nend\n")
    (block,) = scenario.blocks
    assert (block.kind, block.time_s, block.first_s, block.last_s) == ("at", seconds, seconds, seconds)


@pytest.mark.parametrize("plus_minus", ["±", "+/-"])
def test_at_with_a_time_tolerance_is_a_window(plus_minus: str) -> None:
    scenario = parse_one(f"scenario s\n    at 10 min {plus_minus} 30 s\n        expect x == 1\nend\n")
    (block,) = scenario.blocks
    assert (block.kind, block.time_s, block.first_s, block.last_s) == ("at", 600.0, 570.0, 630.0)


def test_a_window_does_not_reach_before_time_0() -> None:
    scenario = parse_one("scenario s at 1 min ± 5 min expect x == 1 end")
    (block,) = scenario.blocks
    assert (block.first_s, block.last_s) == (0.0, 360.0)


def test_during_block() -> None:
    scenario = parse_one("scenario s\n    during 1 h 30 min .. 3 h\n        expect x unchanged\nend\n")
    (block,) = scenario.blocks
    assert (block.kind, block.time_s, block.first_s, block.last_s) == ("during", 5400.0, 5400.0, 10800.0)
    assert isinstance(block.actions[0], sc.ExpectUnchanged)


def test_set_values_of_every_kind() -> None:
    found = actions(
        """
        scenario s
            at 0 s
                set a = 21C
                set b = -5C
                set c = 0.75
                set d = -2
                set e = true
                set f = false
                set g = Cooling
                set h = fault
                set Program.i = 2.5 kW
                set j = 1.5e3 W
        end
        """
    )
    assert all(isinstance(a, sc.Set) for a in found)
    shown = [(str(a.path), a.value.kind, a.value.number, a.value.unit, a.value.member) for a in found]  # type: ignore[union-attr]
    assert shown == [
        ("a", "quantity", 21.0, "C", ""),
        ("b", "quantity", -5.0, "C", ""),
        ("c", "number", 0.75, "", ""),
        ("d", "number", -2.0, "", ""),
        ("e", "bool", 1.0, "", ""),
        ("f", "bool", 0.0, "", ""),
        ("g", "member", 0.0, "", "Cooling"),
        ("h", "fault", 0.0, "", ""),
        ("Program.i", "quantity", 2.5, "kW", ""),
        ("j", "quantity", 1500.0, "W", ""),
    ]


def test_ramp_and_oscillate() -> None:
    ramp, oscillate = actions(
        """
        scenario s
            at 1 h
                ramp outdoor_temp to 18C over 30 min
                oscillate outdoor_temp between 14C and 22C period 2 h
        end
        """
    )
    assert isinstance(ramp, sc.Ramp)
    assert (ramp.path.name, ramp.target.number, ramp.target.unit, ramp.over_s) == (
        "outdoor_temp",
        18.0,
        "C",
        1800.0,
    )
    assert isinstance(oscillate, sc.Oscillate)
    assert (oscillate.low.number, oscillate.high.number, oscillate.period_s) == (14.0, 22.0, 7200.0)


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_expect_comparisons(op: str) -> None:
    (expect,) = actions(f"scenario s at 0 s expect cop {op} 3.2 end")
    assert isinstance(expect, sc.ExpectValue)
    assert (expect.path.name, expect.op, expect.value.number, expect.tolerance) == ("cop", op, 3.2, None)


def test_expect_with_value_tolerances() -> None:
    first, second = actions(
        """
        scenario s
            at 0 s
                expect cop == 3.2 ± 0.05
                expect supply_temp >= 45C +/- 0.5 K
        end
        """
    )
    assert isinstance(first, sc.ExpectValue) and isinstance(second, sc.ExpectValue)
    assert first.tolerance is not None and (first.tolerance.kind, first.tolerance.number) == ("number", 0.05)
    assert second.tolerance is not None
    assert (second.op, second.tolerance.number, second.tolerance.unit) == (">=", 0.5, "K")


def test_unchanged_and_changes() -> None:
    unchanged, changes = actions(
        """
        scenario s
            during 3 h .. 9 h
                expect system_mode unchanged
                expect system_mode changes <= 5
        end
        """
    )
    assert isinstance(unchanged, sc.ExpectUnchanged) and unchanged.path.name == "system_mode"
    assert isinstance(changes, sc.ExpectChanges)
    assert (changes.op, changes.count) == ("<=", 5)


@pytest.mark.parametrize("state", ["active", "inactive", "raised", "cleared"])
def test_alarm_states(state: str) -> None:
    (expect,) = actions(f"scenario s at 0 s expect alarm Defrost.defrost_timeout {state} end")
    assert isinstance(expect, sc.ExpectAlarm)
    assert (str(expect.path), expect.state) == ("Defrost.defrost_timeout", state)


def test_log_with_fields_and_no_log() -> None:
    plain, fields, absent = actions(
        """
        scenario s
            at 0 s
                expect log defrost_started
                expect log defrost_completed with timed_out = true, duration = 15 min ± 1 min
                expect no log defrost_completed
        end
        """
    )
    assert isinstance(plain, sc.ExpectLog) and (plain.present, plain.fields) == (True, ())
    assert isinstance(fields, sc.ExpectLog) and fields.present
    timed_out, duration = fields.fields
    assert (timed_out.name, timed_out.value.kind, timed_out.tolerance) == ("timed_out", "bool", None)
    assert (duration.name, duration.value.number, duration.value.unit) == ("duration", 15.0, "min")
    assert duration.tolerance is not None and (duration.tolerance.number, duration.tolerance.unit) == (
        1.0,
        "min",
    )
    assert isinstance(absent, sc.ExpectLog)
    assert (absent.path.name, absent.present, absent.fields) == ("defrost_completed", False, ())


def test_trace_rows_become_at_blocks() -> None:
    scenario = parse_one(
        """
        scenario s
            trace
                | time   | outdoor_temp | Other.flag | expect system_mode | expect cop ± 0.05 |
                | 0 min  | 10C          | true       | Heating            | -                 |
                | 30 min | -            | -          | -                  | 3.1               |
                | 1 h    | fault        | false      | Cooling            | 0                 |
            end
        end
        """
    )
    assert [(b.kind, b.time_s, b.first_s, b.last_s) for b in scenario.blocks] == [
        ("at", 0.0, 0.0, 0.0),
        ("at", 1800.0, 1800.0, 1800.0),
        ("at", 3600.0, 3600.0, 3600.0),
    ]
    first, second, third = (list(b.actions) for b in scenario.blocks)
    assert [type(a).__name__ for a in first] == ["Set", "Set", "ExpectValue"]
    assert [str(a.path) for a in first] == ["outdoor_temp", "Other.flag", "system_mode"]
    # A `-` leaves the cell out; an `expect` column compares with == and its tolerance.
    (cop,) = second
    assert isinstance(cop, sc.ExpectValue)
    assert (cop.path.name, cop.op, cop.value.number) == ("cop", "==", 3.1)
    assert cop.tolerance is not None and cop.tolerance.number == 0.05
    fault = third[0]
    assert isinstance(fault, sc.Set) and fault.value.kind == "fault"
    # Each cell keeps its own place for the report.
    assert (cop.span.line, cop.span.column) == (5, 69)
    assert scenario.end_s == 3600.0


def test_several_scenarios_comments_and_free_layout() -> None:
    parsed = parse(
        """
        # Two scenarios; newlines carry no meaning.
        scenario one "first" at 0 s set x = 1 expect y == 2 end   # all on one line
        scenario two
            # a comment line
            at 0 s
                expect
                    y
                    == 2
        end
        """
    )
    assert parsed.diagnostics == []
    assert [s.name for s in parsed.scenarios] == ["one", "two"]
    assert [s.span.line for s in parsed.scenarios] == [2, 3]


def test_an_empty_file_has_no_scenarios() -> None:
    parsed = parse("# nothing here yet\n")
    assert (parsed.scenarios, parsed.diagnostics) == ([], [])


# --- syntax errors


def test_missing_end_is_a_syntax_error_at_the_end_of_the_text() -> None:
    parsed = parse("scenario a\n    at 0 s\n        set x = 1\n")
    (diagnostic,) = parsed.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("syntax", 3, 18)
    assert diagnostic.message.startswith("the file ends too early; expected ")
    assert "`end`" in diagnostic.message
    assert diagnostic.hint == "every scenario ends with `end`"
    assert parsed.scenarios == []


def test_single_equals_in_expect_is_a_syntax_error_with_a_hint() -> None:
    parsed = parse("scenario a\n    at 0 s\n        expect x = 1\nend\n")
    (diagnostic,) = parsed.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("syntax", 3, 18)
    assert diagnostic.message.startswith("unexpected `=`; expected ")
    assert diagnostic.hint is not None and "`==`" in diagnostic.hint


def test_a_time_without_unit_is_a_syntax_error_with_a_hint() -> None:
    parsed = parse("scenario a\n    at 10\nend\n")
    (diagnostic,) = parsed.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("syntax", 2, 8)
    assert diagnostic.message == "unexpected `10`; expected a quantity (21C, 10 min)"
    assert diagnostic.hint == "a time needs its unit: `at 10 min`, `step 1 s`"


def test_a_setting_after_a_block_is_a_syntax_error() -> None:
    assert [p[:3] for p in problems("scenario a\n    at 0 s\n        set x = 1\n    step 1 s\nend\n")] == [
        ("syntax", 4, 5)
    ]


def test_an_unknown_character_is_reported_where_it_stands() -> None:
    assert problems("scenario a\n    at 0 s\n        expect x == 1 $\nend\n") == [
        ("invalid-character", 3, 23, "character '$' has no meaning here")
    ]


# --- structural errors


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        pytest.param(
            "scenario a\n    step 1 s\n    step 2 s\nend\n",
            3,
            5,
            "`step` is given twice in this scenario",
            id="step-twice",
        ),
        pytest.param(
            "scenario a\n    until 1 h\n    until 2 h\nend\n",
            3,
            5,
            "`until` is given twice in this scenario",
            id="until-twice",
        ),
        pytest.param(
            "scenario a\n    start 2024-01-01\n    start 2024-01-02\nend\n",
            3,
            5,
            "`start` is given twice in this scenario",
            id="start-twice",
        ),
        pytest.param(
            "scenario a\n    program A\n    program B\nend\n",
            3,
            5,
            "what runs (`program` or `package`) is given twice in this scenario",
            id="program-twice",
        ),
        pytest.param(
            "scenario a\n    during 0 s .. 1 min\n        set x = 1\nend\n",
            3,
            9,
            "a `during` block only checks; inputs are set in `at` blocks",
            id="set-in-during",
        ),
        pytest.param(
            "scenario a\n    during 0 s .. 1 min\n        ramp x to 5C over 1 min\nend\n",
            3,
            9,
            "a `during` block only checks; inputs are set in `at` blocks",
            id="ramp-in-during",
        ),
        pytest.param(
            "scenario a\n    at 1 min ± 10 s\n        set x = 1\nend\n",
            3,
            9,
            "inputs are set at an exact time, not within a tolerance",
            id="set-in-window",
        ),
        pytest.param(
            "scenario a\n    at 1 min ± 10 s\n        oscillate x between 1 and 2 period 1 min\nend\n",
            3,
            9,
            "inputs are set at an exact time, not within a tolerance",
            id="oscillate-in-window",
        ),
        pytest.param(
            "scenario a\n    at 0 s\n        expect x unchanged\nend\n",
            3,
            9,
            "counting changes needs an interval",
            id="unchanged-in-at",
        ),
        pytest.param(
            "scenario a\n    at 0 s\n        expect x changes == 2\nend\n",
            3,
            9,
            "counting changes needs an interval",
            id="changes-in-at",
        ),
        pytest.param(
            "scenario a\n    trace\n        | time | x |\n"
            "        | 1 min | 1 |\n        | 1 min | 2 |\n    end\nend\n",
            5,
            9,
            "trace rows go forward in time",
            id="trace-row-same-time",
        ),
        pytest.param(
            "scenario a\n    trace\n        | time | x |\n"
            "        | 1 min | 1 |\n        | 30 s | 2 |\n    end\nend\n",
            5,
            9,
            "trace rows go forward in time",
            id="trace-row-earlier",
        ),
        pytest.param(
            "scenario a\n    trace\n        | time | x | expect y |\n        | 0 s | 1 |\n    end\nend\n",
            4,
            9,
            "this row has 2 cells, the header 3",
            id="trace-row-too-short",
        ),
        pytest.param(
            "scenario a\n    trace\n        | time | x |\n        | 0 s | 1 | 2 |\n    end\nend\n",
            4,
            9,
            "this row has 3 cells, the header 2",
            id="trace-row-too-long",
        ),
        pytest.param(
            "scenario a\n    trace\n        | when | x |\n        | 0 s | 1 |\n    end\nend\n",
            3,
            11,
            "the first column of a trace is `time`",
            id="trace-first-column",
        ),
        pytest.param(
            "scenario a\n    trace\n        | time | expect x |\n        | 0 s | fault |\n    end\nend\n",
            4,
            17,
            "`fault` is set, not expected",
            id="trace-fault-expected",
        ),
        pytest.param(
            "scenario a\n    at 0 s\n        expect alarm x ringing\nend\n",
            3,
            24,
            "`ringing` is not an alarm state",
            id="alarm-state",
        ),
        pytest.param(
            "scenario a\n    during 0 s .. 1 min\n        expect x changes == 2.5\nend\n",
            3,
            29,
            "a number of changes is a whole number",
            id="changes-fraction",
        ),
        pytest.param(
            "scenario a\n    during 10 min .. 5 min\n        expect x == 1\nend\n",
            2,
            5,
            "the interval ends before it starts",
            id="interval-reversed",
        ),
        pytest.param(
            "scenario a\n    step 0 s\nend\n",
            2,
            5,
            "the scan step must be longer than 0 s",
            id="step-zero",
        ),
        pytest.param(
            "scenario a\n    at 0 s\n        oscillate x between 1 and 2 period 0 s\nend\n",
            3,
            9,
            "the period must be longer than 0 s",
            id="period-zero",
        ),
    ],
)
def test_structural_errors(text: str, line: int, column: int, message: str) -> None:
    parsed = sc.parse_scenarios(SourceFile("t.scenario", text))
    assert [(d.code, d.span.line, d.span.column, d.message) for d in parsed.diagnostics] == [
        ("scenario-structure", line, column, message)
    ]
    assert parsed.scenarios == []  # a scenario with errors is not run


def test_a_setting_twice_points_at_the_first() -> None:
    parsed = parse("scenario a cites C1\n    step 1 s\n    until 1 h\n    step 2 s\nend\n")
    (diagnostic,) = parsed.diagnostics
    assert diagnostic.hint == "keep one; the first is at line 2"


def test_program_and_package_together_are_an_error() -> None:
    assert [p[:3] for p in problems("scenario a\n    program P\n    package\nend\n")] == [
        ("scenario-structure", 3, 5)
    ]


def test_program_and_package_message_names_the_conflict() -> None:
    ((_, _, _, message),) = problems("scenario a\n    program P\n    package\nend\n")
    assert "`program`" in message


def test_every_trace_row_out_of_order_is_reported() -> None:
    text = (
        "scenario a\n    trace\n        | time | x |\n"
        "        | 2 min | 1 |\n        | 1 min | 2 |\n        | 30 s | 3 |\n    end\nend\n"
    )
    assert [(code, line) for code, line, _, _ in problems(text)] == [
        ("scenario-structure", 5),
        ("scenario-structure", 6),
    ]


def test_a_scenario_with_errors_is_dropped_and_the_others_are_kept() -> None:
    parsed = parse(
        """
        scenario good_one at 0 s set x = 1 end
        scenario broken during 0 s .. 1 min set x = 1 end
        scenario good_two at 0 s set x = 2 end
        """
    )
    assert [d.code for d in parsed.diagnostics] == ["scenario-structure"]
    assert [s.name for s in parsed.scenarios] == ["good_one", "good_two"]


# --- values that are not times


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        pytest.param("scenario a\n    at 5C\n        set x = 1\nend\n", 2, 8, "`5C` is not a time", id="at"),
        pytest.param("scenario a\n    until 3 kW\nend\n", 2, 11, "`3 kW` is not a time", id="until"),
        pytest.param(
            "scenario a\n    during 0 s .. 20 %\n        expect x == 1\nend\n",
            2,
            19,
            "`20 %` is not a time",
            id="during-end",
        ),
        pytest.param(
            "scenario a\n    at 0 s\n        ramp x to 2 over 10 C\nend\n",
            3,
            26,
            "`10 C` is not a time",
            id="ramp-over",
        ),
        pytest.param(
            "scenario a\n    at 1 min ± 2 bar\n        expect x == 1\nend\n",
            2,
            16,
            "`2 bar` is not a time",
            id="window",
        ),
        pytest.param(
            "scenario a\n    at 1 h 20C\n        expect x == 1\nend\n",
            2,
            12,
            "`20C` is not a time",
            id="sum-with-non-time",
        ),
        pytest.param(
            "scenario a\n    start 2024-13-01\nend\n",
            2,
            5,
            "`2024-13-01 00:00` is not a date and time",
            id="date",
        ),
        pytest.param(
            "scenario a\n    at 0 s\n        expect x == 1 ± -1\nend\n",
            3,
            25,
            "tolerance `-1` is not a positive amount",
            id="negative-tolerance",
        ),
        pytest.param(
            "scenario a\n    at 0 s\n        expect x == 1 ± Heating\nend\n",
            3,
            25,
            "tolerance `Heating` is not a positive amount",
            id="member-tolerance",
        ),
    ],
)
def test_value_errors(text: str, line: int, column: int, message: str) -> None:
    parsed = sc.parse_scenarios(SourceFile("t.scenario", text))
    assert [(d.code, d.span.line, d.span.column, d.message) for d in parsed.diagnostics] == [
        ("scenario-value", line, column, message)
    ]
    assert parsed.scenarios == []


NOT_A_TIME = [
    pytest.param("scenario a\n    step 3 kW\nend\n", 2, 10, "`3 kW` is not a time", id="step"),
    pytest.param(
        "scenario a\n    at 0 s\n        oscillate x between 1 and 2 period 5 kW\nend\n",
        3,
        44,
        "`5 kW` is not a time",
        id="oscillate-period",
    ),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), NOT_A_TIME)
def test_a_step_or_period_that_is_not_a_time_is_a_value_error(
    text: str, line: int, column: int, message: str
) -> None:
    parsed = sc.parse_scenarios(SourceFile("t.scenario", text))
    first = parsed.diagnostics[0]
    assert (first.code, first.span.line, first.span.column, first.message) == (
        "scenario-value",
        line,
        column,
        message,
    )
    assert first.hint == "write a time with its unit: 30 s, 10 min, 2 h, 1 d"
    assert parsed.scenarios == []


@pytest.mark.parametrize(("text", "line", "column", "message"), NOT_A_TIME)
def test_a_step_or_period_that_is_not_a_time_is_reported_once(
    text: str, line: int, column: int, message: str
) -> None:
    assert [code for code, *_ in problems(text)] == ["scenario-value"]


@pytest.mark.xfail(
    strict=True,
    reason="scenario keywords (start, step, period, changes, ...) are valid point names in the rules"
    " language but cannot be written in a scenario: `expect start == true` is a syntax error",
)
def test_a_point_named_like_a_scenario_keyword_can_be_expected() -> None:
    (expect,) = actions("scenario s at 0 s expect start == true end")
    assert isinstance(expect, sc.ExpectValue) and expect.path.name == "start"


def test_format_time() -> None:
    assert [sc.format_time(s) for s in (0, 90, 600, 5400, 86400 + 3661, 0.5)] == [
        "0 s",
        "1 min 30 s",
        "10 min",
        "1 h 30 min",
        "1 d 1 h 1 min 1 s",
        "0.5 s",
    ]


# =============================================================================== runner

RULES = """
requirement C1 "Cool above the upper threshold"
requirement C2 "Heat below the lower threshold"

enum SystemMode (Heating, Cooling) "Operating mode"

program Changeover "Mode changeover" cites C1, C2
    input outdoor_temp: C range -40C .. 60C fallback 10C "Outdoor air temperature"
    input running: bool "Compressor running"
    parameter heating_below: C = 15C range 5C .. 20C "Heat below this" cites C2
    parameter cooling_above: C = 21C range 18C .. 30C "Cool above this" cites C1
    parameter hold_time: min = 10 min range 1 min .. 300 min "How long running must hold"
    output system_mode: SystemMode = Heating "Selected mode"
    output echo: C "The outdoor temperature as read"
    output held: bool "Running for hold_time"
    output open: bool "Within the opening hours"
    totalizer runtime: s of running "Time running"
    counter starts of running "Compressor starts"

    schedule opening_hours "Weekdays, 07:00 to 18:00"
        monday .. friday 07:00 .. 18:00
    end

    hysteresis system_mode on outdoor_temp
        below heating_below -> Heating
        above cooling_above -> Cooling
    end

    rule copy
        echo = outdoor_temp
        held = running for hold_time
        open = opening_hours
    end

    alarm too_hot "Too hot outside"
        when outdoor_temp > 40C
        severity high
    end

    event got_hot "The outdoor temperature rose above 30C"
        temp: C "Temperature"
        mode: SystemMode "Mode at the time"
    end

    rule watch
        if rising(outdoor_temp > 30C) then
            log got_hot(temp: outdoor_temp, mode: system_mode)
        end
    end

    machine phase "Compressor phase"
        initial state Idle
            when running -> Active
        end
        state Active
            when not running -> Idle
        end
    end
end
"""

# A package with wiring: Sensor publishes outdoor_temp, User reads it; User and Other both
# have an input `limit` of their own.
WIRED = """
program Sensor "The outdoor sensor, read once"
    input outdoor_raw: C range -40C .. 60C fallback -15C "Outdoor air sensor"
    output outdoor_temp: C "Outdoor air temperature"
    rule publish
        outdoor_temp = outdoor_raw
    end
end

program User "Reads the published temperature"
    input outdoor_temp: C from Sensor.outdoor_temp "Outdoor air temperature"
    input limit: C range -40C .. 60C "Limit"
    parameter offset: K = 0 K range -5 K .. 5 K "Offset"
    output cold: bool "Colder than the limit"
    rule compare
        cold = outdoor_temp < limit + offset
    end
end

program Other "Has an input `limit` too"
    input limit: C range -40C .. 60C "Limit"
    output warm: bool "Limit above 20C"
    rule compare
        warm = limit > 20C
    end
end
"""

# Every runner scenario on RULES runs one program and knows its inputs from time 0.
START = """
at 0 s
    set outdoor_temp = 10C
    set running = false
"""


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a temporary folder, so file names in reports are short and relative."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    return tmp_path


def write_package(root: Path, scenarios: dict[str, str], rules: str = RULES, folder: str = "pkg") -> Path:
    """A package folder with one rules file and the given scenario files (name -> text)."""
    package = root / folder
    package.mkdir(parents=True, exist_ok=True)
    (package / "plant.rules").write_text(dedent(rules), encoding="utf-8")
    for name, text in scenarios.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text), encoding="utf-8")
    return package


def scenario(name: str, body: str = "", settings: str = "", start: str = START) -> str:
    """A scenario of program Changeover: its settings, the inputs at 0 s, then the body.

    Line 1 is `scenario`, line 2 `program Changeover`, then the settings, then the three
    lines of START (unless replaced), then the body.
    """
    text = "program Changeover\n" + dedent(settings) + dedent(start) + dedent(body)
    return f"scenario {name}\n" + textwrap.indent(text, "    ") + "end\n"


def run(root: Path, text: str, rules: str = RULES) -> testing.TestReport:
    package = write_package(root, {"t.scenario": text}, rules)
    return testing.run_paths([package])


def failures(report: testing.TestReport) -> list[str]:
    return [f"{f.span}: {f.message}" for o in report.outcomes for f in o.failures]


def errors(report: testing.TestReport) -> list[tuple[str, int, int, str]]:
    return [(d.code, d.span.line, d.span.column, d.message) for d in report.diagnostics if d.is_error]


def passes(root: Path, text: str, rules: str = RULES) -> testing.TestReport:
    report = run(root, text, rules)
    assert errors(report) == []
    assert failures(report) == []
    assert len(report.outcomes) == len(re.findall(r"^scenario ", dedent(text), re.MULTILINE))
    assert report.ok
    return report


def failing(root: Path, text: str, rules: str = RULES) -> list[str]:
    """The failures of scenarios that have no errors in their files."""
    report = run(root, text, rules)
    assert errors(report) == []
    assert report.outcomes
    return failures(report)


def outcome(report: testing.TestReport, name: str) -> testing.Outcome:
    (found,) = [o for o in report.outcomes if o.scenario.name == name]
    return found


def cli_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- time


def test_the_first_scan_is_at_time_0_with_no_time_elapsed(in_tmp: Path) -> None:
    report = passes(
        in_tmp,
        scenario(
            "first_scan",
            """
            at 0 s
                set running = true
                expect runtime == 0 s
                expect starts == 1
                expect phase == Active
            at 10 s
                expect runtime == 10 s
            at 1 min
                expect runtime == 60 s
            """,
            settings="step 10 s\n",
        ),
    )
    assert outcome(report, "first_scan").scans == 7  # 0, 10, ... 60 s


def test_at_between_two_scans_acts_in_the_next_scan(in_tmp: Path) -> None:
    passes(
        in_tmp,
        scenario(
            "between_scans",
            """
            at 90 s
                set outdoor_temp = 30C
                expect echo == 30C
            at 1 min
                expect echo == 10C
            """,
            settings="step 1 min\n",
        ),
    )


def test_an_expectation_is_checked_in_the_scan_at_or_after_its_time(in_tmp: Path) -> None:
    report = run(
        in_tmp,
        scenario(
            "late",
            """
            at 0 s
                set running = true
            at 95 s
                expect runtime == 95 s
            """,
            settings="step 10 s\n",
            start="at 0 s\n    set outdoor_temp = 10C\n",
        ),
    )
    # The scan at or after 95 s is the one at 100 s; the report names the time written.
    assert failures(report) == [
        "pkg/t.scenario:9:9: at 1 min 35 s: expected Changeover.runtime == 95 s, got 100"
    ]


def test_until_runs_on_past_the_last_block(in_tmp: Path) -> None:
    report = passes(
        in_tmp,
        scenario("with_until", settings="until 10 s\n")
        + scenario("without_until", "at 3 s\n    expect echo == 10C\n"),
    )
    assert outcome(report, "with_until").scans == 11  # default step 1 s: 0 .. 10 s
    assert outcome(report, "without_until").scans == 4  # to the last time a block names


def test_start_sets_the_wall_clock(in_tmp: Path) -> None:
    passes(
        in_tmp,
        scenario(
            "monday_morning",
            """
            at 59 min
                expect open == false
            at 1 h
                expect open == true
            """,
            settings="step 1 min\nstart 2024-01-01 06:00\n",
        )
        + scenario(
            "default_start_is_monday_midnight",
            """
            at 6 h 59 min
                expect open == false
            at 7 h
                expect open == true
            """,
            settings="step 1 min\n",
        )
        + scenario(
            "saturday",
            """
            during 0 s .. 12 h
                expect open == false
            """,
            settings="step 10 min\nstart 2024-01-06 06:00\n",
        ),
    )


# --- windows and intervals


def test_at_with_a_window_passes_when_one_scan_of_the_window_holds(in_tmp: Path) -> None:
    # `held` becomes true 10 min after the compressor starts, in the scan at 10 min.
    found = failing(
        in_tmp,
        scenario(
            "window",
            """
            at 0 s
                set running = true
            at 9 min ± 1 min
                expect held == true
            at 9 min ± 30 s
                expect held == true
            """,
            settings="step 1 min\n",
        ),
    )
    assert found == ["pkg/t.scenario:12:9: at 9 min ± 30 s: expected Changeover.held == true, got false"]


def test_during_requires_every_scan(in_tmp: Path) -> None:
    found = failing(
        in_tmp,
        scenario(
            "every_scan",
            """
            at 0 s
                set running = true
            during 0 s .. 9 min
                expect held == false
            during 0 s .. 10 min
                expect held == false
            during 10 min .. 20 min
                expect held == true
            """,
            settings="step 1 min\n",
        ),
    )
    assert found == [
        "pkg/t.scenario:12:9: during 0 s .. 10 min, at 10 min: expected Changeover.held == false, got true"
    ]


def test_changes_counts_value_changes_in_the_interval(in_tmp: Path) -> None:
    # A sine between 10C and 30C crosses both thresholds of the dead band twice a period.
    found = failing(
        in_tmp,
        scenario(
            "hunting",
            """
            at 0 s
                set outdoor_temp = 20C
                oscillate outdoor_temp between 10C and 30C period 20 min
            during 0 s .. 1 h
                expect system_mode changes == 6
                expect system_mode changes <= 6
                expect system_mode changes > 5
                expect system_mode changes == 5
            during 0 s .. 5 min
                expect system_mode changes == 1
            """,
            settings="step 1 min\n",
        ),
    )
    assert found == [
        "pkg/t.scenario:14:9: during 0 s .. 1 h:"
        " expected Changeover.system_mode changes == 5, got 6 change(s)"
    ]


def test_unchanged_compares_every_scan_with_the_first(in_tmp: Path) -> None:
    found = failing(
        in_tmp,
        scenario(
            "steady",
            """
            at 0 s
                set outdoor_temp = 18C
            at 20 s
                set outdoor_temp = 14C
            during 0 s .. 19 s
                expect echo unchanged
                expect system_mode unchanged
            during 0 s .. 30 s
                expect echo unchanged
            """,
        ),
    )
    assert found == [
        "pkg/t.scenario:14:9: during 0 s .. 30 s, at 20 s:"
        " expected Changeover.echo unchanged, got 18, then 14"
    ]


# --- driving inputs


def test_ramp_is_linear_from_the_present_value(in_tmp: Path) -> None:
    found = failing(
        in_tmp,
        scenario(
            "ramped",
            """
            at 1 h
                ramp outdoor_temp to 30C over 20 min
            at 1 h
                expect echo == 10C
            at 1 h 5 min
                expect echo == 15C
            at 1 h 10 min
                expect echo == 20C
            at 1 h 20 min
                expect echo == 30C
            at 2 h
                expect echo == 30C
            at 1 h 15 min
                expect echo == 24C
            """,
            settings="step 1 min\n",
        ),
    )
    assert found == ["pkg/t.scenario:20:9: at 1 h 15 min: expected Changeover.echo == 24C, got 25"]


def test_set_stops_a_ramp(in_tmp: Path) -> None:
    passes(
        in_tmp,
        scenario(
            "stop_ramp",
            """
            at 0 s
                ramp outdoor_temp to 30C over 20 s
            at 5 s
                set outdoor_temp = 0C
            at 10 s
                expect echo == 0C
            """,
        ),
    )


def test_oscillate_is_a_sine_between_the_bounds(in_tmp: Path) -> None:
    passes(
        in_tmp,
        scenario(
            "sine",
            """
            at 0 s
                oscillate outdoor_temp between 10C and 30C period 20 min
            at 0 s
                expect echo == 20C
            at 100 s
                expect echo == 25C
            at 5 min
                expect echo == 30C
            at 10 min
                expect echo == 20C
            at 15 min
                expect echo == 10C
            at 25 min
                expect echo == 30C
            during 0 s .. 1 h
                expect echo >= 10C
                expect echo <= 30C
            at 1 h
                set outdoor_temp = 12C
            at 1 h 5 min
                expect echo == 12C
            """,
            settings="step 10 s\n",
        ),
    )


def test_only_numbers_ramp_or_oscillate(in_tmp: Path) -> None:
    report = run(in_tmp, scenario("bool_ramp", "at 1 s\n    ramp running to true over 1 min\n"))
    assert errors(report) == [
        (
            "scenario-value",
            7,
            9,
            "input `Changeover.running` is true or false; only numbers ramp or oscillate",
        )
    ]
    assert report.outcomes == []


# --- faults, alarms and logs


def test_fault_uses_the_fallback_and_raises_the_sensor_fault_alarm(in_tmp: Path) -> None:
    passes(
        in_tmp,
        scenario(
            "sensor_fault",
            """
            at 0 s
                set outdoor_temp = 30C
                expect alarm outdoor_temp_sensor_fault inactive
            at 10 s
                set outdoor_temp = fault
                expect echo == 10C
                expect alarm outdoor_temp_sensor_fault raised
                expect alarm outdoor_temp_sensor_fault active
            during 10 s .. 19 s
                expect echo == 10C
                expect alarm outdoor_temp_sensor_fault active
            at 20 s
                set outdoor_temp = 25C
                expect echo == 25C
                expect alarm outdoor_temp_sensor_fault cleared
                expect alarm outdoor_temp_sensor_fault inactive
            """,
            start="at 0 s\n    set running = false\n",
        ),
    )


def test_fault_in_a_trace_row(in_tmp: Path) -> None:
    found = failing(
        in_tmp,
        scenario(
            "traced",
            """
            trace
                | time   | outdoor_temp | running | expect echo ± 0.5 K | expect system_mode | expect starts |
                | 0 min  | 10C          | false   | 10C                 | Heating            | 0             |
                | 30 min | 25C          | -       | 25.4C               | Cooling            | -             |
                | 31 min | fault        | true    | 10C                 | Heating            | 1             |
                | 40 min | 16C          | -       | 16.4C               | Cooling            | -             |
            end
            at 31 min
                expect alarm outdoor_temp_sensor_fault raised
            """,
            settings="step 1 min\n",
            start="",
        ),
    )
    # Only the last row's mode is wrong: 16C is in the dead band, so the mode stays Heating.
    assert found == [
        "pkg/t.scenario:9:67: at 40 min: expected Changeover.system_mode == Cooling, got Heating"
    ]


def test_alarm_states_and_changes(in_tmp: Path) -> None:
    found = failing(
        in_tmp,
        scenario(
            "alarm_cycle",
            """
            at 0 s
                expect alarm too_hot inactive
                expect alarm too_hot active
                expect alarm too_hot raised
            at 10 s
                set outdoor_temp = 45C
                expect alarm too_hot raised
                expect alarm too_hot active
                expect too_hot == true
            at 11 s
                expect alarm too_hot raised
            at 20 s
                set outdoor_temp = 20C
                expect alarm too_hot cleared
                expect alarm too_hot inactive
            during 12 s .. 25 s
                expect alarm too_hot cleared
            """,
        ),
    )
    assert found == [
        "pkg/t.scenario:8:9: at 0 s: expected alarm Changeover.too_hot active, got inactive",
        "pkg/t.scenario:9:9: at 0 s:"
        " expected alarm Changeover.too_hot raised, got no change (alarm inactive)",
        "pkg/t.scenario:16:9: at 11 s:"
        " expected alarm Changeover.too_hot raised, got no change (alarm active)",
    ]


def test_log_entries_with_fields_and_tolerances(in_tmp: Path) -> None:
    found = failing(
        in_tmp,
        scenario(
            "logged",
            """
            at 10 s
                set outdoor_temp = 35C
                expect log got_hot
                expect log got_hot with temp = 95F, mode = Cooling
                expect log got_hot with temp = 35.4C ± 0.5 K
                expect log got_hot with temp = 34C
                expect log got_hot with mode = Heating
            at 11 s
                expect no log got_hot
                expect log got_hot
            during 0 s .. 20 s
                expect log got_hot with temp = 35C
            during 11 s .. 20 s
                expect no log got_hot
            at 5 s
                expect no log got_hot
            """,
        ),
    )
    assert found == [
        "pkg/t.scenario:11:9: at 10 s: expected log Changeover.got_hot with temp = 34C,"
        " got temp = 35, mode = Cooling",
        "pkg/t.scenario:12:9: at 10 s: expected log Changeover.got_hot with mode = Heating,"
        " got temp = 35, mode = Cooling",
        "pkg/t.scenario:15:9: at 11 s: expected log Changeover.got_hot, got no entry",
    ]


def test_no_log_holds_in_every_scan_of_a_window(in_tmp: Path) -> None:
    found = failing(
        in_tmp,
        scenario(
            "quiet",
            """
            at 10 s
                set outdoor_temp = 35C
            at 13 s ± 2 s
                expect no log got_hot
            at 12 s ± 2 s
                expect no log got_hot
            at 12 s ± 2 s
                expect log got_hot
            """,
        ),
    )
    assert [f.split(": expected")[0] for f in found] == ["pkg/t.scenario:11:9: at 12 s ± 2 s, at 10 s"]


def test_log_of_an_unknown_field_is_a_name_error(in_tmp: Path) -> None:
    report = run(in_tmp, scenario("bad_field", "at 1 s\n    expect log got_hot with temperature = 20C\n"))
    assert errors(report) == [
        ("scenario-name", 7, 33, "event `Changeover.got_hot` has no field `temperature`")
    ]
    assert report.diagnostics[0].hint == "its fields are temp, mode"


# --- values, units and tolerances


def test_values_and_tolerances_in_other_units(in_tmp: Path) -> None:
    found = failing(
        in_tmp,
        scenario(
            "units",
            """
            at 1 s
                set outdoor_temp = 68F
                expect echo == 20C
                expect echo == 68F
                expect echo == 20.3C ± 0.5 K
                expect echo == 67.5F ± 1 delta_degF
                expect runtime == 1 min ± 2 h
                expect hold_time == 600 s
                expect echo < 19.9C ± 0.2 K
                expect echo > 20.1C ± 0.2 K
                expect echo != 21C
                expect echo == 20.3C ± 0.2 K
                expect echo != 20.1C ± 0.2 K
                expect echo < 19.99C
                expect echo >= 20.01C
            """,
        ),
    )
    assert found == [
        "pkg/t.scenario:17:9: at 1 s: expected Changeover.echo == 20.3C ± 0.2 K, got 20",
        "pkg/t.scenario:18:9: at 1 s: expected Changeover.echo != 20.1C ± 0.2 K, got 20",
        "pkg/t.scenario:19:9: at 1 s: expected Changeover.echo < 19.99C, got 20",
        "pkg/t.scenario:20:9: at 1 s: expected Changeover.echo >= 20.01C, got 20",
    ]


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        (
            "expect echo == 20C ± 0.5C",
            30,
            "`Changeover.echo`: cannot convert an absolute temperature (C) to a temperature difference (K)",
        ),
        ("expect echo == 20", 24, "`Changeover.echo`: `20` has no unit, but temperature is expected"),
        ("expect echo == 20 kW", 24, "`Changeover.echo`: cannot convert power (kW) to temperature (C)"),
        (
            "expect echo == Heating",
            24,
            "`Changeover.echo`: `Heating` is not a number; expected a temperature (21C)",
        ),
        ("expect running == 1", 27, "`Changeover.running`: `1` is not true or false"),
        ("expect system_mode == Warm", 31, "`Changeover.system_mode`: `Warm` is not a member of SystemMode"),
        (
            "expect system_mode < Cooling",
            9,
            "`Changeover.system_mode` is a member of SystemMode (Heating, Cooling); compare it with == or !=",
        ),
        (
            "set outdoor_temp = 5 bar",
            28,
            "input `Changeover.outdoor_temp`: cannot convert pressure (bar) to temperature (C)",
        ),
        (
            "expect echo == 293.15 K",
            24,
            "`Changeover.echo`: cannot convert a temperature difference (K) to an absolute temperature (C)",
        ),
        ("expect starts == 1.5", 26, "`Changeover.starts`: `1.5` is not a whole number"),
    ],
)
def test_values_of_the_wrong_kind_are_value_errors(
    in_tmp: Path, line: str, column: int, message: str
) -> None:
    report = run(in_tmp, scenario("wrong_kind", f"at 1 s\n    {line}\n"))
    assert errors(report) == [("scenario-value", 7, column, message)]
    assert report.outcomes == []  # the scenario did not run
    assert not report.ok


def test_parameter_lines_convert_units(in_tmp: Path) -> None:
    report = run(
        in_tmp,
        scenario(
            "two_hours",
            """
            at 0 s
                set running = true
                expect hold_time == 120 min
                expect cooling_above == 25C
            at 24 s
                set outdoor_temp = 24C
                expect system_mode == Heating
            at 1 h 59 min
                expect held == false
            at 2 h
                expect held == true
            """,
            settings="step 1 min\nparameter hold_time = 2 h\nparameter cooling_above = 77F\n",
            start="at 0 s\n    set outdoor_temp = 10C\n",
        ),
    )
    assert failures(report) == []
    assert report.ok


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        (
            "parameter hold_time = 6 h",
            27,
            "parameter `Changeover.hold_time`: 360 min is outside its range 1 min .. 300 min",
        ),
        (
            "parameter hold_time = 0.5 min",
            27,
            "parameter `Changeover.hold_time`: 0.5 min is outside its range 1 min .. 300 min",
        ),
        (
            "parameter hold_time = 20C",
            27,
            "parameter `Changeover.hold_time`: cannot convert temperature (C) to time (min)",
        ),
        (
            "parameter hold_time = 20",
            27,
            "parameter `Changeover.hold_time`: `20` has no unit, but time is expected",
        ),
        ("parameter echo = 20C", 15, "`Changeover.echo` is an output, not a parameter"),
        ("parameter hold_tme = 2 h", 15, "program `Changeover` has no parameter `hold_tme`"),
    ],
)
def test_bad_parameter_lines_are_reported_and_the_scenario_does_not_run(
    in_tmp: Path, line: str, column: int, message: str
) -> None:
    report = run(
        in_tmp,
        f"scenario bad_parameter\n    program Changeover\n    {line}\n"
        "    at 0 s\n        set running = true\nend\n",
    )
    ((code, line_number, found_column, found),) = errors(report)
    assert code in ("scenario-value", "scenario-name")
    assert (line_number, found_column, found) == (3, column, message)
    assert report.outcomes == []


def test_parameter_file_relative_to_the_scenario_file(
    in_tmp: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    package = write_package(
        in_tmp,
        {
            "scenarios/site.scenario": scenario(
                "site_file",
                "at 0 s\n    expect hold_time == 20 min\n    expect cooling_above == 25C\n",
                settings='parameters "site.toml"\n',
                start="",
            )
            + scenario(
                "line_wins",
                "at 0 s\n    expect hold_time == 30 min\n",
                settings='parameters "site.toml"\nparameter hold_time = 30 min\n',
                start="",
            )
        },
    )
    (package / "scenarios" / "site.toml").write_text(
        '[Changeover]\nhold_time = "20 min"\ncooling_above = "25C"\n'
    )
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(elsewhere)  # the file is found beside the scenario, not in the working folder
        report = testing.run_paths([package])
    assert errors(report) == []
    assert failures(report) == []
    assert len(report.outcomes) == 2


def test_a_missing_parameter_file_is_a_value_error(in_tmp: Path) -> None:
    report = run(in_tmp, scenario("missing_site", 'parameters "nowhere.toml"\n', start=""))
    assert errors(report) == [
        ("scenario-value", 3, 5, "no site parameter file `nowhere.toml` beside the scenario")
    ]
    assert report.outcomes == []


def test_an_error_in_the_parameter_file_stops_the_scenario(in_tmp: Path) -> None:
    package = write_package(
        in_tmp, {"t.scenario": scenario("bad_site", 'parameters "site.toml"\n', start="")}
    )
    (package / "site.toml").write_text('[Changeover]\nhold_time = "20 C"\n')
    report = testing.run_paths([package])
    assert [(d.code, d.span.file, d.span.line) for d in report.diagnostics] == [
        ("site-value", "pkg/site.toml", 2)
    ]
    assert report.outcomes == []


def test_params_option_applies_under_the_scenario_settings(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = write_package(
        in_tmp,
        {
            "t.scenario": scenario("from_params", "at 0 s\n    expect hold_time == 45 min\n", start="")
            + scenario(
                "file_over_params",
                'parameters "local.toml"\nat 0 s\n    expect hold_time == 50 min\n',
                start="",
            )
            + scenario(
                "line_over_params",
                "parameter hold_time = 55 min\nat 0 s\n    expect hold_time == 55 min\n",
                start="",
            )
        },
    )
    (package / "local.toml").write_text('[Changeover]\nhold_time = "50 min"\n')
    (in_tmp / "site.toml").write_text('[Changeover]\nhold_time = "45 min"\n')
    code, out, _ = cli_run(capsys, "test", "pkg", "--params", "site.toml", "-v")
    assert code == 0, out
    assert out.count("PASS ") == 3
    # Without --params the first scenario sees the rules' default, 10 min.
    code, out, _ = cli_run(capsys, "test", "pkg")
    assert code == 1
    assert "pkg/t.scenario:4:9: at 0 s: expected Changeover.hold_time == 45 min, got 10" in out


def test_a_bad_params_file_is_reported_and_nothing_runs(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_package(in_tmp, {"t.scenario": scenario("ok", "at 0 s\n    expect echo == 10C\n")})
    (in_tmp / "site.toml").write_text('[Changeover]\nhold_tme = "45 min"\n')
    code, out, _ = cli_run(capsys, "test", "pkg", "--params", "site.toml")
    assert code == 1
    assert "site.toml:2:1: error: program `Changeover` has no parameter `hold_tme` [site-parameter]" in out
    assert out.splitlines()[-1].startswith("0 scenarios: 0 passed, 1 error(s) in the files")


# --- names


def test_names_are_checked_with_did_you_mean(in_tmp: Path) -> None:
    report = run(
        in_tmp,
        scenario(
            "misspelt",
            """
            at 1 s
                set outdoor_tmp = 20C
                expect sytem_mode == Heating
                expect alarm to_hot active
                expect log got_hott
                set echo = 20C
            """,
        ),
    )
    assert errors(report) == [
        ("scenario-name", 7, 13, "program `Changeover` has no point `outdoor_tmp`"),
        ("scenario-name", 8, 16, "program `Changeover` has no point `sytem_mode`"),
        ("scenario-name", 9, 22, "program `Changeover` has no alarm `to_hot`"),
        ("scenario-name", 10, 20, "program `Changeover` has no event `got_hott`"),
        ("scenario-name", 11, 13, "`Changeover.echo` is an output, not an input; only inputs are set"),
    ]
    assert [d.hint for d in report.diagnostics[:4]] == [
        "did you mean `outdoor_temp`?",
        "did you mean `system_mode`?",
        "did you mean `too_hot`?",
        "did you mean `got_hot`?",
    ]
    assert report.outcomes == []


def test_an_unknown_program_is_a_name_error(in_tmp: Path) -> None:
    report = run(
        in_tmp, "scenario nope\n    program Changover\n    at 0 s\n        set outdoor_temp = 1C\nend\n"
    )
    assert errors(report) == [("scenario-name", 1, 10, "the package has no program `Changover`")]
    assert report.diagnostics[0].hint == "did you mean `Changeover`?"


def test_a_program_scenario_cannot_name_another_program(in_tmp: Path) -> None:
    report = run(
        in_tmp,
        "scenario other\n    program User\n    at 0 s\n        set Other.limit = 1C\nend\n",
        rules=WIRED,
    )
    assert errors(report) == [("scenario-name", 4, 13, "this scenario runs program `User`, not `Other`")]


def test_package_scenario_reads_a_wired_point_from_its_publisher(in_tmp: Path) -> None:
    report = run(
        in_tmp,
        """
        scenario wired
            at 0 s
                set outdoor_raw = 5C
                set User.limit = 10C
                set Other.limit = 25C
                expect User.outdoor_temp == 5C
                expect cold == true
                expect warm == true
                expect outdoor_temp == 6C
        end
        """,
        rules=WIRED,
    )
    assert errors(report) == []
    # The bare name is the point Sensor publishes, not User's wired copy of it.
    assert failures(report) == ["pkg/t.scenario:9:9: at 0 s: expected Sensor.outdoor_temp == 6C, got 5"]


def test_setting_a_wired_input_in_a_package_scenario_is_a_name_error(in_tmp: Path) -> None:
    report = run(
        in_tmp, "scenario wired\n    at 0 s\n        set User.outdoor_temp = 10C\nend\n", rules=WIRED
    )
    ((code, line, column, message),) = errors(report)
    assert (code, line, column) == ("scenario-name", 3, 13)
    assert message.startswith("`User.outdoor_temp` is wired from ")
    assert report.diagnostics[0].hint is not None and "run `program User` alone" in report.diagnostics[0].hint
    assert report.outcomes == []


def test_setting_a_wired_input_names_the_source(in_tmp: Path) -> None:
    report = run(
        in_tmp, "scenario wired\n    at 0 s\n        set User.outdoor_temp = 10C\nend\n", rules=WIRED
    )
    assert errors(report)[0][3] == "`User.outdoor_temp` is wired from `Sensor.outdoor_temp` in the package"


def test_a_program_scenario_may_set_a_wired_input(in_tmp: Path) -> None:
    passes(
        in_tmp,
        """
        scenario alone
            program User
            parameter offset = 2 K
            at 0 s
                set outdoor_temp = 11C
                set limit = 10C
                expect cold == true
        end
        """,
        rules=WIRED,
    )


def test_an_ambiguous_name_needs_the_program(in_tmp: Path) -> None:
    report = run(in_tmp, "scenario ambiguous\n    at 0 s\n        set limit = 20C\nend\n", rules=WIRED)
    assert errors(report) == [("scenario-name", 3, 13, "`limit` is a point of several programs: User, Other")]
    assert report.diagnostics[0].hint == "name the program: `User.limit`"


def test_package_scenario_parameters_take_the_program(in_tmp: Path) -> None:
    passes(
        in_tmp,
        """
        scenario offset
            parameter User.offset = 3 K
            at 0 s
                set outdoor_raw = 12C
                set User.limit = 10C
                set Other.limit = 10C
                expect cold == true
                expect User.offset == 3 K
        end
        """,
        rules=WIRED,
    )


# --- headers: requirements and names


def test_unknown_requirement_in_cites(in_tmp: Path) -> None:
    report = run(
        in_tmp,
        "scenario cited cites C1, C9\n    program Changeover\n    at 0 s\n        set running = false\nend\n",
    )
    assert errors(report) == [("unknown-requirement", 1, 26, "requirement `C9` is not declared")]
    assert not report.ok


def test_a_scenario_citing_an_unknown_requirement_does_not_run(in_tmp: Path) -> None:
    report = run(
        in_tmp,
        "scenario cited cites C9\n    program Changeover\n    at 0 s\n        set running = false\nend\n",
    )
    assert report.outcomes == []


def test_duplicate_scenario_names_in_a_package(in_tmp: Path) -> None:
    package = write_package(
        in_tmp,
        {
            "a.scenario": scenario("same", "") + scenario("unique", ""),
            "b.scenario": scenario("same", ""),
        },
    )
    report = testing.run_paths([package])
    assert errors(report) == [("duplicate-name", 1, 10, "`same` is already defined")]
    assert report.diagnostics[0].span.file == "pkg/b.scenario"
    assert (
        report.diagnostics[0].hint
        == "scenario names are unique in a package; the other is at pkg/a.scenario:1:10"
    )


def test_an_error_in_one_file_does_not_stop_the_others(in_tmp: Path) -> None:
    package = write_package(
        in_tmp,
        {
            "a.scenario": scenario("broken", "at 1 s\n    set nothing = 1C\n"),
            "b.scenario": scenario("fine", "at 1 s\n    expect echo == 10C\n"),
        },
    )
    report = testing.run_paths([package])
    assert [d.code for d in report.diagnostics] == ["scenario-name"]
    assert [(o.scenario.name, o.passed) for o in report.outcomes] == [("fine", True)]
    assert not report.ok


def test_errors_in_the_rules_are_reported_and_nothing_runs(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_package(
        in_tmp,
        {"t.scenario": scenario("never", "")},
        rules=RULES.replace("echo = outdoor_temp", "echo = outdoor_temp + 1 kW"),
    )
    code, out, _ = cli_run(capsys, "test", "pkg")
    assert code == 1
    assert "pkg/plant.rules:" in out and "[unit-mismatch]" in out
    assert "0 scenarios" in out


# --- package discovery


def test_the_package_is_the_nearest_folder_with_rules(in_tmp: Path) -> None:
    package = write_package(
        in_tmp, {"scenarios/deep/t.scenario": scenario("found_above", "at 1 s\n    expect echo == 10C\n")}
    )
    # A package inside another: the inner one is nearer to its scenario (compiling the outer
    # folder would also read the inner rules and report every name twice).
    write_package(in_tmp, {}, folder="outer")
    inner = write_package(
        in_tmp,
        {"t.scenario": scenario("nearest", "at 1 s\n    expect echo == 11C\n")},
        rules=RULES.replace("echo = outdoor_temp", "echo = outdoor_temp + 1 K"),
        folder="outer/inner",
    )
    assert testing.package_folder(package / "scenarios" / "deep" / "t.scenario") == package.resolve()
    assert testing.package_folder(inner / "t.scenario") == inner.resolve()
    report = testing.run_paths([package / "scenarios", inner])
    assert errors(report) == []
    assert [(o.scenario.name, o.passed) for o in report.outcomes] == [
        ("found_above", True),
        ("nearest", True),
    ]


def test_rules_option_overrides_discovery(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(in_tmp, {"t.scenario": scenario("which_package", "at 1 s\n    expect echo == 11C\n")})
    write_package(
        in_tmp, {}, rules=RULES.replace("echo = outdoor_temp", "echo = outdoor_temp + 1 K"), folder="variant"
    )
    code, out, _ = cli_run(capsys, "test", "pkg")
    assert code == 1
    assert "expected Changeover.echo == 11C, got 10" in out
    code, out, err = cli_run(capsys, "test", "pkg", "--rules", "variant", "-v")
    assert code == 0, out + err
    assert "PASS pkg/t.scenario::which_package" in out


# --- the command line


def test_exit_0_when_every_scenario_passes(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(
        in_tmp, {"t.scenario": scenario("one", "at 1 s\n    expect echo == 10C\n") + scenario("two", "")}
    )
    code, out, err = cli_run(capsys, "test", "pkg")
    assert (code, err) == (0, "")
    assert re.fullmatch(r"2 scenarios: 2 passed in \d+\.\d s\n", out)


def test_exit_1_and_the_failure_report(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(
        in_tmp,
        {
            "t.scenario": scenario("wrong_mode", "at 1 h 1 min\n    expect system_mode == Cooling\n").replace(
                "wrong_mode", 'wrong_mode "The mode is wrong on purpose"'
            )
            + scenario("right", "")
        },
    )
    code, out, err = cli_run(capsys, "test", "pkg")
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[:2] == [
        "FAIL pkg/t.scenario::wrong_mode - The mode is wrong on purpose",
        "  pkg/t.scenario:7:9: at 1 h 1 min: expected Changeover.system_mode == Cooling, got Heating",
    ]
    assert re.fullmatch(r"2 scenarios: 1 passed, 1 failed in \d+\.\d s", lines[2])
    assert len(lines) == 3


def test_exit_1_for_an_error_in_a_scenario_file(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(in_tmp, {"a.scenario": "scenario broken\n    at 0 s\n        expect x = 1\nend\n"})
    code, out, _ = cli_run(capsys, "test", "pkg")
    assert code == 1
    assert out.startswith("pkg/a.scenario:3:18: error: unexpected `=`; expected ")
    assert "[syntax]" in out.splitlines()[0]


def test_exit_1_for_a_file_that_is_not_utf8(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = write_package(in_tmp, {})
    (package / "a.scenario").write_bytes(b"scenario caf\xe9 end\n")
    code, out, _ = cli_run(capsys, "test", "pkg")
    assert code == 1
    assert "[bad-encoding]" in out


def test_exit_2_without_scenario_files(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(in_tmp, {})
    code, out, err = cli_run(capsys, "test", "pkg")
    assert (code, out) == (2, "")
    assert err == "hpdsl test: error: no scenario files (*.scenario) under `pkg`\n"


def test_exit_2_for_a_missing_path(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli_run(capsys, "test", "nowhere")
    assert (code, out) == (2, "")
    assert err == "hpdsl test: error: no such file or folder: `nowhere`\n"


def test_exit_2_without_a_path(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli_run(capsys, "test")
    assert (code, out) == (2, "")
    assert "error:" in err


def test_k_selects_and_v_lists_passes(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(
        in_tmp,
        {
            "t.scenario": scenario("mode_holds", settings="until 9 s\n")
            + scenario("mode_fails", "at 1 s\n    expect system_mode == Cooling\n")
            + scenario("echo_works", "at 1 s\n    expect echo == 10C\n")
        },
    )
    code, out, _ = cli_run(capsys, "test", "pkg", "-k", "holds", "-v")
    assert code == 0
    assert re.fullmatch(
        r"PASS pkg/t\.scenario::mode_holds \(10 scans, \d+\.\d\d s\)\n1 scenario: 1 passed in \d+\.\d s\n",
        out,
    )
    code, out, _ = cli_run(capsys, "test", "pkg", "-k", "mode")
    assert code == 1
    assert "PASS" not in out  # without -v passes are not listed
    assert "FAIL pkg/t.scenario::mode_fails" in out
    assert "echo_works" not in out
    assert "2 scenarios: 1 passed, 1 failed" in out
    code, out, _ = cli_run(capsys, "test", "pkg", "-v")
    assert [line.split(" (")[0] for line in out.splitlines() if line.startswith("PASS")] == [
        "PASS pkg/t.scenario::mode_holds",
        "PASS pkg/t.scenario::echo_works",
    ]


def test_a_single_scenario_file_can_be_given(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(
        in_tmp,
        {
            "a.scenario": scenario("in_a", ""),
            "b.scenario": scenario("in_b", "at 1 s\n    expect echo == 99C\n"),
        },
    )
    code, out, _ = cli_run(capsys, "test", "pkg/a.scenario", "-v")
    assert code == 0
    assert "in_a" in out and "in_b" not in out


def junit_package(root: Path) -> None:
    write_package(
        root,
        {
            "a.scenario": scenario("a_pass", "")
            + scenario("a_fail", "at 1 s\n    expect echo == 11C\n    expect echo == 12C\n"),
            "b.scenario": scenario("b_fail", "at 1 s\n    expect system_mode == Cooling\n")
            + scenario("b_pass", "")
            + scenario("b_pass_too", ""),
        },
    )


def test_junit_xml(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit_package(in_tmp)
    code, _, _ = cli_run(capsys, "test", "pkg", "--junit", "build/results.xml")
    assert code == 1
    root = ElementTree.parse(in_tmp / "build" / "results.xml").getroot()
    assert root.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert sorted(suites) == ["pkg/a.scenario", "pkg/b.scenario"]
    a, b = suites["pkg/a.scenario"], suites["pkg/b.scenario"]
    assert (a.get("tests"), a.get("failures"), a.get("errors")) == ("2", "1", "0")
    assert (b.get("tests"), b.get("failures"), b.get("errors")) == ("3", "1", "0")
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert sorted(cases) == ["a_fail", "a_pass", "b_fail", "b_pass", "b_pass_too"]
    assert [name for name, case in cases.items() if case.find("failure") is not None] == ["a_fail", "b_fail"]
    assert len(root.findall(".//failure")) == 2  # one per failing scenario
    failure = cases["a_fail"].find("failure")
    assert failure is not None
    assert failure.get("message") == "at 1 s: expected Changeover.echo == 11C, got 10"
    assert failure.text == (
        "pkg/a.scenario:13:9: at 1 s: expected Changeover.echo == 11C, got 10\n"
        "pkg/a.scenario:14:9: at 1 s: expected Changeover.echo == 12C, got 10"
    )
    assert cases["a_pass"].get("classname") == "pkg.a"


def test_junit_reports_file_errors(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(in_tmp, {"a.scenario": scenario("broken", "at 1 s\n    set nothing = 1C\n")})
    code, _, _ = cli_run(capsys, "test", "pkg", "--junit", "results.xml")
    assert code == 1
    root = ElementTree.parse(in_tmp / "results.xml").getroot()
    (suite,) = root.iter("testsuite")
    assert suite.get("errors") == "1"
    (error,) = root.iter("error")
    assert error.text is not None and "pkg/a.scenario:7:13:" in error.text and "[scenario-name]" in error.text


def test_junit_does_not_overwrite_another_file(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit_package(in_tmp)
    precious = in_tmp / "notes.xml"
    precious.write_text("<notes>keep me</notes>\n")
    code, out, err = cli_run(capsys, "test", "pkg", "--junit", "notes.xml")
    assert (code, out) == (2, "")
    assert "will not overwrite `notes.xml`" in err and "--force" in err
    assert precious.read_text() == "<notes>keep me</notes>\n"
    code, _, _ = cli_run(capsys, "test", "pkg", "--junit", "notes.xml", "--force")
    assert code == 1
    assert ElementTree.parse(precious).getroot().tag == "testsuites"
    # A JUnit report of an earlier run is replaced without --force.
    code, _, _ = cli_run(capsys, "test", "pkg", "--junit", "notes.xml", "-k", "pass")
    assert code == 0
    assert len(list(ElementTree.parse(precious).getroot().iter("testcase"))) == 3


def test_format_json_output_is_json(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(in_tmp, {"a.scenario": scenario("broken", "at 1 s\n    set nothing = 1C\n")})
    code, out, _ = cli_run(capsys, "test", "pkg", "--format", "json")
    assert code == 1
    assert [d["code"] for d in json.loads(out)] == ["scenario-name"]
