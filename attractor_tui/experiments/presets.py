"""Load TOML preset files (tool packs, scenarios) with errors that say the fix.

Shipped presets live in the package; user presets in
`$XDG_CONFIG_HOME/attractor-tui/<kind>/` and override shipped ones by name.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from attractor_tui.paths import PRESETS, user_config_dir
from attractor_tui.sessions.log import SessionFileError, read_prompt, read_text

M = TypeVar("M", bound=BaseModel)


class PresetError(Exception):
    """A preset file is wrong; the message names the file, the key and the fix."""


def preset_dirs(kind: str) -> list[Path]:
    """Shipped first, then the user's (later ones win)."""
    return [PRESETS / kind, user_config_dir() / kind]


def available(kind: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for directory in preset_dirs(kind):
        if directory.is_dir():
            for path in sorted(directory.glob("*.toml")):
                found[path.stem] = path
    return found


def resolve(kind: str, name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        return path
    found = available(kind)
    if name_or_path not in found:
        names = ", ".join(sorted(found)) or "none"
        raise PresetError(f"no {kind[:-1]} named {name_or_path!r}; available: {names}")
    return found[name_or_path]


def load_model(path: Path, model: type[M], **extra: Any) -> M:
    """Parse a TOML file into `model`, turning every mistake into a `PresetError`."""
    try:
        data = tomllib.loads(read_preset(path))
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"{path}: not valid TOML ({exc}); fix the syntax there") from exc
    data.setdefault("name", path.stem)
    try:
        return model.model_validate({**data, **extra})
    except ValidationError as exc:
        raise PresetError(_explain(path, model, exc)) from exc


MAX_PRESET_BYTES = 1 << 20


def read_preset(path: Path) -> str:
    """A preset's text; `PresetError` naming the file for one that is not readable UTF-8.

    Read like a session file: a regular file only (a FIFO never blocks), bounded.
    """
    try:
        return read_text(path, MAX_PRESET_BYTES)
    except SessionFileError as exc:
        fix = "; save it as UTF-8" if "UTF-8" in str(exc) else ""
        raise PresetError(f"{exc}{fix}") from exc


def read_prompt_file(preset: Path, key: str, name: str) -> str:
    """The text of the file `key` names, relative to the preset; `PresetError` naming both."""
    target = (preset.parent / Path(name).expanduser()).resolve()
    try:
        return read_prompt(target)
    except SessionFileError as exc:
        raise PresetError(f"{preset}: key '{key}' = {name!r} cannot be read: {exc}") from exc


def _explain(path: Path, model: type[BaseModel], exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}': remove it or check its spelling")
        elif error["type"] == "literal_error":
            allowed = error.get("ctx", {}).get("expected", "")
            problems.append(f"key '{key}' has value {error['input']!r}; use one of {allowed}")
        elif error["type"] == "missing":
            problems.append(f"key '{key}' is missing: add it")
        else:
            problems.append(f"key '{key}': {error['msg']}")
    return f"{path}: " + "; ".join(problems)


class _Described(Protocol):
    description: str


def descriptions(kind: str, load: Callable[[str], _Described]) -> dict[str, str]:
    """Name -> description of every preset of `kind`; a broken one says why instead."""
    out = {}
    for name, path in available(kind).items():
        try:
            out[name] = load(str(path)).description
        except Exception as exc:  # a broken user file must not hide the others
            out[name] = f"(broken: {exc})"
    return out
