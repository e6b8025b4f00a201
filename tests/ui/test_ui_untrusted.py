"""Untrusted text in the TUI: a provider's error, a model's tool call and a session
file's fields are shown literally, never obeyed by the terminal nor parsed as markup.

Each case drives the real app through Pilot with hostile text carrying an ESC
sequence (`\\x1b[2J`, clear screen) and Textual markup (`[bold]x[/]`), then
checks what was drawn: the markup appears as typed, the ESC as `␛`, and no
ESC byte reaches a rendered segment or a notification.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.widgets._toast import Toast

from attractor_tui.core.config import SideConfig
from attractor_tui.sessions.store import load_session
from attractor_tui.ui.screens.replay import ReplayScreen
from attractor_tui.ui.standalone import replay_app
from attractor_tui.ui.widgets.tool_panel import ToolPanel
from tests.support.builders import write_session
from tests.support.ui import config, make_app, screen_text, scripted, session, visible_segments
from tests.support.waiting import settle, wait_until

MARKUP = "[bold]x[/]"
HOSTILE = f"\x1b[2J{MARKUP} and [red]red[/red]"
SHOWN = f"␛[2J{MARKUP} and [red]red[/red]"
"""HOSTILE as the researcher must see it."""


def no_escape_drawn(app: App[Any]) -> None:
    drawn = "".join(visible_segments(app))
    assert "\x1b" not in drawn and "\x9b" not in drawn


def toast_texts(app: App[Any]) -> list[str]:
    """What each toast on screen actually renders (title and message)."""
    return [toast.render().plain for toast in app.screen.query(Toast)]


class _ErrorHandler(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint whose every answer is a 500 with HOSTILE as its body
    (plain text, so the ESC arrives raw rather than JSON-escaped)."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = HOSTILE.encode()
        self.send_response(500)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api_base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ErrorHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


async def test_provider_error_is_shown_literally_in_the_toast_and_the_card(
    tmp_path: Path, api_base: str,
) -> None:
    failing = SideConfig(model="hosted_vllm/x", params={"api_base": api_base})
    app = make_app(tmp_path, config(a=failing, num_retries=0))
    async with app.run_test(size=(160, 44), notifications=True) as pilot:
        screen = session(app)
        await wait_until(pilot, lambda: screen.error_pending, what="error")
        await wait_until(pilot, lambda: any(SHOWN in t for t in toast_texts(app)), what="toast")
        messages = [n.message for n in app._notifications]  # noqa: SLF001
        assert all("\x1b" not in m for m in messages), messages
        text = screen_text(app)
        assert SHOWN in text  # the error card in A's pane (and the toast)
        assert "press r to retry" in text
        no_escape_drawn(app)
        assert screen.display_errors == []


async def test_tool_call_name_and_arguments_are_shown_literally(tmp_path: Path) -> None:
    reply = {"text": "calling", "tool_calls": [
        {"name": f"\x1b[2J{MARKUP}", "arguments": HOSTILE},  # not JSON: shown as sent
    ]}
    app = make_app(tmp_path, config(a=scripted([reply]), turns=1))
    async with app.run_test(size=(180, 50)) as pilot:
        screen = session(app)
        await wait_until(pilot, lambda: screen.end is not None, what="end")
        await pilot.press("t")
        await settle(pilot)
        assert screen.query_one(ToolPanel).display
        text = screen_text(app)
        assert f"⚙ ␛[2J{MARKUP}({SHOWN}) → unknown" in text  # under the turn
        assert f"A  ␛[2J{MARKUP}  [unknown]" in text  # the panel entry's head
        assert f"▌ {SHOWN}" in text  # and its arguments
        no_escape_drawn(app)
        assert screen.display_errors == []


async def test_replayed_error_from_a_file_is_shown_literally(tmp_path: Path) -> None:
    """A session file is untrusted too: its error kind and message are shown as typed,
    and a kind that is no CSS identifier does not lose the tool-panel line."""
    path = write_session(tmp_path / "s.jsonl", 4, extras=True)
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("type") == "error":
            record.update(kind=MARKUP, message=HOSTILE)
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    app = replay_app(load_session(path), speed=0)
    async with app.run_test(size=(180, 60)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await wait_until(pilot, lambda: screen.controller.at_end, what="replay end")
        await pilot.press("t")
        await settle(pilot)
        text = screen_text(app)
        assert SHOWN in text  # card in B's pane, and the tool-panel line
        assert f"error · {MARKUP}" in text  # the card's title
        assert f"error {MARKUP}" in text  # the tool-panel line's kind
        no_escape_drawn(app)
        assert screen.display_errors == []
