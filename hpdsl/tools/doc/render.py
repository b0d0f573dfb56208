"""The two writers of `hpdsl doc`: the same document model as Markdown and as HTML.

The templates under `targets/doc/` hold the page layout (the marker line, the title, the
table of contents, the style sheet); the blocks are written here, each writer escaping text
for its own format.
"""

from __future__ import annotations

import html
import re

from hpdsl.base.escape import markdown_code, markdown_text
from hpdsl.codegen.templates import render
from hpdsl.tools.doc import svg as doc_svg
from hpdsl.tools.doc.model import (
    Anchor,
    Block,
    Break,
    Bullets,
    Cell,
    Code,
    CodeBlock,
    Document,
    Heading,
    Link,
    Paragraph,
    StateDiagram,
    Strong,
    Table,
    Text,
)

# The first line of both files; a file without it in an output folder was not written by
# `hpdsl doc`, and is never overwritten without --force.
MARKER = "Sequence of operations written by hpdsl doc"


# --- Markdown ----------------------------------------------------------------------------


def markdown_inline(cell: Cell, in_table: bool) -> str:
    out: list[str] = []
    for piece in cell:
        if isinstance(piece, Text):
            out.append(markdown_text(piece.text))
        elif isinstance(piece, Code):
            out.append(markdown_code(piece.text))
        elif isinstance(piece, Strong):
            out.append(f"**{markdown_text(piece.text)}**")
        elif isinstance(piece, Link):
            shown = markdown_code(piece.text) if piece.code else markdown_text(piece.text)
            out.append(f"[{shown}](#{piece.anchor})")
        elif isinstance(piece, Anchor):
            out.append(f'<a id="{piece.anchor}"></a>{markdown_text(piece.text)}')
        elif isinstance(piece, Break):
            out.append("<br>" if in_table else "  \n")
    return "".join(out)


def markdown_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f'<a id="{block.anchor}"></a>\n\n{"#" * block.level} {markdown_text(block.text)}'
    if isinstance(block, Paragraph):
        written = markdown_inline(block.content, in_table=False)
        return "\\" + written if written.startswith(("#", "-", "+", ">")) else written
    if isinstance(block, Bullets):
        return "\n".join(f"- {markdown_inline(item, in_table=False)}" for item in block.items)
    if isinstance(block, Table):
        lines = [
            "| " + " | ".join(markdown_text(h) for h in block.header) + " |",
            "|" + "---|" * len(block.header),
        ]
        for row in block.rows:
            lines.append("| " + " | ".join(markdown_inline(cell, in_table=True) for cell in row) + " |")
        return "\n".join(lines)
    if isinstance(block, CodeBlock):
        fence = "````" if "```" in block.text else "```"
        return f"{fence}{block.language}\n{block.text}\n{fence}"
    return f"```mermaid\n{doc_svg.mermaid(block)}\n```"


def markdown(document: Document) -> str:
    """The document as GitHub-flavoured Markdown (Mermaid for the state machines)."""
    contents = [
        f"{'  ' * (heading.level - 2)}- [{markdown_text(heading.text)}](#{heading.anchor})"
        for heading in document.contents()
    ]
    body = "\n\n".join(markdown_block(block) for block in document.blocks)
    return render(
        "doc/document.md.j2",
        marker=MARKER,
        name=document.name,
        title=markdown_text(document.title),
        contents="\n".join(contents),
        body=body,
    )


# --- HTML --------------------------------------------------------------------------------


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _code(text: str) -> str:
    """Code in running text or a table cell: a short value (`-40C .. 60C`) kept on one line, a long name
    (`outdoor_coil_temp_sensor`, `rules/plant.rules:39`, `SupplyTemperatureCheck`) breakable after
    `_`, `.` and `/` and between words, so that
    a table's columns of names do not crowd out its column of prose."""
    escaped = _e(text)
    if len(text) <= 24:  # a value: a number stays with its unit, a range may break after `..`
        escaped = escaped.replace(" .. ", "\0").replace(" ", "&nbsp;").replace("\0", "&nbsp;.. ")
    escaped = re.sub(r"([_/]|\.(?=[A-Za-z]))(?=\S)", r"\1<wbr>", escaped)
    return re.sub(r"(?<=[a-z])(?=[A-Z][a-z])", "<wbr>", escaped)  # SupplyTemperatureCheck


def html_inline(cell: Cell) -> str:
    out: list[str] = []
    for piece in cell:
        if isinstance(piece, Text):
            out.append(_e(piece.text))
        elif isinstance(piece, Code):
            out.append(f"<code>{_code(piece.text)}</code>")
        elif isinstance(piece, Strong):
            out.append(f"<strong>{_e(piece.text)}</strong>")
        elif isinstance(piece, Link):
            shown = f"<code>{_code(piece.text)}</code>" if piece.code else _e(piece.text)
            out.append(f'<a href="#{_e(piece.anchor)}">{shown}</a>')
        elif isinstance(piece, Anchor):
            out.append(f'<span id="{_e(piece.anchor)}">{_e(piece.text)}</span>')
        elif isinstance(piece, Break):
            out.append("<br>")
    return "".join(out)


def html_block(block: Block) -> str:
    if isinstance(block, Heading):
        level = min(block.level, 6)
        return f'<h{level} id="{_e(block.anchor)}">{_e(block.text)}</h{level}>'
    if isinstance(block, Paragraph):
        return f"<p>{html_inline(block.content)}</p>"
    if isinstance(block, Bullets):
        items = "".join(f"<li>{html_inline(item)}</li>" for item in block.items)
        return f"<ul>{items}</ul>"
    if isinstance(block, Table):
        head = "".join(f"<th>{_e(h)}</th>" for h in block.header)
        prose = _prose_columns(block)
        rows = "\n".join(
            "<tr>"
            + "".join(
                f'<td class="prose">{html_inline(cell)}</td>'
                if index in prose
                else f"<td>{html_inline(cell)}</td>"
                for index, cell in enumerate(row)
            )
            + "</tr>"
            for row in block.rows
        )
        return (
            f'<div class="table"><table>\n<thead><tr>{head}</tr></thead>\n'
            f"<tbody>\n{rows}\n</tbody>\n</table></div>"
        )
    if isinstance(block, CodeBlock):
        return f'<pre class="{_e(block.language)}"><code>{_e(block.text)}</code></pre>'
    return html_diagram(block)


def _prose_columns(table: Table) -> set[int]:
    """The columns of sentences (a description, a purpose): they get a readable width."""
    found: set[int] = set()
    for index in range(len(table.header)):
        lengths = [
            sum(len(piece.text) for piece in row[index] if isinstance(piece, Text))
            for row in table.rows
            if index < len(row)
        ]
        if lengths and sum(lengths) / len(lengths) >= 40:
            found.add(index)
    return found


def html_diagram(diagram: StateDiagram) -> str:
    caption = f"<figcaption>State machine {_e(diagram.name)}</figcaption>"
    return f'<figure class="diagram">{doc_svg.svg(diagram)}{caption}</figure>'


def html_page(document: Document) -> str:
    """The document as one self-contained HTML page: inline style, inline SVG, no scripts."""
    contents = "\n".join(
        f'<li class="level-{heading.level}"><a href="#{_e(heading.anchor)}">{_e(heading.text)}</a></li>'
        for heading in document.contents()
    )
    body = "\n".join(html_block(block) for block in document.blocks)
    return render(
        "doc/document.html.j2",
        marker=_e(MARKER),
        name=_e(document.name),
        title=_e(document.title),
        contents=contents,
        body=body,
    )
