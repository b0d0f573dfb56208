"""Text from the rules (file names, doc strings, requirement text) as it may stand in generated
code: one function per target and context, so that no text can end a comment, a string or a
docstring early, or put a line of its own into the output.

Every function keeps printable text as it is (`°C`, `ä`, `µ`), so ordinary outputs do not
change, and writes each character that is not printable (line breaks, control characters,
bidi and zero-width marks, lone surrogates) as its escape, `\\n`, `\\x00`, `\\u202e`.

May import: the standard library only.
"""

from __future__ import annotations


def _surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDFFF


def _escape(char: str) -> str:
    """The Python escape of one character that is not printable."""
    code = ord(char)
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _in_literal(char: str) -> str:
    """One character inside a Python string or docstring."""
    if char == "\\":
        return "\\\\"
    if char.isprintable():
        return char
    if _surrogate(char):
        # A lone surrogate cannot be encoded: a docstring holding one stops the class that owns
        # it from being built. It stays visible as the text `\udNNN` (its backslash escaped).
        return "\\" + _escape(char)
    return _escape(char)


def readable(text: str) -> str:
    """What a literal made by these functions holds for `text`: the text, each lone surrogate as
    the six characters of its escape."""
    return "".join(_escape(char) if _surrogate(char) else char for char in text)


def printable(text: str) -> str:
    """Text for a comment of any target: every character that is not printable as its escape.

    A comment then holds one line of the text, whatever the text: no line break, no control
    character, no reordering mark reaches the file.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def python_string(text: str) -> str:
    """A Python string literal in double quotes holding `text` (see `readable` for surrogates)."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # the common case, at the speed of a copy
    return '"' + "".join('\\"' if char == '"' else _in_literal(char) for char in text) + '"'


def python_docstring_line(text: str) -> str:
    """One line of a Python docstring that reads as `text`: backslashes doubled, `\"\"\"` broken,
    what is not printable escaped. A line the closing quotes follow must not end in a quote:
    see `python_docstring_end`."""
    return "".join(_in_literal(char) for char in text).replace('"""', '\\"\\"\\"')


def python_docstring_end(line: str) -> str:
    """An escaped docstring line that the closing quotes follow on the same line: a quote at its
    end escaped, or it would join them."""
    if not line.endswith('"'):
        return line
    backslashes = len(line[:-1]) - len(line[:-1].rstrip("\\"))
    return line if backslashes % 2 else line[:-1] + '\\"'  # an odd count: the quote is escaped


def st_comment(text: str) -> str:
    """Text for a Structured Text comment, `// ...` or `(* ... *)`: on one line, and unable to open
    or close a block comment."""
    return printable(text).replace("(*", "( *").replace("*)", "* )")


def xml_comment(text: str) -> str:
    """Text for an XML comment: on one line, without `--` (which XML forbids in a comment) and
    not ending in `-`."""
    text = printable(text)
    while "--" in text:
        text = text.replace("--", "- -")
    return text + " " if text.endswith("-") else text


def cdata(text: str) -> str:
    """Text for an XML CDATA section: a `]]>` in it split across two sections."""
    return text.replace("]]>", "]]]]><![CDATA[>")
