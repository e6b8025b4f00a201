"""Replay logic: a stored session's events put back on a timeline, and a player.

Pure asyncio, no Textual: the replay screen implements `ReplayView`, tests
drive `ReplayController` with a recording view and a fake clock (tests/support).

The items of a replay are the session's persisted events after its
`session_start`. The *position* is how many items are shown. Playing waits
between items as long as the session did (divided by `speed`, each wait
capped at `MAX_GAP` real seconds so a session resumed the next day does not
stall the replay), and a model turn with a `started` time streams its text
over its original duration, as it did live. Stepping and seeking never wait.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from attractor_tui.core.config import Side
from attractor_tui.core.events import (
    ContextTrim,
    ErrorEvent,
    MemoryUpdate,
    OperatorAction,
    PersistedEvent,
    SessionEnd,
    SessionResume,
    TextDelta,
    ToolCallDelta,
    Turn,
    TurnBegin,
)
from attractor_tui.sessions.store import SessionLog

MAX_GAP = 10.0
"""Longest real-time wait between two items (and longest simulated stream), in seconds."""
STREAM_FPS = 20.0
"""Text chunks per real second while a turn streams."""
SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
"""What `faster`/`slower` step through; 0 ("instant") sits beyond the fastest."""


# ------------------------------------------------------------------ clocks


class ReplayClock(Protocol):
    """What the player needs from time: waiting. Tests pass a fake one."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    """The event loop's monotonic clock."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


# ---------------------------------------------------------------- timeline


@dataclass(frozen=True)
class Item:
    """One stored event on the replay timeline."""

    event: PersistedEvent
    gap: float
    """Original seconds between the end of the previous item and the start of this one."""
    duration: float
    """Original seconds this item took to appear (a turn's generation), else 0."""
    elapsed: float
    """Original seconds from the session start to the end of this item."""


def _begin(event: PersistedEvent) -> datetime:
    if isinstance(event, Turn) and event.started is not None and event.started <= event.ts:
        return event.started
    return event.ts


def _written_during(event: PersistedEvent, turn: Turn) -> bool:
    return turn.started is not None and turn.started <= event.ts <= turn.ts


def reading_order(events: Sequence[PersistedEvent]) -> list[PersistedEvent]:
    """`events` in the order they took effect.

    `p` (pause after the current turn) is written the moment it is pressed,
    while a turn is still being written; it takes effect after that turn, so
    a replay shows it there rather than before the turn it came after.
    """
    ordered = list(events)
    moved: set[int] = set()  # each pause moves once, past one turn at most
    position = 0
    while position < len(ordered):
        event = ordered[position]
        if (isinstance(event, OperatorAction) and event.action == "pause" and not event.detail
                and id(event) not in moved):
            turn_at = next((k for k in range(position + 1, len(ordered))
                            if isinstance(ordered[k], Turn)), None)
            if turn_at is not None:
                turn = ordered[turn_at]
                assert isinstance(turn, Turn)
                if _written_during(event, turn):
                    moved.add(id(event))
                    ordered.insert(turn_at, ordered.pop(position))
                    continue  # the event now at `position` has not been looked at
        position += 1
    return ordered


def build_timeline(log: SessionLog) -> list[Item]:
    """Every stored event after the header, with its original timing, in reading order.

    Timestamps can go backwards (a clock change, a hand-edited file, a pause
    shown after the turn it was pressed during): such gaps count as zero
    rather than breaking the replay.
    """
    origin = log.start.ts
    previous_end = origin
    items: list[Item] = []
    for event in reading_order(log.events[1:]):
        begin, end = _begin(event), event.ts
        gap = max(0.0, (begin - previous_end).total_seconds())
        duration = max(0.0, (end - begin).total_seconds())
        if end > previous_end:
            previous_end = end
        items.append(Item(event, gap, duration, max(0.0, (previous_end - origin).total_seconds())))
    return items


def panes_for(event: PersistedEvent) -> tuple[Side, ...]:
    """Which conversation panes show `event` as a message or a card."""
    if isinstance(event, Turn):
        return (event.side,)
    if isinstance(event, ErrorEvent):
        return (event.side or "A",)
    if isinstance(event, ContextTrim | MemoryUpdate):
        return (event.side,)
    if isinstance(event, OperatorAction) and event.side is not None:
        return (event.side,)  # a queued (or withdrawn) turn concerns its side's pane
    if isinstance(event, OperatorAction) and event.action == "interrupt" and event.detail in (
            "A", "B"):
        return ("A",) if event.detail == "A" else ("B",)  # the side whose turn it stopped
    if isinstance(event, SessionEnd | SessionResume | OperatorAction):
        return ("A", "B")
    return ()


@dataclass
class PaneWindow:
    """What one pane shows at a position: the newest entries, and what is hidden."""

    shown: list[tuple[int, PersistedEvent]]
    """(item position, event), oldest first."""
    hidden: list[PersistedEvent]
    """Older events of this pane that are not mounted (counted, not shown)."""


def pane_window(items: Sequence[Item], position: int, side: Side, limit: int) -> PaneWindow:
    """The last `limit` entries of `side`'s pane among the first `position` items.

    Mounting 10,000 messages would take many seconds; the pane keeps only its
    newest `limit` (the live pane's own pruning limit) and older ones are
    reached by paging back (`ReplayController.seek`).
    """
    entries = [(p, items[p].event) for p in range(position) if side in panes_for(items[p].event)]
    cut = max(0, len(entries) - limit)
    return PaneWindow(shown=entries[cut:], hidden=[e for _, e in entries[:cut]])


def split_text(text: str, pieces: int) -> list[str]:
    """`text` cut into at most `pieces` non-empty consecutive parts."""
    pieces = max(1, min(pieces, len(text)))
    if not text:
        return []
    size = math.ceil(len(text) / pieces)
    return [text[i : i + size] for i in range(0, len(text), size)]


def format_gap(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24}h"


# ------------------------------------------------------------------ player


class ReplayView(Protocol):
    """What the player drives: the replay screen, or a recorder in tests."""

    def replay_reset(self, position: int) -> None:
        """Show the state after the first `position` items from scratch (no animation)."""

    def replay_live(self, event: TurnBegin | TextDelta | ToolCallDelta) -> None:
        """A turn is being streamed: its start, a piece of text, a tool call."""

    def replay_show(self, position: int, event: PersistedEvent) -> None:
        """Item `position` appears (replacing its live message, if it streamed)."""

    def replay_state(self) -> None:
        """Playing/paused, speed, position or a capped gap changed."""


@dataclass(frozen=True)
class Capped:
    """A wait that was cut short to `MAX_GAP`; shown so the reader knows time was skipped."""

    position: int
    original: float
    """Original seconds."""
    waited: float
    """Real seconds actually waited."""


class ReplayController:
    """Plays a timeline into a `ReplayView`: play, pause, step, seek, speed.

    Playing runs in one asyncio task; every command cancels it first, so a key
    press never waits for a gap to pass. Pausing mid-stream keeps the partial
    text and playing again continues it.
    """

    def __init__(
        self, log: SessionLog, view: ReplayView, *, speed: float = 1.0,
        clock: ReplayClock | None = None, max_gap: float = MAX_GAP,
    ) -> None:
        self.log = log
        self.items = build_timeline(log)
        self.view = view
        self.speed = max(0.0, speed)
        self.clock: ReplayClock = clock or RealClock()
        self.max_gap = max_gap
        self.position = 0
        self.capped: Capped | None = None
        """The last wait that was capped (cleared by the next uncapped one)."""
        self.turn_positions = [
            p for p, item in enumerate(self.items) if isinstance(item.event, Turn)
        ]
        self._task: asyncio.Task[None] | None = None
        self._partial: tuple[int, int] | None = None
        """(position, characters already shown) while an item streams or is paused mid-stream."""
        self._announced: set[int] = set()

    # ------------------------------------------------------------ queries

    @property
    def playing(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def at_end(self) -> bool:
        return self.position >= len(self.items)

    @property
    def total_turns(self) -> int:
        return len(self.turn_positions)

    @property
    def shown_turns(self) -> int:
        """Turns fully shown (a streaming turn is not counted yet)."""
        return sum(1 for p in self.turn_positions if p < self.position)

    @property
    def elapsed(self) -> float:
        """Original session time at the current position, in seconds."""
        return self.items[self.position - 1].elapsed if self.position else 0.0

    def boundary(self, turns: int) -> int:
        """The position after the first `turns` turns and the events that followed them.

        Events between two turns (an error, a pause, the end) happened before
        the next turn began, so stepping shows them with the earlier turn.
        """
        if turns <= 0:
            return self.turn_positions[0] if self.turn_positions else len(self.items)
        if turns >= self.total_turns:
            return len(self.items)
        return self.turn_positions[turns]

    # ----------------------------------------------------------- commands

    def start(self) -> None:
        """Begin: instantly to the end at speed 0, otherwise play from the start."""
        if self.speed == 0:
            self.seek(len(self.items))
        else:
            self.view.replay_reset(0)
            self.play()

    def play(self) -> None:
        if self.playing:
            return
        if self.at_end:  # play again from the start
            self.seek(0)
        self._task = asyncio.ensure_future(self._run())
        self.view.replay_state()

    def pause(self) -> None:
        self._cancel()
        self.view.replay_state()

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def next_turn(self) -> None:
        """Pause, and show everything up to and including the next turn."""
        self._cancel()
        target = self.boundary(self.shown_turns + 1)
        while self.position < target:
            self._show_current()
        self.view.replay_state()

    def previous_turn(self) -> None:
        """Pause, and go back to just after the turn before the last one shown."""
        self._cancel()
        shown = self.shown_turns
        if self._partial is not None:  # the streaming turn is the one to take away
            shown += 1
        self.seek(self.boundary(max(0, shown - 1)))

    def go_to_turn(self, number: int) -> None:
        """Pause with turns 1..`number` shown (the panes number turns from 1)."""
        self.seek(self.boundary(max(0, min(number, self.total_turns))))

    def go_to_end(self) -> None:
        self.seek(len(self.items))

    def seek(self, position: int) -> None:
        """Pause and show the state after `position` items, redrawn from scratch."""
        self._cancel()
        self._partial = None
        self.position = max(0, min(position, len(self.items)))
        self.view.replay_reset(self.position)
        self.view.replay_state()

    def set_speed(self, speed: float) -> None:
        """Change the pace; a running wait restarts with the new one."""
        was_playing = self.playing
        self._cancel()
        self.speed = max(0.0, speed)
        if was_playing:
            self.play()
        self.view.replay_state()

    def faster(self) -> None:
        if self.speed == 0:
            return
        higher = [s for s in SPEEDS if s > self.speed]
        self.set_speed(higher[0] if higher else 0.0)

    def slower(self) -> None:
        lower = [s for s in SPEEDS if s < self.speed]
        self.set_speed(SPEEDS[-1] if self.speed == 0 else (lower[-1] if lower else self.speed))

    async def wait(self) -> None:
        """Until playing stops (the end, or a command)."""
        task = self._task
        if task is not None:
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise

    def close(self) -> None:
        self._cancel()

    # ------------------------------------------------------------ playing

    def _cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()

    def _scaled(self, seconds: float) -> float:
        return seconds / self.speed if self.speed > 0 else 0.0

    async def _wait(self, original: float) -> None:
        real = self._scaled(original)
        if real > self.max_gap:
            self.capped = Capped(self.position, original, self.max_gap)
            self.view.replay_state()
            real = self.max_gap
        elif self.capped is not None and real > 0:
            self.capped = None
            self.view.replay_state()
        if real > 0:
            await self.clock.sleep(real)

    async def _run(self) -> None:
        while not self.at_end:
            if self.speed == 0:
                while not self.at_end:
                    self._show_current()
                break
            item = self.items[self.position]
            event = item.event
            if not (isinstance(event, Turn) and event.author == "model" and bool(event.text)
                    and item.duration > 0):
                await self._wait(item.gap)
                self._show_current()
                continue
            await self._stream(item, event)
            self._show_current()
        self._task = None
        self.view.replay_state()

    async def _stream(self, item: Item, turn: Turn) -> None:
        sent = 0
        if self._partial is not None and self._partial[0] == self.position:
            sent = self._partial[1]  # paused mid-stream: carry on from there
        else:
            await self._wait(item.gap)
            self._announced = set()
            self.view.replay_live(TurnBegin(index=turn.index, round=turn.round, side=turn.side,
                                            model=turn.model, author=turn.author))
            self._partial = (self.position, 0)
        real = min(self._scaled(item.duration), self.max_gap)
        remaining = turn.text[sent:]
        real *= len(remaining) / len(turn.text)
        chunks = split_text(remaining, max(1, round(real * STREAM_FPS)))
        interval = real / max(1, len(chunks))
        for chunk in chunks:
            await self.clock.sleep(interval)
            self.view.replay_live(TextDelta(index=turn.index, side=turn.side, text=chunk))
            sent += len(chunk)
            self._partial = (self.position, sent)
            self._announce_calls(turn, sent)

    def _announce_calls(self, turn: Turn, sent: int) -> None:
        for number, call in enumerate(turn.tool_calls):
            if number not in self._announced and call.offset <= sent:
                self._announced.add(number)
                self.view.replay_live(ToolCallDelta(
                    index=turn.index, side=turn.side, call_index=number, name=call.name,
                    arguments=call.arguments,
                ))

    def _show_current(self) -> None:
        """Item `position` appears whole (finishing its stream, if any), position + 1."""
        position = self.position
        self._partial = None
        self.position += 1
        self.view.replay_show(position, self.items[position].event)
