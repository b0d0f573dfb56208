"""Build the AST from lark's parse tree: one method per grammar rule.

A test asserts that every rule and alias of the grammar has a method here. The builder
reports only what the grammar cannot express (a clause given twice, nesting beyond the
limits, a number beyond every float); everything about meaning is the checker's job.
"""

from __future__ import annotations

import ast
import functools
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lark import Token, Transformer

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.escape import unsafe
from hpdsl.base.source import Span
from hpdsl.language import nodes as n

# Deeper than this and the tree walkers would need Python's recursion limit raised; no
# hand-written rules nest anywhere near it.
MAX_NESTING = 150
# `if` statements nested in each other, at most: the compiled Python holds each in a block of
# its own, and Python stops at 100 levels of indentation.
MAX_BLOCK_NESTING = 64
# `if` statements and `else if` branches in each other, each branch one level: Python compiles
# an `elif` as an `if` inside the `else`, and its compiler stops near a thousand levels.
MAX_BRANCH_CHAIN = 256
# Longest name a declaration may have. Every target takes it: the Python target's lines stay
# within 110 characters, and a PLC dialect with a shorter limit shortens it (see st_common.Namer).
MAX_NAME_LENGTH = 40

# Tokens that carry a value. All others (keywords, punctuation) reach the builder only
# because the parser keeps every token for exact spans; they are dropped before building.
SIGNIFICANT_TOKENS = frozenset(
    {
        "NAME",
        "STRING",
        "NUMBER",
        "QUANTITY",
        "CMP_OP",
        "INITIAL",
        "ELSE_IF",
        "TIME_OF_DAY",
        "PERCENT",
        "DEGREE",
    }
)

_R = TypeVar("_R")


# Clause markers: what a clause rule returns before its owner sorts it into a field.
@dataclass(frozen=True)
class _Clause:
    keyword: str
    value: Any
    span: Span


def _node(
    method: Callable[[AstBuilder, Span, list[Any]], _R],
) -> Callable[[AstBuilder, list[Any]], _R]:
    """Give a builder method the span of its whole construct and only the children that carry values."""

    @functools.wraps(method)
    def build(self: AstBuilder, children: list[Any]) -> _R:
        values = [c for c in children if not isinstance(c, Token) or c.type in SIGNIFICANT_TOKENS]
        return method(self, self._span_of(children), values)

    return build


class AstBuilder(Transformer[Token, Any]):
    """Builds `nodes` while the LALR parser reduces: one method per grammar rule.

    It runs inside the parser (no parse tree is built), so one instance serves many
    files: `begin` sets the file name and clears the diagnostics before each parse.

    Size: lark calls a transformer's methods by the name of the grammar rule they reduce, so
    the builder is one class with a short method for each of the grammar's rules (some
    hundred); splitting it would scatter `grammar/hpdsl.lark` over several files without
    making any method shorter.
    """

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self.file = "<unknown>"
        self.diagnostics: list[Diagnostic] = []
        self.too_deep = False

    def begin(self, file: str) -> None:
        self.file = file
        self.diagnostics = []
        self.too_deep = False
        self.blocks: dict[int, int] = {}  # id of an `if` -> the `if` statements nested in it, itself included
        self.chains: dict[int, int] = {}  # id of an `if` -> its depth with each `else if` one level

    # ------------------------------------------------------------------ positions
    def _span_of(self, children: list[Any]) -> Span:
        first = _first_position(children)
        last = _first_position(reversed(children), end=True)
        if first is None or last is None:
            return Span.point(self.file, 1, 1)
        return Span(self.file, first[0], first[1], last[0], last[1])

    def _deeper(self, span: Span, *parts: Any) -> int:
        """The nesting depth of a new node over its parts; reports once when past the limit."""
        depth = 1 + max((_depth_of(p) for p in parts), default=0)
        if depth > MAX_NESTING:
            self._too_deep(
                span, MAX_NESTING, "name intermediate results in a `var` to flatten the expression"
            )
        return depth

    def _too_deep(self, span: Span, limit: int, hint: str) -> None:
        """Report nesting past a limit, once a file: the parse stops with this one diagnostic."""
        if self.too_deep:
            return
        self.too_deep = True
        self.diagnostics.append(
            messages.TOO_DEEP.at(Span.point(span.file, span.line, span.column), limit=limit, hint=hint)
        )

    def _string(self, tok: Token) -> str:
        """A string's value; a control, invisible or reordering character in it is reported."""
        value = _string_value(tok)
        problem = unsafe_character(value)
        if problem is not None:
            self.diagnostics.append(
                messages.UNSAFE_CHARACTER.at(
                    self._tok_span(tok),
                    what=problem,
                    hint="remove it: documentation is plain text, and this character would reach"
                    " generated code, documents and terminals hidden or reordered",
                )
            )
        return value

    def _tok_span(self, tok: Token) -> Span:
        return token_span(self.file, tok)

    def _ident(self, tok: Token) -> n.Ident:
        ident = n.Ident(text=str(tok), span=self._tok_span(tok))
        if len(ident.text) > MAX_NAME_LENGTH:
            self.diagnostics.append(
                messages.NAME_TOO_LONG.at(
                    ident.span,
                    length=len(ident.text),
                    limit=MAX_NAME_LENGTH,
                    hint="shorten it; the documentation string is the place for the whole description",
                )
            )
        return ident

    # ------------------------------------------------------------------ clauses
    def _split_clauses(
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

    def _split_meta(self, owner: str, items: list[Any]) -> tuple[n.Meta, list[Any]]:
        found, rest = self._split_clauses(owner, items, {"doc", "cites", "priority"})
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
    @_node
    def start(self, span: Span, items: list[n.Item]) -> n.Module:
        return n.Module(file=self.file, items=tuple(items), span=span)

    @_node
    def enum_decl(self, span: Span, children: list[Any]) -> n.EnumDecl:
        name, *rest = children
        info, members = self._split_meta(f"enum `{name}`", rest)
        return n.EnumDecl(
            name=self._ident(name),
            members=tuple(self._ident(m) for m in members),
            meta=info,
            span=span,
        )

    @_node
    def requirement_decl(self, span: Span, children: list[Token]) -> n.Requirement:
        name, text = children
        return n.Requirement(name=self._ident(name), summary=self._string(text), span=span)

    @_node
    def doc(self, span: Span, children: list[Token]) -> _Clause:
        return _Clause("doc", self._string(children[0]), span)

    @_node
    def cites(self, span: Span, children: list[Token]) -> _Clause:
        return _Clause("cites", tuple(self._ident(t) for t in children), span)

    @_node
    def priority(self, span: Span, children: list[Token]) -> _Clause:
        text = str(children[0])
        span = span
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

    @_node
    def program(self, span: Span, children: list[Any]) -> n.Program:
        name, *rest = children
        info, items = self._split_meta(f"program `{name}`", rest)
        return n.Program(name=self._ident(name), meta=info, items=tuple(items), span=span)

    # ------------------------------------------------------------------ declarations
    @_node
    def declaration(self, span: Span, children: list[Any]) -> n.Declaration:
        kind_tok, name, *rest = children
        kind = kind_tok.value
        type_ref = rest.pop(0) if rest and isinstance(rest[0], n.TypeRef) else None
        info, rest = self._split_meta(f"{kind} `{name}`", rest)
        found, _ = self._split_clauses(
            f"{kind} `{name}`", rest, {"=", "range", "fallback", "min_on", "min_off", "from"}
        )

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
            span=span,
        )

    def decl_kind(self, children: list[Token]) -> _Clause:
        return _Clause("kind", str(children[0]), self._span_of(children))

    @_node
    def initial_value(self, span: Span, children: list[n.Expr]) -> _Clause:
        return _Clause("=", children[0], span)

    @_node
    def range_clause(self, span: Span, children: list[n.Expr]) -> _Clause:
        span = span
        return _Clause("range", n.RangeClause(low=children[0], high=children[1], span=span), span)

    @_node
    def fallback_clause(self, span: Span, children: list[n.Expr]) -> _Clause:
        return _Clause("fallback", children[0], span)

    @_node
    def min_on_clause(self, span: Span, children: list[n.Expr]) -> _Clause:
        return _Clause("min_on", children[0], span)

    @_node
    def min_off_clause(self, span: Span, children: list[n.Expr]) -> _Clause:
        return _Clause("min_off", children[0], span)

    @_node
    def from_clause(self, span: Span, children: list[Token]) -> _Clause:
        span = span
        wiring = n.Wiring(program=self._ident(children[0]), output=self._ident(children[1]), span=span)
        return _Clause("from", wiring, span)

    @_node
    def type_atom(self, span: Span, children: list[Token]) -> n.TypeRef:
        return n.TypeRef(text=str(children[0]), span=span)

    @_node
    def type_div(self, span: Span, children: list[n.TypeRef]) -> n.TypeRef:
        return n.TypeRef(text=f"{children[0].text}/{children[1].text}", span=span)

    @_node
    def type_mul(self, span: Span, children: list[n.TypeRef]) -> n.TypeRef:
        return n.TypeRef(text=f"{children[0].text}*{children[1].text}", span=span)

    # ------------------------------------------------------------------ rules, statements
    @_node
    def rule(self, span: Span, children: list[Any]) -> n.Rule:
        name, *rest = children
        info, body = self._split_meta(f"rule `{name}`", rest)
        return n.Rule(name=self._ident(name), meta=info, body=tuple(body), span=span)

    @_node
    def assign(self, span: Span, children: list[Any]) -> n.Assign:
        target, value = children
        return n.Assign(target=self._ident(target), value=value, span=span, depth=self._deeper(span, value))

    @_node
    def if_stmt(self, span: Span, children: list[Any]) -> n.If:
        condition, body, *rest = children
        branches = [n.Branch(condition=condition, body=body, span=condition.span)]
        else_body: tuple[n.Stmt, ...] | None = None
        for part in rest:
            if isinstance(part, n.Branch):
                branches.append(part)
            else:
                else_body = part
        parts = [p for b in branches for p in (b.condition, *b.body)] + list(else_body or ())
        statement = n.If(
            branches=tuple(branches), else_body=else_body, span=span, depth=self._deeper(span, *parts)
        )
        inner = [st for b in branches for st in b.body] + list(else_body or ())
        blocks = 1 + max((self.blocks.get(id(st), 0) for st in inner), default=0)
        self.blocks[id(statement)] = blocks
        # Branch k of an `else if` chain lies k deep in the compiled code's tree (Python's
        # `elif` is an `if` inside the `else`), however flat it is written.
        chain = max(
            (k + 1 + max((self.chains.get(id(st), 0) for st in branch.body), default=0))
            for k, branch in enumerate(branches)
        )
        if else_body:
            chain = max(
                chain, len(branches) + max((self.chains.get(id(st), 0) for st in else_body), default=0)
            )
        self.chains[id(statement)] = chain
        if blocks > MAX_BLOCK_NESTING:
            self._too_deep(
                span,
                MAX_BLOCK_NESTING,
                "combine conditions with `and`, or move the inner branches into a rule of their own",
            )
        elif chain > MAX_BRANCH_CHAIN:
            self._too_deep(
                span,
                MAX_BRANCH_CHAIN,
                "an `if` of hundreds of `else if` branches is a table: `table name(key: unit)`, a row each",
            )
        return statement

    @_node
    def elif_clause(self, span: Span, children: list[Any]) -> n.Branch:
        _keyword, condition, body = children
        return n.Branch(condition=condition, body=body, span=span)

    def else_clause(self, children: list[Any]) -> tuple[n.Stmt, ...]:
        body: tuple[n.Stmt, ...] = children[-1]
        return body

    def block(self, children: list[n.Stmt]) -> tuple[n.Stmt, ...]:
        return tuple(children)

    @_node
    def log_stmt(self, span: Span, children: list[Any]) -> n.Log:
        event, *fields = children
        return n.Log(
            event=self._ident(event),
            fields=tuple(f for f in fields if f is not None),
            span=span,
        )

    @_node
    def field_value(self, span: Span, children: list[Any]) -> n.FieldValue:
        return n.FieldValue(name=self._ident(children[0]), value=children[1], span=span)

    # ------------------------------------------------------------------ derived signals
    @_node
    def hysteresis(self, span: Span, children: list[Any]) -> n.Hysteresis:
        target, source, *rest = children
        info, thresholds = self._split_meta(f"hysteresis `{target}`", rest)
        return n.Hysteresis(
            name=self._ident(target),
            input=source,
            thresholds=tuple(thresholds),
            meta=info,
            span=span,
        )

    def threshold_side(self, children: list[Token]) -> str:
        return str(children[0])

    @_node
    def threshold(self, span: Span, children: list[Any]) -> n.Threshold:
        side, level, value = children
        return n.Threshold(side=str(side), level=level, value=value, span=span)

    @_node
    def require(self, span: Span, children: list[Any]) -> n.Require:
        name, condition, *rest = children
        info, _ = self._split_meta(f"require `{name}`", rest)
        return n.Require(name=self._ident(name), condition=condition, meta=info, span=span)

    @_node
    def totalizer(self, span: Span, children: list[Any]) -> n.Totalizer:
        name, type_ref, source, *rest = children
        period = rest.pop(0) if rest and isinstance(rest[0], n.Ident) else None
        info, _ = self._split_meta(f"totalizer `{name}`", rest)
        return n.Totalizer(
            name=self._ident(name),
            type=type_ref,
            source=source,
            period=period,
            meta=info,
            span=span,
        )

    @_node
    def counter(self, span: Span, children: list[Any]) -> n.Counter:
        name, source, *rest = children
        period = rest.pop(0) if rest and isinstance(rest[0], n.Ident) else None
        info, _ = self._split_meta(f"counter `{name}`", rest)
        return n.Counter(name=self._ident(name), source=source, period=period, meta=info, span=span)

    def period(self, children: list[Token]) -> n.Ident:
        return self._ident(children[-1])

    @_node
    def schedule(self, span: Span, children: list[Any]) -> n.Schedule:
        name, *rest = children
        info, periods = self._split_meta(f"schedule `{name}`", rest)
        return n.Schedule(name=self._ident(name), periods=tuple(periods), meta=info, span=span)

    @_node
    def schedule_period(self, span: Span, children: list[Any]) -> n.SchedulePeriod:
        *days, start, end = children
        return n.SchedulePeriod(
            days=tuple(days),
            start=self._time_of_day(start),
            end=self._time_of_day(end),
            span=span,
        )

    def _time_of_day(self, tok: Token) -> n.TimeOfDay:
        hour, minute = str(tok).split(":")
        return n.TimeOfDay(hour=int(hour), minute=int(minute), text=str(tok), span=self._tok_span(tok))

    @_node
    def day_range(self, span: Span, children: list[Token]) -> n.DayRange:
        last = self._ident(children[1]) if len(children) > 1 else None
        return n.DayRange(first=self._ident(children[0]), last=last, span=span)

    # ------------------------------------------------------------------ state machines
    @_node
    def machine(self, span: Span, children: list[Any]) -> n.Machine:
        name, *rest = children
        info, states = self._split_meta(f"machine `{name}`", rest)
        return n.Machine(name=self._ident(name), states=tuple(states), meta=info, span=span)

    @_node
    def state(self, span: Span, children: list[Any]) -> n.State:
        initial = bool(children) and isinstance(children[0], Token) and children[0].type == "INITIAL"
        if initial:
            children = children[1:]
        name, *rest = children
        info, rest = self._split_meta(f"state `{name}`", rest)
        actions, transitions = self._split_clauses(f"state `{name}`", rest, {"entry", "during", "exit"})

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
            span=span,
        )

    @_node
    def entry_action(self, span: Span, children: list[Any]) -> _Clause:
        return _Clause("entry", children[0], span)

    @_node
    def during_action(self, span: Span, children: list[Any]) -> _Clause:
        return _Clause("during", children[0], span)

    @_node
    def exit_action(self, span: Span, children: list[Any]) -> _Clause:
        return _Clause("exit", children[0], span)

    def _transition(self, kind: str, span: Span, children: list[Any]) -> n.Transition:
        trigger, target, *rest = children
        info, _ = self._split_meta("transition", rest)
        return n.Transition(kind=kind, trigger=trigger, target=self._ident(target), meta=info, span=span)

    @_node
    def guarded_transition(self, span: Span, children: list[Any]) -> n.Transition:
        return self._transition("when", span, children)

    @_node
    def timeout_transition(self, span: Span, children: list[Any]) -> n.Transition:
        return self._transition("after", span, children)

    # ------------------------------------------------------------------ alarms, events
    @_node
    def alarm(self, span: Span, children: list[Any]) -> n.Alarm:
        name, *rest = children
        info, rest = self._split_meta(f"alarm `{name}`", rest)
        found, _ = self._split_clauses(
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
            span=span,
        )

    @_node
    def alarm_condition(self, span: Span, children: list[Any]) -> _Clause:
        return _Clause("when", children[0], span)

    @_node
    def alarm_severity(self, span: Span, children: list[Token]) -> _Clause:
        return _Clause("severity", self._ident(children[0]), span)

    @_node
    def alarm_delay(self, span: Span, children: list[Any]) -> _Clause:
        return _Clause("delay", children[0], span)

    @_node
    def alarm_latching(self, span: Span, children: list[Any]) -> _Clause:
        return _Clause("latching", True, span)

    @_node
    def alarm_acknowledge(self, span: Span, children: list[Any]) -> _Clause:
        return _Clause("acknowledge", children[0], span)

    @_node
    def action(self, span: Span, children: list[n.Stmt]) -> _Clause:
        return _Clause("action", tuple(children), span)

    @_node
    def event_decl(self, span: Span, children: list[Any]) -> n.EventDecl:
        name, *rest = children
        info, fields = self._split_meta(f"event `{name}`", rest)
        return n.EventDecl(name=self._ident(name), fields=tuple(fields), meta=info, span=span)

    @_node
    def event_field(self, span: Span, children: list[Any]) -> n.EventField:
        name, type_ref, *rest = children
        doc = rest[0].value if rest else None
        return n.EventField(name=self._ident(name), type=type_ref, doc=doc, span=span)

    # ------------------------------------------------------------------ tables, curves
    @_node
    def key_param(self, span: Span, children: list[Any]) -> n.KeyParam:
        name, type_ref, *rest = children
        range_ = rest[0].value if rest else None
        return n.KeyParam(name=self._ident(name), type=type_ref, range=range_, span=span)

    @_node
    def table_decl(self, span: Span, children: list[Any]) -> n.Table:
        name, key, *rest = children
        info, rest = self._split_meta(f"table `{name}`", rest)
        header: list[n.Ident] = rest[0]
        rows = rest[1:]
        return n.Table(
            name=self._ident(name),
            key=key,
            key_header=header[0],
            columns=tuple(header[1:]),
            rows=tuple(rows),
            meta=info,
            span=span,
        )

    def table_header(self, children: list[Token]) -> list[n.Ident]:
        return [self._ident(t) for t in children if t.type == "NAME"]

    @_node
    def table_row(self, span: Span, children: list[Any]) -> n.TableRow:
        key, *cells = children
        return n.TableRow(key=key, cells=tuple(cells), span=span)

    @_node
    def key_between(self, span: Span, children: list[n.Expr]) -> n.KeyCell:
        return n.KeyCell(low=children[0], high=children[1], op=None, span=span)

    @_node
    def key_bound(self, span: Span, children: list[Any]) -> n.KeyCell:
        op, bound = str(children[0]), children[1]
        if op in ("<", "<="):
            return n.KeyCell(low=None, high=bound, op=op, span=span)
        return n.KeyCell(low=bound, high=None, op=op, span=span)

    @_node
    def curve_decl(self, span: Span, children: list[Any]) -> n.Curve:
        name, key, result, *rest = children
        monotonic = None
        if rest and isinstance(rest[0], _Clause) and rest[0].keyword == "monotonic":
            monotonic = rest.pop(0).value
        info, points = self._split_meta(f"curve `{name}`", rest)
        return n.Curve(
            name=self._ident(name),
            key=key,
            result=result,
            monotonic=monotonic,
            points=tuple(points),
            meta=info,
            span=span,
        )

    def monotonic(self, children: list[Token]) -> _Clause:
        return _Clause("monotonic", str(children[0]), self._span_of(children))

    @_node
    def curve_point(self, span: Span, children: list[n.Expr]) -> n.CurvePoint:
        return n.CurvePoint(x=children[0], y=children[1], span=span)

    # ------------------------------------------------------------------ expressions
    @_node
    def name(self, span: Span, children: list[Token]) -> n.Name:
        return n.Name(name=str(children[0]), span=span)

    @_node
    def call(self, span: Span, children: list[Any]) -> n.Call:
        function, *rest = children
        args = tuple(a for a in rest if a is not None)
        return n.Call(function=self._ident(function), args=args, span=span, depth=self._deeper(span, *args))

    @_node
    def member(self, span: Span, children: list[Any]) -> n.Member:
        owner, member = children
        return n.Member(owner=owner, name=self._ident(member), span=span, depth=self._deeper(span, owner))

    @_node
    def number(self, span: Span, children: list[Token]) -> n.Number:
        text = str(children[0])
        is_integer = text.isdigit()
        return n.Number(value=self._finite(text, span), text=text, is_integer=is_integer, span=span)

    @_node
    def quantity(self, span: Span, children: list[Token]) -> n.Quantity:
        text = str(children[0])
        number, unit = split_quantity(text)
        return n.Quantity(value=self._finite(number, span), unit=unit, text=text, span=span)

    def _finite(self, text: str, span: Span) -> float:
        """A literal's value; a literal beyond every float is reported (and read as 0)."""
        value = float(text)
        if math.isfinite(value):
            return value
        shown = text if len(text) <= 24 else f"{text[:12]}...{text[-6:]} ({len(text)} characters)"
        self.diagnostics.append(
            messages.NUMBER_TOO_LARGE.at(
                span, text=shown, hint="write it with an exponent in range, such as `1e30`, or a smaller unit"
            )
        )
        return 0.0

    @_node
    def true(self, span: Span, children: list[Any]) -> n.BoolLiteral:
        return n.BoolLiteral(value=True, span=span)

    @_node
    def false(self, span: Span, children: list[Any]) -> n.BoolLiteral:
        return n.BoolLiteral(value=False, span=span)

    @_node
    def paren(self, span: Span, children: list[n.Expr]) -> n.Paren:
        inner = children[0]
        return n.Paren(inner=inner, span=span, depth=self._deeper(span, inner))

    @_node
    def negate(self, span: Span, children: list[n.Expr]) -> n.Expr:
        operand = children[0]
        span = span
        # `-5C` is a negative temperature, not the negation of an absolute temperature.
        if isinstance(operand, n.Number):
            return n.Number(
                value=-operand.value, text="-" + operand.text, is_integer=operand.is_integer, span=span
            )
        if isinstance(operand, n.Quantity):
            return n.Quantity(value=-operand.value, unit=operand.unit, text="-" + operand.text, span=span)
        return n.Unary(op="-", operand=operand, span=span, depth=self._deeper(span, operand))

    @_node
    def not_op(self, span: Span, children: list[n.Expr]) -> n.Unary:
        operand = children[0]
        return n.Unary(op="not", operand=operand, span=span, depth=self._deeper(span, operand))

    def _binary(self, op: str, span: Span, children: list[n.Expr]) -> n.Binary:
        left, right = children
        return n.Binary(op=op, left=left, right=right, span=span, depth=self._deeper(span, left, right))

    @_node
    def add(self, span: Span, children: list[n.Expr]) -> n.Binary:
        return self._binary("+", span, children)

    @_node
    def subtract(self, span: Span, children: list[n.Expr]) -> n.Binary:
        return self._binary("-", span, children)

    @_node
    def multiply(self, span: Span, children: list[n.Expr]) -> n.Binary:
        return self._binary("*", span, children)

    @_node
    def divide(self, span: Span, children: list[n.Expr]) -> n.Binary:
        return self._binary("/", span, children)

    @_node
    def and_op(self, span: Span, children: list[n.Expr]) -> n.Binary:
        return self._binary("and", span, children)

    @_node
    def or_op(self, span: Span, children: list[n.Expr]) -> n.Binary:
        return self._binary("or", span, children)

    @_node
    def compare(self, span: Span, children: list[Any]) -> n.Compare:
        left, op, right = children
        return n.Compare(op=str(op), left=left, right=right, span=span, depth=self._deeper(span, left, right))

    @_node
    def held_for(self, span: Span, children: list[n.Expr]) -> n.HeldFor:
        condition, duration = children
        return n.HeldFor(
            condition=condition, duration=duration, span=span, depth=self._deeper(span, condition, duration)
        )


def unsafe_character(text: str) -> str | None:
    """What the first control, invisible or reordering character of `text` is; None if it has none."""
    for char in text:
        if unsafe(char):
            name = unicodedata.name(char, "") or (
                "half of a surrogate pair" if 0xD800 <= ord(char) <= 0xDFFF else "a control character"
            )
            return f"U+{ord(char):04X} ({name.lower()})"
    return None


def _string_value(tok: Token) -> str:
    text = str(tok)
    if text.startswith('"""'):
        return text[3:-3].strip("\n")
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text[1:-1]
    return value if isinstance(value, str) else text[1:-1]


def split_quantity(text: str) -> tuple[str, str]:
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


def token_span(file: str, tok: Token, missing_line: int = 1) -> Span:
    """The span of a lark token; a token without a position (end of input) gets `missing_line`."""
    line = tok.line or missing_line
    column = tok.column or 1
    return Span(file, line, column, tok.end_line or line, tok.end_column or column + max(len(tok), 1))


def _position(item: Any, end: bool) -> tuple[int, int] | None:
    if isinstance(item, Token):
        if item.line is None:
            return None
        if end:
            return (item.end_line or item.line, item.end_column or (item.column or 1) + len(item))
        return (item.line, item.column or 1)
    span = getattr(item, "span", None)
    if isinstance(span, Span) and span.line > 0:
        return (span.end_line, span.end_column) if end else (span.line, span.column)
    if isinstance(item, (list, tuple)):
        return _first_position(reversed(item) if end else item, end)
    return None


def _first_position(items: Any, end: bool = False) -> tuple[int, int] | None:
    """The first (or, walking backwards, the last) source position among parsed items."""
    for item in items:
        found = _position(item, end)
        if found is not None:
            return found
    return None


def _depth_of(item: Any) -> int:
    depth = getattr(item, "depth", 0)
    return depth if isinstance(depth, int) else 0
