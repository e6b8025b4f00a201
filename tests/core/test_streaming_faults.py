"""The real engine against a hostile OpenAI-compatible server (litellm's real HTTP path).

Each fault of `tests/support/hostile_server.py` is one model name; what the
engine shows live (deltas), stores (the reloaded file) and ends with must be
whole: no half surrogate pair, no crash, a plain error, a bounded wait.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from attractor_tui.analysis.live import stop_rules
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import EMPTY_PLACEHOLDER, ErrorEvent, TextDelta, ToolCallDelta
from attractor_tui.core.text import SURROGATE_MARK
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import SessionLog, load_session
from tests.support.builders import scripted
from tests.support.hostile_server import (
    ESCAPES,
    HUGE_SIZE,
    HUGE_TEXT,
    SPLIT_TEXT,
    HostileServer,
)


def hostile_side(server: HostileServer, fault: str) -> SideConfig:
    return SideConfig(model=f"openai/{fault}", params={"api_base": server.api_base})


async def run(tmp_path: Path, server: HostileServer, fault: str, *, retries: int = 0,
              timeout: float = 30.0, backoff: float = 0.0,
              waits: list[float] | None = None) -> tuple[SessionLog, list[Any]]:
    """One round, A on the hostile server, B scripted; the reloaded file and every event."""
    config = SessionConfig(a=hostile_side(server, fault), b=scripted(["fine"]), turns=1,
                           num_retries=retries, timeout=timeout)
    events: list[Any] = []
    path = tmp_path / f"{fault.replace(':', '_')}.jsonl"
    session = open_session(config, path, listeners=[events.append], stop_rules=stop_rules,
                           backoff=backoff)
    if waits is not None:  # record the waits the engine asks for instead of sleeping them
        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        session.engine._sleep = sleep  # type: ignore[method-assign]  # noqa: SLF001
    await session.run()
    return load_session(path), events


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


# ------------------------------------------------------------- surrogates


async def test_a_pair_split_across_chunks_is_joined(tmp_path: Path,
                                                    hostile: HostileServer) -> None:
    log, events = await run(tmp_path, hostile, "split-surrogate")
    deltas = [e.text for e in events if isinstance(e, TextDelta) and e.side == "A"]
    assert not any(has_surrogate(d) for d in deltas), deltas  # live: never half a pair
    assert "".join(deltas) == SPLIT_TEXT
    assert log.turns[0].text == SPLIT_TEXT and log.end is not None
    assert log.end.reason == "turns" and not log.errors
    assert log.turns[1].text == "fine"  # B was sent the whole emoji and answered


async def test_a_lone_surrogate_is_stored_as_a_mark(tmp_path: Path,
                                                    hostile: HostileServer) -> None:
    log, events = await run(tmp_path, hostile, "lone-surrogate")
    assert log.turns[0].text == f"half {SURROGATE_MARK} here"
    assert log.end is not None and log.end.reason == "turns"
    assert not any(has_surrogate(e.text) for e in events if isinstance(e, TextDelta))


# ------------------------------------------------------------ other replies


async def test_tool_call_with_escapes_is_stored_exactly(tmp_path: Path,
                                                        hostile: HostileServer) -> None:
    log, events = await run(tmp_path, hostile, "tool-escapes")
    call = log.turns[0].tool_calls[0]  # not offered, so refused and asked again (4 rounds)
    assert call.name == "look" + ESCAPES and ESCAPES in call.arguments  # data, not display
    assert call.outcome == "unknown" and log.end is not None and log.end.reason == "turns"
    assert any(isinstance(e, ToolCallDelta) for e in events)


async def test_empty_and_invisible_replies_get_the_placeholder(
    tmp_path: Path, hostile: HostileServer
) -> None:
    for fault, text in (("empty", ""), ("invisible", "\u200b\u200e")):
        log, _ = await run(tmp_path, hostile, fault)
        turn = log.turns[0]
        assert (turn.text, turn.sent_text) == (text, EMPTY_PLACEHOLDER)
        assert log.end is not None and log.end.reason == "turns"


async def test_a_one_megabyte_reply_is_stored_whole(tmp_path: Path,
                                                    hostile: HostileServer) -> None:
    log, _ = await run(tmp_path, hostile, "huge")
    assert log.turns[0].text == HUGE_TEXT and len(HUGE_TEXT) == HUGE_SIZE
    assert log.end is not None and log.end.reason == "turns"


async def test_a_looping_stream_cut_by_litellm_is_explained(
    tmp_path: Path, hostile: HostileServer
) -> None:
    log, _ = await run(tmp_path, hostile, "repeat")
    assert log.errors[-1].message == ("openai sent the same piece of text 100 times in a row; "
                                      "litellm cut the reply off as a loop")
    assert log.turns[0].interrupted and log.turns[0].text.startswith("again and again")


# ------------------------------------------------------------------ faults


async def test_a_hanging_server_ends_with_the_timeout(tmp_path: Path,
                                                      hostile: HostileServer) -> None:
    started = time.monotonic()
    log, _ = await run(tmp_path, hostile, "hang", timeout=0.5)
    assert time.monotonic() - started < 8  # the call's timeout, not the server's 10 s
    assert log.errors[-1].kind == "timeout"
    assert log.end is not None and log.end.reason == "error"


async def test_a_cut_stream_keeps_its_text_and_says_so_plainly(
    tmp_path: Path, hostile: HostileServer
) -> None:
    log, _ = await run(tmp_path, hostile, "cut-stream")
    message = log.errors[-1].message
    assert message == f"the connection to 127.0.0.1:{hostile.port} closed mid-reply"
    assert log.errors[-1].kind == "connection"
    assert log.turns[0].interrupted and log.turns[0].text == "half a "
    assert log.end is not None and log.end.detail == message


async def test_malformed_sse_is_a_readable_error(tmp_path: Path, hostile: HostileServer) -> None:
    log, _ = await run(tmp_path, hostile, "malformed-sse")
    assert log.errors[-1].message == "openai sent a reply that could not be read (a malformed " \
                                     "stream)"
    assert "Exception" not in log.errors[-1].message


async def test_an_error_echoing_the_key_does_not_store_it(tmp_path: Path,
                                                          hostile: HostileServer) -> None:
    log, _ = await run(tmp_path, hostile, "echo-auth")
    assert log.errors[-1].kind == "auth"
    assert hostile.calls == ["echo-auth"]
    assert "sk-dummy" not in log.path.read_text()


# ----------------------------------------------------------------- retries


async def test_retry_after_seconds_is_honoured(tmp_path: Path, hostile: HostileServer) -> None:
    waits: list[float] = []
    log, _ = await run(tmp_path, hostile, "retry-after-once:7", retries=2, backoff=1.0,
                       waits=waits)
    assert waits == [7.0]  # the server's 7 s, not our own 4 s backoff
    first = log.errors[0]
    assert (first.kind, first.retry_in) == ("rate_limit", 7.0)
    assert first.message == "rate limited (attempt 1 of 3), retrying in 7 s"
    assert log.turns[0].text.startswith("hello") and log.end is not None
    assert log.end.reason == "turns"


async def test_retry_after_http_date_is_honoured(tmp_path: Path, hostile: HostileServer) -> None:
    from email.utils import formatdate

    when = formatdate(time.time() + 30, usegmt=True)
    waits: list[float] = []
    log, _ = await run(tmp_path, hostile, f"retry-after-once:{when}", retries=1, backoff=1.0,
                       waits=waits)
    assert len(waits) == 1 and 25 <= waits[0] <= 31
    assert log.end is not None and log.end.reason == "turns"


async def test_used_up_retries_do_not_promise_another(tmp_path: Path,
                                                      hostile: HostileServer) -> None:
    log, _ = await run(tmp_path, hostile, "retry-after:0", retries=2)
    assert hostile.calls == ["retry-after:0"] * 3
    assert [e.retry_in for e in log.errors] == [0.0, 0.0, None]
    assert log.end is not None and log.end.reason == "error"
    for text in (log.end.detail, log.errors[-1].message):
        assert "retrying" not in text and text == "rate limited; retries used up"


async def test_a_server_error_that_ran_out_is_not_retrying(tmp_path: Path,
                                                           hostile: HostileServer) -> None:
    log, _ = await run(tmp_path, hostile, "server-error", retries=1)
    assert hostile.calls == ["server-error"] * 2
    assert log.end is not None and "retrying" not in log.end.detail
    assert log.end.detail == ("openai had a server error: the hostile server fell over "
                              "(attempt 2 of 2)")


async def test_a_bad_request_mentioning_timeout_is_not_retried(
    tmp_path: Path, hostile: HostileServer
) -> None:
    hostile.message = "the parameter timeout must be an integer"
    log, _ = await run(tmp_path, hostile, "bad-request", retries=3)
    assert hostile.calls == ["bad-request"]
    error = log.errors[-1]
    assert error.kind == "bad_request" and not error.retryable
    assert error.message == "openai rejected the request: the parameter timeout must be an " \
                            "integer"


async def test_an_unreachable_server_is_named(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy")
    config = SessionConfig(a=SideConfig(model="openai/x", params={"api_base":
                                                                  "http://127.0.0.1:9/v1"}),
                           b=scripted(["fine"]), turns=1, num_retries=0)
    session = open_session(config, tmp_path / "s.jsonl")
    end = await session.run()
    assert end.detail == "cannot reach 127.0.0.1:9"
    errors = [e for e in load_session(tmp_path / "s.jsonl").events if isinstance(e, ErrorEvent)]
    assert errors[-1].kind == "connection"
