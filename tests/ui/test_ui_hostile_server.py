"""The app (Pilot) against the hostile server: a split emoji and a cut stream (issue 13)."""

from __future__ import annotations

from pathlib import Path

from attractor_tui.core.config import SideConfig
from attractor_tui.sessions.store import load_session
from tests.support.hostile_server import SPLIT_TEXT, HostileServer
from tests.support.ui import config, make_app, screen_text, session, wait_ended
from tests.support.waiting import wait_until


def hostile_side(server: HostileServer, fault: str) -> SideConfig:
    return SideConfig(model=f"openai/{fault}", params={"api_base": server.api_base})


async def test_a_split_emoji_reaches_the_screen_and_the_file(tmp_path: Path,
                                                             hostile: HostileServer) -> None:
    app = make_app(tmp_path, config(a=hostile_side(hostile, "split-surrogate"), turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_ended(pilot)
        assert SPLIT_TEXT in screen_text(app)
        end = session(app).end
        assert end is not None and end.reason == "turns"
    log = load_session(tmp_path / "session.jsonl")
    assert log.turns[0].text == SPLIT_TEXT


async def test_a_cut_stream_pauses_with_a_plain_message(tmp_path: Path,
                                                        hostile: HostileServer) -> None:
    app = make_app(tmp_path, config(a=hostile_side(hostile, "cut-stream"), turns=1,
                                    num_retries=0))
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        screen = session(app)
        await wait_until(pilot, lambda: screen.error_pending, what="error")
        text = screen_text(app)
        assert f"the connection to 127.0.0.1:{hostile.port} closed mid-reply" in text
        assert "OpenAIException" not in text and "APIConnectionError" not in text
