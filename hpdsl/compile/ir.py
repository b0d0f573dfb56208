"""The lowered program: explicit state and explicit per-scan statements, shared by every target.

Lowering (``lower.py``) turns the checked AST into this representation. Everything that has
memory in the rules language - timers, edges, hysteresis, state machines, totalizers,
counters, alarms, minimum on and off times, the calendar - is here an ordinary variable of
role ``state`` and ordinary statements that read and update it once per scan. A generator
therefore only has to print variables, expressions and statements; it never needs to know
what a hysteresis or a defrost sequence is, and every target behaves the same because they
all print the same statements.

Values are held in the unit their type names (``C``, ``min``, ``kW``), as an engineer reads
them; lowering has already inserted every unit conversion as arithmetic. Durations measured
by the runtime (the scan time, timers) are in seconds.

Nodes are frozen dataclasses: lowering builds a new tree, nothing mutates one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

# ------------------------------------------------------------------------------ origins


@dataclass(frozen=True)
class Origin:
    """Where a piece of the IR came from: a `.rules` file and line, and the requirements it implements."""

    file: str
    line: int
    cites: tuple[str, ...] = ()
    column: int = 1

    def describe(self) -> str:
        """`rules/defrost.rules:123`, for comments in generated code."""
        return f"{self.file}:{self.line}"


# ------------------------------------------------------------------------------ types

ValueKind = Literal["bool", "int", "real", "enum"]


@dataclass(frozen=True)
class ValueType:
    """The runtime type of a value: the kind of value and, for a real, the unit it is held in."""

    kind: ValueKind
    unit: str = ""  # the unit symbol of a real; "" for a plain number
    enum: str | None = None  # the enumeration of an enum value

    def describe(self) -> str:
        """`real [C]`, `bool`, `enum SystemMode`, for comments and metadata."""
        if self.kind == "enum":
            return f"enum {self.enum}"
        if self.kind == "real" and self.unit:
            return f"real [{self.unit}]"
        return self.kind


BOOL = ValueType("bool")
INT = ValueType("int")
REAL = ValueType("real")
SECONDS = ValueType("real", "s")


def quantity(unit: str) -> ValueType:
    return ValueType("real", unit)


def enum_type(name: str) -> ValueType:
    return ValueType("enum", enum=name)


# ------------------------------------------------------------------------------ expressions


@dataclass(frozen=True)
class Expr:
    type: ValueType


@dataclass(frozen=True)
class Literal_(Expr):
    """A constant: a bool, an int, a real in the type's unit, or an enum member's name."""

    value: bool | int | float | str


@dataclass(frozen=True)
class Ref(Expr):
    """A variable of the program (input, output, parameter, constant, local or state)."""

    name: str


@dataclass(frozen=True)
class GlobalRef(Expr):
    """A constant of the package, shared by every program."""

    name: str


@dataclass(frozen=True)
class ScanTime(Expr):
    """The time since the previous scan, in seconds (`dt`): the cycle time given, bounded.

    A negative, not-a-number or infinite cycle time counts as 0, one above
    ``CYCLE_TIME_LIMIT_S`` as that limit; every target bounds it the same way.
    """


@dataclass(frozen=True)
class ParametersWritten(Expr):
    """True when a parameter may have been written since the last check.

    Guards the run-time check of the parameters: checking them when nothing was written
    changes nothing, so a target that sees writes (the Python target, through its
    properties) checks only then, and one that does not (a PLC) checks every scan.
    """


@dataclass(frozen=True)
class CycleTimeFault(Expr):
    """True when the cycle time given to this scan was not usable as it was (see ScanTime)."""


@dataclass(frozen=True)
class Unary(Expr):
    op: Literal["-", "not"]
    operand: Expr


BinaryOp = Literal["+", "-", "*", "/", "and", "or", "mod"]


@dataclass(frozen=True)
class Binary(Expr):
    """Arithmetic and logic. `/` is used only where the divisor cannot be zero; see SafeDivide."""

    op: BinaryOp
    left: Expr
    right: Expr


@dataclass(frozen=True)
class SafeDivide(Expr):
    """`left / right`, defined as 0 when the divisor is 0 (COP with no electrical power)."""

    left: Expr
    right: Expr


CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True)
class Compare(Expr):
    op: CompareOp
    left: Expr
    right: Expr


Function = Literal["min", "max", "abs", "clamp", "floor", "to_real"]


@dataclass(frozen=True)
class Call(Expr):
    """A pure built-in: min, max (two or more arguments), abs, clamp(x, low, high), floor (to int),
    to_real (an int as a real, where a target's types must say so)."""

    function: Function
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Lookup(Expr):
    """A column of the first row of a range table whose key cell holds the key."""

    table: str
    column: str
    key: Expr


@dataclass(frozen=True)
class Interpolate(Expr):
    """A curve at the key: linear between points, flat beyond the ends."""

    curve: str
    key: Expr


# ------------------------------------------------------------------------------ statements


@dataclass(frozen=True)
class Stmt:
    origin: Origin | None


@dataclass(frozen=True)
class Assign(Stmt):
    target: str
    value: Expr


@dataclass(frozen=True)
class Branch:
    condition: Expr
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class If(Stmt):
    branches: tuple[Branch, ...]
    else_body: tuple[Stmt, ...] = ()


@dataclass(frozen=True)
class Log(Stmt):
    """Append an entry to the event log: the event's fields in declaration order."""

    event: str
    fields: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True)
class AlarmChange(Stmt):
    """Record that an alarm was raised or cleared in this scan, with the values that explain it."""

    alarm: str
    raised: bool
    values: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True)
class ReadInput(Stmt):
    """Read a field input into its scan value, or substitute a safe value if the sensor is faulted.

    A reading is faulted when it is missing, not a number, or outside the input's range
    (`low`/`high`, either may be None). Then the scan value is the `fallback`, or - without
    one - the last good reading (`last_good`), or the input's safe default before any good
    reading. `fault` holds whether the input is faulted, so the sensor-fault alarm `alarm`
    is raised and cleared on the change.
    """

    input: str
    low: Expr | None
    high: Expr | None
    fallback: Expr | None
    last_good: str | None  # state variable holding the last good reading (no fallback)
    fault: str  # state variable: the input is faulted
    alarm: str


@dataclass(frozen=True)
class Block(Stmt):
    """The statements lowered from one construct of the rules (a rule, a machine, an alarm ...)."""

    title: str
    body: tuple[Stmt, ...]
    notes: tuple[str, ...] = ()


# ------------------------------------------------------------------------------ declarations

Role = Literal["input", "output", "parameter", "constant", "local", "state"]


@dataclass(frozen=True)
class Variable:
    """A named storage location of a program.

    ``initial`` is a constant expression (it may read parameters and constants). For an
    input it is absent; for a constant it is the value. `point` says what a public value is
    (`output`, `totalizer`, `counter`, `alarm`, `machine`), for tools that list the points.
    """

    name: str
    role: Role
    type: ValueType
    initial: Expr | None = None
    low: Expr | None = None
    high: Expr | None = None
    fallback: Expr | None = None
    doc: str = ""
    cites: tuple[str, ...] = ()
    origin: Origin | None = None
    wiring: tuple[str, str] | None = None  # (program, output) feeding an input
    point: str = ""
    public: bool = True


@dataclass(frozen=True)
class TableRow:
    """One row of a range table: the key interval (None = unbounded) and a value per column."""

    low: float | None
    low_closed: bool
    high: float | None
    high_closed: bool
    values: tuple[Literal_, ...]
    origin: Origin | None = None


@dataclass(frozen=True)
class Table:
    name: str
    key_name: str
    key: ValueType
    columns: tuple[tuple[str, ValueType], ...]
    rows: tuple[TableRow, ...]  # in match order: the first row holding the key wins
    doc: str = ""
    cites: tuple[str, ...] = ()
    origin: Origin | None = None
    # A key no row holds (outside the declared range, or not a number) takes the row nearest
    # to it: `lowest` when the key is below `low_edge`, else `highest` (row indexes).
    lowest: int = 0
    highest: int = 0
    low_edge: float | None = None


@dataclass(frozen=True)
class Curve:
    name: str
    key_name: str
    key: ValueType
    result: ValueType
    points: tuple[tuple[float, float], ...]  # increasing keys
    doc: str = ""
    cites: tuple[str, ...] = ()
    origin: Origin | None = None


@dataclass(frozen=True)
class Enum:
    name: str
    members: tuple[str, ...]
    doc: str = ""
    cites: tuple[str, ...] = ()
    origin: Origin | None = None


@dataclass(frozen=True)
class Constant:
    """A package constant: a literal shared by every program."""

    name: str
    value: Literal_
    doc: str = ""
    cites: tuple[str, ...] = ()
    origin: Origin | None = None


@dataclass(frozen=True)
class Alarm:
    name: str
    severity: str
    doc: str = ""
    cites: tuple[str, ...] = ()
    origin: Origin | None = None
    latching: bool = False
    sensor: str | None = None  # the input, for a sensor-fault alarm


@dataclass(frozen=True)
class Constraint:
    """A `require`: a relation the program's parameters keep, at construction and when written."""

    name: str
    condition: Expr
    parameters: tuple[str, ...]  # the parameters it reads, in the order they are written
    doc: str = ""
    cites: tuple[str, ...] = ()
    origin: Origin | None = None


@dataclass(frozen=True)
class EventField:
    name: str
    type: ValueType
    doc: str = ""


@dataclass(frozen=True)
class Event:
    name: str
    fields: tuple[EventField, ...]
    doc: str = ""
    cites: tuple[str, ...] = ()
    origin: Origin | None = None


@dataclass(frozen=True)
class Program:
    """One program: its variables, what it records, and the statements of one scan.

    ``scan`` runs in order, once per scan, after the scan time has been set: the calendar
    and time-keeping first, then the inputs, then the constructs in data-flow order.
    """

    name: str
    doc: str
    cites: tuple[str, ...]
    origin: Origin | None
    variables: tuple[Variable, ...]
    alarms: tuple[Alarm, ...]
    events: tuple[Event, ...]
    tables: tuple[Table, ...]
    curves: tuple[Curve, ...]
    scan: tuple[Stmt, ...]
    uses_calendar: bool = False
    notes: tuple[str, ...] = ()
    constraints: tuple[Constraint, ...] = ()

    def variable(self, name: str) -> Variable:
        for variable in self.variables:
            if variable.name == name:
                return variable
        raise KeyError(name)

    def of_role(self, role: Role) -> tuple[Variable, ...]:
        return tuple(v for v in self.variables if v.role == role)

    def retained(self) -> frozenset[str]:
        """The values that must survive a power cycle: daily totals, counters and latched alarms.

        A latched protection alarm that a restart cleared would let a tripped compressor run
        again unacknowledged; totals and counts are what an operator reads over days.
        """
        latched = {alarm.name for alarm in self.alarms if alarm.latching}
        return frozenset(
            v.name
            for v in self.variables
            if v.point in ("totalizer", "counter") or (v.point == "alarm" and v.name in latched)
        )


@dataclass(frozen=True)
class Wire:
    """An input of one program fed by a value of another."""

    program: str
    input: str
    source_program: str
    source: str


@dataclass(frozen=True)
class Package:
    """The whole lowered package: programs in the order one package scan runs them."""

    name: str
    sources: tuple[str, ...]
    enums: tuple[Enum, ...]
    constants: tuple[Constant, ...]
    tables: tuple[Table, ...]
    curves: tuple[Curve, ...]
    programs: tuple[Program, ...]
    wires: tuple[Wire, ...]
    requirements: tuple[tuple[str, str], ...] = field(default=())
    notes: tuple[str, ...] = ()
    # The site parameter file the build was made for: (its name as given, SHA-256 of its bytes).
    site: tuple[str, str] | None = None

    @property
    def site_line(self) -> str | None:
        """The line that names the site file in every generated file's header."""
        if self.site is None:
            return None
        return f"Site parameters: {self.site[0]} (SHA-256 {self.site[1]})"

    def program(self, name: str) -> Program:
        for program in self.programs:
            if program.name == name:
                return program
        raise KeyError(name)


# Calendar state every program that uses schedules or daily periods keeps (see lower.py).
SECOND_OF_DAY = "_second_of_day"
WEEKDAY = "_weekday"  # 0 = Monday
NEW_DAY = "_new_day"
TODAY_SCAN_TIME = "_scan_time_today"  # the part of this scan's time after the last midnight
SECONDS_PER_DAY = 86400.0
# The longest time one scan may advance the program: a day. A longer cycle time (a PLC halted for
# a week, a clock that jumped) advances timers and the calendar by a day and raises the alarm
# CYCLE_TIME_ALARM, so that nothing counts a whole outage as running time.
CYCLE_TIME_LIMIT_S = SECONDS_PER_DAY
CYCLE_TIME_ALARM = "cycle_time_fault"
# The alarm of a parameter written at run time outside its range (it keeps its last valid value).
PARAMETER_ALARM = "parameter_fault"
# `time_since(c)` reads this while `c` has never been true: "a very long time ago".
TIME_SINCE_NEVER = 1.0e9


def negated_comparison(expr: Unary) -> Compare | None:
    """`not (a == b)` as `a != b` (and `!=` as `==`): every target prints that more plainly."""
    operand = expr.operand
    if expr.op != "not" or not isinstance(operand, Compare) or operand.op not in ("==", "!="):
        return None
    negated: CompareOp = "!=" if operand.op == "==" else "=="
    return Compare(operand.type, negated, operand.left, operand.right)


# ------------------------------------------------------------------------------ walking


def walk_exprs(stmts: Iterable[Stmt]) -> Iterator[Expr]:
    """Every expression in statements, nested ones included (iteratively: no recursion limit)."""
    stack_s: list[Stmt] = list(stmts)
    stack_e: list[Expr] = []
    while stack_s or stack_e:
        if stack_e:
            expr = stack_e.pop()
            yield expr
            stack_e.extend(_children(expr))
            continue
        stmt = stack_s.pop()
        if isinstance(stmt, Assign):
            stack_e.append(stmt.value)
        elif isinstance(stmt, If):
            for branch in stmt.branches:
                stack_e.append(branch.condition)
                stack_s.extend(branch.body)
            stack_s.extend(stmt.else_body)
        elif isinstance(stmt, (Log, AlarmChange)):
            pairs = stmt.fields if isinstance(stmt, Log) else stmt.values
            stack_e.extend(value for _, value in pairs)
        elif isinstance(stmt, Block):
            stack_s.extend(stmt.body)
        elif isinstance(stmt, ReadInput):
            stack_e.extend(e for e in (stmt.low, stmt.high, stmt.fallback) if e is not None)


def in_order(stmts: Iterable[Stmt]) -> Iterator[Stmt]:
    """Every statement, nested ones included, in the order they are written (each before its body)."""
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, If):
            for branch in stmt.branches:
                yield from in_order(branch.body)
            yield from in_order(stmt.else_body)
        elif isinstance(stmt, Block):
            yield from in_order(stmt.body)


def walk_stmts(stmts: Iterable[Stmt]) -> Iterator[Stmt]:
    """Every statement, nested ones included (in no particular order; see `in_order`)."""
    stack = list(stmts)
    while stack:
        stmt = stack.pop()
        yield stmt
        if isinstance(stmt, If):
            for branch in stmt.branches:
                stack.extend(branch.body)
            stack.extend(stmt.else_body)
        elif isinstance(stmt, Block):
            stack.extend(stmt.body)


def _children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, Unary):
        return (expr.operand,)
    if isinstance(expr, (Binary, Compare, SafeDivide)):
        return (expr.left, expr.right)
    if isinstance(expr, Call):
        return expr.args
    if isinstance(expr, (Lookup, Interpolate)):
        return (expr.key,)
    return ()
