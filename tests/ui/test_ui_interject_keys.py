"""Keys meant for the interjection bar reach it, and only it (issue 25, item 2).

The keys here are posted to the app all at once, as a fast typist's (or a
loaded machine's) keys sit in its queue together: `Pilot.press` waits for the
app to go idle after every key, which hides exactly the race these tests are
about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot

from attractor_tui.sessions.store import load_session
from attractor_tui.ui.screens.dialogs import InterjectChoiceScreen
from attractor_tui.ui.widgets.interject import InterjectInput
from tests.support.builders import scripted
from tests.support.ui import LONG, config, make_app, session, wait_generating
from tests.support.waiting import wait_until

DELAY = 0.03


def post_keys(pilot: Pilot[Any], *keys: str) -> None:
    """Queue `keys` on the app in one go (a key name, or text typed letter by letter)."""
    for key in keys:
        if len(key) > 1 and (key in ("enter", "tab", "escape") or key.startswith("ctrl+")):
            pilot.app.post_message(events.Key(key, None))
            continue
        for char in key:
            pilot.app.post_message(events.Key(_character_to_key(char), char))


async def typed(pilot: Pilot[Any], text: str) -> None:
    """`wait_until` the bar holds `text` (every queued key has arrived)."""
    bar = session(pilot.app).bar  # type: ignore[arg-type]
    await wait_until(pilot, lambda: bar.input.text == text, 10, f"bar holds {text!r}",
                     settled=False)


async def answer_while_a_writes(pilot: Pilot[Any], text: str, choice: str) -> None:
    """Send `text` to A while A writes, and answer the question that follows with `choice`."""
    await wait_generating(pilot, "A")
    post_keys(pilot, "i", text, "enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, InterjectChoiceScreen),
                     settled=False)
    await pilot.press(choice)


def bar_has_focus(pilot: Pilot[Any]) -> bool:
    return isinstance(session(pilot.app).focused, InterjectInput)  # type: ignore[arg-type]


async def test_letters_typed_right_after_i_reach_the_bar_not_the_bindings(
    tmp_path: Path,
) -> None:
    """`p` (pause), `o`, `r`, `e` in "operator" are text once `i` has been pressed,
    even when they are already queued behind it."""
    app = make_app(tmp_path, config(a=scripted([LONG], delay=DELAY), turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        screen = session(app)
        post_keys(pilot, "i", "tab", "operator speaking")
        await typed(pilot, "operator speaking")
        engine = screen.engine
        assert engine is not None and not engine.paused
        assert screen.bar.target == "B"


async def test_after_interrupt_now_i_opens_the_bar_again(tmp_path: Path) -> None:
    """The reported case: interrupt now, then `i` and a second turn stored `iB here: ...`."""
    a = scripted([LONG, LONG], delay=DELAY)
    app = make_app(tmp_path, config(a=a, b=scripted(["Quick."]), turns=2))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = session(app)
        await answer_while_a_writes(pilot, "Stop there", "i")  # interrupt now
        engine = screen.engine
        assert engine is not None
        await wait_until(pilot, lambda: engine.pending("A") == [] and len(engine.turns) >= 3,
                         settled=False)
        # the bar has let go: the panes have the keys and the placeholder says so
        assert not bar_has_focus(pilot)
        assert screen.focused is screen.pane("A")
        assert "press i" in screen.bar.input.placeholder
        await wait_generating(pilot, "A")  # round 2: B is free, so no question
        post_keys(pilot, "i", "tab", "B here: second", "enter")
        await wait_until(pilot, lambda: engine.pending("B") == ["B here: second"],
                         settled=False)
        await wait_until(pilot, lambda: not bar_has_focus(pilot), settled=False)
        assert screen.bar.input.text == ""
    log = load_session(tmp_path / "session.jsonl")
    queued = [a.text for a in log.operator_actions if a.action == "queue"]
    assert queued == ["Stop there", "B here: second"]


async def test_next_turn_choice_and_direct_send_give_the_keys_back(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted([LONG], delay=DELAY), turns=2))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = session(app)
        await answer_while_a_writes(pilot, "later", "n")  # A's next turn
        engine = screen.engine
        assert engine is not None
        await wait_until(pilot, lambda: engine.pending("A") == ["later"], settled=False)
        await wait_until(pilot, lambda: not bar_has_focus(pilot), settled=False)
        assert screen.focused is screen.pane("A")
        # `p` is a command again: it pauses
        post_keys(pilot, "p")
        await wait_until(pilot, lambda: engine.paused, settled=False)
        # while paused, a direct send (no question) gives the keys back as well
        post_keys(pilot, "i", "tab", "direct", "enter")
        await wait_until(pilot, lambda: engine.pending("B") == ["direct"], settled=False)
        await wait_until(pilot, lambda: not bar_has_focus(pilot), settled=False)


async def test_placeholder_never_says_press_i_while_the_bar_has_the_keys(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, config(a=scripted([LONG], delay=DELAY), turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        bar = session(app).bar
        assert "press i" in bar.input.placeholder
        post_keys(pilot, "i")
        await wait_until(pilot, lambda: bar_has_focus(pilot), settled=False)
        assert "i to type" not in bar.input.placeholder
        assert "press i" not in bar.input.placeholder
        assert "Enter sends" in bar.input.placeholder
        post_keys(pilot, "escape")
        await wait_until(pilot, lambda: not bar_has_focus(pilot), settled=False)
        assert "press i" in bar.input.placeholder
