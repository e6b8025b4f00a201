"""Replay tells what happened where and when it did (issue 25, item 6).

Each session is recorded by the real app driving the real engine (scripted
sides), then read back from its file into the replay screen: an interrupted
turn is never delivered (the file, the card and the README agree), an
interruption's card is in the pane of the side it stopped, and `p` pressed
during a turn is shown after that turn, where it took effect.
"""

from __future__ import annotations

from pathlib import Path

from attractor_tui.core.events import EMPTY_PLACEHOLDER, OperatorAction, Turn
from attractor_tui.sessions.store import load_session
from attractor_tui.sessions.timeline import build_timeline
from attractor_tui.ui.screens.dialogs import InterjectChoiceScreen
from attractor_tui.ui.screens.replay import ReplayScreen
from attractor_tui.ui.standalone import replay_app
from attractor_tui.ui.widgets.message import turn_body
from tests.support.builders import scripted
from tests.support.ui import LONG, config, make_app, screen_text, session, wait_generating
from tests.support.waiting import wait_until

SIZE = (140, 40)
SHORT_A = "Hello from A. This reply streams slowly enough to press keys. " * 4


def pane_text(app: object, side: str) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ReplayScreen)
    pane = screen.pane(side)  # type: ignore[arg-type]
    lines = screen_text(app).splitlines()  # type: ignore[arg-type]
    region = pane.region
    return "\n".join(line[region.x:region.right] for line in lines[region.y:region.bottom])


async def replayed(path: Path) -> tuple[str, str]:
    """The A and B panes of the whole session replayed at once."""
    app = replay_app(load_session(path), speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.controller.at_end)  # type: ignore[attr-defined]
        return pane_text(app, "A"), pane_text(app, "B")


async def test_an_interrupted_empty_turn_is_kept_and_never_sent(tmp_path: Path) -> None:
    slow_nothing = scripted([""], delay=5.0)  # no text arrives before `P`
    app = make_app(tmp_path, config(a=slow_nothing, turns=1))
    async with app.run_test(size=SIZE) as pilot:
        engine = session(app).engine
        await wait_until(pilot, lambda: engine is not None and engine.generating == "A",
                         settled=False)
        await pilot.press("P")  # pause now: the turn stops, empty
        assert engine is not None
        await wait_until(pilot, lambda: engine.paused and engine.generating is None,
                         settled=False)
    path = tmp_path / "session.jsonl"
    turn = load_session(path).turns[0]
    assert turn.interrupted and turn.text == ""
    assert turn.sent_text is None  # nothing was sent in its place: it was never delivered
    a_pane, _ = await replayed(path)
    assert "∅ empty reply" in a_pane and "never sent to the other side" in a_pane
    assert "the other side was sent" not in a_pane


def test_an_older_file_with_a_placeholder_on_an_interrupted_turn_says_the_same() -> None:
    """Files written before the fix stored `[no reply]` on interrupted empty turns too."""
    turn = Turn(index=0, round=0, side="A", text="", sent_text=EMPTY_PLACEHOLDER,
                interrupted=True)
    shown = "".join(str(part) for part in getattr(turn_body(turn), "renderables", []))
    assert "never sent to the other side" in shown
    assert "the other side was sent" not in shown


async def test_an_interruption_is_drawn_in_the_pane_of_the_side_it_stopped(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, config(a=scripted([LONG], delay=0.03), turns=1))
    async with app.run_test(size=SIZE) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("i")
        session(app).bar.input.insert("Stop there")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, InterjectChoiceScreen),
                         settled=False)
        await pilot.press("i")
        await wait_until(pilot, lambda: session(app).end is not None)
    path = tmp_path / "session.jsonl"
    assert any(a.action == "interrupt" and a.detail == "A"
               for a in load_session(path).operator_actions)
    a_pane, b_pane = await replayed(path)
    assert "interrupted a turn" in a_pane
    assert "interrupted a turn" not in b_pane


async def test_pause_after_the_turn_is_shown_after_that_turn(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted([SHORT_A], delay=0.03), turns=1))
    async with app.run_test(size=SIZE) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("p")  # pause after A's turn, pressed while A writes it
        screen = session(app)
        engine = screen.engine
        assert engine is not None
        await wait_until(pilot, lambda: engine.state == "paused" and engine.generating is None)
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.end is not None)
    log = load_session(tmp_path / "session.jsonl")
    kinds = [(e.type, getattr(e, "action", getattr(e, "side", ""))) for e in log.events[1:4]]
    assert kinds[0] == ("operator", "pause")  # the file keeps when it was pressed
    order = [(type(i.event).__name__, getattr(i.event, "action", getattr(i.event, "side", "")))
             for i in build_timeline(log)]
    assert order.index(("Turn", "A")) < order.index(("OperatorAction", "pause"))
    a_pane, _ = await replayed(tmp_path / "session.jsonl")
    assert a_pane.index("Hello from A.") < a_pane.index("operator paused")
    pauses = [e for e in log.events if isinstance(e, OperatorAction) and e.action == "pause"]
    assert len(pauses) == 1
