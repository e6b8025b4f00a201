"""The app base every attractor-tui window shares: stylesheet, themes, remembered theme.

The live app and the small one-screen apps (replay, browser, report) must look
the same and remember the same theme choice, so the loading lives here once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Generic, TypeVar

from textual.app import App
from textual.theme import Theme

from attractor_tui.core.text import safe_line, safe_text
from attractor_tui.ui.themes import DEFAULT_THEME, FALLBACK_THEME, SPEAKER_DEFAULTS, load_themes
from attractor_tui.ui.user_config import read_user_config, save_user_setting

ReturnType = TypeVar("ReturnType")


class ThemedApp(App[ReturnType], Generic[ReturnType]):
    """Registers `themes/*.toml`, applies the saved theme, saves the user's choice."""

    TITLE = "attractor-tui"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere

    def __init__(self, *, themes_dir: Path | None = None) -> None:
        super().__init__()
        self.themes_dir = themes_dir
        self.theme_problems: list[str] = []
        """Theme files that were skipped, each with its reason."""
        self._saved_theme: str | None = None
        self.config_problem: str | None = None
        """Why the user's config.toml is not used, once it was reported."""

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(SPEAKER_DEFAULTS)

    def load_themes(self) -> None:
        """Call from `on_mount`: a broken theme file or a missing folder is reported,
        never fatal (Textual's own theme is used when ours are not there)."""
        found = load_themes(self.themes_dir)
        for theme in found.themes:
            self.register_theme(theme)
        self.theme_problems = found.problems
        for problem in found.problems:
            self.notify(safe_text(problem), title="Theme skipped", severity="warning",
                        markup=False, timeout=10)
        if not found.themes:
            where = safe_line(str(found.directory))
            why = "is missing" if not found.directory.is_dir() else "has no usable theme file"
            self.notify(f"The theme folder {where} {why}: using Textual's {FALLBACK_THEME}.",
                        title="No themes", severity="warning", markup=False, timeout=10)
        settings, unread = read_user_config()
        self._config_problem(unread)
        saved = settings.get("theme")
        self._saved_theme = saved if isinstance(saved, str) else None
        in_use = self._saved_theme in self.available_themes
        name = self._saved_theme if in_use and self._saved_theme else DEFAULT_THEME
        self.theme = name if name in self.available_themes else FALLBACK_THEME
        self.theme_changed_signal.subscribe(self, self._remember_theme)

    def _remember_theme(self, theme: Theme) -> None:
        """Persist the user's theme choice (palette or start screen)."""
        if theme.name != self._saved_theme:
            self._saved_theme = theme.name
            self._config_problem(save_user_setting("theme", theme.name))

    def _config_problem(self, problem: str | None) -> None:
        """Tell the user once that their settings file is not used (and not overwritten)."""
        if problem is None or self.config_problem is not None:
            return
        self.config_problem = problem
        self.notify(safe_text(f"{problem}. Your settings there are not used, and the theme "
                              "you pick is not saved until the file is fixed."),
                    title="Settings file not read", severity="warning", markup=False, timeout=15)
