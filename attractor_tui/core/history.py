"""Rebuild each side's chat history from turns: the single source of truth.

The engine calls this before every model call, and resume/fork call it on a
loaded file, so a resumed run sends byte-for-byte what an uninterrupted run
would have sent. Own turns are `assistant`, the other side's are `user`; the
seed is A's first user message. Nothing is ever appended twice, and an
interrupted turn (partial text of a stopped generation) is never delivered:
its slot is taken by the operator's text or by a fresh generation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from attractor_tui.core.config import SessionConfig, Side
from attractor_tui.core.events import EMPTY_PLACEHOLDER, ContextTrim, ToolCallRecord, Turn

Message = dict[str, Any]
MEMORY_HEADER = "Memory of the earlier part of this conversation:"
NOTES_HEADER = "Your notes from earlier conversations:"
"""Above a side's carried-over notes (`SideConfig.notes`, issue 27)."""


def messages_for(
    config: SessionConfig, side: Side, turns: Iterable[Turn], trims: Iterable[ContextTrim] = ()
) -> list[Message]:
    """The message list `side` should be sent for its next turn."""
    trim = next((t for t in reversed(list(trims)) if t.side == side), None)
    keep_from = trim.keep_from if trim else 0
    messages: list[Message] = []
    system = config.side(side).system
    notes = config.side(side).notes
    if notes and notes.strip():
        system = f"{system}\n\n{NOTES_HEADER}\n{notes.strip()}".strip()
    if trim is not None and trim.summary:
        system = f"{system}\n\n{MEMORY_HEADER}\n{trim.summary}".strip()
    if system:
        messages.append({"role": "system", "content": system})
    if side == "A":
        messages.append({"role": "user", "content": config.seed})
    for turn in turns:
        if turn.interrupted or turn.index < keep_from:
            continue  # aborted attempts are never delivered; trimmed turns are gone
        if turn.side == side:
            messages.extend(own_turn_messages(turn))
        else:
            messages.append({"role": "user", "content": turn.visible_text})
    return messages


def own_turn_messages(turn: Turn) -> list[Message]:
    """A side's own turn: text segments around its tool calls, then tool results.

    Both sides see the visible stand-in for an empty reply: providers reject
    empty user *and* assistant messages.
    """
    calls = [c for c in turn.tool_calls if c.kind == "tool"]
    if not calls:
        return [{"role": "assistant", "content": turn.visible_text}]
    out: list[Message] = []
    start = 0
    groups: dict[int, list[tuple[int, ToolCallRecord]]] = {}
    for n, call in enumerate(calls):
        groups.setdefault(call.offset, []).append((n, call))
    for offset in sorted(groups):
        segment = turn.text[start:offset]
        specs = [
            {
                "id": call.id or f"call_{turn.index}_{n}",
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments or "{}"},
            }
            for n, call in groups[offset]
        ]
        out.append(
            {"role": "assistant", "content": segment if segment.strip() else None,
             "tool_calls": specs}
        )
        for (_, call), spec in zip(groups[offset], specs, strict=True):
            out.append({"role": "tool", "tool_call_id": spec["id"],
                        "content": call.result or call.outcome})
        start = offset
    tail = turn.text[start:]
    if tail.strip():
        out.append({"role": "assistant", "content": tail})
    elif not turn.text.strip():
        out.append({"role": "assistant", "content": turn.sent_text or EMPTY_PLACEHOLDER})
    return out


def tool_round_messages(segment: Turn) -> list[Message]:
    """What a turn's next call carries after a round of tool calls: the call, the results.

    `segment` is the turn so far (its text up to the calls) holding only that
    round's calls. The engine continues a turn with exactly this, and the
    context view shows it, so both say the same.
    """
    return [m for m in own_turn_messages(segment) if m.get("tool_calls") or m["role"] == "tool"]


class HistoryCache:
    """`messages_for`, extended turn by turn instead of rebuilt each call.

    Long sessions would otherwise rebuild every history from scratch before
    every call (quadratic). The cache is dropped whenever anything but an
    append happened (a new context trim, a different turn list), so it always
    equals `messages_for` on the same inputs.
    """

    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        self._state: dict[Side, tuple[int, int, int, list[Message]]] = {}

    def messages(
        self, side: Side, turns: list[Turn], trims: list[ContextTrim]
    ) -> list[Message]:
        cached = self._state.get(side)
        trim_count = sum(1 for t in trims if t.side == side)
        if (
            cached is None
            or cached[1] != trim_count
            or cached[0] > len(turns)
            or cached[2] != (id(turns[cached[0] - 1]) if cached[0] else 0)
        ):
            messages = messages_for(self.config, side, turns, trims)
        else:
            messages = list(cached[3])
            for turn in turns[cached[0]:]:
                if turn.interrupted:
                    continue
                if turn.side == side:
                    messages.extend(own_turn_messages(turn))
                else:
                    messages.append({"role": "user", "content": turn.visible_text})
        last_id = id(turns[-1]) if turns else 0
        self._state[side] = (len(turns), trim_count, last_id, messages)
        return list(messages)
