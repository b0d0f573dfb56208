"""Scenario files: behaviour tests written next to the rules, parsed into plain data.

The syntax is `grammar/scenario.lark`; `docs/testing.md` describes the format for the
engineer. This module only reads the text: times become seconds, trace tables become one
`at` block per row, and every item keeps its span for the report. What a name means (a point
of which program, of which unit) is decided by `hpdsl.tools.testing.runner`, against the compiled package.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field
from typing import Any, Literal

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.resources import resource_path
from hpdsl.base.source import SourceFile, Span, span_field
from hpdsl.language import units as units_
from hpdsl.language.builder import split_quantity, token_span, unsafe_character
from hpdsl.language.values import Value, from_text

SCENARIO_SUFFIX = ".scenario"

# The wall clock of a scenario that gives no `start`: the runtime's own default, a Monday.
# Scans a scenario may run: ten years at one-minute steps. Beyond it a typo in `step` or
# `until` (1e-6 s, 1e308 s) would run for hours or never end.
MAX_SCANS = 5_256_000
DEFAULT_START = datetime.datetime(2024, 1, 1)

_TIME = units_.Dimension(time=1)  # the dimension of a duration


@dataclass(frozen=True)
class PointPath:
    """`name` or `Program.name`."""

    program: str | None
    name: str
    span: Span = span_field()

    def __str__(self) -> str:
        return f"{self.program}.{self.name}" if self.program else self.name


@dataclass(frozen=True)
class Set:
    path: PointPath
    value: Value
    span: Span = span_field()


@dataclass(frozen=True)
class Ramp:
    path: PointPath
    target: Value
    over_s: float
    span: Span = span_field()


@dataclass(frozen=True)
class Oscillate:
    path: PointPath
    low: Value
    high: Value
    period_s: float
    span: Span = span_field()


@dataclass(frozen=True)
class ExpectValue:
    path: PointPath
    op: str
    value: Value
    tolerance: Value | None
    span: Span = span_field()


@dataclass(frozen=True)
class ExpectUnchanged:
    path: PointPath
    span: Span = span_field()


@dataclass(frozen=True)
class ExpectChanges:
    """`expect x changes <= 4`: how often x changes value in a `during` interval."""

    path: PointPath
    op: str
    count: int
    span: Span = span_field()


AlarmState = Literal["active", "inactive", "raised", "cleared"]
ALARM_STATES: tuple[AlarmState, ...] = ("active", "inactive", "raised", "cleared")


@dataclass(frozen=True)
class ExpectAlarm:
    path: PointPath
    state: AlarmState
    span: Span = span_field()


@dataclass(frozen=True)
class LogField:
    name: str
    value: Value
    tolerance: Value | None
    span: Span = span_field()


@dataclass(frozen=True)
class ExpectLog:
    path: PointPath
    fields: tuple[LogField, ...]
    present: bool  # false: `expect no log`
    span: Span = span_field()


Action = Set | Ramp | Oscillate | ExpectValue | ExpectUnchanged | ExpectChanges | ExpectAlarm | ExpectLog
Expectation = ExpectValue | ExpectUnchanged | ExpectChanges | ExpectAlarm | ExpectLog


@dataclass(frozen=True)
class Block:
    """`at T [± D]` (kind "at") or `during T1 .. T2` (kind "during"), in seconds from the start."""

    kind: Literal["at", "during"]
    time_s: float  # when its inputs are set: T, or T1
    first_s: float  # the window its expectations are checked in
    last_s: float
    actions: tuple[Action, ...]
    span: Span = span_field()


@dataclass(frozen=True)
class ParameterSetting:
    path: PointPath
    value: Value
    span: Span = span_field()


@dataclass(frozen=True)
class Assumption:
    """`assumes path == value`: a parameter value the scenario's expectations are written for."""

    path: PointPath
    value: Value
    span: Span = span_field()


@dataclass(frozen=True)
class Scenario:
    """One scenario: what runs, how, and the timed blocks, in the order written."""

    name: str
    title: str
    file: str
    cites: tuple[tuple[str, Span], ...]
    program: str | None  # None: the whole package
    step_s: float
    start: datetime.datetime
    until_s: float | None
    parameters: tuple[ParameterSetting, ...]
    parameter_files: tuple[tuple[str, Span], ...]
    blocks: tuple[Block, ...]
    assumptions: tuple[Assumption, ...] = ()
    span: Span = span_field()

    @property
    def end_s(self) -> float:
        """When the scenario stops: `until`, or the last time any block names."""
        if self.until_s is not None:
            return self.until_s
        return max((block.last_s for block in self.blocks), default=0.0)


@dataclass
class ScenarioFile:
    """A parsed scenario file: its scenarios and what was wrong with the text."""

    source: SourceFile
    scenarios: list[Scenario] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


# --- Parsing ---------------------------------------------------------------------------


@functools.cache
def _parser() -> Lark:
    grammar = resource_path("grammar", "scenario.lark")
    return Lark(
        grammar.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        import_paths=[str(grammar.parent)],
    )


def parse_scenarios(source: SourceFile) -> ScenarioFile:
    """Parse a scenario file; a syntax error becomes a diagnostic and no scenarios.

    The scenarios are immutable, so the same text is parsed once per process: a test run that
    compiles the package many times (each mutant of the shipped rules, each change in an
    editor) reads its scenario files again without parsing them again.
    """
    parsed = _parsed(source.name, source.text)
    return ScenarioFile(source, list(parsed.scenarios), list(parsed.diagnostics))


@functools.lru_cache(maxsize=128)
def _parsed(name: str, text: str) -> ScenarioFile:
    source = SourceFile(name, text)
    result = ScenarioFile(source)
    try:
        tree = _parser().parse(source.text)
    except UnexpectedInput as exc:
        result.diagnostics.append(_explain(source, exc))
        return result
    reader = _Reader(source.name, result.diagnostics)
    for node in tree.children:
        if isinstance(node, Tree):
            scenario = reader.scenario(node)
            if scenario is not None:
                result.scenarios.append(scenario)
    return result


def _explain(source: SourceFile, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = sorted(_describe_terminal(t) for t in exc.expected)
        if tok.type == "$END":
            line = max(len(source.lines), 1)
            while line > 1 and not source.line(line).strip():
                line -= 1
            span = Span.point(source.name, line, len(source.line(line)) + 1)
            return messages.UNEXPECTED_EOF.at(
                span, expected=", ".join(expected), hint="every scenario ends with `end`"
            )
        span = token_span(source.name, tok)
        return messages.UNEXPECTED_TOKEN.at(
            span,
            found=f"`{tok}`",
            expected=", ".join(expected[:8]) + (", ..." if len(expected) > 8 else ""),
            hint=_hint_for(str(tok)),
        )
    if isinstance(exc, UnexpectedCharacters):
        return messages.INVALID_CHARACTER.at(
            Span.point(source.name, exc.line, exc.column),
            char=exc.char,
            hint="comparison is written `==`" if exc.char == "=" else None,
        )
    return messages.UNEXPECTED_EOF.at(Span.point(source.name, 1, 1), expected="a scenario")


_TERMINAL_WORDS = {
    "NAME": "a name",
    "QUANTITY": "a quantity (21C, 10 min)",
    "NUMBER": "a number",
    "STRING": "a string",
    "CMP_OP": "a comparison (==, <, ...)",
    "PLUS_MINUS": "`±`",
    "DATE": "a date (2024-01-01)",
    "TIME_OF_DAY": "a time of day (07:00)",
    "FAULT": "`fault`",
    "$END": "the end of the file",
}


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    pattern = _parser().get_terminal(name).pattern
    return f"`{pattern.value}`"


def _hint_for(token: str) -> str | None:
    if token == "=":
        return "an expectation compares with `==`; `=` sets an input (`set name = value`)"
    if token.isdigit():
        return "a time needs its unit: `at 10 min`, `step 1 s`"
    return None


# lark's trees are untyped: which children are trees and which tokens follows from the grammar.
_Node = Any


class _Reader:
    """Turns the parse tree of one file into Scenario data, reporting what the grammar cannot."""

    def __init__(self, file: str, diagnostics: list[Diagnostic]) -> None:
        self.file = file
        self.diagnostics = diagnostics

    def span(self, node: _Node) -> Span:
        if isinstance(node, Token):
            return token_span(self.file, node)
        meta = node.meta
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def string(self, tok: Token) -> str:
        """A string's text; a control, invisible or reordering character in it is reported."""
        text = _string(tok)
        problem = unsafe_character(text)
        if problem is not None:
            self.diagnostics.append(
                messages.UNSAFE_CHARACTER.at(
                    self.span(tok), what=problem, hint="remove it: a title is plain text, shown in reports"
                )
            )
        return text

    def problem(self, span: Span, text: str, hint: str | None = None) -> None:
        self.diagnostics.append(messages.SCENARIO_STRUCTURE.at(span, problem=text, hint=hint))

    def scenario(self, node: _Node) -> Scenario | None:
        name_token, *items = node.children
        title = ""
        cites: tuple[tuple[str, Span], ...] = ()
        program: str | None = None
        step_s = 1.0
        start = DEFAULT_START
        until_s: float | None = None
        parameters: list[ParameterSetting] = []
        files: list[tuple[str, Span]] = []
        assumptions: list[Assumption] = []
        blocks: list[Block] = []
        seen: dict[str, Span] = {}
        errors = len(self.diagnostics)
        for item in items:
            if isinstance(item, Token):  # the title
                title = self.string(item)
                continue
            kind = item.data
            span = self.span(item)
            if kind in ("cites", "step", "start_time", "until", "run_program", "run_package"):
                key = "program" if kind.startswith("run_") else kind
                if key in seen:
                    what = "what runs (`program` or `package`)" if key == "program" else f"`{_KEYWORD[kind]}`"
                    self.problem(
                        span,
                        f"{what} is given twice in this scenario",
                        f"keep one; the first is at line {seen[key].line}",
                    )
                    continue
                seen[key] = span
            if kind == "cites":
                cites = tuple((str(t), self.span(t)) for t in item.children)
            elif kind == "run_program":
                program = str(item.children[0])
            elif kind == "run_package":
                program = None
            elif kind == "step":
                before = len(self.diagnostics)
                step_s = self.duration(item.children[0])
                if step_s <= 0 and len(self.diagnostics) == before:
                    self.problem(span, "the scan step must be longer than 0 s", "write `step 1 s`")
                    step_s = 1.0
            elif kind == "start_time":
                start = self.start(item)
            elif kind == "until":
                until_s = self.duration(item.children[0])
            elif kind == "parameter":
                parameters.append(
                    ParameterSetting(self.path(item.children[0]), self.value(item.children[1]), span)
                )
            elif kind == "parameter_file":
                files.append((self.string(item.children[0]), span))
            elif kind == "assumes":
                for assumption in item.children:
                    path_node, operator, value_node = assumption.children
                    if str(operator) != "==":
                        self.problem(
                            self.span(operator),
                            f"`assumes` states the value a parameter has: `==`, not `{operator}`",
                            "write `assumes name == value`",
                        )
                        continue
                    assumptions.append(
                        Assumption(self.path(path_node), self.value(value_node), self.span(assumption))
                    )
            elif kind == "at_block":
                blocks.append(self.at_block(item))
            elif kind == "during_block":
                blocks.append(self.during_block(item))
            elif kind == "trace":
                blocks.extend(self.trace(item))
        if len(self.diagnostics) > errors:
            return None
        last_s = until_s if until_s is not None else max((b.last_s for b in blocks), default=0.0)
        scans = last_s / step_s
        if not scans <= MAX_SCANS:  # NaN and infinity too
            where = seen.get("until") or seen.get("step") or self.span(name_token)
            self.problem(
                where,
                f"the scenario would run {scans:.3g} scans; a scenario is limited to {MAX_SCANS:,}",
                "a longer step, or a shorter scenario: a year at one-minute steps is 525,600 scans",
            )
            return None
        return Scenario(
            name=str(name_token),
            title=title,
            file=self.file,
            cites=cites,
            program=program,
            step_s=step_s,
            start=start,
            until_s=until_s,
            parameters=tuple(parameters),
            parameter_files=tuple(files),
            blocks=tuple(blocks),
            assumptions=tuple(assumptions),
            span=self.span(name_token),
        )

    # --- settings and values

    def duration(self, node: _Node) -> float:
        """A time written as one or more quantities (`1 h 30 min`), in seconds."""
        total = 0.0
        for tok in node.children:
            number, symbol = split_quantity(str(tok))
            unit = units_.lookup(symbol)
            if unit is None or unit.dimension != _TIME:
                self.diagnostics.append(
                    messages.SCENARIO_VALUE.at(
                        self.span(tok),
                        problem=f"`{tok}` is not a time",
                        hint="write a time with its unit: 30 s, 10 min, 2 h, 1 d",
                    )
                )
                continue
            total += unit.to_si(float(number))
        return total

    def start(self, node: _Node) -> datetime.datetime:
        date_token, *rest = node.children
        text = str(date_token) + (f" {rest[0]}" if rest and rest[0] is not None else " 00:00")
        try:
            return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M")
        except ValueError:
            self.diagnostics.append(
                messages.SCENARIO_VALUE.at(
                    self.span(node),
                    problem=f"`{text}` is not a date and time",
                    hint="write `start 2024-01-01 07:00` (year-month-day, 24-hour clock)",
                )
            )
            return DEFAULT_START

    def path(self, node: _Node) -> PointPath:
        names = [str(t) for t in node.children]
        if len(names) == 2:
            return PointPath(names[0], names[1], self.span(node))
        return PointPath(None, names[0], self.span(node))

    def value(self, node: _Node) -> Value:
        span = self.span(node)
        if isinstance(node, Token):  # FAULT
            return Value("fault", str(node), span=span)
        kind = node.data
        tok = node.children[0] if node.children else None
        text = str(tok) if tok is not None else kind
        if kind in ("quantity", "negative_quantity"):
            number, symbol = split_quantity(text)
            sign = -1.0 if kind == "negative_quantity" else 1.0
            if units_.lookup(symbol) is None:
                self.diagnostics.append(messages.UNKNOWN_UNIT.at(span, unit=symbol))
            return Value(
                "quantity", ("-" if sign < 0 else "") + text, sign * float(number), symbol, span=span
            )
        if kind in ("number", "negative_number"):
            sign = -1.0 if kind == "negative_number" else 1.0
            return Value("number", ("-" if sign < 0 else "") + text, sign * float(text), span=span)
        if kind in ("true", "false"):
            return Value("bool", kind, 1.0 if kind == "true" else 0.0, span=span)
        if kind == "text":  # a value as a site file writes it
            return from_text(_string(node.children[0]), span)
        return Value("member", text, member=text, span=span)

    def tolerance(self, node: _Node | None) -> Value | None:
        if node is None:
            return None
        value = self.value(node.children[1])
        if value.kind not in ("quantity", "number") or value.number < 0:
            self.diagnostics.append(
                messages.SCENARIO_VALUE.at(
                    value.span,
                    problem=f"tolerance `{value.text}` is not a positive amount",
                    hint="write `± 0.5 K` or `± 0.1`",
                )
            )
        return value

    # --- blocks

    def at_block(self, node: _Node) -> Block:
        time_node, *rest = node.children
        time_s = self.duration(time_node)
        window = 0.0
        actions: list[Action] = []
        for item in rest:
            if isinstance(item, Tree) and item.data == "time_tolerance":
                window = self.duration(item.children[1])
            elif isinstance(item, Tree):
                actions.append(self.action(item))
        if window > 0:
            for action in actions:
                if isinstance(action, Set | Ramp | Oscillate):
                    self.problem(
                        action.span,
                        "inputs are set at an exact time, not within a tolerance",
                        "put the `set` in its own `at` block without `±`",
                    )
        for action in actions:
            if isinstance(action, ExpectUnchanged | ExpectChanges):
                self.problem(action.span, "counting changes needs an interval", "use it in a `during` block")
        return Block(
            "at", time_s, max(time_s - window, 0.0), time_s + window, tuple(actions), self.span(node)
        )

    def during_block(self, node: _Node) -> Block:
        first_node, last_node, *rest = node.children
        first_s, last_s = self.duration(first_node), self.duration(last_node)
        span = self.span(node)
        if last_s < first_s:
            self.problem(span, "the interval ends before it starts", "write `during 10 min .. 20 min`")
        actions = [self.action(item) for item in rest if isinstance(item, Tree)]
        for action in actions:
            if isinstance(action, Set | Ramp | Oscillate):
                self.problem(
                    action.span,
                    "a `during` block only checks; inputs are set in `at` blocks",
                    f"set it in `at {format_time(first_s)}`",
                )
        return Block("during", first_s, first_s, last_s, tuple(actions), span)

    def action(self, node: _Node) -> Action:
        kind, children, span = node.data, node.children, self.span(node)
        if kind == "set":
            return Set(self.path(children[0]), self.value(children[1]), span)
        if kind == "ramp":
            return Ramp(self.path(children[0]), self.value(children[1]), self.duration(children[2]), span)
        if kind == "oscillate":
            before = len(self.diagnostics)
            period = self.duration(children[3])
            if period <= 0 and len(self.diagnostics) == before:
                self.problem(span, "the period must be longer than 0 s")
            return Oscillate(
                self.path(children[0]), self.value(children[1]), self.value(children[2]), period, span
            )
        if kind == "expect_value":
            return ExpectValue(
                self.path(children[0]),
                str(children[1]),
                self.value(children[2]),
                self.tolerance(children[3] if len(children) > 3 else None),
                span,
            )
        if kind == "expect_unchanged":
            return ExpectUnchanged(self.path(children[0]), span)
        if kind == "expect_changes":
            count = float(str(children[2]))
            if count != int(count):
                self.problem(self.span(children[2]), "a number of changes is a whole number")
            return ExpectChanges(self.path(children[0]), str(children[1]), int(count), span)
        if kind == "expect_alarm":
            state = str(children[1])
            if state not in ALARM_STATES:
                self.problem(
                    self.span(children[1]),
                    f"`{state}` is not an alarm state",
                    "write active, inactive, raised or cleared",
                )
                state = "active"
            return ExpectAlarm(self.path(children[0]), state, span)  # type: ignore[arg-type]
        if kind == "expect_log":
            fields = tuple(self.log_field(f) for f in children[1:])
            return ExpectLog(self.path(children[0]), fields, True, span)
        if kind == "expect_no_log":
            return ExpectLog(self.path(children[0]), (), False, span)
        raise AssertionError(f"unhandled scenario action {kind}")

    def log_field(self, node: _Node) -> LogField:
        name, value, *rest = node.children
        return LogField(
            str(name), self.value(value), self.tolerance(rest[0] if rest else None), self.span(node)
        )

    def trace(self, node: _Node) -> list[Block]:
        header, *rows = node.children
        first, *columns = header.children
        if str(first) != "time":
            self.problem(self.span(first), "the first column of a trace is `time`", "head it `| time | ...`")
        blocks: list[Block] = []
        previous = -1.0
        for row in rows:
            time_node, *cells = row.children
            span = self.span(row)
            time_s = self.duration(time_node)
            if time_s <= previous:
                self.problem(span, "trace rows go forward in time", "order the rows by their time")
            previous = time_s
            if len(cells) != len(columns):
                self.problem(
                    span, f"this row has {len(cells) + 1} cells, the header {len(columns) + 1}", None
                )
                continue
            actions: list[Action] = []
            for column, cell in zip(columns, cells, strict=True):
                if cell.data == "blank":
                    continue
                value = self.value(cell.children[0])
                cell_span = self.span(cell)
                if column.data == "set_column":
                    actions.append(Set(self.path(column.children[0]), value, cell_span))
                else:
                    tolerance = self.tolerance(column.children[1] if len(column.children) > 1 else None)
                    if value.kind == "fault":
                        self.problem(cell_span, "`fault` is set, not expected")
                        continue
                    actions.append(
                        ExpectValue(self.path(column.children[0]), "==", value, tolerance, cell_span)
                    )
            blocks.append(Block("at", time_s, time_s, time_s, tuple(actions), span))
        return blocks


_KEYWORD = {
    "cites": "cites",
    "step": "step",
    "start_time": "start",
    "until": "until",
    "run_program": "program",
    "run_package": "package",
}


def _string(tok: Token) -> str:
    text = str(tok)
    if text.startswith('"""'):
        return text[3:-3]
    return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def format_time(seconds: float) -> str:
    """A scenario time as it would be written: 90 s, 10 min, 2 h 30 min."""
    if seconds == 0:
        return "0 s"
    parts = []
    rest = seconds
    for size, unit in ((86400.0, "d"), (3600.0, "h"), (60.0, "min")):
        if rest >= size:
            whole = int(rest // size)
            parts.append(f"{whole} {unit}")
            rest -= whole * size
    if rest > 1e-9 or not parts:
        parts.append(f"{rest:g} s")
    return " ".join(parts)
