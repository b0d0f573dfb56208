"""Text written for a person: made safe for a terminal and for Markdown.

What a rules file, a scenario or a site file says (file names, documentation, requirement
text, units) reaches the terminal and Markdown reports. These functions are the one place each
context escapes it: a terminal never receives a control sequence, and Markdown never reads user
text as markup. The generated code's contexts (Python, ST, XML) are in hpdsl.codegen.escape.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that reorder or hide text (the "Trojan Source" characters): bidirectional
# controls and zero-width characters. They are shown by their code point.
INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def unsafe(char: str) -> bool:
    """A control character (other than a line break or tab), an invisible or reordering
    character, or half of a surrogate pair."""
    if char in "\n\t":
        return False
    return char in INVISIBLE or unicodedata.category(char) in ("Cc", "Cs")


def _shown(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the control pictures: ␀, ␛, ...
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def terminal(text: str) -> str:
    """Text for a terminal: every unsafe character shown, never sent (`\\x1b` is `␛`)."""
    if not any(unsafe(char) for char in text):
        return text
    return "".join(_shown(char) if unsafe(char) else char for char in text)


_MARKDOWN_SPECIAL = "\\`*_[]<>|#!&"


def markdown_text(value: str) -> str:
    """Words with every character Markdown (and the HTML it allows) would read as markup escaped."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in terminal(value).replace("\n", " "))


def markdown_code(value: str) -> str:
    """A code span that holds any text: its fence is longer than any run of backticks inside it,
    and a `|` is escaped so that it does not end a table cell."""
    text = terminal(value).replace("\n", " ").replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or text.startswith(" ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
