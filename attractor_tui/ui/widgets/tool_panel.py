"""Side panel listing every tool call as it streams, plus errors and stops.

An entry appears with the first `ToolCallDelta` of a call and is rewritten as
its arguments grow; the finished `Turn` then supplies the final record
(outcome, result). Entries are keyed by (turn index, call index).
"""

from __future__ import annotations

import json
import re

from rich.console import Group, RenderableType
from rich.highlighter import JSONHighlighter
from rich.text import Text
from textual.content import Content
from textual.widgets import Static

from attractor_tui.core.events import Turn
from attractor_tui.core.text import safe_line, safe_text
from attractor_tui.ui.widgets.follow import FollowBottom

_JSON = JSONHighlighter()
_IDENTIFIER = re.compile(r"[A-Za-z_-][A-Za-z0-9_-]*")


def pretty_arguments(arguments: str) -> Text:
    """Arguments as indented JSON when they parse, raw (sanitised) text otherwise."""
    if not arguments:
        return Text("{}", style="dim")
    try:
        shown = json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except ValueError:
        return Text(safe_text(arguments))
    return _JSON(Text(safe_text(shown)))


def event_class(kind: str) -> str:
    """The CSS class of an event line (`error rate_limit` -> `error-rate_limit`).

    A kind read from a session file may be anything, and Textual refuses a
    class name that is not an identifier, which would lose the line.
    """
    name = kind.replace(" ", "-")
    return name if _IDENTIFIER.fullmatch(name) else "other"


def entry_renderable(
    when: str, side: str, name: str, arguments: str, outcome: str, result: str | None = None
) -> RenderableType:
    head = Text()
    head.append(f"{when} ", style="dim")
    head.append(side, style="bold")
    head.append("  ")
    head.append(safe_line(name) or "…", style="bold")
    head.append(f"  [{safe_line(outcome)}]", style="italic")
    parts: list[RenderableType] = [head, pretty_arguments(arguments)]
    if result:
        parts.append(Text("→ " + safe_text(result), style="dim"))
    return Group(*parts)


class ToolPanel(FollowBottom):
    """The tool-call and event log; `t` shows or hides it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._entries: dict[tuple[int, int], Static] = {}
        self._when: dict[tuple[int, int], str] = {}
        self.call_count = 0
        self.border_title = Content(" tool calls & events ")

    def _entry(self, key: tuple[int, int], when: str, streaming: bool = False) -> Static:
        """The entry of call `key`, created (and counted) on first sight."""
        entry = self._entries.get(key)
        if entry is None:
            self.call_count += 1
            self._when[key] = when
            entry = Static(classes="tool-entry streaming" if streaming else "tool-entry")
            self._entries[key] = entry
            self.mount(entry)
        return entry

    def call_delta(
        self, turn_index: int, call_index: int, side: str, name: str, arguments: str, when: str
    ) -> None:
        key = (turn_index, call_index)
        entry = self._entry(key, when, streaming=True)
        entry.update(entry_renderable(self._when[key], side, name, arguments, "streaming…"))

    def finalise(self, turn: Turn, when: str) -> None:
        """The turn ended: show each call's final record (or that it was cut off)."""
        for call_index, call in enumerate(turn.tool_calls):
            key = (turn.index, call_index)
            entry = self._entry(key, when)
            entry.remove_class("streaming")
            outcome = call.outcome
            if turn.interrupted and outcome == "offered":
                outcome = "interrupted"
                entry.add_class("interrupted")
            entry.update(
                entry_renderable(
                    self._when[key], turn.side, call.name, call.arguments, outcome, call.result
                )
            )

    def add_event(self, when: str, kind: str, text: str, side: str | None = None) -> None:
        line = Text()
        line.append(f"{when} ", style="dim")
        if side:
            line.append(f"{side} ", style="bold")
        line.append(safe_line(kind), style="bold")
        line.append("  " + safe_text(text))
        self.mount(Static(line, classes=f"tool-event {event_class(kind)}"))
