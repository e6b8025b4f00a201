"""Where things are on disk: the user's config folder and the data shipped with the package.

One place, so the config folder and the shipped presets and themes are found
the same way by every layer. Imports nothing of ours.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR = "attractor-tui"
PACKAGE = Path(__file__).resolve().parent
PRESETS = PACKAGE / "presets"
"""Shipped scenarios and tool packs (`presets/scenarios`, `presets/toolpacks`)."""


def user_config_dir() -> Path:
    """`$XDG_CONFIG_HOME/attractor-tui` (default `~/.config/attractor-tui`)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP_DIR


def themes_dir() -> Path:
    """The shipped `themes/` folder: beside the package in a checkout, else installed data."""
    checkout = PACKAGE.parent / "themes"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / APP_DIR / "themes"
