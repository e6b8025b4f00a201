"""The live session: two panes, interjection bar, tool panel, status line.

This screen owns one `Engine` run in a Textual worker on the app's loop. The
engine calls `handle_event` synchronously for every event; the screen only
routes events to widgets and turns keys into engine commands. It holds no
conversation logic: what a turn is, when it starts and what each side is sent
is the engine's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, TextArea
from textual.worker import Worker

from attractor_tui.analysis.live import LiveAttractor, stop_rules
from attractor_tui.core.config import SIDES, SessionConfig, Side
from attractor_tui.core.engine import Engine
from attractor_tui.core.events import (
    ErrorEvent,
    Event,
    OperatorAction,
    SessionEnd,
    SessionResume,
    SessionStart,
    StateChange,
    TextDelta,
    ToolCallDelta,
    ToolDecision,
    Turn,
    TurnBegin,
)
from attractor_tui.core.sent import SentCall, last_model_turn, next_call, turn_call
from attractor_tui.core.text import safe_text
from attractor_tui.sessions.runner import OpenSession, open_session, queue_summary
from attractor_tui.sessions.store import (
    SessionFileError,
    SessionLog,
    SessionWriteError,
    SessionWriter,
    load_session,
    new_session_path,
)
from attractor_tui.ui import copying
from attractor_tui.ui.cards import Card, end_card, error_card, seed_card, tool_event_for
from attractor_tui.ui.screens.context_view import ContextViewScreen
from attractor_tui.ui.screens.dialogs import InterjectChoiceScreen, ToolAskScreen
from attractor_tui.ui.widgets.footer import KeyFooter
from attractor_tui.ui.widgets.interject import InterjectBar
from attractor_tui.ui.widgets.meter import AttractorMeter
from attractor_tui.ui.widgets.pane import DEFAULT_MAX_MESSAGES, ConversationPane
from attractor_tui.ui.widgets.status import (
    SideUsage,
    StatusInfo,
    StatusLine,
    display_path,
    format_elapsed,
)
from attractor_tui.ui.widgets.tool_panel import ToolPanel

Clock = Callable[[], float]
STOP_TIMEOUT = 10.0
MEMORY_TIMEOUT = 600.0
"""How long quitting waits for the sides' memory notes (a large remote model is slow)."""
"""Seconds to wait for the engine to record its end before giving up on it."""


GC_THRESHOLDS = (20_000, 10, 10)
"""Young-generation threshold raised from Python's 700: a streamed reply
allocates litellm chunk objects that live for the whole turn, and with
collections every 700 allocations they reached the oldest generation, where
they set off a full collection (a 100-200 ms pause, keys unanswered) every
few hundred milliseconds of fast streaming. Measured with bench/ui_stream.py."""


def tune_gc_for_streaming() -> None:
    """Fewer young collections, so short-lived streaming objects die young."""
    if gc.get_threshold()[0] < GC_THRESHOLDS[0]:
        gc.set_threshold(*GC_THRESHOLDS)


class SessionScreen(Screen[None]):
    """One running (or finished) session."""

    # Priority bindings are answered by the app as the key arrives; others
    # first bubble from the focused pane up through each container, one
    # message queue at a time, which cost 50-100 ms while a reply streamed.
    # `check_action` lets the keys through to the interjection bar while the
    # operator types there.
    BINDINGS = [
        # Once the session has ended (`ENDED_ACTIONS`), first in the footer: what
        # can be done with it now. Hidden while it runs.
        Binding("e", "export", "Export", priority=True,
                tooltip="After the end: export as Markdown, HTML, text or JSON"),
        Binding("v", "replay", "Replay", priority=True, tooltip="After the end: replay it"),
        Binding("r", "resume_session", "Resume", priority=True,
                tooltip="After the end: go on in the same file"),
        Binding("f", "fork", "Fork", priority=True,
                tooltip="After the end: branch after a turn and go on there"),
        Binding("i", "interject", "Interject", priority=True),
        Binding("p", "toggle_pause", "Pause", priority=True,
                tooltip="Pause after the current turn"),
        Binding("p", "unpause", "Resume", priority=True,
                tooltip="while paused: resume where it stopped"),
        Binding("P", "pause_now", "Pause now", key_display="P", priority=True,
                tooltip="Pause now: the turn being written stops (kept, marked interrupted)"),
        Binding("r", "retry", "Retry", priority=True,
                tooltip="Retry after a provider error"),
        Binding("t", "toggle_tools", "Tools", priority=True),
        Binding("o", "answer_tool", "Tool ask", priority=True,
                tooltip="Answer a tool call the pack leaves to you (allow or deny)"),
        Binding("m", "toggle_meter", "Meter", priority=True),
        Binding("y", "copy_turn", "Copy turn", priority=True),
        Binding("Y", "copy_transcript", "Copy all", key_display="Y", priority=True),
        Binding("x", "show_sent", "What's sent", priority=True),
        Binding("a", "focus_pane('A')", "Pane A", priority=True),
        Binding("b", "focus_pane('B')", "Pane B", priority=True),
    ]
    RUNNING_ACTIONS = frozenset({"interject", "toggle_pause", "unpause", "pause_now", "retry",
                                 "answer_tool"})
    """Shown (and answered) only while the session can still produce turns."""
    ENDED_ACTIONS = frozenset({"export", "replay", "resume_session", "fork"})
    """Shown (and answered) only once it has ended; `r` retries before, resumes after."""
    LETTER_ACTIONS = frozenset(
        binding.action.split("(")[0] for binding in BINDINGS if isinstance(binding, Binding)
    )
    BINDINGS.append(Binding("escape", "leave_bar", "Leave", show=False, priority=True))
    """Escape in the bar: the bar's own binding would go through three message
    queues (input, bar, screen) before the screen moves the focus."""
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    """Below 32 rows the panes get the room: the meter folds to one line."""
    AUTO_FOCUS = "#pane-a"

    def __init__(
        self,
        config: SessionConfig,
        out_dir: Path,
        *,
        session_path: Path | None = None,
        clock: Clock = time.monotonic,
        autostart: bool = True,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        resume: SessionLog | None = None,
        resume_turns: int | None = None,
    ) -> None:
        """`resume`: continue this stored session in its own file (see
        `sessions.runner.open_session`); `resume_turns` more turns per side."""
        super().__init__()  # no id: resume and fork swap in a second one while it leaves
        self.config = config
        self.resume = resume
        self.resume_turns = resume_turns
        if resume is not None:
            session_path = resume.path
        self.session_path = session_path or new_session_path(out_dir)
        self.clock = clock
        self.autostart = autostart
        self.max_messages = max_messages
        self.engine: Engine | None = None
        self.writer: SessionWriter | None = None
        self._session: OpenSession | None = None
        self.end: SessionEnd | None = None
        self.error_pending = False
        self._abandoned = False
        self._route_errors: list[BaseException] = []
        self._worker: Worker[SessionEnd] | None = None
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._paused_at: float | None = None
        self._paused_for = 0.0
        """Seconds the operator kept it paused: the elapsed clock stands still then."""
        self._state = "starting"
        self._detail = ""
        self._last_pane: Side = "A"
        self._asks: dict[str, ToolDecision] = {}
        """Tool calls waiting for the operator's allow/deny, by call id."""

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Container(id="panes"):
                for side in SIDES:
                    yield ConversationPane(
                        side, self.config.side(side).model, max_messages=self.max_messages,
                        id=f"pane-{side.lower()}", frozen=True,
                    )
            yield ToolPanel(id="tools")
        yield AttractorMeter(id="meter")
        yield InterjectBar(id="interject")
        yield StatusLine(id="status")
        yield KeyFooter()

    def pane(self, side: Side) -> ConversationPane:
        return self.query_one(f"#pane-{side.lower()}", ConversationPane)

    @property
    def tools(self) -> ToolPanel:
        return self.query_one(ToolPanel)

    @property
    def meter(self) -> AttractorMeter:
        return self.query_one(AttractorMeter)

    @property
    def bar(self) -> InterjectBar:
        return self.query_one(InterjectBar)

    def on_mount(self) -> None:
        if self.config.seed:
            self._notice("A", seed_card(self.config.seed))
        if self.resume is not None:
            self._show_history(self.resume)
        self.set_interval(1.0, self.refresh_status)
        self.refresh_status()
        if self.autostart:
            self.start()

    # ---------------------------------------------------------------- engine

    def start(self) -> None:
        """Create the writer and engine and run the session in a worker."""
        if self.engine is not None:
            return
        source = self.resume if self.resume is not None else self.config
        self._session = open_session(
            source, self.session_path, listeners=[self.handle_event], turns=self.resume_turns,
            stop_rules=stop_rules, on_error="pause", interactive=True, meter=LiveAttractor,
        )
        self.engine, self.writer = self._session.engine, self._session.writer
        self._show_restored(self._session)
        self._worker = self.run_worker(self._run_engine(), name="engine", group="engine")
        self.refresh_status()

    def _show_restored(self, session: OpenSession) -> None:
        """A resume brought back queued text that never filled its slot: say so."""
        restored = session.restored
        if not restored:
            return
        self.notify(f"Restored {len(restored)} queued turn(s) ({queue_summary(restored)}); "
                    "they fill their slots first.", title="Queued text", markup=False)
        for side in SIDES:
            texts = [q.text or "" for q in restored if q.side == side]
            if texts:
                self.pane(side).add_notice(
                    "restored queued turn(s), sent first:\n" + "\n".join(texts),
                    kind="resume", title=f"queued · {side}",
                )

    def queued(self) -> dict[Side, int]:
        """Queued operator turns per side that have not filled their slot yet."""
        engine = self.engine
        return {side: len(engine.pending(side)) if engine else 0 for side in SIDES}

    async def send_queued(self) -> None:
        """Let every queued turn fill its slot (resuming a paused session), then return.

        Returns early when the session ends first (a turn limit, a stop rule):
        what is left stays in the file for `resume`.
        """
        engine = self.engine
        if engine is None:
            return
        if self.error_pending:
            await self.action_retry()
        elif engine.paused:
            await engine.resume()
        self.refresh_status()
        while engine.ended is None and any(self.queued().values()):
            await asyncio.sleep(0.05)

    async def _run_engine(self) -> SessionEnd:
        assert self._session is not None
        from attractor_tui.backends.litellm_setup import get_litellm

        # litellm takes seconds to import; do it off the loop so the UI stays live.
        await asyncio.to_thread(get_litellm)
        # Its import leaves ~150 MB of long-lived objects that every full garbage
        # collection would walk, as a pause in the middle of streaming; freezing
        # (O(1), no collection) takes them out of the collector's view.
        gc.freeze()
        tune_gc_for_streaming()
        try:
            return await self._session.run()
        except SessionWriteError as exc:  # read-only folder, full disk: say so, do not crash
            return self._write_failed(exc)

    def _write_failed(self, exc: SessionWriteError) -> SessionEnd:
        """The file cannot be written: the session ends here (nothing more would be kept)."""
        self.notify(safe_text(f"{exc}. The session has stopped; what is on screen was not "
                              "all saved."), title="Cannot save the session",
                    severity="error", markup=False, timeout=30)
        end = SessionEnd(reason="error", detail=str(exc))
        if self.engine is not None and self.engine.ended is None:
            self.engine.ended = end  # the engine cannot record its own end: the file is gone
        if self.end is None:
            self._on_end(end)
        return end

    def _show_history(self, log: SessionLog) -> None:
        """A resumed session shows what came before, then a marker."""
        self.meter.load(log.turns)
        for side in SIDES:
            pane = self.pane(side)
            pane.show_turns(t for t in log.turns if t.side == side)
            pane.add_notice(
                f"resumed after {len(log.turns)} turn(s)"
                + (f"; it had ended: {log.end.reason}" if log.end else ""),
                kind="resume",
            )

    @property
    def display_errors(self) -> list[BaseException]:
        """Exceptions raised while displaying events (they never reach the engine)."""
        panes = [self.pane(side) for side in SIDES] if self.is_attached else []
        return [*self._route_errors, *(exc for pane in panes for exc in pane.errors)]

    def quit_question(self) -> str:
        """What quitting would stop, as the session stands now."""
        engine = self.engine
        if self.error_pending:
            what = "The session is paused on an error."
        elif engine is not None and engine.paused:
            what = "The session is paused."
        else:
            what = "The session is still running."
        return what + "\nStop it and quit?"

    @property
    def running(self) -> bool:
        """True while the session can still produce turns."""
        return self.engine is not None and self.engine.ended is None

    async def shutdown(self) -> None:
        """Stop the engine, wait until it has recorded the end, close the file."""
        engine, worker = self.engine, self._worker
        if engine is not None and engine.ended is None:
            await engine.stop()
        if worker is not None and not worker.is_finished:
            await self._wait_for_end(worker)
            if not worker.is_finished:  # cancelling records the end
                worker.cancel()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(worker.wait(), 2.0)
        if self.writer is not None:
            await self.writer.close()

    async def _wait_for_end(self, worker: Worker[SessionEnd]) -> None:
        """Until the engine has ended: at most STOP_TIMEOUT for the turn in flight, and
        while a side's model rewrites its memory notes up to MEMORY_TIMEOUT, unless the
        operator quits again (`abandon_end`)."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        while not worker.is_finished and not self._abandoned:
            remembering = self.engine is not None and self.engine.state == "remembering"
            if loop.time() - began > (MEMORY_TIMEOUT if remembering else STOP_TIMEOUT):
                return
            await asyncio.sleep(0.05)

    def abandon_end(self) -> None:
        """Stop waiting for the memory notes (q again): the file records them as not updated."""
        self._abandoned = True

    # ---------------------------------------------------------------- events

    def handle_event(self, event: Event) -> None:
        """Engine listener: route one event to the widgets (never raises)."""
        if not self.is_attached:
            return
        try:
            self._route(event)
        except Exception as exc:  # a display bug must not end the session
            self._route_errors.append(exc)
            self.log.error(f"display error for {event.type}: {exc!r}")

    def _route(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self.pane(event.side).feed(event.index, event.text)
        elif isinstance(event, TurnBegin):
            self.pane(event.side).begin(event)
            self.refresh_status()
        elif isinstance(event, ToolCallDelta):
            self.tools.call_delta(
                event.index, event.call_index, event.side, event.name, event.arguments,
                self.when(),
            )
        elif isinstance(event, Turn):
            self._on_turn(event)
        elif isinstance(event, StateChange):
            self._state, self._detail = event.state, event.detail
            # the operator's pause stops the clock; waiting on an error is session time
            self._clock_paused(event.state == "paused" and not event.detail.startswith("error"))
            if event.state == "running":
                self.error_pending = False
            self.refresh_bindings()
            self.refresh_status()
        elif isinstance(event, ErrorEvent):
            self._on_error(event)
        elif isinstance(event, ToolDecision):
            self._on_decision(event)
        elif isinstance(event, OperatorAction):
            if event.action in ("stop", "interrupt", "retry"):
                self._tool_line(event)
            self.refresh_status()
        elif isinstance(event, SessionStart | SessionResume):
            self._started_at = self.clock()
            self._state = "running"
            self.refresh_status()
        elif isinstance(event, SessionEnd):
            self._on_end(event)

    def _on_turn(self, turn: Turn) -> None:
        self.pane(turn.side).finish(turn)
        if turn.tool_calls:
            self.tools.finalise(turn, self.when())
        update = self.meter.add_turn(turn)
        if update.entered:
            self.notify(
                safe_text(f"Entered {update.label} at turn {update.turn_index + 1}: "
                          f"{update.evidence[0]}"),
                title="Attractor", severity="warning", markup=False,
            )
            self.tools.add_event(self.when(), "attractor", update.label)
        self.refresh_status()

    def _on_decision(self, event: ToolDecision) -> None:
        call = event.call
        if event.pending and call.id:
            self._asks[call.id] = event
            self.tools.add_event(self.when(), "ask", f"{call.name}: allow or deny? (o)",
                                 event.side)
            self.refresh_bindings()
            self.call_later(self.action_answer_tool)
        elif call.id in self._asks:
            del self._asks[call.id]
            self.tools.add_event(self.when(), call.outcome, f"{call.name} (operator)",
                                 event.side)
            self.refresh_bindings()

    def _notice(self, side: Side, card: Card) -> None:
        self.pane(side).add_notice(card.text, kind=card.kind, title=card.title)

    def _tool_line(self, event: Event) -> None:
        line = tool_event_for(event)
        if line is not None:
            self.tools.add_event(self.when(), line.kind, line.text, line.side)

    def _on_error(self, event: ErrorEvent) -> None:
        if event.side is not None:
            self.pane(event.side).abandon()
        where = f"{event.side}: " if event.side else ""
        self.notify(
            safe_text(where + event.message), title="Error" if not event.retry_in else "Retrying",
            severity="warning" if event.retry_in else "error", markup=False,
        )
        self._notice(event.side or "A", error_card(event, live=True))
        self._tool_line(event)
        if not event.retry_in:
            self.error_pending = True
            self.refresh_bindings()

    def _on_end(self, event: SessionEnd) -> None:
        self.end = event
        self._ended_at = self.clock()
        self._state, self._detail = "ended", event.reason
        if not self.bar.input.text.strip():  # nothing to interject into any more
            self.bar.display = False
        kept = self.queued()
        for side in SIDES:
            self._notice(side, end_card(event, kept))
        self._tool_line(event)
        self.refresh_bindings()
        self.refresh_status()

    # ---------------------------------------------------------------- status

    def _clock_paused(self, paused: bool) -> None:
        """Stop the elapsed clock when the operator pauses, start it again on resuming."""
        if paused and self._paused_at is None:
            self._paused_at = self.clock()
        elif not paused and self._paused_at is not None:
            self._paused_for += self.clock() - self._paused_at
            self._paused_at = None

    def elapsed(self) -> float:
        """Seconds the session has run (time the operator paused it not counted)."""
        if self._started_at is None:
            return 0.0
        end = self._ended_at if self._ended_at is not None else self.clock()
        if self._paused_at is not None:
            end = min(end, self._paused_at)
        return max(0.0, end - self._started_at - self._paused_for)

    def when(self) -> str:
        return "+" + format_elapsed(self.elapsed())

    def status_info(self) -> StatusInfo:
        engine = self.engine
        usage: dict[str, SideUsage] = {}
        for side in SIDES:
            pane = self.pane(side)
            usage[side] = SideUsage(pane.completion_tokens, pane.prompt_tokens, pane.cost)
        return StatusInfo(
            state=self._state,
            detail=self._detail,
            generating=engine.generating if engine else None,
            completed_turns=engine.completed_turns if engine else 0,
            max_turns=engine.max_turns if engine else self._planned_turns(),
            shown_turns=len(engine.turns) if engine else 0,
            elapsed=self.elapsed(),
            usage=usage,
            path=display_path(self.session_path),
            pending={side: len(engine.pending(side)) for side in SIDES} if engine else {},
            tool_calls=self.tools.call_count,
        )

    def _planned_turns(self) -> int | None:
        """The turn limit before the engine exists (it is created once the screen is up)."""
        if self.resume is not None:
            return None  # `resume_limit` decides; the engine exists before the first paint
        return None if self.config.turns is None else 2 * self.config.turns

    def refresh_status(self) -> None:
        if self.is_attached:
            self.query_one(StatusLine).show(self.status_info())

    # --------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = isinstance(self.focused, TextArea | Input)
        if action in self.LETTER_ACTIONS and typing:
            return False  # the operator is typing: the letter is text
        if action == "leave_bar":
            return self.focused is self.bar.input
        if action in self.ENDED_ACTIONS:
            return self.end is not None
        if action in self.RUNNING_ACTIONS and self.end is not None:
            return False
        if action in ("toggle_pause", "unpause"):  # `p` says what it will do
            return self.paused == (action == "unpause")
        if action == "retry":
            return self.error_pending and self.running
        if action == "answer_tool":  # shown, dimmed, until a tool call waits for you
            return True if self._asks and self.running else None
        return True

    def action_interject(self) -> None:
        self.bar.focus_input()

    async def action_toggle_pause(self) -> None:
        engine = self.engine
        if engine is None or engine.ended:
            return
        if engine.paused:
            await engine.resume()
        else:
            await engine.pause()
        self.refresh_status()

    async def action_unpause(self) -> None:
        await self.action_toggle_pause()

    @property
    def paused(self) -> bool:
        """Paused, or pausing after the turn being written (`p` then resumes)."""
        return self.engine is not None and self.engine.ended is None and self.engine.paused

    async def action_pause_now(self) -> None:
        if self.engine is not None and not self.engine.ended:
            await self.engine.pause(now=True)

    async def action_retry(self) -> None:
        if self.engine is not None and self.error_pending:
            self.error_pending = False
            self.refresh_bindings()
            await self.engine.retry()

    @work(exclusive=True, group="ask")
    async def action_answer_tool(self) -> None:
        """Ask the operator about the oldest pending tool call."""
        if not self._asks or isinstance(self.app.screen, ToolAskScreen):
            return
        call_id, event = next(iter(self._asks.items()))
        call = event.call
        answer = await self.app.push_screen_wait(
            ToolAskScreen(event.side, call.name, call.arguments)
        )
        if answer is not None and self.engine is not None:
            self.engine.decide(call_id, answer)

    # ------------------------------------------------ copy, what each side is sent

    def shown_turns(self) -> list[Turn]:
        """Every turn of the session so far (the engine's, or the resumed file's)."""
        if self.engine is not None:
            return self.engine.turns
        return self.resume.turns if self.resume is not None else []

    def focused_side(self) -> Side:
        focused = self.focused
        return focused.side if isinstance(focused, ConversationPane) else self._last_pane

    def action_copy_turn(self) -> None:
        """Copy the selected text, or the focused pane's newest turn."""
        copying.copy_selection_or_turn(self.app, self.get_selected_text(), self.focused_side(),
                                       self.shown_turns())

    @work(exclusive=True, group="copy")
    async def action_copy_transcript(self) -> None:
        if not self.session_path.exists():
            self.notify("Nothing to copy yet: the session has not started.",
                        severity="warning", markup=False)
            return
        await copying.copy_transcript(self.app, self.session_path)

    def sent_calls(self) -> dict[Side, SentCall]:
        """What each side is sent next (or is being sent, while it writes); once the
        session has ended, what each was sent on its last call."""
        engine = self.engine
        config = engine.config if engine is not None else self.config
        trims = engine.trims if engine is not None else (
            self.resume.trims if self.resume is not None else [])
        generating = engine.generating if engine is not None else None
        turns = self.shown_turns()
        calls: dict[Side, SentCall] = {}
        for side in SIDES:
            last = last_model_turn(turns, side) if self.end is not None else None
            # no trim of `side` follows its last turn: the session ended after it
            calls[side] = (turn_call(config, turns, trims, last) if last is not None
                           else next_call(config, side, turns, trims, now=generating == side))
        return calls

    def action_show_sent(self) -> None:
        self.app.push_screen(ContextViewScreen(self.sent_calls, side=self.focused_side()))

    def action_toggle_meter(self) -> None:
        self.meter.display = not self.meter.display

    def action_toggle_tools(self) -> None:
        tools = self.tools
        tools.display = not tools.display

    def action_focus_pane(self, side: Side) -> None:
        self._last_pane = side
        self.pane(side).focus()

    # ----------------------------------------------------- after the end

    class Resume(Message):
        """Continue the session file at `path` here (the app swaps in a new screen)."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    async def _load_own(self) -> SessionLog | None:
        """This session's file, read back (a notice instead when it cannot be)."""
        try:
            return await asyncio.to_thread(load_session, self.session_path)
        except (SessionFileError, OSError) as exc:
            self.notify(safe_text(str(exc)), title="Cannot read the session", severity="error",
                        markup=False)
            return None

    @work(exclusive=True, group="ended")
    async def action_export(self) -> None:
        """Write the finished session beside its file, in a format the operator picks."""
        await copying.export_beside(self.app, self.session_path)

    @work(exclusive=True, group="ended")
    async def action_replay(self) -> None:
        from attractor_tui.ui.screens.replay import ReplayScreen

        log = await self._load_own()
        if log is not None:
            self.app.push_screen(ReplayScreen(log))

    def action_resume_session(self) -> None:
        self.post_message(self.Resume(self.session_path))

    @work(exclusive=True, group="ended")
    async def action_fork(self) -> None:
        """Branch after a turn the operator names, and continue the branch here."""
        from attractor_tui.sessions.continuation import fork_session
        from attractor_tui.ui.screens.replay import AskScreen, int_check

        engine = self.engine
        total = len(engine.turns) if engine is not None else 0
        answer = await self.app.push_screen_wait(AskScreen(
            f"Fork: keep how many turns (0–{total})? The new session starts with turns "
            f"#1–#N and goes on from there.", str(max(0, total - 2)),
            check=int_check(0, total)))
        if answer is None:
            return
        try:
            target = await asyncio.to_thread(fork_session, self.session_path, int(answer))
        except (SessionFileError, OSError) as exc:
            self.notify(safe_text(str(exc)), title="Fork failed", severity="error", markup=False)
            return
        self.notify(safe_text(f"Forked after turn {answer} into {display_path(target)}."),
                    title="Forked", markup=False)
        self.post_message(self.Resume(target))

    @on(InterjectBar.Leave)
    def action_leave_bar(self) -> None:
        """The panes have the keys again (at once, like `i`: the next key is a command)."""
        self.set_focus(self.pane(self._last_pane))

    @on(InterjectBar.Send)
    def _send(self, message: InterjectBar.Send) -> None:
        self.send_interjection(message.side, message.text)

    @on(InterjectBar.TakeBack)
    async def _take_back(self, message: InterjectBar.TakeBack) -> None:
        """Withdraw `side`'s newest queued turn into the bar (the file records a `drop`)."""
        side, engine = message.side, self.engine
        if engine is None or engine.ended:
            self.notify("The session has ended; queued text stays in the file for resume.",
                        severity="warning", markup=False)
            return
        if not engine.pending(side):
            self.notify(f"Nothing is queued for {side}.", markup=False)
            return
        if self.bar.input.text.strip():
            self.notify("The bar holds a draft: send or clear it before taking text back.",
                        severity="warning", markup=False)
            return
        text = await engine.take_back(side)
        if text is not None:
            self.bar.put_back(text)
            self.notify(f"Took back {side}'s queued turn: edit it, Enter queues it again.",
                        markup=False)
        self.refresh_status()

    @work(exclusive=True, group="interject")
    async def send_interjection(self, side: Side, text: str) -> None:
        """Queue `text` as `side`'s turn; ask first if `side` is writing right now."""
        engine = self.engine
        if not text.strip():
            self.notify("Nothing to send: type the turn first.", severity="warning")
            return
        if engine is None or engine.ended:
            self.notify("The session has ended; there is no turn to take.", severity="warning")
            return
        now = False
        if engine.generating == side:
            choice = await self.app.push_screen_wait(
                InterjectChoiceScreen(side, writing=lambda: engine.generating == side))
            if choice is None:
                return
            # The session ran on while the dialog was open: act on what is true now.
            if engine.ended:
                self.notify("The session ended while you chose; your text is still in the "
                            "bar.", severity="warning", markup=False)
                return
            now = choice == "now" and engine.generating == side
            if choice == "now" and not now:
                self.notify(f"{side} had already finished its turn; nothing was interrupted.",
                            markup=False)
        try:
            await engine.interject(side, text, now=now)
        except OSError as exc:  # the file cannot take the queued text: keep it in the bar
            self.notify(safe_text(f"{exc}. Your text was not queued; it is still in the bar."),
                        title="Cannot save", severity="error", markup=False)
            return
        self.bar.clear()
        if self.focused is self.bar.input:  # sent: `i` means "open the bar" again
            self.action_leave_bar()
        if now:
            self.notify(f"Interrupted {side}: your text is its turn.", markup=False)
        else:
            self.notify(f"Your text will be {side}'s next turn (ctrl+r in the bar takes it "
                        "back).", markup=False)
        if self.error_pending:  # the error card said interjecting goes on: it does
            self.error_pending = False
            self.refresh_bindings()
            await engine.resume()
        self.refresh_status()
