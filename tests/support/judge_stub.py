"""A small OpenAI-compatible judge on 127.0.0.1 for the LLM-judge tests.

It answers `/v1/chat/completions` (non-streamed) with the next of `replies`
(then `default`, a valid verdict) and keeps every request body in `requests`,
so a test can check what was sent (`response_format`, the transcript) and
count calls. `running(monkeypatch)` starts one with a dummy `OPENAI_API_KEY` set.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

VALID = json.dumps({"end_state": "verbatim_loop", "onset_index": 2, "topic": "small_talk",
                    "evidence": "turns #2-#11 repeat one greeting"})
"""The default answer: a valid verdict for any conversation of at least three turns."""


class JudgeStub(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies: list[str] = []
        self.default = VALID
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0
        """Seconds each answer takes, so calls overlap when sent at once."""
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def next_reply(self, body: dict[str, Any]) -> str:
        with self._lock:
            self.requests.append(body)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            reply = self.replies.pop(0) if self.replies else self.default
        time.sleep(self.delay)
        with self._lock:
            self.in_flight -= 1
        return reply


class _Handler(BaseHTTPRequestHandler):
    server: JudgeStub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        reply = self.server.next_reply(body)
        payload = json.dumps({
            "id": "chatcmpl-stub", "object": "chat.completion", "created": 0,
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": reply}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def running(monkeypatch: pytest.MonkeyPatch) -> Iterator[JudgeStub]:
    """A started stub, with a dummy OPENAI_API_KEY set; stopped on leaving."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy-judge-0000")
    server = JudgeStub()
    threading.Thread(target=server.serve_forever, name="judge-stub", daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
