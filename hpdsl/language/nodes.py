"""The abstract syntax tree: one frozen dataclass per construct of the language.

Every node carries a ``span`` that takes no part in equality, so two trees parsed from
differently laid-out text compare equal when they mean the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hpdsl.base.source import Span, span_field


def depth_field() -> int:
    """How deeply a node nests (1 for a leaf); bounds the recursion of every tree walk."""
    return field(default=1, compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class Node:
    span: Span = span_field()


@dataclass(frozen=True, kw_only=True)
class Ident(Node):
    """A name as written, with its own span."""

    text: str


# --------------------------------------------------------------------------- expressions
@dataclass(frozen=True, kw_only=True)
class Expr(Node):
    depth: int = depth_field()


@dataclass(frozen=True, kw_only=True)
class Name(Expr):
    name: str


@dataclass(frozen=True, kw_only=True)
class Member(Expr):
    """`owner.name`: an enumeration member, a machine's state or time, a table column."""

    owner: Expr
    name: Ident


@dataclass(frozen=True, kw_only=True)
class Call(Expr):
    function: Ident
    args: tuple[Expr, ...]


@dataclass(frozen=True, kw_only=True)
class Number(Expr):
    """A plain number; `is_integer` when written without a decimal point or exponent."""

    value: float
    text: str
    is_integer: bool


@dataclass(frozen=True, kw_only=True)
class Quantity(Expr):
    """A number with a unit: `21C`, `50 kW`, `90 min`."""

    value: float
    unit: str
    text: str


@dataclass(frozen=True, kw_only=True)
class BoolLiteral(Expr):
    value: bool


@dataclass(frozen=True, kw_only=True)
class Unary(Expr):
    op: str  # "-" or "not"
    operand: Expr


@dataclass(frozen=True, kw_only=True)
class Binary(Expr):
    op: str  # + - * / and or
    left: Expr
    right: Expr


@dataclass(frozen=True, kw_only=True)
class Compare(Expr):
    op: str  # == != < <= > >=
    left: Expr
    right: Expr


@dataclass(frozen=True, kw_only=True)
class HeldFor(Expr):
    """`condition for duration`: true once the condition has been true for the duration."""

    condition: Expr
    duration: Expr


@dataclass(frozen=True, kw_only=True)
class Paren(Expr):
    """Parentheses as written, kept so that the formatter can keep them."""

    inner: Expr


# --------------------------------------------------------------------------- shared parts
@dataclass(frozen=True, kw_only=True)
class TypeRef(Node):
    """A type as written: `bool`, `SystemMode`, `C`, `kW/K`."""

    text: str


@dataclass(frozen=True, kw_only=True)
class RangeClause(Node):
    low: Expr
    high: Expr


@dataclass(frozen=True, kw_only=True)
class Meta(Node):
    """Documentation, requirement citations and priority of a construct."""

    doc: str | None = None
    cites: tuple[Ident, ...] = ()
    priority: int | None = None


NO_META = Meta()


# --------------------------------------------------------------------------- statements
@dataclass(frozen=True, kw_only=True)
class Stmt(Node):
    depth: int = depth_field()


@dataclass(frozen=True, kw_only=True)
class Assign(Stmt):
    target: Ident
    value: Expr


@dataclass(frozen=True, kw_only=True)
class Branch(Node):
    condition: Expr
    body: tuple[Stmt, ...]


@dataclass(frozen=True, kw_only=True)
class If(Stmt):
    """`if` with its `else if` branches in order, and an optional `else`."""

    branches: tuple[Branch, ...]
    else_body: tuple[Stmt, ...] | None


@dataclass(frozen=True, kw_only=True)
class FieldValue(Node):
    name: Ident
    value: Expr


@dataclass(frozen=True, kw_only=True)
class Log(Stmt):
    """`log event(field: value, ...)`: write an entry to the event log with a timestamp."""

    event: Ident
    fields: tuple[FieldValue, ...]


# --------------------------------------------------------------------------- declarations
@dataclass(frozen=True, kw_only=True)
class Item(Node):
    name: Ident
    meta: Meta = NO_META


@dataclass(frozen=True, kw_only=True)
class Requirement(Item):
    summary: str


@dataclass(frozen=True, kw_only=True)
class EnumDecl(Item):
    members: tuple[Ident, ...]


@dataclass(frozen=True, kw_only=True)
class Wiring(Node):
    """`from Program.output`: an input fed by another program's output."""

    program: Ident
    output: Ident


@dataclass(frozen=True, kw_only=True)
class Declaration(Item):
    """input / output / parameter / const / var."""

    kind: str
    type: TypeRef | None
    initial: Expr | None = None
    range: RangeClause | None = None
    fallback: Expr | None = None
    min_on: Expr | None = None
    min_off: Expr | None = None
    wiring: Wiring | None = None


@dataclass(frozen=True, kw_only=True)
class Rule(Item):
    body: tuple[Stmt, ...]


@dataclass(frozen=True, kw_only=True)
class Threshold(Node):
    side: str  # "below" or "above"
    level: Expr
    value: Expr


@dataclass(frozen=True, kw_only=True)
class Hysteresis(Item):
    """Drives `name` (an output or var) from `input` with a dead band between thresholds."""

    input: Expr
    thresholds: tuple[Threshold, ...]


@dataclass(frozen=True, kw_only=True)
class Require(Item):
    """A relation the program's parameters must keep: `require name: low < high`."""

    condition: Expr


@dataclass(frozen=True, kw_only=True)
class Totalizer(Item):
    """Integrates a quantity, or the time a condition is true, optionally reset each period."""

    type: TypeRef
    source: Expr
    period: Ident | None


@dataclass(frozen=True, kw_only=True)
class Counter(Item):
    """Counts the times a condition becomes true, optionally reset each period."""

    source: Expr
    period: Ident | None


@dataclass(frozen=True, kw_only=True)
class TimeOfDay(Node):
    hour: int
    minute: int
    text: str


@dataclass(frozen=True, kw_only=True)
class DayRange(Node):
    first: Ident
    last: Ident | None


@dataclass(frozen=True, kw_only=True)
class SchedulePeriod(Node):
    days: tuple[DayRange, ...]
    start: TimeOfDay
    end: TimeOfDay


@dataclass(frozen=True, kw_only=True)
class Schedule(Item):
    periods: tuple[SchedulePeriod, ...]


@dataclass(frozen=True, kw_only=True)
class Transition(Node):
    """`when guard -> Target` or `after timeout -> Target`."""

    kind: str  # "when" or "after"
    trigger: Expr
    target: Ident
    meta: Meta = NO_META


@dataclass(frozen=True, kw_only=True)
class State(Item):
    initial: bool
    entry: tuple[Stmt, ...] | None
    during: tuple[Stmt, ...] | None
    exit: tuple[Stmt, ...] | None
    transitions: tuple[Transition, ...]


@dataclass(frozen=True, kw_only=True)
class Machine(Item):
    states: tuple[State, ...]


@dataclass(frozen=True, kw_only=True)
class Alarm(Item):
    condition: Expr | None
    severity: Ident | None
    delay: Expr | None
    latching: bool
    acknowledge: Expr | None
    action: tuple[Stmt, ...]


@dataclass(frozen=True, kw_only=True)
class EventField(Node):
    name: Ident
    type: TypeRef
    doc: str | None


@dataclass(frozen=True, kw_only=True)
class EventDecl(Item):
    fields: tuple[EventField, ...]


@dataclass(frozen=True, kw_only=True)
class KeyParam(Node):
    name: Ident
    type: TypeRef
    range: RangeClause | None


@dataclass(frozen=True, kw_only=True)
class KeyCell(Node):
    """A row's key: `low .. high` (both ends included) or a bound such as `> 5C`."""

    low: Expr | None
    high: Expr | None
    op: str | None  # for a bound: < <= > >=; None for `low .. high`


@dataclass(frozen=True, kw_only=True)
class TableRow(Node):
    key: KeyCell
    cells: tuple[Expr, ...]


@dataclass(frozen=True, kw_only=True)
class Table(Item):
    key: KeyParam
    columns: tuple[Ident, ...]  # the header after the key column
    key_header: Ident
    rows: tuple[TableRow, ...]


@dataclass(frozen=True, kw_only=True)
class CurvePoint(Node):
    x: Expr
    y: Expr


@dataclass(frozen=True, kw_only=True)
class Curve(Item):
    key: KeyParam
    result: TypeRef
    monotonic: str | None  # "increasing", "decreasing" or None
    points: tuple[CurvePoint, ...]


@dataclass(frozen=True, kw_only=True)
class Program(Item):
    items: tuple[Item, ...]


@dataclass(frozen=True, kw_only=True)
class Module(Node):
    """One parsed file."""

    file: str
    items: tuple[Item, ...]


def names_read(expr: Expr, *, durations: bool = True) -> list[Name]:
    """Every plain name an expression reads, members' owners included, without recursion.

    With `durations=False` the names in the duration of a `for` are left out: they set how
    long a condition must hold, they are not what the condition is about.
    """
    names: list[Name] = []
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            names.append(node)
        elif isinstance(node, Paren):
            stack.append(node.inner)
        elif isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, (Binary, Compare)):
            stack.extend((node.left, node.right))
        elif isinstance(node, HeldFor):
            stack.extend((node.condition, node.duration) if durations else (node.condition,))
        elif isinstance(node, Call):
            stack.extend(node.args)
        elif isinstance(node, Member):
            stack.append(node.owner)
    return names


_KEYWORDS: dict[type[Node], str] = {
    Program: "program",
    Requirement: "requirement",
    EnumDecl: "enum",
    Rule: "rule",
    Hysteresis: "hysteresis",
    Require: "require",
    Totalizer: "totalizer",
    Counter: "counter",
    Schedule: "schedule",
    Machine: "machine",
    State: "state",
    Alarm: "alarm",
    EventDecl: "event",
    Table: "table",
    Curve: "curve",
}


def keyword(item: Node) -> str:
    """The keyword that declares an item as written: `parameter`, `rule`, `machine`, ..."""
    if isinstance(item, Declaration):
        return item.kind
    return _KEYWORDS.get(type(item), type(item).__name__.lower())
