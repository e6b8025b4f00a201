"""Charts and the small text helpers every renderer shares.

SVG plots for the HTML page (every label escaped), block-character bars and
sparklines for Markdown and the terminal.
"""

from __future__ import annotations

import html
import statistics
from collections.abc import Sequence
from typing import Any


def number(value: float) -> str:
    """A statistic as text: 3.0 shows as "3", a count as itself."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def text_bar(fraction: float, width: int = 20) -> str:
    """A bar of block characters, `fraction` of `width` cells long (eighths included)."""
    cells = fraction * width
    full = int(cells)
    part = " ▏▎▍▌▋▊▉"[int((cells - full) * 8)] if full < width else ""
    return ("█" * full + part).rstrip()


def sparkline(values: Sequence[float | None], lo: float = 0.0, hi: float = 1.0,
              width: int = 80) -> str:
    """Block characters for a series; gaps (None) are spaces. Long series are averaged."""
    if len(values) > width:
        step = len(values) / width
        buckets = [values[int(i * step):int((i + 1) * step)] for i in range(width)]
        values = [statistics.fmean(v for v in b if v is not None)
                  if any(v is not None for v in b) else None for b in buckets]
    blocks = "▁▂▃▄▅▆▇█"
    span = (hi - lo) or 1.0
    out: list[str] = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            pos = int((min(hi, max(lo, v)) - lo) / span * (len(blocks) - 1) + 0.5)
            out.append(blocks[pos])
    return "".join(out)


def esc(text: Any) -> str:
    """Any value as HTML/SVG text: nothing in it can open a tag or an attribute."""
    return html.escape(str(text), quote=True)


def bin_label(b: dict[str, int]) -> str:
    """A histogram bin as "3" or "4–7"."""
    return str(b["lo"]) if b["lo"] == b["hi"] else f"{b['lo']}–{b['hi']}"


def _svg_open(width: int, height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}"><title>{esc(title)}</title>')


def svg_bars(items: list[tuple[str, float, str, str]], title: str, width: int = 560) -> str:
    """Horizontal bars: (label, value, value text, colour) per row."""
    row, right = 24, 110
    left = 16 + 7 * max((len(label) for label, _, _, _ in items), default=8)
    height = 30 + row * max(1, len(items))
    top = max((v for _, v, _, _ in items), default=0) or 1.0
    out = [_svg_open(width, height, title),
           f'<text x="8" y="18" font-weight="bold">{esc(title)}</text>']
    span = width - left - right
    for i, (label, value, text, colour) in enumerate(items):
        y = 28 + i * row
        w = max(1.0, span * value / top)
        out.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{esc(label)}</text>')
        out.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" '
                   f'fill="{esc(colour)}"/>')
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 14}">{esc(text)}</text>')
    out.append("</svg>")
    return "".join(out)


def svg_histogram(bins: list[tuple[str, int]], title: str, xlabel: str,
                  width: int = 560, height: int = 260) -> str:
    """Vertical bars, one per (bin label, count); crowded labels are slanted."""
    slot_guess = (width - 50) / max(1, len(bins))
    slant = max((len(label) for label, _ in bins), default=0) * 7 > slot_guess - 4
    left, top_pad = 40, 44
    bottom = 84 if slant else 42
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    peak = max((c for _, c in bins), default=0) or 1
    out = [_svg_open(width, height, title),
           f'<text x="8" y="18" font-weight="bold">{esc(title)}</text>',
           f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
           f'y2="{top_pad + plot_h}" stroke="#8a9ba8"/>']
    slot = plot_w / max(1, len(bins))
    base = top_pad + plot_h
    for i, (label, count) in enumerate(bins):
        h = plot_h * count / peak
        x = left + i * slot
        cx = x + slot / 2
        out.append(f'<rect x="{x + 2:.1f}" y="{base - h:.1f}" '
                   f'width="{max(1.0, slot - 4):.1f}" height="{h:.1f}" fill="#2b95d6"/>')
        if count:
            out.append(f'<text x="{cx:.1f}" y="{base - h - 4:.1f}" '
                       f'text-anchor="middle">{count}</text>')
        if slant:
            out.append(f'<text x="{cx:.1f}" y="{base + 14}" text-anchor="end" '
                       f'transform="rotate(-35 {cx:.1f} {base + 14})">{esc(label)}</text>')
        else:
            out.append(f'<text x="{cx:.1f}" y="{base + 15}" '
                       f'text-anchor="middle">{esc(label)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
               f'{esc(xlabel)}</text></svg>')
    return "".join(out)


def svg_lines(series: list[list[float | None]], mean: list[float | None], title: str,
              xlabel: str, ylabel: str, width: int = 720, height: int = 280) -> str:
    """Every conversation's curve, faint, with the mean on top; y from 0 to 1."""
    left, bottom, top_pad, right = 46, 40, 30, 12
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    length = max([len(s) for s in series] + [len(mean), 2])

    def xy(i: int, v: float) -> str:
        x = left + plot_w * i / (length - 1)
        y = top_pad + plot_h * (1 - min(1.0, max(0.0, v)))
        return f"{x:.1f},{y:.1f}"

    def paths(values: Sequence[float | None]) -> list[str]:
        runs: list[list[str]] = [[]]
        for i, v in enumerate(values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(xy(i, v))
        return [" ".join(r) for r in runs if len(r) > 1]

    out = [_svg_open(width, height, title),
           f'<text x="8" y="18" font-weight="bold">{esc(title)}</text>']
    for tick in (0.0, 0.5, 1.0):
        y = top_pad + plot_h * (1 - tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                   f'stroke="#e5e8eb"/><text x="{left - 6}" y="{y + 4:.1f}" '
                   f'text-anchor="end">{tick:g}</text>')
    opacity = max(0.05, min(0.5, 4 / max(1, len(series))))
    for s in series:
        for points in paths(s):
            out.append(f'<polyline points="{points}" fill="none" stroke="#2b95d6" '
                       f'stroke-opacity="{opacity:.2f}" stroke-width="1"/>')
    for points in paths(mean):
        out.append(f'<polyline points="{points}" fill="none" stroke="#c23030" '
                   f'stroke-width="2.5"/>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle">'
               f'{esc(xlabel)} (red: mean)</text>')
    out.append(f'<text x="12" y="{top_pad + plot_h / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 12 {top_pad + plot_h / 2:.1f})">{esc(ylabel)}</text>')
    out.append(f'<text x="{left}" y="{height - 8}">0</text>'
               f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end">{length - 1}</text>')
    out.append("</svg>")
    return "".join(out)


