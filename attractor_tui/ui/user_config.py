"""The user's own settings (the theme they picked), in the XDG config directory.

`$XDG_CONFIG_HOME/attractor-tui/config.toml` (default `~/.config/...`). A
missing file means "no settings". A file that cannot be read as TOML is never
ignored silently and never overwritten: `read_user_config` returns the problem
(the app shows it once) and `save_user_setting` leaves the file alone. A
setting is written with `tomlkit`, which keeps the user's comments, order and
other lines exactly as they were.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from attractor_tui.paths import user_config_dir
from attractor_tui.sessions.log import SessionFileError, read_text

FILE_NAME = "config.toml"
MAX_CONFIG_BYTES = 1 << 20


def config_path() -> Path:
    return user_config_dir() / FILE_NAME


def _text(path: Path) -> str | None:
    """The file's text, None if there is no file; `SessionFileError` if it cannot be read."""
    if not path.exists() and not path.is_symlink():
        return None
    return read_text(path, MAX_CONFIG_BYTES)  # a regular file only: a FIFO never blocks


def read_user_config(path: Path | None = None) -> tuple[dict[str, Any], str | None]:
    """The settings, and why the file was not used (None when it was, or is missing)."""
    path = path or config_path()
    try:
        text = _text(path)
        return ({}, None) if text is None else (tomllib.loads(text), None)
    except SessionFileError as exc:
        return {}, str(exc)
    except tomllib.TOMLDecodeError as exc:
        return {}, f"{path}: not valid TOML ({exc})"


def load_user_config(path: Path | None = None) -> dict[str, Any]:
    """The settings; {} for a missing or broken file (`read_user_config` says why)."""
    return read_user_config(path)[0]


def save_user_setting(key: str, value: str | int | float | bool,
                      path: Path | None = None) -> str | None:
    """Set one top-level setting, keeping everything else in the file as it was.

    Returns why nothing was written, or None: a file that is not valid TOML is
    not touched (rewriting it would lose the user's lines), and a read-only
    home must not break the app.
    """
    path = path or config_path()
    try:
        text = _text(path) or ""
        tomllib.loads(text)  # the reader's verdict; tomlkit alone is more lenient
        document = tomlkit.parse(text)
    except SessionFileError as exc:
        return f"{exc}; not changed"
    except (tomllib.TOMLDecodeError, TOMLKitError) as exc:
        return f"{path}: not valid TOML ({exc}); not changed, fix it to have settings saved"
    document[key] = value
    target = path.resolve()  # through a symlink (dotfiles), not over it
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(tomlkit.dumps(document), encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        return f"{path}: cannot write ({exc.strerror or exc})"
    return None
