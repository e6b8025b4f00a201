"""One message in a conversation pane: live while streaming, static when done.

A pane can hold hundreds of messages, and a Textual `Markdown` widget per
message makes layout unusably slow, so only the turn in progress uses a
`Markdown` widget (`live.LiveMessage`); a finished turn is a Rich
`Markdown` renderable with Rich-drawn chrome (`chrome.py`), shown by a
`MessageView` or, many at once, by a `frozen.FrozenPage`.

All text passes through `core.text.safe_text` and HTML is not interpreted (it would be
hidden otherwise), so what a model wrote is what the researcher sees.
"""

from __future__ import annotations

import json
import unicodedata

from markdown_it import MarkdownIt
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.text import Text
from textual.content import Content
from textual.geometry import Size
from textual.visual import VisualType
from textual.widgets import Static

from attractor_tui.core.events import EMPTY_PLACEHOLDER, Turn
from attractor_tui.core.text import is_blank, safe_line, safe_text
from attractor_tui.ui.widgets.chrome import Palette, message_chrome, notice_chrome


def markdown_parser() -> MarkdownIt:
    """Markdown without raw HTML: tags and comments are shown as text, never hidden."""
    return MarkdownIt("gfm-like", {"html": False})


_SAFE_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")


class SafeMarkdown(RichMarkdown):
    """Rich `Markdown` that shows HTML literally instead of dropping it.

    Also reuses one parser: building a `MarkdownIt` per message (as Rich
    does) costs more than parsing a typical message.
    """

    def __init__(self, markup: str, code_theme: str = "monokai") -> None:
        # Rich's __init__ only sets these attributes (rich 13-15); it is not
        # called so that the text is parsed once, by our HTML-less parser.
        self.markup = markup
        self.parsed = _SAFE_PARSER.parse(markup)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = False
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme


def author_label(side: str, model: str, author: str, pane_model: str | None = None) -> str:
    """Who wrote a message, as the researcher should read it; "" for the model
    the pane's title already names (`pane_model`): every card repeated it."""
    if author == "operator":
        return f"operator as {side}"
    if pane_model is not None and model == pane_model:
        return ""
    return safe_line(model) or f"model {side}"


def heading_for(side: str, model: str, author: str, index: int, extra: str = "",
                pane_model: str | None = None) -> str:
    """`author · #N · extra`, the author left out when the pane title names it."""
    who = author_label(side, model, author, pane_model)
    return " · ".join(part for part in (who, f"#{index + 1}", extra) if part)


def title_for(side: str, model: str, author: str, index: int, extra: str = "",
              pane_model: str | None = None) -> Content:
    """A border title built as `Content`, so a model name is never parsed as markup."""
    return Content(f" {heading_for(side, model, author, index, extra, pane_model)} ")


def describe_blank(text: str) -> str:
    """What an empty or invisible reply contained, for the visible marker."""
    if not text:
        return "∅ empty reply"
    shown = [
        f"U+{ord(ch):04X} {unicodedata.name(ch, '').lower()}".strip()
        for ch in dict.fromkeys(text)
    ][:6]
    return f"∅ invisible reply ({len(text)} chars: {', '.join(shown)})"


def tool_call_lines(turn: Turn) -> Text:
    text = Text()
    for call in turn.tool_calls:
        args = call.arguments
        try:
            args = json.dumps(json.loads(args), ensure_ascii=False) if args else ""
        except ValueError:
            pass
        if len(args) > 80:
            args = args[:79] + "…"
        text.append("\n⚙ ", style="bold")
        text.append(safe_line(call.name) or "?", style="bold")
        text.append(f"({safe_line(args)}) → {safe_line(call.outcome)}", style="dim")
    return text


def turn_body(turn: Turn) -> RenderableType:
    """The renderable for a finished turn: a model's reply as Markdown, the
    operator's text as the plain text it was typed as."""
    parts: list[RenderableType] = []
    if is_blank(turn.text):
        marker = describe_blank(turn.text)
        if turn.sent_text == EMPTY_PLACEHOLDER and not turn.interrupted:  # (older files
            # stored the placeholder on interrupted turns too; they were never sent)
            marker += f" — the other side was sent {EMPTY_PLACEHOLDER!r}"
        parts.append(Text(marker, style="italic"))
    elif turn.author == "operator":  # typed plain text: every line break as typed
        parts.append(Text(safe_text(turn.text)))
    else:
        parts.append(SafeMarkdown(safe_text(turn.text)))
    if turn.tool_calls:
        parts.append(tool_call_lines(turn))
    if turn.interrupted:
        parts.append(Text("⏹ interrupted: kept here, never sent to the other side",
                          style="italic"))
    return parts[0] if len(parts) == 1 else Group(*parts)


def message_classes(side: str, author: str) -> str:
    classes = f"message side-{side.lower()}"
    return classes + (" operator" if author == "operator" else "")


def palette_of(app: object) -> Palette:
    """The chrome colours of the app's current theme (cached per theme)."""
    variables = getattr(app, "theme_variables", None) or {}
    key = (id(app), getattr(app, "theme", ""), len(variables))
    palette = _PALETTES.get(key)
    if palette is None:
        if len(_PALETTES) > 16:
            _PALETTES.clear()
        palette = _PALETTES[key] = Palette.from_variables(variables)
    return palette


_PALETTES: dict[tuple[int, str, int], Palette] = {}


class Drawing:
    """A finished item drawn with Rich chrome; no widget needed.

    `MessageView`/`NoticeCard` show one drawing each; a `frozen.FrozenPage`
    shows many (widgets are what make Textual layout slow, and each costs
    some 20 KB). Rendered lines are cached for a few widths, since toggling
    the tool panel alternates between two.
    """

    __slots__ = ("_drawn", "_lines")

    def __init__(self) -> None:
        self._drawn: tuple[Palette, RenderableType] | None = None
        self._lines: dict[tuple[int, Palette], list[list[Segment]]] = {}

    def chrome(self, palette: Palette) -> RenderableType:
        """The whole item, drawn with `palette`."""
        raise NotImplementedError

    def drawn(self, palette: Palette) -> RenderableType:
        if self._drawn is None or self._drawn[0] != palette:
            self._drawn = (palette, self.chrome(palette))
        return self._drawn[1]

    def lines(
        self, console: Console, options: ConsoleOptions, palette: Palette
    ) -> list[list[Segment]]:
        """The item rendered to lines at `options.max_width`."""
        key = (options.max_width, palette)
        lines = self._lines.get(key)
        if lines is None:
            if len(self._lines) >= 6:
                self._lines.clear()
            lines = self._lines[key] = console.render_lines(
                self.drawn(palette), options, pad=False
            )
        return lines

    def forget(self) -> None:
        """Drop cached renderings (the content changed)."""
        self._drawn = None
        self._lines.clear()


class TurnDrawing(Drawing):
    """A finished turn: title rule naming the author, Markdown body, markers."""

    __slots__ = ("turn", "body", "heading")

    def __init__(self, turn: Turn, pane_model: str | None = None) -> None:
        super().__init__()
        self.turn = turn
        self.body = turn_body(turn)
        extras = [f"scripted: {safe_line(turn.rule or '')}" if turn.scripted else "",
                  "interrupted" if turn.interrupted else ""]
        self.heading = heading_for(turn.side, turn.model, turn.author, turn.index,
                                   " · ".join(e for e in extras if e), pane_model)

    def chrome(self, palette: Palette) -> RenderableType:
        turn = self.turn
        return message_chrome(self.heading, self.body, palette, side=turn.side,
                              author=turn.author, interrupted=turn.interrupted)


class TextDrawing(Drawing):
    """Settled Markdown of a reply still being written (`live.LiveMessage`)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def chrome(self, palette: Palette) -> RenderableType:
        return SafeMarkdown(self.text)


class NoticeDrawing(Drawing):
    """A card: the seed, an error, the end of the session, pruned history."""

    __slots__ = ("text", "kind", "heading")

    def __init__(self, text: str, kind: str = "info", heading: str = "") -> None:
        super().__init__()
        self.text = text
        self.kind = kind
        self.heading = heading

    def chrome(self, palette: Palette) -> RenderableType:
        return notice_chrome(Text(safe_text(self.text)), self.kind, safe_line(self.heading),
                             palette)


class ChromeView(Static):
    """A widget showing one `Drawing`; remembers its height per width.

    Textual forgets content sizes on every repaint, and many repaints happen
    while a pane streams; re-measuring Markdown each time is what made
    layout (and so key handling) slow.
    """

    drawing: Drawing
    _heights: dict[int, int] | None = None

    def render(self) -> RenderableType:
        return self.drawing.drawn(palette_of(self.app))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        heights = self._heights
        if heights is None:
            heights = self._heights = {}
        height = heights.get(width)
        if height is None:
            if len(heights) >= 4:
                heights.clear()
            height = heights[width] = super().get_content_height(container, viewport, width)
        return height

    def changed(self) -> None:
        self._heights = None
        self.drawing.forget()
        if self.is_attached:
            self.refresh(layout=True)


class MessageView(ChromeView):
    """A finished turn."""

    def __init__(self, turn: Turn, pane_model: str | None = None) -> None:
        classes = message_classes(turn.side, turn.author)
        if turn.interrupted:
            classes += " interrupted"
        if is_blank(turn.text):
            classes += " blank"
        super().__init__(classes=classes)
        self.turn = turn
        self.drawing = TurnDrawing(turn, pane_model)


class NoticeCard(ChromeView):
    """An inline card: an error, the seed, pruned history, the session end."""

    drawing: NoticeDrawing

    def __init__(self, text: str, *, kind: str = "info", title: str = "") -> None:
        super().__init__(classes=f"notice {kind}")
        self.drawing = NoticeDrawing(text, kind, title)

    @property
    def text(self) -> str:
        return self.drawing.text

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        """Change the card's text (a plain string)."""
        self.drawing.text = str(content)
        self.changed()
