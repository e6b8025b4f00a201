"""The message being generated: a few live Markdown blocks under a frozen head.

A Textual `Markdown` widget is one widget per block, and every reflow of a
streaming pane visits each of them: a 4,000-character reply is some sixty
blocks, and with all of them live, key presses waited 100-250 ms at the end
of long replies. So only the newest blocks stay live (`MarkdownStream` into
a small `Markdown`): once more than `LIVE_BLOCKS` top-level blocks have
arrived, all but the last `KEEP_BLOCKS` move into `head`, a `FrozenPage`
drawn with Rich as the finished message will be, and the small `Markdown`
starts again with what is left.
"""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream

from attractor_tui.core.events import TurnBegin
from attractor_tui.ui.widgets.frozen import FrozenPage, drawn_off_loop
from attractor_tui.ui.widgets.message import (
    TextDrawing,
    markdown_parser,
    message_classes,
    title_for,
)

LIVE_BLOCKS = 12
"""Top-level Markdown blocks kept as widgets before the settled ones freeze."""
KEEP_BLOCKS = 3
"""Blocks left live after freezing: the newest may still change (a paragraph
can become a heading, a list can grow), and the ones above it keep the look
steady while it does."""

_SPLIT_PARSER = markdown_parser()


def settled_split(text: str) -> int | None:
    """Where to cut `text` so that all but its last `KEEP_BLOCKS` top-level
    blocks lie before the cut; None while it has at most `LIVE_BLOCKS`.

    Only cuts after a blank line, so a block never continues across the cut
    (a list or a code fence is one top-level block, however long)."""
    starts = [
        token.map[0] for token in _SPLIT_PARSER.parse(text)
        if token.level == 0 and token.map is not None and token.nesting >= 0
    ]
    if len(starts) <= LIVE_BLOCKS:
        return None
    lines = text.splitlines(keepends=True)
    for line in reversed(starts[1 : len(starts) - KEEP_BLOCKS + 1]):
        if not lines[line - 1].strip():
            return sum(map(len, lines[:line]))
    return None


async def stop_stream(stream: MarkdownStream) -> None:
    """Stop `stream`; a stream task cancelled before it first ran re-raises
    `CancelledError` into us, which must not kill the pane's worker."""
    try:
        await stream.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise


class LiveHead(FrozenPage):
    """The settled part of the reply being written."""

    DEFAULT_CSS = "LiveHead { height: auto; margin-bottom: 1; display: none; }"


class LiveTail(Markdown):
    """The newest blocks of the reply being written, streamed."""

    DEFAULT_CSS = "LiveTail { padding: 0; }"


class LiveMessage(Vertical):
    """The turn being generated; text arrives through `write`."""

    def __init__(self, begin: TurnBegin, pane_model: str | None = None) -> None:
        super().__init__(classes=message_classes(begin.side, begin.author) + " live")
        self.begin = begin
        self.border_title = title_for(
            begin.side, begin.model, begin.author, begin.index, "generating…", pane_model
        )
        self.head = LiveHead([], gap_first=False)
        self.tail = LiveTail("", parser_factory=markdown_parser, open_links=False)
        self.tail_text = ""
        self._stream: MarkdownStream | None = None

    def compose(self) -> ComposeResult:
        yield self.head
        yield self.tail

    @property
    def text(self) -> str:
        """Everything written so far (sanitized): the head's pieces end where
        the tail's begin."""
        pieces = (item.text for item in self.head.items if isinstance(item, TextDrawing))
        return "".join(pieces) + self.tail_text

    async def write(self, text: str) -> None:
        """Append sanitized Markdown; freezes settled blocks when there are many."""
        self.tail_text += text
        cut = settled_split(self.tail_text)
        if cut is None:
            if self._stream is None:
                self._stream = Markdown.get_stream(self.tail)
            await self._stream.write(text)
            return
        settled, self.tail_text = self.tail_text[:cut], self.tail_text[cut:]
        drawing = await drawn_off_loop(
            lambda: TextDrawing(settled), self.app, self.content_size.width
        )
        await self.close()
        with self.app.batch_update():
            self.head.add([drawing])
            self.head.display = True
            await self.tail.update(self.tail_text)

    async def close(self) -> None:
        """Stop streaming and let any append already started finish."""
        stream, self._stream = self._stream, None
        if stream is not None:
            await stop_stream(stream)
        async with self.tail.lock:
            pass
