"""The Structured Text interpreter of tests/stinterp.py: what it runs and how, and what it rejects.

Accepted snippets are executed and their results compared with values worked out by hand; rejected
snippets mark the offending line with `(*<*)`, and the error must name that line and the problem.
"""

from __future__ import annotations

import math
import re
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from stinterp import Instance, StArray, StError, StModule, StStruct, load

DATA = Path(__file__).resolve().parent / "data" / "stinterp"
NAN = object()


def f32(x: float) -> float:
    """`x` rounded to IEEE single precision."""
    return struct.unpack("<f", struct.pack("<f", x))[0]  # type: ignore[no-any-return]


def fb(decls: str, body: str, name: str = "T") -> str:
    """A FUNCTION_BLOCK with the given declarations and body."""
    return f"FUNCTION_BLOCK {name}\n{decls}\n{body}\nEND_FUNCTION_BLOCK\n"


def run(text: str, calls: list[dict[str, Any]], pou: str = "T") -> Instance:
    """Load `text`, instantiate `pou` and call it once per entry of `calls`."""
    inst = load(text, name="case.st").instantiate(pou)
    for inputs in calls:
        inst.call(**inputs)
    return inst


def check(inst: Instance, expected: dict[str, Any]) -> None:
    """Every path of `expected` holds its value, of the same Python type (NAN: any NaN)."""
    for path, want in expected.items():
        got = inst.get(path)
        if want is NAN:
            assert isinstance(got, float) and math.isnan(got), (path, got)
        else:
            assert got == want and type(got) is type(want), (path, got, want)


# ---------------------------------------------------------------------------------- accepted

ARITHMETIC = fb(
    "VAR_OUTPUT a : INT; b : INT; c : DINT; d : LREAL; e : INT; u : UINT; END_VAR",
    """a := 2 + 3 * 4;
b := (2 + 3) * 4;
c := -7 - -3;
d := 1.5 * 4.0 - 0.5 / 2.0;
e := 17 MOD 5 + 17 / 5;
u := 65535;""",
)

DIVISION = fb(
    """VAR_INPUT x : DINT; y : DINT; END_VAR
VAR_OUTPUT q : DINT; r : DINT; qc : DINT; rc : DINT; END_VAR""",
    """r := x MOD y;
IF y <> 0 THEN
    q := x / y;
END_IF;
qc := -7 / 2;
rc := -7 MOD 2;""",
)

PRECISION = fb(
    """VAR_OUTPUT r : REAL; l : LREAL; third : REAL; END_VAR
VAR i : INT; END_VAR""",
    """FOR i := 1 TO 10 DO
    r := r + 0.1;
    l := l + 0.1;
END_FOR;
third := INT_TO_REAL(i) / 3.0;""",
)

IEEE = fb(
    """VAR_INPUT z : LREAL; zr : REAL; END_VAR
VAR_OUTPUT n : LREAL; p : LREAL; q : REAL; same : BOOL; differ : BOOL; below : BOOL; above : BOOL; END_VAR""",
    """n := z / z;
p := 1.0 / z;
q := -1.0 / zr;
same := n = n;
differ := n <> n;
below := n < 1.0;
above := n >= 1.0;""",
)

COUNTER = fb(
    """VAR_INPUT incr : INT := 1; END_VAR
VAR_OUTPUT count : INT; END_VAR""",
    "count := count + incr;",
    name="Counter",
)

PERSISTENCE = COUNTER + fb(
    """VAR c : Counter; END_VAR
VAR_OUTPUT a : INT; b : INT; END_VAR""",
    """c(incr := 5);
c();
a := c.count;
c.incr := 2;
c();
b := c.count;""",
)

IN_OUT = (
    """TYPE Tally :
STRUCT
    total : DINT;
    hits : ARRAY[1..3] OF INT;
END_STRUCT;
END_TYPE
"""
    + fb(
        """VAR_INPUT amount : DINT; END_VAR
VAR_IN_OUT acc : Tally; n : INT; END_VAR""",
        """acc.total := acc.total + amount;
acc.hits[n] := acc.hits[n] + 1;
n := n + 1;""",
        name="Adder",
    )
    + fb(
        """VAR_IN_OUT shared : Tally; END_VAR
VAR adder_1 : Adder; k : INT := 1; END_VAR
VAR_OUTPUT k_out : INT; END_VAR""",
        """adder_1(amount := 10, acc := shared, n := k);
adder_1(amount := 5, acc := shared, n := k);
k_out := k;""",
    )
)

MODES = """TYPE Mode : (MODE_OFF, MODE_HEAT, MODE_COOL) := MODE_OFF;
END_TYPE
"""

CASES = MODES + fb(
    """VAR_INPUT m : Mode; x : INT; END_VAR
VAR_OUTPUT a : INT; b : INT; typed : Mode := Mode#MODE_COOL; END_VAR""",
    """CASE m OF
    MODE_HEAT: a := 1;
    Mode#MODE_COOL, MODE_OFF: a := 2;
END_CASE;
CASE x OF
    1, 2: b := 10;
    3..5, 7: b := 20;
    -3..-1: b := 30;
ELSE
    b := 99;
END_CASE;
IF m = Mode#MODE_HEAT THEN
    typed := MODE_HEAT;
END_IF;""",
)

FUNCTIONS = """FUNCTION Clamp01 : LREAL
VAR_INPUT x : LREAL; END_VAR
IF x < 0.0 THEN
    Clamp01 := 0.0;
    RETURN;
END_IF;
Clamp01 := MIN(x, 1.0);
END_FUNCTION

FUNCTION Scale : LREAL
VAR_INPUT x : LREAL; k : LREAL := 2.0; END_VAR
VAR total : LREAL; END_VAR
total := total + x;
Scale := total * k;
END_FUNCTION
""" + fb(
    "VAR_OUTPUT a : LREAL; b : LREAL; c : LREAL; d : LREAL; END_VAR",
    """a := Scale(x := 3.0);
b := Scale(3.0, 3.0);
c := Clamp01(x := -5.0) + Clamp01(0.25);
d := Scale(k := 1.0, x := Scale(1.0, 1.0));""",
)

AGGREGATES = """TYPE Point :
STRUCT
    x : INT := 1;
    y : INT := 2;
END_STRUCT;
END_TYPE
""" + fb(
    """VAR
    p : Point;
    q : Point := (y := 7);
    pts : ARRAY[0..2] OF Point;
    grid : ARRAY[1..2, 1..3] OF INT := [1, 2, 3, 4, 5, 6];
    fill : ARRAY[1..4] OF LREAL := [2(1.5), 9.0];
    i : INT;
END_VAR
VAR_OUTPUT s : INT; g : INT; END_VAR""",
    """pts[2] := q;
pts[2].x := pts[2].x + 10;
s := p.x + p.y + pts[2].x + pts[2].y + q.x;
FOR i := 1 TO 3 DO
    g := g + grid[2, i];
END_FOR;""",
)

CONVERSIONS = fb(
    """VAR_INPUT x : LREAL; END_VAR
VAR_OUTPUT
    a : INT; b : INT; c : DINT; d : DINT; e : REAL; f : LREAL; g : INT; h : BOOL; k : REAL;
END_VAR""",
    """a := LREAL_TO_INT(x);
b := REAL_TO_INT(REAL#-0.5);
c := TRUNC(x);
d := TRUNC(-2.7);
e := LREAL_TO_REAL(0.1);
f := REAL_TO_LREAL(e);
g := BOOL_TO_INT(TRUE) + DINT_TO_INT(c);
h := INT_TO_BOOL(g);
k := INT_TO_REAL(2) / 3.0;""",
)

STANDARD = fb(
    """VAR_INPUT x : LREAL; END_VAR
VAR_OUTPUT a, b, c, d, e, f, g : LREAL; i : DINT; END_VAR""",
    """a := MAX(x, 1.0, 2.0);
b := MAX(IN1 := x, IN2 := -1.0);
c := LIMIT(MN := 0.0, IN := x, MX := 10.0);
d := LIMIT(0.0, x, 1.0);
e := SEL(x > 0.0, -1.0, 1.0);
f := ABS(x) + SQRT(16.0) + MOVE(x);
g := EXP(0.0) + LN(1.0);
i := MIN(DINT#4, 3, 7);""",
)

LOOPS = fb(
    """VAR_OUTPUT n : INT; m : INT; k : INT; END_VAR
VAR i : INT; END_VAR""",
    """WHILE n < 10 DO
    n := n + 3;
END_WHILE;
REPEAT
    m := m + 1;
UNTIL m >= 4
END_REPEAT;
FOR i := 10 TO 1 BY -2 DO
    k := k + i;
    IF k > 20 THEN
        EXIT;
    END_IF;
END_FOR;""",
)

STRINGS = fb(
    "VAR_OUTPUT s : STRING[5]; longer : STRING[20]; same : BOOL; q : STRING; END_VAR",
    """s := 'abcdefgh';
longer := s;
same := longer = 'abcde';
q := 'it$'s $$1';""",
)

PROGRAM = (
    fb(
        """VAR_INPUT x : INT; END_VAR
VAR_OUTPUT y : INT; END_VAR""",
        "y := x * 2;",
        name="Doubler",
    )
    + """PROGRAM Main
VAR d : Doubler; END_VAR
VAR_OUTPUT r1 : INT; r2 : INT; END_VAR
d(x := 4, y => r1);
d.x := 10;
d();
r2 := d.y;
END_PROGRAM
"""
)

TEMPS = fb(
    """VAR_TEMP tmp : INT; END_VAR
VAR CONSTANT K : INT := 3; END_VAR
VAR_OUTPUT a : INT; b : INT; END_VAR
VAR RETAIN kept : INT; END_VAR""",
    """tmp := tmp + 1;
kept := kept + 1;
a := tmp;
b := K * kept;""",
)

ACCEPTED = [
    pytest.param(
        ARITHMETIC, [{}], {"a": 14, "b": 20, "c": -4, "d": 5.75, "e": 5, "u": 65535}, id="arithmetic"
    ),
    pytest.param(DIVISION, [{"x": -7, "y": 2}], {"q": -3, "r": -1, "qc": -3, "rc": -1}, id="div-neg-pos"),
    pytest.param(DIVISION, [{"x": 7, "y": -2}], {"q": -3, "r": 1}, id="div-pos-neg"),
    pytest.param(DIVISION, [{"x": -7, "y": -2}], {"q": 3, "r": -1}, id="div-neg-neg"),
    pytest.param(DIVISION, [{"x": 7, "y": 0}], {"q": 0, "r": 0}, id="mod-zero"),
    pytest.param(
        IEEE, [{"z": 0.0, "zr": 0.0}], {"n": NAN, "p": math.inf, "q": -math.inf}, id="ieee-division"
    ),
    pytest.param(
        IEEE,
        [{"z": 0.0}],
        {"same": False, "differ": True, "below": False, "above": False},
        id="nan-comparisons",
    ),
    pytest.param(PERSISTENCE, [{}], {"a": 10, "b": 12}, id="fb-state-and-inputs"),
    pytest.param(PERSISTENCE, [{}, {}], {"a": 22, "b": 24, "c.incr": 2}, id="fb-state-over-calls"),
    pytest.param(CASES, [{"m": "MODE_HEAT", "x": 1}], {"a": 1, "b": 10, "typed": "MODE_HEAT"}, id="case-1"),
    pytest.param(CASES, [{"m": "MODE_COOL", "x": 4}], {"a": 2, "b": 20, "typed": "MODE_COOL"}, id="case-2"),
    pytest.param(CASES, [{"m": "mode_off", "x": -2}], {"a": 2, "b": 30, "m": "MODE_OFF"}, id="case-3"),
    pytest.param(CASES, [{"m": "MODE_HEAT", "x": 6}], {"a": 1, "b": 99}, id="case-else"),
    pytest.param(FUNCTIONS, [{}], {"a": 6.0, "b": 9.0, "c": 0.25, "d": 1.0}, id="functions"),
    pytest.param(
        AGGREGATES, [{}], {"s": 22, "g": 15, "pts[2].x": 11, "q.x": 1, "grid[2, 3]": 6}, id="aggregates"
    ),
    pytest.param(
        AGGREGATES, [{}], {"fill[2]": 1.5, "fill[3]": 9.0, "fill[4]": 0.0, "pts[0].y": 2}, id="initialisers"
    ),
    pytest.param(
        CONVERSIONS,
        [{"x": 2.5}],
        {
            "a": 2,
            "b": 0,
            "c": 2,
            "d": -2,
            "e": f32(0.1),
            "f": f32(0.1),
            "g": 3,
            "h": True,
            "k": f32(f32(2.0) / f32(3.0)),
        },
        id="conversions",
    ),
    pytest.param(
        CONVERSIONS, [{"x": -2.5}], {"a": -2, "c": -2, "g": -1, "h": True}, id="conversions-negative"
    ),
    pytest.param(CONVERSIONS, [{"x": 1.0}], {"a": 1, "g": 2}, id="conversions-exact"),
    pytest.param(
        STANDARD,
        [{"x": 0.5}],
        {"a": 2.0, "b": 0.5, "c": 0.5, "d": 0.5, "e": 1.0, "f": 5.0, "g": 1.0, "i": 3},
        id="standard-functions",
    ),
    pytest.param(
        STANDARD, [{"x": -3.0}], {"a": 2.0, "b": -1.0, "c": 0.0, "d": 0.0, "e": -1.0, "f": 4.0}, id="std-2"
    ),
    pytest.param(LOOPS, [{}], {"n": 12, "m": 4, "k": 24, "i": 6}, id="loops"),
    pytest.param(
        STRINGS, [{}], {"s": "abcde", "longer": "abcde", "same": True, "q": "it's $1"}, id="strings"
    ),
    pytest.param(TEMPS, [{}, {}, {}], {"a": 1, "b": 9, "kept": 3}, id="temp-constant-retain"),
]


@pytest.mark.parametrize(("text", "calls", "expected"), ACCEPTED)
def test_accepted_snippets_compute(text: str, calls: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    check(run(text, calls), expected)


def test_real_is_single_precision_and_differs_from_lreal() -> None:
    inst = run(PRECISION, [{}])
    single = 0.0
    double = 0.0
    for _ in range(10):
        single = f32(single + f32(0.1))
        double += 0.1
    assert inst.get("r") == single == 1.0000001192092896
    assert inst.get("l") == double == 0.9999999999999999
    assert inst.get("third") == f32(11 / 3)


NAN_SELECTION = fb(
    """VAR_INPUT x : LREAL; END_VAR
VAR_OUTPUT
    max_first, max_last, min_first, min_last, limit_nan, abs_zero, inv_abs : LREAL;
    ties : ARRAY[1..6] OF DINT; unsigned : UINT;
END_VAR""",
    """max_first := MAX(x, 1.0);
max_last := MAX(1.0, x);
min_first := MIN(x, 1.0);
min_last := MIN(1.0, x);
limit_nan := LIMIT(2.0, x, 3.0);
abs_zero := ABS(-0.0);
inv_abs := 1.0 / abs_zero;
ties[1] := LREAL_TO_DINT(0.5);
ties[2] := LREAL_TO_DINT(1.5);
ties[3] := LREAL_TO_DINT(2.5);
ties[4] := LREAL_TO_DINT(-2.5);
ties[5] := LREAL_TO_DINT(2.5000001);
ties[6] := LREAL_TO_DINT(-0.4);
unsigned := LREAL_TO_UINT(-7.0);""",
)


def test_selection_and_rounding_follow_matiec() -> None:
    inst = run(NAN_SELECTION, [{"x": math.nan}])
    assert math.isnan(inst.get("max_first")) and inst.get("max_last") == 1.0
    assert math.isnan(inst.get("min_first")) and inst.get("min_last") == 1.0
    assert inst.get("limit_nan") == 2.0
    assert inst.get("inv_abs") == -math.inf
    assert inst.get("ties").tolist() == [0, 2, 2, -2, 3, 0]
    assert inst.get("unsigned") == 0


def test_program_outputs_and_fb_members() -> None:
    check(run(PROGRAM, [{}], pou="Main"), {"r1": 8, "r2": 20, "d.x": 10, "d.y": 20})


def test_fb_inputs_persist_between_python_calls() -> None:
    counter = load(COUNTER, name="case.st").instantiate("counter")
    assert counter.call(incr=3).get("COUNT") == 3
    assert counter.call().get("count") == 6
    assert counter.call(INCR=1).get("count") == 7


def test_in_out_is_bound_by_reference() -> None:
    module = load(IN_OUT, name="case.st")
    shared = module.new_value("tally")
    inst = module.instantiate("T")
    inst.call(shared=shared)
    assert isinstance(shared, StStruct)
    assert shared["total"] == 15
    assert shared["HITS"] == [1, 1, 0]
    assert inst.get("k_out") == 3
    assert inst.get("shared") is shared
    line = IN_OUT.splitlines().index("acc.hits[n] := acc.hits[n] + 1;") + 1
    with pytest.raises(StError, match=rf"^case\.st:{line}: array index 4 is outside the bounds 1\.\.3"):
        inst.call(shared=shared)


def test_functions_are_called_from_python() -> None:
    module = load(FUNCTIONS, name="case.st")
    assert module.call_function("clamp01", -2.0) == 0.0
    assert module.call_function("Clamp01", 0.5) == 0.5
    assert module.call_function("Clamp01", 3) == 1.0
    assert module.call_function("Scale", 2.0) == 4.0
    assert module.call_function("Scale", x=2.0, k=0.5) == 1.0


def test_enum_default_is_first_member_or_declared() -> None:
    text = (
        MODES
        + "TYPE Level : (LEVEL_LOW, LEVEL_HIGH);\nEND_TYPE\n"
        + fb("VAR_OUTPUT m : Mode; v : Level; w : Level := LEVEL_HIGH; END_VAR", "m := m;")
    )
    check(run(text, []), {"m": "MODE_OFF", "v": "LEVEL_LOW", "w": "LEVEL_HIGH"})


RUNTIME_ERRORS = [
    pytest.param(
        fb("VAR_INPUT x : INT; END_VAR\nVAR_OUTPUT y : INT; END_VAR", "y := x * 2;"),
        {"x": 20000},
        4,
        "INT overflow: 40000",
        id="int-overflow",
    ),
    pytest.param(
        fb("VAR_INPUT x : DINT; END_VAR\nVAR_OUTPUT y : DINT; END_VAR", "y := 10 / x;"),
        {"x": 0},
        4,
        "integer division by zero",
        id="int-division-by-zero",
    ),
    pytest.param(
        fb("VAR_INPUT x : LREAL; END_VAR\nVAR_OUTPUT y : DINT; END_VAR", "y := LREAL_TO_DINT(x / x);"),
        {"x": 0.0},
        4,
        "cannot convert nan",
        id="nan-to-int",
    ),
    pytest.param(
        fb("VAR_INPUT x : LREAL; END_VAR\nVAR_OUTPUT y : SINT; END_VAR", "y := TRUNC(x);"),
        {"x": 200.0},
        4,
        "SINT overflow",
        id="trunc-overflow",
    ),
    pytest.param(
        fb("VAR_INPUT i : INT; END_VAR\nVAR a : ARRAY[1..3] OF BOOL; END_VAR", "a[i] := TRUE;"),
        {"i": 0},
        4,
        "array index 0 is outside the bounds 1..3",
        id="array-bounds",
    ),
]


@pytest.mark.parametrize(("text", "inputs", "line", "message"), RUNTIME_ERRORS)
def test_run_time_errors_name_the_line(text: str, inputs: dict[str, Any], line: int, message: str) -> None:
    inst = load(text, name="case.st").instantiate("T")
    with pytest.raises(StError) as info:
        inst.call(**inputs)
    assert str(info.value).startswith(f"case.st:{line}: ")
    assert message in str(info.value)


# ------------------------------------------------------------------------------ Python API


def test_values_seen_from_python() -> None:
    inst = load(AGGREGATES + MODES + fb("VAR_INPUT r : REAL; l : LREAL; m : Mode; END_VAR", "r := r;", "U"),
                name="case.st").instantiate("u")  # fmt: skip
    inst.set("R", 0.1)
    inst.set("l", 0.1)
    assert inst.get("r") == f32(0.1) != 0.1
    assert inst.get("l") == 0.1
    inst.set("m", "mode_cool")
    assert inst.get("m") == "MODE_COOL"
    with pytest.raises(ValueError, match="not a member of Mode"):
        inst.set("m", "MODE_WARM")
    with pytest.raises(TypeError):
        inst.set("m", 1)
    with pytest.raises(KeyError):
        inst.get("nope")


def test_aggregates_seen_from_python() -> None:
    inst = load(AGGREGATES, name="case.st").instantiate("T")
    grid = inst.get("grid")
    assert isinstance(grid, StArray)
    assert grid.bounds == [(1, 2), (1, 3)]
    assert grid[1, 3] == 3 and grid.tolist() == [1, 2, 3, 4, 5, 6]
    with pytest.raises(IndexError):
        grid[0, 1]
    inst.set("grid[1, 1]", 40)
    assert grid[1, 1] == 40
    with pytest.raises(ValueError, match="outside the range of INT"):
        inst.set("grid[1, 1]", 40000)
    inst.set("q", {"x": 5})
    assert inst.get("q") == {"x": 5, "y": 7}
    inst.set("pts[1].y", -1)
    assert inst.get("pts")[1]["y"] == -1
    inst.call()
    assert inst.get("s") == 2 + 1 + 15 + 7 + 5


def test_error_messages_start_with_name_and_line() -> None:
    with pytest.raises(StError) as info:
        load(fb("VAR x : INT; END_VAR", "x := 1.5;"), name="unit.st")
    assert str(info.value).startswith("unit.st:3: assignment to x: expected INT, got real literal 1.5")


def test_syntax_errors_name_line_and_column() -> None:
    with pytest.raises(StError, match=r"^case\.st:3: syntax error at column 9: unexpected ';'"):
        load(fb("VAR x : INT; END_VAR", "x := 1 +;"), name="case.st")


def test_every_problem_is_reported() -> None:
    text = fb("VAR x : INT; r : REAL; END_VAR", "x := 1.5;\nr := 2;\nx := nope;")
    with pytest.raises(StError) as info:
        load(text, name="case.st")
    lines = str(info.value).splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == ["case.st:3", "case.st:4", "case.st:5"]


# ------------------------------------------------------------------------------ the sample


def sample() -> str:
    """The representative generator output, with its identifiers MATIEC rejects renamed."""
    return (DATA / "changeover.st").read_text(encoding="utf-8")


def test_sample_runs() -> None:
    module = load(sample(), name="changeover.st")
    assert sorted(name.lower() for name in module.pou_names) == [
        "changeover",
        "changeover_main",
        "compressor_staging_stage_1",
        "hp_floor",
        "hp_system_mode_ordinal",
        "hpeventlog",
    ]
    log = module.new_value("HpEventBuffer")
    fb_ = module.instantiate("Changeover")
    scan = {"cycle_time_s": 0.5, "outdoor_temp_io_fault": False, "event_log": log}
    assert fb_.call(outdoor_temp=25.0, **scan).get("system_mode") == "SYSTEM_MODE_COOLING"
    assert fb_.call(outdoor_temp=18.0, **scan).get("system_mode") == "SYSTEM_MODE_COOLING"
    assert fb_.call(outdoor_temp=10.0, **scan).get("system_mode") == "SYSTEM_MODE_HEATING"
    assert log["sequence"] == 0
    fb_.call(outdoor_temp=99.0, **scan)
    fb_.call(outdoor_temp=99.0, **scan)
    assert fb_.get("outdoor_temp_faulted") is True
    assert log["sequence"] == 1 and log["next"] == 2
    entry = log["entries"][1]
    assert (entry["kind"], entry["source"], entry["field_name"][1], entry["field_value"][1]) == (
        2,
        "Changeover",
        "outdoor_temp",
        99.0,
    )
    assert fb_.get("time_s") == 2.5
    assert fb_.call(outdoor_temp=12.0, **scan).get("outdoor_temp_faulted") is False
    assert module.call_function("HP_FLOOR", -2.5) == -3
    assert module.call_function("hp_system_mode_ordinal", "SYSTEM_MODE_COOLING") == 1.0

    main = module.instantiate("changeover_main")
    main.call()
    main.call(cycle_time_s=0.25)
    assert main.get("changeover_1.time_s") == 0.1 + 0.25
    assert main.get("event_log.sequence") == 0


def test_sample_scans_fast() -> None:
    module = load(sample(), name="changeover.st")
    log = module.new_value("HpEventBuffer")
    fb_ = module.instantiate("Changeover")
    scans = 5000
    start = time.perf_counter()
    for i in range(scans):
        fb_.call(
            cycle_time_s=0.1, outdoor_temp=float(i % 120 - 60), outdoor_temp_io_fault=False, event_log=log
        )
    per_scan = (time.perf_counter() - start) / scans
    assert log["sequence"] > 0
    assert per_scan < 100e-6, f"{per_scan * 1e6:.1f} us per scan"


def test_sample_variable_named_like_its_block_is_rejected() -> None:
    text = sample().replace("changeover_1", "changeover")
    with pytest.raises(StError) as info:
        load(text, name="changeover.st")
    assert str(info.value) == (
        "changeover.st:147: variable 'changeover' has the same name as function block Changeover "
        "(identifiers are case-insensitive)"
    )


def test_sample_variable_named_dt_is_rejected() -> None:
    text = re.sub(r"\bstep_s\b", "dt", sample())
    with pytest.raises(StError) as info:
        load(text, name="changeover.st")
    assert str(info.value) == "changeover.st:101: identifier 'dt' is the name of an elementary type"


# ---------------------------------------------------------------------------------- rejected

PRELUDE = (
    MODES
    + """TYPE Level : (LEVEL_LOW, LEVEL_HIGH);
END_TYPE

FUNCTION Half : LREAL
VAR_INPUT x : LREAL; END_VAR
Half := x / 2.0;
END_FUNCTION

FUNCTION_BLOCK Doubler
VAR_INPUT x : INT; END_VAR
VAR_OUTPUT y : INT; END_VAR
VAR hidden : INT; END_VAR
y := x * 2;
hidden := y;
END_FUNCTION_BLOCK

"""
)

DECLS = """VAR
    b : BOOL; i : INT; d : DINT; r : REAL; l : LREAL; m : Mode; lv : Level; s : STRING[10];
    dbl : Doubler; arr : ARRAY[1..3] OF INT;
END_VAR
VAR CONSTANT K : INT := 3; END_VAR"""


def body(statements: str) -> str:
    """The prelude and a function block whose body is `statements`."""
    return PRELUDE + fb(DECLS, statements)


def decl(declarations: str) -> str:
    """The prelude and a function block that also declares `declarations`."""
    return PRELUDE + fb(DECLS + "\nVAR\n" + declarations + "\nEND_VAR", "i := 1;")


def test_the_rejection_prelude_is_valid() -> None:
    inst = load(body("i := K;\ndbl(x := i, y => i);\nl := Half(l);"), name="case.st").instantiate("T")
    assert inst.call().get("i") == 6


REJECTED = [
    # types in expressions, assignments, arguments and initialisers
    ("real-plus-lreal", body("l := r + l; (*<*)"), "REAL and LREAL do not mix"),
    (
        "real-times-int",
        body("r := r * i; (*<*)"),
        "REAL and INT do not mix (no implicit conversion: use REAL_TO_INT or INT_TO_REAL)",
    ),
    ("lreal-into-real", body("r := l; (*<*)"), "expected REAL, got LREAL"),
    ("int-into-lreal", body("l := d; (*<*)"), "expected LREAL, got DINT"),
    (
        "int-literal-into-real",
        body("r := 21; (*<*)"),
        "got integer literal 21 (an integer literal is not a REAL",
    ),
    ("int-literal-in-max", body("l := MAX(l, 0); (*<*)"), "write 0.0"),
    ("int-literal-divisor", body("r := r / 2; (*<*)"), "REAL and integer literal 2 do not mix"),
    ("int-literal-compared", body("b := l > 0; (*<*)"), "LREAL and integer literal 0"),
    ("int-literal-initialiser", decl("x : REAL := 21; (*<*)"), "write 21.0"),
    ("real-literal-into-int", body("i := 1.0; (*<*)"), "expected INT, got real literal 1.0"),
    ("int-mixed-widths", body("i := i + d; (*<*)"), "INT and DINT do not mix"),
    ("literal-out-of-range", decl("x : SINT := 300; (*<*)"), "300 is outside the range of SINT"),
    ("enum-compared-with-int", body("b := m = 1; (*<*)"), "Mode and integer literal 1 do not mix"),
    ("int-into-enum", body("m := 0; (*<*)"), "expected Mode, got integer literal 0"),
    ("enum-into-int", body("i := m; (*<*)"), "expected INT, got Mode"),
    ("enum-ordering", body("b := m < MODE_COOL; (*<*)"), "only = and <> compare enumerations"),
    ("enum-of-other-type", body("b := m <> LEVEL_LOW; (*<*)"), "Mode and Level do not mix"),
    ("enum-member-assigned-across", body("m := LEVEL_HIGH; (*<*)"), "expected Mode, got Level"),
    (
        "case-label-other-enum",
        body("CASE m OF\n    LEVEL_LOW: i := 1; (*<*)\nEND_CASE;"),
        "not a member of Mode",
    ),
    ("case-label-int-for-enum", body("CASE m OF\n    1: i := 1; (*<*)\nEND_CASE;"), "not a member of Mode"),
    ("bool-arithmetic", body("i := b + 1; (*<*)"), "BOOL and integer literal 1 do not mix"),
    ("int-into-bool", body("b := 1; (*<*)"), "expected BOOL, got integer literal 1"),
    ("bool-ordering", body("b := b > FALSE; (*<*)"), "only = and <> compare enumerations and BOOL"),
    ("and-on-int", body("b := i AND i; (*<*)"), "AND needs BOOL operands, got INT"),
    ("xor-on-int", body("b := b XOR i; (*<*)"), "XOR needs BOOL operands"),
    ("not-on-int", body("b := NOT i; (*<*)"), "NOT needs a BOOL, got INT"),
    ("mod-on-real", body("l := l MOD 2.0; (*<*)"), "MOD needs integers"),
    ("if-condition-int", body("IF i THEN (*<*)\n    i := 2;\nEND_IF;"), "IF condition must be BOOL, got INT"),
    (
        "elsif-condition-real",
        body("IF b THEN\n    i := 2;\nELSIF l THEN (*<*)\n    i := 3;\nEND_IF;"),
        "ELSIF condition must be BOOL",
    ),
    (
        "while-condition-int",
        body("WHILE i DO (*<*)\n    i := i - 1;\nEND_WHILE;"),
        "WHILE condition must be BOOL",
    ),
    ("function-argument-type", body("l := Half(i); (*<*)"), "Half input x: expected LREAL, got INT"),
    ("function-argument-literal", body("l := Half(2); (*<*)"), "write 2.0"),
    ("fb-input-type", body("dbl(x := l); (*<*)"), "input x: expected INT, got LREAL"),
    ("fb-output-type", body("dbl(y => l); (*<*)"), "output y: expected LREAL, got INT"),
    (
        "conversion-argument-type",
        body("r := INT_TO_REAL(d); (*<*)"),
        "INT_TO_REAL input: expected INT, got DINT",
    ),
    ("string-into-int", body("i := s; (*<*)"), "expected INT, got STRING[10]"),
    # names that do not exist or are used wrongly
    ("unknown-identifier", body("i := nope; (*<*)"), "unknown identifier 'nope'"),
    ("unknown-function", body("i := Nope(1); (*<*)"), "unknown function 'Nope'"),
    ("unknown-type", decl("x : Nope; (*<*)"), "unknown type 'Nope'"),
    ("unknown-field", body("i := arr.x; (*<*)"), "'.x' selected from a ARRAY[1..3] OF INT"),
    ("unknown-fb-member", body("i := dbl.z; (*<*)"), "FUNCTION_BLOCK Doubler has no variable z"),
    ("wrong-argument-count", body("l := Half(1.0, 2.0); (*<*)"), "Half takes 1 arguments, got 2"),
    ("wrong-argument-name", body("l := Half(y := 1.0); (*<*)"), "Half has no input Y"),
    ("limit-argument-count", body("l := LIMIT(0.0, l); (*<*)"), "LIMIT takes 3 arguments, got 2"),
    ("max-one-argument", body("l := MAX(l); (*<*)"), "MAX needs at least 2 arguments"),
    ("mixed-formal-positional", body("l := LIMIT(0.0, IN := l, MX := 1.0); (*<*)"), "mixed in one call"),
    ("standard-fb", decl("timer : TON; (*<*)"), "standard function block TON is not supported"),
    ("unsupported-type", decl("x : TIME; (*<*)"), "type TIME is not supported"),
    ("type-used-as-variable", body("i := Doubler; (*<*)"), "Doubler is a function block"),
    ("fb-instance-as-value", body("i := dbl; (*<*)"), "function block instance cannot be used as a value"),
    ("fb-instance-in-expression", body("i := dbl(x := 1); (*<*)"), "called in an expression"),
    ("function-as-statement", body("Half(1.0); (*<*)"), "function Half called as a statement"),
    (
        "function-without-inputs",
        "FUNCTION Zero : INT\nZero := 0;\nEND_FUNCTION\n" + body("i := Zero(); (*<*)"),
        "has no inputs",
    ),
    ("write-constant", body("K := 2; (*<*)"), "K is a constant"),
    ("write-enum-member", body("MODE_OFF := m; (*<*)"), "cannot assign to enumeration member MODE_OFF"),
    (
        "write-fb-output",
        body("dbl.y := 1; (*<*)"),
        "VAR_OUTPUT y of FUNCTION_BLOCK Doubler cannot be written",
    ),
    (
        "read-fb-internal",
        body("i := dbl.hidden; (*<*)"),
        "VAR hidden of FUNCTION_BLOCK Doubler cannot be read",
    ),
    (
        "fb-output-connected-with-assign",
        body("dbl(y := i); (*<*)"),
        "y is an output of FUNCTION_BLOCK Doubler",
    ),
    ("fb-unknown-input", body("dbl(z := i); (*<*)"), "FUNCTION_BLOCK Doubler has no input z"),
    ("chained-assignment", body("i := d := 1; (*<*)"), "chained assignment"),
    ("exit-outside-loop", body("EXIT; (*<*)"), "EXIT outside a loop"),
    (
        "duplicate-case-label",
        body("CASE i OF\n    1: i := 2;\n    0..1: i := 3; (*<*)\nEND_CASE;"),
        "overlaps an earlier label",
    ),
    ("constant-index-out-of-bounds", body("arr[4] := 1; (*<*)"), "array index 4 is outside the bounds 1..3"),
    ("constant-division-by-zero", body("i := 1 / 0; (*<*)"), "division by zero"),
    ("for-step-zero", body("FOR i := 1 TO 3 BY 0 DO (*<*)\n    d := 1;\nEND_FOR;"), "BY 0"),
    # declaration order and recursion
    (
        "type-before-declaration",
        fb("VAR x : Later; (*<*)\nEND_VAR", "x := x;") + "TYPE Later : (LATER_A, LATER_B);\nEND_TYPE\n",
        "type Later is used before its declaration",
    ),
    (
        "fb-before-declaration",
        fb("VAR x : Later; (*<*)\nEND_VAR", "x();") + fb("VAR y : INT; END_VAR", "y := 1;", "Later"),
        "function block Later is used before its declaration",
    ),
    (
        "function-before-declaration",
        fb("VAR x : LREAL; END_VAR", "x := Later(x); (*<*)")
        + "FUNCTION Later : LREAL\nVAR_INPUT a : LREAL; END_VAR\nLater := a;\nEND_FUNCTION\n",
        "function Later is used before its declaration",
    ),
    (
        "recursion",
        "FUNCTION Loop : INT\nVAR_INPUT n : INT; END_VAR\nLoop := Loop(n); (*<*)\nEND_FUNCTION\n",
        "recursion",
    ),
    ("fb-contains-itself", fb("VAR again : T; (*<*)\nEND_VAR", "again();"), "used before its declaration"),
    # identifier rules
    ("double-underscore", decl("a__b : INT; (*<*)"), "'a__b' contains '__'"),
    ("trailing-underscore", decl("a_ : INT; (*<*)"), "'a_' ends with '_'"),
    ("keyword-in-list", decl("x, to, y : INT; (*<*)"), "'to' is a keyword"),
    (
        "fb-named-like-standard-function",
        fb("VAR x : INT; END_VAR", "x := 1;", name="LIMIT (*<*)"),
        "'LIMIT' is the name of a standard function",
    ),
    (
        "function-named-like-conversion",
        "FUNCTION INT_TO_LREAL : LREAL (*<*)\nVAR_INPUT a : INT; END_VAR\n"
        "INT_TO_LREAL := 1.0;\nEND_FUNCTION\n",
        "is the name of a standard function",
    ),
    (
        "variable-named-like-type",
        decl("mode : Mode; (*<*)"),
        "variable 'mode' has the same name as type Mode",
    ),
    ("variable-named-like-fb", decl("doubler : INT; (*<*)"), "same name as function block Doubler"),
    ("variable-named-like-function", decl("HALF : LREAL; (*<*)"), "same name as function Half"),
    ("variable-named-like-enum-member", decl("mode_off : INT; (*<*)"), "enumeration member MODE_OFF"),
    (
        "field-named-like-type",
        "TYPE Level : INT;\nEND_TYPE\nTYPE Pair :\nSTRUCT\n    level : INT; (*<*)\nEND_STRUCT;\nEND_TYPE\n",
        "field 'level' has the same name as type Level",
    ),
    ("duplicate-variable", decl("x : INT;\nX : LREAL; (*<*)"), "variable X is declared twice"),
    (
        "duplicate-across-sections",
        fb("VAR_INPUT x : INT; END_VAR\nVAR_OUTPUT X : INT; (*<*)\nEND_VAR", "x := 1;"),
        "declared twice",
    ),
    (
        "duplicate-return-name",
        "FUNCTION F1 : INT\nVAR_INPUT f1 : INT; (*<*)\nEND_VAR\nF1 := 1;\nEND_FUNCTION\n",
        "declared twice",
    ),
    (
        "duplicate-pou",
        fb("VAR x : INT; END_VAR", "x := 1;") + fb("VAR x : INT; END_VAR", "x := 1;", name="t (*<*)"),
        "'t' is declared twice",
    ),
    (
        "duplicate-field",
        "TYPE Pair :\nSTRUCT\n    a : INT;\n    A : INT; (*<*)\nEND_STRUCT;\nEND_TYPE\n",
        "field A is declared twice",
    ),
    (
        "shared-enum-member",
        "TYPE E1 : (ONE, TWO);\nEND_TYPE\nTYPE E2 : (TWO, THREE); (*<*)\nEND_TYPE\n",
        "TWO is declared in both E1 and E2",
    ),
    ("enum-explicit-value", "TYPE E1 : (ONE := 1, TWO); (*<*)\nEND_TYPE\n", "explicit value"),
    ("enum-base-type", "TYPE E1 : (ONE, TWO) INT; (*<*)\nEND_TYPE\n", "base type INT"),
    ("anonymous-enum", decl("x : (P_ONE, P_TWO); (*<*)"), "anonymous enumeration"),
    ("anonymous-subrange", decl("x : INT(0..100); (*<*)"), "anonymous subrange"),
    # lexical rules
    ("line-comment", body("i := 1; // note (*<*)"), "'//' comment"),
    ("block-comment", body("i := 1; /* note */ (*<*)"), "'/* */' comment"),
    ("pragma", body("{attribute 'hide'} (*<*)\ni := 1;"), "pragma"),
    ("nested-comment", body("(* a (* b *) c *) (*<*)\ni := 1;"), "nested (* *) comment"),
    ("real-trailing-dot", body("l := 1.; (*<*)"), "REAL literal '1.' needs a digit after the dot"),
    ("real-leading-dot", body("l := .5; (*<*)"), "needs a digit before the dot"),
    ("real-exponent-without-dot", body("l := 1e3; (*<*)"), "REAL literal '1e3' needs a dot"),
    ("typed-real-without-dot", body("r := REAL#2; (*<*)"), "'REAL#2': a REAL literal needs a dot"),
    ("dotted-enum", body("m := Mode.MODE_COOL; (*<*)"), "dotted enumeration literal Mode.MODE_COOL"),
    (
        "dotted-enum-label",
        body("CASE m OF\n    Mode.MODE_COOL: i := 1; (*<*)\nEND_CASE;"),
        "dotted enumeration literal",
    ),
    (
        "dotted-enum-default",
        "TYPE E1 : (ONE, TWO) := E1.TWO; (*<*)\nEND_TYPE\n",
        "dotted enumeration literal E1.TWO",
    ),
    (
        "end-function-block-semicolon",
        fb("VAR x : INT; END_VAR", "x := 1;").rstrip() + "; (*<*)\n",
        "'END_FUNCTION_BLOCK;'",
    ),
    (
        "end-function-semicolon",
        "FUNCTION F1 : INT\nVAR_INPUT a : INT; END_VAR\nF1 := a;\nEND_FUNCTION; (*<*)\n",
        "'END_FUNCTION;'",
    ),
    (
        "end-program-semicolon",
        "PROGRAM P1\nVAR a : INT; END_VAR\na := 1;\nEND_PROGRAM; (*<*)\n",
        "'END_PROGRAM;'",
    ),
    ("lone-semicolon", body("i := 1;\n; (*<*)"), "empty statement"),
    ("double-semicolon", body("i := 1;; (*<*)"), "empty statement"),
    (
        "missing-semicolon",
        body("IF b THEN\n    i := 1;\nEND_IF (*<*)\ni := 2;"),
        "missing ';' after the statement",
    ),
    ("missing-semicolon-end-type", "TYPE E1 : (ONE, TWO)\nEND_TYPE (*<*)\n", "missing ';' before END_TYPE"),
    ("empty-then", body("IF b THEN (*<*)\nEND_IF;"), "empty THEN branch"),
    ("then-with-lone-semicolon", body("IF b THEN ; (*<*)\nEND_IF;"), "empty THEN branch"),
    ("empty-elsif", body("IF b THEN\n    i := 1;\nELSIF b THEN (*<*)\nEND_IF;"), "empty ELSIF branch"),
    ("empty-else", body("IF b THEN\n    i := 1;\nELSE (*<*)\nEND_IF;"), "empty ELSE branch"),
    ("empty-loop", body("WHILE b DO\nEND_WHILE; (*<*)"), "syntax error"),
    (
        "no-body",
        "FUNCTION_BLOCK Idle (*<*)\nVAR x : INT; END_VAR\nEND_FUNCTION_BLOCK\n",
        "has no body statement",
    ),
    ("to-real", body("r := TO_REAL(i); (*<*)"), "TO_REAL is an IEC 61131-3 3rd-edition conversion"),
    ("to-lreal", body("l := TO_LREAL(r); (*<*)"), "TO_LREAL is an IEC 61131-3 3rd-edition conversion"),
    ("to-int", body("i := TO_INT(l); (*<*)"), "TO_INT is an IEC 61131-3 3rd-edition conversion"),
    ("to-dint", body("d := TO_DINT(i); (*<*)"), "TO_DINT is an IEC 61131-3 3rd-edition conversion"),
    ("configuration", "CONFIGURATION Plant (*<*)\nEND_CONFIGURATION\n", "CONFIGURATION is not supported"),
    # outside IEC 61131-3 2nd edition
    ("continue", body("WHILE b DO\n    CONTINUE; (*<*)\nEND_WHILE;"), "CONTINUE is not IEC 61131-3"),
    ("and-then", body("b := b AND_THEN b; (*<*)"), "AND_THEN is not IEC 61131-3"),
    ("pointer", decl("p : POINTER TO INT; (*<*)"), "pointers and references"),
    ("located-variable", decl("x AT %IX0.0 : BOOL; (*<*)"), "located variables"),
    (
        "r-edge",
        fb("VAR_INPUT x : BOOL R_EDGE; (*<*)\nEND_VAR", "x := x;"),
        "R_EDGE inputs are not supported by MATIEC",
    ),
    ("var-external", fb("VAR_EXTERNAL x : INT; (*<*)\nEND_VAR", "x := 1;"), "VAR_EXTERNAL is not supported"),
    (
        "extends",
        fb("VAR x : INT; END_VAR", "x := 1;")
        + fb("VAR y : INT; END_VAR", "y := 1;", name="U EXTENDS T (*<*)"),
        "EXTENDS and IMPLEMENTS",
    ),
]

KEYWORD_TEXT = """ON AT RETAIN CONSTANT STEP ACTION TRANSITION FROM WITH TASK TO BY DO OF DATE TIME EN ENO
MAX MIN LIMIT SEL MOVE LEN LOG EXP SUB GT NE TON TOF TP HYSTERESIS RAMP INTEGRAL DERIVATIVE PID RTC NULL DT
TOD VAR TRUNC ABS SQRT END_IF REAL_TO_INT BOOL WSTRING"""
KEYWORDS = KEYWORD_TEXT.split()


def rejection_lines(text: str) -> list[int]:
    """The numbers of the lines marked `(*<*)`."""
    return [n for n, line in enumerate(text.splitlines(), 1) if "(*<*)" in line]


def assert_rejected(text: str, fragment: str) -> None:
    """`text` is rejected only on its marked line, with a message containing `fragment`."""
    (line,) = rejection_lines(text)
    with pytest.raises(StError) as info:
        load(text, name="case.st")
    message = str(info.value)
    reported = message.splitlines()
    assert all(r.startswith(f"case.st:{line}: ") for r in reported), message
    assert any(fragment in r for r in reported), message


@pytest.mark.parametrize(("text", "fragment"), [pytest.param(t, f, id=i) for i, t, f in REJECTED])
def test_rejected_snippets_name_the_problem(text: str, fragment: str) -> None:
    assert_rejected(text, fragment)


@pytest.mark.parametrize("word", KEYWORDS)
def test_reserved_words_are_not_identifiers(word: str) -> None:
    text = fb(f"VAR\n    {word.lower()} : INT; (*<*)\n    x : INT;\nEND_VAR", "x := 1;")
    assert_rejected(text, f"identifier '{word.lower()}' is ")


def test_module_api_lookups_are_case_insensitive() -> None:
    module = load(PROGRAM, name="case.st")
    assert isinstance(module, StModule)
    assert module.instantiate("MAIN").call().get("R1") == 8
    with pytest.raises(KeyError):
        module.instantiate("Nope")
    with pytest.raises(KeyError):
        module.call_function("Doubler")
