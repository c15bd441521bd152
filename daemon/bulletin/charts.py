"""Inline SVG charts for the HTML bulletin: no script, no external file.

Each function returns :class:`markupsafe.Markup` whose every text is escaped,
so a window named ``<script>`` prints as text. Sizes are in CSS pixels and
the SVG scales with the page (``viewBox``), so it prints sharp on A4.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

_FONT = "font-family:inherit;font-size:12px"


def _text(x: float, y: float, s: object, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" style="{_FONT}" {extra}>{escape(str(s))}</text>'


def hbar(rows: Sequence[tuple[str, float, bool]], maximum: float, *, title: str, unit: str = "") -> Markup:
    """Horizontal bars, one per (label, value, highlighted) row, scaled to ``maximum``."""
    label_w, bar_w, row_h, top = 140, 360, 24, 28
    width, height = label_w + bar_w + 70, top + row_h * max(len(rows), 1) + 8
    scale = bar_w / maximum if maximum > 0 else 0.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"><title>{escape(title)}</title>',
        _text(0, 16, title, extra='font-weight="bold"'),
    ]
    for i, (label, value, highlighted) in enumerate(rows):
        y = top + i * row_h
        w = max(value, 0.0) * scale
        fill = "#c0392b" if highlighted else "#2e6da4"
        parts.append(_text(label_w - 8, y + 16, label, "end"))
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{fill}"/>')
        parts.append(_text(label_w + w + 6, y + 16, f"{value:g}{unit}"))
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int], str]], *, title: str) -> Markup:
    """Grouped vertical columns: one group per label, one column per (name, values, colour) series.

    The legend sits below the axis labels, clear of the bars: a tall bar's value label, drawn
    above it, would run into a legend at the top (issue 17).
    """
    left, top, plot_h, group_w = 36, 44, 150, 64
    width, height = left + group_w * len(labels) + 10, top + plot_h + 50
    peak = max([v for _, values, _ in series for v in values] + [1])
    col_w = (group_w - 16) / max(len(series), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"><title>{escape(title)}</title>',
        _text(0, 16, title, extra='font-weight="bold"'),
    ]
    base = top + plot_h
    for j, (name, _, colour) in enumerate(series):
        x = left + j * 90
        parts.append(f'<rect x="{x}" y="{base + 30}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(x + 14, base + 39, name))
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#555"/>')
    for i, label in enumerate(labels):
        gx = left + i * group_w + 8
        for j, (_, values, colour) in enumerate(series):
            v = values[i]
            bar_h = plot_h * v / peak
            bx = gx + j * col_w
            parts.append(
                f'<rect x="{bx:.1f}" y="{base - bar_h:.1f}" width="{col_w - 2:.1f}" height="{bar_h:.1f}" fill="{colour}"/>'
            )
            if v:
                parts.append(_text(bx + (col_w - 2) / 2, base - bar_h - 3, v, "middle"))
        parts.append(_text(gx + (group_w - 16) / 2, base + 18, label, "middle"))
    parts.append("</svg>")
    return Markup("".join(parts))
