"""A scripted operator turn (issue 27) in the live app: it lands in its side's pane, titled
with the rule that fired, and the operator can still type a turn of their own."""

from __future__ import annotations

from pathlib import Path

from attractor_tui.core.config import ScriptedTurn
from attractor_tui.sessions.store import load_session
from tests.support.builders import scripted
from tests.support.ui import (
    config,
    make_app,
    screen_text,
    session,
    wait_ended,
    wait_generating,
)

SLOW = 0.02
FIRST = " ".join(f"word{i}" for i in range(150))
"""A first turn long enough that B is still waiting when the typed turn is sent."""


async def test_a_scripted_turn_is_shown_as_it_lands_and_typing_still_works(
        tmp_path: Path) -> None:
    # A's first turn is long, so B is surely still waiting when the typed turn is sent
    # (on a loaded machine a short one ended first and B's writing asked "next or now?")
    cfg = config(a=scripted([FIRST, "Second of A. " * 8, "Third of A. " * 8], delay=SLOW),
                 b=scripted(["B speaks. " * 8], delay=SLOW), turns=3,
                 operator=[ScriptedTurn(round=2, side="B", text="Scripted pressure from B")])
    app = make_app(tmp_path, cfg)
    async with app.run_test(size=(150, 44)) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("i", "tab")  # B is waiting: the typed text is B's next turn
        session(app).bar.input.insert("Typed by the operator as B")
        await pilot.press("enter")
        await wait_ended(pilot, timeout=40)
        text = screen_text(app)
        assert "operator as B · #4 · scripted: round 2" in text
        assert "Scripted pressure from B" in text
    turns = load_session(tmp_path / "session.jsonl").turns
    operator = [(t.index, t.side, t.scripted, t.text) for t in turns if t.author == "operator"]
    assert operator == [(1, "B", None, "Typed by the operator as B"),
                        (3, "B", True, "Scripted pressure from B")]
