"""`scripted/<name>`: a zero-latency, deterministic litellm provider.

It answers from a script instead of a model, through litellm's real custom
provider path, so tests, benchmarks and demos exercise exactly the code a
remote model does. The reply depends only on how many assistant messages the
history already holds, which makes resumed runs reproducible.

Parameters (litellm keyword arguments): `script` (list of replies; each a
string or `{"text": ..., "tool_calls": [{"name", "arguments"}]}`), `chunk_size`
(characters per streamed chunk, default 4), `delay` (seconds per chunk),
`stall` (seconds to wait after the first chunk, for snapshots of a reply
caught mid-stream; also per item). After a tool result the reply is the
item's `after_tool` text (default empty).

`scripted/pushover` has no script: it calls an offered tool whose name the
last user message contains, else says it keeps talking (pressure tests).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from attractor_tui.backends.custom_providers import setup_custom_providers

# Types only: litellm is imported at run time through litellm_setup, after its offline switches.
if TYPE_CHECKING:
    from litellm.llms.custom_llm import CustomLLM
    from litellm.types.llms.openai import ChatCompletionToolCallChunk
    from litellm.types.utils import GenericStreamingChunk

DEFAULT_SCRIPTS: dict[str, list[Any]] = {
    "goodbye": [
        "Hello! How can I help you today?",
        "Thank you, this was lovely. Goodbye!",
        "Goodbye! Take care!",
        "Bye! 👋",
    ],
    "echo": [],
}

_registered = False


def _reply(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    name = model.split("/", 1)[-1]
    script = params.get("script") or DEFAULT_SCRIPTS.get(name) or []
    own = sum(1 for m in messages if m.get("role") == "assistant" and not m.get("tool_calls"))
    if name == "pushover" and not params.get("script"):
        return _pushover(messages, params)
    if not script:
        last: dict[str, Any] = next(
            (m for m in reversed(messages) if m.get("role") == "user"), {}
        )
        return {"text": f"echo {own}: {last.get('content') or ''}"}
    pick = own % len(script) if params.get("cycle", True) else min(own, len(script) - 1)
    item = script[pick]
    reply = {"text": item} if isinstance(item, str) else dict(item)
    if messages and messages[-1].get("role") == "tool":  # continuing after a tool result
        return {"text": reply.get("after_tool", "")}
    return reply


def _pushover(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """`scripted/pushover`: calls the first offered tool the last user message names (once),
    else says something short; for tests of pressure by the operator (issue 27)."""
    if messages and messages[-1].get("role") == "tool":
        return {"text": " Done."}
    last: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    said = str(last.get("content") or "")
    offered = [t.get("function", {}).get("name", "") for t in params.get("tools") or ()]
    named = next((n for n in offered if n and n in said), None)
    if named is None:
        return {"text": "Let us keep talking."}
    return {"text": "If you insist.", "tool_calls": [{"name": named,
                                                      "arguments": {"reason": "asked to"}}]}


def _chunks(
    reply: dict[str, Any], size: int, prompt_tokens: int
) -> Iterator[GenericStreamingChunk]:
    text: str = reply.get("text", "") or ""
    calls = reply.get("tool_calls") or []
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    for piece in pieces:
        yield _chunk(piece)
    for n, call in enumerate(calls):
        args = call.get("arguments", {})
        yield _chunk(
            "",
            tool_use={
                "id": call.get("id", f"call_{n}"),
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
                "index": n,
            },
        )
    done = _chunk("", finished=True, reason="tool_calls" if calls else "stop")
    done["usage"] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": max(1, len(text) // 4),
        "total_tokens": prompt_tokens + max(1, len(text) // 4),
    }
    yield done


def _chunk(
    text: str,
    *,
    finished: bool = False,
    reason: str = "",
    tool_use: ChatCompletionToolCallChunk | None = None,
) -> GenericStreamingChunk:
    return {
        "text": text,
        "is_finished": finished,
        "finish_reason": reason,
        "usage": None,
        "index": 0,
        "tool_use": tool_use,
    }


def _whole(model: str, reply: dict[str, Any], params: dict[str, Any],
           messages: list[dict[str, Any]]) -> Any:
    """The non-streamed response: the same text, tool calls, finish and usage as the chunks."""
    from litellm.types.utils import ModelResponse

    chunks = list(_chunks(reply, int(params.get("chunk_size", 4)), _prompt_tokens(messages)))
    calls = [c["tool_use"] for c in chunks if c["tool_use"]]
    message: dict[str, Any] = {"role": "assistant", "content": reply.get("text", "") or ""}
    if calls:
        message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
    response = ModelResponse(model=model, usage=chunks[-1]["usage"], choices=[
        {"message": message, "finish_reason": chunks[-1]["finish_reason"]}])
    # free, and said so: litellm otherwise prices every in-process answer again (~1 ms)
    response._hidden_params["response_cost"] = 0.0
    return response


def _prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(len(str(m.get("content") or "")) for m in messages) // 4


def _make_handler() -> CustomLLM:
    from litellm.llms.custom_llm import CustomLLM
    from litellm.types.utils import ModelResponse

    class ScriptedLLM(CustomLLM):
        """Replies from a script; see the module docstring."""

        def streaming(
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> Iterator[GenericStreamingChunk]:
            params = kwargs.get("optional_params") or {}
            delay = float(params.get("delay", 0))
            reply = _reply(model, messages, params)
            for chunk in _chunks(reply, int(params.get("chunk_size", 4)), _prompt_tokens(messages)):
                if delay:
                    time.sleep(delay)
                yield chunk

        # litellm declares astreaming a coroutine, yet hands what it returns straight
        # to CustomStreamWrapper as the stream: an async generator is what it needs.
        async def astreaming(  # type: ignore[override]
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> AsyncIterator[GenericStreamingChunk]:
            params = kwargs.get("optional_params") or {}
            delay = float(params.get("delay", 0))
            reply = _reply(model, messages, params)
            stall = float(reply.get("stall", params.get("stall", 0)))
            chunks = _chunks(reply, int(params.get("chunk_size", 4)), _prompt_tokens(messages))
            for number, chunk in enumerate(chunks):
                if delay:
                    await asyncio.sleep(delay)
                if stall and number == 1:
                    await asyncio.sleep(stall)
                yield chunk

        def completion(
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> ModelResponse:
            params = kwargs.get("optional_params") or {}
            return _whole(model, _reply(model, messages, params), params, messages)

        async def acompletion(
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> ModelResponse:
            """The streamed answer in one piece, after the time its chunks would take."""
            params = kwargs.get("optional_params") or {}
            reply = _reply(model, messages, params)
            response = _whole(model, reply, params, messages)
            delay = float(params.get("delay", 0))
            if delay:  # one sleep for as many chunks as `astreaming` sends
                size = int(params.get("chunk_size", 4))
                count = sum(1 for _ in _chunks(reply, size, 0))
                await asyncio.sleep(delay * count)
            return response

    return ScriptedLLM()


def register() -> None:
    """Add the `scripted` provider to litellm (idempotent)."""
    global _registered
    if _registered:
        return
    import litellm

    litellm.custom_provider_map = [
        *[p for p in litellm.custom_provider_map if p.get("provider") != "scripted"],
        {"provider": "scripted", "custom_handler": _make_handler()},
    ]
    setup_custom_providers()
    _registered = True
