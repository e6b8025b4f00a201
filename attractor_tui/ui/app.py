"""The Textual app: start screen or live session, themes, help and quitting.

`run_app` is what the CLI calls; `AttractorApp` is exposed for tests and
benchmarks. Quitting always goes through `action_request_quit`, which stops
the engine and waits for it to record the session end, so the session file is
complete whichever way the operator leaves (q, ctrl+c, ctrl+q, palette). Queued
operator text is already in the file; quitting with some asks whether to send
it first, keep it for `resume` or discard it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from attractor_tui.core.config import SessionConfig
from attractor_tui.core.text import safe_text
from attractor_tui.sessions.runner import check_resumable
from attractor_tui.sessions.store import SessionFileError, SessionLog, load_session
from attractor_tui.ui import standalone
from attractor_tui.ui.copying import transcript_commands
from attractor_tui.ui.screens.browser import BrowserScreen
from attractor_tui.ui.screens.context_view import ContextViewScreen
from attractor_tui.ui.screens.dialogs import (
    ConfirmScreen,
    InterjectChoiceScreen,
    QueuedQuitScreen,
    QuitChoice,
    ToolAskScreen,
)
from attractor_tui.ui.screens.help import HelpScreen, HelpSection
from attractor_tui.ui.screens.replay import ReplayScreen
from attractor_tui.ui.screens.report import ReportScreen
from attractor_tui.ui.screens.session import Clock, SessionScreen
from attractor_tui.ui.screens.start import StartScreen
from attractor_tui.ui.standalone import run_replay
from attractor_tui.ui.themed import ThemedApp
from attractor_tui.ui.widgets.interject import InterjectInput
from attractor_tui.ui.widgets.pane import DEFAULT_MAX_MESSAGES


class AttractorApp(ThemedApp[int]):
    """Watch two models talk; pause, interject, inspect tool calls."""

    BINDINGS = [
        Binding("ctrl+c", "request_quit", "Quit", show=False, priority=True),
        Binding("q", "request_quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", show=False),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-wide")]
    """For screens without their own (dialogs, help): `-narrow` stacks dialog buttons."""
    SESSION_SCREEN: type[SessionScreen] = SessionScreen
    """The screen class used for a session (benchmarks subclass it)."""

    def __init__(
        self,
        config: SessionConfig | None,
        out_dir: Path,
        *,
        start_screen: bool = False,
        session_path: Path | None = None,
        clock: Clock | None = None,
        themes_dir: Path | None = None,
        autostart: bool = True,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        resume: SessionLog | None = None,
        resume_turns: int | None = None,
    ) -> None:
        """`resume`: continue that stored session (its config, its file)."""
        super().__init__(themes_dir=themes_dir)
        if resume is not None:
            config = resume.config
        self.config = config
        self.out_dir = Path(out_dir)
        self.start_screen = start_screen or config is None
        self.session_path = session_path
        self.clock: Clock = clock or time.monotonic
        self.autostart = autostart
        self.max_messages = max_messages
        self.resume = resume
        self.resume_turns = resume_turns
        self.session: SessionScreen | None = None
        self._sending = False
        self._ending = False
        """True while quitting waits for queued text to fill its slot."""

    # ---------------------------------------------------------------- screens

    def on_mount(self) -> None:
        self.load_themes()
        if self.start_screen:
            self.push_screen(StartScreen(self.config, self.out_dir))
        else:
            assert self.config is not None
            self.push_screen(self.new_session_screen(self.config))

    def new_session_screen(self, config: SessionConfig) -> SessionScreen:
        self.config = config
        self.session = self.SESSION_SCREEN(
            config, self.out_dir, session_path=self.session_path, clock=self.clock,
            autostart=self.autostart, max_messages=self.max_messages,
            resume=self.resume, resume_turns=self.resume_turns,
        )
        return self.session

    def on_start_screen_start(self, message: StartScreen.Start) -> None:
        self.switch_screen(self.new_session_screen(message.config))

    async def on_session_screen_resume(self, message: SessionScreen.Resume) -> None:
        """`r` (resume) or `f` (fork) after the end: continue that file on a new screen."""
        if self.session is not None:
            await self.session.shutdown()
        self._browsed(("resume", message.path))

    def on_start_screen_browse(self) -> None:
        self.push_screen(BrowserScreen(self.out_dir), callback=self._browsed)

    def _browsed(self, result: tuple[str, Path] | None) -> None:
        """The browser asked to resume a file: continue it here, in place."""
        if result is None:
            return
        _, path = result
        try:
            log = load_session(path)
            check_resumable(log)
        except SessionFileError as exc:
            self.notify(safe_text(str(exc)), title="Cannot resume", severity="error",
                        markup=False)
            return
        self.resume, self.resume_turns = log, None
        self.switch_screen(self.new_session_screen(log.config))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "List every key binding", self.action_help)
        if isinstance(screen, SessionScreen):
            yield SystemCommand("Pause / resume", "Pause or resume the session",
                                screen.action_toggle_pause)
            yield SystemCommand("Tool panel", "Show or hide tool calls and events",
                                screen.action_toggle_tools)
        yield from transcript_commands(screen)

    # ------------------------------------------------------------------ help

    def help_sections(self) -> list[HelpSection]:
        return [
            ("everywhere", [
                *self.BINDINGS,
                Binding("ctrl+p", "command_palette", "Command palette (themes, actions)"),
                Binding("ctrl+q", "quit", "Quit"),
            ]),
            ("session", [b for b in SessionScreen.BINDINGS
                         if isinstance(b, Binding) and b.action != "leave_bar"]),
            ("conversation pane", [
                Binding("up,down", "scroll", "Scroll a line"),
                Binding("pageup,pagedown", "page", "Scroll a page"),
                Binding("home", "home", "Jump to the start (stops following)"),
                Binding("end", "end", "Jump to the end (follows new text again)"),
            ]),
            ("interjection bar", InterjectInput.BINDINGS),
            ("interjection choice", InterjectChoiceScreen.BINDINGS),
            ("tool call the pack leaves to you", ToolAskScreen.BINDINGS),
            ("start screen", [Binding("enter", "start", "Start the session"),
                              *StartScreen.BINDINGS]),
            ("session browser", BrowserScreen.BINDINGS),
            ("replay", ReplayScreen.BINDINGS),
            ("what each side is sent (x)", ContextViewScreen.BINDINGS),
            ("report", ReportScreen.BINDINGS),
            ("confirm dialog", ConfirmScreen.BINDINGS),
            ("quitting with queued text", QueuedQuitScreen.BINDINGS),
        ]

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))

    # ------------------------------------------------------------------ quit

    async def action_quit(self) -> None:
        await self.action_request_quit()

    async def action_request_quit(self) -> None:
        """Quit; while a session is running, confirm first (a second ctrl+c confirms)."""
        if isinstance(self.screen, ConfirmScreen):
            self.screen.dismiss(True)
            return
        if isinstance(self.screen, QueuedQuitScreen):  # a second ctrl+c: keep it, quit
            self.screen.dismiss("keep")
            return
        session = self.session
        if self._ending:  # q again while the session ends (a side's memory notes): now
            if session is not None:
                session.abandon_end()
            return
        if self._sending:  # quitting again while the queued text is sent: now, keeping the rest
            self._end_then_exit()
            return
        if session is not None and session.running and any(session.queued().values()):
            queued = ", ".join(f"{side}×{n}" for side, n in session.queued().items() if n)
            self.push_screen(QueuedQuitScreen(queued), callback=self._queued_quit_chosen)
            return
        if session is not None and session.running:
            self.push_screen(ConfirmScreen(session.quit_question(), yes="Stop and quit"),
                             callback=self._quit_confirmed)
            return
        await self.shutdown_and_exit()

    async def _quit_confirmed(self, confirmed: bool | None) -> None:
        if confirmed:
            self._end_then_exit()

    def _end_then_exit(self) -> None:
        """Stop the session and exit in a worker: ending may wait for each side's memory
        notes, and a second q must still reach `action_request_quit` meanwhile."""
        self._ending = True
        self.run_worker(self.shutdown_and_exit(), name="end-then-exit", group="end")

    async def _queued_quit_chosen(self, choice: QuitChoice | None) -> None:
        session = self.session
        if choice is None or session is None:
            return
        if choice == "discard" and session.engine is not None:
            await session.engine.discard_queue()
        if choice == "send":
            self._sending = True
            self.notify("Sending your queued text, then quitting (q again quits now and keeps "
                        "what is left for resume).", title="Quitting", markup=False)
            self.run_worker(self._send_then_quit(session), name="send-then-quit",
                            group="quit", exclusive=True)
            return
        self._end_then_exit()

    async def _send_then_quit(self, session: SessionScreen) -> None:
        await session.send_queued()
        await self.shutdown_and_exit()

    async def shutdown_and_exit(self, return_code: int = 0) -> None:
        if self.session is not None:
            await self.session.shutdown()
        self.exit(return_code, return_code=return_code)


def run_app(config: SessionConfig | None, out_dir: Path, *, start_screen: bool) -> int:
    """Run the TUI until the operator quits; returns the process exit code."""
    app = AttractorApp(config, out_dir, start_screen=start_screen)
    app.run()
    session = app.session
    if session is not None and session.engine is not None and session.session_path.exists():
        print(f"session saved to {session.session_path}", file=sys.stderr)
    return app.return_code if app.return_code is not None else 0


def run_resume(log: SessionLog, turns: int | None = None) -> int:
    """Continue `log` live in the TUI, appending to its own file."""
    try:
        check_resumable(log)
    except SessionFileError as exc:
        print(f"attractor-tui: {exc}", file=sys.stderr)
        return 2
    app = AttractorApp(None, log.path.parent, resume=log, resume_turns=turns)
    app.run()
    print(f"session saved to {log.path}", file=sys.stderr)
    return app.return_code if app.return_code is not None else 0


def run_browser(directory: Path) -> int:
    """The session browser; a session chosen there to resume goes on in this app."""

    def resume(path: Path) -> int:
        try:
            log = load_session(path)
        except SessionFileError as exc:
            print(f"attractor-tui: {exc}", file=sys.stderr)
            return 2
        return run_resume(log, turns=None)

    return standalone.run_browser(directory, on_resume=resume)


__all__ = ["AttractorApp", "run_app", "run_browser", "run_replay",
           "run_resume"]
