"""The document model of `hpdsl doc`: headings, paragraphs, tables, code and diagrams.

The sequence of operations is built once as a list of these blocks (`build.py`) and then
written twice, as Markdown and as HTML (`render.py`), so the two always say the same thing.
Text is held unescaped; each writer escapes it for its own format.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Inline text ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Plain words."""

    text: str


@dataclass(frozen=True)
class Code:
    """A name or an expression as written in the rules."""

    text: str


@dataclass(frozen=True)
class Link:
    """A reference to an anchor in the same document."""

    text: str
    anchor: str
    code: bool = False  # show the text as code (a name)


@dataclass(frozen=True)
class Anchor:
    """Words that a link can point at (a requirement ID in the traceability matrix)."""

    text: str
    anchor: str


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Break:
    """A line break inside a paragraph or a table cell."""


Inline = Text | Code | Link | Anchor | Strong | Break
Cell = tuple[Inline, ...]


def text(value: str) -> Cell:
    """A cell of plain words (empty for an empty string)."""
    return (Text(value),) if value else ()


def code(value: str) -> Cell:
    """A cell holding one code span (empty for an empty string)."""
    return (Code(value),) if value else ()


def joined(cells: list[Cell], separator: Inline) -> Cell:
    """Cells one after the other, with a separator between them."""
    out: list[Inline] = []
    for index, cell in enumerate(cells):
        if index:
            out.append(separator)
        out.extend(cell)
    return tuple(out)


# --- Blocks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    """A section heading; levels 2 and 3 go into the table of contents."""

    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class Paragraph:
    content: Cell


@dataclass(frozen=True)
class Bullets:
    items: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class CodeBlock:
    """Rules text as written (statements, actions), shown verbatim."""

    text: str
    language: str = "rules"


@dataclass(frozen=True)
class DiagramEdge:
    """One arrow of a state diagram: the transitions from one state to another, by number."""

    source: str
    target: str
    labels: tuple[str, ...]  # one line per transition: "T2 when coil_outlet_temp > ..."


@dataclass(frozen=True)
class StateDiagram:
    """A state machine: Mermaid in Markdown, an inline SVG in HTML."""

    name: str
    states: tuple[str, ...]  # declaration order
    initial: str
    edges: tuple[DiagramEdge, ...]


Block = Heading | Paragraph | Bullets | Table | CodeBlock | StateDiagram


@dataclass(frozen=True)
class Document:
    """The whole document: its title, a line that says what it is, and its blocks."""

    name: str
    title: str
    blocks: tuple[Block, ...]

    def contents(self) -> list[Heading]:
        """The headings of the table of contents, in order."""
        return [b for b in self.blocks if isinstance(b, Heading) and b.level in (2, 3)]
