"""The key footer: the active bindings on one line, drawn by one widget.

Textual's `Footer` recomposes on every binding change (every focus change,
every `refresh_bindings`), mounting a widget per key. While a reply streams,
that churn competed with the stream for the event loop: about a tenth of its
time when the operator moved in and out of the interjection bar. Worse, each
`FooterKey` data-binds to the footer's `compact`, a binding only pruned when
`compact` changes, so every key widget ever shown stayed alive with its
render caches (textualize/textual#6666), making full garbage collections
slower the longer a session ran. This footer just repaints.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

SHORT: dict[str, str] = {
    "Copy turn": "Copy", "Copy all": "All", "What's sent": "Sent", "Pause now": "Now",
    "Tool ask": "Ask", "Pane A": "", "Pane B": "", "Play/Pause": "Play", "Branch here": "Branch",
}
"""Shorter words for a narrow footer ("": the key alone; help names it)."""


class KeyFooter(Widget):
    """Key and description of each shown binding; click one to press it."""

    ALLOW_SELECT = False
    auto_links = False  # the keys are clickable, but should not look like links
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description", "key-footer--separator"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-footer--description {
            color: $footer-description-foreground;
        }
        .key-footer--separator {
            color: $foreground 20%;
        }
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        self.refresh()

    def shown(self) -> tuple[list[tuple[Binding, bool]], tuple[Binding, bool] | None]:
        """The bindings to show (one per action) and the command palette's."""
        app = self.app
        palette_key = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else None
        by_action: dict[str, tuple[Binding, bool]] = {}
        palette: tuple[Binding, bool] | None = None
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            if key == palette_key:
                palette = (binding, enabled)
            elif binding.show:  # `app.help` (the start screen's f1) is `help` (`?`)
                by_action.setdefault(binding.action.removeprefix("app."), (binding, enabled))
        return list(by_action.values()), palette

    def _item(self, binding: Binding, enabled: bool, *, last: bool = False,
              fit: str = "full") -> Text:
        """One key; `fit` "compact" drops the padding, "keys" the description too."""
        key_style = self.get_component_rich_style("key-footer--key")
        text_style = self.get_component_rich_style("key-footer--description")
        click = Style.from_meta({"@click": f"app.simulate_key({binding.key!r})"})
        key = self.app.get_key_display(binding)
        short = SHORT.get(binding.description, binding.description)
        if last:
            parts = [(key, key_style), (f" {binding.description}", text_style)]
        elif fit == "keys" or (fit == "short" and not short):
            parts = [(key, key_style), (" ", text_style)]
        elif fit == "short":
            parts = [(key, key_style), (f" {short}  ", text_style)]
        elif fit == "compact":
            parts = [(key, key_style), (f" {binding.description}  ", text_style)]
        else:
            parts = [(f" {key} ", key_style), (f"{binding.description} ", text_style)]
        item = Text.assemble(*parts, style=click)
        if not enabled:
            item.stylize("dim")
        return item

    def _line(self, bindings: list[tuple[Binding, bool]], fit: str, named: int = 0) -> Text:
        """`fit` for every item, except that the first `named` keep a short description."""
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for number, (binding, enabled) in enumerate(bindings):
            keep = fit == "keys" and (number < named or binding.action.endswith("help"))
            line.append_text(self._item(binding, enabled, fit="short" if keep else fit))
        return line

    def render(self) -> Text:
        """Every key with its description; on a narrow screen tighter, then with
        shorter words, then the first keys (the ones that matter now) with words
        and the rest alone (help, `?`, names them all), so that no key is cut off."""
        bindings, palette = self.shown()
        width = self.size.width
        line = self._line(bindings, "full")
        if line.cell_len > width:
            line = self._line(bindings, "compact")
        if line.cell_len > width:
            line = self._line(bindings, "short")
        named = len(bindings)
        while line.cell_len > width and named > 0:
            named -= 1
            line = self._line(bindings, "keys", named)
        if palette is not None:
            right = Text("▏", style=self.get_component_rich_style("key-footer--separator"))
            right.append_text(self._item(*palette, last=True))
            gap = self.size.width - line.cell_len - right.cell_len
            if gap > 0:
                line.append(" " * gap)
                line.append_text(right)
        return line
