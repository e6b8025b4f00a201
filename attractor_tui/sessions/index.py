"""A fast summary of every session file in a folder, for the session browser.

Loading 1,000 sessions in full takes far too long to open a list, so each
file is summarised by its format (`formats.summarise`) from its start and its
last few KB. Summaries are cached in `.index.json` in the folder, keyed by
file name, size and mtime; a changed file is summarised again. The session
files stay the source of truth: the index is only a cache, and a missing,
stale or unreadable index is simply rebuilt.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from attractor_tui.sessions import formats
from attractor_tui.sessions.formats.base import SessionSummary
from attractor_tui.sessions.store import SessionFileError, SessionLog, load_session

__all__ = [
    "INDEX_NAME",
    "LABEL_MAX_BYTES",
    "SessionIndex",
    "SessionSummary",
    "describe_error",
    "human_size",
    "read_summary",
    "session_label",
]

INDEX_NAME = ".index.json"
INDEX_VERSION = 1
LABEL_MAX_BYTES = 8 << 20
"""Larger files get no attractor label in the list (analysing them is not cheap)."""


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def read_summary(path: Path, stat: os.stat_result | None = None) -> SessionSummary:
    """Summarise one file through its format; never raises."""
    return formats.summarise(path, stat)


# ----------------------------------------------------------------- index


class SessionIndex:
    """Summaries of a folder's session files, cached in `.index.json`."""

    def __init__(self, directory: Path | str, *, index_name: str = INDEX_NAME) -> None:
        self.directory = Path(directory)
        self.index_path = self.directory / index_name
        self.summaries: dict[str, SessionSummary] = {}
        self.dirty = False
        self.rebuilt: list[str] = []
        """Files summarised afresh by the last `refresh` (the rest came from the index)."""

    def _load_index(self) -> dict[str, SessionSummary]:
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            return {}
        cached: dict[str, SessionSummary] = {}
        for name, entry in (data.get("sessions") or {}).items():
            try:
                cached[name] = SessionSummary.from_json(entry)
            except (TypeError, ValueError):
                continue
        return cached

    def refresh(self) -> list[SessionSummary]:
        """Stat every file; summarise new and changed ones; save the index if it changed."""
        cached = self.summaries or self._load_index()
        fresh: dict[str, SessionSummary] = {}
        self.rebuilt = []
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            entries = []
        for entry in entries:
            if not formats.is_session_file(entry.name):
                continue
            try:
                stat = entry.stat()
            except OSError:
                continue
            old = cached.get(entry.name)
            if old is not None and old.size == stat.st_size and old.mtime_ns == stat.st_mtime_ns:
                fresh[entry.name] = old
                continue
            fresh[entry.name] = read_summary(Path(entry.path), stat)
            self.rebuilt.append(entry.name)
        if self.rebuilt or set(fresh) != set(cached) or self.dirty:
            self.dirty = True
        self.summaries = fresh
        self.save()
        return self.list()

    def list(self) -> list[SessionSummary]:
        """Newest first."""
        return sorted(self.summaries.values(), key=lambda s: (s.when, s.name), reverse=True)

    def path(self, summary: SessionSummary) -> Path:
        return self.directory / summary.name

    def get(self, name: str) -> SessionSummary | None:
        return self.summaries.get(name)

    def update(self, name: str, **changes: Any) -> None:
        """Record what was learnt about a file (a label, an error found on opening)."""
        summary = self.summaries.get(name)
        if summary is not None:
            for key, value in changes.items():
                setattr(summary, key, value)
            self.dirty = True

    def forget(self, name: str) -> None:
        if self.summaries.pop(name, None) is not None:
            self.dirty = True

    def save(self) -> None:
        """Write the index if anything changed (atomically; a read-only folder is fine)."""
        if not self.dirty:
            return
        data = {
            "version": INDEX_VERSION,
            "note": "cache of the session browser; safe to delete",
            "sessions": {name: s.to_json() for name, s in sorted(self.summaries.items())},
        }
        tmp = self.index_path.with_name(self.index_path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            tmp.replace(self.index_path)
        except OSError:
            return
        self.dirty = False


def describe_error(exc: Exception, path: Path) -> str:
    """A `SessionFileError` without the path (the list shows it): "line 3: ..." ."""
    text = str(exc).removeprefix(f"{path}:")
    line = getattr(exc, "line", None)
    if line is not None:
        text = f"line {line}:" + text.removeprefix(f"{line}:")
    return text.strip()


def session_label(path: Path, label: Callable[[SessionLog], str]) -> tuple[str | None, str | None]:
    """(end state, error) for one file, by loading it in full and applying `label`.

    `label` is `analysis`'s end-state rule; this layer may not import it.
    """
    try:
        log = load_session(path)
    except SessionFileError as exc:
        return None, describe_error(exc, path)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    return label(log), None
