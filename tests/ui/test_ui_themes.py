"""Themes: the shipped files, a broken one, and the remembered choice."""

from __future__ import annotations

import shutil
from pathlib import Path

from attractor_tui.ui.themes import SPEAKER_VARIABLES, load_themes, themes_dir
from attractor_tui.ui.user_config import load_user_config
from tests.support.ui import make_app


def test_shipped_theme_files_load_with_speaker_colours() -> None:
    found = load_themes(themes_dir())
    assert found.problems == []
    names = {theme.name for theme in found.themes}
    assert {"attractor-dark", "attractor-light", "attractor-high-contrast"} <= names
    assert len([n for n in names if n.startswith("attractor-")]) >= 4
    for theme in found.themes:
        assert all(var in theme.variables for var in SPEAKER_VARIABLES), theme.name
    assert any(not theme.dark for theme in found.themes)


async def test_broken_theme_file_is_skipped_with_a_notification(tmp_path: Path) -> None:
    folder = tmp_path / "themes"
    shutil.copytree(themes_dir(), folder)
    (folder / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    (folder / "garbage.toml").write_text("this is = = not toml")
    app = make_app(tmp_path, None, themes_dir=folder)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]  # noqa: SLF001
        assert any("broken.toml" in m and "primary" in m for m in messages), messages
        assert any("garbage.toml" in m for m in messages), messages
        assert "broken" not in app.available_themes
        assert "attractor-light" in app.available_themes
        assert app.theme == "attractor-dark"


async def test_theme_choice_is_remembered_for_the_next_start(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.theme = "attractor-light"
        await pilot.pause()
    assert load_user_config()["theme"] == "attractor-light"
    again = make_app(tmp_path, None)
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert again.theme == "attractor-light"
        assert again.current_theme.variables["speaker-a"] == "#0b63c4"
