"""Small graphs drawn as SVG on the server: model lineage and a pipeline's step DAG.

Boxes in columns (one column per depth), edges as straight lines: enough for the handful of nodes
these graphs have, with no layout library and nothing for the browser to compute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Node", "layered_svg"]

_W, _H, _GAP_X, _GAP_Y, _PAD = 230, 52, 56, 18, 10
_COLOURS = {
    "model": "#2456d6",
    "run": "#5a3fc0",
    "dataset": "#1a7f4b",
    "commit": "#444b5a",
    "succeeded": "#1a7f4b",
    "completed": "#1a7f4b",
    "cached": "#a86400",
    "failed": "#c0322b",
    "running": "#2456d6",
    "pending": "#8a93a6",
    "skipped": "#8a93a6",
}


@dataclass(frozen=True, slots=True)
class Node:
    """A box: its id, its two lines of text, a kind (which picks the colour) and a link."""

    id: str
    title: str
    subtitle: str = ""
    kind: str = ""
    href: str | None = None


def _depths(nodes: Sequence[Node], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    depth = {node.id: 0 for node in nodes}
    # Longest path from a source: a fixed point reached in at most len(nodes) passes (a DAG).
    for _ in range(len(nodes)):
        changed = False
        for source, target in edges:
            if source in depth and target in depth and depth[target] < depth[source] + 1:
                depth[target] = depth[source] + 1
                changed = True
        if not changed:
            break
    return depth


def layered_svg(nodes: Sequence[Node], edges: Sequence[tuple[str, str]], label: str) -> Markup:
    """The graph as an inline SVG element, left to right."""
    depth = _depths(nodes, edges)
    columns: dict[int, list[Node]] = {}
    for node in nodes:
        columns.setdefault(depth[node.id], []).append(node)
    where: dict[str, tuple[int, int]] = {}
    for column, members in columns.items():
        for row, node in enumerate(members):
            where[node.id] = (_PAD + column * (_W + _GAP_X), _PAD + row * (_H + _GAP_Y))
    width = _PAD * 2 + (max(columns, default=0) + 1) * (_W + _GAP_X) - _GAP_X
    height = _PAD * 2 + max((len(members) for members in columns.values()), default=1) * (_H + _GAP_Y) - _GAP_Y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#8a93a6"/></marker></defs>',
    ]
    for source, target in edges:
        if source in where and target in where:
            (x1, y1), (x2, y2) = where[source], where[target]
            parts.append(
                f'<line x1="{x1 + _W}" y1="{y1 + _H // 2}" x2="{x2}" y2="{y2 + _H // 2}" '
                'stroke="#8a93a6" stroke-width="1.5" marker-end="url(#arrow)"/>'
            )
    for node in nodes:
        x, y = where[node.id]
        colour = _COLOURS.get(node.kind, "#444b5a")
        box = (
            f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="7" fill="#fff" stroke="{colour}" stroke-width="2"/>'
            f'<rect x="{x}" y="{y}" width="6" height="{_H}" rx="3" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{y + 21}" font-size="13" font-weight="600" fill="#1d2330">'
            f"{escape(_cut(node.title))}</text>"
            f'<text x="{x + 14}" y="{y + 39}" font-size="11.5" fill="#677085">{escape(_cut(node.subtitle))}</text>'
        )
        if node.href:
            box = f'<a href="{escape(node.href)}">{box}</a>'
        parts.append(f'<g class="node" data-id="{escape(node.id)}">{box}</g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _cut(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
