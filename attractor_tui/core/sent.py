"""What each side is sent: the engine's own builders, replayed for showing.

The context view answers "what does A actually see?". It takes the answer
from the functions the engine calls around each model call
(`context.plan_keep_from` before it, `history.messages_for` for it,
`history.tool_round_messages` between tool rounds), never from a copy, so the
view cannot disagree with what was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from attractor_tui.core.config import SessionConfig, Side
from attractor_tui.core.context import estimate_tokens, plan_keep_from
from attractor_tui.core.engine import MAX_TOOL_ROUNDS
from attractor_tui.core.events import ContextTrim, Turn
from attractor_tui.core.history import Message, messages_for, tool_round_messages

CallKind = Literal["next", "now", "turn"]
"""`next`: what the side will be sent next; `now`: what its call in progress
was sent; `turn`: what the call that wrote a stored turn was sent."""

TOKENIZER = "litellm token_counter"
"""Who counts the tokens shown: litellm's counter uses the model's own
tokenizer where litellm knows it, else tiktoken's cl100k_base (so for the
embedded and scripted models it is an estimate)."""


@dataclass(frozen=True)
class SentCall:
    """One model call's input: the messages, and what the context policy did to them."""

    side: Side
    kind: CallKind
    messages: list[Message]
    model: str
    window: int | None
    """The context window the policy keeps to (None: the model's own, not known here)."""
    policy: str
    trim: ContextTrim | None = None
    """The newest trim in effect for this side (dropped turns, memory note)."""
    planned: int | None = None
    """`next` only: the policy drops the turns before this index before the call."""
    turn: Turn | None = None
    """`turn` only: the turn this call wrote."""
    added: int = 0
    """Messages at the end that the turn itself added (its tool calls and their results)."""
    tools: list[dict[str, Any]] = field(default_factory=list)
    """Tool schemas offered with the call."""

    @property
    def estimate(self) -> int:
        """The policy's own (pessimistic) estimate, the figure it trims by."""
        return estimate_tokens(self.messages)


def _latest_trim(side: Side, trims: Sequence[ContextTrim]) -> ContextTrim | None:
    return next((t for t in reversed(trims) if t.side == side), None)


def next_call(
    config: SessionConfig, side: Side, turns: Sequence[Turn], trims: Sequence[ContextTrim],
    *, now: bool = False,
) -> SentCall:
    """What `side` is sent on its next call (`now`: on the call it is making).

    For a next call the context policy runs first, as in `Engine._fit_context`:
    when it would trim, the messages are shown as trimmed (a summary is only
    written at call time, so a planned summary shows as a plain cut).
    """
    cfg = config.side(side)
    trims = list(trims)
    planned: int | None = None
    if not now and cfg.context != "none":
        planned = plan_keep_from(config, side, turns, trims)
        if planned is not None:
            trims.append(ContextTrim(side=side, action="truncate", keep_from=planned))
    return SentCall(
        side=side, kind="now" if now else "next",
        messages=messages_for(config, side, turns, trims), model=cfg.model,
        window=cfg.window(), policy=cfg.context, trim=_latest_trim(side, trims),
        planned=planned, tools=[t.openai_schema() for t in cfg.tools],
    )


def turn_call(
    config: SessionConfig, turns: Sequence[Turn], trims: Sequence[ContextTrim], turn: Turn,
) -> SentCall:
    """What the last call that wrote `turn` was sent.

    `trims` are those recorded before `turn`. A turn that made tool calls was
    written by several calls; the last one also carried the earlier rounds'
    calls and results, rebuilt with the engine's `tool_round_messages`. (Two
    rounds with no text between them share an offset and show as one.)
    """
    side, cfg = turn.side, config.side(turn.side)
    before = [t for t in turns if t.index < turn.index]
    messages = messages_for(config, side, before, trims)
    base = len(messages)
    rounds: dict[int, list[Any]] = {}
    for call in turn.tool_calls:
        if call.kind == "tool":
            rounds.setdefault(call.offset, []).append(call)
    for number, offset in enumerate(sorted(rounds)):
        records = rounds[offset]
        if number >= MAX_TOOL_ROUNDS - 1 or any(
            r.outcome in ("ended", "allowed") for r in records
        ):
            break  # the engine made no further call after this round
        segment = Turn(index=turn.index, round=turn.round, side=side,
                       text=turn.text[:offset], tool_calls=records)
        messages.extend(tool_round_messages(segment))
    return SentCall(
        side=side, kind="turn", messages=messages, model=turn.model or cfg.model,
        window=cfg.window(), policy=cfg.context, trim=_latest_trim(side, trims), turn=turn,
        added=len(messages) - base, tools=[t.openai_schema() for t in cfg.tools],
    )


def last_model_turn(turns: Sequence[Turn], side: Side) -> Turn | None:
    """`side`'s newest turn that a model call wrote (interrupted ones too: they were sent)."""
    return next((t for t in reversed(turns) if t.side == side and t.author == "model"), None)


def count_tokens(model: str, messages: Sequence[Message]) -> tuple[list[int], int]:
    """Tokens per message and for the whole call, by `TOKENIZER` (imports litellm)."""
    from attractor_tui.backends.litellm_setup import get_litellm

    litellm = get_litellm()
    each = [int(litellm.token_counter(model=model, messages=[m])) for m in messages]
    total = int(litellm.token_counter(model=model, messages=list(messages))) if messages else 0
    return each, total


def model_window(model: str) -> int | None:
    """The model's input window from litellm's offline price map, when it knows it."""
    from attractor_tui.backends.litellm_setup import get_litellm

    try:
        info = get_litellm().get_model_info(model)
    except Exception:  # litellm does not know this model
        return None
    value = info.get("max_input_tokens") or info.get("max_tokens")
    return int(value) if value else None
