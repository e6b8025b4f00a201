"""Provider exceptions to plain problems: real litellm exceptions from the hostile server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.errors import (
    MAX_RETRY_AFTER,
    describe,
    model_problem,
    parse_retry_after,
    retry_after,
)
from attractor_tui.core.text import SURROGATE_MARK
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import load_session
from tests.support.builders import scripted
from tests.support.hostile_server import HostileServer


async def failure(model: str, api_base: str, timeout: float = 10) -> BaseException:
    """The exception litellm raises for one streamed call to `model` at `api_base`."""
    from attractor_tui.backends.litellm_setup import get_litellm

    litellm = get_litellm()
    try:
        stream = await litellm.acompletion(
            model=model, messages=[{"role": "user", "content": "hi"}], stream=True,
            api_base=api_base, num_retries=0, timeout=timeout)
        async for _ in stream:
            pass
    except Exception as exc:
        return exc
    raise AssertionError(f"{model} did not fail")


# ------------------------------------------------------------- Retry-After


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Fri, 02 Jan 2026 03:04:35 GMT", now) == 30.0
    assert parse_retry_after("Fri, 02 Jan 2026 03:00:00 GMT", now) == 0.0  # already past
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("86400") == MAX_RETRY_AFTER
    for junk in ("soon", "", "nan", "inf"):
        assert parse_retry_after(junk) is None


async def test_retry_after_arrives_with_litellm_exceptions(hostile: HostileServer) -> None:
    exc = await failure("openai/retry-after:7", hostile.api_base)
    assert retry_after(exc) == 7.0
    problem = describe(exc, "openai/retry-after:7", attempt=3)
    assert (problem.kind, problem.retry_in, problem.message) == (
        "rate_limit", 7.0, "rate limited, retrying in 7 s")  # not 4 * 2**3 = 32 s
    assert problem.given_up == "rate limited; retries used up"


async def test_without_retry_after_the_backoff_grows(hostile: HostileServer) -> None:
    exc = await failure("openai/server-error", hostile.api_base)
    assert retry_after(exc) is None
    problem = describe(exc, "openai/x")
    assert problem.kind == "server" and problem.retry_in == 4.0
    assert problem.given_up == problem.message == ("openai had a server error: the hostile "
                                                   "server fell over")


# ---------------------------------------------------------------- wording


async def test_a_bad_request_saying_timeout_is_a_bad_request(hostile: HostileServer) -> None:
    hostile.message = "Request timeout parameter must be positive"
    problem = describe(await failure("openai/bad-request", hostile.api_base), "openai/x")
    assert problem.kind == "bad_request" and not problem.retryable
    assert problem.message == ("openai rejected the request: Request timeout parameter must "
                               "be positive")


async def test_a_real_timeout_is_still_a_timeout(hostile: HostileServer) -> None:
    hostile.hang_seconds = 3
    problem = describe(await failure("openai/hang", hostile.api_base, timeout=0.3), "openai/x")
    assert problem.kind == "timeout" and problem.retryable


async def test_a_cut_stream_names_the_host(hostile: HostileServer) -> None:
    exc = await failure("openai/cut-stream", hostile.api_base)
    assert "Response payload is not completed" in str(exc)  # what litellm says
    problem = describe(exc, "openai/cut-stream", api_base=hostile.api_base)
    assert problem.message == f"the connection to 127.0.0.1:{hostile.port} closed mid-reply"
    assert problem.kind == "connection" and problem.retryable
    assert describe(exc, "openai/x").message == "the connection to openai's server closed " \
                                                "mid-reply"


@pytest.mark.parametrize(("api_base", "shown"), [
    ("http://127.0.0.1:9/v1", "127.0.0.1:9"),
    ("http://user:secret@127.0.0.1:9/v1?api_key=abc", "127.0.0.1:9"),
    ("http://[::1]:9/v1", "[::1]:9"),
])
async def test_cannot_reach_names_host_and_port(monkeypatch: pytest.MonkeyPatch, api_base: str,
                                                shown: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy")
    exc = await failure("openai/x", api_base)
    problem = describe(exc, "openai/x", api_base=api_base)
    assert (problem.kind, problem.message) == ("connection", f"cannot reach {shown}")


def test_host_without_a_port_gets_the_scheme_default() -> None:
    from litellm.exceptions import APIConnectionError

    exc = APIConnectionError(message="Connection error.", llm_provider="openai", model="x")
    assert describe(exc, "openai/x", api_base="https://example.org/v1").message == \
        "cannot reach example.org:443"
    assert describe(exc, "openai/x").message.startswith("cannot reach openai's server")


async def test_a_lone_surrogate_in_an_error_body_is_stored_as_a_mark(
    tmp_path: Path, hostile: HostileServer
) -> None:
    hostile.message = "half \ud800 of an emoji"
    config = SessionConfig(a=SideConfig(model="openai/bad-request",
                                        params={"api_base": hostile.api_base}),
                           b=scripted(["unused"]), turns=1, num_retries=0)
    end = await open_session(config, tmp_path / "s.jsonl").run()
    assert end.reason == "error"
    log = load_session(tmp_path / "s.jsonl")
    assert log.errors[-1].message.endswith(f"half {SURROGATE_MARK} of an emoji")
    assert log.end is not None and log.end.detail == log.errors[-1].message


# ------------------------------------------------ what a new user ran into (issue 14)


async def test_repeated_connection_errors_name_the_host_and_the_attempt(tmp_path: Path) -> None:
    config = SessionConfig(a=SideConfig(model="hosted_vllm/x",
                                        params={"api_base": "http://127.0.0.1:9/v1"}),
                           b=scripted(["unused"]), turns=1, num_retries=2)
    await open_session(config, tmp_path / "s.jsonl", backoff=0).run()
    messages = [e.message for e in load_session(tmp_path / "s.jsonl").errors]
    assert messages == [f"cannot reach 127.0.0.1:9 (attempt {n} of 3)" for n in (1, 2, 3)]


def test_a_rate_limit_counts_its_attempt_before_the_wait() -> None:
    from litellm.exceptions import RateLimitError

    exc = RateLimitError(message="slow down", llm_provider="openai", model="x")
    problem = describe(exc, "openai/x", 1, attempts=3)
    assert problem.message == "rate limited (attempt 2 of 3), retrying in 8 s"
    assert problem.given_up == "rate limited; retries used up"
    assert describe(exc, "openai/x", 1).message == "rate limited, retrying in 8 s"


async def test_a_local_server_without_a_key_says_what_serves(
    monkeypatch: pytest.MonkeyPatch, hostile: HostileServer
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    exc = await failure("openai/x", hostile.api_base)
    problem = describe(exc, "openai/x", api_base=hostile.api_base)
    assert problem.message == (
        f"No API key for openai at 127.0.0.1:{hostile.port}: for a local server name the "
        "model hosted_vllm/x, or set OPENAI_API_KEY to any value")
    assert describe(exc, "openai/x").message == "No API key for openai: set OPENAI_API_KEY"


@pytest.mark.parametrize("model", ["q?", "zzzz-qqqq"])
def test_a_model_string_litellm_cannot_route_says_what_to_type(model: str) -> None:
    problem = model_problem(model)
    assert problem is not None and problem.startswith(f"litellm knows no provider for {model!r}")
    assert "provider/model" in problem and "embedded/smollm2-135m" in problem


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "gpt-4o", "hosted_vllm/x",
                                   "embedded/smollm2-135m", "scripted/echo", "ollama/llama3"])
def test_model_strings_litellm_routes_pass(model: str) -> None:
    assert model_problem(model) is None
