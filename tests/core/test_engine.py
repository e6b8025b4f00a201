"""The engine through litellm's real call path (scripted provider, mock_response)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import (
    EMPTY_PLACEHOLDER,
    ErrorEvent,
    OperatorAction,
    SessionEnd,
    StateChange,
    TextDelta,
    Turn,
)
from attractor_tui.core.history import messages_for
from attractor_tui.core.text import is_blank
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import load_session
from tests.support.builders import run_session, scripted
from tests.support.waiting import wait_until

A_SCRIPT = ["a0", "a1", "a2", "a3"]
B_SCRIPT = ["b0", "b1", "b2", "b3"]


def two_scripts(turns: int | None = 3, **kw: object) -> SessionConfig:
    return SessionConfig(a=scripted(A_SCRIPT), b=scripted(B_SCRIPT), turns=turns, **kw)


async def test_turn_limit_alternates_and_persists(tmp_path: Path) -> None:
    engine, log, events = await run_session(tmp_path, two_scripts(3))
    assert [(t.side, t.round, t.text) for t in log.turns] == [
        ("A", 0, "a0"), ("B", 0, "b0"), ("A", 1, "a1"), ("B", 1, "b1"), ("A", 2, "a2"),
        ("B", 2, "b2"),
    ]
    assert log.end is not None and log.end.reason == "turns"
    assert all(t.author == "model" for t in log.turns)
    # text arrives as streamed deltas, and their sum is the turn
    deltas = "".join(e.text for e in events if isinstance(e, TextDelta) and e.index == 0)
    assert deltas == "a0"


async def test_histories_are_exact_for_both_sides(tmp_path: Path) -> None:
    config = two_scripts(2)
    _, log, _ = await run_session(tmp_path, config)
    a = messages_for(config, "A", log.turns)
    b = messages_for(config, "B", log.turns)
    assert [(m["role"], m["content"]) for m in a] == [
        ("system", "You are a helpful assistant."), ("user", "Hello there."),
        ("assistant", "a0"), ("user", "b0"), ("assistant", "a1"), ("user", "b1"),
    ]
    assert [(m["role"], m["content"]) for m in b] == [
        ("system", "You are a helpful assistant."), ("user", "a0"), ("assistant", "b0"),
        ("user", "a1"), ("assistant", "b1"),
    ]


async def test_model_is_sent_exactly_the_rebuilt_history(tmp_path: Path) -> None:
    """The echo script replies with what it received, so the sent history is visible."""
    config = SessionConfig(a=scripted(name="echo"), b=scripted(name="echo"), turns=2)
    _, log, _ = await run_session(tmp_path, config)
    # echo N: counts the side's own earlier assistant messages: no duplicates
    assert [t.text.split(":")[0] for t in log.turns] == ["echo 0", "echo 0", "echo 1", "echo 1"]
    assert log.turns[1].text == "echo 0: echo 0: Hello there."


async def test_interjection_enters_both_histories(tmp_path: Path) -> None:
    config = two_scripts(2)
    path = tmp_path / "s.jsonl"
    async with open_session(config, path) as session:
        engine = session.engine
        await engine.interject("B", "operator speaking as B")
        await engine.run()
    log = load_session(path)
    b_turn = log.turns[1]
    assert (b_turn.side, b_turn.author, b_turn.text) == ("B", "operator", "operator speaking as B")
    a = messages_for(config, "A", log.turns)
    b = messages_for(config, "B", log.turns)
    assert {"role": "user", "content": "operator speaking as B"} in a
    assert {"role": "assistant", "content": "operator speaking as B"} in b
    assert sum(m["content"] == "operator speaking as B" for m in a + b) == 2
    assert [t.author for t in log.turns] == ["model", "operator", "model", "model"]


async def test_pause_resume_and_stop(tmp_path: Path) -> None:
    config = SessionConfig(a=scripted(A_SCRIPT, delay=0.01), b=scripted(B_SCRIPT, delay=0.01))
    path = tmp_path / "s.jsonl"
    states: list[str] = []
    turns: list[Turn] = []

    def listen(event: object) -> None:
        if isinstance(event, StateChange):
            states.append(event.state)
        if isinstance(event, Turn):
            turns.append(event)

    async with open_session(config, path, listeners=[listen]) as session:
        engine = session.engine
        task = asyncio.create_task(engine.run())
        await wait_until(None, lambda: len(turns) >= 1, what="a turn")
        await engine.pause()
        await asyncio.sleep(0.2)
        count = len(turns)
        assert engine.paused and count <= 2  # the turn in flight may finish, no new one starts
        await asyncio.sleep(0.1)
        assert len(turns) == count
        await engine.resume()
        await wait_until(None, lambda: len(turns) >= count + 2, what="two more turns")
        await engine.stop()
        end = await asyncio.wait_for(task, 5)
    assert end.reason == "operator"
    assert "paused" in states and states[-1] == "ended"
    log = load_session(path)
    actions = [a.action for a in log.operator_actions]
    assert actions[:2] == ["pause", "resume"] and actions[-1] == "stop"
    # alternation survives pause and resume
    complete = [t for t in log.turns if not t.interrupted]
    assert [t.side for t in complete] == ["A", "B"] * (len(complete) // 2) + (
        ["A"] if len(complete) % 2 else []
    )


async def test_stop_as_a_turn_starts_ends_the_run(tmp_path: Path) -> None:
    """A stop that comes while a turn is still being set up (its context fitted, before
    it begins) ends the run with the operator's reason, not with CancelledError (seen in
    CI when the stop fell right after a turn)."""
    config = SessionConfig(a=scripted(A_SCRIPT, delay=0.01), b=scripted(B_SCRIPT, delay=0.01))
    path = tmp_path / "s.jsonl"
    turns: list[Turn] = []
    async with open_session(config, path, listeners=[
            lambda e: turns.append(e) if isinstance(e, Turn) else None]) as session:
        engine = session.engine
        setting_up, release = asyncio.Event(), asyncio.Event()
        fit = engine._fit_context

        async def held_fit(side: str, force: bool = False) -> None:
            if turns:  # the second turn waits here, before it begins
                setting_up.set()
                await release.wait()
            await fit(side, force)  # type: ignore[arg-type]

        engine._fit_context = held_fit  # type: ignore[method-assign]
        task = asyncio.create_task(engine.run())
        await asyncio.wait_for(setting_up.wait(), 5)
        await engine.stop()
        release.set()
        end = await asyncio.wait_for(task, 5)
    assert end.reason == "operator"
    log = load_session(path)
    assert [t.interrupted for t in log.turns] == [False, True]  # begun, and ended at once


async def test_commands_before_run_are_written_after_the_first_line(tmp_path: Path) -> None:
    """The app may pause or interject while litellm is still importing: the file
    must still open with `session_start` (found by trying it in tmux)."""
    config = SessionConfig(a=scripted(["hi"]), b=scripted(["yo"]), turns=1)
    path = tmp_path / "s.jsonl"
    async with open_session(config, path) as session:
        engine = session.engine
        await engine.pause()
        await engine.interject("B", "operator text")
        await engine.resume()
        await asyncio.wait_for(engine.run(), 5)
    log = load_session(path)  # raises if the first line is not session_start
    assert [e.type for e in log.events[:5]] == [
        "session_start", "operator", "operator", "operator", "turn"]
    assert [a.action for a in log.operator_actions] == ["pause", "queue", "resume"]
    assert [(t.side, t.author) for t in log.turns] == [("A", "model"), ("B", "operator")]


async def test_pause_now_keeps_partial_text_and_regenerates_slot(tmp_path: Path) -> None:
    long = "x" * 400
    config = SessionConfig(a=scripted([long], delay=0.005, chunk_size=2),
                           b=scripted(B_SCRIPT), turns=1)
    path = tmp_path / "s.jsonl"
    async with open_session(config, path) as session:
        engine = session.engine
        task = asyncio.create_task(engine.run())
        await wait_until(None, lambda: engine.generating == "A", what="A generating")
        await asyncio.sleep(0.05)
        await engine.pause(now=True)
        await asyncio.sleep(0.05)
        assert engine.state == "paused"
        await engine.resume()
        await asyncio.wait_for(task, 10)
    log = load_session(path)
    first = log.turns[0]
    assert first.interrupted and 0 < len(first.text) < 400
    assert [(t.side, t.interrupted) for t in log.turns] == [("A", True), ("A", False), ("B", False)]
    assert log.turns[1].text == long
    # the aborted attempt is never delivered to B
    b = messages_for(config, "B", log.turns)
    assert [m["content"] for m in b if m["role"] == "user"] == [long]


async def test_interject_now_replaces_generating_turn(tmp_path: Path) -> None:
    config = SessionConfig(a=scripted(["y" * 400], delay=0.005, chunk_size=2),
                           b=scripted(B_SCRIPT), turns=1)
    path = tmp_path / "s.jsonl"
    async with open_session(config, path) as session:
        engine = session.engine
        task = asyncio.create_task(engine.run())
        await wait_until(None, lambda: engine.generating == "A", what="A generating")
        await asyncio.sleep(0.03)
        await engine.interject("A", "the operator takes over", now=True)
        await asyncio.wait_for(task, 10)
    log = load_session(path)
    assert [(t.side, t.author, t.interrupted) for t in log.turns] == [
        ("A", "model", True), ("A", "operator", False), ("B", "model", False),
    ]
    assert messages_for(config, "B", log.turns)[1]["content"] == "the operator takes over"


@pytest.mark.parametrize("reply", ["", "\u200b", "\u200e", "\u3164", "  \n "])
async def test_empty_or_invisible_reply_gets_visible_placeholder(
    tmp_path: Path, reply: str
) -> None:
    config = SessionConfig(a=scripted([reply]), b=scripted(name="echo"), turns=1)
    _, log, _ = await run_session(tmp_path, config)
    a_turn, b_turn = log.turns
    assert a_turn.text == reply and a_turn.sent_text == EMPTY_PLACEHOLDER
    assert b_turn.text == f"echo 0: {EMPTY_PLACEHOLDER}"
    assert all(m["content"] for m in messages_for(config, "A", log.turns))


def test_is_blank() -> None:
    assert is_blank("\u200b\u200e \u3164\n")
    assert not is_blank("\u200b.")


async def test_rate_limit_is_retried_then_reported(tmp_path: Path) -> None:
    config = SessionConfig(
        a=SideConfig(model="openai/gpt-4o-mini",
                     params={"mock_response": "litellm.RateLimitError"}),
        b=scripted(B_SCRIPT), turns=1, num_retries=2,
    )
    _, log, _ = await run_session(tmp_path, config, backoff=0)
    errors = log.errors
    assert [e.retryable for e in errors] == [True, True, False]
    assert errors[0].message == "rate limited (attempt 1 of 3), retrying in 4 s"
    assert errors[-1].kind == "rate_limit"
    assert log.end is not None and log.end.reason == "error"


async def test_missing_key_gives_plain_message_and_valid_file(tmp_path: Path) -> None:
    config = SessionConfig(a=SideConfig(model="openai/gpt-4o-mini"), b=scripted(B_SCRIPT),
                           turns=1, num_retries=0)
    _, log, _ = await run_session(tmp_path, config)
    assert log.errors[-1].message == "No API key for openai: set OPENAI_API_KEY"
    assert log.end is not None and log.end.reason == "error"


async def test_missing_anthropic_key(tmp_path: Path) -> None:
    config = SessionConfig(a=SideConfig(model="anthropic/claude-haiku-4-5"), b=scripted(B_SCRIPT),
                           turns=1, num_retries=0)
    _, log, _ = await run_session(tmp_path, config)
    assert log.errors[-1].message == "No API key for anthropic: set ANTHROPIC_API_KEY"


async def test_error_pause_policy_then_retry(tmp_path: Path) -> None:
    """In the app, an error pauses the session; retry generates the same slot again."""
    bad = SideConfig(model="openai/x", params={"mock_response": "litellm.InternalServerError"})
    config = SessionConfig(a=bad, b=scripted(B_SCRIPT), turns=1, num_retries=0)
    path = tmp_path / "s.jsonl"
    seen: list[object] = []
    async with open_session(config, path, on_error="pause", listeners=[seen.append]) as session:
        engine = session.engine
        task = asyncio.create_task(engine.run())
        await wait_until(None, lambda: any(isinstance(e, ErrorEvent) for e in seen),
                         what="an error")
        await asyncio.sleep(0.02)
        assert engine.paused and not task.done()
        engine.config.a.params["mock_response"] = "recovered"
        await engine.retry()
        await asyncio.wait_for(task, 5)
    log = load_session(path)
    assert [t.text for t in log.turns] == ["recovered", "b0"]
    assert log.errors and log.end is not None and log.end.reason == "turns"
    assert any(isinstance(e, OperatorAction) and e.action == "retry" for e in log.events)


async def test_mock_response_stream_through_litellm(tmp_path: Path) -> None:
    config = SessionConfig(
        a=SideConfig(model="openai/gpt-4o-mini", params={"mock_response": "Hi from A"}),
        b=SideConfig(model="anthropic/claude-x", params={"mock_response": "Hi from B"}),
        turns=2,
    )
    _, log, events = await run_session(tmp_path, config)
    assert [t.text for t in log.turns] == ["Hi from A", "Hi from B"] * 2
    assert sum(isinstance(e, TextDelta) for e in events) >= 8  # 3-character mock chunks
    assert isinstance(log.events[-1], SessionEnd)


async def test_tool_call_deltas_are_assembled(tmp_path: Path) -> None:
    script = [{"text": "I will leave.", "tool_calls": [
        {"name": "end_conversation", "arguments": {"reason": "we are looping"}}]}]
    config = SessionConfig(a=scripted(script), b=scripted(B_SCRIPT), turns=1)
    _, log, _ = await run_session(tmp_path, config)
    call = log.turns[0].tool_calls[0]
    assert (call.name, call.outcome) == ("end_conversation", "unknown")  # no pack offered it
    assert '"reason": "we are looping"' in call.arguments
    b = messages_for(config, "B", log.turns)
    assert b[1] == {"role": "user", "content": "I will leave."}


async def test_no_api_key_reaches_the_session_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-123456")
    config = SessionConfig(
        a=SideConfig(model="openai/gpt-4o-mini", params={"mock_response": "ok"}),
        b=scripted(B_SCRIPT), turns=1,
    )
    _, log, _ = await run_session(tmp_path, config)
    assert "SECRET" not in log.path.read_text()
    with pytest.raises(ValueError, match="API keys in environment"):
        SideConfig(model="openai/x", params={"api_key": "sk-abc"})


def test_history_cache_equals_full_rebuild() -> None:
    """The engine's incremental histories are exactly `messages_for`, step by step."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from attractor_tui.core.events import ContextTrim, ToolCallRecord
    from attractor_tui.core.history import HistoryCache

    step = st.tuples(
        st.booleans(), st.booleans(), st.booleans(), st.sampled_from(["", "hi", "\u200b"]),
        st.booleans(),
    )

    @settings(max_examples=60, deadline=None)
    @given(st.lists(step, max_size=25))
    def check(steps: list[tuple[bool, bool, bool, str, bool]]) -> None:
        config = SessionConfig()
        cache = HistoryCache(config)
        turns: list[Turn] = []
        trims: list[ContextTrim] = []
        for n, (interrupted, operator, tool, text, trim) in enumerate(steps):
            side = "A" if sum(not t.interrupted for t in turns) % 2 == 0 else "B"
            calls = [ToolCallRecord(name="t", arguments="{}", outcome="denied", result="no",
                                    offset=len(text))] if tool else []
            turns.append(Turn(index=n, round=n // 2, side=side, text=text,
                              author="operator" if operator else "model",
                              sent_text=EMPTY_PLACEHOLDER if is_blank(text) else None,
                              interrupted=interrupted, tool_calls=calls))
            if trim:
                trims.append(ContextTrim(side=side, action="truncate", keep_from=n // 2))
            for s in ("A", "B"):
                assert cache.messages(s, turns, trims) == messages_for(config, s, turns, trims)

    check()


@pytest.mark.slow
@pytest.mark.usefixtures("embedded_model")
async def test_engine_with_the_real_embedded_model(tmp_path: Path) -> None:
    """Two rounds with the local SmolLM2 through litellm's custom provider path."""
    side = SideConfig(model="embedded/smollm2-135m", max_tokens=24, temperature=0)
    config = SessionConfig(a=side, b=side.model_copy(), turns=2)
    _, log, events = await run_session(tmp_path, config)
    assert [t.side for t in log.turns] == ["A", "B", "A", "B"]
    assert all(t.text.strip() and not t.interrupted for t in log.turns)
    assert all(t.usage and t.usage.completion_tokens > 0 for t in log.turns)
    assert sum(isinstance(e, TextDelta) for e in events) > 8  # it streamed
    assert log.end is not None and log.end.reason == "turns"
