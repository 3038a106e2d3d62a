"""Training curves as inline SVG (one small chart per logged quantity), written here so the
page needs no plotting library and stays sharp at any zoom."""

from __future__ import annotations

from html import escape

from pyro_vaes.report.content import Series

WIDTH, HEIGHT = 290, 168
LEFT, RIGHT, TOP, BOTTOM = 58, 12, 26, 30


def _tick(value: float) -> str:
    return f"{value:.4g}"


def line_chart(series: Series, marked_epoch: int | None = None) -> str:
    """An SVG chart of one series against the epoch; ``marked_epoch`` (the checkpoint shown)
    is drawn as a dashed vertical line."""
    xs, ys = series.epochs, series.values
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        pad = abs(y0) * 0.05 or 1.0
        y0, y1 = y0 - pad, y1 + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + (y1 - y) / (y1 - y0) * plot_h

    points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" role="img" aria-label="{escape(series.name)}">',
             f'<text class="chart-title" x="{LEFT}" y="16">{escape(series.name)}</text>',
             f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>']
    for value in (y0, (y0 + y1) / 2, y1):
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{py(value):.1f}"'
                     f' y2="{py(value):.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 4}" y="{py(value) + 4:.1f}" '
                     f'text-anchor="end">{_tick(value)}</text>')
    for epoch in sorted({min(xs), max(xs)}):
        parts.append(f'<text class="tick" x="{px(epoch):.1f}" y="{TOP + plot_h + 14}" '
                     f'text-anchor="middle">{epoch}</text>')
    parts.append(f'<text class="tick" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 2}" '
                 f'text-anchor="middle">epoch</text>')
    if marked_epoch is not None and x0 <= marked_epoch <= x1:
        parts.append(f'<line class="marked" x1="{px(marked_epoch):.1f}" '
                     f'x2="{px(marked_epoch):.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>')
    if len(xs) > 1:
        parts.append(f'<polyline class="line" points="{points}"/>')
    for x, y in zip(xs, ys, strict=True):
        parts.append(f'<circle class="point" cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5">'
                     f'<title>epoch {x}: {y:.6g}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)
