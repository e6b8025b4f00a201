"""While paused, the footer offers Resume and the elapsed clock stands still (issue 25, item 7)."""

from __future__ import annotations

from pathlib import Path

from attractor_tui.sessions.store import load_session
from attractor_tui.ui.widgets.footer import KeyFooter
from attractor_tui.ui.widgets.status import StatusLine
from tests.support.builders import scripted
from tests.support.ui import LONG, config, make_app, session, wait_generating
from tests.support.waiting import wait_until

SHORT_A = "Hello from A. This reply streams slowly enough to press keys. " * 4


def footer_text(app: object) -> str:
    footer = session(app).query_one(KeyFooter)  # type: ignore[arg-type]
    return footer.render().plain


async def test_paused_footer_says_resume_and_the_clock_stops(tmp_path: Path) -> None:
    now = [0.0]
    app = make_app(tmp_path, config(a=scripted([SHORT_A, LONG], delay=0.03), turns=2),
                   clock=lambda: now[0])
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_generating(pilot, "A")
        screen = session(app)
        engine = screen.engine
        assert engine is not None
        assert "p Pause " in footer_text(app) and "Resume" not in footer_text(app)
        now[0] = 5.0
        await pilot.press("p")
        await wait_until(pilot, lambda: engine.state == "paused" and engine.generating is None)
        assert "p Resume" in footer_text(app)
        assert "p Pause " not in footer_text(app)  # `P Pause now` stays
        paused_at = screen.elapsed()
        assert paused_at >= 5.0
        now[0] = 600.0  # ten minutes away from the desk
        screen.refresh_status()
        assert screen.elapsed() == paused_at
        shown = str(screen.query_one(StatusLine).render())
        assert "10:" not in shown
        await pilot.press("p")  # resumes
        await wait_until(pilot, lambda: not engine.paused, settled=False)
        assert "p Pause " in footer_text(app)
        now[0] = 610.0
        assert screen.elapsed() == paused_at + 10.0
    log = load_session(tmp_path / "session.jsonl")
    assert [a.action for a in log.operator_actions][:2] == ["pause", "resume"]
