"""Copy a turn or the whole transcript to the terminal's clipboard; export beside the file.

Shared by the live and the replay screen. Copies go through Textual's
`copy_to_clipboard` (OSC 52: the terminal, or tmux with `set-clipboard on`,
puts the text on the system clipboard; over ssh too). Nothing answers an OSC 52
write, so the app says it *sent* the text, and inside tmux with another setting
says how to let it through. What is copied passes
through the same rules as the exports (`safe_text`, then `redact_env`), so a
pasted turn carries no terminal escapes or key values; the transcript *is* the
Markdown export.

The screens import this module and it imports none of them (the export
format dialog lives here), so imports between the screens and it point one way.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

from attractor_tui.analysis.classify import end_state_note
from attractor_tui.core.config import Side
from attractor_tui.core.events import Turn
from attractor_tui.core.secrets import redact_env
from attractor_tui.core.text import safe_line, safe_text
from attractor_tui.sessions.export import FORMATS, ExportFormat, export_session
from attractor_tui.sessions.store import SessionFileError, SessionLog, load_session
from attractor_tui.ui.widgets.status import display_path

TMUX_FIX = "tmux set -g set-clipboard on"
"""What makes tmux pass an OSC 52 copy on (its default, `external`, drops it)."""


def tmux_clipboard() -> str | None:
    """tmux's `set-clipboard` when the app runs inside tmux (None outside, or unknown).

    Asked each time (a few milliseconds), so the hint stops once the user follows it.
    """
    if not os.environ.get("TMUX"):
        return None
    try:
        done = subprocess.run(["tmux", "show-options", "-gv", "set-clipboard"],
                              capture_output=True, text=True, timeout=1, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def said_copied(app: App[Any], what: str) -> None:
    """Say `what` went to the terminal's clipboard: the app cannot know that it
    arrived (OSC 52), and inside tmux without `set-clipboard on` it does not."""
    text = f"Sent {what} to the terminal's clipboard."
    setting = tmux_clipboard()
    if setting not in (None, "on"):
        text += (f" tmux may drop it (set-clipboard is {setting}): run `{TMUX_FIX}`, "
                 "or add it to ~/.tmux.conf.")
    app.notify(text, title="Copy", markup=False,
               timeout=12 if setting not in (None, "on") else 5)


def last_turn(turns: Sequence[Turn], side: Side) -> Turn | None:
    """`side`'s newest finished (not interrupted) turn."""
    return next((t for t in reversed(turns) if t.side == side and not t.interrupted), None)


def clean(text: str) -> str:
    """What leaves the app: the exports' rules (visible controls, no key values)."""
    return redact_env(safe_text(text))


def turn_text(turn: Turn) -> str:
    """A turn as it is copied: its text as the other side saw it, made safe."""
    return clean(turn.visible_text)


def copy_selection_or_turn(app: App[Any], selected: str | None, side: Side,
                           turns: Sequence[Turn]) -> None:
    """Copy the selected text if there is any, else `side`'s newest turn; say what."""
    if selected:
        text = clean(selected)
        app.copy_to_clipboard(text)
        said_copied(app, f"the selected text ({len(text):,} characters)")
        return
    turn = last_turn(turns, side)
    if turn is None:
        app.notify(f"Nothing to copy yet: {side} has no finished turn.", severity="warning",
                   markup=False)
        return
    text = turn_text(turn)
    app.copy_to_clipboard(text)
    who = "operator" if turn.author == "operator" else side
    said_copied(app, f"turn {turn.index + 1} ({who}, {len(text):,} characters)")


def transcript(log: SessionLog) -> str:
    """The whole session as the Markdown export (end state included)."""
    return export_session(log, "md", notes=[end_state_note(log.turns)])


async def read_log(app: App[Any], source: SessionLog | Path) -> SessionLog | None:
    """`source` itself, or the session file read off the loop; None (said) if unreadable."""
    if isinstance(source, SessionLog):
        return source
    try:
        return await asyncio.to_thread(load_session, source)
    except (OSError, SessionFileError) as exc:
        app.notify(safe_text(f"cannot read {source}: {exc}"), title="Cannot copy",
                   severity="error", markup=False)
        return None


async def copy_transcript(app: App[Any], source: SessionLog | Path) -> None:
    """Copy the whole transcript as Markdown; say how much."""
    log = await read_log(app, source)
    if log is None:
        return
    text = await asyncio.to_thread(transcript, log)
    app.copy_to_clipboard(text)
    said_copied(app, f"the transcript as Markdown ({len(log.turns)} turns, "
                     f"{len(text):,} characters)")


class ExportScreen(ModalScreen[ExportFormat | None]):
    """Pick an export format: m(arkdown), h(tml), t(ext), j(son); Escape cancels."""

    BINDINGS = [
        Binding("m", "choose('md')", "Markdown"),
        Binding("h", "choose('html')", "HTML"),
        Binding("t", "choose('txt')", "Text"),
        Binding("j", "choose('json')", "JSON"),
        Binding("escape", "choose(None)", "Cancel"),
    ]
    LABELS = {"md": "Markdown (m)", "html": "HTML (h)", "txt": "Text (t)", "json": "JSON (j)"}

    def __init__(self, name: str) -> None:
        super().__init__(classes="dialog")
        self.file_name = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(Content(f"Export {safe_line(self.file_name)} as… "
                                 "(written beside the file)"), classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                for fmt in ("md", "html", "txt", "json"):
                    yield Button(self.LABELS[fmt], id=f"fmt-{fmt}",
                                 variant="primary" if fmt == "md" else "default")
            yield Static(Content("Escape: cancel"), classes="dialog-hint")

    def action_choose(self, fmt: ExportFormat | None) -> None:
        self.dismiss(fmt)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        fmt = (event.button.id or "").removeprefix("fmt-")
        self.dismiss(fmt if fmt in FORMATS else None)


async def export_beside(app: App[Any], source: SessionLog | Path) -> None:
    """Ask for a format (the browser's dialog), write the export beside the session file."""
    path = source.path if isinstance(source, SessionLog) else source
    fmt = await app.push_screen_wait(ExportScreen(path.name))
    if fmt is None:
        return
    log = await read_log(app, source)
    if log is None:
        return
    target = path.with_suffix(f".{fmt}")

    def write() -> None:
        text = export_session(log, fmt, notes=[end_state_note(log.turns)])
        target.write_text(text, encoding="utf-8")

    try:
        await asyncio.to_thread(write)
    except OSError as exc:
        app.notify(safe_text(f"cannot write {target}: {exc.strerror or exc}"),
                   title="Export failed", severity="error", markup=False)
        return
    app.notify(safe_text(f"Wrote {display_path(target)}"), title="Exported", markup=False,
               timeout=8)


COMMANDS = (
    ("Copy turn", "Copy the focused pane's selected text or newest turn (y)", "copy_turn"),
    ("Copy transcript", "Copy the whole session as Markdown (Y)", "copy_transcript"),
    ("Export transcript", "Write the session as Markdown, HTML, text or JSON beside its file",
     "export"),
    ("What each side is sent", "The exact messages each model gets, with token counts (x)",
     "show_sent"),
)


def transcript_commands(screen: Screen[Any]) -> Iterator[SystemCommand]:
    """Command-palette entries for a screen that shows a session (live or replay)."""
    for title, help_text, action in COMMANDS:
        method = getattr(screen, f"action_{action}", None)
        if callable(method):
            yield SystemCommand(title, help_text, method)
