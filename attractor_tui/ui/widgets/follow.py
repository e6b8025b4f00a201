"""Scroll containers that follow new content at the bottom, like a log.

Textual's `anchor()` keeps a container scrolled to the end until the user
scrolls away, and re-engages when they scroll back down. Anchoring content
shorter than the container bottom-aligns it (with a negative scroll offset),
so the anchor is only set while the content actually overflows.
"""

from __future__ import annotations

from textual.containers import VerticalScroll


class FollowBottom(VerticalScroll):
    """A `VerticalScroll` that sticks to the bottom once it overflows."""

    def on_resize(self) -> None:
        self._follow_when_overflowing()

    def watch_virtual_size(self) -> None:
        self._follow_when_overflowing()

    def _follow_when_overflowing(self) -> None:
        overflowing = self.max_scroll_y > 0
        if overflowing and not self.is_anchored:
            self.anchor()
        elif not overflowing and (self.is_anchored or self.scroll_y < 0):
            self.anchor(False)
            self.scroll_target_y = 0
            self.scroll_y = 0
