"""The app when the session file cannot be written: a clear notice and end card, no crash.

Tests run as root, so the OS is made to refuse for real: a path under a
regular file (ENOTDIR), or `/dev/full` (ENOSPC once the first line is flushed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.ui import config, make_app, session, wait_ended


@pytest.mark.parametrize("where", ["under-a-file", "full-disk"])
async def test_app_shows_why_it_cannot_save(tmp_path: Path, where: str) -> None:
    if where == "full-disk" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    blocked = tmp_path / "afile"
    blocked.write_text("not a folder\n", encoding="utf-8")
    target = blocked / "s.jsonl"
    if where == "full-disk":
        target = tmp_path / "full.jsonl"
        target.symlink_to("/dev/full")
    app = make_app(tmp_path, config(), session_path=target)
    async with app.run_test() as pilot:
        await wait_ended(pilot, 30)
        await pilot.pause()
        screen = session(app)
        assert screen.end is not None and screen.end.reason == "error"
        assert "cannot write" in screen.end.detail
        messages = [n.message for n in app._notifications]  # noqa: SLF001
        assert any("cannot write" in m and "stopped" in m for m in messages), messages
        assert not screen.running
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code in (0, None)
