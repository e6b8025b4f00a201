"""The interjection bar: the operator writes a turn for side A or B.

Enter sends, ctrl+j (or shift+enter where the terminal reports it) starts a
new line, Tab switches the target side, ctrl+r takes the target side's newest
queued turn back into the bar, Escape leaves. The bar only posts `Send` and
`TakeBack` messages; what they mean (queue, ask whether to interrupt, withdraw)
is decided by the session screen, which knows the engine.
"""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Label, TextArea

from attractor_tui.core.config import Side, other

IDLE_PLACEHOLDER = "Interject: press i to write a turn for A or B"
"""What the bar says while the panes have the keys (`i` opens it)."""
TYPING_PLACEHOLDER = "Type the turn: Enter sends, ctrl+j new line, Tab picks side, Esc leaves"
"""What it says while it has them: `i` here is a letter, so it must not say "press i"."""


class InterjectInput(TextArea):
    """A multi-line input whose Enter sends instead of inserting a newline.

    Enter and the new-line keys are handled in the input's own key handler,
    not as priority bindings: the app answers a priority binding the moment
    the key arrives, ahead of the letters still waiting in the input's queue,
    so a quick `ctrl+j AAA ctrl+j BBB` put both line breaks first. The
    bindings below are what help and the footer show.
    """

    BINDINGS = [
        Binding("enter", "send", "Send"),
        Binding("ctrl+j,shift+enter,alt+enter", "newline", "New line", key_display="ctrl+j"),
        Binding("tab", "toggle_side", "Target A/B", priority=True),
        Binding("ctrl+r", "take_back", "Take back the newest queued turn",
                show=False, priority=True),
        Binding("escape", "leave", "Leave", priority=True),
    ]

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class ToggleSide(Message):
        pass

    class Leave(Message):
        pass

    class TakeBack(Message):
        pass

    IN_ORDER = {"enter": "send", "ctrl+j": "newline", "shift+enter": "newline",
                "alt+enter": "newline"}
    """Keys acted on in turn with the typed letters (see the class docstring)."""

    async def _on_key(self, event: events.Key) -> None:
        """Runs before `TextArea._on_key` (Textual calls each class's handler
        in MRO order until one prevents the default)."""
        action = self.IN_ORDER.get(event.key)
        if action is None:
            return
        event.stop()
        event.prevent_default()
        if action == "send":
            self.action_send()
        else:
            self.action_newline()

    def _on_focus(self, event: events.Focus) -> None:
        self.placeholder = TYPING_PLACEHOLDER

    def _on_blur(self, event: events.Blur) -> None:
        self.placeholder = IDLE_PLACEHOLDER

    def action_send(self) -> None:
        self.post_message(self.Submitted(self.text))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_toggle_side(self) -> None:
        self.post_message(self.ToggleSide())

    def action_leave(self) -> None:
        self.post_message(self.Leave())

    def action_take_back(self) -> None:
        self.post_message(self.TakeBack())


class InterjectBar(Horizontal):
    """Target toggle, text input and a hint; docked at the bottom."""

    target: reactive[Side] = reactive("A")

    class Send(Message):
        """The operator wants `text` to be `side`'s turn."""

        def __init__(self, side: Side, text: str) -> None:
            super().__init__()
            self.side = side
            self.text = text

    class Leave(Message):
        pass

    class TakeBack(Message):
        """The operator wants `side`'s newest queued turn back in the bar."""

        def __init__(self, side: Side) -> None:
            super().__init__()
            self.side = side

    def compose(self) -> ComposeResult:
        toggle = Button("to A", id="interject-target", compact=True)
        toggle.can_focus = False
        yield toggle
        area = InterjectInput(
            id="interject-input", soft_wrap=True, show_line_numbers=False, tab_behavior="focus",
            placeholder=IDLE_PLACEHOLDER,
        )
        yield area
        yield Label(Content("enter send · tab side · esc leave"), id="interject-hint")

    @property
    def input(self) -> InterjectInput:
        return self.query_one(InterjectInput)

    def watch_target(self, side: Side) -> None:
        button = self.query_one("#interject-target", Button)
        button.label = Content(f"to {side}")
        button.set_class(side == "A", "side-a")
        button.set_class(side == "B", "side-b")
        self.set_class(side == "A", "side-a")
        self.set_class(side == "B", "side-b")

    def focus_input(self) -> None:
        """Give the input the keys now, not at the next idle moment.

        `Widget.focus` only schedules the change, so keys typed right after `i`
        and already queued reached the screen's bindings first (a `p` paused the
        session). `set_focus` moves it before the next key is dispatched.
        """
        self.screen.set_focus(self.input)

    def clear(self) -> None:
        self.input.clear()

    def put_back(self, text: str) -> None:
        """Show `text` (a turn taken back from the queue) for editing, cursor at its end."""
        self.input.load_text(text)
        self.input.move_cursor(self.input.document.end)

    @on(Button.Pressed, "#interject-target")
    def _clicked_toggle(self, event: Button.Pressed) -> None:
        event.stop()
        self.target = other(self.target)

    @on(InterjectInput.ToggleSide)
    def _toggle(self, event: InterjectInput.ToggleSide) -> None:
        event.stop()
        self.target = other(self.target)

    @on(InterjectInput.Submitted)
    def _submitted(self, event: InterjectInput.Submitted) -> None:
        event.stop()
        self.post_message(self.Send(self.target, event.text))

    @on(InterjectInput.TakeBack)
    def _take_back(self, event: InterjectInput.TakeBack) -> None:
        event.stop()
        self.post_message(self.TakeBack(self.target))

    @on(InterjectInput.Leave)
    def _leave(self, event: InterjectInput.Leave) -> None:
        event.stop()
        self.post_message(self.Leave())
