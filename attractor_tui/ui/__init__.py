"""The Textual user interface; see `app.run_app` and `app.AttractorApp`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attractor_tui.ui.app import AttractorApp, run_app

__all__ = ["AttractorApp", "run_app"]


def __getattr__(name: str) -> Any:
    """Import the app lazily: a submodule (themes, user config) should not load every screen."""
    if name in __all__:
        from attractor_tui.ui import app

        return getattr(app, name)
    raise AttributeError(name)
