"""Printing the IR as Python: one program's scan, expression by expression and statement by
statement, laid out to the line width with the comments that trace each line to the rules, and
the names, literals and types every part of the Python target prints the same way.

May import: hpdsl.base, hpdsl.compile.ir, hpdsl.codegen.emitter, hpdsl.codegen.naming.
"""

from __future__ import annotations

import builtins
import keyword
import textwrap
from dataclasses import dataclass

from hpdsl.codegen.emitter import Emitter
from hpdsl.codegen.escape import python_string
from hpdsl.compile import ir

LINE_WIDTH = 110


INDENT = "    "


# Python precedence, loosest first; a child binding looser than its parent gets parentheses.
PRECEDENCE = {
    "if": 1,
    "or": 2,
    "and": 3,
    "not": 4,
    "compare": 5,
    "+": 7,
    "-": 7,
    "*": 8,
    "/": 8,
    "mod": 8,
    "unary": 9,
    "atom": 10,
}


def python_name(name: str, taken: frozenset[str] = frozenset(), *, shadow_builtins: bool = False) -> str:
    """A rules name as a Python identifier: unchanged unless Python reserves it or it is taken."""
    reserved = keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in taken
    if reserved or (not shadow_builtins and hasattr(builtins, name)):
        return f"{name}_"
    return name


def unique_name(name: str, taken: set[str], *, private: bool = False) -> str:
    """A rules or IR name as a Python identifier no other name in `taken` has, added to `taken`.

    A name Python treats specially is changed the same way every time: a keyword gets `_`
    appended (`class_`); leading underscores move to the end (`_t` -> `t_`, `__init__` ->
    `init____`), so nothing a rules file names is private or name-mangled inside a class. A
    `private` name (one the compiler made, `_t_faulted`) keeps one leading underscore. Two names
    that come out the same are told apart with more `_`, in the order they are given.
    """
    bare = name.lstrip("_")
    text = f"_{bare}" if private else bare + "_" * (len(name) - len(bare))
    if keyword.iskeyword(text) or keyword.issoftkeyword(text) or not text.isidentifier():
        text += "_"
    while text in taken:
        text += "_"
    taken.add(text)
    return text


def float_text(value: float) -> str:
    """A float literal that reads back exactly (`0.1`, `1e-09`, `86400.0`)."""
    text = repr(float(value))
    if text in ("inf", "-inf", "nan"):
        return {"inf": "math.inf", "-inf": "-math.inf", "nan": "math.nan"}[text]
    return text


def python_literal(literal: ir.Literal_) -> str:
    """An IR literal as Python source."""
    value = literal.value
    if literal.type.kind == "enum":
        assert isinstance(value, str) and literal.type.enum is not None
        return f"{literal.type.enum}.{python_name(value)}"
    if isinstance(value, bool):
        return "True" if value else "False"
    if literal.type.kind == "int":
        return str(int(value))
    return float_text(float(value))


@dataclass
class Names:
    """How IR names print in one program: locals for inputs, attributes for the rest."""

    locals: dict[str, str]
    attributes: dict[str, str]
    globals: dict[str, str]
    functions: dict[str, str]
    # A parameter is a property (its setter notes the write, see ir.ParametersWritten); the
    # scan reads and writes the slot behind it. So is a wired input: the slot holds the value
    # set on the program, read when it runs alone.
    storage: dict[str, str]
    # A wired input's slot that Package copies its source into, read inside a Package.
    wire: dict[str, str]
    # A number input's local for the raw reading, before it is checked.
    readings: dict[str, str]

    def slot(self, name: str) -> str:
        """The attribute a scan reads and writes for the IR name."""
        return self.storage.get(name) or self.attributes[name]


class Printer:
    """Prints the expressions and statements of one program's scan."""

    def __init__(self, source_comments: bool, names: Names, program: ir.Program) -> None:
        self.source_comments = source_comments
        self.names = names
        self.program = program
        self.variables = {v.name: v for v in program.variables}
        self.used = {e.name for e in ir.walk_exprs(program.scan) if isinstance(e, ir.Ref)}

    # ------------------------------------------------------------------ expressions
    def expr(self, expr: ir.Expr) -> str:
        return self._expr(expr)[0]

    def constant_expr(self, expr: ir.Expr) -> str:
        """An expression for class-level metadata and defaults: parameters read their defaults."""
        return substitute(self, expr)

    def _expr(self, expr: ir.Expr) -> tuple[str, int]:
        """Text and precedence."""
        if isinstance(expr, ir.Literal_):
            text = python_literal(expr)
            return text, PRECEDENCE["unary"] if text.startswith("-") else PRECEDENCE["atom"]
        if isinstance(expr, ir.Ref):
            if expr.name in self.names.locals:
                return self.names.locals[expr.name], PRECEDENCE["atom"]
            return f"self.{self.names.slot(expr.name)}", PRECEDENCE["atom"]
        if isinstance(expr, ir.GlobalRef):
            return self.names.globals[expr.name], PRECEDENCE["atom"]
        if isinstance(expr, ir.ScanTime):
            return "dt", PRECEDENCE["atom"]
        if isinstance(expr, ir.CycleTimeFault):
            limit = repr(ir.CYCLE_TIME_LIMIT_S)
            return f"not 0.0 <= dt_s <= {limit}", PRECEDENCE["not"]
        if isinstance(expr, ir.Unary):
            negated = ir.negated_comparison(expr)
            if negated is not None:  # `a is not b` reads better than `not a is b`
                return self._expr(negated)
            if expr.op == "not":
                return f"not {self._operand(expr.operand, PRECEDENCE['not'])}", PRECEDENCE["not"]
            return f"-{self._operand(expr.operand, PRECEDENCE['unary'])}", PRECEDENCE["unary"]
        if isinstance(expr, ir.Binary):
            level = PRECEDENCE[expr.op]
            op = "%" if expr.op == "mod" else expr.op
            left = self._operand(expr.left, level)
            if expr.op == "or" and isinstance(expr.left, ir.Binary) and expr.left.op == "and":
                left = f"({left})"  # clearer than relying on `and` binding tighter
            # Right operands of - / % bind tighter: a - (b - c).
            # A right operand of the same precedence keeps its parentheses: a * (b / c) rounds
            # differently from a * b / c, and the targets must compute exactly what was written.
            right_level = level if expr.op in ("and", "or") else level + 1
            right = self._operand(expr.right, right_level)
            if expr.op == "or" and isinstance(expr.right, ir.Binary) and expr.right.op == "and":
                right = f"({right})"
            return f"{left} {op} {right}", level
        if isinstance(expr, ir.SafeDivide):
            divisor, level = self._expr(expr.right)
            divisor = divisor if level >= PRECEDENCE["compare"] + 1 else f"({divisor})"
            left = self._operand(expr.left, PRECEDENCE["/"])
            right = self._operand(expr.right, PRECEDENCE["/"] + 1)
            return f"{left} / {right} if {divisor} != 0.0 else 0.0", PRECEDENCE["if"]
        if isinstance(expr, ir.Compare):
            level = PRECEDENCE["compare"]
            compare: str = expr.op
            if expr.left.type.kind == "enum" and compare in ("==", "!="):
                compare = "is" if compare == "==" else "is not"
            left = self._operand(expr.left, level + 1)
            right = self._operand(expr.right, level + 1)
            return f"{left} {compare} {right}", level
        if isinstance(expr, ir.Call):
            args = [self._expr(a)[0] for a in expr.args]
            if expr.function == "to_real":
                return self._expr(expr.args[0])
            if expr.function == "clamp":
                return f"_clamp({', '.join(args)})", PRECEDENCE["atom"]
            if expr.function == "floor":
                return f"math.floor({args[0]})", PRECEDENCE["atom"]
            return f"{expr.function}({', '.join(args)})", PRECEDENCE["atom"]
        if isinstance(expr, ir.Lookup):
            function = self.names.functions[expr.table]
            return f"{function}({self.expr(expr.key)}).{python_name(expr.column)}", PRECEDENCE["atom"]
        if isinstance(expr, ir.Interpolate):
            return f"{self.names.functions[expr.curve]}({self.expr(expr.key)})", PRECEDENCE["atom"]
        raise AssertionError(f"unhandled IR expression {type(expr).__name__}")

    def _operand(self, expr: ir.Expr, level: int) -> str:
        text, own = self._expr(expr)
        return text if own >= level else f"({text})"

    # ------------------------------------------------------------------ statements
    def stmt(self, out: Emitter, stmt: ir.Stmt) -> None:
        if isinstance(stmt, ir.Block):
            self._block(out, stmt)
        elif isinstance(stmt, ir.Assign):
            target = f"self.{self.names.slot(stmt.target)}"
            value = stmt.value
            if isinstance(value, ir.Call) and value.function == "clamp":
                # Held within the range by statements rather than a call: a scan does this often.
                low, high = (self.expr(bound) for bound in value.args[1:])
                self._line(out, f"{target} = ", value.args[0], "", stmt.origin)
                out.line(f"if not {target} >= {low}:  # below the range, or not a number")
                with out.indented():
                    out.line(f"{target} = {low}")
                out.line(f"elif {target} > {high}:")
                with out.indented():
                    out.line(f"{target} = {high}")
                return
            self._line(out, f"{target} = ", value, "", stmt.origin)
        elif isinstance(stmt, ir.If) and isinstance(stmt.branches[0].condition, ir.ParametersWritten):
            out.line("if self._parameters_written:  # a parameter was set since the last check")
            with out.indented():
                out.line("self._parameters_written = False")
                self._body(out, stmt.branches[0].body)
        elif isinstance(stmt, ir.If):
            stmt = collapse_last_branch(stmt)
            for k, branch in enumerate(stmt.branches):
                keyword_ = "if" if k == 0 else "elif"
                self._line(out, f"{keyword_} ", branch.condition, ":", stmt.origin if k == 0 else None)
                with out.indented():
                    self._body(out, branch.body)
            if stmt.else_body:
                out.line("else:")
                with out.indented():
                    self._body(out, stmt.else_body)
        elif isinstance(stmt, ir.Log):
            self._record(out, "self._log", [quote(stmt.event)], stmt.fields, stmt.origin)
        elif isinstance(stmt, ir.AlarmChange):
            alarm = next(a for a in self.program.alarms if a.name == stmt.alarm)
            head = [quote(stmt.alarm), quote(alarm.severity), str(stmt.raised)]
            self._record(out, "self._alarm", head, stmt.values, stmt.origin)
        elif isinstance(stmt, ir.ReadInput):
            self._read_input(out, stmt)
        else:
            raise AssertionError(f"unhandled IR statement {type(stmt).__name__}")

    def _record(
        self,
        out: Emitter,
        method: str,
        head: list[str],
        values: tuple[tuple[str, ir.Expr], ...],
        origin: ir.Origin | None,
    ) -> None:
        """A call that records an alarm change or a log entry with a dict of values."""
        items = [f"{quote(name)}: {self.expr(value)}" for name, value in values]
        where = self._where(origin)
        text = f"{method}({', '.join(head)}, {{{', '.join(items)}}})"
        if len(INDENT * out.level) + len(text) + len(where) <= LINE_WIDTH:
            out.line(text + where)
            return
        out.line(f"{method}({where}")
        with out.indented():
            out.line(f"{', '.join(head)},")
            out.line("{")
            with out.indented():
                for name, value in values:  # each value wrapped where it is too long for a line
                    self._line(out, f"{quote(name)}: ", value, ",", None)
            out.line("},")
        out.line(")")

    def _body(self, out: Emitter, body: tuple[ir.Stmt, ...]) -> None:
        if not body:
            out.line("pass")
        for stmt in body:
            self.stmt(out, stmt)

    def _where(self, origin: ir.Origin | None) -> str:
        if origin is None or not self.source_comments:
            return ""
        return f"  # line {origin.line}"

    def constraint_check(self, out: Emitter, constraint: ir.Constraint, message: str) -> None:
        """The constructor's test of a `require`: ValueError, naming the values, when it does not hold."""
        self._line(out, "if ", ir.Unary(ir.BOOL, "not", constraint.condition), ":", constraint.origin)
        with out.indented():
            shown = [
                f'f"{", " if k else " ("}{self.names.attributes[p]}={{self.{self.names.slot(p)}!r}}"'
                for k, p in enumerate(constraint.parameters)
            ]
            out.line("raise ValueError(")
            with out.indented():
                width = LINE_WIDTH - len(INDENT * out.level) - 2
                for piece in textwrap.wrap(message, width, drop_whitespace=False) or [""]:
                    out.line(quote(piece))
                for piece in shown:
                    out.line(piece)
                if shown:
                    out.line('")"')
            out.line(")")

    def _line(self, out: Emitter, head: str, expr: ir.Expr, tail: str, origin: ir.Origin | None) -> None:
        """`head expr tail`, the expression wrapped over several lines when it is too long."""
        where = self._where(origin)
        text = f"{head}{self.expr(expr)}{tail}"
        indent = len(INDENT * out.level)
        if indent + len(text) + len(where) <= LINE_WIDTH:
            out.line(text + where)
            return
        width = LINE_WIDTH - indent - len(INDENT)
        if isinstance(expr, (ir.Call, ir.Interpolate)):
            lines = self._format(expr, LINE_WIDTH - indent - len(head) - len(where) - len(tail))
            out.line(f"{head}{lines[0]}{where}")
            for line in lines[1:-1]:
                out.line(line)
            out.line(f"{lines[-1]}{tail}")
            return
        out.line(f"{head}({where}")
        with out.indented():
            for line in self._format(expr, width):
                out.line(line)
        out.line(f"){tail}")

    def _format(self, expr: ir.Expr, width: int) -> list[str]:
        """An expression as lines no wider than `width` where it can be broken (relative indents)."""
        text = self.expr(expr)
        if len(text) <= width:
            return [text]
        chain = split_chain(expr)
        if chain is not None:
            op, operands = chain
            level = PRECEDENCE[op]
            lines: list[str] = []
            for k, operand in enumerate(operands):
                prefix = "" if k == 0 else f"{'%' if op == 'mod' else op} "
                needs_parens = precedence_of(self, operand) < level + (0 if k == 0 else 1) or (
                    op == "or" and isinstance(operand, ir.Binary) and operand.op == "and"
                )
                # On one line the operand follows the operator (and sits in parentheses); on
                # several it is indented inside them.
                taken = max(len(INDENT), len(prefix) + (2 if needs_parens else 0))
                inner = self._format(operand, width - taken)
                if len(inner) == 1:
                    piece = f"({inner[0]})" if needs_parens else inner[0]
                    lines.append(prefix + piece)
                else:
                    lines.append(prefix + "(")
                    lines.extend(INDENT + line for line in inner)
                    lines.append(")")
            return lines
        if (
            isinstance(expr, ir.Unary)
            and expr.op == "not"
            and ir.negated_comparison(expr) is None
            and (split_chain(expr.operand) is not None or isinstance(expr.operand, ir.Compare))
        ):
            inner = self._format(expr.operand, width - len(INDENT))
            return ["not (", *(INDENT + line for line in inner), ")"]
        if isinstance(expr, ir.Compare):
            left_lines = self._format(expr.left, width)
            right_lines = self._format(expr.right, width - len(expr.op) - 1)
            return [*left_lines, f"{expr.op} {right_lines[0]}", *right_lines[1:]]
        if isinstance(expr, ir.Call) and expr.function != "to_real":
            name = {"clamp": "_clamp", "floor": "math.floor"}.get(expr.function, expr.function)
            lines = [f"{name}("]
            for arg in expr.args:
                inner = self._format(arg, width - len(INDENT))
                lines.extend(INDENT + line for line in inner[:-1])
                lines.append(INDENT + inner[-1] + ",")
            lines.append(")")
            return lines
        if isinstance(expr, ir.SafeDivide):
            left = self._operand(expr.left, PRECEDENCE["/"])
            right = self._operand(expr.right, PRECEDENCE["/"] + 1)
            divisor = self._operand(expr.right, PRECEDENCE["compare"] + 1)
            return [f"{left} / {right}", f"if {divisor} != 0.0", "else 0.0"]
        if isinstance(expr, ir.Interpolate):
            inner = self._format(expr.key, width - len(INDENT))
            return [f"{self.names.functions[expr.curve]}(", *(INDENT + line for line in inner), ")"]
        if isinstance(expr, ir.Lookup):
            inner = self._format(expr.key, width - len(INDENT))
            function = self.names.functions[expr.table]
            return [f"{function}(", *(INDENT + line for line in inner), f").{python_name(expr.column)}"]
        return [text]

    def _block(self, out: Emitter, block: ir.Block) -> None:
        if block.origin is not None and self.source_comments:
            cites = f" ({', '.join(block.origin.cites)})" if block.origin.cites else ""
            out.comment(f"{block.title}: {block.origin.describe()}{cites}", "#", LINE_WIDTH)
        else:
            out.comment(block.title, "#", LINE_WIDTH)
        for note in block.notes:
            out.comment(note, "#", LINE_WIDTH)
        for stmt in block.body:
            self.stmt(out, stmt)

    def wired_inputs(self, out: Emitter, reads: list[ir.ReadInput]) -> None:
        """Wired inputs: checked when the program runs alone, taken as they are inside a Package."""
        out.line("if not self._wired:")
        with out.indented():
            for stmt in reads:
                self._read_input(out, stmt)
        out.line("else:")
        with out.indented():
            out.line("# Copied by Package from outputs that their source programs have checked.")
            for stmt in reads:
                if stmt.input in self.used:
                    emit_wrapped(out, f"{self.names.locals[stmt.input]} = self.{self.names.wire[stmt.input]}")
            if not any(stmt.input in self.used for stmt in reads):
                out.line("pass")

    def _read_input(self, out: Emitter, stmt: ir.ReadInput) -> None:
        """Read an input into a local of its name; a faulted reading is replaced, and reported once."""
        var = self.variables[stmt.input]
        local = self.names.locals[stmt.input]
        describe = [var.type.describe()]
        if stmt.low is not None and stmt.high is not None:
            describe.append(f"range {self.constant_expr(stmt.low)} .. {self.constant_expr(stmt.high)}")
        if stmt.fallback is not None:
            describe.append(f"fallback {self.constant_expr(stmt.fallback)}")
        if var.wiring is not None:
            describe.append(f"from {var.wiring[0]}.{var.wiring[1]}")
        where = f" ({stmt.origin.describe()})" if stmt.origin is not None and self.source_comments else ""
        out.comment(f"input {stmt.input}: {', '.join(describe)}{where}", "#", LINE_WIDTH)
        kind = var.type.kind
        numeric = kind in ("real", "int")
        # A number is read into `x_reading` (None, a number, or anything a caller set) and checked
        # into `x`, a float or int: compiled by mypyc (hpdsl.sim.native), `x` is a C number. A
        # flag's local is declared as the attribute is: mypyc infers the narrowing of
        # `type(x) is not bool` to None otherwise, and refuses the module.
        reading = self.names.readings[stmt.input] if numeric else local
        attr = self.names.slot(stmt.input)
        declared = f"{local}: bool | None" if kind == "bool" else reading
        emit_wrapped(out, f"{declared} = self.{attr}")
        if numeric:
            low = self.expr(stmt.low) if stmt.low is not None else "-math.inf"
            high = self.expr(stmt.high) if stmt.high is not None else "math.inf"
            compare = "<=" if stmt.low is not None else "<"
            compare_high = "<=" if stmt.high is not None else "<"
            faulted = f"{reading} is None or not {low} {compare} {reading} {compare_high} {high}"
        else:
            faulted = f"{local} is None or type({local}) is not {'bool' if kind == 'bool' else var.type.enum}"
        if stmt.fallback is not None:
            substitute = self.expr(stmt.fallback)
        else:
            assert stmt.last_good is not None
            substitute = f"self.{self.names.attributes[stmt.last_good]}"
        fault_flag = f"self.{self.names.attributes[stmt.fault]}"
        faulted_call = f"{local} = self._input_faulted({quote(stmt.alarm)}, {reading}, {substitute})"
        if numeric:  # a reading of the wrong type (a string) makes the comparison raise
            out.line("try:")
            out.level += 1
        emit_wrapped(out, f"if {faulted}:")
        with out.indented():
            emit_wrapped(out, faulted_call)
        good = f"self._input_good({quote(stmt.alarm)}, {local})"
        if numeric or stmt.last_good is not None:
            out.line("else:")
            with out.indented():
                if numeric:
                    emit_wrapped(out, f"{local} = {reading}")
                if stmt.last_good is not None:
                    emit_wrapped(out, f"{substitute} = {local}")
                out.line(f"if {fault_flag}:")
                with out.indented():
                    emit_wrapped(out, good)
        else:
            out.line(f"elif {fault_flag}:")
            with out.indented():
                emit_wrapped(out, good)
        if numeric:
            out.level -= 1
            out.line("except TypeError:")
            with out.indented():
                emit_wrapped(out, faulted_call)


def emit_wrapped(out: Emitter, text: str) -> None:
    """A line of fixed text; if too long, an `if` condition, or the tail after the first `=` or `(`,
    goes in parentheses."""
    if len(INDENT * out.level) + len(text) <= LINE_WIDTH:
        out.line(text)
        return
    if text.startswith("if ") and text.endswith(":"):
        out.line("if (")
        with out.indented():
            first_operand, *more = text[3:-1].split(" or ")  # these conditions have no nested `or`
            out.line(first_operand)
            for operand in more:
                out.line(f"or {operand}")
        out.line("):")
        return
    head, sep, tail = text.partition(" = ")
    if sep and "(" not in head and tail.endswith(")") and "(" in tail:
        call, _, args = tail.partition("(")
        out.line(f"{head} = {call}(")
        _arguments(out, args[:-1])
        out.line(")")
        return
    if sep and "(" not in head:
        out.line(f"{head} = (")
        with out.indented():
            out.line(tail)
        out.line(")")
        return
    name, _, rest = text.partition("(")
    out.line(f"{name}(")
    _arguments(out, rest[:-1])
    out.line(")")


def _arguments(out: Emitter, args: str) -> None:
    """A call's arguments, indented: on one line, or one a line when that is too long (these calls
    have no nested commas)."""
    with out.indented():
        if len(INDENT * out.level) + len(args) <= LINE_WIDTH:
            out.line(args)
        else:
            for arg in args.split(", "):
                out.line(f"{arg},")


def collapse_last_branch(stmt: ir.If) -> ir.If:
    """`elif a:` holding only `if b:` (no else anywhere) reads better, and lints clean, as `elif a and b:`."""
    last = stmt.branches[-1]
    if stmt.else_body or len(last.body) != 1 or len(stmt.branches) < 2:
        return stmt
    inner = last.body[0]
    if not isinstance(inner, ir.If) or inner.else_body or len(inner.branches) != 1:
        return stmt
    merged = ir.Branch(
        ir.Binary(ir.BOOL, "and", last.condition, inner.branches[0].condition), inner.branches[0].body
    )
    return ir.If(stmt.origin, (*stmt.branches[:-1], merged), ())


def precedence_of(printer: Printer, expr: ir.Expr) -> int:
    return printer._expr(expr)[1]


def split_chain(expr: ir.Expr) -> tuple[str, list[ir.Expr]] | None:
    """A top-level chain of one operator (`a and b and c`, `a + b + c`) as its operands."""
    if not (isinstance(expr, ir.Binary) and expr.op in ("and", "or", "+", "*")):
        if isinstance(expr, ir.Binary):
            return expr.op, [expr.left, expr.right]
        return None
    op = expr.op
    operands: list[ir.Expr] = []
    stack: list[ir.Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Binary) and node.op == op:
            if op in ("and", "or"):
                stack.append(node.right)
            else:  # arithmetic: only the left-nested chain, so the evaluation order stays as written
                operands.append(node.right)
            stack.append(node.left)
        else:
            operands.append(node)
    if op not in ("and", "or"):
        operands = [operands[-1], *reversed(operands[:-1])]
    return op, operands


def substitute(printer: Printer, expr: ir.Expr) -> str:
    """Print an expression with every parameter reference replaced by its default."""
    variables = printer.variables

    def replace(node: ir.Expr) -> ir.Expr:
        if isinstance(node, ir.Ref) and variables[node.name].initial is not None:
            initial = variables[node.name].initial
            assert initial is not None
            return replace(initial)
        if isinstance(node, ir.Binary):
            return ir.Binary(node.type, node.op, replace(node.left), replace(node.right))
        if isinstance(node, ir.SafeDivide):
            return ir.SafeDivide(node.type, replace(node.left), replace(node.right))
        if isinstance(node, ir.Unary):
            return ir.Unary(node.type, node.op, replace(node.operand))
        if isinstance(node, ir.Call):
            return ir.Call(node.type, node.function, tuple(replace(a) for a in node.args))
        return node

    return printer.expr(replace(expr))


def quote(text: str) -> str:
    """A Python string literal in double quotes."""
    return python_string(text)
