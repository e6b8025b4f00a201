"""Per-minute pacing (issue 17): the pacer's arithmetic, and `--tpm` keeping a
session against a limiting server free of 429s, on a fake clock."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from attractor_tui.cli.headless import ConsolePrinter
from attractor_tui.cli.parser import build_parser
from attractor_tui.cli.run import config_from_args
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import ErrorEvent, StateChange
from attractor_tui.core.pacing import Pacer, pacers_for
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import load_session
from tests.support.builders import FakeClock

# ------------------------------------------------------------------ the pacer


def test_tokens_wait_until_enough_of_the_minute_has_aged_out() -> None:
    clock = FakeClock()
    pacer = Pacer(tpm=1000, clock=clock)
    assert pacer.wait_for(600) == 0
    clock.time = 0.0
    pacer._calls.extend([(0.0, 600)])
    clock.time = 10.0
    assert pacer.wait_for(300) == 0  # 900 of 1000
    assert pacer.wait_for(500) == pytest.approx(50.0)  # the first call leaves at 60 s
    assert pacer.wait_for(5000) == pytest.approx(50.0)  # larger than the limit: an empty minute


def test_requests_a_minute() -> None:
    clock = FakeClock()
    pacer = Pacer(rpm=2, clock=clock)
    for at in (0.0, 5.0):
        clock.time = at
        pacer._calls.append((at, 1))
    clock.time = 7.0
    assert pacer.wait_for(1) == pytest.approx(53.0)
    clock.time = 60.0
    assert pacer.wait_for(1) == 0  # the call at 0 s has left the minute
    pacer._calls.append((60.0, 1))
    assert pacer.wait_for(1) == pytest.approx(5.0)  # the one at 5 s leaves at 65 s


async def test_acquire_waits_on_the_clock_and_says_so() -> None:
    clock = FakeClock()
    pacer = Pacer(tpm=100, clock=clock)
    waits: list[float] = []

    async def on_wait(seconds: float) -> None:
        waits.append(seconds)

    assert not await pacer.acquire(80, on_wait)
    clock.time = 20.0
    assert await pacer.acquire(80, on_wait)
    assert waits == [pytest.approx(40.0)] and clock.sleeps == [pytest.approx(40.0)]
    assert clock.time == pytest.approx(60.0)


def test_sides_on_one_model_and_server_share_the_tighter_limit() -> None:
    same = SessionConfig(a=SideConfig(model="openai/x", tpm=900),
                         b=SideConfig(model="openai/x", tpm=500, rpm=3))
    pacers = pacers_for(same)
    assert pacers["A"] is pacers["B"] and (pacers["A"].tpm, pacers["A"].rpm) == (500, 3)
    apart = SessionConfig(a=SideConfig(model="openai/x", tpm=900), b=SideConfig(model="openai/y"))
    assert set(pacers_for(apart)) == {"A"}
    assert pacers_for(SessionConfig()) == {}


# ------------------------------------------------- a server with a token limit

LIMIT = 4000
"""Tokens the stub accepts per rolling minute of the fake clock."""


class LimitingServer(ThreadingHTTPServer):
    """An OpenAI-compatible server that answers 429 once a minute's tokens pass `LIMIT`.

    It counts what a provider counts up front: the prompt (4 characters a token)
    plus `max_tokens`, over the last 60 seconds of the test's fake clock.
    """

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.clock = clock
        self.log: list[tuple[float, int]] = []
        self.refused = 0
        self.lock = threading.Lock()

    def admit(self, body: dict[str, Any]) -> bool:
        chars = sum(len(m.get("content") or "") for m in body.get("messages", []))
        tokens = chars // 4 + int(body.get("max_tokens") or 0)
        with self.lock:
            now = self.clock.now()
            used = sum(n for when, n in self.log if when > now - 60)
            if used + tokens > LIMIT:
                self.refused += 1
                return False
            self.log.append((now, tokens))
            return True


class _Handler(BaseHTTPRequestHandler):
    server: LimitingServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        if not self.server.admit(body):
            data = json.dumps({"error": {"message": "tokens per minute exceeded",
                                         "type": "rate_limit", "code": 429}}).encode()
            self.send_response(429)
            self.send_header("content-type", "application/json")
            self.send_header("retry-after", "20")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": "fine"},
                              "finish_reason": "stop"}]}
        payload = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def limited(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LimitingServer, FakeClock]]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy-pacing-0000")
    clock = FakeClock()
    server = LimitingServer(clock)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, clock
    finally:
        server.shutdown()
        server.server_close()


PROMPT = "Read this long instruction carefully. " * 200  # 7,600 characters: ~1,900 tokens


def _config(server: LimitingServer, *flags: str) -> SessionConfig:
    api_base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    args = build_parser().parse_args([
        "run", "--model", "openai/paced", "--api-base", api_base, "--turns", "4",
        "--system-a", PROMPT, "--system-b", PROMPT, "--retries", "0", *flags])
    return config_from_args(args)


async def test_tpm_keeps_a_long_prompt_session_free_of_429s(
    tmp_path: Path, limited: tuple[LimitingServer, FakeClock]
) -> None:
    server, clock = limited
    events: list[Any] = []
    shown = io.StringIO()
    printer = ConsolePrinter(Console(file=shown, width=200, highlight=False))
    session = open_session(_config(server, "--tpm", str(LIMIT)), tmp_path / "s.jsonl",
                           listeners=[events.append, printer], clock=clock)
    end = await session.run()
    assert end.reason == "turns", end
    assert server.refused == 0 and len(server.log) == 8
    assert not [e for e in events if isinstance(e, ErrorEvent)]
    assert clock.sleeps and clock.time >= 3 * 60  # ~2,200 tokens a call: one call a minute
    pacing = [e for e in events if isinstance(e, StateChange) and e.state == "pacing"]
    assert len(pacing) == len(clock.sleeps)
    assert pacing[0].detail.startswith("B waits ") and "4,000 tokens/min" in pacing[0].detail
    assert len(load_session(tmp_path / "s.jsonl").turns) == 8
    assert f"… {pacing[0].detail}\nfine" in shown.getvalue()  # headless: before the text


async def test_without_tpm_the_same_session_meets_the_limit(
    tmp_path: Path, limited: tuple[LimitingServer, FakeClock]
) -> None:
    server, clock = limited
    events: list[Any] = []
    session = open_session(_config(server), tmp_path / "s.jsonl", listeners=[events.append],
                           clock=clock, backoff=0)
    end = await session.run()
    assert end.reason == "error" and server.refused == 1
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert errors[-1].kind == "rate_limit"


async def test_a_stop_cuts_a_pacing_wait_short(tmp_path: Path) -> None:
    side = SideConfig(model="scripted/echo", tpm=1)  # every call fills the minute
    events: list[Any] = []
    session = open_session(SessionConfig(a=side, b=side, turns=3), tmp_path / "s.jsonl",
                           listeners=[events.append])

    def listener(event: Any) -> None:
        if isinstance(event, StateChange) and event.state == "pacing":
            asyncio.ensure_future(session.engine.stop())

    session.engine.listeners.append(listener)
    began = time.monotonic()
    end = await session.run()
    assert end.reason == "operator" and time.monotonic() - began < 30
    states = [e.state for e in events if isinstance(e, StateChange)]
    assert "pacing" in states and states[-1] == "ended"
    assert [t.interrupted for t in load_session(tmp_path / "s.jsonl").turns] == [False, True]
