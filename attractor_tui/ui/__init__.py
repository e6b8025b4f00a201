"""The Textual user interface; see `app.run_app` and `app.AttractorApp`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import AttractorApp, run_app

__all__ = ["AttractorApp", "run_app"]


def __getattr__(name: str) -> Any:
    """Import the app lazily: `attractor_tui.ui.sanitize` must not pull in Textual."""
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(name)
