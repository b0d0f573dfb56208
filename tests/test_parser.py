"""Parsing: every construct builds the AST an engineer would expect, with spans."""

from __future__ import annotations

import pytest

from hpdsl.base.source import SourceFile
from hpdsl.language import nodes as n
from hpdsl.language.parser import parse_source


def parse(text: str) -> n.Module:
    result = parse_source(SourceFile("t.rules", text))
    assert result.diagnostics == [], result.diagnostics
    assert result.module is not None
    return result.module


def rule_body(statements: str) -> tuple[n.Stmt, ...]:
    module = parse(f"program P\n rule r\n{statements}\n end\nend\n")
    program = module.items[0]
    assert isinstance(program, n.Program)
    rule = program.items[0]
    assert isinstance(rule, n.Rule)
    return rule.body


def expr(text: str) -> n.Expr:
    (stmt,) = rule_body(f"x = {text}")
    assert isinstance(stmt, n.Assign)
    return stmt.value


def name(text: str) -> n.Name:
    return n.Name(name=text)


def q(value: float, unit: str, text: str) -> n.Quantity:
    return n.Quantity(value=value, unit=unit, text=text)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("21C", q(21, "C", "21C")),
        ("-5C", q(-5, "C", "-5C")),
        ("50 kW", q(50, "kW", "50 kW")),
        ("4.8 kW/K", q(4.8, "kW/K", "4.8 kW/K")),
        ("60 %", q(60, "%", "60 %")),
        ("1.5e3 W", q(1500, "W", "1.5e3 W")),
        ("0.7", n.Number(value=0.7, text="0.7", is_integer=False)),
        ("3", n.Number(value=3, text="3", is_integer=True)),
        # a number followed by a name on the next line is not a quantity
        ("a * b", n.Binary(op="*", left=name("a"), right=name("b"))),
        (
            "a + b * c",
            n.Binary(op="+", left=name("a"), right=n.Binary(op="*", left=name("b"), right=name("c"))),
        ),
        (
            "not a and b or c",
            n.Binary(
                op="or",
                left=n.Binary(op="and", left=n.Unary(op="not", operand=name("a")), right=name("b")),
                right=name("c"),
            ),
        ),
        # the timer binds tighter than `and`, looser than the comparison
        (
            "coil_temp < 5C for 10 min and running",
            n.Binary(
                op="and",
                left=n.HeldFor(
                    condition=n.Compare(op="<", left=name("coil_temp"), right=q(5, "C", "5C")),
                    duration=q(10, "min", "10 min"),
                ),
                right=name("running"),
            ),
        ),
        (
            "hp_capacity(outdoor_temp) * 0.7",
            n.Binary(
                op="*",
                left=n.Call(function=n.Ident(text="hp_capacity"), args=(name("outdoor_temp"),)),
                right=n.Number(value=0.7, text="0.7", is_integer=False),
            ),
        ),
        (
            "staging(load).stage_1",
            n.Member(
                owner=n.Call(function=n.Ident(text="staging"), args=(name("load"),)),
                name=n.Ident(text="stage_1"),
            ),
        ),
        ("SystemMode.Heating", n.Member(owner=name("SystemMode"), name=n.Ident(text="Heating"))),
        ("(a)", n.Paren(inner=name("a"))),
        ("-a", n.Unary(op="-", operand=name("a"))),
        ("true", n.BoolLiteral(value=True)),
    ],
)
def test_expressions(source: str, expected: n.Expr) -> None:
    assert expr(source) == expected


def test_quantity_needs_unit_on_the_same_line() -> None:
    body = rule_body("a = 5\nh = 3")
    assert body == (
        n.Assign(target=n.Ident(text="a"), value=n.Number(value=5, text="5", is_integer=True)),
        n.Assign(target=n.Ident(text="h"), value=n.Number(value=3, text="3", is_integer=True)),
    )


def test_else_if_is_one_chain() -> None:
    (stmt,) = rule_body(
        "if t > 21C then\n mode = Cooling\nelse if t < 15C then\n mode = Heating\nelse\n mode = mode\nend"
    )
    assert isinstance(stmt, n.If)
    assert [b.condition for b in stmt.branches] == [
        n.Compare(op=">", left=name("t"), right=q(21, "C", "21C")),
        n.Compare(op="<", left=name("t"), right=q(15, "C", "15C")),
    ]
    assert stmt.else_body == (n.Assign(target=n.Ident(text="mode"), value=name("mode")),)


def test_else_then_if_on_a_new_line_nests() -> None:
    (stmt,) = rule_body("if a then\nelse\n if b then\n end\nend")
    assert isinstance(stmt, n.If)
    assert len(stmt.branches) == 1
    assert stmt.else_body is not None and isinstance(stmt.else_body[0], n.If)


def test_spans_point_at_the_source_and_do_not_affect_equality() -> None:
    a = parse("program P\n  input outdoor_temp: C\nend\n")
    b = parse("program   P input outdoor_temp : C end")
    assert a == b
    program = a.items[0]
    assert isinstance(program, n.Program)
    decl = program.items[0]
    assert isinstance(decl, n.Declaration)
    assert (decl.name.span.line, decl.name.span.column) == (2, 9)
    assert (decl.span.line, decl.span.end_line) == (2, 2)


def test_declaration_clauses_in_any_order() -> None:
    module = parse(
        'program P\n input t: C "Outdoor" fallback 10C range -40C .. 60C cites C1\n'
        " output fan: bool min_off 5 min min_on 3 min\n input mode: M from Q.mode\nend"
    )
    program = module.items[0]
    assert isinstance(program, n.Program)
    t, fan, mode = program.items
    assert isinstance(t, n.Declaration) and isinstance(fan, n.Declaration) and isinstance(mode, n.Declaration)
    assert t.meta.doc == "Outdoor" and [c.text for c in t.meta.cites] == ["C1"]
    assert t.fallback == q(10, "C", "10C")
    assert t.range == n.RangeClause(low=q(-40, "C", "-40C"), high=q(60, "C", "60C"))
    assert fan.min_on == q(3, "min", "3 min") and fan.min_off == q(5, "min", "5 min")
    assert mode.wiring == n.Wiring(program=n.Ident(text="Q"), output=n.Ident(text="mode"))


def test_every_construct() -> None:
    module = parse(
        """
requirement D6 "Defrost ends on coil temperature or timeout"
enum SystemMode (Heating, Cooling) "Mode"
const nominal_cop = 3.5
curve hp_capacity(outdoor: C) -> kW increasing
    | -10C | 10 kW |
    |   5C | 50 kW |
end
table staging(load: % range 0 % .. 100 %)
    | load          | stage_1 |
    | 0 % .. 30 %   | false   |
    | > 30 %        | true    |
end
program Defrost "Defrost" cites D6
    parameter timeout: min = 15 min
    output fan: bool = true
    hysteresis fan on coil below 3C -> false above 7C -> true end
    totalizer runtime: h of fan per day
    counter starts of rising(fan) per day
    schedule occupied monday .. friday, sunday 07:00 .. 18:00 end
    event done "Finished" duration: duration "How long" end
    machine sequence
        initial state Idle
            when coil < 0C -> Defrosting cites D6
        end
        state Defrosting
            entry fan = false end
            during fan = false end
            exit log done(duration: time_in_state) end
            after timeout -> Idle
        end
    end
    alarm defrost_timeout cites D6
        when sequence == Defrosting for 15 min
        severity high
        delay 5 s
        latching
        acknowledge reset
        action fan = true
    end
end
"""
    )
    kinds = [type(item).__name__ for item in module.items]
    assert kinds == ["Requirement", "EnumDecl", "Declaration", "Curve", "Table", "Program"]
    curve = module.items[3]
    assert isinstance(curve, n.Curve)
    assert curve.monotonic == "increasing" and len(curve.points) == 2
    table = module.items[4]
    assert isinstance(table, n.Table)
    assert [c.text for c in table.columns] == ["stage_1"]
    assert table.rows[1].key == n.KeyCell(low=q(30, "%", "30 %"), high=None, op=">")
    program = module.items[5]
    assert isinstance(program, n.Program)
    by_kind = {type(item).__name__: item for item in program.items}
    assert set(by_kind) >= {"Hysteresis", "Totalizer", "Counter", "Schedule", "EventDecl", "Machine", "Alarm"}
    machine = by_kind["Machine"]
    assert isinstance(machine, n.Machine)
    idle, defrosting = machine.states
    assert idle.initial and not defrosting.initial
    assert defrosting.entry is not None and defrosting.during is not None and defrosting.exit is not None
    assert [t.kind for t in defrosting.transitions] == ["after"]
    alarm = by_kind["Alarm"]
    assert isinstance(alarm, n.Alarm)
    assert alarm.latching and alarm.delay == q(5, "s", "5 s") and alarm.severity == n.Ident(text="high")
    schedule = by_kind["Schedule"]
    assert isinstance(schedule, n.Schedule)
    (period,) = schedule.periods
    assert (period.start.hour, period.end.hour) == (7, 18)
    assert [d.first.text for d in period.days] == ["monday", "sunday"]


def test_clause_given_twice_is_reported() -> None:
    result = parse_source(SourceFile("t.rules", "program P\n input t: C range 0C .. 1C range 0C .. 2C\nend"))
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("invalid-clause", 2)]


@pytest.mark.parametrize(
    ("source", "code", "line", "fragment"),
    [
        ("program P\n rule r\n  if x = 3 then\n  end\n end\nend", "comparison-operator", 3, "`==`"),
        ("program P\n rule r\n  if 1 < x < 3 then\n  end\n end\nend", "comparison-operator", 3, "chained"),
        ("program P\n rule r\n  IF x == 3 then\n  end\n end\nend", "syntax", 3, "lower case"),
        ("program P\n input end: C\nend", "keyword-as-name", 2, "`end`"),
        ("program P\n rule r\n  if x == 3 then\n   y = 1\n", "unclosed-block", 4, "`if` opened at line 3"),
        ('program P "unclosed\nend', "unterminated-string", 1, "not closed"),
        ("program P\n rule r\n  x := 1\n end\nend", "syntax", 3, "`:=`"),
        ("program P\n rule r\n  x = 21 degrees\n end\nend", "unknown-unit", 3, "`degrees`"),
        ("end", "unexpected-end", 1, "does not close"),
        ("program P\n rule r\n  x = 1 ; y = 2\n end\nend", "invalid-character", 3, "';'"),
        ("program P\n rule r\n  x = 1\n input y: C\nend", "unclosed-block", 4, "inside the `rule r`"),
    ],
)
def test_syntax_errors_in_plain_words(source: str, code: str, line: int, fragment: str) -> None:
    result = parse_source(SourceFile("t.rules", source))
    assert result.module is None
    (diagnostic,) = result.diagnostics
    assert (diagnostic.code, diagnostic.span.line) == (code, line)
    assert fragment in diagnostic.message + (diagnostic.hint or "")


def test_deep_nesting_is_refused_not_crashed() -> None:
    source = "program P rule r x = " + "(" * 10_000 + "1" + ")" * 10_000 + " end end"
    result = parse_source(SourceFile("t.rules", source))
    assert [d.code for d in result.diagnostics] == ["too-deep"]


def test_moderate_nesting_is_fine() -> None:
    assert expr("(" * 40 + "1" + ")" * 40) is not None


def test_text_of_a_span_is_the_text_as_written() -> None:
    from hpdsl.base.source import SourceFile, Span

    source = SourceFile("a.rules", "abc def\nghi jkl\nmno")
    assert source.text_of(Span("a.rules", 1, 5, 1, 8)) == "def"
    assert source.text_of(Span("a.rules", 1, 5, 3, 3)) == "def\nghi jkl\nmn"
