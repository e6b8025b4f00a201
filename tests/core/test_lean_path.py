"""`openai/NAME` with an `api_base` takes litellm's lean path and stores the same file
(issue 28, item 1).

Whole (batch) calls to an OpenAI-compatible server go through litellm's own HTTP
handler (`hosted_vllm/`) instead of the OpenAI SDK client. The same stub answers,
taken both ways, must give the same session file field by field: text, tool
calls, usage, cost, finish reasons, and the same errors, retries and waits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from attractor_tui.analysis.live import stop_rules
from attractor_tui.backends import litellm_setup
from attractor_tui.backends.litellm_setup import lean_call
from attractor_tui.core.config import SessionConfig, SideConfig, ToolSpec
from attractor_tui.sessions.runner import open_session
from tests.support.hostile_server import DUMMY_KEY, HostileServer

LOOK = ToolSpec(name="look", description="look around", result="nothing to see")
VOLATILE = {"ts", "started", "session_id"}


def _plain(value: Any) -> Any:
    """An event line without its clocks and id, to compare two runs."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def _run(tmp_path: Path, name: str, config: SessionConfig) -> list[dict[str, Any]]:
    path = tmp_path / f"{name}.jsonl"
    session = open_session(config, path, stop_rules=stop_rules, on_error="stop", backoff=0)
    session.engine.stream = False
    await session.run()
    return [_plain(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]


async def _both_routes(tmp_path: Path, hostile: HostileServer, config: SessionConfig,
                       monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any]]:
    """The session run on the lean path, then on the openai path; asserts which was taken."""
    lean = await _run(tmp_path, "lean", config)
    lean_agents, calls = list(hostile.agents), list(hostile.calls)
    hostile.agents.clear()
    hostile.calls.clear()
    with monkeypatch.context() as patch:
        patch.setattr(litellm_setup, "lean_call", lambda model, params, tools=None: (model, {}))
        sdk = await _run(tmp_path, "sdk", config)
    assert lean_agents and not any("OpenAI/Python" in a for a in lean_agents)
    assert hostile.agents and all("OpenAI/Python" in a for a in hostile.agents)
    assert hostile.calls == calls  # the same requests, retries included
    return lean, sdk


def _side(hostile: HostileServer, name: str, **fields: Any) -> SideConfig:
    return SideConfig(model=f"openai/{name}", params={"api_base": hostile.api_base}, **fields)


async def test_text_tool_calls_usage_and_cost_are_stored_alike(
        tmp_path: Path, hostile: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # A: a priced model (cost from litellm's table, under the user's model string);
    # B: a tool call whose name and arguments hold escapes
    config = SessionConfig(a=_side(hostile, "gpt-4o-mini", tools=[LOOK]),
                           b=_side(hostile, "tool-escapes", tools=[LOOK]), turns=2)
    lean, sdk = await _both_routes(tmp_path, hostile, config, monkeypatch)
    assert lean == sdk
    turns = [e for e in lean if e["type"] == "turn"]
    assert len(turns) == 4
    assert turns[0]["model"] == "openai/gpt-4o-mini"  # the user's string, not hosted_vllm/
    assert turns[0]["cost"] is not None and turns[0]["cost"] > 0
    assert turns[0]["usage"] == {"prompt_tokens": 3, "completion_tokens": 5}
    assert turns[1]["tool_calls"] and turns[1]["tool_calls"][0]["name"].startswith("look\x1b")


@pytest.mark.parametrize("fault", ["retry-after-once:0", "retry-after:0", "server-error",
                                   "bad-request", "echo-auth"])
async def test_errors_retries_and_waits_are_stored_alike(
        tmp_path: Path, hostile: HostileServer, monkeypatch: pytest.MonkeyPatch,
        fault: str) -> None:
    config = SessionConfig(a=_side(hostile, fault), b=_side(hostile, "ok"), turns=1,
                           num_retries=1)
    lean, sdk = await _both_routes(tmp_path, hostile, config, monkeypatch)
    assert lean == sdk
    errors = [e for e in lean if e["type"] == "error"]
    assert errors, lean
    assert "{" not in errors[-1]["message"]  # the JSON error body unwrapped, as the SDK does


def test_only_calls_that_change_nothing_but_cpu_take_it(monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"api_base": "http://127.0.0.1:9/v1"}
    monkeypatch.setenv("OPENAI_API_KEY", DUMMY_KEY)
    monkeypatch.delenv("OPENAI_ORGANIZATION", raising=False)
    monkeypatch.delenv("OPENAI_PROJECT", raising=False)
    assert lean_call("openai/llama", base) == ("hosted_vllm/llama", {"api_key": DUMMY_KEY})
    assert lean_call("openai/gpt-4o-mini", base)[0] == "hosted_vllm/gpt-4o-mini"
    assert lean_call("openai/llama", {}) == ("openai/llama", {})  # OpenAI itself
    assert lean_call("openai/o3-mini", base) == ("openai/o3-mini", {})  # max_tokens renamed
    assert lean_call("openai/gpt-5", base) == ("openai/gpt-5", {})
    assert lean_call("anthropic/claude-x", base) == ("anthropic/claude-x", {})
    strict = [{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "additionalProperties": False}}}]
    assert lean_call("openai/llama", base, strict) == ("openai/llama", {})
    monkeypatch.setenv("OPENAI_ORGANIZATION", "org-1")
    assert lean_call("openai/llama", base) == ("openai/llama", {})
    monkeypatch.delenv("OPENAI_ORGANIZATION")
    monkeypatch.delenv("OPENAI_API_KEY")
    assert lean_call("openai/llama", base) == ("openai/llama", {})  # its own "no key" error
