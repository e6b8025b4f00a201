"""The session browser over a folder with a FIFO and other non-files (issue 13, item 5).

A FIFO named `*.jsonl` used to block the browser's first index read on the UI
thread, so not even `q` worked; `deadline` turns such a hang into a failure.
"""

from __future__ import annotations

from pathlib import Path

from attractor_tui.ui.screens.browser import BrowserScreen
from attractor_tui.ui.standalone import browser_app
from tests.support.builders import write_session
from tests.support.hostile_files import deadline, make_special
from tests.support.waiting import settle, wait_until


async def test_browser_lists_a_fifo_as_broken_and_quits_on_q(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    write_session(folder / "20260101-120000-good.jsonl", 4)
    make_special(folder / "pipe.jsonl", "fifo")
    make_special(folder / "loop.jsonl", "symlink_loop")
    make_special(folder / "zero.jsonl", "device")
    app = browser_app(folder)
    with deadline(20):
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, BrowserScreen)
            errors = {s.name: s.error for s in screen.summaries}
            assert errors == {
                "20260101-120000-good.jsonl": None,
                "pipe.jsonl": "a named pipe (FIFO), not a regular file",
                "loop.jsonl": "cannot read: Too many levels of symbolic links",
                "zero.jsonl": "a character device, not a regular file",
            }
            good = screen.index.get("20260101-120000-good.jsonl")
            assert good is not None
            await wait_until(pilot, lambda: good.label is not None, what="labels")
            await pilot.press("q")
            await settle(pilot)
    assert app.return_code == 0
