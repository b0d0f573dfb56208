"""How a warning about values says why it fires: the values of the names it reads, where they
come from, and notes at their declarations.

May import: hpdsl.base, hpdsl.language, hpdsl.check.scope, hpdsl.check.values.
"""

from __future__ import annotations

import math

from hpdsl.base.diagnostics import Note
from hpdsl.check.scope import Symbol
from hpdsl.check.values.domain import Choice, Num, Value
from hpdsl.check.values.evaluate import Env, strip
from hpdsl.check.values.model import Model
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.types import QuantityType, Type

MAX_NAMES = 3  # names explained in one message; the rest are in the notes


def unit_of_type(type_: Type | None) -> units.Unit:
    return type_.unit if isinstance(type_, QuantityType) else units.NUMBER


def show_number(x: float, unit: units.Unit) -> str:
    return units.format_quantity(unit.from_si(x), unit)


def show(value: Value, type_: Type | None) -> str:
    """A value as an engineer reads it: `-40C .. 60C`, `at least 0 h`, `true`, `Heating or Cooling`."""
    if isinstance(value, Num):
        unit = unit_of_type(type_)
        if value.empty:
            return "nothing"
        if value.point:
            return show_number(value.low, unit)
        if math.isinf(value.low) and math.isinf(value.high):
            return "any value"
        if math.isinf(value.low):
            return f"at most {show_number(value.high, unit)}"
        if math.isinf(value.high):
            return f"at least {show_number(value.low, unit)}"
        return f"{show_number(value.low, unit)} .. {show_number(value.high, unit)}"
    if isinstance(value, Choice):
        shown = sorted(("true" if v else "false") if isinstance(v, bool) else v for v in value.values)
        return " or ".join(f"`{v}`" for v in shown) if shown else "nothing"
    return "unknown"


def source(model: Model, symbol: Symbol) -> str:
    """Where the values of a name come from, in a few words."""
    decl = symbol.node
    if symbol.kind == "input":
        if isinstance(decl, n.Declaration) and decl.wiring is not None:
            return f"what `{decl.wiring.program.text}.{decl.wiring.output.text}` can be"
        return "its declared range" if id(symbol) in model.declared else "its type"
    if symbol.kind == "parameter":
        return "its range, any value of which a site may set" if id(symbol) in model.declared else "its type"
    if symbol.kind in ("output", "var"):
        return "the values its writers assign and its start value"
    if symbol.kind in ("totalizer", "counter"):
        return "a running total"
    return f"a {symbol.kind}"


def names(expr: n.Expr, model: Model) -> list[tuple[n.Expr, Symbol | None]]:
    """The names and `time_in_state`s an expression reads, each once, in the order written."""
    found: list[tuple[n.Expr, Symbol | None]] = []
    seen: set[object] = set()
    stack = [expr]
    while stack:
        node = strip(stack.pop())
        if isinstance(node, n.Name):
            symbol = model.package.resolved.get(id(node))
            label = id(symbol) if symbol is not None else node.name
            wanted = (symbol is not None and symbol.kind != "enum") or node.name == "time_in_state"
            if wanted and label not in seen:
                seen.add(label)
                found.append((node, symbol))
        elif isinstance(node, n.Member):
            if node.name.text == "time_in_state":
                found.append((node, None))
            elif isinstance(node.owner, n.Call):
                stack.append(node.owner)
        elif isinstance(node, n.Call):
            stack.extend(reversed(node.args))
        elif isinstance(node, (n.Binary, n.Compare)):
            stack.extend((node.right, node.left))
        elif isinstance(node, n.Unary):
            stack.append(node.operand)
        elif isinstance(node, n.HeldFor):
            stack.extend((node.duration, node.condition))
    return found


def written(expr: n.Expr) -> str:
    """An expression as it is written (the parentheses are in the tree), for a message."""
    if isinstance(expr, n.Paren):
        return f"({written(expr.inner)})"
    if isinstance(expr, n.Name):
        return expr.name
    if isinstance(expr, (n.Number, n.Quantity)):
        return expr.text
    if isinstance(expr, n.BoolLiteral):
        return "true" if expr.value else "false"
    if isinstance(expr, n.Member):
        return f"{written(expr.owner)}.{expr.name.text}"
    if isinstance(expr, n.Call):
        return f"{expr.function.text}({', '.join(written(a) for a in expr.args)})"
    if isinstance(expr, n.Unary):
        return f"not {written(expr.operand)}" if expr.op == "not" else f"-{written(expr.operand)}"
    if isinstance(expr, (n.Binary, n.Compare)):
        return f"{written(expr.left)} {expr.op} {written(expr.right)}"
    if isinstance(expr, n.HeldFor):
        return f"{written(expr.condition)} for {written(expr.duration)}"
    return "..."


def quoted(expr: n.Expr, limit: int = 60) -> str:
    """`expression`, shortened to `limit` characters."""
    shown = written(expr)
    if len(shown) > limit:
        shown = shown[: limit - 3].rstrip() + "..."
    return f"`{shown}`"


def why(expr: n.Expr, env: Env, model: Model) -> str:
    """`outdoor_temp` is -40C .. 60C (its declared range), ... for the names the expression reads."""
    parts: list[str] = []
    for node, symbol in names(expr, model)[:MAX_NAMES]:
        value = model.evaluator.value(node, env)
        type_ = model.package.expr_types.get(id(node))
        label = symbol.name if symbol is not None else "time_in_state"
        if symbol is None:
            origin = "the time since the state was entered"
        elif id(symbol) in env.values and env.values[id(symbol)] != model.base.get(id(symbol)):
            origin = "where this is tested, given the conditions before it"
        else:
            origin = source(model, symbol)
        parts.append(f"`{label}` is {show(value, type_)} ({origin})")
    return "; ".join(parts) if parts else "it reads no value that changes"


def notes(expr: n.Expr, model: Model) -> tuple[Note, ...]:
    """A note at the declaration of each name the expression reads that has a declared range."""
    found: list[Note] = []
    for _, symbol in names(expr, model):
        if symbol is None or symbol.kind not in ("input", "parameter", "output", "var"):
            continue
        decl = symbol.node
        if isinstance(decl, n.Declaration) and (decl.range is not None or decl.wiring is not None):
            what = "wired" if decl.wiring is not None else "its range is declared"
            found.append(
                Note(f"`{symbol.name}`: {what} here", decl.range.span if decl.range else symbol.span)
            )
    return tuple(found)
