"""A conversation pane: every message one side produced, newest at the bottom.

Engine listeners call the plain methods here synchronously (`begin`, `feed`,
`finish`, `add_notice`); the mounting work they imply goes on a work queue
that one worker drains in order, so it never blocks the engine, and the
pane's own message queue stays free for keys and scrolling (a key waiting
behind mounts would feel laggy). Text deltas are buffered and written to the
live message's `MarkdownStream` at most `1 / FLUSH_INTERVAL` times a second,
however many arrived meanwhile.

Layout, for speed with hundreds of messages: finished messages sit in pages
of `PAGE_SIZE` (mounting or removing a widget restyles all its siblings, so
small sibling groups keep that cheap), and the live message has its own slot
at the bottom. Only about `max_messages` stay mounted: whole old pages are
pruned (the session file has everything) and a card at the top says so.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget

from attractor_tui.core.config import Side
from attractor_tui.core.events import Turn, TurnBegin
from attractor_tui.core.text import safe_line, safe_text
from attractor_tui.ui.widgets.follow import FollowBottom
from attractor_tui.ui.widgets.frozen import FrozenPage, drawn_off_loop
from attractor_tui.ui.widgets.live import LiveMessage
from attractor_tui.ui.widgets.message import (
    ChromeView,
    Drawing,
    MessageView,
    NoticeCard,
    NoticeDrawing,
    TurnDrawing,
)

DEFAULT_MAX_MESSAGES = 200
PAGE_SIZE = 20
FROZEN_PAGE_SIZE = 50
"""Items per `FrozenPage`: adding one re-renders nothing else, so pages can be
big, and every widget fewer is work saved in each of the many reflows a
streaming pane causes."""
FLUSH_INTERVAL = 1 / 20
"""Seconds between writes to the live message: each write re-parses and re-lays
out Markdown, so writing per chunk would cost far more than the chunks do."""

Job = Callable[..., Awaitable[None]]


class MessagePage(Vertical):
    """A few finished messages and notices (at most `PAGE_SIZE`)."""


Page = MessagePage | FrozenPage


def _size(page: Page) -> int:
    return len(page.items) if isinstance(page, FrozenPage) else len(page.children)


class LiveSlot(Vertical):
    """Holds the message being generated, always below the pages."""


class ConversationPane(FollowBottom):
    """Messages of one side; follows the bottom unless the user scrolled up."""

    def __init__(
        self, side: Side, model: str, *, max_messages: int = DEFAULT_MAX_MESSAGES,
        id: str | None = None, frozen: bool = False,
    ) -> None:
        """`frozen`: keep finished messages in `FrozenPage`s (fast, for live
        sessions) instead of one widget each in `MessagePage`s."""
        super().__init__(id=id, classes=f"pane side-{side.lower()}")
        self.frozen = frozen
        self.side = side
        self.model = model
        self.max_messages = max(1, max_messages)
        self.page_size = max(1, min(FROZEN_PAGE_SIZE if frozen else PAGE_SIZE,
                                    self.max_messages // 4 if frozen else self.max_messages // 5))
        self.completion_tokens = 0
        self.prompt_tokens = 0
        self.cost: float | None = None
        self.message_count = 0
        """Turns shown so far, including pruned ones."""
        self.pruned = 0
        """Messages and notices no longer mounted."""
        self._live: dict[int, LiveMessage] = {}
        self._buffer: dict[int, list[str]] = {}
        self._flush_scheduled = False
        self._pruned_card = NoticeCard("", kind="pruned")
        self._pruned_card.display = False
        self._slot = LiveSlot()
        self._work: asyncio.Queue[tuple[Job, tuple[Any, ...]]] = asyncio.Queue()
        self.errors: list[BaseException] = []
        """Display failures (kept for tests; the session itself is unaffected)."""
        self._update_title()

    def compose(self) -> ComposeResult:
        yield from super().compose()  # the "new text below" marker, docked
        yield self._pruned_card
        yield self._slot

    def on_mount(self) -> None:
        self.run_worker(self._drain(), name=f"pane-{self.side}", group="pane")

    async def _drain(self) -> None:
        while True:
            job, args = await self._work.get()
            try:
                await job(*args)
            except Exception as exc:  # one bad message must not stop the pane
                self.errors.append(exc)
                self.log.error(f"pane {self.side}: {job.__name__} failed: {exc!r}")

    def _later(self, job: Job, *args: Any) -> None:
        self._work.put_nowait((job, args))

    # ---------------------------------------------------------- sync API

    def begin(self, event: TurnBegin) -> None:
        """A turn starts: a live message appears (operator turns arrive whole)."""
        if event.author == "operator":
            return
        self.border_subtitle = Content(" generating… ")
        self._later(self._begin, event)

    def feed(self, index: int, text: str) -> None:
        """Text for the live message `index`; written on the worker's next pass."""
        self._buffer.setdefault(index, []).append(text)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.set_timer(FLUSH_INTERVAL, self._queue_flush, name="flush")

    def _queue_flush(self) -> None:
        self._later(self._flush)

    def finish(self, turn: Turn) -> None:
        """The turn is complete (or interrupted): replace the live message."""
        self.count(turn)
        self.border_subtitle = None
        self._update_title()
        self._later(self._finish, turn)

    def abandon(self) -> None:
        """The turn failed before any text arrived: drop its live message."""
        self.border_subtitle = None
        self._later(self._abandon)

    def add_notice(self, text: str, *, kind: str = "info", title: str = "") -> None:
        item = NoticeDrawing(text, kind, title) if self.frozen else NoticeCard(
            text, kind=kind, title=title
        )
        self._later(self._append, [item])

    def show_turns(self, turns: Iterable[Turn]) -> None:
        """Show already finished turns at once (history, benchmarks)."""
        turns = list(turns)
        for turn in turns:
            self.count(turn)
        self._update_title()
        keep = turns[-self.max_messages :]
        self.pruned += len(turns) - len(keep)
        self._later(self._append, [self._turn_item(t) for t in keep])

    def count(self, turn: Turn) -> None:
        """Add a shown (or skipped) turn to the title's counters."""
        if turn.usage is not None:
            self.completion_tokens += turn.usage.completion_tokens
            self.prompt_tokens += turn.usage.prompt_tokens
        if turn.cost is not None:
            self.cost = (self.cost or 0.0) + turn.cost
        self.message_count += 1

    def _turn_item(self, turn: Turn) -> Widget | Drawing:
        return TurnDrawing(turn, self.model) if self.frozen else MessageView(turn, self.model)

    # ----------------------------------------------------------- queries

    @property
    def pages(self) -> list[Page]:
        return [child for child in self.children if isinstance(child, MessagePage | FrozenPage)]

    @property
    def mounted_messages(self) -> list[Any]:
        """Finished messages and notices shown, oldest first: widgets, or for a
        `frozen` pane `TurnDrawing`/`NoticeDrawing` objects (both have what a
        `MessageView`/`NoticeCard` has: `.turn`, or `.text` and `.kind`)."""
        return [
            item for page in self.pages
            for item in (page.items if isinstance(page, FrozenPage) else page.children)
        ]

    # --------------------------------------------------------- queued work

    async def _begin(self, event: TurnBegin) -> None:
        if event.index in self._live:  # a retry of a slot that failed
            await self._drop_live(event.index)
        live = LiveMessage(event, self.model)
        await self._slot.mount(live)
        self._live[event.index] = live
        if event.index in self._buffer and not self._flush_scheduled:
            self._flush_scheduled = True
            self.set_timer(FLUSH_INTERVAL, self._queue_flush, name="flush")

    async def _flush(self) -> None:
        self._flush_scheduled = False
        for index in list(self._buffer):  # `feed` may add entries while we await
            live = self._live.get(index)
            parts = self._buffer.get(index)
            if live is None or not parts:
                continue
            text = safe_text("".join(parts))
            parts.clear()
            await live.write(text)
            self.note_new_text()

    async def _finish(self, turn: Turn) -> None:
        item = (await self._drawn_off_loop(turn) if self.frozen
                else MessageView(turn, self.model))
        with self.app.batch_update():
            await self._append([item])
            await self._drop_live(turn.index)

    async def _drawn_off_loop(self, turn: Turn) -> TurnDrawing:
        """A finished turn, parsed and drawn at the pages' width in a thread."""
        pages = self.pages
        width = pages[-1].size.width if pages else 0
        return await drawn_off_loop(lambda: TurnDrawing(turn, self.model), self.app, width)

    async def _abandon(self) -> None:
        for index in list(self._live):
            await self._drop_live(index)

    async def _drop_live(self, index: int) -> None:
        self._buffer.pop(index, None)
        live = self._live.pop(index, None)
        if live is not None:
            await live.close()  # appends already started finish before removal
            await live.remove()

    async def on_unmount(self) -> None:
        """Stop stream tasks so none outlives the app."""
        for live in self._live.values():
            with contextlib.suppress(Exception):
                await live.close()

    async def _append(self, widgets: list[Any]) -> None:
        """Add finished messages/notices at the end of the last page(s)."""
        pages = self.pages
        last = pages[-1] if pages else None
        while widgets:
            room = self.page_size - (_size(last) if last is not None else self.page_size)
            if last is None or room <= 0:
                last = FrozenPage([]) if self.frozen else MessagePage()
                await self.mount(last, before=self._slot)
                room = self.page_size
            batch, widgets = widgets[:room], widgets[room:]
            if isinstance(last, FrozenPage):
                last.add(w.drawing if isinstance(w, ChromeView) else w for w in batch)
            else:
                await last.mount_all(batch)
        self.note_new_text()
        await self._prune()

    async def _prune(self) -> None:
        pages = self.pages
        total = sum(_size(page) for page in pages)
        drop: list[Page] = []
        while pages and total - _size(pages[0]) >= self.max_messages:
            page = pages.pop(0)
            total -= _size(page)
            self.pruned += _size(page)
            drop.append(page)
        if drop:
            await self.remove_children(drop)
        if self.pruned:
            self._pruned_card.update(
                f"{self.pruned} earlier message(s) are not shown here; "
                "the session file has them all."
            )
            self._pruned_card.display = True

    # -------------------------------------------------------------- title

    def _update_title(self) -> None:
        title = f" {self.side} · {safe_line(self.model)}"
        if self.completion_tokens:
            title += f" · {self.completion_tokens:,} tok"
        self.border_title = Content(title + " ")
