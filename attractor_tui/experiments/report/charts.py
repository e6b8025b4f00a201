"""Charts and the small text helpers every renderer shares.

SVG plots for the HTML page (every label escaped), block-character bars and
sparklines for Markdown and the terminal.
"""

from __future__ import annotations

import html
import math
import statistics
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attractor_tui.experiments.report.build import Report


def number(value: float) -> str:
    """A statistic as text: 3.0 shows as "3", a count as itself."""
    return f"{value:g}" if isinstance(value, float) else str(value)


OPERATOR_MARK = " [operator]"
"""Appended to a conversation with operator turns, in every rendering (plain text:
an emoji marker shows as a box where no emoji font is installed)."""


def ci_text(row: dict[str, Any]) -> str:
    """A distribution row's 95% interval as "12.3–45.6%"."""
    return f"{row['lo']:g}–{row['hi']:g}%"


def turn_text(index: int | None) -> str:
    """A 0-based turn index as people read it (1-based); blank for none."""
    return "" if index is None else str(index + 1)


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




def _ink(colour: str) -> str:
    """Dark text on a light fill, white on a dark one (relative luminance of a #rrggbb)."""
    try:
        r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    except ValueError:
        return "#fff"
    return "#1c2127" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.6 else "#fff"


def svg_stacked(rows: list[tuple[str, list[tuple[str, int]]]], colours: dict[str, str],
                title: str, width: int = 720) -> str:
    """One 100% bar per row (a model, a condition): segments per label, then a legend.

    Each row is (name, [(label, count), ...]); a segment wide enough shows its
    count. Segments follow one label order in every row (most common overall
    first), so bars side by side compare at a glance; the legend uses it too.
    """
    overall: dict[str, int] = {}
    for _, parts in rows:
        for label, n in parts:
            overall[label] = overall.get(label, 0) + n
    order = {label: i for i, label in
             enumerate(sorted(overall, key=lambda lab: (-overall[lab], lab)))}
    rows = [(name, sorted(parts, key=lambda p: order[p[0]])) for name, parts in rows]
    row_h, gap = 26, 8
    left = min(260, 16 + 7 * max((len(name) for name, _ in rows), default=8))
    right = 56
    span = width - left - right
    labels = list(dict.fromkeys(label for _, parts in rows for label, n in parts if n))
    per_line = max(1, (width - 16) // 170)
    legend_lines = math.ceil(len(labels) / per_line)
    height = 34 + (row_h + gap) * max(1, len(rows)) + 20 * legend_lines + 8
    out = [_svg_open(width, height, title),
           f'<text x="8" y="18" font-weight="bold">{esc(title)}</text>']
    for i, (name, parts) in enumerate(rows):
        y = 30 + i * (row_h + gap)
        total = sum(n for _, n in parts) or 1
        out.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{esc(name)}</text>')
        x = float(left)
        for label, n in parts:
            if not n:
                continue
            w = span * n / total
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h}" '
                       f'fill="{esc(colours.get(label, "#738694"))}"><title>{esc(label)}: {n} '
                       f'({100 * n / total:.1f}%)</title></rect>')
            if w >= 22:
                ink = _ink(colours.get(label, "#738694"))
                out.append(f'<text x="{x + w / 2:.1f}" y="{y + 17}" text-anchor="middle" '
                           f'style="fill:{ink}">{n}</text>')
            x += w
        out.append(f'<text x="{left + span + 6}" y="{y + 17}">n={sum(n for _, n in parts)}'
                   "</text>")
    base = 30 + (row_h + gap) * max(1, len(rows)) + 4
    for j, label in enumerate(labels):
        lx = 8 + (j % per_line) * 170
        ly = base + 20 * (j // per_line)
        out.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" '
                   f'fill="{esc(colours.get(label, "#738694"))}"/>'
                   f'<text x="{lx + 17}" y="{ly + 11}">{esc(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def scope_notes(report: Report, flag: Callable[[str], str] = str) -> list[str]:
    """What the counts cover: interjected conversations, exclusions, failed runs and files.

    One text for the HTML and the Markdown page; `flag` formats a flag's name
    (Markdown sets it in backticks).
    """
    notes: list[str] = []
    if report.labels == "judge":
        notes.append("End states, onsets and topics are the LLM judge's cached verdicts "
                     f"({flag('--labels judge')}), not the rules'.")
    if report.excluded:
        notes.append(f"{report.excluded} conversation(s) with operator turns left out "
                     "(--exclude-interjected).")
    elif report.interjected:
        notes.append(f"{report.interjected} conversation(s) have operator turns "
                     f"(marked{OPERATOR_MARK}); "
                     f"{flag('--exclude-interjected')} leaves them out.")
    if report.folders:
        notes.append("Counted with its sub-folders: " + ", ".join(
            f"{name}/ ({n})" for name, n in sorted(report.folders.items())) + ".")
    if report.failed_runs_note:
        notes.append(f"Left out of every count: {report.failed_runs_note}.")
    if report.failed:
        notes.append(f"{len(report.failed)} file(s) could not be read (see Problems).")
    return notes
