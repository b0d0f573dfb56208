"""Parse a rules file: the lark grammar, the AST builder, and syntax errors in plain words.

Syntax errors are classified against a table of the mistakes engineers make (an `=`
where `==` is meant, an upper-case `IF`, a keyword used as a name, a block left open)
and explained with what was expected and which block is still open.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import cast

import lark
from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from hpdsl.base import messages
from hpdsl.base.diagnostics import Diagnostic, Note
from hpdsl.base.resources import resource_path
from hpdsl.base.source import SourceFile, Span
from hpdsl.language import nodes as n
from hpdsl.language import units
from hpdsl.language.builder import AstBuilder, token_span
from hpdsl.language.nodes import Module

# Keywords that open a block closed by `end`, with the words used for them in messages.
BLOCK_OPENERS = {
    "PROGRAM": "program",
    "RULE": "rule",
    "IF": "if",
    "HYSTERESIS": "hysteresis",
    "SCHEDULE": "schedule",
    "MACHINE": "machine",
    "STATE": "state",
    "ENTRY": "entry",
    "DURING": "during",
    "EXIT": "exit",
    "ALARM": "alarm",
    "EVENT": "event",
    "TABLE": "table",
    "CURVE": "curve",
}


# How expected terminals read in a message.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "QUANTITY": "a quantity such as 21C",
    "STRING": "a documentation string",
    "TIME_OF_DAY": "a time of day such as 07:00",
    "CMP_OP": "a comparison",
    "ELSE_IF": "`else if`",
    "INITIAL": "`initial`",
    "PERCENT": "`%`",
    "DEGREE": "a unit",
    "$END": "the end of the file",
}
_PUNCTUATION = {
    "LPAR": "(",
    "RPAR": ")",
    "COMMA": ",",
    "COLON": ":",
    "EQUAL": "=",
    "DOT": ".",
    "__ANON_0": "..",
    "VBAR": "|",
    "MINUS": "-",
    "PLUS": "+",
    "STAR": "*",
    "SLASH": "/",
}
# Terminals that can only continue an expression; listed as "an operator".
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "CMP_OP", "AND", "OR", "FOR", "DOT", "LPAR"}
_EXPRESSION_STARTS = {"NAME", "NUMBER", "QUANTITY", "TRUE", "FALSE", "LPAR", "MINUS", "NOT"}


@dataclass(frozen=True)
class ParseResult:
    module: Module | None
    diagnostics: list[Diagnostic]


def cache_file() -> str:
    """Where lark keeps the compiled LALR tables, so a cold start does not rebuild them."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "hpdsl")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        folder = tempfile.gettempdir()
    if not os.access(folder, os.W_OK):
        folder = tempfile.gettempdir()
    return os.path.join(folder, f"grammar-lark{lark.__version__}")


@functools.cache
def grammar_text() -> str:
    return resource_path("grammar", "hpdsl.lark").read_text(encoding="utf-8")


@functools.cache
def _front_end() -> tuple[Lark, AstBuilder]:
    """The LALR parser with the AST builder inside it, built once per process.

    The builder runs as the parser reduces, so no parse tree is ever built; every token
    is kept so that each node's span runs from its first keyword to its last token.
    lark caches the compiled tables on disk, keyed on the grammar text and options; it
    rebuilds them when the file is missing or damaged and carries on when it cannot write it.
    """
    builder = AstBuilder()
    parser = Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        keep_all_tokens=True,
        maybe_placeholders=True,
        transformer=builder,
        cache=cache_file(),
    )
    return parser, builder


def lark_parser() -> Lark:
    return _front_end()[0]


@functools.cache
def keywords() -> frozenset[str]:
    """Every keyword of the grammar, read from its string terminals so the list never drifts."""
    words = set()
    for terminal in lark_parser().terminals:
        pattern = terminal.pattern
        if isinstance(pattern, PatternStr) and pattern.value.isidentifier():
            words.add(pattern.value)
    return frozenset(words)


_PARSE_LOCK = threading.Lock()  # one builder instance serves every parse


# Recent parses, by file name and text. A language server, a test run and a mutation run read
# the same files again and again; the tree is immutable, so one parse serves every check.
# Only files up to _CACHED_TEXT characters are kept, so the cache stays a few megabytes.
_CACHE: OrderedDict[tuple[str, str], ParseResult] = OrderedDict()
_CACHE_ENTRIES = 64
_CACHED_TEXT = 200_000


def parse_source(source: SourceFile) -> ParseResult:
    """Parse one file into a Module, or explain why it is not valid rules text."""
    key = (source.name, source.text)
    with _PARSE_LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = _parse(source)
            if len(source.text) <= _CACHED_TEXT:
                _CACHE[key] = found
                if len(_CACHE) > _CACHE_ENTRIES:
                    _CACHE.popitem(last=False)
        else:
            _CACHE.move_to_end(key)
    return ParseResult(found.module, list(found.diagnostics))  # the caller's own list


def _parse(source: SourceFile) -> ParseResult:
    """Parse one file (the caller holds _PARSE_LOCK: one builder serves every parse)."""
    parser, builder = _front_end()
    builder.begin(source.name)
    try:
        # With the builder inside the parser, parse() returns what `start` built.
        module = cast(Module, parser.parse(source.text))
    except UnexpectedInput as exc:
        return ParseResult(None, [_explain(source, exc)])
    if builder.too_deep:
        return ParseResult(None, [d for d in builder.diagnostics if d.code == "too-deep"])
    return ParseResult(module, list(builder.diagnostics))


# ----------------------------------------------------------------------------- explaining
def _token_span(source: SourceFile, tok: Token) -> Span:
    return token_span(source.name, tok, missing_line=len(source.lines) or 1)


def _eof_span(source: SourceFile) -> Span:
    """Just after the last character of the text, where the missing word belongs."""
    line = len(source.lines)
    while line > 1 and not source.line(line).strip():
        line -= 1
    line = max(line, 1)
    return Span.point(source.name, line, len(source.line(line)) + 1)


def _open_blocks(exc: UnexpectedToken) -> list[Token]:
    """Block keywords shifted but not yet reduced: the blocks still open, outermost first."""
    state = getattr(exc, "interactive_parser", None)
    if state is None:
        return []
    # A block whose `end` is shifted but not yet reduced is closed: the parser reduces it
    # only on the token after `end`. Pair each such `end` with the latest unmatched opener.
    open_blocks: list[Token] = []
    for value in state.parser_state.value_stack:
        if not isinstance(value, Token):
            continue
        if value.type in BLOCK_OPENERS:
            open_blocks.append(value)
        elif value.type == "END" and open_blocks:
            open_blocks.pop()
    return open_blocks


def _describe_block(tok: Token, exc: UnexpectedToken) -> str:
    """`rule select_mode`: the block keyword and, when it has one, its name."""
    keyword = BLOCK_OPENERS[tok.type]
    stack = exc.interactive_parser.parser_state.value_stack
    index = next(i for i, v in enumerate(stack) if v is tok)
    following = stack[index + 1] if index + 1 < len(stack) else None
    if isinstance(following, Token) and following.type == "NAME" and keyword not in ("if",):
        return f"{keyword} {following}"
    return keyword


def _describe_expected(expected: set[str]) -> str:
    words: list[str] = []
    names = {t for t in expected if not t.startswith("__") or t == "__ANON_0"}
    if names & _OPERATORS and len(names - _OPERATORS) >= 1:
        operators = True
        names -= _OPERATORS
    else:
        operators = False
    if len(names & _EXPRESSION_STARTS) >= 4:
        names -= _EXPRESSION_STARTS
        words.append("an expression")
    for name in sorted(names):
        if name in _TERMINAL_WORDS:
            words.append(_TERMINAL_WORDS[name])
        elif name in _PUNCTUATION:
            words.append(f"`{_PUNCTUATION[name]}`")
        elif name.lower() in keywords():
            words.append(f"`{name.lower()}`")
        else:
            words.append(name.lower())
    if operators:
        words.append("an operator")
    if not words:
        return "something else"
    if len(words) == 1:
        return words[0]
    if len(words) > 8:
        words = [*words[:7], "..."]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _describe_found(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "NAME":
        return f"name `{tok}`"
    if tok.type == "STRING":
        return "string"
    return f"`{tok}`"


def _explain(source: SourceFile, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        return _explain_characters(source, exc)
    if isinstance(exc, UnexpectedToken):
        return _explain_token(source, exc)
    if isinstance(exc, UnexpectedEOF):  # only from non-LALR parsers; kept for completeness
        return messages.UNEXPECTED_EOF.at(_eof_span(source), expected=_describe_expected(set(exc.expected)))
    raise AssertionError(f"unknown lark error {type(exc).__name__}")


def _explain_characters(source: SourceFile, exc: UnexpectedCharacters) -> Diagnostic:
    line, column = exc.line, exc.column
    char = exc.char
    span = Span.point(source.name, line, column)
    text = source.line(line)
    rest = text[column - 1 :]
    if char == '"':
        return messages.UNTERMINATED_STRING.at(
            Span(source.name, line, column, line, len(text) + 1),
            hint='close it with `"` on the same line, or use """ ... """ for text over several lines',
        )
    hint = None
    if rest.startswith(":="):
        hint = "assignments are written `name = value`"
    elif char == ";":
        hint = "statements need no `;`; one statement per line reads best"
    elif char in "{}":
        hint = "blocks are closed with `end`, not braces"
    elif char == "'":
        hint = 'strings are written in double quotes: "..."'
    elif char == "!":
        hint = "negation is written `not`; inequality `!=`"
    elif char == "&":
        hint = "write `and`"
    elif char == "=":
        hint = "comparison is written `==`"
    return messages.INVALID_CHARACTER.at(span, char=char, hint=hint, notes=_open_block_note(source, exc))


def _open_block_note(source: SourceFile, exc: UnexpectedInput) -> tuple[Note, ...]:
    if not isinstance(exc, UnexpectedToken):
        return ()
    blocks = _open_blocks(exc)
    if not blocks:
        return ()
    inner = blocks[-1]
    return (Note(f"inside the `{_describe_block(inner, exc)}` opened here", _token_span(source, inner)),)


def _explain_token(source: SourceFile, exc: UnexpectedToken) -> Diagnostic:
    tok = exc.token
    interactive = getattr(exc, "interactive_parser", None)
    # `accepts()` tries each terminal through the pending reductions, so it names what could
    # really come next; the raw expected set of the state that failed can be narrower or wider.
    expected = set(interactive.accepts()) if interactive is not None else set(exc.expected)
    blocks = _open_blocks(exc)
    notes = _open_block_note(source, exc)
    span = _eof_span(source) if tok.type == "$END" else _token_span(source, tok)
    stack = interactive.parser_state.value_stack if interactive is not None else []
    previous = stack[-1] if stack else None

    if tok.type == "$END":
        if blocks:
            inner = blocks[-1]
            return messages.UNCLOSED_BLOCK.at(
                span,
                block=_describe_block(inner, exc),
                line=inner.line,
                hint=f"add `end` to close the `{BLOCK_OPENERS[inner.type]}`",
                notes=(Note("opened here", _token_span(source, inner)),),
            )
        return messages.UNEXPECTED_EOF.at(span, expected=_describe_expected(expected))

    if tok.type == "EQUAL" and ("THEN" in expected or "CMP_OP" in expected or "RPAR" in expected):
        return messages.COMPARE_WITH_EQUALS.at(span, hint="write `==` to compare two values", notes=notes)

    if tok.type == "CMP_OP" and (
        isinstance(previous, n.Compare)
        or any(isinstance(v, Token) and v.type == "CMP_OP" for v in stack[-2:])
    ):
        return messages.CHAINED_COMPARISON.at(
            span, hint="write `low < x and x < high`, or test a range with a table", notes=notes
        )

    if tok.type == "END" and not blocks:
        return messages.UNEXPECTED_END.at(span, hint="remove it, or check the block above for an extra `end`")

    if tok.type == "VBAR" and tok.line and tok.column:
        # `| load | end |`: a keyword in a table's header row ends the table there, and the
        # parser only stumbles at the next `|`; name the keyword, where it stands.
        before = source.line(tok.line)[: tok.column - 1]
        found = re.search(r"\|\s*([A-Za-z_][A-Za-z0-9_]*)\s*$", before)
        if found and found.group(1) in keywords():
            column = found.start(1) + 1
            keyword = found.group(1)
            return messages.KEYWORD_AS_NAME.at(
                Span(source.name, tok.line, column, tok.line, column + len(keyword)),
                word=keyword,
                hint=f"a table's column is a name: choose another, such as `{keyword}_value`",
                notes=notes,
            )

    word = str(tok)
    for candidate in (tok, previous):
        if (
            isinstance(candidate, Token)
            and candidate.type == "NAME"
            and candidate.lower() in keywords()
            and str(candidate) != candidate.lower()
        ):
            return messages.UPPERCASE_KEYWORD.at(
                _token_span(source, candidate),
                word=str(candidate),
                hint=f"write `{candidate.lower()}`",
                notes=notes,
            )

    if expected - _OPERATORS == {"NAME"} and word in keywords():
        return messages.KEYWORD_AS_NAME.at(
            span, word=word, hint=f"choose another name, such as `{word}_value`", notes=notes
        )

    for candidate in (tok, previous):
        # `21 degrees`: an unknown unit lexes as a number followed by a name.
        if isinstance(candidate, Token) and candidate.type == "NAME" and candidate.line and candidate.column:
            before = source.line(candidate.line)[: candidate.column - 1]
            if (before.rstrip(" \t")[-1:].isdigit() and before[-1:] in (" ", "\t")) or before[-1:].isdigit():
                suggestions = units.suggest(str(candidate))
                hint = (
                    f"did you mean `{suggestions[0]}`?"
                    if suggestions
                    else "see the list of units in docs/language.md"
                )
                return messages.UNKNOWN_UNIT.at(
                    _token_span(source, candidate), unit=str(candidate), hint=hint, notes=notes
                )

    if tok.type == "COLON" and source.line(tok.line or 0)[(tok.column or 1) :].startswith("="):
        return messages.UNEXPECTED_TOKEN.at(
            span,
            found="`:=`",
            expected=_describe_expected(expected),
            hint="assignments are written `name = value`",
            notes=notes,
        )

    if blocks and "END" in expected:
        inner = blocks[-1]
        return messages.UNCLOSED_BLOCK_AT.at(
            span,
            found=_describe_found(tok),
            block=_describe_block(inner, exc),
            line=inner.line,
            expected=_describe_expected(expected),
            hint=f"if the `{BLOCK_OPENERS[inner.type]}` should have ended before this, add `end`",
            notes=notes,
        )

    return messages.UNEXPECTED_TOKEN.at(
        span, found=_describe_found(tok), expected=_describe_expected(expected), notes=notes
    )
