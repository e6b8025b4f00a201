"""The status line: state, counters, elapsed time, tokens/cost, session file.

`status_text` is a pure function of a `StatusInfo` so it is easy to test and
the screen only has to gather numbers.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from attractor_tui.core.text import safe_line

STATE_ICONS = {
    "starting": "○", "running": "▶", "waiting": "▶", "pausing": "⏸", "paused": "⏸",
    "pacing": "◷", "remembering": "✎", "ended": "■",
}


@dataclass
class SideUsage:
    completion_tokens: int = 0
    prompt_tokens: int = 0
    cost: float | None = None


@dataclass
class StatusInfo:
    state: str = "starting"
    detail: str = ""
    generating: str | None = None
    completed_turns: int = 0
    max_turns: int | None = None
    """The limit in completed turns (both sides), as the engine counts it."""
    shown_turns: int = 0
    """Turns in the session so far, interrupted ones included (what the cards number)."""
    elapsed: float = 0.0
    usage: dict[str, SideUsage] = field(default_factory=dict)
    path: str = ""
    pending: dict[str, int] = field(default_factory=dict)
    tool_calls: int = 0


def display_path(path: Path) -> str:
    """The session path as short as it can be while still findable."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return str(path)


def format_elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_tokens(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 10_000 else str(count)


def state_label(info: StatusInfo) -> str:
    state = info.state
    if state == "ended":
        return f"ended: {info.detail}" if info.detail else "ended"
    if state == "paused" and info.detail:
        return f"paused ({info.detail})"
    if state == "pausing":
        return f"pausing after {info.generating}'s turn" if info.generating else "pausing"
    if state == "waiting" and info.detail:
        return f"waiting for you: {info.detail} (o)"
    if state == "remembering":  # after the last turn, before the end
        return f"ending: {info.detail}… (q again: quit without them)"
    if state == "pacing":  # the engine says who waits how long for which limit
        return f"pacing: {info.detail}" if info.detail else "pacing: waiting for the rate limit"
    if state in ("running", "waiting") and info.generating:
        return f"running: {info.generating} is writing"
    return state


def turn_counter(info: StatusInfo) -> str:
    """`round R · turn N/L`, 1-based and numbered as the cards are (`#N`).

    N is the turn being written (or next, or the last one once the session has
    ended); an interrupted turn keeps its card, so each interruption moves the
    limit L one further: L - N is always the number of turns still to come.
    """
    interrupted = max(0, info.shown_turns - info.completed_turns)
    limit = None if info.max_turns is None else info.max_turns + interrupted
    number = info.shown_turns if info.state == "ended" else info.shown_turns + 1
    current = info.completed_turns // 2 + 1
    if limit is not None and info.max_turns is not None:
        number = min(number, limit)
        current = min(current, max(1, (info.max_turns + 1) // 2))
    return f"round {current} · turn {number}/{'∞' if limit is None else limit}"


def status_text(info: StatusInfo, width: int | None = None) -> Text:
    """The line; narrower than `width`, it drops words before facts: token labels,
    then the path's folders, then the token counts (the session file stays)."""
    for fit in range(4):
        text = _status_text(info, fit)
        if width is None or text.cell_len <= width:
            break
    return text


def _status_text(info: StatusInfo, fit: int) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    style = {"paused": "bold reverse", "pausing": "bold", "ended": "bold"}.get(info.state, "bold")
    text.append(f" {STATE_ICONS.get(info.state, '•')} {safe_line(state_label(info))} ", style)
    text.append(f" {turn_counter(info)}" if fit < 3 else f" {turn_counter(info).split(' · ')[1]}")
    text.append(f" · {format_elapsed(info.elapsed)}")
    for side, usage in info.usage.items():
        if fit < 3 and (usage.completion_tokens or usage.prompt_tokens):
            out, sent = format_tokens(usage.completion_tokens), format_tokens(usage.prompt_tokens)
            text.append(f" · {side} {out} out/{sent} in" if fit == 0 else f" · {side} {out}/{sent}")
            if usage.cost:
                text.append(f" ${usage.cost:.4f}")
    queued = [f"{side}×{n}" for side, n in info.pending.items() if n]
    if queued:
        text.append(f" · queued {' '.join(queued)}", style="bold")
    if info.tool_calls:
        text.append(f" · tools {info.tool_calls}")
    if info.path:
        path = info.path if fit < 2 else Path(info.path).name
        text.append(f" · {safe_line(path)}", style="dim")
    return text


class StatusLine(Static):
    """One line above the footer; updated by the session screen."""

    _info: StatusInfo | None = None

    def show(self, info: StatusInfo) -> None:
        self._info = info
        self.update(status_text(info, self.size.width or None))

    def on_resize(self) -> None:
        if self._info is not None:
            self.update(status_text(self._info, self.size.width or None))
