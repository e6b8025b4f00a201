"""Replay a stored session in the live layout: two panes, tool panel, status line.

The screen is the `ReplayView` of a `ReplayController` (see `sessions/timeline.py`,
which owns timing and position): it only turns "show this event" into calls
on the live app's own widgets, so a replay looks exactly like the session
did. It reads the `SessionLog` it is given and never touches the file.

A redraw (seek, step back, go to turn) replaces both panes with fresh ones
holding only the newest `max_messages` entries up to the position, so even a
10,000-turn session opens at once; scrolling up past the top of a pane pages
back (the position moves back and the panes are redrawn around it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.content import Content
from textual.events import MouseScrollUp
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from attractor_tui.core.config import SIDES, Side
from attractor_tui.core.events import (
    ContextTrim,
    PersistedEvent,
    TextDelta,
    ToolCallDelta,
    Turn,
    TurnBegin,
)
from attractor_tui.core.sent import SentCall, next_call, turn_call
from attractor_tui.core.text import safe_line, safe_text
from attractor_tui.sessions.store import SessionLog
from attractor_tui.sessions.timeline import (
    MAX_GAP,
    ReplayClock,
    ReplayController,
    format_gap,
    pane_window,
    panes_for,
)
from attractor_tui.ui import copying
from attractor_tui.ui.cards import Card, notice_for, seed_card, tool_event_for
from attractor_tui.ui.screens.context_view import ContextViewScreen
from attractor_tui.ui.widgets.footer import KeyFooter
from attractor_tui.ui.widgets.message import MessageView, NoticeCard
from attractor_tui.ui.widgets.pane import DEFAULT_MAX_MESSAGES, ConversationPane, MessagePage
from attractor_tui.ui.widgets.status import (
    StatusLine,
    display_path,
    format_elapsed,
    format_tokens,
)
from attractor_tui.ui.widgets.tool_panel import ToolPanel

TOOL_PANEL_LIMIT = 100
"""Tool-panel entries drawn on a redraw (the newest ones)."""
FIRST_PAINT = 24
"""Entries per pane drawn at once on a redraw; the rest of the window follows."""


# ------------------------------------------------------------------ dialog


class AskScreen(ModalScreen[str | None]):
    """One line of input; Enter answers (if `check` accepts it), Escape cancels.

    `check` returns an error message to show, or None when the answer is fine.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    AskScreen #ask-input { width: 40; margin-bottom: 1; }
    AskScreen #ask-error { color: $text-error; display: none; }
    AskScreen #ask-error.visible { display: block; }
    """

    def __init__(
        self, question: str, value: str = "", *, check: Callable[[str], str | None] | None = None,
        placeholder: str = "",
    ) -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.value = value
        self.check = check
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(Content(safe_text(self.question)), classes="dialog-question")
            yield Input(self.value, placeholder=self.placeholder, id="ask-input")
            yield Static(id="ask-error")
            yield Static(Content("Enter: OK · Escape: cancel"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        answer = event.value.strip()
        problem = self.check(answer) if self.check else None
        if problem:
            error = self.query_one("#ask-error", Static)
            error.update(Content(safe_text(problem)))
            error.add_class("visible")
            return
        self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)


def int_check(low: int, high: int) -> Callable[[str], str | None]:
    """An `AskScreen` check for a whole number in low..high."""

    def check(text: str) -> str | None:
        try:
            value = int(text)
        except ValueError:
            return f"Type a whole number from {low} to {high}."
        if not low <= value <= high:
            return f"{value} is outside {low}..{high}."
        return None

    return check


# ------------------------------------------------------------------- panes


class ReplayPane(ConversationPane):
    """The live conversation pane; scrolling up at its top asks for older turns."""

    class Older(Message):
        def __init__(self, pane: ReplayPane) -> None:
            super().__init__()
            self.pane = pane

    def _ask_older(self) -> bool:
        if self.pruned > 0 and self.scroll_y <= 0:
            self.post_message(self.Older(self))
            return True
        return False

    def action_scroll_up(self) -> None:
        if not self._ask_older():
            super().action_scroll_up()

    def action_page_up(self) -> None:
        if not self._ask_older():
            super().action_page_up()

    def action_scroll_home(self) -> None:
        if not self._ask_older():
            super().action_scroll_home()

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        if self._ask_older():
            event.stop()


# ------------------------------------------------------------------ screen


class ReplayScreen(Screen[None]):
    """A stored session, played back in the live layout (read-only)."""

    BINDINGS = [
        Binding("space", "toggle_play", "Play/Pause"),
        Binding("n", "next_turn", "Next"),
        Binding("N", "previous_turn", "Prev", key_display="N"),
        Binding("g", "go_to_turn", "Go to"),
        Binding("G", "go_to_end", "End", key_display="G"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("minus", "slower", "Slower", key_display="-"),
        Binding("t", "toggle_tools", "Tools"),
        Binding("y", "copy_turn", "Copy turn"),
        Binding("Y", "copy_transcript", "Copy all", key_display="Y"),
        Binding("x", "show_sent", "What's sent"),
        Binding("f", "branch_here", "Branch here"),
        Binding("a", "focus_pane('A')", "Pane A", show=False),
        Binding("b", "focus_pane('B')", "Pane B", show=False),
        Binding("escape", "back", "Back"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    DEFAULT_CSS = """
    ReplayScreen.-narrow #panes { layout: vertical; }
    ReplayScreen.-narrow ToolPanel { width: 50%; }
    """

    def __init__(
        self, log: SessionLog, *, speed: float = 1.0, clock: ReplayClock | None = None,
        max_messages: int = DEFAULT_MAX_MESSAGES, max_gap: float = MAX_GAP,
    ) -> None:
        super().__init__(id="replay")
        self.session_log = log
        self.max_messages = max_messages
        self.controller = ReplayController(log, self, speed=speed, clock=clock, max_gap=max_gap)
        items = self.controller.items
        self._tool_calls = [0]
        self._tokens: list[dict[Side, int]] = [{"A": 0, "B": 0}]
        for item in items:  # prefix sums, so the status line costs nothing per turn
            event = item.event
            calls = len(event.tool_calls) if isinstance(event, Turn) else 0
            self._tool_calls.append(self._tool_calls[-1] + calls)
            tokens = dict(self._tokens[-1])
            if isinstance(event, Turn) and event.usage is not None:
                tokens[event.side] += event.usage.completion_tokens
            self._tokens.append(tokens)
        self._panes: dict[Side, ReplayPane] = {}
        self._tools: ToolPanel | None = None
        self._tools_stale = True
        """The hidden tool panel lags behind the position; redrawn when shown."""
        self._focus: Side = "A"
        self._growing: set[ReplayPane] = set()
        """Panes still adding the older part of their window."""
        self.display_errors: list[BaseException] = []
        """Exceptions raised while showing events (a display bug must not stop a replay)."""

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield Container(id="panes")
        yield StatusLine(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        for warning in self.session_log.warnings:
            self.notify(safe_text(warning), title="Session file", severity="warning",
                        markup=False)
        self.controller.start()

    def on_unmount(self) -> None:
        self.controller.close()

    def pane(self, side: Side) -> ReplayPane:
        return self._panes[side]

    @property
    def tools(self) -> ToolPanel:
        assert self._tools is not None
        return self._tools

    def _when(self, position: int) -> str:
        return "+" + format_elapsed(self.controller.items[position].elapsed)

    # ------------------------------------------------------------ ReplayView

    def replay_reset(self, position: int) -> None:
        """Replace panes and tool panel with fresh ones showing the first `position` items."""
        try:
            self._reset(position)
        except Exception as exc:
            self._display_error(exc)

    def _reset(self, position: int) -> None:
        items = self.controller.items
        self.workers.cancel_group(self, "grow")
        container = self.query_one("#panes", Container)
        main = self.query_one("#main", Horizontal)
        tools_visible = self._tools is not None and self._tools.display
        for old in [*self._panes.values(), *([self._tools] if self._tools else [])]:
            old.remove()
        self._panes = {
            side: ReplayPane(side, self.session_log.config.side(side).model,
                             max_messages=self.max_messages)
            for side in SIDES
        }
        self._tools = ToolPanel()
        self._tools.display = tools_visible
        container.mount_all(self._panes.values())
        main.mount(self._tools)
        seed = self.session_log.config.seed
        for side, pane in self._panes.items():
            window = pane_window(items, position, side, self.max_messages)
            # The newest few entries are drawn at once; the rest of the window
            # is added above them page by page (`_grow`), so a long session
            # shows its end at once and keys stay live while the rest mounts.
            cut = max(0, len(window.shown) - FIRST_PAINT)
            later: list[PersistedEvent | Card] = [event for _, event in window.shown[:cut]]
            for event in [*window.hidden, *later]:
                if isinstance(event, Turn):
                    pane.count(event)
            pane.pruned += len(window.hidden) + len(later)
            with_seed = side == "A" and not window.hidden and bool(seed)
            if with_seed and not later:
                self._pane_notice(pane, seed_card(seed))
            elif with_seed:
                later.insert(0, seed_card(seed))
            run: list[Turn] = []
            for _, event in window.shown[cut:]:
                if isinstance(event, Turn):
                    run.append(event)
                    continue
                if run:
                    pane.show_turns(run)
                    run = []
                self._pane_notice(pane, event)
            if run:
                pane.show_turns(run)
            if later:
                self._grow(pane, later)
        self._tools_stale = not tools_visible
        if tools_visible:
            self._reset_tools(position)
        self._panes[self._focus].focus()

    def _widget_for(self, event: PersistedEvent | Card) -> Widget | None:
        if isinstance(event, Turn):
            return MessageView(event, self.pane(event.side).model)
        notice = event if isinstance(event, Card) else notice_for(event)
        if notice is None:
            return None
        return NoticeCard(notice.text, kind=notice.kind, title=notice.title)

    @work(group="grow")
    async def _grow(self, pane: ReplayPane, entries: list[PersistedEvent | Card]) -> None:
        """Mount `entries` (oldest first) above the pane's first page, newest pages first."""
        self._growing.add(pane)
        try:
            await self._grow_pages(pane, entries)
        finally:
            self._growing.discard(pane)

    async def _grow_pages(
        self, pane: ReplayPane, entries: list[PersistedEvent | Card]
    ) -> None:
        while not pane.pages:  # the first paint is still queued in the pane
            if not pane.is_attached:
                return
            await asyncio.sleep(0.01)
        while entries and pane.is_attached:
            pages = pane.pages
            if not pages:
                return
            chunk, entries = entries[-pane.page_size :], entries[: -pane.page_size]
            widgets = [w for w in map(self._widget_for, chunk) if w is not None]
            await pane.mount(MessagePage(*widgets), before=pages[0])
            pane.pruned = max(0, pane.pruned - len(chunk))
            for card in pane.query(".pruned").results(NoticeCard):
                card.display = pane.pruned > 0
                card.update(f"{pane.pruned} earlier message(s) not shown: scroll up here, "
                            "or press g to go to a turn.")
            await asyncio.sleep(0)  # let keys and repaints in between pages

    def _reset_tools(self, position: int) -> None:
        """Fill the tool panel with its newest entries (only when it is shown: it is slow)."""
        self._tools_stale = False
        items = self.controller.items
        entries: list[int] = []
        for p in range(position - 1, -1, -1):
            event = items[p].event
            if (isinstance(event, Turn) and event.tool_calls) or tool_event_for(event):
                entries.append(p)
                if len(entries) >= TOOL_PANEL_LIMIT:
                    break
        for p in reversed(entries):
            self._tool_entry(p, items[p].event)

    def replay_live(self, event: TurnBegin | TextDelta | ToolCallDelta) -> None:
        try:
            if isinstance(event, TurnBegin):
                self.pane(event.side).begin(event)
            elif isinstance(event, TextDelta):
                self.pane(event.side).feed(event.index, event.text)
            elif not self._tools_stale:
                when = "+" + format_elapsed(self.controller.elapsed)
                self.tools.call_delta(event.index, event.call_index, event.side, event.name,
                                      event.arguments, when)
        except Exception as exc:
            self._display_error(exc)

    def replay_show(self, position: int, event: Any) -> None:
        try:
            if isinstance(event, Turn):
                self.pane(event.side).finish(event)
            else:
                for side in panes_for(event):
                    self._pane_notice(self.pane(side), event)
            self._tool_entry(position, event)
        except Exception as exc:
            self._display_error(exc)
        if self.controller.playing:
            self.refresh_status()

    def replay_state(self) -> None:
        self.refresh_status()
        self.refresh_bindings()

    def _display_error(self, exc: BaseException) -> None:
        self.display_errors.append(exc)
        self.log.error(f"replay display error: {exc!r}")

    def _pane_notice(self, pane: ConversationPane, event: PersistedEvent | Card) -> None:
        """The card `event` leaves (an event, or a `Card` already made)."""
        notice = event if isinstance(event, Card) else notice_for(event)
        if notice is not None:
            pane.add_notice(notice.text, kind=notice.kind, title=notice.title)

    def _tool_entry(self, position: int, event: Any) -> None:
        if self._tools_stale:
            return  # drawn in full when the panel is next shown
        when = self._when(position)
        if isinstance(event, Turn):
            if event.tool_calls:
                self.tools.finalise(event, when)
            return
        line = tool_event_for(event)
        if line is not None:
            self.tools.add_event(when, line.kind, line.text, line.side)

    # ---------------------------------------------------------------- status

    def status_text(self) -> Text:
        c = self.controller
        text = Text(no_wrap=True, overflow="ellipsis")
        speed = "instant" if c.speed == 0 else f"×{c.speed:g}"
        if c.playing:
            text.append(f" ▶ replay {speed} ", "bold")
        elif c.at_end:
            text.append(f" ■ replay: end ({speed}) ", "bold")
        else:
            text.append(f" ⏸ replay paused ({speed}) ", "bold reverse")
        text.append(" read-only · ", "dim")
        text.append(f"turn {c.shown_turns}/{c.total_turns}")
        total = c.items[-1].elapsed if c.items else 0.0
        text.append(f" · {format_elapsed(c.elapsed)} of {format_elapsed(total)}")
        if c.capped is not None and c.playing:
            text.append(
                f" · gap {format_gap(c.capped.original)} shown as {c.capped.waited:g}s",
                "bold",
            )
        tokens = self._tokens[c.position]
        for side in SIDES:
            if tokens[side]:
                text.append(f" · {side} {format_tokens(tokens[side])} out")
        calls = self._tool_calls[c.position]
        if calls:
            text.append(f" · tools {calls}")
        if any(pane.pruned for pane in self._panes.values()):
            text.append(" · ↑ at the top or g: earlier turns", "dim")
        shown = display_path(self.session_log.path)
        if len(shown) > 48:
            shown = "…/" + self.session_log.path.name
        source = self.session_log.start.source
        if source and source.startswith("peer-log:"):
            shown += " (peer log)"
        text.append(f" · {safe_line(shown)}", "dim")
        return text

    def refresh_status(self) -> None:
        if self.is_attached:
            self.query_one(StatusLine).update(self.status_text())

    # --------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        c = self.controller
        if action == "next_turn":
            return not c.at_end or None
        if action == "previous_turn":
            return c.position > 0 or None
        if action == "go_to_end":
            return not c.at_end or None
        return True

    def action_toggle_play(self) -> None:
        self.controller.toggle()

    def action_next_turn(self) -> None:
        self.controller.next_turn()

    def action_previous_turn(self) -> None:
        self.controller.previous_turn()

    def action_go_to_end(self) -> None:
        self.controller.go_to_end()

    def action_faster(self) -> None:
        self.controller.faster()

    def action_slower(self) -> None:
        self.controller.slower()

    @work(exclusive=True, group="ask")
    async def action_go_to_turn(self) -> None:
        total = self.controller.total_turns
        if not total:
            self.notify("This session has no turns.", severity="warning")
            return
        self.controller.pause()
        answer = await self.app.push_screen_wait(AskScreen(
            f"Go to turn (1–{total}); the panes show turns up to it:",
            str(max(1, self.controller.shown_turns)), check=int_check(1, total),
        ))
        if answer is not None:
            self.controller.go_to_turn(int(answer))

    @work(exclusive=True, group="branch")
    async def action_branch_here(self) -> None:
        """Run N continuations from the turn in view (`attractor-tui branch`), then say how
        they ended."""
        from attractor_tui.experiments.branch import branch_subprocess

        self.controller.pause()
        kept = self.controller.shown_turns
        answer = await self.app.push_screen_wait(AskScreen(
            f"Branch here: how many continuations after turn {kept} (1–100)?", "10",
            check=int_check(1, 100)))
        if answer is None:
            return
        self.notify(f"branching: {answer} continuation(s) after turn {kept}…", markup=False)
        ok, said = await branch_subprocess(self.session_log.path, kept, int(answer))
        self.notify(safe_text(said), title="Branches" if ok else "Branch failed",
                    severity="information" if ok else "error", markup=False, timeout=30)

    def action_toggle_tools(self) -> None:
        if self._tools is not None:
            self._tools.display = not self._tools.display
            if self._tools.display and self._tools_stale:
                self._reset_tools(self.controller.position)

    def action_focus_pane(self, side: Side) -> None:
        self._focus = side
        self.pane(side).focus()

    # ------------------------------------------------ copy, what each side is sent

    def shown_turns(self) -> list[Turn]:
        """The turns up to the position (what the panes show)."""
        items = self.controller.items[: self.controller.position]
        return [item.event for item in items if isinstance(item.event, Turn)]

    def focused_side(self) -> Side:
        focused = self.focused
        return focused.side if isinstance(focused, ConversationPane) else self._focus

    def action_copy_turn(self) -> None:
        """Copy the selected text, or the focused pane's turn in view."""
        copying.copy_selection_or_turn(self.app, self.get_selected_text(), self.focused_side(),
                                       self.shown_turns())

    @work(exclusive=True, group="copy")
    async def action_copy_transcript(self) -> None:
        await copying.copy_transcript(self.app, self.session_log)

    @work(exclusive=True, group="copy")
    async def action_export(self) -> None:
        await copying.export_beside(self.app, self.session_log)

    def sent_calls(self) -> dict[Side, SentCall]:
        """What each side was sent for its turn in view (its first call, before any)."""
        config = self.session_log.config
        turns: list[Turn] = []
        trims: list[ContextTrim] = []
        latest: dict[Side, tuple[Turn, list[ContextTrim]]] = {}
        for item in self.controller.items[: self.controller.position]:
            event = item.event
            if isinstance(event, Turn):
                turns.append(event)
                if event.author == "model":  # an operator's turn was not a model call
                    latest[event.side] = (event, list(trims))
            elif isinstance(event, ContextTrim):
                trims.append(event)
        calls: dict[Side, SentCall] = {}
        for side in SIDES:
            if side in latest:
                turn, before = latest[side]
                calls[side] = turn_call(config, turns, before, turn)
            else:
                calls[side] = next_call(config, side, turns, trims)
        return calls

    def action_show_sent(self) -> None:
        self.controller.pause()
        self.app.push_screen(ContextViewScreen(self.sent_calls, side=self.focused_side()))

    def action_back(self) -> None:
        self.controller.close()
        self.dismiss(None)

    @on(ReplayPane.Older)
    def _older(self, message: ReplayPane.Older) -> None:
        """Page back: move the position so the pane's oldest message sits mid-window."""
        pane = message.pane
        if pane in self._growing or pane is not self._panes.get(pane.side):
            return  # still drawing the last page-back
        first = next((w.turn.index for w in pane.mounted_messages
                      if isinstance(w, MessageView)), None)
        c = self.controller
        if first is None:
            return
        self._focus = pane.side
        c.seek(c.boundary(max(first + 1, c.shown_turns - self.max_messages)))
        self._scroll_to_turn(pane.side, first)

    @work(exclusive=True, group="scroll")
    async def _scroll_to_turn(self, side: Side, index: int) -> None:
        """Once the redrawn pane has mounted turn `index`, put it at the top of the view.

        Waits for the pane's window to be complete: pages added above would
        otherwise push the message down again.
        """
        for _ in range(500):
            pane = self._panes.get(side)
            if pane is not None and pane not in self._growing:
                for widget in pane.mounted_messages:
                    if isinstance(widget, MessageView) and widget.turn.index == index:
                        await asyncio.sleep(0.05)  # let the layout settle
                        pane.scroll_to_widget(widget, animate=False, top=True)
                        return
            await asyncio.sleep(0.02)
