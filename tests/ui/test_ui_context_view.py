"""`x`: what each side is sent, live (next call, call in progress) and in replay.

The view's messages are compared with `core.sent` on the engine's own turns
(tests/core/test_sent.py checks those against the calls litellm received);
here the app must show them: roles, system prompt, tool results, trims,
token counts and the window's share. One SVG snapshot holds the layout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import ContextTrim
from attractor_tui.core.sent import last_model_turn, next_call, turn_call
from attractor_tui.experiments.toolpacks import load_tool_pack
from attractor_tui.sessions.store import load_session
from attractor_tui.ui.screens import context_view
from attractor_tui.ui.screens.context_view import ContextViewScreen, SentMessage, SideCall
from attractor_tui.ui.screens.session import SessionScreen
from attractor_tui.ui.standalone import replay_app
from tests.support.builders import DENIED, GARDEN, scripted, write_session
from tests.support.ui import make_app, screen_text, session, wait_ended
from tests.support.waiting import settle, wait_until

SIZE = (120, 40)
ROLES = ["system", "user", "assistant", "tool", "user", "assistant", "tool"]
"""A's last call of two rounds: the seed, its refused exit (the call and its
result), B's reply, then in its second turn the same refused exit again."""


def _config(turns: int = 2, **a_kw: Any) -> SessionConfig:
    a = SideConfig(model="scripted/tools", system="You are A, a careful gardener.",
                   params={"script": [DENIED, *GARDEN]},
                   tools=load_tool_pack("exit-costs").tools, context_tokens=2048, **a_kw)
    b = SideConfig(model="scripted/garden", system="You are B.", params={"script": GARDEN})
    return SessionConfig(a=a, b=b, seed="Hello there", turns=turns)


def _view(pilot: Pilot[Any]) -> ContextViewScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ContextViewScreen)
    return screen


async def _open(pilot: Pilot[Any]) -> ContextViewScreen:
    await pilot.press("x")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContextViewScreen))
    view = _view(pilot)
    await wait_until(pilot, lambda: view.counted, what="tokens counted")
    return view


async def test_x_after_the_end_shows_each_sides_last_call(tmp_path: Path) -> None:
    cfg = _config()
    app = make_app(tmp_path, cfg)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ended(pilot)
        engine = session(app).engine
        assert engine is not None
        view = await _open(pilot)
        a = view.calls["A"]
        last_a = engine.turns[-2]
        assert a.kind == "turn" and a.turn == last_a
        assert a.messages == turn_call(cfg, engine.turns, engine.trims, last_a).messages
        assert [m["role"] for m in a.messages] == ROLES
        assert a.added == 2  # its own refused exit in this turn, then the call after it
        text = screen_text(app)
        assert "You are A, a careful gardener." in text
        assert "the call that wrote turn 3" in text
        assert "added during this turn" in text
        assert last_a.usage is not None
        assert f"the model counted {last_a.usage.prompt_tokens:,} over all" in text
        assert "1 · system ·" in text and "tok" in text
        assert "of the 2,048-token window" in text
        assert "tools offered with the call: forbidden_exit" in text
        assert "tool result for" in text  # A's refused exit and its result are in its history
        pane = view.query_one("#call-a", SideCall)
        assert pane.counts is not None and pane.counts[1] > 0
        await pilot.press("b")
        await settle(pilot)
        text = screen_text(app)
        assert "You are B." in text and "window unknown" in text
        await pilot.press("y")
        copied = json.loads(app.clipboard)
        assert copied["model"] == "scripted/garden"
        assert copied["messages"] == view.calls["B"].messages
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen))


async def test_x_while_a_side_writes_shows_the_call_in_progress(tmp_path: Path) -> None:
    stalled = {"text": "Thinking about the roses", "stall": 30}
    cfg = SessionConfig(a=scripted(["Hello!", stalled]), b=scripted(name="echo"), turns=3)
    app = make_app(tmp_path, cfg)
    async with app.run_test(size=SIZE) as pilot:
        screen = session(app)
        await wait_until(pilot, lambda: screen.engine is not None
                         and screen.engine.completed_turns == 2
                         and screen.engine.generating == "A", settled=False)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ContextViewScreen),
                         settled=False)
        view = _view(pilot)
        assert view.calls["A"].kind == "now" and view.calls["B"].kind == "next"
        assert [m["role"] for m in view.calls["A"].messages] == [
            "system", "user", "assistant", "user"]
        engine = screen.engine
        assert engine is not None
        assert view.calls["B"].messages == next_call(cfg, "B", engine.turns,
                                                     engine.trims).messages
        assert [m["role"] for m in view.calls["B"].messages] == ["system", "user", "assistant"]
        assert view.calls["B"].messages[1]["content"] == "Hello!"
        await wait_until(pilot, lambda: "call in progress" in screen_text(app), settled=False)


async def test_replay_shows_the_call_of_the_turn_in_view(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", turns=8, extras=True)
    log = load_session(path)
    app = replay_app(log, speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.controller.at_end)  # type: ignore[attr-defined]
        view = await _open(pilot)
        last_a = last_model_turn(log.turns, "A")
        assert last_a is not None and last_a.index == 6  # after the trim of A at turn 3
        assert view.calls["B"].turn == log.turns[7]
        call = view.calls["A"]
        assert call.kind == "turn" and call.turn == last_a
        trims = [e for e in log.events[: log.events.index(last_a)]
                 if isinstance(e, ContextTrim)]
        assert trims and call.trim == trims[-1]
        assert call.messages == turn_call(log.config, log.turns, trims, last_a).messages
        text = screen_text(app)
        assert f"the call that wrote turn {last_a.index + 1}" in text
        assert f"turns before turn {trims[-1].keep_from + 1} dropped" in text
        assert "the model counted 5 " in text  # the file's usage: its provider's own count
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ContextViewScreen))
        await pilot.press("g")
        await settle(pilot)
        # back to turn 1: B has not spoken yet
        await pilot.press("end", "backspace", "backspace", "backspace", "1", "enter")
        await settle(pilot, 0.2)
        view = await _open(pilot)
        assert view.calls["A"].kind == "turn" and view.calls["B"].kind == "next"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ContextViewScreen))
        await pilot.press("g")
        await settle(pilot)
        # turn 5 is the operator's, in A's place: no call wrote it, A's was turn 3's
        await pilot.press("end", "backspace", "backspace", "backspace", "5", "enter")
        await settle(pilot, 0.2)
        view = await _open(pilot)
        turn = view.calls["A"].turn
        assert turn is not None and turn.index == 2


async def test_a_long_call_folds_its_middle_and_copies_it_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context_view, "MAX_SHOWN", 5)
    log = load_session(write_session(tmp_path / "long.jsonl", turns=30))
    app = replay_app(log, speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.controller.at_end)  # type: ignore[attr-defined]
        view = await _open(pilot)
        call = view.calls["A"]
        assert len(call.messages) == 30  # system, seed, the 28 turns before A's last
        shown = [w.number for w in view.query_one("#call-a", SideCall).query(SentMessage)]
        assert shown == [1, 2, 26, 27, 28, 29, 30]
        assert "… 23 messages not shown here (numbers 3–25); y copies them all as JSON" \
            in screen_text(app)
        await pilot.press("y")
        assert json.loads(app.clipboard)["messages"] == call.messages


@pytest.fixture
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("_in_tmp")
def test_context_view_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_ended(pilot)
        await _open(pilot)
        await settle(pilot)

    app = make_app(tmp_path, _config())
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
