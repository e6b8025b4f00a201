"""SVG snapshot tests of the main screens (pytest-textual-snapshot).

Deterministic by construction: scripted models, a frozen clock (elapsed time
shows 0:00), a session path relative to the working directory, cursor blink
off, and every run waits for a known point (the end, a pause, an error).
Regenerate with `pytest tests/ui/test_ui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from attractor_tui.core.config import SideConfig
from attractor_tui.ui.app import AttractorApp
from tests.support.builders import scripted
from tests.support.ui import config, make_app, screen_text, session, wait_ended
from tests.support.waiting import settle, wait_until

SIZE = (140, 36)
MARKDOWN_REPLY = (
    "Here is **some Markdown** with `code`, a list and a quote:\n\n"
    "- first point\n- second point\n\n> quoted wisdom\n\n"
    "```python\nprint('hello')\n```"
)
TOOL_REPLY = {
    "text": "I think we are done here.",
    "tool_calls": [{"name": "end_conversation", "arguments": {"reason": "goodbyes said",
                                                             "confidence": 0.9}}],
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp so the session path shown is just `session.jsonl`."""
    monkeypatch.chdir(tmp_path)


def _app(tmp_path: Path, cfg: Any, **kw: Any) -> AttractorApp:
    return make_app(tmp_path, cfg, **kw)


def _no_blink(pilot: Pilot) -> None:
    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False


async def _ended(pilot: Pilot) -> None:
    await wait_ended(pilot)
    _no_blink(pilot)
    await settle(pilot)


def test_start_screen(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        _no_blink(pilot)
        counts = [pilot.app.screen.query_one(f"#tokens-{k}") for k in "ab"]
        await wait_until(pilot, lambda: all("tokens" in str(c.render()) for c in counts), 60,
                         "both prompts counted")  # counted in a thread: wait for the lines

    assert snap_compare(_app(tmp_path, None), terminal_size=(120, 40), run_before=run_before)


def test_session_ended(snap_compare, tmp_path: Path) -> None:
    cfg = config(a=scripted(["Hello! Shall we talk about attractors?", MARKDOWN_REPLY]),
                 b=scripted(name="echo"), turns=2)
    assert snap_compare(_app(tmp_path, cfg), terminal_size=SIZE, run_before=_ended)


def test_running_session(snap_compare, tmp_path: Path) -> None:
    """Mid-stream: A's reply has its first words on screen and waits for more."""
    stalled = {"text": "Gladly: **goodbye loops** first, then the emoji spirals, and then",
               "stall": 60}
    cfg = config(a=scripted(["Hello! Shall we talk about attractors?", stalled], chunk_size=30),
                 turns=2)

    async def run_before(pilot: Pilot) -> None:
        screen = session(pilot.app)  # type: ignore[arg-type]
        await wait_until(pilot, lambda: screen.engine and screen.engine.completed_turns == 2
                       and screen.engine.generating == "A", settled=False)
        await wait_until(pilot, lambda: "goodbye loops" in screen_text(pilot.app))  # type: ignore[arg-type]
        _no_blink(pilot)
        await settle(pilot)

    assert snap_compare(_app(tmp_path, cfg), terminal_size=SIZE, run_before=run_before)


def test_paused(snap_compare, tmp_path: Path) -> None:
    cfg = config(a=scripted(["A first reply that streams for a little while. " * 3], delay=0.01),
                 turns=2)

    async def run_before(pilot: Pilot) -> None:
        screen = session(pilot.app)  # type: ignore[arg-type]
        await wait_until(pilot, lambda: screen.engine and screen.engine.generating == "A",
                       settled=False)
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.engine.state == "paused"
                       and screen.engine.generating is None)
        _no_blink(pilot)
        await settle(pilot)

    assert snap_compare(_app(tmp_path, cfg), terminal_size=SIZE, run_before=run_before)


def test_interjection_bar_open(snap_compare, tmp_path: Path) -> None:
    """While A writes (the bar is for a running session; after the end it is not offered)."""
    stalled = {"text": "Gladly: **goodbye loops** first, then", "stall": 60}

    async def run_before(pilot: Pilot) -> None:
        screen = session(pilot.app)  # type: ignore[arg-type]
        await wait_until(pilot, lambda: "goodbye loops" in screen_text(pilot.app),  # type: ignore[arg-type]
                         settled=False)
        await pilot.press("i", "tab", *"Please", "ctrl+j", *"change topic.")
        assert screen.bar.input.text == "Please\nchange topic."
        _no_blink(pilot)
        await settle(pilot)

    cfg = config(a=scripted([stalled], chunk_size=30), turns=1)
    assert snap_compare(_app(tmp_path, cfg), terminal_size=SIZE, run_before=run_before)


def test_tool_panel_with_entry(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ended(pilot)
        await pilot.press("t")
        await settle(pilot)
        tools = pilot.app.screen.query_one("#tools")
        # Shorter than the panel: drawn from the top, not bottom-aligned.
        assert (tools.scroll_y, tools.is_anchored) == (0, False)

    cfg = config(a=scripted([TOOL_REPLY]), turns=1)
    assert snap_compare(_app(tmp_path, cfg), terminal_size=SIZE, run_before=run_before)


def test_error_card(snap_compare, tmp_path: Path) -> None:
    failing = SideConfig(model="scripted/fail", params={"mock_response": "litellm.RateLimitError"})

    async def run_before(pilot: Pilot) -> None:
        screen = session(pilot.app)  # type: ignore[arg-type]
        await wait_until(pilot, lambda: screen.error_pending)
        _no_blink(pilot)
        await settle(pilot)

    cfg = config(a=failing, num_retries=0)
    assert snap_compare(_app(tmp_path, cfg), terminal_size=SIZE, run_before=run_before)


def test_light_theme(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        pilot.app.theme = "attractor-light"
        await _ended(pilot)

    cfg = config(a=scripted(["Hello! Shall we talk about attractors?", MARKDOWN_REPLY]), turns=2)
    assert snap_compare(_app(tmp_path, cfg), terminal_size=SIZE, run_before=run_before)


def test_narrow_layout(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path, config(turns=2)), terminal_size=(90, 40),
                        run_before=_ended)


def test_help_screen(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _ended(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(_app(tmp_path, config(turns=1)), terminal_size=(120, 50),
                        run_before=run_before)


def test_small_screen_layout(snap_compare, tmp_path: Path) -> None:
    """60x24: the panes get the room, the meter is one line, the footer names what it can."""
    assert snap_compare(_app(tmp_path, config(turns=3)), terminal_size=(60, 24),
                        run_before=_ended)


def test_new_text_below_marker(snap_compare, tmp_path: Path) -> None:
    """Scrolled up in A's pane when text arrives below: the marker says so."""
    replies = [f"Reply {n}: a short paragraph.\n\nAnd a second one." for n in range(12)]

    async def run_before(pilot: Pilot) -> None:
        await _ended(pilot)
        pane = session(pilot.app).pane("A")  # type: ignore[arg-type]
        pane.focus()
        pane.action_scroll_home()
        pane.add_notice("a note that arrived below", kind="end")
        await wait_until(pilot, lambda: pane.marker.display)
        assert pane.scroll_y == 0
        pilot.app.clear_notifications()  # the attractor toast's timing varies with load
        await settle(pilot)

    cfg = config(a=scripted(replies), turns=12)
    assert snap_compare(_app(tmp_path, cfg), terminal_size=SIZE, run_before=run_before)


THREE_SIZES = [(160, 48), (90, 40), (60, 24)]
"""Where a new user tried it (issue 25, items 9 and 10): every label that fits,
no word broken, the session file named, the meter's values beside their bars."""


@pytest.mark.parametrize("size", THREE_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_session_at_three_sizes(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    cfg = config(a=scripted(["Hello! Shall we talk about attractors?", MARKDOWN_REPLY,
                             "Goodbye for now 👋"]), b=scripted(name="echo"), turns=3)
    path = tmp_path / "sessions" / "2026-12-07T16-20-00-hello-there.jsonl"

    async def run_before(pilot: Pilot) -> None:
        await _ended(pilot)
        pilot.app.clear_notifications()  # the status line under the attractor toast
        await settle(pilot)
        if size[0] >= 90:  # 60 columns cannot hold this long a name: it ends in …
            assert path.name in screen_text(pilot.app).splitlines()[-2]

    assert snap_compare(_app(tmp_path, cfg, session_path=path), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", [*THREE_SIZES, (40, 12)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_start_screen_at_sizes(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    """It opens at its title, Help is in the footer once, and no word is broken."""

    async def run_before(pilot: Pilot) -> None:
        _no_blink(pilot)
        counts = [pilot.app.screen.query_one(f"#tokens-{k}") for k in "ab"]
        await wait_until(pilot, lambda: all("tokens" in str(c.render()) for c in counts), 60,
                         "both prompts counted")
        assert pilot.app.screen.query_one("#start-form").scroll_y == 0
        footer = screen_text(pilot.app).splitlines()[-1]
        assert footer.count("Help") == 1

    assert snap_compare(_app(tmp_path, None, start_screen=True), terminal_size=size,
                        run_before=run_before)
