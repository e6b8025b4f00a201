"""Quitting while a side's model rewrites its memory notes (issue 27's leftover): the
status line says what the session waits for, the app waits for the notes instead of
cutting them off after the usual stop timeout, and q again quits at once, the file
saying the notes were not updated."""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor_tui.core.config import SessionConfig
from attractor_tui.sessions.store import load_session
from attractor_tui.ui.screens import session as session_screen
from attractor_tui.ui.widgets.status import StatusLine
from tests.support.builders import scripted
from tests.support.ui import make_app, session
from tests.support.waiting import wait_until


async def test_quit_waits_for_the_notes_and_q_again_quits_without_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_screen, "STOP_TIMEOUT", 0.2)  # what a turn in flight gets
    memory = tmp_path / "notes.md"
    side = scripted(name="echo").model_copy(update={"memory": str(memory)})
    slow = side.model_copy(update={"params": {"delay": 0.25}})  # notes: 50 chunks, 12 s
    app = make_app(tmp_path, SessionConfig(a=side, b=slow, turns=1))
    async with app.run_test(size=(160, 40)) as pilot:
        screen = session(app)
        await wait_until(pilot, lambda: screen.engine is not None
                         and screen.engine.state == "remembering"
                         and "B is updating" in str(screen.query_one(StatusLine).render()),
                         60, "B's notes being written")
        status = str(screen.query_one(StatusLine).render())
        assert f"ending: B is updating its notes in {memory}" in status
        assert "q again: quit without them" in status
        await pilot.press("q")
        await pilot.press("y")  # "still running: stop it and quit?"
        await pilot.pause(0.8)  # well past STOP_TIMEOUT: still waiting for B's notes
        assert app.is_running and screen.engine is not None and screen.engine.ended is None
        await pilot.press("q")  # again: now, without B's notes
        await wait_until(pilot, lambda: not app.is_running or screen.engine.ended is not None,
                         10, "the quit")
    log = load_session(tmp_path / "session.jsonl")
    assert [e.message for e in log.errors] == [
        f"notes not updated (stopped before B's model answered); {memory} is unchanged"]
    assert log.end is not None
    assert "## B" not in memory.read_text(encoding="utf-8")
