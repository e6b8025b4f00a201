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
from attractor_tui.sessions.formats.jsonl import JSONLineError, parse_line
from attractor_tui.sessions.store import SessionFileError, SessionLog, read_text

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
INDEX_VERSION = 3
"""Bumped when summaries gain fields (2: prompt previews, conversation counts; 3: failed
runs)."""
INDEX_MAX_BYTES = 64 << 20
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
        """The cached summaries; {} for a missing or damaged index (it is only a cache).

        Read like a session file (a regular file only, bounded), since a FIFO
        or a hand-made file here must not block or crash the browser.
        """
        try:
            data = parse_line(read_text(self.index_path, INDEX_MAX_BYTES))
        except (SessionFileError, JSONLineError):
            return {}
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            return {}
        sessions = data.get("sessions")
        cached: dict[str, SessionSummary] = {}
        for name, entry in (sessions.items() if isinstance(sessions, dict) else ()):
            try:
                summary = SessionSummary.from_json(entry)
            except (TypeError, ValueError, AttributeError):
                continue
            if summary.name == name and _well_typed(summary):
                cached[name] = summary
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
            if _is_folder(entry) or not formats.is_candidate(entry.name):
                continue
            named = formats.is_session_file(entry.name)
            try:
                stat = entry.stat()
            except OSError:  # a broken or looping link: listed as broken
                if named:
                    fresh[entry.name] = read_summary(Path(entry.path))
                    self.rebuilt.append(entry.name)
                continue
            old = cached.get(entry.name)
            if old is not None and old.size == stat.st_size and old.mtime_ns == stat.st_mtime_ns:
                fresh[entry.name] = old
                continue
            if not named and not formats.is_session_path(Path(entry.path)):
                continue  # a .txt or .json that no format recognises: not a session
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
            # ASCII escapes: a lone surrogate (from a damaged file's header) survives the trip
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(self.index_path)
        except OSError:
            return
        self.dirty = False


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "name": str, "size": int, "mtime_ns": int, "started": (str, type(None)),
    "model_a": str, "model_b": str, "turns": int, "end_reason": (str, type(None)),
    "end_detail": str, "source": (str, type(None)), "parent": (str, type(None)),
    "label": (str, type(None)), "error": (str, type(None)), "failed": (str, type(None)),
    "foreign": bool, "extra": dict,
}


def _well_typed(summary: SessionSummary) -> bool:
    """Whether a cached summary has the field types the browser relies on (a hand-edited
    index could hold anything)."""
    return all(isinstance(getattr(summary, name), kind) for name, kind in _FIELD_TYPES.items())


def describe_error(exc: Exception, path: Path) -> str:
    """A `SessionFileError` without the path (the list shows it): "line 3: ..." ."""
    text = str(exc).removeprefix(f"{path}:")
    line = getattr(exc, "line", None)
    if line is not None:
        text = f"line {line}:" + text.removeprefix(f"{line}:")
    return text.strip()


def session_label(path: Path, label: Callable[[SessionLog], str]) -> tuple[str | None, str | None]:
    """(end state, error) for one file, by loading it in full and applying `label`.

    A file of several conversations is labelled by its first (the list shows
    it once); one of none, or a failed run (`SessionLog.failure`), has no
    label and is not broken. `label` is `analysis`'s end-state rule; this
    layer may not import it.
    """
    try:
        logs = formats.load(path)
    except SessionFileError as exc:
        return None, describe_error(exc, path)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    return (label(logs[0]) if logs and logs[0].failure is None else None), None
