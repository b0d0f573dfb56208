"""The checker on expressions and statements: types, units, names, writers.

Each case sets one expression or statement inside a small program and lists the error
codes it must produce (none for a correct one). The per-code corpus in
tests/data/diagnostics covers every code with whole files; these cases cover the unit
algebra an engineer meets daily.
"""

from __future__ import annotations

import pytest

from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.source import SourceFile
from hpdsl.check.checker import check_package

PROGRAM = """
enum SystemMode (Heating, Cooling)
program P
    input outdoor_temp: C range -40C .. 60C
    input suction_pressure: bar range 0 bar .. 50 bar
    input electrical_power: kW range 0 kW .. 200 kW
    input running: bool
    input load: % range 0 % .. 100 %
    parameter nominal_cop: real = 3.5 range 1.0 .. 8.0
    output flag: bool
    output observed: bool
    output mode: SystemMode = Heating
    output delta: K = 0 K
    output capacity: kW = 0 kW
    rule under_test
        {body}
    end
    rule readers
        observed = flag or running or mode == Heating or delta > 0 K or capacity > 0 kW
            or outdoor_temp > 0C or suction_pressure > 0 bar or electrical_power > 0 kW or load > 0 %
            or nominal_cop > 0.0
    end
end
"""


def errors(body: str) -> list[str]:
    source = SourceFile("t.rules", PROGRAM.replace("{body}", body))
    _, diagnostics = check_package([source])
    return sorted(d.code for d in diagnostics if d.is_error)


def everything(text: str) -> list[Diagnostic]:
    _, diagnostics = check_package([SourceFile("t.rules", text)])
    return diagnostics


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("outdoor_temp > 21C", []),
        ("outdoor_temp > 70 F", []),  # another temperature scale converts
        ("electrical_power > 500 W", []),
        ("outdoor_temp > suction_pressure", ["unit-mismatch"]),
        ("outdoor_temp + electrical_power > 5C", ["unit-mismatch"]),
        ("outdoor_temp - 15C > 6 K", []),
        ("outdoor_temp + 15C > 21C", ["absolute-temperature"]),
        ("outdoor_temp > 6 K", ["absolute-temperature"]),
        ("outdoor_temp * 2 > 21C", ["absolute-temperature"]),
        ("(outdoor_temp - 15C) * 2 > 6 K", []),
        ("-outdoor_temp > 5C", ["absolute-temperature"]),
        ("outdoor_temp > 21", ["missing-unit"]),
        ("outdoor_temp > 0", ["missing-unit"]),  # 0C is not 0K: zero needs a unit here
        ("electrical_power > 0", []),  # zero is zero in kW
        ("load > 30 %", []),
        ("load > 30", ["missing-unit"]),
        ("electrical_power * 0.7 > 10 kW", []),
        ("electrical_power / 0 > 1 kW", ["division-by-zero"]),
        ("electrical_power / electrical_power > 0.5", []),
        ("running and outdoor_temp", ["type-mismatch"]),
        ("mode == Heating", []),
        ("Cooling == mode", []),
        ("mode == 3", ["type-mismatch"]),
        ("mode < Cooling", ["type-mismatch"]),
        ("outdoor_temp < 5C for 10 min", []),
        ("outdoor_temp < 5C for 10", ["missing-unit"]),
        ("outdoor_temp < 5C for 10 kW", ["type-mismatch"]),
        ("abs(outdoor_temp - 20C) > 3 K", []),
        ("abs(outdoor_temp) > 3C", ["absolute-temperature"]),
        ("clamp(electrical_power, 0 kW, 50 kW) > 10 kW", []),
        ("clamp(electrical_power, 0 kW) > 1 kW", ["bad-call"]),
        ("min(electrical_power, outdoor_temp) > 1 kW", ["unit-mismatch"]),
        ("max(electrical_power, 2 kW, 3 kW) > 1 kW", []),
        ("rising(running)", []),
        ("rising(electrical_power)", ["type-mismatch"]),
        ("time_since(running) > 10 min", []),
        ("time_since(running) > 10 kW", ["unit-mismatch"]),
        ("outdoor_tmp > 5C", ["undefined-name"]),
        ("frobnicate(outdoor_temp)", ["undefined-name"]),
        ("time_in_state > 1 min", ["undefined-name"]),
        ("SystemMode.Heating == mode", []),
        ("SystemMode.Hot == mode", ["undefined-name"]),
        ("electrical_power / nominal_cop > 1 kW", []),
    ],
)
def test_conditions(condition: str, expected: list[str]) -> None:
    assert errors(f"flag = {condition}") == expected


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("delta = outdoor_temp - 15C", []),
        ("delta = outdoor_temp", ["absolute-temperature"]),
        ("capacity = electrical_power * nominal_cop", []),
        ("capacity = electrical_power * 3", []),
        ("capacity = 40", ["missing-unit"]),
        ("capacity = 0", []),
        ("capacity = outdoor_temp - 5C", ["unit-mismatch"]),
        ("mode = Cooling", []),
        ("mode = true", ["type-mismatch"]),
        ("outdoor_temp = 5C", ["not-assignable"]),
        ("nominal_cop = 4.0", ["not-assignable"]),
        (
            "if outdoor_temp > 21C then\n mode = Cooling\n"
            " else if outdoor_temp < 15C then\n mode = Heating\n end",
            [],
        ),
        ("if outdoor_temp then\n mode = Cooling\n end", ["type-mismatch"]),
    ],
)
def test_statements(statement: str, expected: list[str]) -> None:
    assert errors(statement) == expected


def test_one_mistake_is_reported_once() -> None:
    # The undefined name gets the error type; nothing that uses it is reported again.
    assert errors("capacity = max(undefined_power * 2, 3 kW) + 1 kW") == ["undefined-name"]


def test_did_you_mean() -> None:
    text = PROGRAM.replace("{body}", "flag = outdoor_tmp > 5C")
    (diagnostic,) = [d for d in everything(text) if d.is_error]
    assert diagnostic.hint == "did you mean `outdoor_temp`?"


def test_all_problems_in_one_run() -> None:
    body = "flag = outdoor_temp > 21\n delta = outdoor_temp\n mode = 3\n capacity = suction_pressure"
    assert errors(body) == ["absolute-temperature", "missing-unit", "type-mismatch", "unit-mismatch"]


def test_writers_need_distinct_priorities() -> None:
    text = """
program P
    input t: C range -40C .. 60C
    output fan: bool
    rule a priority {a}
        fan = t > 5C
    end
    rule b priority {b}
        if t > 30C then
            fan = false
        end
    end
end
"""
    conflicts = [d for d in everything(text.format(a=1, b=1)) if d.code == "conflicting-writers"]
    assert len(conflicts) == 1
    assert "rule `a`" in conflicts[0].message and "rule `b`" in conflicts[0].message
    assert [d for d in everything(text.format(a=1, b=2)) if d.is_error] == []


def test_one_rule_writing_an_output_twice_is_fine() -> None:
    text = """
program P
    input t: C range -40C .. 60C
    output fan: bool
    rule a
        fan = false
        if t > 5C then
            fan = true
        end
    end
end
"""
    assert everything(text) == []


def test_names_are_shared_across_files() -> None:
    plant = SourceFile("plant.rules", "enum SystemMode (Heating, Cooling)\nconst deadband: K = 6 K\n")
    program = SourceFile(
        "changeover.rules",
        "program P\n input t: C range -40C .. 60C\n output mode: SystemMode = Heating\n"
        " rule r\n  if t > 15C + deadband then\n   mode = Cooling\n"
        "  else\n   mode = Heating\n  end\n end\nend\n",
    )
    _, diagnostics = check_package([plant, program])
    assert diagnostics == []


def test_a_syntax_error_stops_semantic_checks_of_the_package() -> None:
    good = SourceFile(
        "a.rules", "program P\n input t: C\n output y: bool\n rule r\n  y = t > undefined\n end\nend\n"
    )
    bad = SourceFile("b.rules", "program Q\n rule r\n")
    _, diagnostics = check_package([good, bad])
    assert [d.code for d in diagnostics] == ["unclosed-block"]


def test_typed_package_records_expression_types() -> None:
    text = PROGRAM.replace("{body}", "delta = outdoor_temp - 15C")
    package, _ = check_package([SourceFile("t.rules", text)])
    assert package is not None
    described = sorted({t.describe() for t in package.expr_types.values()})
    assert "temperature difference (K)" in described
    assert "temperature (C)" in described


TABLE = """
table t(x: {key})
    | x | v |
{rows}
end
program P
    input a: {unit} range {low} .. {high}
    output o: int = 0
    rule r
        o = t(a).v
    end
end
"""


@pytest.mark.parametrize(
    ("key", "rows", "expected"),
    [
        # the document's A1-A4 leave -15C .. -10C uncovered
        (
            "C",
            "| > 5C | 0 |\n| -5C .. 5C | 1 |\n| -10C .. -5C | 2 |\n| < -15C | 3 |",
            ["table-gap: from -15C to -10C"],
        ),
        ("C", "| > 5C | 0 |\n| -5C .. 5C | 1 |\n| -10C .. -5C | 2 |\n| < -10C | 3 |", []),
        ("C", "| < 0C | 1 |\n| > 0C | 2 |", ["table-gap: at 0C"]),
        ("C", "| <= 0C | 1 |\n| >= 0C | 2 |", []),  # a shared end point is fine: the upper row wins
        ("C", "| < 0C | 1 |", ["table-gap: above 0C"]),
        ("C", "| 0C .. 10C | 1 |", ["table-gap: below 0C", "table-gap: above 10C"]),
        ("% range 0 % .. 100 %", "| 10 % .. 50 % | 1 |\n| > 50 % | 2 |", ["table-gap: from 0 % to 10 %"]),
        (
            "% range 0 % .. 100 %",
            "| 0 % .. 40 % | 1 |\n| 30 % .. 100 % | 2 |",
            ["table-overlap: from 30 % to 40 %"],
        ),
        ("C", "| <= 0C | 1 |\n| 5C .. -5C | 2 |\n| > 0C | 3 |", ["empty-range"]),
    ],
)
def test_range_table_coverage(key: str, rows: str, expected: list[str]) -> None:
    unit_key = key.split()[0]
    low, high = ("-40C", "60C") if unit_key == "C" else ("0 %", "100 %")
    text = TABLE.format(key=key, unit=unit_key, rows=rows, low=low, high=high)
    found = []
    for d in everything(text):
        if d.is_error:
            detail = d.message.split(" for x ")[-1] if d.code in ("table-gap", "table-overlap") else ""
            found.append(f"{d.code}: {detail}" if detail else d.code)
    assert sorted(found) == sorted(expected)


@pytest.mark.parametrize(
    ("points", "monotonic", "expected"),
    [
        ("| -10C | 10 kW |\n| 0C | 30 kW |\n| 5C | 50 kW |", "increasing", []),
        # K1 as the document's pseudo-code evaluates it: 100 kW just below 5C, 50 kW above
        (
            "| -10C | 10 kW |\n| 0C | 50 kW |\n| 5C | 100 kW |\n| 5C | 50 kW |",
            "increasing",
            ["curve-discontinuous"],
        ),
        ("| -10C | 10 kW |\n| 0C | 50 kW |\n| 5C | 40 kW |", "increasing", ["curve-not-monotonic"]),
        ("| -10C | 10 kW |\n| 0C | 50 kW |\n| 5C | 40 kW |", "", []),
        ("| 0C | 10 kW |\n| -10C | 50 kW |", "", ["curve-order"]),
        ("| 0C | 10 kW |", "", ["invalid-clause"]),
        ("| 0C | 10 |\n| 5C | 20 kW |", "", ["missing-unit"]),
    ],
)
def test_curves(points: str, monotonic: str, expected: list[str]) -> None:
    text = (
        f"curve cap(t: C) -> kW {monotonic}\n{points}\nend\n"
        "program P\n input a: C range -40C .. 60C\n output o: kW = 0 kW\n rule r\n  o = cap(a)\n end\nend\n"
    )
    assert sorted(d.code for d in everything(text) if d.is_error) == expected


@pytest.mark.parametrize(
    ("below", "above", "expected"),
    [("15C", "21C", []), ("21C", "15C", ["hysteresis-order"]), ("21C", "21C", ["hysteresis-order"])],
)
def test_hysteresis_thresholds(below: str, above: str, expected: list[str]) -> None:
    text = (
        "enum M (Heating, Cooling)\nprogram P\n input t: C range -40C .. 60C\n"
        f" parameter low: C = {below}\n output mode: M = Heating\n"
        f" hysteresis mode on t\n  below low -> Heating\n  above {above} -> Cooling\n end\nend\n"
    )
    assert sorted(d.code for d in everything(text) if d.is_error) == expected


def test_state_machine_shape() -> None:
    text = """
program P
    input go: bool
    output busy: bool = false
    machine m
        initial state Idle
            when go -> Busy
        end
        state Busy
            entry busy = true end
            after 10 min -> Idle
        end
        state Orphan
            when go -> Idle
        end
        state Stuck
        end
    end
end
"""
    found = sorted((d.code, d.message.split("`")[1]) for d in everything(text) if d.is_error)
    assert found == [
        ("dead-end-state", "Stuck"),
        ("unreachable-state", "Orphan"),
        ("unreachable-state", "Stuck"),
    ]


@pytest.mark.parametrize("consumer_first", [True, False])
def test_wiring_does_not_depend_on_program_order(consumer_first: bool) -> None:
    consumer = (
        "program Consumer\n input t: C from Producer.t_out\n output copy: C = 0C\n"
        " rule r\n  copy = t\n end\nend\n"
    )
    producer = (
        "program Producer\n input t_in: C range -40C .. 60C\n output t_out: C = 0C\n"
        " rule r\n  t_out = t_in\n end\nend\n"
    )
    files = [SourceFile("a.rules", consumer), SourceFile("b.rules", producer)]
    _, diagnostics = check_package(files if consumer_first else files[::-1])
    assert diagnostics == []


def test_wiring_mistakes() -> None:
    text = """
enum M (Heating, Cooling)
program Producer
    input t_in: C range -40C .. 60C
    output t_out: C = 0C
    rule r
        t_out = t_in
    end
end
program Consumer
    input wrong_type: M from Producer.t_out
    input no_such: C from Producer.t_missing
    input no_program: C from Nowhere.t_out
    output o: bool = false
    rule r
        o = wrong_type == Heating and no_such > 0C and no_program > 0C
    end
end
"""
    found = sorted((d.code, d.span.line) for d in everything(text) if d.is_error)
    assert found == [("undefined-name", 13), ("wiring", 11), ("wiring", 12)]


@pytest.mark.parametrize(
    ("declaration", "code", "fragment"),
    [
        ("input p: kw range 0 kW .. 5 kW", "unknown-unit", "did you mean `kW`?"),
        ("input m: Mode", "undefined-name", "`Mode` is not a type or a unit"),
        ("input m: SystemMod", "undefined-name", "did you mean `SystemMode`?"),
        ("input w: C from SystemMode.Heating", "wiring", "`SystemMode` is an enum, not a program"),
        ("input t: C range 0C .. 5C range 0C .. 9C", "invalid-clause", "input `t`: `range` is given twice"),
    ],
)
def test_declaration_messages(declaration: str, code: str, fragment: str) -> None:
    text = f"enum SystemMode (Heating, Cooling)\nprogram P\n    {declaration}\nend\n"
    errors = [d for d in everything(text) if d.is_error]
    assert [d.code for d in errors] == [code]
    assert fragment in errors[0].message + " " + (errors[0].hint or "")


def test_a_fraction_against_a_percentage_suggests_the_percentage() -> None:
    (diagnostic,) = [d for d in everything(PROGRAM.replace("{body}", "flag = load > 0.3")) if d.is_error]
    assert diagnostic.code == "missing-unit"
    assert diagnostic.hint is not None and diagnostic.hint.startswith("write `30 %`")


def test_not_constant_is_not_also_a_type_error() -> None:
    text = """
program P
    var count: int = 0
    output f: bool = false
    alarm a
        when f
        severity low
        delay count
    end
    rule r
        count = count + 1
    end
end
"""
    assert [d.code for d in everything(text) if d.is_error] == ["not-constant"]


def test_did_you_mean_is_computed_for_the_first_200_misspellings_only() -> None:
    # Each hint compares a name with every name in scope: thousands of misspellings in one
    # file would make the check quadratic, so the rest get the error without a hint.
    body = "\n        ".join(f"flag = runing_{k}" for k in range(250))
    source = SourceFile("t.rules", PROGRAM.replace("{body}", body))
    _, diagnostics = check_package([source])
    undefined = [d for d in diagnostics if d.code == "undefined-name"]
    assert len(undefined) == 250
    assert all(d.hint == "did you mean `running`?" for d in undefined[:200])
    assert all(d.hint is None for d in undefined[200:])
