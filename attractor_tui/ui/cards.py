"""What a non-turn event leaves on screen: its card in a pane and its tool-panel line.

The live session and the replay word an error, a session end or an operator
action the same way because both ask this module; it is Textual-free, so the
wording can be tested without an app. The text returned is raw (it may hold
what a provider or a file said): the widgets that draw it make it terminal-safe
and never parse it as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from attractor_tui.core.config import Side
from attractor_tui.core.events import (
    ContextTrim,
    ErrorEvent,
    MemoryUpdate,
    OperatorAction,
    SessionEnd,
    SessionResume,
)

PAUSED_HINT = "The session is paused: press r to retry, or interject with i."
"""Under a live error that paused the session: what the operator can do now."""

OPERATOR_WORDS = {
    "pause": "paused", "resume": "resumed", "stop": "stopped the session",
    "interrupt": "interrupted a turn", "retry": "retried",
    "queue": "queued a turn", "drop": "took back a queued turn",
}


class Card(NamedTuple):
    """A card in a conversation pane."""

    text: str
    kind: str
    title: str = ""


class ToolLine(NamedTuple):
    """A line in the tool panel (`side` None: it concerns both)."""

    kind: str
    text: str
    side: Side | None = None


def seed_card(seed: str) -> Card:
    return Card(seed, "seed", "seed → A")


def error_card(event: ErrorEvent, *, live: bool) -> Card:
    """Live, a pausing error says how to go on; in a replay, a retried one says it was."""
    text = event.message
    if live and not event.retry_in:
        text += "\n" + PAUSED_HINT
    elif not live and event.retry_in:
        text += f"\n(retried automatically after {event.retry_in:g} s)"
    return Card(text, "error", f"error · {event.kind}")


def end_card(event: SessionEnd, kept: Mapping[Side, int] | None = None) -> Card:
    """`kept`: queued operator turns per side that the end left unsent (still in the file)."""
    text = f"session ended: {event.reason}" + (f" ({event.detail})" if event.detail else "")
    waiting = {side: n for side, n in (kept or {}).items() if n}
    if waiting:
        total = sum(waiting.values())
        sides = ", ".join(f"{side}×{n}" for side, n in sorted(waiting.items()))
        text += (f"\nqueued text kept for resume: {total} turn(s) you queued ({sides}) were not "
                 "sent; `attractor-tui resume` sends them first")
    return Card(text, "end")


def notice_for(event: Any, *, live: bool = False) -> Card | None:
    """The card a non-turn event leaves in a pane (None: it leaves none)."""
    if isinstance(event, ErrorEvent):
        return error_card(event, live=live)
    if isinstance(event, ContextTrim):
        verb = "summarised" if event.action == "summarize" else "dropped"
        text = f"context trimmed: turns before #{event.keep_from + 1} {verb}"
        if event.dropped:
            text += f" ({event.dropped} message(s))"
        if event.summary:
            text += f"\nsummary: {event.summary}"
        return Card(text, "trim", f"context · {event.side}")
    if isinstance(event, SessionEnd):
        return end_card(event)
    if isinstance(event, MemoryUpdate):
        when = "at the end" if event.trigger == "end" else "on a summary"
        return Card(f"notes rewritten {when} in {event.path}\nnotes: {event.notes}", "trim",
                    f"memory · {event.side}")
    if isinstance(event, SessionResume):
        return Card("session resumed", "end")
    if isinstance(event, OperatorAction):
        what = OPERATOR_WORDS.get(event.action, event.action)
        if event.action in ("queue", "drop"):
            for_side = f" for {event.side}" if event.side else ""
            text = f": {event.text}" if event.text is not None else ""
            return Card(f"operator {what}{for_side}{text}", "end")
        return Card(f"operator {what}" + (f" ({event.detail})" if event.detail else ""), "end")
    return None


def tool_event_for(event: Any) -> ToolLine | None:
    """The tool-panel line a non-turn event adds (None: it adds none)."""
    if isinstance(event, OperatorAction):
        if event.action in ("queue", "drop"):
            return ToolLine(event.action, event.text or "", event.side)
        return ToolLine(event.action, event.detail)
    if isinstance(event, ErrorEvent):
        return ToolLine(f"error {event.kind}", event.message, event.side)
    if isinstance(event, ContextTrim):
        return ToolLine("context", f"{event.action} before #{event.keep_from + 1}", event.side)
    if isinstance(event, SessionEnd):
        return ToolLine("end", f"{event.reason} {event.detail}".strip())
    if isinstance(event, SessionResume):
        return ToolLine("resume", "")
    return None
