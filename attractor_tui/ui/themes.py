"""Colour themes: `themes/*.toml` loaded into Textual `Theme` objects.

A theme file is the keyword arguments of `textual.theme.Theme` as TOML, with
per-side colours in `[variables]` (`speaker-a`, `speaker-b`,
`speaker-operator`) that the app's stylesheet uses. The shipped `themes/*.toml`
are the only copy of our themes; `paths.themes_dir` finds them in a checkout
or an installed package. A broken file is reported (by file name) and
skipped, and a missing folder leaves Textual's own themes: never fatal.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from attractor_tui.paths import themes_dir

DEFAULT_THEME = "attractor-dark"
FALLBACK_THEME = "textual-dark"
"""Textual's own theme, used when the theme files (or the default one) are missing."""
SPEAKER_VARIABLES = ("speaker-a", "speaker-b", "speaker-operator")
SPEAKER_DEFAULTS = {"speaker-a": "#7dcfff", "speaker-b": "#ff9e64", "speaker-operator": "#bb9af7"}
"""Used when a theme (e.g. one of Textual's own) does not define the speaker colours."""

_COLOUR_FIELDS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel", "boost",
)
_OTHER_FIELDS = {"name": str, "dark": bool, "luminosity_spread": float, "text_alpha": float}


class ThemeFileError(ValueError):
    """A theme file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class ThemeSet:
    """The themes found, and the files that were skipped (with why)."""

    themes: list[Theme]
    problems: list[str]
    directory: Path
    """Where the theme files were looked for."""


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
    """The themes of the `*.toml` files in `directory` (default: the shipped ones)."""
    found: dict[str, Theme] = {}
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
    return ThemeSet(list(found.values()), problems, directory)


def _colour(value: Any, key: str, source: str) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"{source}: `{key}` must be a colour string")
    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ThemeFileError(f"{source}: `{key}` is not a colour ({value!r})") from exc
    return value
