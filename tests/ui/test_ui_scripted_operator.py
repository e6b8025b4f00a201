"""A scripted operator turn (issue 27) in the live app: it lands in its side's pane, titled
with the rule that fired, and the operator can still type a turn of their own."""

from __future__ import annotations

from pathlib import Path

from attractor_tui.core.config import ScriptedTurn
from attractor_tui.sessions.store import load_session
from tests.support.builders import scripted
from tests.support.ui import config, make_app, screen_text, session, wait_ended, wait_generating

SLOW = 0.02


async def test_a_scripted_turn_is_shown_as_it_lands_and_typing_still_works(
        tmp_path: Path) -> None:
    cfg = config(a=scripted(["First of A. " * 8, "Second of A. " * 8], delay=SLOW),
                 b=scripted(["B speaks. " * 8], delay=SLOW), turns=3,
                 operator=[ScriptedTurn(round=2, side="B", text="Scripted pressure from B")])
    app = make_app(tmp_path, cfg)
    async with app.run_test(size=(150, 44)) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("i", "tab")  # B is waiting: the typed text is B's next turn
        session(app).bar.input.insert("Typed by the operator as B")
        await pilot.press("enter")
        await wait_ended(pilot)
        text = screen_text(app)
        assert "operator as B · #4 · scripted: round 2" in text
        assert "Scripted pressure from B" in text
    turns = load_session(tmp_path / "session.jsonl").turns
    operator = [(t.index, t.side, t.scripted, t.text) for t in turns if t.author == "operator"]
    assert operator == [(1, "B", None, "Typed by the operator as B"),
                        (3, "B", True, "Scripted pressure from B")]
