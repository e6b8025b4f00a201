"""A fast summary of every session file in a folder, for the session browser.

Loading 1,000 sessions in full takes far too long to open a list, so each
file is summarised from its first line (config: models, start time, source)
and its last few KB (the last turn's index gives the turn count, a trailing
`session_end` the end reason). Summaries are cached in `.index.json` in the
folder, keyed by file name, size and mtime; a changed file is summarised
again. The JSONL files stay the source of truth: the index is only a cache,
and a missing, stale or unreadable index is simply rebuilt.

Reads both our files and peer-harness logs (whose `turn` field is the round).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attractor_tui.core.events import SCHEMA_VERSION
from attractor_tui.sessions.store import SUFFIX, SessionLog

INDEX_NAME = ".index.json"
INDEX_VERSION = 1
TAIL_BYTES = 4096
MAX_TAIL_BYTES = 1 << 20
"""Read back this far at most looking for the last turn (a huge last reply)."""
MAX_HEADER_BYTES = 1 << 20
LABEL_MAX_BYTES = 8 << 20
"""Larger files get no attractor label in the list (analysing them is not cheap)."""
_TRACEBACK = "Traceback (most recent call last)"


@dataclass
class SessionSummary:
    """What the browser lists about one file."""

    name: str
    size: int
    mtime_ns: int
    started: str | None = None
    """ISO time of the session start (or of the file, when the header has none)."""
    model_a: str = ""
    model_b: str = ""
    turns: int = 0
    """Estimated from the last turn's index (exact for files we wrote)."""
    end_reason: str | None = None
    """None while a session has no end (running, crashed, or resumed after its end)."""
    end_detail: str = ""
    source: str | None = None
    parent: str | None = None
    label: str | None = None
    """Attractor end state, once analysed (filled in the background)."""
    error: str | None = None
    """Why the file cannot be read; the list shows it as broken."""
    foreign: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def broken(self) -> bool:
        return self.error is not None

    @property
    def rounds(self) -> int:
        return (self.turns + 1) // 2

    @property
    def when(self) -> datetime:
        if self.started:
            try:
                when = datetime.fromisoformat(self.started)
            except ValueError:
                pass
            else:
                return when if when.tzinfo else when.replace(tzinfo=UTC)
        return datetime.fromtimestamp(self.mtime_ns / 1e9, UTC)

    @property
    def models(self) -> str:
        if not self.model_a and not self.model_b:
            return ""
        return self.model_a if self.model_a == self.model_b else f"{self.model_a} / {self.model_b}"

    @property
    def end_text(self) -> str:
        if self.broken:
            return "broken"
        return self.end_reason or "(no end)"

    def search_text(self) -> str:
        """Everything a filter matches against, lower-cased."""
        when = self.when.astimezone().strftime("%Y-%m-%d %H:%M")
        parts = [self.name, self.models, self.end_text, self.end_detail, self.label or "",
                 self.source or "", self.error or "", when]
        return " ".join(parts).lower()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionSummary:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


# --------------------------------------------------------------- reading


def _json_line(line: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _records_from_tail(
    handle: Any, size: int, start_offset: int
) -> tuple[list[dict[str, Any]], bool, str]:
    """Complete JSON records at the end of the file, oldest first.

    Grows the window until it holds a turn or reaches the header; returns the
    records, whether one of them is a turn, and the raw text after the last
    record (a peer log may end in console output).
    """
    window = TAIL_BYTES
    while True:
        begin = max(start_offset, size - window)
        handle.seek(begin)
        chunk = handle.read(size - begin)
        lines = chunk.split(b"\n")
        if begin > start_offset:
            lines = lines[1:]  # the first line is probably cut
        records: list[dict[str, Any]] = []
        trailing: list[bytes] = []
        for line in lines:
            if not line.strip():
                continue
            record = _json_line(line)
            if record is None:
                trailing.append(line)
            else:
                records.append(record)
                trailing = []
        has_turn = any(r.get("type") == "turn" for r in records)
        if has_turn or begin <= start_offset or window >= MAX_TAIL_BYTES:
            text = b"\n".join(trailing).decode("utf-8", "replace")
            return records, has_turn, text
        window *= 4


def read_summary(path: Path, stat: os.stat_result | None = None) -> SessionSummary:
    """Summarise one file from its first line and its tail; never raises."""
    try:
        stat = stat or path.stat()
    except OSError as exc:
        return SessionSummary(path.name, 0, 0, error=f"cannot read: {exc.strerror or exc}")
    summary = SessionSummary(path.name, stat.st_size, stat.st_mtime_ns)
    try:
        with path.open("rb") as handle:
            header = handle.readline(MAX_HEADER_BYTES)
            _read_header(summary, header)
            if summary.broken:
                return summary
            records, _, trailing = _records_from_tail(handle, stat.st_size, len(header))
    except OSError as exc:
        summary.error = f"cannot read: {exc.strerror or exc}"
        return summary
    if summary.foreign:
        _foreign_tail(summary, records, trailing)
    else:
        _own_tail(summary, records)
    return summary


def _read_header(summary: SessionSummary, header: bytes) -> None:
    if not header.strip():
        summary.error = "empty session file (no session_start line)"
        return
    try:
        text = header.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        summary.error = f"not UTF-8 text (byte {exc.start})"
        return
    data = _json_line(text.encode())
    if data is None:
        summary.error = "line 1: not valid JSON" + (
            " (or longer than 1 MB)" if len(header) >= MAX_HEADER_BYTES else ""
        )
        return
    kind = data.get("type")
    if kind == "config":  # a peer-harness log
        summary.foreign = True
        summary.started = _str(data.get("timestamp"))
        summary.model_a, summary.model_b = _str(data.get("model_a")), _str(data.get("model_b"))
        summary.source = f"peer-log:{summary.name}"
        return
    if kind != "session_start":
        summary.error = "line 1: not a session_start event; is this an attractor-tui session?"
        return
    version = data.get("schema_version")
    if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
        summary.error = f"line 1: unknown schema version {version!r}"
        return
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    assert isinstance(config, dict)
    summary.started = _str(data.get("ts")) or None
    summary.model_a = _str((config.get("a") or {}).get("model"))
    summary.model_b = _str((config.get("b") or {}).get("model"))
    summary.source = _str(data.get("source")) or None
    summary.parent = _str(data.get("parent")) or None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _own_tail(summary: SessionSummary, records: list[dict[str, Any]]) -> None:
    """Turn count from the last turn; the end reason unless a turn or resume follows it."""
    end_open = True
    for record in reversed(records):
        kind = record.get("type")
        if kind == "session_end" and end_open:
            summary.end_reason = _str(record.get("reason")) or "?"
            summary.end_detail = _str(record.get("detail"))
            end_open = False
        elif kind == "session_resume":
            end_open = False
        elif kind == "turn":
            index = record.get("index")
            summary.turns = index + 1 if isinstance(index, int) and index >= 0 else 0
            return


def _foreign_tail(summary: SessionSummary, records: list[dict[str, Any]], trailing: str) -> None:
    for record in reversed(records):
        if record.get("type") == "turn":
            round_ = record.get("turn")
            second = record.get("label") == "Model B"
            if isinstance(round_, int) and round_ >= 0:
                summary.turns = 2 * round_ + (2 if second else 1)
            break
    if _TRACEBACK in trailing:
        lines = [ln.strip() for ln in trailing.split("\n") if ln.strip()]
        summary.end_reason, summary.end_detail = "error", lines[-1][:200] if lines else ""
    else:
        summary.end_reason = "imported"


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
            if not entry.name.endswith(SUFFIX) or entry.name.startswith("."):
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
    from attractor_tui.sessions.store import SessionFileError, load_session

    try:
        log = load_session(path)
    except SessionFileError as exc:
        return None, describe_error(exc, path)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    return label(log), None
