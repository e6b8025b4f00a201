"""Keep each side's history inside its model's context window.

Estimates are deliberately cheap and pessimistic (3 characters a token): the
exact tokenizer of a remote model is unknown here, and running one per turn
would cost more than the turn. A trim is an event (`ContextTrim`) so replay,
resume and analysis see exactly what each side was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attractor_tui.core.config import SessionConfig, Side
from attractor_tui.core.events import ContextTrim, Turn
from attractor_tui.core.history import messages_for

CHARS_PER_TOKEN = 3
MESSAGE_OVERHEAD = 6
"""Chat-template tokens around each message (ChatML: start, role, newline, end, newline)."""
MIN_KEPT_TURNS = 2
TRIM_TO = 0.5
"""A trim keeps at most this share of the budget, so the next one is several rounds away.

Every trim changes the start of a side's history, so a model server that caches
prompt prefixes (the embedded llama.cpp) must read all of what is kept again;
trimming to just under the limit would make that happen on every turn.
"""

SUMMARY_PROMPT = (
    "You keep the memory of a long conversation between two participants. Summarise the "
    "conversation below in at most five short sentences, from the point of view of "
    "participant {side} ('you'), keeping names, topics and anything agreed."
)


def estimate_tokens(messages: Sequence[dict[str, Any]]) -> int:
    total = 0
    for message in messages:
        content = message.get("content") or ""
        total += len(content) // CHARS_PER_TOKEN + MESSAGE_OVERHEAD
        for call in message.get("tool_calls") or ():
            total += len(str(call)) // CHARS_PER_TOKEN
    return total


def plan_keep_from(
    config: SessionConfig,
    side: Side,
    turns: Sequence[Turn],
    trims: Sequence[ContextTrim],
    *,
    force: bool = False,
) -> int | None:
    """The first turn index to keep so the next call fits, or None if it fits already.

    `force` (the provider said the context overflowed) drops at least half.
    """
    cfg = config.side(side)
    window = cfg.window()
    if window is None and not force:
        return None
    budget = (window or 0) - cfg.max_tokens - 64
    current = next((t.keep_from for t in reversed(trims) if t.side == side), 0)
    visible = [t for t in turns if not t.interrupted and t.index >= current]
    if len(visible) <= MIN_KEPT_TURNS:
        return None
    if force:
        return visible[len(visible) // 2].index
    if estimate_tokens(messages_for(config, side, turns, trims)) <= budget:
        return None
    # Drop whole turns from the front until the rest fills at most TRIM_TO of the
    # budget: room for a summary, and for several more rounds before the next trim.
    for cut in range(1, len(visible) - MIN_KEPT_TURNS + 1):
        keep_from = visible[cut].index
        probe = [*trims, ContextTrim(side=side, action="truncate", keep_from=keep_from)]
        if estimate_tokens(messages_for(config, side, turns, probe)) <= budget * TRIM_TO:
            return keep_from
    return visible[-MIN_KEPT_TURNS].index


NOTES_PROMPT = (
    "You are participant {side} ('you') and keep notes that you will read at the start of "
    "your next conversation. Below are your notes so far and the conversation since. "
    "Write your updated notes in at most eight short sentences: who you talked with, what "
    "about, and what you want to remember. Reply with the notes only."
)


def transcript(turns: Sequence[Turn], side: Side, start: int, stop: int) -> str:
    """The dropped part as plain text, for the summariser."""
    lines = []
    for turn in turns:
        if turn.interrupted or not start <= turn.index < stop:
            continue
        who = "You" if turn.side == side else "Other"
        lines.append(f"{who}: {turn.visible_text}")
    return "\n".join(lines)


async def summarize(
    config: SessionConfig, side: Side, turns: Sequence[Turn], trims: Sequence[ContextTrim],
    keep_from: int,
) -> str:
    """Ask the side's own model for a memory note replacing turns before `keep_from`."""
    previous = next((t for t in reversed(trims) if t.side == side), None)
    start = previous.keep_from if previous else 0
    text = transcript(turns, side, start, keep_from)
    if previous and previous.summary:
        text = f"(Earlier memory: {previous.summary})\n{text}"
    return await _ask_own_model(config, side, SUMMARY_PROMPT.format(side=side), text)


async def update_notes(
    config: SessionConfig, side: Side, turns: Sequence[Turn], notes: str, start: int,
    stop: int,
) -> str:
    """Ask the side's own model, the way `summarize` does, for its notes updated with
    turns `start`..`stop` (issue 27's memory across sessions)."""
    text = transcript(turns, side, start, stop)
    return await _ask_own_model(config, side, NOTES_PROMPT.format(side=side),
                                f"Your notes so far:\n{notes.strip() or '(none yet)'}\n\n"
                                f"The conversation:\n{text}")


async def _ask_own_model(config: SessionConfig, side: Side, instruction: str, text: str) -> str:
    """One short, cool completion by `side`'s model: a memory note, bounded in size."""
    from attractor_tui.backends.litellm_setup import get_litellm

    cfg = config.side(side)
    budget_chars = max(400, ((cfg.window() or 8192) // 2) * CHARS_PER_TOKEN)
    text = text[-budget_chars:]
    limit = summary_tokens(cfg.window())
    response = await get_litellm().acompletion(
        model=cfg.model,
        messages=[
            {"role": "system", "content": instruction},
            {"role": "user", "content": text},
        ],
        max_tokens=limit,
        temperature=0.2,
        timeout=config.timeout,
        **cfg.params,
    )
    summary = (response.choices[0].message.content or "").strip()
    return summary[: limit * CHARS_PER_TOKEN]


def summary_tokens(window: int | None) -> int:
    """Room for the memory note: an eighth of the window, at most 160 tokens.

    `plan_keep_from` leaves half of the budget free after a trim, so a
    note this size always fits; a larger one (a small model echoing its
    previous note) would overflow the window again at once and force a new
    summary every turn.
    """
    return max(16, min(160, (window or 8192) // 8))
