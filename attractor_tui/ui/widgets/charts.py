"""Terminal charts as pure functions returning Rich `Text`.

The report screen draws its charts from these so they can be tested without a
terminal: bars from eighth-blocks, a histogram over log-scaled buckets (emoji
counts per conversation run from 0 to the thousands) and a braille line chart
(2×4 dots per cell) that overlays many curves with one highlighted on top.
Labels passed in are shown as plain text: no markup is ever parsed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text

EIGHTHS = " ▏▎▍▌▋▊▉"
BRAILLE_BASE = 0x2800
BRAILLE_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
"""Bit of the dot at (row 0..3, column 0..1) inside one braille cell."""


def bar(fraction: float, width: int) -> str:
    """A bar of `fraction` × `width` cells, in eighths; any non-zero value shows."""
    fraction = min(1.0, max(0.0, fraction))
    eighths = round(fraction * width * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part else "")


def bar_chart(rows: Sequence[tuple[str, float, str, str]], width: int) -> Text:
    """Horizontal bars: (label, value, value text, style) per row, scaled to the largest.

    `width` is the whole line; label and value columns take what they need and
    the bars get the rest (at least 4 cells).
    """
    out = Text()
    if not rows:
        return out
    label_w = max(len(label) for label, _, _, _ in rows)
    value_w = max(len(text) for _, _, text, _ in rows)
    bar_w = max(4, width - label_w - value_w - 2)
    top = max(value for _, value, _, _ in rows) or 1.0
    for i, (label, value, text, style) in enumerate(rows):
        if i:
            out.append("\n")
        out.append(label.ljust(label_w) + " ", style=style)
        out.append(bar(value / top, bar_w).ljust(bar_w), style=style)
        out.append(" " + text.rjust(value_w))
    return out


def log_buckets(values: Sequence[int]) -> list[tuple[int, int, int]]:
    """Counts in buckets 0, 1, 2–3, 4–7, 8–15, … up to the largest value: (lo, hi, count).

    Powers of two keep a folder where most runs have a handful of emoji and one
    has 900 readable: every order of magnitude gets its own rows.
    """
    top = max(values, default=0)
    bounds = [(0, 0)]
    lo = 1
    while lo <= top:
        bounds.append((lo, 2 * lo - 1))
        lo *= 2
    counts = [0] * len(bounds)
    for v in values:
        index = 0 if v <= 0 else int(math.log2(v)) + 1
        counts[index] += 1
    return [(lo, hi, n) for (lo, hi), n in zip(bounds, counts, strict=True)]


def bucket_label(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}–{hi}"


def histogram_chart(buckets: Sequence[tuple[int, int, int]], width: int,
                    style: str = "yellow") -> Text:
    """One bar per bucket, scaled to the fullest, with its count on the right."""
    rows = [(bucket_label(lo, hi).rjust(_label_width(buckets)), float(n), str(n), style)
            for lo, hi, n in buckets]
    text = bar_chart(rows, width)
    for line_start, (_, _, n) in zip(_line_starts(text), buckets, strict=True):
        if n == 0:  # empty buckets are dim, so the populated ones stand out
            text.stylize("dim", line_start, line_start + width)
    return text


def _label_width(buckets: Sequence[tuple[int, int, int]]) -> int:
    return max((len(bucket_label(lo, hi)) for lo, hi, _ in buckets), default=1)


def _line_starts(text: Text) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text.plain):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def resample(values: Sequence[float | None], width: int) -> list[float | None]:
    """At most `width` points: longer series are averaged bucket by bucket (gaps skipped)."""
    if len(values) <= width:
        return list(values)
    step = len(values) / width
    out: list[float | None] = []
    for i in range(width):
        part = [v for v in values[int(i * step):int((i + 1) * step)] if v is not None]
        out.append(sum(part) / len(part) if part else None)
    return out


def line_chart(series: Sequence[tuple[Sequence[float | None], str]], width: int, height: int,
               lo: float = 0.0, hi: float = 1.0) -> Text:
    """Braille curves, `width` × `height` cells; later series are drawn on top.

    All series share the x axis (index 0 at the left edge, the longest series'
    last index at the right); None is a gap. A cell touched by several curves
    shows all their dots in the colour of the topmost one.
    """
    width, height = max(1, width), max(1, height)
    cols, rows = 2 * width, 4 * height
    length = max((len(values) for values, _ in series), default=0)
    if length > cols:
        series = [(resample(values, cols * len(values) // length or 1), style)
                  for values, style in series]
        length = cols
    dots = [[0] * width for _ in range(height)]
    layer = [[-1] * width for _ in range(height)]
    span = (hi - lo) or 1.0

    def y_of(v: float) -> int:
        return round((1 - (min(hi, max(lo, v)) - lo) / span) * (rows - 1))

    def x_of(i: int) -> int:
        return 0 if length <= 1 else round(i * (cols - 1) / (length - 1))

    def plot(x: int, y: int, z: int) -> None:
        cy, cx = divmod(y, 4)[0], divmod(x, 2)[0]
        dots[cy][cx] |= BRAILLE_DOTS[y % 4][x % 2]
        layer[cy][cx] = max(layer[cy][cx], z)

    for z, (values, _) in enumerate(series):
        previous: tuple[int, int] | None = None
        for i, v in enumerate(values):
            if v is None:
                previous = None
                continue
            point = (x_of(i), y_of(v))
            if previous is None:
                plot(*point, z)
            else:
                (x0, y0), (x1, y1) = previous, point
                steps = max(abs(x1 - x0), abs(y1 - y0), 1)
                for s in range(1, steps + 1):
                    plot(round(x0 + (x1 - x0) * s / steps), round(y0 + (y1 - y0) * s / steps), z)
            previous = point
    out = Text()
    for r in range(height):
        if r:
            out.append("\n")
        for c in range(width):
            if dots[r][c]:
                out.append(chr(BRAILLE_BASE + dots[r][c]), style=series[layer[r][c]][1])
            else:
                out.append(" ")
    return out


def framed_line_chart(series: Sequence[tuple[Sequence[float | None], str]], width: int,
                      height: int, xlabel: str, lo: float = 0.0, hi: float = 1.0) -> Text:
    """`line_chart` with a y scale on the left and the x range (0..last index) below."""
    ticks = {0: f"{hi:.1f}", height // 2: f"{(lo + hi) / 2:.1f}", height - 1: f"{lo:.1f}"}
    gutter = max(len(t) for t in ticks.values()) + 2
    plot_w = max(4, width - gutter)
    chart = line_chart(series, plot_w, height, lo, hi)
    out = Text()
    for r, line in enumerate(chart.split("\n", allow_blank=True)):
        tick = ticks.get(r)
        out.append((tick or "").rjust(gutter - 2) + (" ┤" if tick else " │"), style="dim")
        out.append_text(line)
        out.append("\n")
    last = max((len(values) for values, _ in series), default=1) - 1
    right = str(max(0, last))
    out.append(" " * (gutter - 1) + "└" + "─" * plot_w + "\n", style="dim")
    middle = xlabel.center(max(0, plot_w - 1 - len(right)))
    out.append(" " * gutter + "0" + middle + right, style="dim")
    return out


def sparkline(values: Sequence[float | None], width: int, style: str = "",
              lo: float = 0.0, hi: float = 1.0) -> Text:
    """One line of block characters, `width` cells at most; gaps are spaces."""
    from attractor_tui.experiments.report import sparkline as blocks

    return Text(blocks(values, lo=lo, hi=hi, width=max(1, width)), style=style)


def stacked_bar(parts: Sequence[tuple[str, int, str]], width: int) -> Text:
    """One 100% bar of `width` cells: a segment per (label, count, style), widths by
    largest remainder so they always add up to `width`; a non-zero count gets a cell.
    Segments alternate full and dense-shade blocks, so two neighbours stay apart
    even where a theme draws their colours alike."""
    width = max(1, width)
    total = sum(n for _, n, _ in parts)
    out = Text()
    if not total:
        return out.append("·" * width, style="dim")
    shown = [(label, n, style) for label, n, style in parts if n]
    exact = [n * width / total for _, n, _ in shown]
    cells = [max(1, int(x)) for x in exact]
    while sum(cells) > width and max(cells) > 1:
        cells[cells.index(max(cells))] -= 1
    order = sorted(range(len(shown)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    for i in order:
        if sum(cells) >= width:
            break
        cells[i] += 1
    for i, ((_, _, style), n) in enumerate(zip(shown, cells, strict=True)):
        out.append(("█" if i % 2 == 0 else "▓") * n, style=style)
    return out
