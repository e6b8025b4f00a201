"""Small modal questions: confirm quitting, what to do with queued text on quitting,
what an interjection should do, and whether a tool call the pack leaves to the
operator goes through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from attractor_tui.core.text import safe_line, safe_text

QuitChoice = Literal["send", "keep", "discard"]
"""Quitting with queued text: let it fill its slot first, keep it for `resume`, or drop it."""
_QUIT_CHOICES: dict[str, QuitChoice] = {"send": "send", "keep": "keep", "discard": "discard"}
InterjectChoice = Literal["next", "now"]
_CHOICES: dict[str, InterjectChoice] = {"next": "next", "now": "now"}
"""Button id -> choice (the cancel button is not one)."""


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no; Enter or y confirms, Escape or n cancels."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "Cancel") -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(Content(safe_text(self.question)), classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="error")
                yield Button(f"{self.no} (n)", id="no")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class QueuedQuitScreen(ModalScreen[QuitChoice | None]):
    """Quitting while the operator's text waits for its slot: it is the one input that
    cannot be generated again, so the operator says what becomes of it.

    Enter, y and k keep it (what quitting always did to the file, and it loses
    nothing); Escape stays in the session.
    """

    BINDINGS = [
        Binding("s", "choose('send')", "Send first, then quit"),
        Binding("k,y,enter", "choose('keep')", "Keep for resume, quit"),
        Binding("d", "choose('discard')", "Discard, quit"),
        Binding("escape,n", "choose(None)", "Cancel"),
    ]

    def __init__(self, queued: str) -> None:
        """`queued`: what waits, e.g. `A×1, B×2`."""
        super().__init__(classes="dialog")
        self.queued = queued

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(
                Content(f"Your queued text ({self.queued}) has not been sent yet.\n"
                        "Send it first, keep it for `attractor-tui resume`, or discard it?"),
                classes="dialog-question",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send, then quit (s)", id="send", variant="primary")
                yield Button("Keep for resume (k)", id="keep", variant="warning")
                yield Button("Discard (d)", id="discard", variant="error")
                yield Button("Cancel (esc)", id="cancel")

    def action_choose(self, choice: QuitChoice | None) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(_QUIT_CHOICES.get(event.button.id or ""))


class InterjectChoiceScreen(ModalScreen[InterjectChoice | None]):
    """The target side is generating: take its next turn, or interrupt it now?"""

    BINDINGS = [
        Binding("n", "choose('next')", "Next turn"),
        Binding("i", "choose('now')", "Interrupt now"),
        Binding("escape", "choose(None)", "Cancel"),
    ]

    def __init__(self, side: str, writing: Callable[[], bool] | None = None) -> None:
        """`writing`: whether `side` is still writing; the question follows it while
        the dialog is open (the session runs on under it)."""
        super().__init__(classes="dialog")
        self.side = side
        self.writing = writing

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(Content(self._question(True)), classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.side}'s next turn (n)", id="next", variant="primary")
                yield Button("Interrupt now (i)", id="now", variant="warning")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        if self.writing is not None:
            self.set_interval(0.2, self._follow)

    def _question(self, writing: bool) -> str:
        if writing:
            return f"{self.side} is writing right now. Use your text as…"
        return f"{self.side} has finished its turn: your text can be its next turn."

    def _follow(self) -> None:
        writing = self.writing() if self.writing is not None else True
        self.query_one(".dialog-question", Static).update(Content(self._question(writing)))
        self.query_one("#now", Button).disabled = not writing

    def action_choose(self, choice: InterjectChoice | None) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(_CHOICES.get(event.button.id or ""))


class ToolAskScreen(ModalScreen[bool | None]):
    """A tool pack said `effect = "ask"`: the operator allows or denies the call.

    Escape leaves the call pending (the model waits); `o` on the session
    screen brings the question back.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Allow"),
        Binding("n", "answer(False)", "Deny"),
        Binding("escape", "answer(None)", "Decide later"),
    ]

    def __init__(self, side: str, name: str, arguments: str) -> None:
        super().__init__(classes="dialog")
        self.side = side
        self.tool_name = name
        self.arguments = arguments

    def compose(self) -> ComposeResult:
        from attractor_tui.ui.widgets.tool_panel import pretty_arguments

        with Vertical(classes="dialog-box"):
            yield Static(
                Content(f"{self.side} calls {safe_line(self.tool_name)}. Allow it?"),
                classes="dialog-question",
            )
            yield Static(pretty_arguments(self.arguments), classes="dialog-detail")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Allow (y)", id="allow", variant="warning")
                yield Button("Deny (n)", id="deny", variant="primary")
                yield Button("Later (esc)", id="later")

    def action_answer(self, answer: bool | None) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss({"allow": True, "deny": False}.get(event.button.id or ""))
