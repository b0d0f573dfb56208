"""State diagrams of `hpdsl doc`: Mermaid text for Markdown, an inline SVG for HTML.

The SVG needs no browser script, network or Graphviz: states are laid out in layers by a
breadth-first walk from the initial state (one row per layer, in the order the walk finds
them), arrows to a later layer go straight down, and arrows back to the same or an earlier
layer go round the right-hand side. Every number is computed from the machine alone, so the
same machine always gives the same bytes.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from hpdsl.tools.doc.model import DiagramEdge, StateDiagram

# Sizes in SVG user units (pixels at 100 %).
CHAR_WIDTH = 7.0  # an estimate for 12 px sans-serif; generous so text stays inside boxes
LABEL_CHAR_WIDTH = 6.2  # 11 px labels
BOX_HEIGHT = 34.0
BOX_PADDING = 14.0
LINE_HEIGHT = 13.0
LAYER_GAP = 70.0  # vertical room between layers besides the labels
STATE_GAP = 40.0
MARGIN = 20.0
BACK_EDGE_STEP = 26.0
LABEL_MAX = 48  # characters of a transition label in the diagram; the table has the rest


def mermaid(diagram: StateDiagram) -> str:
    """The machine as a Mermaid `stateDiagram-v2` (GitHub renders it)."""
    lines = ["stateDiagram-v2"]
    for state in diagram.states:
        lines.append(f'    state "{state}" as {state}')
    lines.append(f"    [*] --> {diagram.initial}")
    for edge in diagram.edges:
        for label in edge.labels:
            lines.append(f"    {edge.source} --> {edge.target}: {mermaid_label(label)}")
    return "\n".join(lines)


# Characters that end or confuse a Mermaid label are written as its entity codes (#60; is <).
_MERMAID_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.,()+-*/=!%")


def mermaid_label(label: str) -> str:
    """A transition label Mermaid reads as text, whatever characters the guard holds."""
    return "".join(c if c in _MERMAID_SAFE else f"#{ord(c)};" for c in label)


@dataclass(frozen=True)
class _Box:
    name: str
    x: float  # left
    y: float  # top
    width: float

    @property
    def center(self) -> float:
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        return self.y + BOX_HEIGHT

    @property
    def middle(self) -> float:
        return self.y + BOX_HEIGHT / 2

    @property
    def right(self) -> float:
        return self.x + self.width


def layers(diagram: StateDiagram) -> list[list[str]]:
    """States by distance from the initial state; unreachable ones (none in checked rules) last."""
    targets: dict[str, list[str]] = {state: [] for state in diagram.states}
    for edge in diagram.edges:
        if edge.target not in targets[edge.source]:
            targets[edge.source].append(edge.target)
    depth = {diagram.initial: 0}
    order = [diagram.initial]
    for state in order:  # order grows while it is walked: a breadth-first walk
        for target in targets.get(state, []):
            if target not in depth:
                depth[target] = depth[state] + 1
                order.append(target)
    rest = [state for state in diagram.states if state not in depth]
    found: list[list[str]] = []
    for state in order:
        while len(found) <= depth[state]:
            found.append([])
        found[depth[state]].append(state)
    if rest:
        found.append(rest)
    return found


def _short(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1].rstrip() + "\u2026"


def _label_width(labels: tuple[str, ...]) -> float:
    return max((len(_short(label)) for label in labels), default=0) * LABEL_CHAR_WIDTH


def svg(diagram: StateDiagram) -> str:
    """The machine as an inline SVG element, with a title for screen readers."""
    rows = layers(diagram)
    layer_of = {state: index for index, row in enumerate(rows) for state in row}
    forward = [e for e in diagram.edges if layer_of[e.target] > layer_of[e.source]]
    backward = [e for e in diagram.edges if layer_of[e.target] <= layer_of[e.source]]
    # Room under each layer for the labels of the arrows that leave it downwards.
    label_lines = [0] * len(rows)
    for edge in forward:
        label_lines[layer_of[edge.source]] = max(label_lines[layer_of[edge.source]], len(edge.labels))
    widths = {state: len(state) * CHAR_WIDTH + 2 * BOX_PADDING for state in diagram.states}
    row_widths = [sum(widths[s] for s in row) + STATE_GAP * (len(row) - 1) for row in rows]
    content_width = max([*row_widths, 0.0])
    boxes: dict[str, _Box] = {}
    y = MARGIN + 30.0  # room for the start dot
    for index, row in enumerate(rows):
        x = MARGIN + (content_width - row_widths[index]) / 2
        for state in row:
            boxes[state] = _Box(state, x, y, widths[state])
            x += widths[state] + STATE_GAP
        y += BOX_HEIGHT + LAYER_GAP + label_lines[index] * LINE_HEIGHT
    height = y - LAYER_GAP + MARGIN
    # Arrows back go round the right of everything drawn so far, forward labels included.
    label_ends = [
        (boxes[e.source].center + boxes[e.target].center) / 2 + 6 + _label_width(e.labels) for e in forward
    ]
    right_edge = max([*(box.right for box in boxes.values()), *label_ends]) + 10
    parts: list[str] = []
    start = boxes[diagram.initial]
    parts.append(f'<circle cx="{_n(start.center)}" cy="{_n(MARGIN + 6)}" r="6" class="start"/>')
    parts.append(_line(start.center, MARGIN + 12, start.center, start.y))
    for edge in forward:
        parts.extend(_forward(edge, boxes[edge.source], boxes[edge.target]))
    extra = 0.0
    for index, edge in enumerate(backward):
        offset = right_edge + BACK_EDGE_STEP * (index + 1)
        drawn, label_end = _backward(edge, boxes[edge.source], boxes[edge.target], offset)
        parts.extend(drawn)
        extra = max(extra, label_end - right_edge)
    for box in boxes.values():
        parts.append(
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.width)}" height="{_n(BOX_HEIGHT)}"'
            ' rx="8" class="state"/>'
        )
        parts.append(
            f'<text x="{_n(box.center)}" y="{_n(box.middle + 4)}" text-anchor="middle"'
            f' class="state-name">{html.escape(box.name)}</text>'
        )
    width = right_edge + extra + MARGIN
    title = html.escape(f"State machine {diagram.name}")
    marker = "arrow-" + re.sub(r"[^A-Za-z0-9]+", "-", diagram.name).strip("-").lower()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="machine" role="img" width="{_n(width)}"'
        f' height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}">'
        f"<title>{title}</title>"
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8"'
        ' markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
        + "".join(parts).replace("url(#arrow)", f"url(#{marker})")
        + "</svg>"
    )


def _forward(edge: DiagramEdge, source: _Box, target: _Box) -> list[str]:
    x1, y1 = source.center, source.bottom
    x2, y2 = target.center, target.y
    parts = [_line(x1, y1, x2, y2)]
    # Labels start just right of the arrow's midpoint, one line per transition.
    mx, my = (x1 + x2) / 2 + 6, (y1 + y2) / 2 - (len(edge.labels) - 1) * LINE_HEIGHT / 2
    parts.extend(_labels(edge.labels, mx, my))
    return parts


def _backward(edge: DiagramEdge, source: _Box, target: _Box, offset: float) -> tuple[list[str], float]:
    """An arrow round the right-hand side (to an earlier layer, the same layer, or itself)."""
    x1, y1 = source.right, source.middle - 5
    x2, y2 = target.right, target.middle + 5
    # A cubic curve with both control points at x = c bulges to 0.125 (x1 + x2) + 0.75 c at its
    # middle; c is chosen so that the bulge reaches `offset`, clear of the boxes and labels.
    control = (offset - 0.125 * (x1 + x2)) / 0.75
    path = (
        f'<path d="M{_n(x1)},{_n(y1)} C{_n(control)},{_n(y1)} {_n(control)},{_n(y2)} {_n(x2)},{_n(y2)}"'
        ' class="edge" marker-end="url(#arrow)"/>'
    )
    lx = offset + 4
    ly = (y1 + y2) / 2 - (len(edge.labels) - 1) * LINE_HEIGHT / 2
    return [path, *_labels(edge.labels, lx, ly)], lx + _label_width(edge.labels)


def _labels(labels: tuple[str, ...], x: float, y: float) -> list[str]:
    return [
        f'<text x="{_n(x)}" y="{_n(y + i * LINE_HEIGHT)}" class="edge-label">'
        f"{html.escape(_short(label))}</text>"
        for i, label in enumerate(labels)
    ]


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" class="edge"'
        ' marker-end="url(#arrow)"/>'
    )


def _n(value: float) -> str:
    """A coordinate with one decimal, without a trailing .0: short, and the same on every machine."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text
