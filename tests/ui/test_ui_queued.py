"""Queued operator text in the app (issue 16): quitting asks what becomes of it,
an end on the turn limit says it was kept, a resume brings it back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from attractor_tui.core.events import OperatorAction
from attractor_tui.sessions.runner import unused_queue
from attractor_tui.sessions.store import load_session
from attractor_tui.sessions.timeline import panes_for
from attractor_tui.ui.app import AttractorApp
from attractor_tui.ui.cards import end_card, notice_for, tool_event_for
from attractor_tui.ui.screens.dialogs import ConfirmScreen, QueuedQuitScreen
from tests.support.builders import frozen_clock, scripted
from tests.support.ui import config, make_app, screen_text, session, wait_ended, wait_generating
from tests.support.waiting import wait_until

SLOW = "A speaks slowly enough for the operator to act. " * 4
DELAY = 0.03
QUEUED = "slow text"


def slow_a(turns: int = 3) -> Any:
    return config(a=scripted([SLOW], delay=DELAY), turns=turns)


async def _queue_for_a_while_paused(pilot: Pilot[Any]) -> None:
    """The issue's repro: pause during A's first turn, then queue text for A (B is next)."""
    screen = session(pilot.app)  # type: ignore[arg-type]
    await wait_generating(pilot, "A")
    await pilot.press("p")
    engine = screen.engine
    assert engine is not None
    await wait_until(pilot, lambda: engine.state == "paused" and engine.generating is None)
    await pilot.press("i")
    screen.bar.input.insert(QUEUED)
    await pilot.press("enter")
    await wait_until(pilot, lambda: engine.pending("A") == [QUEUED])
    await pilot.press("escape")


async def _quit_with(pilot: Pilot[Any], key: str) -> None:
    app = pilot.app
    await pilot.press("q")
    await wait_until(pilot, lambda: isinstance(app.screen, QueuedQuitScreen), settled=False)
    assert "A×1" in screen_text(app)
    await pilot.press(key)
    for _ in range(1500):
        if app.return_code is not None:
            break
        await asyncio.sleep(0.01)
    assert app.return_code == 0


def _queue_events(path: Path) -> list[OperatorAction]:
    return [a for a in load_session(path).operator_actions if a.action == "queue"]


async def test_quit_and_send_first_lets_the_text_fill_its_slot(tmp_path: Path) -> None:
    app = make_app(tmp_path, slow_a())
    async with app.run_test(size=(140, 40)) as pilot:
        await _queue_for_a_while_paused(pilot)
        await _quit_with(pilot, "s")
    log = load_session(tmp_path / "session.jsonl")
    assert [(t.side, t.author) for t in log.turns if not t.interrupted][:3] == [
        ("A", "model"), ("B", "model"), ("A", "operator")]
    used = next(t for t in log.turns if t.author == "operator")
    assert used.text == QUEUED and used.from_queue == _queue_events(log.path)[0].ref
    assert unused_queue(log) == []
    assert log.end is not None and log.end.reason == "operator"


async def test_quit_and_keep_leaves_the_text_for_resume(tmp_path: Path) -> None:
    app = make_app(tmp_path, slow_a())
    async with app.run_test(size=(140, 40)) as pilot:
        await _queue_for_a_while_paused(pilot)
        await _quit_with(pilot, "k")
    path = tmp_path / "session.jsonl"
    log = load_session(path)
    assert all(t.author == "model" for t in log.turns)
    assert [a.text for a in unused_queue(log)] == [QUEUED]
    assert log.end is not None and log.end.reason == "operator"

    resumed = AttractorApp(None, tmp_path, resume=log, resume_turns=1, clock=frozen_clock())
    async with resumed.run_test(size=(140, 40)) as pilot:
        await wait_ended(pilot)
        text = screen_text(resumed)
        assert "restored queued turn(s), sent first:" in text
        assert "operator as A" in text
    after = load_session(path)
    new = after.turns[len(log.turns):]
    assert [(t.side, t.author) for t in new] == [("B", "model"), ("A", "operator")]
    assert new[1].text == QUEUED
    assert unused_queue(after) == []


async def test_quit_and_discard_drops_the_text(tmp_path: Path) -> None:
    app = make_app(tmp_path, slow_a())
    async with app.run_test(size=(140, 40)) as pilot:
        await _queue_for_a_while_paused(pilot)
        await _quit_with(pilot, "d")
    log = load_session(tmp_path / "session.jsonl")
    queued = _queue_events(log.path)
    drops = [a for a in log.operator_actions if a.action == "drop"]
    assert [(d.side, d.ref) for d in drops] == [("A", queued[0].ref)]
    assert unused_queue(log) == [] and all(t.author == "model" for t in log.turns)
    assert log.end is not None and log.end.reason == "operator"


async def test_escape_in_the_queued_quit_dialog_stays(tmp_path: Path) -> None:
    app = make_app(tmp_path, slow_a())
    async with app.run_test(size=(140, 40)) as pilot:
        await _queue_for_a_while_paused(pilot)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, QueuedQuitScreen), settled=False)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, QueuedQuitScreen))
        assert session(app).running and app.return_code is None
        assert session(app).queued() == {"A": 1, "B": 0}
        assert not isinstance(app.screen, ConfirmScreen)


async def test_end_on_the_turn_limit_says_the_queued_text_was_kept(tmp_path: Path) -> None:
    """Text for A queued while B writes the session's last turn."""
    app = make_app(tmp_path, config(b=scripted([SLOW], delay=DELAY), turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "B")
        await pilot.press("i")
        session(app).bar.input.insert(QUEUED)
        await pilot.press("enter")
        await wait_ended(pilot)
        text = screen_text(app)
        assert "session ended: turns" in text
        assert "queued text kept for resume" in text
    log = load_session(tmp_path / "session.jsonl")
    assert [a.text for a in unused_queue(log)] == [QUEUED]


def test_end_card_names_what_was_kept() -> None:
    from attractor_tui.core.events import SessionEnd

    end = SessionEnd(reason="turns", detail="2 turns")
    assert end_card(end).text == "session ended: turns (2 turns)"
    assert end_card(end, {"A": 0, "B": 0}).text == "session ended: turns (2 turns)"
    text = end_card(end, {"A": 2, "B": 1}).text
    assert "queued text kept for resume: 3 turn(s) you queued (A×2, B×1)" in text


def test_replay_and_cards_show_queue_events_on_their_side() -> None:
    queue = OperatorAction(action="queue", side="B", text="later", ref="r1")
    drop = OperatorAction(action="drop", side="B", ref="r1")
    assert panes_for(queue) == ("B",) and panes_for(drop) == ("B",)
    assert panes_for(OperatorAction(action="pause")) == ("A", "B")
    card = notice_for(queue)
    assert card is not None and card.text == "operator queued a turn for B: later"
    card = notice_for(drop)
    assert card is not None and card.text == "operator took back a queued turn for B"
    line = tool_event_for(queue)
    assert line is not None and (line.kind, line.text, line.side) == ("queue", "later", "B")


async def test_ctrl_r_takes_a_queued_turn_back_to_edit(tmp_path: Path) -> None:
    app = make_app(tmp_path, slow_a(turns=2))
    async with app.run_test(size=(140, 40)) as pilot:
        await _queue_for_a_while_paused(pilot)
        screen = session(app)
        engine = screen.engine
        assert engine is not None
        await pilot.press("i", "ctrl+r")
        await wait_until(pilot, lambda: screen.bar.input.text == QUEUED)
        assert engine.pending("A") == []
        await pilot.press("ctrl+r")  # nothing left to take back: the bar keeps its text
        assert screen.bar.input.text == QUEUED
        screen.bar.input.insert(", edited")
        await pilot.press("enter")
        await wait_until(pilot, lambda: engine.pending("A") == [QUEUED + ", edited"])
        await pilot.press("escape", "p")  # resume
        await wait_ended(pilot)
    log = load_session(tmp_path / "session.jsonl")
    first, second = _queue_events(log.path)
    drops = [a for a in log.operator_actions if a.action == "drop"]
    assert [d.ref for d in drops] == [first.ref]
    used = [t for t in log.turns if t.author == "operator"]
    assert [(t.side, t.text, t.from_queue) for t in used] == [
        ("A", QUEUED + ", edited", second.ref)]
    assert unused_queue(log) == []


async def test_replay_and_exports_of_a_file_with_queued_text(tmp_path: Path) -> None:
    """Used, dropped and never-sent queued text: the replay shows each on its side's
    pane without a display error; exports go on showing the turns only."""
    from attractor_tui.core.config import SessionConfig
    from attractor_tui.sessions.export import export_session
    from attractor_tui.sessions.runner import open_session
    from attractor_tui.ui.screens.replay import ReplayScreen
    from attractor_tui.ui.standalone import replay_app

    path = tmp_path / "s.jsonl"
    opened = open_session(SessionConfig(a=scripted(name="echo"), b=scripted(name="echo"),
                                        turns=1), path)
    await opened.engine.interject("B", "used by B")
    await opened.engine.interject("A", "withdrawn")
    await opened.engine.take_back("A")
    await opened.engine.interject("A", "used by A")
    await opened.engine.interject("A", "never sent")  # one round: A has one slot only
    await opened.run()
    log = load_session(path)
    assert [a.text for a in unused_queue(log)] == ["never sent"]

    app = replay_app(log, speed=0)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press("t")  # the tool panel draws the queue lines too
        await wait_until(pilot, lambda: screen.controller.at_end)
        text = screen_text(app)
        assert "operator queued a turn for B: used by B" in text
        assert "operator took back a queued turn for A" in text
        assert "operator queued a turn for A: never sent" in text
        assert screen.display_errors == []
    for fmt in ("json", "md", "html", "txt"):
        out = export_session(log, fmt)  # type: ignore[arg-type]
        assert "used by A" in out and "used by B" in out and "never sent" not in out


async def test_quitting_again_while_sending_quits_now_and_keeps_the_text(tmp_path: Path) -> None:
    long_b = scripted(["B takes its time here. " * 60], delay=DELAY)
    app = make_app(tmp_path, config(a=scripted([SLOW], delay=DELAY), b=long_b, turns=3))
    async with app.run_test(size=(140, 40)) as pilot:
        await _queue_for_a_while_paused(pilot)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, QueuedQuitScreen), settled=False)
        await pilot.press("s")
        await wait_generating(pilot, "B")  # the text waits behind B's turn
        await pilot.press("q")
        for _ in range(1500):
            if app.return_code is not None:
                break
            await asyncio.sleep(0.01)
        assert app.return_code == 0
    log = load_session(tmp_path / "session.jsonl")
    assert [a.text for a in unused_queue(log)] == [QUEUED]
    assert log.turns[-1].side == "B" and log.turns[-1].interrupted
    assert log.end is not None and log.end.reason == "operator"
