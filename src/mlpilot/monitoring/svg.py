"""Small inline-SVG charts for the monitoring report: a time-series line chart and a heatmap.

Hand-written rather than a chart library so the report stays one static file that opens anywhere,
air-gapped, with no script. Every piece of text is escaped here; callers pass plain strings.
The ``<svg>`` elements carry no ``xmlns``: HTML5 parsers place inline SVG in its namespace, and
leaving the namespace URL out keeps the page free of any URL at all.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

__all__ = ["NO_VALUE", "Cell", "Rule", "Series", "fmt", "fmt_time", "heatmap", "line_chart", "ratio_colour"]

NO_VALUE = "—"
_WIDTH = 960
_HEIGHT = 260
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 64, 72, 30, 28
_EMPTY_CELL = "#e5e7eb"
_DAY_TIME = "%m-%d %H:%M"
# Light green at no change, amber at the threshold, dark red at twice the threshold and beyond.
_SCALE = ((0.0, (236, 253, 243)), (1.0, (251, 191, 36)), (2.0, (153, 27, 27)))


@dataclass(frozen=True, slots=True)
class Series:
    """One line over time; ``band`` is an optional (x, low, high) envelope drawn behind it."""

    name: str
    points: Sequence[tuple[float, float | None]]
    colour: str
    dashed: bool = False
    band: Sequence[tuple[float, float, float]] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal reference line (a threshold, an offline score)."""

    name: str
    value: float
    colour: str


@dataclass(frozen=True, slots=True)
class Cell:
    """A heatmap cell: ``ratio`` is the statistic relative to its threshold (1 = at the threshold)."""

    ratio: float | None
    drifted: bool
    hover: str


def fmt(value: object) -> str:
    """Three significant digits, thousands separated, None (and NaN) as a dash."""
    if value is None or isinstance(value, bool):
        return NO_VALUE if value is None else str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if not isinstance(value, float):
        return str(value)
    if math.isnan(value):
        return NO_VALUE
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size == 0 or size >= 1e-3:
        return f"{value:.3g}"
    return f"{value:.2e}"


def fmt_time(ms: float | None, *, style: str = "%Y-%m-%d %H:%M:%S UTC") -> str:
    if ms is None:
        return NO_VALUE
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime(style)
    except (OverflowError, OSError, ValueError):  # a corrupt timestamp must not sink the whole report
        return NO_VALUE


def ratio_colour(ratio: float | None) -> str:
    if ratio is None or math.isnan(ratio):
        return _EMPTY_CELL
    ratio = min(max(ratio, 0.0), _SCALE[-1][0])
    for (low, start), (high, end) in itertools.pairwise(_SCALE):
        if ratio <= high:
            t = (ratio - low) / (high - low)
            red, green, blue = (round(a + (b - a) * t) for a, b in zip(start, end, strict=True))
            return f"#{red:02x}{green:02x}{blue:02x}"
    return _EMPTY_CELL  # unreachable: the ratio is clamped to the scale


def _n(value: float) -> str:
    return f"{value:.1f}"


def _svg_open(title: str, width: float, height: float) -> str:
    label = escape(title)
    return (
        f'<svg class="chart" role="img" aria-label="{label}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}" height="{_n(height)}"><title>{label}</title>'
    )


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _y_domain(values: list[float], y_min: float | None, y_max: float | None) -> tuple[float, float]:
    low = min(values) if y_min is None else y_min
    high = max(values) if y_max is None else y_max
    if high <= low:
        pad = abs(low) * 0.1 or 0.5
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return (low if y_min is not None else low - pad), (high if y_max is not None else high + pad)


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    rules: Sequence[Rule] = (),
    unit: str = "",
    y_min: float | None = None,
    y_max: float | None = None,
) -> str:
    """Lines over time (x in epoch milliseconds); gaps (None) break a line rather than bridge it."""
    # Runs without a value still widen the time axis, so a trailing gap shows as a gap.
    xs = [x for s in series for x, _ in s.points]
    values = [y for s in series for _, y in s.points if y is not None]
    values += [v for s in series for _, low, high in s.band for v in (low, high)] + [r.value for r in rules]
    if not any(y is not None for s in series for _, y in s.points):
        return _svg_open(title, _WIDTH, 60) + f'<text x="12" y="34">{escape(title)}: no data yet</text></svg>'
    x0, x1 = min(xs), max(xs)
    if x1 == x0:  # a single run still deserves an axis: centre it in an hour
        x0, x1 = x0 - 1_800_000, x1 + 1_800_000
    y0, y1 = _y_domain(values, y_min, y_max)
    plot_w = _WIDTH - _MARGIN_LEFT - _MARGIN_RIGHT
    plot_h = _HEIGHT - _MARGIN_TOP - _MARGIN_BOTTOM

    def px(x: float) -> float:
        return _MARGIN_LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return _MARGIN_TOP + (1 - (min(max(y, y0), y1) - y0) / (y1 - y0)) * plot_h

    parts = [_svg_open(title, _WIDTH, _HEIGHT)]
    for tick in _ticks(y0, y1):
        parts.append(
            f'<line class="grid" x1="{_MARGIN_LEFT}" x2="{_WIDTH - _MARGIN_RIGHT}" y1="{_n(py(tick))}" '
            f'y2="{_n(py(tick))}" stroke="#e5e7eb" />'
            f'<text x="{_MARGIN_LEFT - 6}" y="{_n(py(tick) + 4)}" text-anchor="end">{escape(fmt(tick) + unit)}</text>'
        )
    short = x1 - x0 < 86_400_000
    for i in range(6):
        x = x0 + i * (x1 - x0) / 5
        label = fmt_time(x, style="%H:%M" if short else _DAY_TIME)
        parts.append(f'<text x="{_n(px(x))}" y="{_HEIGHT - 8}" text-anchor="middle">{label}</text>')
    for s in series:
        if s.band:
            upper = [f"{_n(px(x))},{_n(py(high))}" for x, _, high in s.band]
            lower = [f"{_n(px(x))},{_n(py(low))}" for x, low, _ in reversed(s.band)]
            parts.append(
                f'<polygon class="band" points="{" ".join(upper + lower)}" fill="{s.colour}" opacity="0.15" />'
            )
    for rule in rules:
        y = _n(py(rule.value))
        parts.append(
            f'<line class="rule" x1="{_MARGIN_LEFT}" x2="{_WIDTH - _MARGIN_RIGHT}" y1="{y}" y2="{y}" '
            f'stroke="{rule.colour}" stroke-dasharray="6 4"><title>{escape(f"{rule.name}: {fmt(rule.value)}")}</title>'
            f'</line><text x="{_WIDTH - _MARGIN_RIGHT + 4}" y="{_n(float(y) + 4)}">{escape(rule.name)}</text>'
        )
    for s in series:
        parts.append(_polyline(s, px, py, unit))
    parts.append(_legend(series))
    parts.append("</svg>")
    return "".join(parts)


def _polyline(s: Series, px: Callable[[float], float], py: Callable[[float], float], unit: str) -> str:
    dash = ' stroke-dasharray="5 3"' if s.dashed else ""
    commands: list[str] = []
    markers: list[str] = []
    pen_down = False
    for x, y in sorted(s.points, key=lambda point: point[0]):
        if y is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{_n(px(x))} {_n(py(y))}")
        pen_down = True
        hover = escape(f"{s.name} · {fmt_time(x)} · {fmt(y)}{unit}")
        markers.append(
            f'<circle cx="{_n(px(x))}" cy="{_n(py(y))}" r="2.5" fill="{s.colour}"><title>{hover}</title></circle>'
        )
    path = f'<path class="line" d="{" ".join(commands)}" fill="none" stroke="{s.colour}" stroke-width="1.8"{dash} />'
    return path + "".join(markers)


def _legend(series: Sequence[Series]) -> str:
    parts, x = [], float(_MARGIN_LEFT)
    for s in series:
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        parts.append(
            f'<line x1="{_n(x)}" x2="{_n(x + 16)}" y1="12" y2="12" stroke="{s.colour}" stroke-width="2"{dash} />'
            f'<text x="{_n(x + 20)}" y="16">{escape(s.name)}</text>'
        )
        x += 36 + 6.5 * len(s.name)
    return "".join(parts)


def heatmap(title: str, rows: Sequence[str], columns: Sequence[float], cells: Sequence[Sequence[Cell]]) -> str:
    """``cells[row][column]``; columns are run times (epoch ms), labelled below every few cells."""
    label_w = min(220.0, 12 + 7 * max((len(row) for row in rows), default=4))
    cell_w = min(36.0, max(8.0, 640 / max(len(columns), 1)))
    cell_h = 20.0
    width = label_w + max(cell_w * len(columns), 330.0) + 16
    height = 24 + cell_h * len(rows) + 64
    parts = [_svg_open(title, width, height)]
    for r, row in enumerate(rows):
        y = 24 + r * cell_h
        shown = row if len(row) <= 30 else row[:29] + "…"
        parts.append(
            f'<text x="{_n(label_w - 6)}" y="{_n(y + 14)}" text-anchor="end"><title>{escape(row)}</title>'
            f"{escape(shown)}</text>"
        )
        for c, cell in enumerate(cells[r]):
            x = label_w + c * cell_w
            mark = (
                f'<circle cx="{_n(x + cell_w / 2)}" cy="{_n(y + cell_h / 2)}" r="{_n(min(cell_w, cell_h) / 5)}" '
                'fill="#111827" stroke="#fff" stroke-width="1" />'
                if cell.drifted
                else ""
            )
            parts.append(
                f'<g class="cell"><title>{escape(cell.hover)}</title><rect x="{_n(x)}" y="{_n(y)}" '
                f'width="{_n(cell_w - 1)}" height="{_n(cell_h - 1)}" fill="{ratio_colour(cell.ratio)}" />{mark}</g>'
            )
    every = max(1, math.ceil(84 / cell_w))
    axis_y = 24 + cell_h * len(rows) + 16
    for c in range(0, len(columns), every):
        x = label_w + c * cell_w + cell_w / 2
        parts.append(
            f'<text x="{_n(x)}" y="{_n(axis_y)}" text-anchor="middle">{fmt_time(columns[c], style=_DAY_TIME)}</text>'
        )
    parts.append(_heatmap_legend(label_w, axis_y + 20))
    parts.append("</svg>")
    return "".join(parts)


def _heatmap_legend(x: float, y: float) -> str:
    parts = ['<g class="legend">']
    for i in range(11):
        parts.append(f'<rect x="{_n(x + i * 14)}" y="{_n(y)}" width="14" height="10" fill="{ratio_colour(i / 5)}" />')
    parts.append(
        f'<text x="{_n(x)}" y="{_n(y + 22)}">0</text>'
        f'<text x="{_n(x + 77)}" y="{_n(y + 22)}" text-anchor="middle">threshold</text>'
        f'<text x="{_n(x + 154)}" y="{_n(y + 22)}" text-anchor="end">2&#215;</text>'
        f'<rect x="{_n(x + 176)}" y="{_n(y)}" width="14" height="10" fill="{_EMPTY_CELL}" />'
        f'<text x="{_n(x + 194)}" y="{_n(y + 9)}">no verdict</text>'
        f'<circle cx="{_n(x + 270)}" cy="{_n(y + 5)}" r="4" fill="#111827" />'
        f'<text x="{_n(x + 278)}" y="{_n(y + 9)}">drifted</text></g>'
    )
    return "".join(parts)
