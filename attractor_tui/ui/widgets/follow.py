"""Scroll containers that follow new content at the bottom, like a log.

Textual's `anchor()` keeps a container scrolled to the end until the user
scrolls away, and re-engages when they scroll back down. Anchoring content
shorter than the container bottom-aligns it (with a negative scroll offset),
so the anchor is only set while the content actually overflows.

A reader who scrolled up is told when text arrives below (`NewTextMarker`,
docked over the bottom edge; a click or End jumps there and follows again),
and Home/End jump at once: Textual animates them, which over a long
history took many frames.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

MARKER_TEXT = "↓ new text below · End jumps there"


class NewTextMarker(Static):
    """Shown while text arrived below what the reader scrolled up to."""

    DEFAULT_CSS = """
    NewTextMarker {
        dock: bottom;
        width: 100%;
        height: 1;
        display: none;
        text-align: center;
        background: $accent 70%;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self) -> None:
        super().__init__(Content(MARKER_TEXT), classes="new-text-marker")

    def on_click(self, event: events.Click) -> None:
        event.stop()
        parent = self.parent
        if isinstance(parent, FollowBottom):
            parent.jump_to_end()


class FollowBottom(VerticalScroll):
    """A `VerticalScroll` that sticks to the bottom once it overflows."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.marker = NewTextMarker()

    def compose(self) -> ComposeResult:
        yield self.marker

    @property
    def following(self) -> bool:
        """True while new text scrolls into view by itself."""
        return not (self.is_anchored and self._anchor_released)

    def on_resize(self) -> None:
        self._follow_when_overflowing()

    def watch_virtual_size(self) -> None:
        self._follow_when_overflowing()
        # When a hidden container is shown, its new virtual size arrives
        # before its region does, so `max_scroll_y` is briefly the whole
        # content: decide again once the layout has settled.
        self.call_after_refresh(self._follow_when_overflowing)

    def note_new_text(self) -> None:
        """Text was added at the bottom: mark it if the reader is scrolled up.

        Called by whoever adds the text: Textual does not always run the
        `virtual_size` watcher when the compositor resizes the content.
        """
        if not self.following:
            self.marker.display = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.marker.display and new_value >= self.max_scroll_y:
            self.marker.display = False

    def _follow_when_overflowing(self) -> None:
        if not self.display or self.size.height == 0:
            return
        overflowing = self.max_scroll_y > 0
        if overflowing and not self.is_anchored:
            self.anchor()
        elif not overflowing and (self.is_anchored or self.scroll_y < 0):
            self.anchor(False)
            self.scroll_target_y = 0
            self.scroll_y = 0

    def jump_to_end(self) -> None:
        """To the newest text at once, following it again."""
        self.scroll_end(animate=False, immediate=True)
        self.marker.display = False

    def action_scroll_home(self) -> None:
        if self.is_anchored:
            self.release_anchor()
        self.scroll_to(0, 0, animate=False, immediate=True)

    def action_scroll_end(self) -> None:
        self.jump_to_end()
