"""What a narrow terminal keeps, and what a card says (issue 25, items 9 and 10).

The snapshots at 160x48, 90x40 and 60x24 (test_ui_snapshots.py) show the
whole picture; these pin down the words that must survive.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor_tui.ui.widgets.message import heading_for
from tests.support.ui import config, make_app, screen_lines, wait_ended


def test_a_card_names_the_model_only_when_the_pane_title_does_not() -> None:
    assert heading_for("A", "scripted/goodbye", "model", 0, pane_model="scripted/goodbye") == "#1"
    assert heading_for("A", "openai/gpt-4o", "model", 2, "interrupted",
                       pane_model="scripted/goodbye") == "openai/gpt-4o · #3 · interrupted"
    assert heading_for("B", "operator", "operator", 1, pane_model="scripted/echo") == (
        "operator as B · #2")


@pytest.mark.parametrize("width", [90, 60])
async def test_narrow_footer_and_status_keep_their_most_useful_words(
    tmp_path: Path, width: int,
) -> None:
    path = tmp_path / "sessions" / "2026-12-07-hello.jsonl"
    app = make_app(tmp_path, config(turns=1), session_path=path)
    async with app.run_test(size=(width, 30)) as pilot:
        await wait_ended(pilot)
        app.clear_notifications()
        await pilot.pause()
        *_, status, footer = screen_lines(app)
        assert path.name in status  # the session file, not an ellipsis
        # labels before bare keys: the first actions keep a (shorter) word
        assert "e Export" in footer and "v Replay" in footer and "? Help" in footer
        if width == 90:
            assert "y Copy" in footer and "Y All" in footer
        assert "…" not in footer  # no word cut short
