"""Colour themes: `themes/*.toml` loaded into Textual `Theme` objects.

A theme file is the keyword arguments of `textual.theme.Theme` as TOML, with
per-side colours in `[variables]` (`speaker-a`, `speaker-b`,
`speaker-operator`) that the app's stylesheet uses. Files are looked for in the
repository's top-level `themes/` directory; the built-ins below mirror the
shipped files so an installed package without that directory still has them.
A broken file is reported (by file name) and skipped, never fatal.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

import attractor_tui

DEFAULT_THEME = "attractor-dark"
SPEAKER_VARIABLES = ("speaker-a", "speaker-b", "speaker-operator")
SPEAKER_DEFAULTS = {"speaker-a": "#7dcfff", "speaker-b": "#ff9e64", "speaker-operator": "#bb9af7"}
"""Used when a theme (e.g. one of Textual's own) does not define the speaker colours."""

_COLOUR_FIELDS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel", "boost",
)
_OTHER_FIELDS = {"name": str, "dark": bool, "luminosity_spread": float, "text_alpha": float}

BUILTIN_THEMES: dict[str, dict[str, Any]] = {
    "attractor-dark": {
        "name": "attractor-dark", "dark": True, "primary": "#7aa2f7", "secondary": "#5a6b8c",
        "accent": "#e0af68", "warning": "#e0af68", "error": "#f7768e", "success": "#9ece6a",
        "foreground": "#d8dee9", "background": "#14161b", "surface": "#1c1f26",
        "panel": "#252a33",
        "variables": {"speaker-a": "#7dcfff", "speaker-b": "#ff9e64",
                      "speaker-operator": "#bb9af7", "footer-key-foreground": "#7aa2f7"},
    },
    "attractor-light": {
        "name": "attractor-light", "dark": False, "primary": "#0a58ca", "secondary": "#6c757d",
        "accent": "#b35900", "warning": "#9a6700", "error": "#cf222e", "success": "#1a7f37",
        "foreground": "#1f2328", "background": "#f6f6f2", "surface": "#ffffff",
        "panel": "#e4e4de",
        "variables": {"speaker-a": "#0b63c4", "speaker-b": "#b54708",
                      "speaker-operator": "#8250df", "footer-key-foreground": "#0a58ca"},
    },
    "attractor-high-contrast": {
        "name": "attractor-high-contrast", "dark": True, "primary": "#ffff00",
        "secondary": "#00ffff", "accent": "#ffff00", "warning": "#ffff00", "error": "#ff4040",
        "success": "#00ff00", "foreground": "#ffffff", "background": "#000000",
        "surface": "#000000", "panel": "#202020", "luminosity_spread": 0.0, "text_alpha": 1.0,
        "variables": {"speaker-a": "#00e5ff", "speaker-b": "#ffd700",
                      "speaker-operator": "#ff66ff", "footer-key-foreground": "#ffff00",
                      "border": "#ffffff"},
    },
    "attractor-solarized": {
        "name": "attractor-solarized", "dark": True, "primary": "#268bd2",
        "secondary": "#2aa198", "accent": "#b58900", "warning": "#cb4b16", "error": "#dc322f",
        "success": "#859900", "foreground": "#eee8d5", "background": "#002b36",
        "surface": "#073642", "panel": "#0e4352",
        "variables": {"speaker-a": "#2aa198", "speaker-b": "#d33682",
                      "speaker-operator": "#b58900", "footer-key-foreground": "#268bd2"},
    },
}


class ThemeFileError(ValueError):
    """A theme file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class ThemeSet:
    """The themes found, and the files that were skipped (with why)."""

    themes: list[Theme]
    problems: list[str]


def themes_dir() -> Path:
    """The top-level `themes/` directory next to the package."""
    return Path(attractor_tui.__file__).resolve().parents[1] / "themes"


def theme_from_mapping(data: dict[str, Any], source: str = "<theme>") -> Theme:
    """Validate a theme mapping (TOML content) and build the `Theme`."""
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise ThemeFileError(f"{source}: missing `name`")
    if not isinstance(data.get("primary"), str):
        raise ThemeFileError(f"{source}: missing `primary` colour")
    unknown = set(data) - set(_COLOUR_FIELDS) - set(_OTHER_FIELDS) - {"variables"}
    if unknown:
        raise ThemeFileError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for key in _COLOUR_FIELDS:
        if key in data:
            kwargs[key] = _colour(data[key], key, source)
    for key, kind in _OTHER_FIELDS.items():
        if key in data:
            value = data[key]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind):
                raise ThemeFileError(f"{source}: `{key}` must be a {kind.__name__}")
            kwargs[key] = value
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ThemeFileError(f"{source}: [variables] must map names to strings")
    for key in SPEAKER_VARIABLES:
        if key in variables:
            _colour(variables[key], key, source)
    theme = Theme(**kwargs, variables=dict(variables))
    try:
        theme.to_color_system().generate()
    except Exception as exc:  # textual raises assorted errors for odd values
        raise ThemeFileError(f"{source}: {exc}") from exc
    return theme


def load_theme_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeFileError(f"{path.name}: cannot read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"{path.name}: not valid TOML ({exc})") from exc
    return theme_from_mapping(data, path.name)


def load_themes(directory: Path | None = None) -> ThemeSet:
    """Built-in themes, overridden and extended by the `*.toml` files in `directory`."""
    found: dict[str, Theme] = {
        name: theme_from_mapping(spec, f"built-in {name}") for name, spec in BUILTIN_THEMES.items()
    }
    problems: list[str] = []
    directory = themes_dir() if directory is None else directory
    if directory.is_dir():
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeFileError as exc:
                problems.append(str(exc))
                continue
            found[theme.name] = theme
    return ThemeSet(list(found.values()), problems)


def _colour(value: Any, key: str, source: str) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"{source}: `{key}` must be a colour string")
    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ThemeFileError(f"{source}: `{key}` is not a colour ({value!r})") from exc
    return value
