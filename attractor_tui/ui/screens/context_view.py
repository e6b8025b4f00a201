"""What each side is sent: the exact messages of a side's model call, per side.

Researchers ask most about two-instance runs "what does A actually see?". This
screen shows it: the system prompt (with any memory note), every message with
its role, tool calls and their results, the context policy's trims, and token
counts against the window. The messages come from `core.sent`, which calls the
engine's own history builders, so what is shown is what was (or will be) sent.
Token counts are made off the event loop (litellm is slow to import); for a
stored turn the provider's own count of its prompt is shown beside them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane

from attractor_tui.core.config import SIDES, Side
from attractor_tui.core.history import Message
from attractor_tui.core.secrets import redact_env
from attractor_tui.core.sent import TOKENIZER, SentCall, count_tokens, model_window
from attractor_tui.core.text import safe_line, safe_text
from attractor_tui.sessions.export import json_text
from attractor_tui.ui.copying import said_copied
from attractor_tui.ui.widgets.footer import KeyFooter

MAX_SHOWN = 300
"""Messages shown at the end of a call; older ones (after the first two) are folded."""
CallSource = Callable[[], dict[Side, SentCall]]
"""Builds both sides' calls afresh (the live session moves on while the view is open)."""
Counts = tuple[list[int], int, int | None]
"""Tokens per message, for the whole call, and the window they are measured against."""

KIND_LINE = {
    "next": "next call: what {side} will be sent when its turn comes",
    "now": "call in progress: what {side} is being sent right now",
    "turn": "the call that wrote turn {turn}",
}


def message_body(message: Message) -> str:
    """A message's content as plain text, tool calls written out."""
    parts: list[str] = []
    content = message.get("content")
    if content:
        parts.append(str(content))
    for call in message.get("tool_calls") or ():
        function = call.get("function", {})
        parts.append(f"→ tool call {function.get('name', '?')}({function.get('arguments', '')})"
                     f"  id {call.get('id', '')}")
    return safe_text("\n".join(parts)) if parts else "(no content)"


def message_title(number: int, message: Message, tokens: int | None, added: bool) -> str:
    role = str(message.get("role", "?"))
    if role == "tool":
        role = f"tool result for {message.get('tool_call_id', '?')}"
    title = f" {number} · {role}"
    if tokens is not None:
        title += f" · {tokens:,} tok"
    if added:
        title += " · added during this turn"
    return safe_line(title + " ")


def reported_prompt_tokens(call: SentCall) -> int | None:
    """The prompt tokens the provider reported for the turn (its own tokenizer), if any."""
    usage = call.turn.usage if call.turn is not None else None
    return usage.prompt_tokens if usage is not None and usage.prompt_tokens else None


def summary_lines(call: SentCall, counts: Counts | None) -> list[str]:
    """The header of a side's tab: which call, how big, what the policy did."""
    turn = call.turn.index + 1 if call.turn is not None else "?"
    lines = [f"{call.side} · {safe_line(call.model)} · "
             + KIND_LINE[call.kind].format(side=call.side, turn=turn)]
    size = f"{len(call.messages)} messages"
    window_line = f"policy estimate {call.estimate:,} tokens (what the context policy trims by)"
    if counts is None:
        size += f" · counting tokens ({TOKENIZER}) …"
    else:
        _, total, window = counts
        size += f" · {total:,} tokens ({TOKENIZER})"
        reported = reported_prompt_tokens(call)
        used = total
        if reported is not None and call.added == 0:
            size += f" · the model counted {reported:,}"
            used = reported
        elif reported is not None:
            size += f" · the model counted {reported:,} over all of this turn's calls"
        share = (f"{used / window:.0%} of the {window:,}-token window" if window
                 else "window unknown")
        window_line = f"{share} · {window_line}"
    lines += [size, window_line]
    policy = f"context policy: {call.policy}"
    trim = call.trim
    if call.planned is not None:
        policy += (f" · before this call it drops the turns before turn {call.planned + 1}"
                   + (" and writes a memory note" if call.policy == "summarize" else ""))
    elif trim is not None:
        policy += (f" · turns before turn {trim.keep_from + 1} dropped"
                   + (f" ({trim.dropped})" if trim.dropped else "")
                   + (" · memory note in the system prompt" if trim.summary else ""))
    else:
        policy += " · nothing trimmed"
    lines.append(policy)
    if call.tools:
        names = ", ".join(str(t.get("function", {}).get("name", "?")) for t in call.tools)
        lines.append(f"tools offered with the call: {safe_line(names)}")
    if call.kind == "now":
        lines.append("(tool results of this turn so far are not shown until it ends)")
    return lines


class SentMessage(Static):
    """One message of the call, numbered as in the call."""

    def __init__(self, number: int, message: Message, added: bool) -> None:
        super().__init__(Content(message_body(message)),
                         classes=f"sent-message role-{message.get('role', 'x')}")
        self.number = number
        self.message = message
        self.added = added
        self.border_title = message_title(number, message, None, added)

    def show_tokens(self, tokens: int) -> None:
        self.border_title = message_title(self.number, self.message, tokens, self.added)


class SideCall(VerticalScroll):
    """One side's call: a header, then its messages in order (the middle of a very
    long call folded: mounting thousands would stall the app; `y` copies them all)."""

    def __init__(self, call: SentCall) -> None:
        super().__init__(id=f"call-{call.side.lower()}", classes="side-call")
        self.call = call
        self.counts: Counts | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content("\n".join(summary_lines(self.call, None))), classes="call-summary")
        messages = self.call.messages
        first_added = len(messages) - self.call.added
        head = 2  # the system prompt and the first message: how the conversation began
        folded = range(head, len(messages) - MAX_SHOWN) if len(messages) > head + MAX_SHOWN \
            else range(0)
        for number, message in enumerate(messages, 1):
            if number - 1 in folded:
                if number - 1 == folded.start:
                    yield Static(Content(f"… {len(folded):,} messages not shown here "
                                         f"(numbers {folded.start + 1}–{folded.stop}); "
                                         "y copies them all as JSON"), classes="folded")
                continue
            yield SentMessage(number, message, number > first_added)

    def show_counts(self, counts: Counts) -> None:
        self.counts = counts
        self.query_one(".call-summary", Static).update(
            Content("\n".join(summary_lines(self.call, counts))))
        for widget in self.query(SentMessage):
            widget.show_tokens(counts[0][widget.number - 1])


def _count(call: SentCall) -> Counts:
    each, total = count_tokens(call.model, call.messages)
    return each, total, call.window or model_window(call.model)


class ContextViewScreen(Screen[None]):
    """Both sides' model input, one tab each."""

    BINDINGS = [
        Binding("escape,x", "close", "Close"),
        Binding("a", "show_side('A')", "Side A"),
        Binding("b", "show_side('B')", "Side B"),
        Binding("r", "refresh_calls", "Refresh"),
        Binding("y", "copy_messages", "Copy as JSON"),
    ]
    DEFAULT_CSS = """
    ContextViewScreen .call-summary { padding: 0 1; margin-bottom: 1; color: $text; }
    ContextViewScreen .sent-message {
        border: round $panel-lighten-2; border-title-color: $text-muted;
        padding: 0 1; margin: 0 0 0 0; height: auto;
    }
    ContextViewScreen .role-system { border: round $secondary; }
    ContextViewScreen .role-assistant { border: round $primary; }
    ContextViewScreen .role-tool { border: round $warning; }
    ContextViewScreen .folded { color: $text-muted; padding: 0 1; margin: 1 0; }
    ContextViewScreen TabPane { padding: 0; }
    """

    def __init__(self, source: CallSource, *, title: str = "What each side is sent",
                 side: Side = "A") -> None:
        super().__init__(id="context-view")
        self.source = source
        self.title = title
        self.calls: dict[Side, SentCall] = source()
        self.side = side
        self.counted = False
        """True once both sides' tokens are counted (tests and snapshots wait for it)."""

    def compose(self) -> ComposeResult:
        with TabbedContent(initial=f"tab-{self.side.lower()}"):
            for side in SIDES:
                call = self.calls[side]
                label = Content(safe_line(f"{side} · {call.model}"))
                with TabPane(label, id=f"tab-{side.lower()}"):
                    yield SideCall(call)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.count_all()

    @work(exclusive=True, group="count")
    async def count_all(self) -> None:
        self.counted = False
        for side in SIDES:
            panes = self.query(f"#call-{side.lower()}").results(SideCall)
            for pane in panes:
                try:
                    counts = await asyncio.to_thread(_count, pane.call)
                except Exception as exc:  # a tokenizer problem must not close the view
                    self.notify(safe_text(f"cannot count {side}'s tokens: {exc}"),
                                severity="warning", markup=False)
                    continue
                pane.show_counts(counts)
        self.counted = True

    def action_close(self) -> None:
        self.dismiss(None)

    def action_show_side(self, side: Side) -> None:
        self.side = side
        self.query_one(TabbedContent).active = f"tab-{side.lower()}"

    async def action_refresh_calls(self) -> None:
        """Rebuild both sides' calls (the session may have moved on)."""
        self.calls = self.source()
        for side in SIDES:
            pane = self.query_one(f"#tab-{side.lower()}", TabPane)
            await pane.remove_children()
            await pane.mount(SideCall(self.calls[side]))
        self.count_all()

    def action_copy_messages(self) -> None:
        """The shown side's messages as JSON (exact text; controls escaped), to the clipboard."""
        active = self.query_one(TabbedContent).active
        side: Side = "B" if active == "tab-b" else "A"
        call = self.calls[side]
        payload: dict[str, Any] = {"model": call.model, "messages": call.messages}
        if call.tools:
            payload["tools"] = call.tools
        self.app.copy_to_clipboard(redact_env(json_text(payload)))  # as the JSON export
        said_copied(self.app, f"what {side} is sent ({len(call.messages)} messages as JSON)")
