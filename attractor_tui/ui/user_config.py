"""The user's own settings (the theme they picked), in the XDG config directory.

`$XDG_CONFIG_HOME/attractor-tui/config.toml` (default `~/.config/...`). Only
top-level scalar settings are written; unknown keys already in the file are
kept. A missing or unreadable file means "no settings", never an error.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from attractor_tui.paths import user_config_dir

FILE_NAME = "config.toml"


def config_path() -> Path:
    return user_config_dir() / FILE_NAME


def load_user_config(path: Path | None = None) -> dict[str, Any]:
    path = path or config_path()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def save_user_setting(key: str, value: str | int | float | bool, path: Path | None = None) -> None:
    """Set one top-level setting, keeping the rest of the file's settings."""
    path = path or config_path()
    data = load_user_config(path)
    data[key] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(_dump(data), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a read-only home must not break the app


def _dump(data: dict[str, Any]) -> str:
    """Minimal TOML writer: top-level scalars and lists, then one level of tables."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    for name, table in tables:
        lines.append(f"\n[{_key(name)}]")
        lines.extend(
            f"{_key(k)} = {_value(v)}" for k, v in table.items() if not isinstance(v, dict)
        )
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    bare = key.replace("-", "").replace("_", "").isalnum()
    return key if bare else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
