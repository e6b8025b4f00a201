"""Does a side's prompt fit its model's context window? Asked before the first call.

A long system prompt that cannot fit would otherwise fail on the first call
as "the conversation no longer fits", without saying that the prompt alone is
the problem. The window comes from the side's `context_tokens`, else from
litellm's model info (`max_input_tokens`; the embedded model registers its
`N_CTX` there), else it is unknown and nothing is checked. Prompts are counted
with litellm's `token_counter` (the model's tokenizer where litellm has it,
else tiktoken's cl100k), once per prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from attractor_tui.core.config import SIDES, SessionConfig, Side, SideConfig
from attractor_tui.core.context import estimate_tokens
from attractor_tui.core.errors import Problem
from attractor_tui.core.events import ContextTrim, Turn
from attractor_tui.core.history import messages_for


class PromptTooLong(ValueError):
    """A side's system prompt and seed cannot fit its model's window; `str()` says the fix."""


def model_window(cfg: SideConfig) -> int | None:
    """Input tokens `cfg.model` takes: `context_tokens`, else litellm's model info, else None."""
    if cfg.context_tokens is not None:
        return cfg.context_tokens
    from attractor_tui.backends.litellm_setup import get_litellm

    try:
        info: Any = get_litellm().get_model_info(cfg.model)
    except Exception:  # a model litellm has no card for (a local server's name)
        return cfg.window()
    value = info.get("max_input_tokens") or info.get("max_tokens")
    return value if isinstance(value, int) and value > 0 else cfg.window()


def count_tokens(model: str, messages: Sequence[dict[str, Any]]) -> int:
    """Tokens of `messages` for `model` by litellm's counter (chars/3 if it fails)."""
    return _count(model, tuple((m["role"], m.get("content") or "") for m in messages))


@lru_cache(maxsize=32)
def _count(model: str, messages: tuple[tuple[str, str], ...]) -> int:
    from attractor_tui.backends.litellm_setup import get_litellm

    listed = [{"role": role, "content": content} for role, content in messages]
    try:
        return int(get_litellm().token_counter(model=model, messages=listed))
    except Exception:
        return estimate_tokens(listed)


def opening_messages(config: SessionConfig, side: Side) -> list[dict[str, Any]]:
    """What `side`'s first call holds before any turn: its system prompt (and A's seed)."""
    return messages_for(config, side, [])


def prompt_problem(config: SessionConfig) -> str | None:
    """Why a side's opening prompt cannot fit its window, with both numbers and the ways out."""
    problems = []
    for side in SIDES:
        cfg = config.side(side)
        window = model_window(cfg)
        if window is None:
            continue
        room = window - min(cfg.max_tokens, window // 2)
        messages = opening_messages(config, side)
        if sum(len(m.get("content") or "") for m in messages) <= room:
            continue  # a token is at least a character: fits without counting
        tokens = count_tokens(cfg.model, messages)
        if tokens > room:
            what = "system prompt and seed are" if side == "A" else "system prompt is"
            if cfg.notes:
                what = ("system prompt, memory notes and seed are" if side == "A"
                        else "system prompt and memory notes are")
            problems.append(
                f"side {side}'s {what} {tokens:,} tokens but {cfg.model}'s window holds "
                f"{window:,} ({window - room:,} of them kept for the reply)")
    if not problems:
        return None
    return ("cannot start: " + "; ".join(problems) + ". Choose a model with a bigger window "
            "(--model-a/--model-b), or shorten the prompt")


def check_prompts_fit(config: SessionConfig) -> None:
    """Raise `PromptTooLong` when `prompt_problem` finds one."""
    problem = prompt_problem(config)
    if problem is not None:
        raise PromptTooLong(problem)


def explain_overflow(problem: Problem, config: SessionConfig, side: Side,
                     turns: Sequence[Turn], trims: Sequence[ContextTrim]) -> Problem:
    """A context-window error that says which part does not fit (estimates, chars/3)."""
    cfg = config.side(side)
    window = model_window(cfg)
    history = messages_for(config, side, turns, trims)
    system = estimate_tokens(history[:1]) if history and history[0]["role"] == "system" else 0
    total = estimate_tokens(history)
    of = f" of a {window:,}-token window" if window else ""
    if window and system > window - cfg.max_tokens:
        part = (f"the system prompt alone is about {system:,} tokens{of}: shorten it or choose "
                "a model with a bigger window")
    else:
        part = f"the history is about {total:,} tokens{of}, the system prompt {system:,} of them"
    return replace(problem, message=f"{problem.message} ({part})",
                   final=f"{problem.given_up} ({part})")
