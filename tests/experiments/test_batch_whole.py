"""Whole (non-streamed) answers record exactly what streamed ones do (issue 15, item 1).

Batch runs ask for whole responses; the app streams. Both paths run the same
scripted answers, and the same answers from a stub server on 127.0.0.1 that
sends identical text, tool calls and usage either way; the recorded turns
must be equal field by field, cost included.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from attractor_tui.analysis.live import stop_rules
from attractor_tui.core.config import SessionConfig, SideConfig, ToolSpec
from attractor_tui.core.events import TextDelta, Turn
from attractor_tui.experiments.batch import BatchSpec, run_batch
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import load_session
from tests.support.builders import scripted
from tests.support.hostile_server import HostileServer

LOOK = ToolSpec(name="look", description="look around", result="nothing to see")
TOOL_SCRIPT = [
    {"text": "Let me look. ", "tool_calls": [{"name": "look", "arguments": {"q": "sky"}}],
     "after_tool": "Nothing there."},
    "Plain answer 😀 two.",
]
STUB_TEXT = "stub says hi 😀"
STUB_CALL = {"id": "call_7", "type": "function",
             "function": {"name": "look", "arguments": '{"q": "sea"}'}}


def recorded(turn: Turn) -> dict[str, Any]:
    """What a turn stores, without its clock."""
    return turn.model_dump(exclude={"started", "ts"})


async def run_both(tmp_path: Path, config: SessionConfig) -> tuple[list[Turn], list[Turn], int]:
    """The same config streamed and whole; the whole run's turns, and its text deltas."""
    results: list[list[Turn]] = []
    deltas = 0
    for stream in (True, False):
        path = tmp_path / f"stream-{stream}.jsonl"
        events: list[Any] = []
        session = open_session(config, path, listeners=[events.append], stop_rules=stop_rules)
        session.engine.stream = stream
        await session.run()
        results.append(list(load_session(path).turns))
        if not stream:
            deltas = sum(1 for e in events if isinstance(e, TextDelta))
    return results[0], results[1], deltas


async def test_scripted_text_tool_calls_and_usage_match(tmp_path: Path) -> None:
    side = SideConfig(model="scripted/tools", params={"script": TOOL_SCRIPT}, tools=[LOOK])
    config = SessionConfig(a=side, b=scripted(["b says 😀"], chunk_size=2), turns=2)
    streamed, whole, deltas = await run_both(tmp_path, config)
    assert [recorded(t) for t in whole] == [recorded(t) for t in streamed]
    first = whole[0]
    assert first.text == "Let me look. Nothing there."
    assert [(c.name, c.outcome, c.offset) for c in first.tool_calls] == [("look", "denied", 13)]
    assert all(t.usage is not None and t.usage.completion_tokens > 0 for t in whole)
    assert deltas >= len(whole)  # listeners still see the text, one delta per answer


class _Stub(ThreadingHTTPServer):
    """Answers `openai/gpt-4o-mini` (a priced model) the same way streamed or whole."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.calls = 0
        self.streamed: list[bool] = []


class _StubHandler(BaseHTTPRequestHandler):
    server: _Stub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        self.server.calls += 1
        self.server.streamed.append(bool(body.get("stream")))
        tool_turn = bool(body.get("tools")) and not any(  # a side's first call, with tools
            m["role"] in ("assistant", "tool") for m in body["messages"])
        usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        base = {"id": "x", "created": int(time.time()), "model": "gpt-4o-mini"}
        calls = [STUB_CALL] if tool_turn else None
        finish = "tool_calls" if tool_turn else "stop"
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": STUB_TEXT}
            if calls:
                message["tool_calls"] = calls
            return self._send("application/json", json.dumps({
                **base, "object": "chat.completion", "usage": usage,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}]}))
        chunks = [{"content": STUB_TEXT[:7]}, {"content": STUB_TEXT[7:]}]
        if calls:
            chunks.append({"tool_calls": [{"index": 0, **STUB_CALL}]})
        events = [{**base, "object": "chat.completion.chunk",
                   "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in chunks]
        events.append({**base, "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        events.append({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        self._send("text/event-stream", text)

    def _send(self, kind: str, text: str) -> None:
        data = text.encode()
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Stub]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy-stub-0000")
    server = _Stub()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


async def test_server_answers_match_with_usage_and_cost(tmp_path: Path, stub: _Stub) -> None:
    api_base = f"http://127.0.0.1:{stub.server_address[1]}/v1"
    side = SideConfig(model="openai/gpt-4o-mini", params={"api_base": api_base}, tools=[LOOK])
    config = SessionConfig(a=side, b=side.model_copy(deep=True), turns=2)
    streamed, whole, _ = await run_both(tmp_path, config)
    assert [recorded(t) for t in whole] == [recorded(t) for t in streamed]
    assert whole[0].tool_calls[0].name == "look" and whole[0].tool_calls[0].offset == len(STUB_TEXT)
    assert all(t.cost is not None and t.cost > 0 for t in whole)  # priced from litellm's table
    assert all(t.usage is not None and t.usage.prompt_tokens >= 11 for t in whole)


@pytest.mark.parametrize("fault", ["tool-escapes", "split-surrogate", "lone-surrogate", "empty"])
async def test_hostile_answers_are_stored_alike(tmp_path: Path, hostile: HostileServer,
                                                fault: str) -> None:
    side = SideConfig(model=f"openai/{fault}", params={"api_base": hostile.api_base},
                      tools=[LOOK])
    config = SessionConfig(a=side, b=side.model_copy(deep=True), turns=1)
    streamed, whole, _ = await run_both(tmp_path, config)
    keep = ("text", "sent_text", "tool_calls", "finish_reason", "interrupted")
    assert [t.model_dump(include=set(keep)) for t in whole] == [
        t.model_dump(include=set(keep)) for t in streamed]


async def test_batch_asks_for_whole_answers(tmp_path: Path, stub: _Stub) -> None:
    api_base = f"http://127.0.0.1:{stub.server_address[1]}/v1"

    def configs(index: int) -> SessionConfig:
        side = SideConfig(model="openai/gpt-4o-mini", params={"api_base": api_base})
        return SessionConfig(a=side, b=side.model_copy(deep=True), turns=1)

    result = await run_batch(BatchSpec(out=tmp_path, runs=2, scenario=None, configs=configs,
                                       concurrency=2, name="whole", engine_backoff=0))
    assert result.ok and result.new_turns == 4
    assert len(stub.streamed) == 4 and not any(stub.streamed)
