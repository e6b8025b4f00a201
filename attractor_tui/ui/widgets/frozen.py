"""`FrozenPage`: many finished items drawn by one widget.

Textual's layout cost grows with the number of widgets (every reflow visits
and repositions each one, and a streaming pane reflows many times a second),
so a live pane keeps its history in these: a few hundred messages become a
dozen widgets. The items are `message.Drawing`s, which cache their rendered
lines, so adding an item to a page re-renders nothing else; and the page
draws by lines (`render_line`), so only the lines on screen become strips
(drawing a whole page of a thousand lines took up to 200 ms per change).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TypeVar

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from textual.app import App
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from attractor_tui.ui.widgets.chrome import Palette
from attractor_tui.ui.widgets.message import Drawing, palette_of

D = TypeVar("D", bound=Drawing)


def page_options(console: Console, width: int) -> ConsoleOptions:
    """How a page draws its items at `width` (the key of their line caches)."""
    return console.options.update(width=width, height=None, highlight=False)


async def drawn_off_loop(make: Callable[[], D], app: App[object], width: int) -> D:
    """`make()` a drawing and render it at `width`, both in a thread: a long
    reply takes some 10 ms to parse and draw, and on the event loop (inside
    the next layout) that is 10 ms in which no key is handled."""
    drawing = await asyncio.to_thread(make)
    if width:
        console = app.console
        await asyncio.to_thread(
            drawing.lines, console, page_options(console, width), palette_of(app)
        )
    return drawing


class FrozenPage(Widget):
    """Items one after the other, each after a blank line (`gap_first=False`:
    no blank line above the first one)."""

    DEFAULT_CSS = "FrozenPage { height: auto; }"

    def __init__(self, items: Iterable[Drawing], *, gap_first: bool = True) -> None:
        super().__init__()
        self.items: list[Drawing] = list(items)
        self.gap_first = gap_first
        self._lines: dict[tuple[int, Palette], list[list[Segment]]] = {}

    def add(self, items: Iterable[Drawing]) -> None:
        self.items.extend(items)
        self._lines.clear()
        self.refresh(layout=True)

    def _all_lines(self, width: int) -> list[list[Segment]]:
        """Every line of the page at `width`, blank separators included."""
        palette = palette_of(self.app)
        lines = self._lines.get((width, palette))
        if lines is None:
            console = self.app.console
            options = page_options(console, width)
            lines = []
            for number, item in enumerate(self.items):
                if number or self.gap_first:
                    lines.append([])
                lines.extend(item.lines(console, options, palette))
            if len(self._lines) >= 6:
                self._lines.clear()
            self._lines[width, palette] = lines
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._all_lines(width))

    def render_line(self, y: int) -> Strip:
        """One line: only the lines on screen are ever turned into strips."""
        width = self.size.width
        style = self.visual_style.rich_style
        lines = self._all_lines(width)
        if y >= len(lines):
            return Strip.blank(width, style)
        return Strip(Segment.apply_style(lines[y], style)).crop_extend(0, width, style)
