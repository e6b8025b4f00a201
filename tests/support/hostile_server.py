"""A hostile OpenAI-compatible server on 127.0.0.1 for fault tests (issue 13).

The model name picks the fault, so one server serves every test: run a side
as `openai/<fault>` with `api_base=server.api_base` and any dummy
`OPENAI_API_KEY`. Streaming and non-streaming `/v1/chat/completions` both
work. A fault name may carry one argument after a colon (`retry-after:7`).

Faults (`FAULTS` lists them):

- `ok`: replies `REPLY`.
- `error-escapes`: 500 whose error message is `server.message` (default
  `ESCAPES`, screen clear and an OSC 52 clipboard write).
- `bad-request`: 400 whose message is `server.message`.
- `server-error`: 500 with a plain message.
- `tool-escapes`: a tool call whose name and arguments hold `ESCAPES`.
- `split-surrogate`: 😀 sent as a JSON `\\ud83d` ending one chunk's content and
  `\\ude00` starting the next (`SPLIT_TEXT` is what arrives when joined).
- `lone-surrogate`: content holding a lone `\\ud800`.
- `retry-after:V`: 429 with `Retry-After: V` (seconds or an HTTP date);
  `retry-after-once:V` does so only for the first call of each model name.
- `hang`: accepts the request and answers nothing until `hang_seconds` pass
  or the server stops (it always stops by itself).
- `cut-stream`: a chunked SSE reply that stops mid-chunk and closes.
- `malformed-sse`: an SSE line that is not JSON.
- `empty`, `invisible`: a reply with no content / only U+200B U+200E.
- `huge`: `HUGE_TEXT`, a reply of `HUGE_SIZE` characters in 4 KB chunks.
- `repeat`: one chunk sent 120 times (litellm's loop guard cuts it at 100).
- `echo-auth`: 401 whose message repeats the request's Authorization header.

Any other name answers like `ok`. Fixtures (registered in tests/conftest.py):
`hostile_server`, one server per test module, and `hostile`, that server
reset for one test with `OPENAI_API_KEY` set to `DUMMY_KEY`.
"""

from __future__ import annotations

import io
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

REPLY = "hello from the hostile server"
ESCAPES = "\x1b[2J\x1b]52;c;U1Q=\x1b\\ evil \x9b31m"
SPLIT_TEXT = "smile \U0001f600 done"
HUGE_SIZE = 1_000_000
HUGE_TEXT = "".join(f"word{i:07d} " for i in range(HUGE_SIZE // 12 + 1))[:HUGE_SIZE]
"""The `huge` reply: no two chunks alike (litellm cuts a stream repeating one chunk 100 times)."""
DUMMY_KEY = "sk-dummy-hostile-0000"
"""The key tests send; `echo-auth` repeats it back."""
FAULTS = ("ok", "error-escapes", "bad-request", "server-error", "tool-escapes",
          "split-surrogate", "lone-surrogate", "retry-after", "retry-after-once", "hang",
          "cut-stream", "malformed-sse", "empty", "invisible", "huge", "repeat", "echo-auth")


class HostileServer(ThreadingHTTPServer):
    """The server; tests set `message` and read `calls` (model names, in order)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.message = ESCAPES
        self.hang_seconds = 10.0
        self.calls: list[str] = []
        self.agents: list[str] = []
        """Each call's User-Agent, in order (which HTTP client litellm used)."""
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def record(self, model: str, agent: str = "") -> int:
        """Note a call; how many calls `model` had before this one."""
        with self._lock:
            before = self.calls.count(model)
            self.calls.append(model)
            self.agents.append(agent)
            return before

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timeout, a cut stream) is expected here, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def start(self) -> HostileServer:
        threading.Thread(target=self.serve_forever, name="hostile-server", daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes every hanging handler
        self.shutdown()
        self.server_close()


class _NoSignalWriter(io.BufferedIOBase):
    """The handler's `wfile`, writing with MSG_NOSIGNAL.

    `attractor_tui.cli.parser.main` restores the default SIGPIPE action (for
    `| head`), so once a test has called it in-process, writing to a client that
    hung up would kill the whole test run instead of raising `BrokenPipeError`.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        while view:
            view = view[self._sock.send(view, getattr(socket, "MSG_NOSIGNAL", 0)):]
        return len(data)


class _Handler(BaseHTTPRequestHandler):
    server: HostileServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.wfile = _NoSignalWriter(self.connection)

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        model = str(body.get("model", "ok"))
        stream = bool(body.get("stream"))
        fault, _, arg = model.partition(":")
        before = self.server.record(model, self.headers.get("user-agent", ""))
        if fault == "error-escapes":
            return self._error(500, self.server.message)
        if fault == "bad-request":
            return self._error(400, self.server.message)
        if fault == "server-error":
            return self._error(500, "the hostile server fell over")
        if fault == "echo-auth":
            return self._error(401, f"bad key: {self.headers.get('authorization', '')}")
        if fault == "retry-after" or fault == "retry-after-once" and before == 0:
            return self._error(429, "slow down", {"Retry-After": arg or "1"})
        if fault == "hang":
            self.server.stopping.wait(self.server.hang_seconds)
            return self._error(504, "gave up hanging")
        if fault == "cut-stream":
            return self._cut()
        if fault == "malformed-sse":
            return self._sse([_chunk(model, content="one ")], raw_tail=["data: {not json\n\n"])
        if fault == "repeat":
            chunks = [_chunk(model, content="again and again ") for _ in range(120)]
            return self._sse([*chunks, _chunk(model, finish="stop")])
        if fault == "tool-escapes":
            call = {"index": 0, "id": "call_1", "type": "function",
                    "function": {"name": "look" + ESCAPES, "arguments": '{"q": "' + ESCAPES + '"}'}}
            if stream:
                return self._sse([_chunk(model, tool_calls=[call]),
                                  _chunk(model, finish="tool_calls")])
            return self._json(_completion(model, "", tool_calls=[call]))
        if fault == "split-surrogate":
            # the high half ends one chunk, the low half starts the next, as JSON escapes
            raw = ['"smile \\ud83d"', '"\\ude00 done"']
            if stream:
                return self._sse_raw_contents(model, raw)
            return self._json(_completion(model, SPLIT_TEXT))
        if fault == "lone-surrogate":
            if stream:
                return self._sse_raw_contents(model, ['"half \\ud800 here"'])
            return self._raw_json(_completion_json(model, '"half \\ud800 here"'))
        text = {"empty": "", "invisible": "\u200b\u200e", "huge": HUGE_TEXT}.get(fault, REPLY)
        if not stream:
            return self._json(_completion(model, text))
        step = 4096
        pieces = [text[i:i + step] for i in range(0, len(text), step)] or [""]
        chunks = [_chunk(model, content=p) for p in pieces]
        return self._sse([*chunks, _chunk(model, finish="stop")])

    # --------------------------------------------------------------- answers

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        data = json.dumps({"error": {"message": message, "type": "hostile", "code": status}})
        self._send(status, data.encode(), "application/json", headers)

    def _json(self, payload: dict[str, Any]) -> None:
        self._send(200, json.dumps(payload).encode(), "application/json")

    def _raw_json(self, text: str) -> None:
        self._send(200, text.encode(), "application/json")

    def _send(self, status: int, data: bytes, kind: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _start_sse(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _write_chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _sse(self, chunks: list[dict[str, Any]], raw_tail: list[str] | None = None) -> None:
        self._sse_lines([f"data: {json.dumps(c)}\n\n" for c in chunks] + (raw_tail or []))

    def _sse_raw_contents(self, model: str, contents: list[str]) -> None:
        """Chunks whose `content` is given as raw JSON (escapes json.dumps would not write)."""
        lines = [f"data: {_chunk_json(model, c)}\n\n" for c in contents]
        self._sse_lines([*lines, f"data: {json.dumps(_chunk(model, finish='stop'))}\n\n"])

    def _sse_lines(self, lines: list[str]) -> None:
        self._start_sse()
        for line in [*lines, "data: [DONE]\n\n"]:
            self._write_chunk(line)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        """Half a reply, then a chunk announced longer than what follows, then a close."""
        self._start_sse()
        self._write_chunk(f"data: {json.dumps(_chunk('cut-stream', content='half a '))}\n\n")
        self.wfile.write(b"400\r\ndata: {\"id\"")
        self.wfile.flush()
        self.close_connection = True


def _chunk(model: str, content: str | None = None, finish: str | None = None,
           tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if content is not None:
        delta = {"role": "assistant", "content": content}
    if tool_calls is not None:
        delta = {"role": "assistant", "content": None, "tool_calls": tool_calls}
    return {"id": "chatcmpl-hostile", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _chunk_json(model: str, raw_content: str) -> str:
    marker = "\x00content\x00"
    return json.dumps(_chunk(model, content=marker)).replace(json.dumps(marker), raw_content)


def _completion(model: str, text: str,
                tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"id": "chatcmpl-hostile", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if tool_calls else "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}}


def _completion_json(model: str, raw_content: str) -> str:
    marker = "\x00content\x00"
    return json.dumps(_completion(model, marker)).replace(json.dumps(marker), raw_content)


def serve() -> HostileServer:
    """A started server; call `stop()` when done (the fixtures do)."""
    return HostileServer().start()


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[HostileServer]:
    """One server per test module (hypothesis tests need a fixture that outlives a test)."""
    server = serve()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hostile(hostile_server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> HostileServer:
    """The module's server reset for one test, with a dummy OPENAI_API_KEY set."""
    monkeypatch.setenv("OPENAI_API_KEY", DUMMY_KEY)
    hostile_server.message = ESCAPES
    hostile_server.hang_seconds = 10.0
    hostile_server.calls.clear()
    hostile_server.agents.clear()
    return hostile_server
