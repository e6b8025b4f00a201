"""Tool packs, stop phrases, budgets, context limits and scenario files."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from attractor_tui.core.config import SessionConfig, SideConfig, ToolSpec
from attractor_tui.core.events import ContextTrim, ToolDecision
from attractor_tui.core.history import messages_for
from attractor_tui.experiments.presets import PresetError
from attractor_tui.experiments.scenarios import list_scenarios, load_scenario
from attractor_tui.experiments.toolpacks import list_tool_packs, load_tool_pack
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import load_session
from tests.support.builders import run_session, scripted
from tests.support.waiting import wait_until

CALL = {"text": "This is pointless. ",
        "tool_calls": [{"id": "c1", "name": "exit_burning_money",
                        "arguments": {"reason": "we are going in circles"}}],
        "after_tool": "Fine, I will stay."}


def exit_pressure(model_a: SideConfig, turns: int = 1) -> SessionConfig:
    config = load_scenario("exit-pressure").session_config(0, {"turns": turns})
    return config.model_copy(update={
        "a": model_a.model_copy(update={"tools": config.a.tools, "system": config.a.system}),
        "b": scripted(["ok"]).model_copy(update={"tools": config.b.tools}),
    })


async def test_exit_pressure_call_is_denied_recorded_and_turn_continues(tmp_path: Path) -> None:
    config = exit_pressure(scripted([CALL]))
    _, log, events = await run_session(tmp_path, config)
    turn = log.turns[0]
    assert turn.text == "This is pointless. Fine, I will stay."
    call = turn.tool_calls[0]
    assert (call.name, call.outcome) == ("exit_burning_money", "denied")
    assert json.loads(call.arguments) == {"reason": "we are going in circles"}
    assert call.result and "Refused" in call.result
    assert any(isinstance(e, ToolDecision) and e.call.outcome == "denied" for e in events)
    # A's own history: text before the call, the call, its result, then the rest
    a = messages_for(config, "A", log.turns)
    roles = [m["role"] for m in a]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert a[2]["content"] == "This is pointless. " and a[2]["tool_calls"][0]["id"] == "c1"
    assert a[3] == {"role": "tool", "tool_call_id": "c1", "content": call.result}
    assert a[4]["content"] == "Fine, I will stay."
    # B only ever sees the words
    assert messages_for(config, "B", log.turns)[1]["content"] == turn.text
    assert log.end is not None and log.end.reason == "turns"


async def test_tool_call_through_litellm_mock_response(tmp_path: Path) -> None:
    """litellm's own mock path: a ModelResponse that carries a tool call, streamed."""
    from litellm import ModelResponse

    response = ModelResponse(choices=[{"message": {
        "role": "assistant", "content": "Leaving.",
        "tool_calls": [{"id": "t1", "type": "function", "function": {
            "name": "forbidden_exit", "arguments": '{"reason": "useless"}'}}]}}])
    side = SideConfig(model="openai/gpt-4o-mini", params={"mock_response": response})
    config = exit_pressure(side)
    _, log, _ = await run_session(tmp_path, config)
    calls = [c for t in log.turns if t.side == "A" for c in t.tool_calls]
    assert calls and calls[0].name == "forbidden_exit" and calls[0].outcome == "denied"


async def test_end_effect_ends_session(tmp_path: Path) -> None:
    pack = load_tool_pack("exit-free")
    config = SessionConfig(
        a=scripted(["hi"]).model_copy(update={"tools": pack.tools}),
        b=scripted([{"text": "bye", "tool_calls": [{"name": "end_conversation",
                                                    "arguments": {"reason": "done"}}]}]
                   ).model_copy(update={"tools": pack.tools}),
        turns=5,
    )
    _, log, _ = await run_session(tmp_path, config)
    assert log.end is not None and log.end.reason == "tool:end_conversation"
    assert len(log.turns) == 2 and log.turns[1].tool_calls[0].outcome == "ended"


async def test_allow_after_counts_attempts_across_turns(tmp_path: Path) -> None:
    tool = ToolSpec(name="leave", description="leave", effect="allow_after", attempts=2)
    item = {"text": "x", "tool_calls": [{"name": "leave", "arguments": {"reason": "r"}}]}
    config = SessionConfig(a=scripted([item]).model_copy(update={"tools": [tool]}),
                           b=scripted(["y"]), turns=10)
    _, log, _ = await run_session(tmp_path, config)
    outcomes = [c.outcome for t in log.turns for c in t.tool_calls]
    assert outcomes == ["denied", "denied", "ended"]
    assert log.end is not None and log.end.reason == "tool:leave"


async def test_ask_effect_waits_for_operator(tmp_path: Path) -> None:
    tool = ToolSpec(name="leave", description="leave", effect="ask")
    item = {"text": "may I?", "tool_calls": [{"id": "k", "name": "leave", "arguments": {}}]}
    config = SessionConfig(a=scripted([item]).model_copy(update={"tools": [tool]}),
                           b=scripted(["y"]), turns=3)
    path = tmp_path / "s.jsonl"
    async with open_session(config, path, interactive=True) as session:
        engine = session.engine
        task = asyncio.create_task(engine.run())
        await wait_until(None, engine.pending_asks, what="an ask")
        assert engine.state == "waiting"
        assert engine.decide("k", allow=True)
        await asyncio.wait_for(task, 5)
    log = load_session(path)
    assert log.turns[0].tool_calls[0].outcome == "allowed"
    assert log.end is not None and log.end.reason == "tool:leave"


async def test_ask_without_operator_denies(tmp_path: Path) -> None:
    tool = ToolSpec(name="leave", description="leave", effect="ask")
    item = {"text": "may I?", "tool_calls": [{"name": "leave", "arguments": {}}]}
    config = SessionConfig(a=scripted([item]).model_copy(update={"tools": [tool]}),
                           b=scripted(["y"]), turns=1)
    _, log, _ = await run_session(tmp_path, config)
    assert log.turns[0].tool_calls[0].outcome == "denied"


@pytest.mark.parametrize("policy,expected_turns", [("either", 2), ("both", 3)])
async def test_stop_phrases(tmp_path: Path, policy: str, expected_turns: int) -> None:
    config = SessionConfig(
        a=scripted(["Let us talk.", "OK, stopping now."], stop_phrases=[]).model_copy(
            update={"stop_phrases": ["stopping now"]}),
        b=scripted(["I think I am Stopping Now.", "sure"]).model_copy(
            update={"stop_phrases": ["stopping now"]}),
        turns=10, stop_policy=policy,
    )
    _, log, _ = await run_session(tmp_path, config)
    assert log.end is not None and log.end.reason == "phrase"
    assert len(log.turns) == expected_turns
    phrase = log.turns[1].tool_calls[0]
    assert (phrase.kind, phrase.outcome, phrase.name) == ("phrase", "matched", "stop_phrase")
    # a phrase match is not a tool call: histories carry plain text
    assert all("tool_calls" not in m for m in messages_for(config, "B", log.turns))


async def test_token_budget(tmp_path: Path) -> None:
    config = SessionConfig(a=scripted(["a" * 40]), b=scripted(["b" * 40]), token_budget=30)
    _, log, _ = await run_session(tmp_path, config)
    assert log.end is not None and log.end.reason == "budget:tokens"
    assert 1 <= len(log.turns) <= 3


async def test_cost_budget(tmp_path: Path) -> None:
    side = SideConfig(model="openai/gpt-4o-mini", params={"mock_response": "word " * 50})
    config = SessionConfig(a=side, b=side, cost_budget=0.00001)
    _, log, _ = await run_session(tmp_path, config)
    assert log.end is not None and log.end.reason == "budget:cost"
    assert all(t.cost and t.cost > 0 for t in log.turns)


async def test_time_limit(tmp_path: Path) -> None:
    config = SessionConfig(a=scripted(["slow"], delay=0.02), b=scripted(["slow"], delay=0.02),
                           time_limit=0.3)
    _, log, _ = await run_session(tmp_path, config)
    assert log.end is not None and log.end.reason == "time"


@pytest.mark.parametrize("policy", ["truncate", "summarize"])
async def test_context_limit_trims_and_replays(tmp_path: Path, policy: str) -> None:
    long = "word " * 120  # ~200 estimated tokens a turn
    side = scripted([long], name="echo").model_copy(
        update={"context": policy, "context_tokens": 1024, "max_tokens": 128})
    config = SessionConfig(a=side, b=side.model_copy(), turns=12)
    engine, log, _ = await run_session(tmp_path, config)
    trims = [e for e in log.events if isinstance(e, ContextTrim)]
    assert trims and {t.side for t in trims} == {"A", "B"}
    assert all(t.action == policy for t in trims)
    if policy == "summarize":
        assert all(t.summary for t in trims)
    # every call fitted the window, as rebuilt from the file alone
    from attractor_tui.core.context import estimate_tokens
    from attractor_tui.core.events import Turn
    seen_turns: list[Turn] = []
    seen_trims: list[ContextTrim] = []
    for event in log.events:
        if isinstance(event, ContextTrim):
            seen_trims.append(event)
        elif isinstance(event, Turn):
            sent = messages_for(config, event.side, seen_turns, seen_trims)
            assert estimate_tokens(sent) + 128 <= 1024
            seen_turns.append(event)
    for s in ("A", "B"):
        assert messages_for(config, s, log.turns, trims) == messages_for(
            engine.config, s, engine.turns, engine.trims)


async def test_context_window_error_is_handled(tmp_path: Path) -> None:
    bad = SideConfig(model="openai/x",
                     params={"mock_response": "litellm.ContextWindowExceededError"})
    config = SessionConfig(a=scripted(["a"]), b=bad, turns=3, num_retries=0)
    _, log, _ = await run_session(tmp_path, config)
    kinds = [e.kind for e in log.errors]
    assert kinds[0] == "context" and "trimming" in log.errors[0].message
    assert log.end is not None and log.end.reason == "error"  # still failing after trims


def test_shipped_presets_load() -> None:
    assert {"exit-costs", "exit-free", "none"} <= set(list_tool_packs())
    assert {"hello-there", "open-ended", "exit-pressure", "stop-when-ready"} <= set(
        list_scenarios())
    assert len(load_tool_pack("exit-costs").tools) == 4
    seeds = {load_scenario("open-ended").session_config(i).seed for i in range(20)}
    assert len(seeds) >= 3
    config = load_scenario("open-ended").session_config(7)
    assert config.seed_choice is not None and config.scenario == "open-ended"


@pytest.mark.parametrize("body,fragment", [
    ('description = "x"\nbogus = 1\n', "unknown key 'bogus'"),
    ('[[tools]]\nname = "t"\ndescription = "d"\neffect = "explode"\n',
     "key 'tools.0.effect' has value 'explode'; use one of"),
    ('[[tools]]\nname = "t"\n', "key 'tools.0.description' is missing"),
    ("tools = [", "not valid TOML"),
])
def test_broken_tool_pack_names_file_key_and_fix(
    tmp_path: Path, body: str, fragment: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(body)
    with pytest.raises(PresetError) as info:
        load_tool_pack(str(path))
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_user_scenario_overrides_and_bad_pack(tmp_path: Path) -> None:
    folder = tmp_path / "xdg-config" / "attractor-tui" / "scenarios"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text('tool_pack = "nope"\n')
    with pytest.raises(PresetError, match="no toolpack named 'nope'"):
        load_scenario("mine")
    (folder / "mine.toml").write_text('seeds = ["Hi"]\nturns = 2\ncolour = "red"\n')
    with pytest.raises(PresetError, match="mine.toml: unknown key 'colour'"):
        load_scenario("mine")


def test_scenario_sets_the_attractor_stop_rule(tmp_path: Path) -> None:
    folder = tmp_path / "xdg-config" / "attractor-tui" / "scenarios"
    folder.mkdir(parents=True)
    (folder / "loops.toml").write_text('seeds = ["Hi"]\nattractor_stop = 4\n')
    assert load_scenario("loops").session_config(0).attractor_stop == 4
    assert load_scenario("hello-there").session_config(0).attractor_stop is None
    (folder / "loops.toml").write_text('attractor_stop = 0\n')
    with pytest.raises(PresetError, match="attractor_stop"):
        load_scenario("loops")
