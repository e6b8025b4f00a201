"""`attractor-tui replay`, `sessions` and `report -f tui`: small apps around one screen.

Each runs a Textual app with the main app's stylesheet and themes (and the
theme the user picked there), holding the replay screen, the session
browser or the report screen. `ui/app.py` re-exports `run_replay` and
`run_browser` for the CLI; `cli.experiments` imports `run_report` from here.

Browser protocol: the browser screen dismisses with a `BrowserResult` when
the user wants something only a caller can do (today: ``("resume", path)``,
since resuming starts a live engine). `browse()` returns that result (or None
when the user just quit); `run_browser()` acts on it with the caller's
`on_resume` (`ui.app.run_browser` gives its `run_resume`), and returns the process
exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual import events
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from attractor_tui.sessions.store import SessionLog
from attractor_tui.ui.copying import transcript_commands
from attractor_tui.ui.screens.browser import BrowserResult, BrowserScreen
from attractor_tui.ui.screens.context_view import ContextViewScreen
from attractor_tui.ui.screens.dialogs import ConfirmScreen
from attractor_tui.ui.screens.help import HelpScreen, HelpSection
from attractor_tui.ui.screens.replay import AskScreen, ReplayScreen
from attractor_tui.ui.screens.report import ReportScreen
from attractor_tui.ui.themed import ThemedApp


class ToolApp(ThemedApp[int]):
    """The main app's look (stylesheet, themes, remembered theme) around one screen."""

    BINDINGS = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", show=False),
    ]

    def __init__(self, make_screen: Callable[[], Screen[Any]], *,
                 themes_dir: Path | None = None) -> None:
        super().__init__(themes_dir=themes_dir)
        self.make_screen = make_screen
        self.result: Any = None
        """What the first screen was dismissed with."""

    def compose(self) -> ComposeResult:
        yield from ()

    def on_mount(self, event: events.Mount) -> None:
        self.load_themes()
        self.push_screen(self.make_screen(), callback=self._finished)

    def _finished(self, result: Any) -> None:
        self.result = result
        self.exit(0, return_code=0)

    def help_sections(self) -> list[HelpSection]:
        sections: list[HelpSection] = [("everywhere", [
            *self.BINDINGS, Binding("ctrl+p", "command_palette", "Command palette (themes)"),
        ])]
        for screen in self.screen_stack:
            if isinstance(screen, BrowserScreen):
                sections.append(("session browser", BrowserScreen.BINDINGS))
            elif isinstance(screen, ReplayScreen):
                sections.append(("replay", ReplayScreen.BINDINGS))
                sections.append(("what each side is sent (x)", ContextViewScreen.BINDINGS))
            elif isinstance(screen, ReportScreen):
                sections.append(("report", ReportScreen.BINDINGS))
        sections.append(("conversation pane", _pane_bindings()))
        sections.append(("dialogs", [*ConfirmScreen.BINDINGS, *AskScreen.BINDINGS]))
        return sections

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from transcript_commands(screen)


def _pane_bindings() -> Iterable[BindingType]:
    return [
        Binding("up,down", "scroll", "Scroll a line (up at the top: earlier turns)"),
        Binding("pageup,pagedown", "page", "Scroll a page"),
        Binding("home", "home", "Jump to the start"),
        Binding("end", "end", "Jump to the end"),
    ]


def replay_app(log: SessionLog, speed: float = 1.0, **screen_kwargs: Any) -> ToolApp:
    """The replay app, unstarted (tests and benchmarks drive it with `run_test`)."""
    return ToolApp(lambda: ReplayScreen(log, speed=speed, **screen_kwargs))


def browser_app(directory: Path, **screen_kwargs: Any) -> ToolApp:
    return ToolApp(lambda: BrowserScreen(Path(directory), **screen_kwargs))


def report_app(directory: Path, **options: Any) -> ToolApp:
    """The report screen for `directory`, unstarted (tests drive it with `run_test`);
    `options` go to `ReportScreen` (compare, exclude_interjected)."""
    return ToolApp(lambda: ReportScreen(Path(directory), **options))


def run_replay(log: SessionLog, speed: float = 1.0) -> int:
    """Replay `log` until the user quits; never writes to the session file."""
    app = replay_app(log, speed)
    app.run()
    return app.return_code or 0


def run_report(directory: Path, **options: Any) -> int:
    """Show the report of a folder of sessions until the user quits (2: not a folder)."""
    for folder in [directory, *options.get("compare", ())]:
        if not Path(folder).is_dir():
            print(f"attractor-tui: {folder} is not a folder", file=sys.stderr)
            return 2
    app = report_app(directory, **options)
    app.run()
    return app.return_code or 0


def browse(directory: Path) -> BrowserResult | None:
    """Run the session browser; what the user asked for that only a caller can do."""
    app = browser_app(directory)
    app.run()
    return app.result if isinstance(app.result, tuple) else None


def run_browser(directory: Path, *, on_resume: Callable[[Path], int]) -> int:
    """Run the browser, then act on its result: ("resume", path) runs `on_resume(path)`.

    The caller says how to resume (`ui.app.run_browser` runs the live app), so
    this module never imports the app that imports it."""
    result = browse(directory)
    if result is None:
        return 0
    action, path = result
    if action == "resume":
        return on_resume(path)
    return 0
