"""`hpdsl fmt`: the one canonical layout of rules files.

The formatter re-emits the tokens of a file (comments included) with the layout that
docs/fmt.md describes: indentation from the block structure of the parse tree, one space
between tokens except where the house style has none, aligned columns for runs of
assignments, hysteresis thresholds, table rows and trailing comments. Line breaks inside an
item are the author's; every item, statement, clause and `end` starts a line of its own.

A safety net guards every result: the output is parsed again, and its AST and its comments
must equal the input's. `format_text` is the library entry point (the language server's
"format document" calls it); `add_arguments` and `run` are the command line.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import itertools
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lark import Lark, Token, Tree

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic
from hpdsl.base.files import UsageError, decode
from hpdsl.base.source import SourceFile, Span, discover, display_name
from hpdsl.language.parser import cache_file, grammar_text, parse_source

INDENT = 4

# Nodes whose first token starts a line of its own, indented by their block depth.
_LINE_ITEMS = frozenset(
    {
        "enum_decl", "requirement_decl", "declaration", "program", "curve_decl", "table_decl",
        "rule", "hysteresis", "totalizer", "counter", "schedule", "machine", "alarm", "event_decl", "require",
        "assign", "if_stmt", "log_stmt", "elif_clause", "else_clause", "threshold",
        "schedule_period", "state", "entry_action", "during_action", "exit_action",
        "guarded_transition", "timeout_transition", "alarm_condition", "alarm_severity",
        "alarm_delay", "alarm_latching", "alarm_acknowledge", "action", "event_field",
        "table_header", "table_row", "curve_point",
    }
)  # fmt: skip
# Nodes whose contents sit one level deeper than the node itself (an `entry` holds a block).
_INDENTING = frozenset(
    {
        "program", "rule", "hysteresis", "schedule", "machine", "state", "alarm", "action",
        "event_decl", "table_decl", "curve_decl", "block",
    }
)  # fmt: skip
# Items closed by `end`: one blank line always separates them from their neighbours.
_BLOCK_ITEMS = frozenset(
    {
        "program", "curve_decl", "table_decl", "rule", "hysteresis", "schedule", "machine", "alarm",
        "event_decl", "state",
    }
)  # fmt: skip
# Nodes whose item children are separated by a blank line when either of two is a block.
_CONTAINERS = frozenset({"start", "program", "machine"})
# A line ending in one of these opens a body: no blank line follows it.
_BODY_OPENERS = frozenset({"THEN", "ELSE", "ENTRY", "DURING", "EXIT", "ACTION"})
# A line starting with one of these closes or continues a block: no blank line before it.
_CLOSERS = frozenset({"END", "ELSE", "ELSE_IF"})
# Calls and headers take their `(` without a space: `min(a, b)`, `table t(load: %)`.
_TIGHT_PAREN = frozenset({"call", "log_stmt", "table_decl", "curve_decl"})
_TYPE_OPERATORS = frozenset({"type_div", "type_mul"})


@dataclass(frozen=True)
class FormatResult:
    """The formatted text, or None with the parse errors when the input is not valid rules text."""

    text: str | None
    diagnostics: list[Diagnostic]


class FormatterBug(Exception):
    """The formatted text would not mean what the input meant: a bug in the formatter, never bad input."""


def format_text(text: str, name: str = "<text>") -> FormatResult:
    """Lay out rules text canonically, or give the parse errors `hpdsl check` would give.

    Never raises on bad input. Raises FormatterBug if the result would differ in meaning or
    comments from the input (the safety net), which only a bug in the formatter can cause.
    """
    # Read as a file is read: "\n" line ends, no byte-order mark, the same checks of size and bytes.
    source, problem = decode(name, text.encode("utf-8", "surrogatepass"))
    if source is None:
        return FormatResult(None, [problem] if problem is not None else [])
    text = source.text
    parsed = parse_source(source)
    if parsed.module is None:
        return FormatResult(None, parsed.diagnostics)
    tree = _tree_parser().parse(text)
    comments = _comments(text)
    output = _Layout(tree, comments).render()
    _verify(parsed.module, [c.text for c in comments], output, name)
    return FormatResult(output, [])


@functools.cache
def _tree_parser() -> Lark:
    """The grammar as a plain parse tree, every token kept, for the layout to read structure from.

    `hpdsl.language.parser` builds the AST while it parses and keeps no tree; the formatter needs the
    tree's rule names, so it has a parser of its own over the same grammar.
    """
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        keep_all_tokens=True,
        cache=cache_file() + "-tree",
    )


@dataclass(frozen=True)
class _Comment:
    text: str
    line: int
    column: int


def _comments(text: str) -> list[_Comment]:
    """Every comment of the text, trailing blanks removed, in order."""
    found: list[_Comment] = []
    for token in _tree_parser().lex(text, dont_ignore=True):
        if token.type == "COMMENT":
            found.append(_Comment(str(token).rstrip(), token.line or 1, token.column or 1))
    return found


def _verify(module: object, comments: list[str], output: str, name: str) -> None:
    """The safety net: the output parses to the same AST and holds the same comments, in order."""
    again = parse_source(SourceFile(name, output))
    if again.module is None:
        first = again.diagnostics[0] if again.diagnostics else None
        raise FormatterBug(f"the formatted text of {name} does not parse: {first.message if first else '?'}")
    if again.module != module:
        raise FormatterBug(f"the formatted text of {name} would change its meaning")
    if [c.text for c in _comments(output)] != comments:
        raise FormatterBug(f"the formatted text of {name} would lose or reorder comments")


# --------------------------------------------------------------------------------- layout
@dataclass
class _Tok:
    """A token with what the layout needs to know about its place in the tree."""

    index: int
    type: str
    text: str
    line: int
    end_line: int
    parent: str  # the rule of the tree node that holds the token
    item_depth: int  # block depth of the innermost line item around the token
    starts_line: bool = False  # the first token of a line item, or an `end`
    value_start: int | None = None  # first token of the enclosing assignment's value


@dataclass
class _Node:
    data: str
    first: int  # index of the first token
    last: int  # index of the last token
    depth: int
    children: list[_Node] = field(default_factory=list)


@dataclass
class _Line:
    tokens: list[_Tok]
    comment: str | None  # trailing comment of a code line, or the text of a comment line
    end_line: int  # the input line where the line's last element ends
    blank_before: bool
    indent: int = 0


@dataclass(frozen=True)
class _Context:
    depth: int  # block depth of the contents
    item_depth: int
    value_start: int | None
    value_root: bool  # this child is the value of an assignment


class _Layout:
    """One file's tokens and comments laid out as lines of text."""

    def __init__(self, tree: Tree[Token], comments: list[_Comment]) -> None:
        self.tokens: list[_Tok] = []
        self.root = self._walk(tree)
        self.lines = self._lines(comments)
        self.line_of: dict[int, int] = {}
        for number, line in enumerate(self.lines):
            for tok in line.tokens:
                self.line_of[tok.index] = number
        self.pad: dict[int, int] = {}  # extra spaces before a token, for aligned columns

    # ------------------------------------------------------------------ tree
    def _walk(self, tree: Tree[Token]) -> _Node:
        """Number the tokens and record each node's extent and depth (iteratively: trees can be deep)."""
        root = _Node(str(tree.data), 0, -1, 0)
        start = _Context(0, 0, None, False)
        # A visit of a child (with its context and parent node), or a node to close.
        work: list[tuple[Tree[Token] | Token, _Context, _Node] | _Node] = [
            (child, start, root) for child in reversed(tree.children)
        ]
        while work:
            entry = work.pop()
            if isinstance(entry, _Node):
                entry.last = len(self.tokens) - 1
                continue
            item, context, parent = entry
            value_start = context.value_start
            if context.value_root:
                value_start = len(self.tokens)
            if isinstance(item, Token):
                self.tokens.append(
                    _Tok(
                        index=len(self.tokens),
                        type=item.type,
                        text="else if" if item.type == "ELSE_IF" else str(item),
                        line=item.line or 1,
                        end_line=item.end_line or item.line or 1,
                        parent=parent.data,
                        item_depth=context.item_depth,
                        starts_line=item.type == "END",
                        value_start=value_start,
                    )
                )
                continue
            data = str(item.data)
            node = _Node(data, len(self.tokens), -1, context.depth)
            parent.children.append(node)
            item_depth = context.depth if data in _LINE_ITEMS else context.item_depth
            inner = context.depth + (1 if data in _INDENTING else 0)
            work.append(node)
            children = item.children
            for position in range(len(children) - 1, -1, -1):
                is_value = data == "assign" and position == 2
                work.append((children[position], _Context(inner, item_depth, value_start, is_value), node))
        root.last = len(self.tokens) - 1
        self._mark_line_starts(root)
        return root

    def _mark_line_starts(self, root: _Node) -> None:
        for node in _preorder(root):
            if node.data in _LINE_ITEMS and node.first <= node.last:
                first = self.tokens[node.first]
                first.starts_line = True
                first.item_depth = node.depth

    # ------------------------------------------------------------------ lines
    def _lines(self, comments: list[_Comment]) -> list[_Line]:
        """Group tokens and comments into output lines: the author's breaks, plus one before every item."""
        merged = _merge(self.tokens, comments)
        lines: list[_Line] = []
        last_end = 0
        for element in merged:
            current = lines[-1] if lines else None
            if isinstance(element, _Comment):
                if (
                    current is not None
                    and current.tokens
                    and current.comment is None
                    and element.line == current.end_line
                ):
                    current.comment = element.text
                    continue
                lines.append(_Line([], element.text, element.line, element.line - last_end > 1))
                last_end = element.line
                continue
            tok = element
            if (
                current is None
                or not current.tokens
                or current.comment is not None
                or tok.starts_line
                or tok.line > current.end_line
            ):
                lines.append(_Line([], None, tok.end_line, tok.line - last_end > 1))
            line = lines[-1]
            line.tokens.append(tok)
            line.end_line = tok.end_line
            last_end = tok.end_line
        return lines

    def _blank_lines(self) -> None:
        """At most one blank line in a row, none where a block opens or closes, one between blocks."""
        for number, line in enumerate(self.lines):
            if number == 0:
                line.blank_before = False
                continue
            first = line.tokens[0] if line.tokens else None
            previous = self.lines[number - 1]
            if first is not None and (not first.starts_line or first.type in _CLOSERS):
                line.blank_before = False
            if previous.tokens and previous.tokens[-1].type in _BODY_OPENERS:
                line.blank_before = False
        for node in _preorder(self.root):
            if node.data not in _CONTAINERS:
                continue
            items = [
                child for child in node.children if child.data in _LINE_ITEMS and child.first <= child.last
            ]
            for before, after in itertools.pairwise(items):
                if before.data not in _BLOCK_ITEMS and after.data not in _BLOCK_ITEMS:
                    continue
                start = self.line_of[before.last] + 1
                stop = self.line_of[after.first]
                if not any(self.lines[n].blank_before for n in range(start, stop + 1)):
                    self.lines[start].blank_before = True

    # ------------------------------------------------------------------ columns
    def _align_assignments(self) -> None:
        """Consecutive assignments of one block line their `=` up."""
        runs: list[list[_Node]] = []
        run: list[_Node] = []
        assigns = {node.first: node for node in _preorder(self.root) if node.data == "assign"}
        parent_of: dict[int, int] = {}
        for container in _preorder(self.root):
            for child in container.children:
                parent_of[id(child)] = id(container)
        for line in self.lines:
            first = line.tokens[0] if line.tokens else None
            if first is None:
                if line.blank_before:
                    runs.append(run)
                    run = []
                continue
            if not first.starts_line:
                continue  # a continuation line belongs to the item above it
            node: _Node | None = assigns.get(first.index)
            if node is not None and self.line_of.get(node.first + 1) != self.line_of[node.first]:
                node = None  # `name` and `=` on different lines: nothing to line up
            if (
                node is not None
                and run
                and not line.blank_before
                and parent_of[id(node)] == parent_of[id(run[-1])]
            ):
                run.append(node)
                continue
            runs.append(run)
            run = [node] if node is not None else []
        runs.append(run)
        for group in runs:
            if len(group) < 2:
                continue
            width = max(len(self.tokens[node.first].text) for node in group)
            for node in group:
                self.pad[node.first + 1] = width - len(self.tokens[node.first].text)

    def _align_thresholds(self) -> None:
        """The `->` of a hysteresis's thresholds in one column."""
        for node in _preorder(self.root):
            if node.data != "hysteresis":
                continue
            rows: list[tuple[int, int]] = []
            for child in node.children:
                if child.data != "threshold" or not self._one_line(child):
                    continue
                arrow = next(i for i in range(child.first, child.last + 1) if self.tokens[i].text == "->")
                rows.append((arrow, len(self._join(self.tokens[child.first : arrow]))))
            if len(rows) < 2:
                continue
            width = max(w for _, w in rows)
            for arrow, w in rows:
                self.pad[arrow] = width - w

    def _align_tables(self) -> None:
        """Table cells in columns: left-aligned in tables, right-aligned (numbers) in curves."""
        for node in _preorder(self.root):
            if node.data not in ("table_decl", "curve_decl"):
                continue
            rows = [c for c in node.children if c.data in ("table_header", "table_row", "curve_point")]
            if not rows or not all(self._one_line(row) for row in rows):
                continue
            cells_of: list[list[tuple[int, int, int]]] = []  # (first, closing bar, width) per cell
            for row in rows:
                bars = [i for i in range(row.first, row.last + 1) if self._is_row_bar(i, row)]
                cells = []
                for left, right in itertools.pairwise(bars):
                    width = len(self._join(self.tokens[left + 1 : right]))
                    cells.append((left + 1, right, width))
                cells_of.append(cells)
            widths: dict[int, int] = {}
            for cells in cells_of:
                for column, (_, _, width) in enumerate(cells):
                    widths[column] = max(widths.get(column, 0), width)
            right_aligned = node.data == "curve_decl"
            for cells in cells_of:
                for column, (first, bar, width) in enumerate(cells):
                    slack = widths[column] - width
                    self.pad[first if right_aligned else bar] = slack

    def _is_row_bar(self, index: int, row: _Node) -> bool:
        """A `|` between two cells of this row."""
        return self.tokens[index].type == "VBAR" and self.tokens[index].parent == row.data

    def _one_line(self, node: _Node) -> bool:
        return self.line_of[node.first] == self.line_of[node.last] and (
            self.tokens[node.last].end_line == self.tokens[node.first].line
        )

    # ------------------------------------------------------------------ text
    def _join(self, tokens: list[_Tok], pad: dict[int, int] | None = None) -> str:
        parts: list[str] = []
        previous: _Tok | None = None
        for tok in tokens:
            if previous is not None:
                spaces = _space_between(previous, tok)
                if pad is not None:
                    spaces += pad.get(tok.index, 0)
                parts.append(" " * spaces)
            parts.append(tok.text)
            previous = tok
        return "".join(parts)

    def _indent_code(self) -> list[str]:
        """Indent every code line; a continuation line lines up with what it continues."""
        column: dict[int, int] = {}
        open_parens: list[int] = []
        rendered: list[str] = [""] * len(self.lines)
        for number, line in enumerate(self.lines):
            if not line.tokens:
                continue
            first = line.tokens[0]
            line.indent = (
                INDENT * first.item_depth
                if first.starts_line
                else self._continuation(first, open_parens, column)
            )
            text = " " * line.indent
            previous: _Tok | None = None
            for tok in line.tokens:
                if previous is not None:
                    text += " " * (_space_between(previous, tok) + self.pad.get(tok.index, 0))
                column[tok.index] = len(text) - (text.rfind("\n") + 1)
                text += tok.text
                if tok.type == "LPAR":
                    open_parens.append(tok.index)
                elif tok.type == "RPAR" and open_parens:
                    open_parens.pop()
                previous = tok
            rendered[number] = text
        return rendered

    def _continuation(self, first: _Tok, open_parens: list[int], column: dict[int, int]) -> int:
        if open_parens and first.type == "RPAR":
            return self.lines[self.line_of[open_parens[-1]]].indent
        anchor, indent = -1, None
        if open_parens:
            paren = open_parens[-1]
            inside = paren + 1
            if inside in column and self.line_of[inside] == self.line_of[paren]:
                anchor, indent = paren, column[inside]
            else:
                anchor, indent = paren, self.lines[self.line_of[paren]].indent + INDENT
        value = first.value_start
        if value is not None and value != first.index and value > anchor and value in column:
            indent = column[value]
        if indent is None:
            return INDENT * first.item_depth + INDENT
        return indent

    def render(self) -> str:
        self._blank_lines()
        self._align_assignments()
        self._align_thresholds()
        self._align_tables()
        rendered = self._indent_code()
        next_code: _Line | None = None
        for number in range(len(self.lines) - 1, -1, -1):
            line = self.lines[number]
            if line.tokens:
                next_code = line
                continue
            if next_code is None:
                line.indent = 0
            elif next_code.tokens[0].type == "END":
                line.indent = INDENT * (next_code.tokens[0].item_depth + 1)
            else:
                line.indent = next_code.indent
            rendered[number] = " " * line.indent + (line.comment or "")
        self._trailing_comments(rendered)
        out: list[str] = []
        for number, line in enumerate(self.lines):
            if line.blank_before:
                out.append("")
            out.append(rendered[number])
        return "\n".join(out) + "\n" if out else ""

    def _trailing_comments(self, rendered: list[str]) -> None:
        """Trailing comments of consecutive lines share one column, two spaces past the longest line."""
        number = 0
        while number < len(self.lines):
            if not (self.lines[number].tokens and self.lines[number].comment is not None):
                number += 1
                continue
            stop = number + 1
            while (
                stop < len(self.lines)
                and self.lines[stop].tokens
                and self.lines[stop].comment is not None
                and not self.lines[stop].blank_before
            ):
                stop += 1
            widest = max(_last_line_width(rendered[n]) for n in range(number, stop))
            at = widest + 2
            for n in range(number, stop):
                rendered[n] += " " * (at - _last_line_width(rendered[n])) + (self.lines[n].comment or "")
            number = stop


def _last_line_width(text: str) -> int:
    return len(text) - (text.rfind("\n") + 1)


def _space_between(before: _Tok, after: _Tok) -> int:
    """Spaces between two tokens on one line: one, except where the house style has none."""
    if after.type in ("COMMA", "RPAR", "COLON") or before.type == "LPAR":
        return 0
    if after.type == "LPAR" and after.parent in _TIGHT_PAREN:
        return 0
    if before.type == "DOT" or after.type == "DOT":
        return 0
    if before.type == "MINUS" and before.parent == "negate":
        return 0
    if before.parent in _TYPE_OPERATORS and before.type in ("SLASH", "STAR"):
        return 0
    if after.parent in _TYPE_OPERATORS and after.type in ("SLASH", "STAR"):
        return 0
    return 1


def _merge(tokens: list[_Tok], comments: list[_Comment]) -> list[_Tok | _Comment]:
    """Tokens and comments in the order they appear in the text."""
    merged: list[_Tok | _Comment] = []
    position = 0
    for comment in comments:
        while position < len(tokens) and tokens[position].line <= comment.line:
            # A token on the comment's line starts before it: a comment runs to the line end.
            merged.append(tokens[position])
            position += 1
        merged.append(comment)
    merged.extend(tokens[position:])
    return merged


def _preorder(root: _Node) -> list[_Node]:
    found: list[_Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(reversed(node.children))
    return found


# ----------------------------------------------------------------------------- command line
STDIN = "-"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`hpdsl fmt PATH... [--check] [--diff] [--stdin-filename NAME]`."""
    parser.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        help=f"rules files or folders of them; `{STDIN}` reads standard input",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; list the files that would change and exit with 1 if there are any",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="write nothing; print what would change as a unified diff and exit with 1 if anything would",
    )
    parser.add_argument(
        "--stdin-filename",
        metavar="NAME",
        help=f"the name diagnostics give the text read from `{STDIN}` (default: <stdin>)",
    )


@dataclass
class _Tally:
    """What happened to the files, for the summary line and the exit code."""

    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    internal: int = 0
    unwritable: int = 0


def run(args: argparse.Namespace) -> int:
    """Format, check or diff the given files; see docs/fmt.md for the exit codes."""
    raw: list[str] = args.paths
    if raw.count(STDIN) > 1 or (STDIN in raw and len(raw) > 1):
        raise UsageError(f"`{STDIN}` (standard input) cannot be combined with other paths")
    if args.stdin_filename is not None and STDIN not in raw:
        raise UsageError(f"--stdin-filename applies only when the path is `{STDIN}`")
    tally = _Tally()
    if raw == [STDIN]:
        _format_stdin(args, tally)
    else:
        for path in _rules_files([Path(p) for p in raw]):
            _format_file(path, args, tally)
    return _finish(args, tally)


def _rules_files(paths: list[Path]) -> list[Path]:
    files, empty_dirs, missing = discover(paths)
    if missing:
        raise UsageError("no such file or folder: " + ", ".join(f"`{p}`" for p in missing))
    if empty_dirs:
        raise UsageError("no .rules files in " + ", ".join(f"`{display_name(p)}`" for p in empty_dirs))
    return files


def _format_stdin(args: argparse.Namespace, tally: _Tally) -> None:
    name = args.stdin_filename or "<stdin>"
    data = sys.stdin.buffer.read()
    formatted = _format_bytes(name, data, tally)
    if formatted is None:
        return
    if formatted == data:
        tally.unchanged += 1
    else:
        tally.changed.append(name)
        if args.diff:
            _print_diff(name, data, formatted)
    if not (args.check or args.diff):
        sys.stdout.flush()
        sys.stdout.buffer.write(formatted)
        sys.stdout.buffer.flush()


def _format_file(path: Path, args: argparse.Namespace, tally: _Tally) -> None:
    name = display_name(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        tally.failed.append(messages.FILE_UNREADABLE.at(Span.point(name, 0, 0), path=name, reason=reason))
        return
    formatted = _format_bytes(name, data, tally)
    if formatted is None:
        return
    if formatted == data:
        tally.unchanged += 1
        return
    tally.changed.append(name)
    if args.diff:
        _print_diff(name, data, formatted)
    elif args.check:
        print(f"would reformat {name}")
    else:
        try:
            _replace(path, formatted)
        except OSError as exc:
            tally.changed.pop()
            tally.unwritable += 1
            print(f"hpdsl fmt: error: cannot write `{name}`: {exc.strerror or exc}", file=sys.stderr)
            return
        print(f"reformatted {name}")


def _format_bytes(name: str, data: bytes, tally: _Tally) -> bytes | None:
    """The formatted bytes of a file in its own newline style, or None (and why, in the tally)."""
    source, problem = decode(name, data)
    if source is None:
        if problem is not None:
            tally.failed.append(problem)
        return None
    try:
        result = format_text(source.text, name)
    except FormatterBug as exc:
        print(f"hpdsl fmt: internal error: {exc}; {name} is left as it is", file=sys.stderr)
        tally.internal += 1
        return None
    if result.text is None:
        tally.failed.extend(result.diagnostics)
        tally.sources[name] = source
        return None
    newline = "\r\n" if b"\r\n" in data else "\n"
    return result.text.replace("\n", newline).encode("utf-8")


def _print_diff(name: str, before: bytes, after: bytes) -> None:
    old = _with_ends(before.decode("utf-8", "replace"))
    new = _with_ends(after.decode("utf-8"))
    for line in difflib.unified_diff(old, new, f"a/{name}", f"b/{name}"):
        sys.stdout.write(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")


def _with_ends(text: str) -> list[str]:
    """The lines of a text, each with its "\\n" (only "\\n" ends a line, as for the parser)."""
    text = text.replace("\r\n", "\n")
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _replace(path: Path, data: bytes) -> None:
    """Write a file atomically: a temporary file beside it, then a rename over it (through symlinks)."""
    target = Path(os.path.realpath(path))
    mode = target.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _finish(args: argparse.Namespace, tally: _Tally) -> int:
    if tally.failed:
        from hpdsl.base.render import render_text

        sys.stderr.write(render_text(tally.failed, tally.sources))
    would = args.check or args.diff
    parts = []
    if tally.changed:
        verb = "would be reformatted" if would else "reformatted"
        parts.append(f"{_files(len(tally.changed))} {verb}")
    if tally.unchanged:
        verb = "would be left unchanged" if would else "left unchanged"
        parts.append(f"{_files(tally.unchanged)} {verb}")
    not_formatted = len({d.span.file for d in tally.failed}) + tally.internal + tally.unwritable
    if not_formatted:
        parts.append(f"{_files(not_formatted)} could not be formatted")
    print(", ".join(parts) + ".", file=sys.stderr)
    if tally.internal:
        return 3
    if tally.failed or tally.unwritable or (would and tally.changed):
        return 1
    return 0


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"
