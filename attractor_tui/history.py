"""Rebuild each side's chat history from turns: the single source of truth.

The engine calls this before every model call, and resume/fork call it on a
loaded file, so a resumed run sends byte-for-byte what an uninterrupted run
would have sent. Own turns are `assistant`, the other side's are `user`; the
seed is A's first user message. Nothing is ever appended twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .config import SessionConfig, Side
from .events import Turn

Message = dict[str, Any]


def messages_for(config: SessionConfig, side: Side, turns: Iterable[Turn]) -> list[Message]:
    """The message list `side` should be sent for its next turn."""
    messages: list[Message] = []
    system = config.side(side).system
    if system:
        messages.append({"role": "system", "content": system})
    if side == "A":
        messages.append({"role": "user", "content": config.seed})
    for turn in turns:
        if turn.interrupted:
            continue  # an aborted attempt: shown and stored, never delivered
        role = "assistant" if turn.side == side else "user"
        if role == "assistant" and turn.tool_calls:
            messages.extend(_tool_exchange(turn))
        # Both sides see the visible stand-in for an empty reply: providers
        # reject empty user *and* assistant messages.
        messages.append({"role": role, "content": turn.visible_text})
    return messages


def _tool_exchange(turn: Turn) -> list[Message]:
    """Assistant tool-call message plus one `tool` result per call."""
    calls = [
        {
            "id": call.id or f"call_{turn.index}_{n}",
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments or "{}"},
        }
        for n, call in enumerate(turn.tool_calls)
    ]
    out: list[Message] = [{"role": "assistant", "content": None, "tool_calls": calls}]
    for call, spec in zip(turn.tool_calls, calls, strict=True):
        out.append(
            {"role": "tool", "tool_call_id": spec["id"], "content": call.result or call.outcome}
        )
    return out
