"""The checker's reasoning about values (hpdsl.check.values): what the ranges prove, each kind in
more than the one shape of its corpus case, each quiet once corrected, and the arithmetic of
ranges sound for every value in them.

The corpus (tests/data/diagnostics/<code>/) holds one mistake and its correction per code; the
cases here are the other shapes the same mistake takes.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpdsl.base.diagnostics import CODES
from hpdsl.base.source import SourceFile
from hpdsl.check.checker import check_package
from hpdsl.check.values import domain as d
from hpdsl.check.values.domain import Num

VALUES = {code for code, entry in CODES.items() if entry.category == "values"}
CORPUS = Path(__file__).resolve().parent / "data" / "diagnostics"


def diagnostics_of(text: str) -> list[tuple[int, str]]:
    """(line, code) of every diagnostic of a one-file package."""
    _, diagnostics = check_package([SourceFile("case.rules", textwrap.dedent(text).lstrip("\n"))])
    return sorted((diag.span.line, diag.code) for diag in diagnostics)


def warnings_of(text: str) -> list[tuple[int, str]]:
    """(line, code) of the warnings about values, and of any error, of a one-file package."""
    return [
        (line, code)
        for line, code in diagnostics_of(text)
        if code in VALUES or code not in CODES or CODES[code].severity.value == "error"
    ]


def program(body: str, declarations: str = "") -> str:
    """A program with a few ranged points, the declarations and the items given."""
    head = textwrap.dedent(
        """
        program P "values"
            input temp: C range -40C .. 60C "Temperature"
            input power: kW range 0 kW .. 100 kW "Power"
            input heat: kW range 0 kW .. 300 kW "Heat"
            input running: bool "Running"
            input request: bool "Request"
        """
    ).strip("\n")
    return "\n".join(
        [
            head,
            textwrap.indent(textwrap.dedent(declarations).strip("\n"), "    "),
            textwrap.indent(textwrap.dedent(body).strip("\n"), "    "),
            "end",
            "",
        ]
    )


# ------------------------------------------------------------------------------ conditions
def test_a_contradiction_with_the_enclosing_condition_is_never_true() -> None:
    text = program(
        """
        rule r
            if temp > 30C then
                if temp < 20C then
                    flag = true
                else
                    flag = false
                end
            end
        end
        """,
        'output flag: bool "Flag"',
    )
    assert (10, "never-true") in warnings_of(text)


def test_a_value_the_writers_never_assign_makes_a_comparison_never_true() -> None:
    text = """
        enum Mode (Heating, Cooling)
        program P "modes"
            input temp: C range -40C .. 60C fallback 10C "Temperature"
            output mode: Mode = Heating "Mode, only ever Heating here"
            output cooling: bool "Cooling"

            rule r
                if temp < 15C then
                    mode = Heating
                end
                cooling = mode == Cooling
            end
        end
    """
    found = warnings_of(text)
    assert (11, "never-true") in found


def test_a_range_reaches_a_program_through_its_wiring() -> None:
    text = """
        program Sensor "the sensor"
            input raw: C range -20C .. 40C fallback 10C "Raw"
            output outdoor: C "Published"

            rule publish
                outdoor = raw
            end
        end

        program User "reads it"
            input outdoor: C from Sensor.outdoor "Outdoor"
            output hot: bool "Hot"

            rule r
                hot = outdoor > 45C
            end
        end
    """
    assert warnings_of(text) == [(15, "never-true")]


def test_a_table_column_and_a_curve_give_their_values() -> None:
    text = program(
        """
        table limits(t: C) "Load limits"
            | t          | limit |
            | < 0C       | 50 %  |
            | >= 0C      | 80 %  |
        end
        curve share(t: C) -> % increasing
            | -20C | 20 % |
            |  20C | 60 % |
        end
        rule r
            capped = limits(temp).limit > 90 %
            full = share(temp) > 70 %
        end
        """,
        'output capped: bool "Capped"\noutput full: bool "Full"',
    )
    assert warnings_of(text) == [(19, "never-true"), (20, "never-true")]


def test_an_always_true_comparison_inside_a_value_is_reported() -> None:
    text = program("rule r\n    ok = running or temp < 100C\nend", 'output ok: bool "OK"')
    assert warnings_of(text) == [(9, "always-true")]


def test_a_low_side_alarm_below_its_sensor_can_never_raise() -> None:
    text = program(
        """
        alarm frozen "Below the sensor's reach"
            when temp < -50C
            severity high
        end
        """
    )
    assert warnings_of(text) == [(9, "alarm-never-raises")]


# ------------------------------------------------------------------------------ shadowing
MACHINE = """
machine m
    initial state Idle
        when request -> Busy
    end
    state Busy
{transitions}
    end
    state Done
        after 1 min -> Idle
    end
end
"""


@pytest.mark.parametrize(
    ("transitions", "shadowed"),
    [
        ("after 10 min -> Idle\nafter 20 min -> Done", True),
        ("after 20 min -> Done\nafter 10 min -> Idle", False),
        ("when running -> Idle\nwhen running and request -> Done", True),
        ("when running and request -> Done\nwhen running -> Idle", False),
        ("when temp > 20C for 5 min -> Idle\nwhen temp > 20C for 10 min -> Done", True),
        ("when temp > 20C for 10 min -> Done\nwhen temp > 20C for 5 min -> Idle", False),
        ("when time_in_state > 5 min -> Idle\nafter 10 min -> Done", True),
    ],
)
def test_a_transition_an_earlier_one_always_takes_first(transitions: str, shadowed: bool) -> None:
    body = MACHINE.format(transitions=textwrap.indent(transitions, " " * 8))
    codes = [code for _, code in warnings_of(program(body))]
    assert ("shadowed-transition" in codes) is shadowed, codes


def test_an_else_if_shadowed_through_a_var_set_from_the_same_test() -> None:
    text = program(
        """
        rule r
            warm = temp > 20C
            if warm then
                level = 2
            else if temp > 25C then
                level = 1
            else
                level = 0
            end
        end
        """,
        'var warm: bool "Warm"\noutput level: int "Level"',
    )
    assert warnings_of(text) == [(13, "shadowed-branch")]


# ------------------------------------------------------------------------------ divisions
@pytest.mark.parametrize(
    ("body", "warned"),
    [
        ("cop = heat / power", True),
        ("cop = heat / max(power, 0.5 kW)", False),
        ("if power > 0 kW then\n    cop = heat / power\nend", False),
        ("valid = power >= 1 kW\nif valid then\n    cop = heat / power\nend", False),
        ("if running then\n    cop = heat / power\nend", True),
        ("cop = heat / (power + 1 kW)", False),
        ("cop = heat / (power - 50 kW)", True),
    ],
)
def test_a_division_is_warned_unless_something_keeps_its_divisor_off_zero(body: str, warned: bool) -> None:
    text = program(
        f"rule r\n{textwrap.indent(body, '    ')}\nend", 'output cop: real "COP"\nvar valid: bool "Valid"'
    )
    codes = [code for _, code in warnings_of(text)]
    assert ("unguarded-division" in codes) is warned, codes


def test_a_division_by_a_running_total_can_be_zero_at_midnight() -> None:
    text = program(
        'totalizer hours: h of running per day "Runtime today"\nrule r\n    rate = heat / hours\nend',
        'output rate: kW/h "Heat per hour of runtime"',
    )
    assert (10, "unguarded-division") in warnings_of(text)


# ------------------------------------------------------------------------------ bands
def test_a_dead_band_written_as_rules_can_invert_and_a_require_closes_it() -> None:
    rules = """
        rule select
            if temp > cool_above then
                mode = 2
            else if temp < heat_below then
                mode = 1
            end
        end
    """
    params = """
        parameter heat_below: C = 15C range 5C .. 20C "Heat below"
        parameter cool_above: C = 21C range 18C .. 30C "Cool above"
        output mode: int = 1 "Mode"
    """
    assert warnings_of(program(rules, params)) == [(13, "band-can-invert")]
    kept = params + '\nrequire band: cool_above - heat_below >= 5 K "5 K between"'
    assert warnings_of(program(rules, kept)) == []


def test_thresholds_of_one_if_that_can_swap() -> None:
    rules = """
        rule stage
            if temp < second_below then
                stages = 2
            else if temp < first_below then
                stages = 1
            else
                stages = 0
            end
        end
    """
    params = """
        parameter first_below: C = 10C range 0C .. 15C "One stage below"
        parameter second_below: C = 0C range -10C .. 12C "Two stages below"
        output stages: int "Stages"
    """
    assert warnings_of(program(rules, params)) == [(13, "band-can-invert")]
    kept = params + '\nrequire order: second_below < first_below "Two stages only colder"'
    assert warnings_of(program(rules, kept)) == []


def test_a_require_chain_keeps_a_band_open() -> None:
    params = """
        parameter low: C = 10C range 0C .. 30C "Low"
        parameter middle: C = 15C range 0C .. 30C "Middle"
        parameter high: C = 20C range 0C .. 30C "High"
        require lower: low + 1 K <= middle "Low below middle"
        require upper: middle + 1 K <= high "Middle below high"
        output heater: bool "Heater"
    """
    rules = "hysteresis heater on temp\n    below low -> true\n    above high -> false\nend"
    assert warnings_of(program(rules, params)) == []


def test_a_band_narrower_than_a_measurement_of_a_span() -> None:
    params = 'output heater: bool "Heater"'
    narrow = "hysteresis heater on power\n    below 50 kW -> false\n    above 50.05 kW -> true\nend"
    wide = "hysteresis heater on power\n    below 50 kW -> false\n    above 52 kW -> true\nend"
    assert warnings_of(program(narrow, params)) == [(10, "band-too-narrow")]
    assert warnings_of(program(wide, params)) == []


# ------------------------------------------------------------------------------ time
def test_a_held_condition_longer_than_the_timeout() -> None:
    body = MACHINE.format(
        transitions="        when temp > 15C for 20 min -> Done\n        after 15 min -> Idle"
    )
    assert (13, "timer-exceeds-timeout") in warnings_of(program(body))
    body = MACHINE.format(
        transitions="        when temp > 15C for 5 min -> Done\n        after 15 min -> Idle"
    )
    assert warnings_of(program(body)) == []


@pytest.mark.parametrize(
    ("periods", "overlaps"),
    [
        ("mon .. fri 07:00 .. 18:00\nfriday 12:00 .. 20:00", True),
        ("mon .. fri 07:00 .. 18:00\nfriday 18:00 .. 20:00", False),
        ("saturday .. monday 08:00 .. 12:00\nmonday 11:00 .. 13:00", True),
        ("saturday, sunday 08:00 .. 12:00\nmonday 11:00 .. 13:00", False),
    ],
)
def test_schedule_periods_that_overlap(periods: str, overlaps: bool) -> None:
    body = f'schedule open "Open"\n{textwrap.indent(periods, "    ")}\nend\nrule r\n    lit = open\nend'
    codes = [code for _, code in warnings_of(program(body, 'output lit: bool "Lit"'))]
    assert ("schedule-overlap" in codes) is overlaps


# ------------------------------------------------------------------------------ writers
def test_a_value_set_only_on_entering_a_state_latches() -> None:
    body = MACHINE.format(
        transitions="        entry\n            seen = true\n        end\n        after 5 min -> Done"
    )
    assert (14, "latched-output") in warnings_of(program(body, 'output seen: bool "Seen"'))


def test_an_alarm_action_that_nothing_undoes_latches() -> None:
    body = 'alarm hot "Hot"\n    when temp > 50C\n    severity high\n    action\n        enable = false\nend'
    assert warnings_of(program(body, 'output enable: bool = true "Enable"')) == [(12, "latched-output")]
    fixed = body + "\nrule release priority 0\n    enable = true\nend"
    fixed = fixed.replace('alarm hot "Hot"', 'alarm hot "Hot" priority 1')
    assert warnings_of(program(fixed, 'output enable: bool = true "Enable"')) == []


def test_a_higher_writer_in_every_scan_cancels_an_alarm_action() -> None:
    body = """
        alarm hot "Hot" priority 1
            when temp > 50C
            severity high
            action
                enable = false
        end
        rule run priority 2
            enable = true
        end
    """
    assert (12, "cancelled-action") in warnings_of(program(body, 'output enable: bool = true "Enable"'))


def test_a_lockout_kept_apart_from_the_action_it_would_cancel_is_quiet() -> None:
    body = """
        rule lockout priority 2
            if temp > 5C and not request then
                aux = false
            end
        end
        rule support priority 1
            if request then
                aux = true
            end
        end
        rule demand priority 0
            aux = temp < 0C
        end
    """
    assert warnings_of(program(body, 'output aux: bool "Aux"')) == []


def test_a_high_side_fallback_that_hides_a_high_alarm() -> None:
    text = """
        program P "discharge"
            input discharge: C range -40C .. 150C fallback 20C "Discharge temperature"
            output reduce: bool "Reduce load"

            alarm hot "Hot discharge"
                when discharge > 110C
                severity high
            end

            rule r
                reduce = hot
            end
        end
    """
    assert warnings_of(text) == [(2, "unsafe-fallback")]
    assert warnings_of(text.replace("fallback 20C", "fallback 150C")) == []


# ------------------------------------------------------------------------------ the rest
def test_allow_comments_silence_only_the_codes_they_name() -> None:
    text = program(
        "rule r\n    cop = heat / power  # allow: unguarded-division\nend", 'output cop: real "COP"'
    )
    assert warnings_of(text) == []
    other = text.replace("allow: unguarded-division", "allow: never-true")
    assert warnings_of(other) == [(9, "unguarded-division")]


def test_values_are_not_reasoned_about_while_the_rules_have_errors() -> None:
    text = program("rule r\n    cop = heat / power + undefined_name\nend", 'output cop: real "COP"')
    assert [code for _, code in diagnostics_of(text) if code != "unused"] == ["undefined-name"]


def test_a_literal_underflow_is_named_in_the_division_by_zero_it_causes() -> None:
    text = program("rule r\n    cop = heat / 1e-400 kW\nend", 'output cop: kW "COP"')
    assert [code for _, code in warnings_of(text)] == ["division-by-zero", "literal-underflow"]


# ------------------------------------------------------------------------------ soundness
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@st.composite
def ranges_with_a_point(draw: st.DrawFn) -> tuple[Num, float]:
    a, b = sorted((draw(finite), draw(finite)))
    x = draw(st.floats(min_value=a, max_value=b)) if a < b else a
    return Num(a, b), x


@settings(max_examples=300, deadline=None)
@given(ranges_with_a_point(), ranges_with_a_point(), st.sampled_from(["+", "-", "*", "/"]))
def test_range_arithmetic_holds_every_result_of_its_values(
    left: tuple[Num, float], right: tuple[Num, float], op: str
) -> None:
    (a, x), (b, y) = left, right
    if op == "+":
        result, value = a + b, x + y
    elif op == "-":
        result, value = a - b, x - y
    elif op == "*":
        result, value = a * b, x * y
    else:
        result, value = a.divided_by(b), (x / y if y != 0 else 0.0)
        result = result.hull(d.num(0.0)) if b.contains(0.0) else result
    tolerance = 1e-9 * max(1.0, abs(value))
    assert result.low - tolerance <= value <= result.high + tolerance or math.isinf(result.high - result.low)


@settings(max_examples=300, deadline=None)
@given(ranges_with_a_point(), ranges_with_a_point(), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
def test_a_decided_comparison_holds_for_every_value(
    left: tuple[Num, float], right: tuple[Num, float], op: str
) -> None:
    (a, x), (b, y) = left, right
    truth = {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y, "==": x == y, "!=": x != y}[op]
    assert truth in d.compare(op, a, b).values
    narrowed = d.narrowed(op, a, b)
    if truth:
        assert narrowed.contains(x), (a, b, op, x, y)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("coil: C", "5 K", "field `coil`: a temperature difference (K) where a temperature (C) is expected"),
        ("drop: K", "temp", "field `drop`: a temperature (C) where a temperature difference (K) is expected"),
    ],
)
def test_a_log_field_of_the_wrong_kind_of_temperature_is_named_as_a_field(
    field: str, value: str, message: str
) -> None:
    name = field.split(":")[0]
    body = f'event done "Done"\n    {field} "A field"\nend\nrule r\n    if rising(running) then\n'
    body += f"        log done({name}: {value})\n    end\nend"
    _, diagnostics = check_package([SourceFile("case.rules", program(body))])
    found = [diag for diag in diagnostics if diag.code == "absolute-temperature"]
    assert [diag.message for diag in found] == [message]


def test_a_value_set_in_some_branches_of_an_if_with_an_else_keeps_its_value_in_the_others() -> None:
    rules = """
        rule ventilate
            if temp > 25C then
                fan = true
                damper = (temp - 20C) * 10 %/K
            else
                fan = false
            end
        end
    """
    declarations = 'output fan: bool "Fan"\noutput damper: % range 0 % .. 100 % "Damper"'
    assert warnings_of(program(rules, declarations)) == [(12, "latched-output")]
    fixed = rules.replace("fan = false", "fan = false\n        damper = 0 %")
    assert warnings_of(program(fixed, declarations)) == []
    set_before = rules.replace("if temp > 25C then", "damper = 0 %\n    if temp > 25C then")
    assert warnings_of(program(set_before, declarations)) == []


def test_timers_that_need_a_state_longer_than_its_timeout() -> None:
    body = """
        machine cycle
            initial state Idle
                when request -> Busy
            end
            state Busy
                after 20 min -> Idle
                after 15 min -> Idle
            end
        end
        alarm too_long "Busy for too long"
            when cycle == cycle.Busy
            severity high
            delay 20 min
        end
        rule watch
            stuck = cycle == cycle.Busy for 30 min
        end
    """
    found = warnings_of(program(body, 'output stuck: bool "Stuck"'))
    assert found == [
        (13, "timer-exceeds-timeout"),
        (20, "timer-exceeds-timeout"),
        (23, "timer-exceeds-timeout"),
    ]
    shorter = body.replace("delay 20 min", "delay 10 min").replace("for 30 min", "for 12 min")
    shorter = shorter.replace("after 20 min -> Idle\n", "")
    assert warnings_of(program(shorter, 'output stuck: bool "Stuck"')) == []


def test_the_warnings_are_the_same_bytes_in_every_process(tmp_path: Path) -> None:
    """What the analysis says never depends on where objects happen to lie in memory."""
    cases = sorted(str(CORPUS / code / "bad.rules") for code in VALUES if (CORPUS / code).is_dir())
    script = (
        "import sys\nfrom pathlib import Path\nfrom hpdsl.base.render import render_json\n"
        "from hpdsl.check.package import check_paths\n"
        "for case in sys.argv[1:]:\n"
        "    result = check_paths([Path(case)])\n"
        "    print(render_json(result.diagnostics))\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-c", script, *cases],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert outputs.pop().count('"code"') >= len(cases)
