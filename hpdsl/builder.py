"""Build the AST from lark's parse tree: one method per grammar rule.

A test asserts that every rule and alias of the grammar has a method here. The builder
reports only what the grammar cannot express (a clause given twice); everything about
meaning is the checker's job.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from lark import Token, Transformer, v_args
from lark.tree import Meta as LarkMeta

from hpdsl import messages
from hpdsl import nodes as n
from hpdsl.diagnostics import Diagnostic
from hpdsl.source import Span


# Clause markers: what a clause rule returns before its owner sorts it into a field.
@dataclass(frozen=True)
class _Clause:
    keyword: str
    value: Any
    span: Span


class AstBuilder(Transformer[Token, Any]):
    """Turns one file's parse tree into an `nodes.Module`."""

    def __init__(self, file: str, keywords: frozenset[str]) -> None:
        super().__init__(visit_tokens=False)
        self.file = file
        self.keywords = keywords
        self.diagnostics: list[Diagnostic] = []

    # ------------------------------------------------------------------ positions
    def _span(self, meta: LarkMeta) -> Span:
        if getattr(meta, "empty", True):
            return Span.point(self.file, 1, 1)
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_span(self, tok: Token) -> Span:
        return Span(
            self.file,
            tok.line or 1,
            tok.column or 1,
            tok.end_line or tok.line or 1,
            tok.end_column or (tok.column or 1) + len(tok),
        )

    def _ident(self, tok: Token) -> n.Ident:
        span = self._tok_span(tok)
        self._not_keyword(str(tok), span)
        return n.Ident(text=str(tok), span=span)

    def _not_keyword(self, text: str, span: Span) -> None:
        # The contextual lexer reads a keyword as a name where no keyword could stand
        # (`input end: C`); such a name would break the first expression that uses it.
        if text in self.keywords:
            self.diagnostics.append(
                messages.KEYWORD_AS_NAME.at(
                    span, word=text, hint=f"choose another name, such as `{text}_value`"
                )
            )

    # ------------------------------------------------------------------ clauses
    def _clauses(
        self, owner: str, items: list[Any], allowed: set[str]
    ) -> tuple[dict[str, _Clause], list[Any]]:
        """Sort clause markers into a dict (reporting repeats); return the other items."""
        found: dict[str, _Clause] = {}
        rest: list[Any] = []
        for item in items:
            if isinstance(item, _Clause) and item.keyword in allowed:
                if item.keyword in found:
                    self.diagnostics.append(
                        messages.INVALID_CLAUSE.at(
                            item.span,
                            problem=f"{owner}: `{item.keyword}` is given twice",
                            hint="keep one of them",
                        )
                    )
                    continue
                found[item.keyword] = item
            else:
                rest.append(item)
        return found, rest

    def _meta(self, owner: str, items: list[Any]) -> tuple[n.Meta, list[Any]]:
        found, rest = self._clauses(owner, items, {"doc", "cites", "priority"})
        if not found:
            return n.NO_META, rest
        spans = [c.span for c in found.values()]
        span = min(spans, key=lambda s: (s.line, s.column)).to(
            max(spans, key=lambda s: (s.end_line, s.end_column))
        )
        meta = n.Meta(
            doc=found["doc"].value if "doc" in found else None,
            cites=found["cites"].value if "cites" in found else (),
            priority=found["priority"].value if "priority" in found else None,
            span=span,
        )
        return meta, rest

    # ------------------------------------------------------------------ package
    @v_args(meta=True)
    def start(self, meta: LarkMeta, items: list[n.Item]) -> n.Module:
        return n.Module(file=self.file, items=tuple(items), span=self._span(meta))

    @v_args(meta=True)
    def enum_decl(self, meta: LarkMeta, children: list[Any]) -> n.EnumDecl:
        name, *rest = children
        info, members = self._meta("enum", rest)
        return n.EnumDecl(
            name=self._ident(name),
            members=tuple(self._ident(m) for m in members),
            meta=info,
            span=self._span(meta),
        )

    @v_args(meta=True)
    def requirement_decl(self, meta: LarkMeta, children: list[Token]) -> n.Requirement:
        name, text = children
        return n.Requirement(name=self._ident(name), summary=_string_value(text), span=self._span(meta))

    @v_args(meta=True)
    def doc(self, meta: LarkMeta, children: list[Token]) -> _Clause:
        return _Clause("doc", _string_value(children[0]), self._span(meta))

    @v_args(meta=True)
    def cites(self, meta: LarkMeta, children: list[Token]) -> _Clause:
        return _Clause("cites", tuple(self._ident(t) for t in children), self._span(meta))

    @v_args(meta=True)
    def priority(self, meta: LarkMeta, children: list[Token]) -> _Clause:
        text = str(children[0])
        span = self._span(meta)
        try:
            value = int(text)
        except ValueError:
            self.diagnostics.append(
                messages.INVALID_CLAUSE.at(
                    span, problem=f"priority `{text}` is not a whole number", hint="write e.g. `priority 2`"
                )
            )
            value = 0
        return _Clause("priority", value, span)

    @v_args(meta=True)
    def program(self, meta: LarkMeta, children: list[Any]) -> n.Program:
        name, *rest = children
        info, items = self._meta("program", rest)
        return n.Program(name=self._ident(name), meta=info, items=tuple(items), span=self._span(meta))

    # ------------------------------------------------------------------ declarations
    @v_args(meta=True)
    def declaration(self, meta: LarkMeta, children: list[Any]) -> n.Declaration:
        kind_tok, name, *rest = children
        kind = str(kind_tok)
        type_ref = rest.pop(0) if rest and isinstance(rest[0], n.TypeRef) else None
        info, rest = self._meta(kind, rest)
        found, _ = self._clauses(kind, rest, {"=", "range", "fallback", "min_on", "min_off", "from"})

        def value(key: str) -> Any:
            return found[key].value if key in found else None

        return n.Declaration(
            kind=kind,
            name=self._ident(name),
            type=type_ref,
            initial=value("="),
            range=value("range"),
            fallback=value("fallback"),
            min_on=value("min_on"),
            min_off=value("min_off"),
            wiring=value("from"),
            meta=info,
            span=self._span(meta),
        )

    def decl_kind(self, children: list[Token]) -> Token:
        return children[0]

    @v_args(meta=True)
    def initial_value(self, meta: LarkMeta, children: list[n.Expr]) -> _Clause:
        return _Clause("=", children[0], self._span(meta))

    @v_args(meta=True)
    def range_clause(self, meta: LarkMeta, children: list[n.Expr]) -> _Clause:
        span = self._span(meta)
        return _Clause("range", n.RangeClause(low=children[0], high=children[1], span=span), span)

    @v_args(meta=True)
    def fallback_clause(self, meta: LarkMeta, children: list[n.Expr]) -> _Clause:
        return _Clause("fallback", children[0], self._span(meta))

    @v_args(meta=True)
    def min_on_clause(self, meta: LarkMeta, children: list[n.Expr]) -> _Clause:
        return _Clause("min_on", children[0], self._span(meta))

    @v_args(meta=True)
    def min_off_clause(self, meta: LarkMeta, children: list[n.Expr]) -> _Clause:
        return _Clause("min_off", children[0], self._span(meta))

    @v_args(meta=True)
    def from_clause(self, meta: LarkMeta, children: list[Token]) -> _Clause:
        span = self._span(meta)
        wiring = n.Wiring(program=self._ident(children[0]), output=self._ident(children[1]), span=span)
        return _Clause("from", wiring, span)

    @v_args(meta=True)
    def type_atom(self, meta: LarkMeta, children: list[Token]) -> n.TypeRef:
        return n.TypeRef(text=str(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def type_div(self, meta: LarkMeta, children: list[n.TypeRef]) -> n.TypeRef:
        return n.TypeRef(text=f"{children[0].text}/{children[1].text}", span=self._span(meta))

    @v_args(meta=True)
    def type_mul(self, meta: LarkMeta, children: list[n.TypeRef]) -> n.TypeRef:
        return n.TypeRef(text=f"{children[0].text}*{children[1].text}", span=self._span(meta))

    # ------------------------------------------------------------------ rules, statements
    @v_args(meta=True)
    def rule(self, meta: LarkMeta, children: list[Any]) -> n.Rule:
        name, *rest = children
        info, body = self._meta("rule", rest)
        return n.Rule(name=self._ident(name), meta=info, body=tuple(body), span=self._span(meta))

    @v_args(meta=True)
    def assign(self, meta: LarkMeta, children: list[Any]) -> n.Assign:
        return n.Assign(target=self._ident(children[0]), value=children[1], span=self._span(meta))

    @v_args(meta=True)
    def if_stmt(self, meta: LarkMeta, children: list[Any]) -> n.If:
        condition, body, *rest = children
        branches = [n.Branch(condition=condition, body=body, span=condition.span)]
        else_body: tuple[n.Stmt, ...] | None = None
        for part in rest:
            if isinstance(part, n.Branch):
                branches.append(part)
            else:
                else_body = part
        return n.If(branches=tuple(branches), else_body=else_body, span=self._span(meta))

    @v_args(meta=True)
    def elif_clause(self, meta: LarkMeta, children: list[Any]) -> n.Branch:
        _keyword, condition, body = children
        return n.Branch(condition=condition, body=body, span=self._span(meta))

    def else_clause(self, children: list[Any]) -> tuple[n.Stmt, ...]:
        body: tuple[n.Stmt, ...] = children[0]
        return body

    def block(self, children: list[n.Stmt]) -> tuple[n.Stmt, ...]:
        return tuple(children)

    @v_args(meta=True)
    def log_stmt(self, meta: LarkMeta, children: list[Any]) -> n.Log:
        event, *fields = children
        return n.Log(
            event=self._ident(event),
            fields=tuple(f for f in fields if f is not None),
            span=self._span(meta),
        )

    @v_args(meta=True)
    def field_value(self, meta: LarkMeta, children: list[Any]) -> n.FieldValue:
        return n.FieldValue(name=self._ident(children[0]), value=children[1], span=self._span(meta))

    # ------------------------------------------------------------------ derived signals
    @v_args(meta=True)
    def hysteresis(self, meta: LarkMeta, children: list[Any]) -> n.Hysteresis:
        target, source, *rest = children
        info, thresholds = self._meta("hysteresis", rest)
        return n.Hysteresis(
            name=self._ident(target),
            input=source,
            thresholds=tuple(thresholds),
            meta=info,
            span=self._span(meta),
        )

    def threshold_side(self, children: list[Token]) -> Token:
        return children[0]

    @v_args(meta=True)
    def threshold(self, meta: LarkMeta, children: list[Any]) -> n.Threshold:
        side, level, value = children
        return n.Threshold(side=str(side), level=level, value=value, span=self._span(meta))

    @v_args(meta=True)
    def totalizer(self, meta: LarkMeta, children: list[Any]) -> n.Totalizer:
        name, type_ref, source, *rest = children
        period = rest.pop(0) if rest and isinstance(rest[0], n.Ident) else None
        info, _ = self._meta("totalizer", rest)
        return n.Totalizer(
            name=self._ident(name),
            type=type_ref,
            source=source,
            period=period,
            meta=info,
            span=self._span(meta),
        )

    @v_args(meta=True)
    def counter(self, meta: LarkMeta, children: list[Any]) -> n.Counter:
        name, source, *rest = children
        period = rest.pop(0) if rest and isinstance(rest[0], n.Ident) else None
        info, _ = self._meta("counter", rest)
        return n.Counter(
            name=self._ident(name), source=source, period=period, meta=info, span=self._span(meta)
        )

    def period(self, children: list[Token]) -> n.Ident:
        return self._ident(children[0])

    @v_args(meta=True)
    def schedule(self, meta: LarkMeta, children: list[Any]) -> n.Schedule:
        name, *rest = children
        info, periods = self._meta("schedule", rest)
        return n.Schedule(name=self._ident(name), periods=tuple(periods), meta=info, span=self._span(meta))

    @v_args(meta=True)
    def schedule_period(self, meta: LarkMeta, children: list[Any]) -> n.SchedulePeriod:
        *days, start, end = children
        return n.SchedulePeriod(
            days=tuple(days),
            start=self._time_of_day(start),
            end=self._time_of_day(end),
            span=self._span(meta),
        )

    def _time_of_day(self, tok: Token) -> n.TimeOfDay:
        hour, minute = str(tok).split(":")
        return n.TimeOfDay(hour=int(hour), minute=int(minute), text=str(tok), span=self._tok_span(tok))

    @v_args(meta=True)
    def day_range(self, meta: LarkMeta, children: list[Token]) -> n.DayRange:
        last = self._ident(children[1]) if len(children) > 1 else None
        return n.DayRange(first=self._ident(children[0]), last=last, span=self._span(meta))

    # ------------------------------------------------------------------ state machines
    @v_args(meta=True)
    def machine(self, meta: LarkMeta, children: list[Any]) -> n.Machine:
        name, *rest = children
        info, states = self._meta("machine", rest)
        return n.Machine(name=self._ident(name), states=tuple(states), meta=info, span=self._span(meta))

    @v_args(meta=True)
    def state(self, meta: LarkMeta, children: list[Any]) -> n.State:
        initial = bool(children) and isinstance(children[0], Token) and children[0].type == "INITIAL"
        if initial:
            children = children[1:]
        name, *rest = children
        info, rest = self._meta("state", rest)
        actions, transitions = self._clauses(f"state `{name}`", rest, {"entry", "during", "exit"})

        def body(key: str) -> tuple[n.Stmt, ...] | None:
            return actions[key].value if key in actions else None

        return n.State(
            name=self._ident(name),
            initial=initial,
            entry=body("entry"),
            during=body("during"),
            exit=body("exit"),
            transitions=tuple(transitions),
            meta=info,
            span=self._span(meta),
        )

    @v_args(meta=True)
    def entry_action(self, meta: LarkMeta, children: list[Any]) -> _Clause:
        return _Clause("entry", children[0], self._span(meta))

    @v_args(meta=True)
    def during_action(self, meta: LarkMeta, children: list[Any]) -> _Clause:
        return _Clause("during", children[0], self._span(meta))

    @v_args(meta=True)
    def exit_action(self, meta: LarkMeta, children: list[Any]) -> _Clause:
        return _Clause("exit", children[0], self._span(meta))

    def _transition(self, kind: str, meta: LarkMeta, children: list[Any]) -> n.Transition:
        trigger, target, *rest = children
        info, _ = self._meta("transition", rest)
        return n.Transition(
            kind=kind, trigger=trigger, target=self._ident(target), meta=info, span=self._span(meta)
        )

    @v_args(meta=True)
    def guarded_transition(self, meta: LarkMeta, children: list[Any]) -> n.Transition:
        return self._transition("when", meta, children)

    @v_args(meta=True)
    def timeout_transition(self, meta: LarkMeta, children: list[Any]) -> n.Transition:
        return self._transition("after", meta, children)

    # ------------------------------------------------------------------ alarms, events
    @v_args(meta=True)
    def alarm(self, meta: LarkMeta, children: list[Any]) -> n.Alarm:
        name, *rest = children
        info, rest = self._meta("alarm", rest)
        found, _ = self._clauses(
            f"alarm `{name}`", rest, {"when", "severity", "delay", "latching", "acknowledge", "action"}
        )

        def value(key: str) -> Any:
            return found[key].value if key in found else None

        return n.Alarm(
            name=self._ident(name),
            condition=value("when"),
            severity=value("severity"),
            delay=value("delay"),
            latching="latching" in found,
            acknowledge=value("acknowledge"),
            action=value("action") or (),
            meta=info,
            span=self._span(meta),
        )

    @v_args(meta=True)
    def alarm_condition(self, meta: LarkMeta, children: list[Any]) -> _Clause:
        return _Clause("when", children[0], self._span(meta))

    @v_args(meta=True)
    def alarm_severity(self, meta: LarkMeta, children: list[Token]) -> _Clause:
        return _Clause("severity", self._ident(children[0]), self._span(meta))

    @v_args(meta=True)
    def alarm_delay(self, meta: LarkMeta, children: list[Any]) -> _Clause:
        return _Clause("delay", children[0], self._span(meta))

    @v_args(meta=True)
    def alarm_latching(self, meta: LarkMeta, children: list[Any]) -> _Clause:
        return _Clause("latching", True, self._span(meta))

    @v_args(meta=True)
    def alarm_acknowledge(self, meta: LarkMeta, children: list[Any]) -> _Clause:
        return _Clause("acknowledge", children[0], self._span(meta))

    @v_args(meta=True)
    def action(self, meta: LarkMeta, children: list[n.Stmt]) -> _Clause:
        return _Clause("action", tuple(children), self._span(meta))

    @v_args(meta=True)
    def event_decl(self, meta: LarkMeta, children: list[Any]) -> n.EventDecl:
        name, *rest = children
        info, fields = self._meta("event", rest)
        return n.EventDecl(name=self._ident(name), fields=tuple(fields), meta=info, span=self._span(meta))

    @v_args(meta=True)
    def event_field(self, meta: LarkMeta, children: list[Any]) -> n.EventField:
        name, type_ref, *rest = children
        doc = rest[0].value if rest else None
        return n.EventField(name=self._ident(name), type=type_ref, doc=doc, span=self._span(meta))

    # ------------------------------------------------------------------ tables, curves
    @v_args(meta=True)
    def key_param(self, meta: LarkMeta, children: list[Any]) -> n.KeyParam:
        name, type_ref, *rest = children
        range_ = rest[0].value if rest else None
        return n.KeyParam(name=self._ident(name), type=type_ref, range=range_, span=self._span(meta))

    @v_args(meta=True)
    def table_decl(self, meta: LarkMeta, children: list[Any]) -> n.Table:
        name, key, *rest = children
        info, rest = self._meta("table", rest)
        header: list[n.Ident] = rest[0]
        rows = rest[1:]
        return n.Table(
            name=self._ident(name),
            key=key,
            key_header=header[0],
            columns=tuple(header[1:]),
            rows=tuple(rows),
            meta=info,
            span=self._span(meta),
        )

    def table_header(self, children: list[Token]) -> list[n.Ident]:
        return [self._ident(t) for t in children]

    @v_args(meta=True)
    def table_row(self, meta: LarkMeta, children: list[Any]) -> n.TableRow:
        key, *cells = children
        return n.TableRow(key=key, cells=tuple(cells), span=self._span(meta))

    @v_args(meta=True)
    def key_between(self, meta: LarkMeta, children: list[n.Expr]) -> n.KeyCell:
        return n.KeyCell(low=children[0], high=children[1], op=None, span=self._span(meta))

    @v_args(meta=True)
    def key_bound(self, meta: LarkMeta, children: list[Any]) -> n.KeyCell:
        op, bound = str(children[0]), children[1]
        if op in ("<", "<="):
            return n.KeyCell(low=None, high=bound, op=op, span=self._span(meta))
        return n.KeyCell(low=bound, high=None, op=op, span=self._span(meta))

    @v_args(meta=True)
    def curve_decl(self, meta: LarkMeta, children: list[Any]) -> n.Curve:
        name, key, result, *rest = children
        monotonic = None
        if rest and isinstance(rest[0], Token):
            monotonic = str(rest.pop(0))
        info, points = self._meta("curve", rest)
        return n.Curve(
            name=self._ident(name),
            key=key,
            result=result,
            monotonic=monotonic,
            points=tuple(points),
            meta=info,
            span=self._span(meta),
        )

    def monotonic(self, children: list[Token]) -> Token:
        return children[0]

    @v_args(meta=True)
    def curve_point(self, meta: LarkMeta, children: list[n.Expr]) -> n.CurvePoint:
        return n.CurvePoint(x=children[0], y=children[1], span=self._span(meta))

    # ------------------------------------------------------------------ expressions
    @v_args(meta=True)
    def name(self, meta: LarkMeta, children: list[Token]) -> n.Name:
        span = self._span(meta)
        self._not_keyword(str(children[0]), span)
        return n.Name(name=str(children[0]), span=span)

    @v_args(meta=True)
    def call(self, meta: LarkMeta, children: list[Any]) -> n.Call:
        function, *args = children
        return n.Call(
            function=self._ident(function),
            args=tuple(a for a in args if a is not None),
            span=self._span(meta),
        )

    @v_args(meta=True)
    def member(self, meta: LarkMeta, children: list[Any]) -> n.Member:
        return n.Member(owner=children[0], name=self._ident(children[1]), span=self._span(meta))

    @v_args(meta=True)
    def number(self, meta: LarkMeta, children: list[Token]) -> n.Number:
        text = str(children[0])
        is_integer = text.isdigit()
        return n.Number(value=float(text), text=text, is_integer=is_integer, span=self._span(meta))

    @v_args(meta=True)
    def quantity(self, meta: LarkMeta, children: list[Token]) -> n.Quantity:
        text = str(children[0])
        number, unit = _split_quantity(text)
        return n.Quantity(value=float(number), unit=unit, text=text, span=self._span(meta))

    @v_args(meta=True)
    def true(self, meta: LarkMeta, children: list[Any]) -> n.BoolLiteral:
        return n.BoolLiteral(value=True, span=self._span(meta))

    @v_args(meta=True)
    def false(self, meta: LarkMeta, children: list[Any]) -> n.BoolLiteral:
        return n.BoolLiteral(value=False, span=self._span(meta))

    @v_args(meta=True)
    def paren(self, meta: LarkMeta, children: list[n.Expr]) -> n.Paren:
        return n.Paren(inner=children[0], span=self._span(meta))

    @v_args(meta=True)
    def negate(self, meta: LarkMeta, children: list[n.Expr]) -> n.Expr:
        operand = children[0]
        span = self._span(meta)
        # `-5C` is a negative temperature, not the negation of an absolute temperature.
        if isinstance(operand, n.Number):
            return n.Number(
                value=-operand.value, text="-" + operand.text, is_integer=operand.is_integer, span=span
            )
        if isinstance(operand, n.Quantity):
            return n.Quantity(value=-operand.value, unit=operand.unit, text="-" + operand.text, span=span)
        return n.Unary(op="-", operand=operand, span=span)

    @v_args(meta=True)
    def not_op(self, meta: LarkMeta, children: list[n.Expr]) -> n.Unary:
        return n.Unary(op="not", operand=children[0], span=self._span(meta))

    def _binary(self, op: str, meta: LarkMeta, children: list[n.Expr]) -> n.Binary:
        return n.Binary(op=op, left=children[0], right=children[1], span=self._span(meta))

    @v_args(meta=True)
    def add(self, meta: LarkMeta, children: list[n.Expr]) -> n.Binary:
        return self._binary("+", meta, children)

    @v_args(meta=True)
    def subtract(self, meta: LarkMeta, children: list[n.Expr]) -> n.Binary:
        return self._binary("-", meta, children)

    @v_args(meta=True)
    def multiply(self, meta: LarkMeta, children: list[n.Expr]) -> n.Binary:
        return self._binary("*", meta, children)

    @v_args(meta=True)
    def divide(self, meta: LarkMeta, children: list[n.Expr]) -> n.Binary:
        return self._binary("/", meta, children)

    @v_args(meta=True)
    def and_op(self, meta: LarkMeta, children: list[n.Expr]) -> n.Binary:
        return self._binary("and", meta, children)

    @v_args(meta=True)
    def or_op(self, meta: LarkMeta, children: list[n.Expr]) -> n.Binary:
        return self._binary("or", meta, children)

    @v_args(meta=True)
    def compare(self, meta: LarkMeta, children: list[Any]) -> n.Compare:
        left, op, right = children
        return n.Compare(op=str(op), left=left, right=right, span=self._span(meta))

    @v_args(meta=True)
    def held_for(self, meta: LarkMeta, children: list[n.Expr]) -> n.HeldFor:
        return n.HeldFor(condition=children[0], duration=children[1], span=self._span(meta))


def _string_value(tok: Token) -> str:
    text = str(tok)
    if text.startswith('"""'):
        return text[3:-3].strip("\n")
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text[1:-1]
    return value if isinstance(value, str) else text[1:-1]


def _split_quantity(text: str) -> tuple[str, str]:
    """`21C` -> ("21", "C"); `50 kW` -> ("50", "kW"); `1.5e3 W` -> ("1.5e3", "W")."""
    i = 0
    while i < len(text) and (text[i].isdigit() or text[i] == "."):
        i += 1
    if (
        i < len(text)
        and text[i] in "eE"
        and i + 1 < len(text)
        and (text[i + 1].isdigit() or text[i + 1] in "+-")
    ):
        i += 2
        while i < len(text) and text[i].isdigit():
            i += 1
    return text[:i], text[i:].strip()
