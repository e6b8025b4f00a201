"""Session files: one append-only JSONL file per session.

Writing: each persisted event is one line, flushed as it happens and fsynced at
turn end, so a crash loses at most the turn being streamed. Reading: a
truncated *last* line (a crash mid-write) is dropped with a warning; anything
else malformed raises `SessionFileError` naming the file and line.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiofiles
from pydantic import ValidationError

from attractor_tui.core.config import SessionConfig
from attractor_tui.core.events import (
    PERSISTED_ADAPTER,
    SCHEMA_VERSION,
    ContextTrim,
    ErrorEvent,
    Event,
    OperatorAction,
    SessionEnd,
    SessionResume,
    SessionStart,
    Turn,
    is_persisted,
)

DEFAULT_DIR = Path("sessions")
SUFFIX = ".jsonl"


class SessionFileError(Exception):
    """A session file cannot be read; the message says where and why."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")


@dataclass
class SessionLog:
    """A loaded session: its events in file order, plus derived views."""

    path: Path
    events: list[Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def start(self) -> SessionStart:
        return self.events[0]

    @property
    def config(self) -> SessionConfig:
        return self.start.config

    @property
    def turns(self) -> list[Turn]:
        return [e for e in self.events if isinstance(e, Turn)]

    @property
    def end(self) -> SessionEnd | None:
        """The last end event, unless the session was resumed after it."""
        for event in reversed(self.events):
            if isinstance(event, SessionEnd):
                return event
            if isinstance(event, (Turn, SessionResume)):
                return None
        return None

    @property
    def trims(self) -> list[ContextTrim]:
        return [e for e in self.events if isinstance(e, ContextTrim)]

    @property
    def errors(self) -> list[ErrorEvent]:
        return [e for e in self.events if isinstance(e, ErrorEvent)]

    @property
    def operator_actions(self) -> list[OperatorAction]:
        return [e for e in self.events if isinstance(e, OperatorAction)]


def new_session_path(directory: Path | str = DEFAULT_DIR, when: datetime | None = None) -> Path:
    """A fresh, sortable, collision-free file name in `directory`."""
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path(directory) / f"{stamp}-{uuid.uuid4().hex[:6]}{SUFFIX}"


def dump_event(event: Event) -> str:
    return event.model_dump_json(exclude_none=True)


class SessionWriter:
    """Appends persisted events to a session file as they happen.

    `write` queues the line and returns at once; a drain task writes queued
    lines in order, flushes after every batch and fsyncs when a batch holds a
    finished turn. The engine never waits on the disk, and a crash loses at
    most the lines of the last few milliseconds (in practice: the turn being
    streamed, whose deltas are never persisted anyway).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._file: Any = None
        self._queue: list[str] = []
        self._sync_due = False
        self._drain: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    async def open(self) -> SessionWriter:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            await _repair_tail(self.path)
            self._file = await aiofiles.open(self.path, "a", encoding="utf-8")
        return self

    async def write(self, event: Event) -> None:
        """Queue one event if it is a persisted kind; transient ones are ignored."""
        if not is_persisted(event):
            return
        if self._error is not None:
            raise OSError(f"cannot write {self.path}: {self._error}") from self._error
        if self._file is None:
            await self.open()
        self._queue.append(dump_event(event) + "\n")
        if isinstance(event, (Turn, SessionEnd, SessionStart)):
            self._sync_due = True
        if self._drain is None or self._drain.done():
            self._drain = asyncio.ensure_future(self._drain_queue())

    async def _drain_queue(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                sync, self._sync_due = self._sync_due, False
                await self._file.write("".join(batch))
                await self._file.flush()
                if sync:
                    await asyncio.get_running_loop().run_in_executor(
                        None, os.fsync, self._file.fileno()
                    )
        except OSError as exc:  # disk full, removed folder: report on next write
            self._error = exc

    async def flush(self) -> None:
        """Wait until every queued event is on disk."""
        while self._drain is not None and not self._drain.done():
            await asyncio.shield(self._drain)
        if self._queue and self._file is not None:
            self._drain = asyncio.ensure_future(self._drain_queue())
            await self._drain

    async def close(self) -> None:
        if self._file is not None:
            await self.flush()
            await self._file.flush()
            os.fsync(self._file.fileno())
            await self._file.close()
            self._file = None

    async def __aenter__(self) -> SessionWriter:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _repair_tail(path: Path) -> None:
    """Drop a torn last line before appending, so the file stays valid JSONL."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    with path.open("r+b") as handle:
        handle.truncate(cut)


def parse_event(line: str) -> Any:
    return PERSISTED_ADAPTER.validate_json(line)


def read_text(path: Path) -> str:
    """A log file's text, or a `SessionFileError` saying why it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SessionFileError(path, f"cannot read: {exc.strerror or exc}") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SessionFileError(path, f"not UTF-8 text (byte {exc.start})") from exc


def load_session(path: Path | str) -> SessionLog:
    """Read a session file (ours, or a foreign log we know how to import)."""
    path = Path(path)
    text = read_text(path)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if _looks_foreign(first):
        from attractor_tui.sessions.formats.peer_logs import import_foreign

        return import_foreign(path, text)
    return parse_session_text(path, text)


def _looks_foreign(first_line: str) -> bool:
    """A peer-harness log starts with a `config` record (whatever its key order)."""
    try:
        data = json.loads(first_line.lstrip("\ufeff"))
    except json.JSONDecodeError:
        return False
    return isinstance(data, dict) and data.get("type") == "config"


def parse_session_text(path: Path, text: str) -> SessionLog:
    lines = text.split("\n")
    complete = text.endswith("\n")
    warnings: list[str] = []
    events: list[Any] = []
    last_no = max((n for n, ln in enumerate(lines, 1) if ln.strip()), default=0)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        is_tail = number == last_no
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            if is_tail and not complete:
                warnings.append(
                    f"{path}:{number}: last line is incomplete (the writer stopped mid-line); "
                    "ignored it"
                )
                break
            raise SessionFileError(path, f"not valid JSON ({exc.msg})", number) from exc
        if number == 1 or not events:
            _check_header(path, number, data)
        try:
            event = PERSISTED_ADAPTER.validate_python(data)
        except ValidationError as exc:
            problem = exc.errors()[0]
            loc = ".".join(str(p) for p in problem["loc"])
            raise SessionFileError(
                path, f"not a valid event ({loc}: {problem['msg']})", number
            ) from exc
        events.append(event)
    if not events:
        raise SessionFileError(path, "empty session file (no session_start line)")
    return SessionLog(path=path, events=events, warnings=warnings)


def _check_header(path: Path, number: int, data: Any) -> None:
    if not isinstance(data, dict) or data.get("type") != "session_start":
        raise SessionFileError(
            path, "first line is not a session_start event; is this an attractor-tui session?",
            number,
        )
    version = data.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION or version < 1:
        raise SessionFileError(
            path,
            f"unknown schema version {version!r} (this attractor-tui reads version "
            f"{SCHEMA_VERSION}); upgrade attractor-tui to open it",
            number,
        )


def list_sessions(directory: Path | str = DEFAULT_DIR) -> list[Path]:
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"*{SUFFIX}"))
