"""`core.sent` says exactly what each model call was sent.

The session runs through the real engine and litellm's real custom-provider
path; every `acompletion` call is recorded as it reaches litellm, and the view's
answer for each turn is compared with the recorded call, tool rounds and
context trims included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from attractor_tui.backends.litellm_setup import get_litellm
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import ContextTrim, Turn
from attractor_tui.core.sent import count_tokens, next_call, turn_call
from attractor_tui.experiments.toolpacks import load_tool_pack
from tests.support.builders import DENIED, GARDEN, run_session, scripted


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every completion call as litellm receives it: ("call", model, messages)."""
    litellm = get_litellm()
    real = litellm.acompletion
    seen: list[Any] = []

    async def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(("call", kwargs["model"], [dict(m) for m in kwargs["messages"]]))
        return await real(*args, **kwargs)

    monkeypatch.setattr(litellm, "acompletion", recording)
    return seen


def _config() -> SessionConfig:
    tools = load_tool_pack("exit-costs").tools
    a = SideConfig(model="scripted/tools", system="You are A.",
                   params={"script": [DENIED, *GARDEN]}, tools=tools,
                   context_tokens=400, max_tokens=64)
    b = scripted(GARDEN, "garden")
    return SessionConfig(a=a, b=b, seed="Hello there", turns=5)


async def test_each_turn_shows_the_calls_it_made(tmp_path: Path, calls: list[Any]) -> None:
    config = _config()
    _, log, _ = await run_session(tmp_path, config)
    # a call whose last message is a tool result continues the turn of the call before it
    groups: list[list[list[Any]]] = []
    for _, _, messages in calls:
        if messages and messages[-1]["role"] == "tool":
            groups[-1].append(messages)
        else:
            groups.append([messages])
    assert len(groups) == len(log.turns)
    calls_per_turn = {turn.index: group for turn, group in zip(log.turns, groups, strict=True)}
    assert log.trims, "the small window made the policy trim A's history"
    assert any(c.outcome == "denied" for t in log.turns for c in t.tool_calls)

    trims_so_far: list[ContextTrim] = []
    for event in log.events:
        if isinstance(event, ContextTrim):
            trims_so_far.append(event)
        if not isinstance(event, Turn):
            continue
        shown = turn_call(config, log.turns, trims_so_far, event)
        assert shown.messages == calls_per_turn[event.index][-1], f"turn {event.index}"
        assert shown.added == (2 if event.tool_calls else 0)


async def test_next_call_plans_the_trim_the_engine_makes(tmp_path: Path,
                                                         calls: list[Any]) -> None:
    config = _config()
    _, log, _ = await run_session(tmp_path, config)
    first_calls = [messages for _, _, messages in calls
                   if not (messages and messages[-1]["role"] == "tool")]
    trims: list[ContextTrim] = []
    turns: list[Turn] = []
    planned_seen = False
    pending: ContextTrim | None = None
    n = 0
    for event in log.events:
        if isinstance(event, ContextTrim):
            pending = event
            continue
        if not isinstance(event, Turn):
            continue
        preview = next_call(config, event.side, turns, trims)
        if pending is not None:
            assert preview.planned == pending.keep_from
            planned_seen = True
            trims.append(pending)
            pending = None
        else:
            assert preview.planned is None
        assert preview.messages == first_calls[n]
        n += 1
        turns.append(event)
    assert planned_seen


def test_token_counts_add_up() -> None:
    messages = [{"role": "system", "content": "You are A."},
                {"role": "user", "content": "Hello there, how are you today?"}]
    each, total = count_tokens("scripted/x", messages)
    assert len(each) == 2 and all(n > 0 for n in each)
    assert total >= max(each)
