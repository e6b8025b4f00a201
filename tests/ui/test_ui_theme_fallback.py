"""Without our theme files the app still starts, on Textual's own theme, and says why."""

from __future__ import annotations

import shutil
from pathlib import Path

from attractor_tui.ui.screens.start import StartScreen
from attractor_tui.ui.themes import DEFAULT_THEME, FALLBACK_THEME, themes_dir
from tests.support.ui import make_app


async def test_missing_theme_folder_falls_back_to_textuals_theme_with_a_notice(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-themes"
    app = make_app(tmp_path, None, themes_dir=missing)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        assert app.theme == FALLBACK_THEME
        assert not any(name.startswith("attractor-") for name in app.available_themes)
        messages = [n.message for n in app._notifications]  # noqa: SLF001
        assert any(str(missing) in m and "missing" in m and FALLBACK_THEME in m
                   for m in messages), messages


async def test_a_broken_default_theme_falls_back_but_keeps_the_others(tmp_path: Path) -> None:
    folder = tmp_path / "themes"
    shutil.copytree(themes_dir(), folder)
    (folder / f"{DEFAULT_THEME}.toml").write_text(f'name = "{DEFAULT_THEME}"\n')  # no primary
    app = make_app(tmp_path, None, themes_dir=folder)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == FALLBACK_THEME
        assert "attractor-light" in app.available_themes
        messages = [n.message for n in app._notifications]  # noqa: SLF001
        assert any(f"{DEFAULT_THEME}.toml" in m and "primary" in m for m in messages), messages
