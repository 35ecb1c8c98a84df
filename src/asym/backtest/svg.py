"""Hand-made inline SVG charts (no plotting dependency): a time-series line/area chart and a heatmap."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

MAX_POINTS = 1500
"""Series are thinned to this many points (keeping each bucket's extremes) before plotting."""


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}">'
    )


def _text(
    x: float, y: float, content: str, size: int = 11, anchor: str = "middle", bold: bool = False
) -> str:
    weight = ' font-weight="600"' if bold else ""
    attrs = f'x="{x:.0f}" y="{y:.0f}" font-size="{size}" text-anchor="{anchor}"{weight}'
    return f"<text {attrs}>{escape(content)}</text>"


def _fmt(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.2f}M"
    if a >= 1e4:
        return f"{v / 1e3:.1f}k"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.4g}"


def _thin(xs: Sequence[int], ys: Sequence[float]) -> tuple[list[int], list[float]]:
    """At most MAX_POINTS points: per bucket its first, min and max (drawdowns keep their depth)."""
    n = len(xs)
    if n <= MAX_POINTS:
        return list(xs), list(ys)
    size = math.ceil(n / (MAX_POINTS / 3))
    ox: list[int] = []
    oy: list[float] = []
    for a in range(0, n, size):
        idx = sorted(
            {
                a,
                min(range(a, min(n, a + size)), key=lambda i: ys[i]),
                max(range(a, min(n, a + size)), key=lambda i: ys[i]),
            }
        )
        for i in idx:
            ox.append(xs[i])
            oy.append(ys[i])
    return ox, oy


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    out = []
    v = first
    while v <= hi + step * 1e-9:
        out.append(v)
        v += step
    return out


def line_chart(
    xs: Sequence[int],
    ys: Sequence[float],
    *,
    title: str,
    color: str = "#2563eb",
    fill: bool = False,
    invert: bool = False,
    percent: bool = False,
    width: int = 900,
    height: int = 260,
) -> str:
    """A time-series chart; `xs` epoch ms. `invert` draws 0 at the top (drawdowns hang down)."""
    if not xs:
        return _open(width, 40, title) + _text(8, 24, f"{title}: no data", 13, "start") + "</svg>"
    px, py = _thin(xs, ys)
    left, right, top, bottom = 70, 16, 28, 30
    w, h = width - left - right, height - top - bottom
    x0, x1 = px[0], px[-1] if px[-1] > px[0] else px[0] + 1
    lo, hi = min(py), max(py)
    if invert:
        lo = 0.0
    if hi - lo < 1e-12:
        hi, lo = hi + 1, lo - (0 if invert else 1)

    def sx(x: int) -> float:
        return left + (x - x0) / (x1 - x0) * w

    def sy(y: float) -> float:
        frac = (y - lo) / (hi - lo)
        return top + (frac if invert else 1 - frac) * h

    pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(px, py, strict=True))
    parts = [
        _open(width, height, title),
        _text(left, 18, title, 13, "start", bold=True),
        f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#ccc"/>',
    ]
    for v in _ticks(lo, hi):
        y = sy(v)
        label = f"{v * 100:.1f}%" if percent else _fmt(v)
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{label}</text>')
    for k in range(5):
        x = x0 + (x1 - x0) * k / 4
        d = datetime.fromtimestamp(x / 1000, UTC).strftime("%Y-%m-%d")
        anchor = "start" if k == 0 else "end" if k == 4 else "middle"  # the edge labels stay inside
        parts.append(_text(sx(int(x)), top + h + 18, d, anchor=anchor))
    if fill:
        base = sy(lo if not invert else 0.0)
        parts.append(
            f'<polygon points="{sx(px[0]):.1f},{base:.1f} {pts} {sx(px[-1]):.1f},{base:.1f}" '
            f'fill="{color}" fill-opacity="0.25" stroke="none"/>'
        )
    parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def _color(frac: float) -> str:
    """Red (0) .. white (0.5) .. green (1)."""
    frac = min(1.0, max(0.0, frac))
    if frac < 0.5:
        k = frac / 0.5
        return f"rgb(220,{int(60 + 195 * k)},{int(60 + 195 * k)})"
    k = (frac - 0.5) / 0.5
    return f"rgb({int(255 - 195 * k)},{int(255 - 55 * k)},{int(255 - 195 * k)})"


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    row_label: str,
    col_label: str,
    cell: int = 64,
) -> str:
    """A heatmap of `values[r][c]` (None: no result), coloured around the midpoint of the range."""
    left, top = 130, 60
    width = left + cell * len(cols) + 20
    height = top + cell * len(rows) + 40
    finite = [v for row in values for v in row if v is not None and math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    span = hi - lo or 1.0
    parts = [
        _open(width, height, title),
        _text(8, 18, title, 13, "start", bold=True),
        _text(left + cell * len(cols) / 2, 38, col_label, 12),
        _text(8, top - 6, row_label, 12, "start"),
    ]
    for j, c in enumerate(cols):
        parts.append(_text(left + j * cell + cell / 2, top - 6, c))
    for i, r in enumerate(rows):
        y = top + i * cell
        parts.append(_text(left - 6, y + cell / 2 + 4, r, anchor="end"))
        for j, v in enumerate(values[i]):
            x = left + j * cell
            fill = "#ddd" if v is None or not math.isfinite(v) else _color((v - lo) / span)
            label = "-" if v is None or not math.isfinite(v) else _fmt(v)
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#fff"/>'
            )
            parts.append(_text(x + cell / 2, y + cell / 2 + 4, label))
    parts.append("</svg>")
    return "\n".join(parts)


__all__ = ["MAX_POINTS", "heatmap", "line_chart"]
