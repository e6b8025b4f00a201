"""Message "chrome" drawn with Rich: title rules, side bars and cards.

Finished messages are drawn as plain Rich renderables, not with CSS borders,
so that many of them can share one widget (see `pane.FrozenPage`): widget
count, not text, is what makes Textual's layout slow. Colours come from the
current theme's variables (`speaker-a`, `speaker-b`, `speaker-operator`,
`warning`, `error`), read through a `Palette`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError

from attractor_tui.ui.themes import SPEAKER_DEFAULTS

_FALLBACK = {**SPEAKER_DEFAULTS, "warning": "#e0af68", "error": "#f7768e"}


@dataclass(frozen=True)
class Palette:
    """The colours message chrome is drawn with (hex strings)."""

    a: str = _FALLBACK["speaker-a"]
    b: str = _FALLBACK["speaker-b"]
    operator: str = _FALLBACK["speaker-operator"]
    warning: str = _FALLBACK["warning"]
    error: str = _FALLBACK["error"]

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> Palette:
        def pick(name: str) -> str:
            value = variables.get(name) or _FALLBACK[name]
            try:
                return Color.parse(value).hex
            except ColorParseError:
                return _FALLBACK[name]

        return cls(pick("speaker-a"), pick("speaker-b"), pick("speaker-operator"),
                   pick("warning"), pick("error"))

    def side(self, side: str) -> str:
        return self.a if side == "A" else self.b


class TitleRule:
    """`┌─ title ─────` across the full width, in one colour."""

    def __init__(self, title: str, colour: str, *, corner: str = "┌─", line: str = "─") -> None:
        self.title = title
        self.style = Style(color=colour)
        self.corner = corner
        self.line = line

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        title = Text(f" {self.title} ", style=self.style + Style(bold=True))
        title.truncate(max(0, width - cell_len(self.corner)), overflow="ellipsis")
        rest = max(0, width - cell_len(self.corner) - title.cell_len)
        yield Segment(self.corner, self.style)
        yield from title.render(console)
        yield Segment(self.line * rest, self.style)
        yield Segment.line()


class LeftBar:
    """A renderable with a coloured bar down its left edge."""

    def __init__(self, renderable: RenderableType, colour: str, *, bar: str = "▌") -> None:
        self.renderable = renderable
        self.style = Style(color=colour)
        self.bar = bar

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width - 2)
        lines = console.render_lines(self.renderable, options.update_width(width), pad=False)
        bar = Segment(self.bar, self.style)
        for line in lines:
            yield bar
            yield Segment(" ")
            yield from line
            yield Segment.line()


def message_chrome(
    title: str, body: RenderableType, palette: Palette, *, side: str, author: str,
    interrupted: bool = False,
) -> RenderableType:
    """Title rule plus body with a side bar, coloured for who wrote it."""
    colour = palette.operator if author == "operator" else palette.side(side)
    corner, line = ("╒═", "═") if author == "operator" else ("┌─", "─")
    rule_colour = colour
    if interrupted:
        corner, line, rule_colour = "┌╌", "╌", palette.warning
    return Group(TitleRule(title, rule_colour, corner=corner, line=line), LeftBar(body, colour))


def notice_chrome(text: Text, kind: str, title: str, palette: Palette) -> RenderableType:
    """A card for a notice: boxed for seed and errors, a centred line otherwise."""
    if kind in ("seed", "error"):
        colour = palette.error if kind == "error" else "grey50"
        return Panel(
            text, title=Text(f" {title} ", style=Style(bold=kind == "error")) if title else None,
            title_align="left", box=box.ROUNDED, border_style=colour, padding=(0, 1),
            style="" if kind == "error" else "dim",
        )
    line = text.copy()
    line.justify = "center"
    line.stylize("italic dim")
    return line


def spaced(renderables: Iterable[RenderableType]) -> Group:
    """Renderables one after the other, each after a blank line."""
    parts: list[RenderableType] = []
    for renderable in renderables:
        parts.append(Text(""))
        parts.append(renderable)
    return Group(*parts)
