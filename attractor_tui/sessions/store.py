"""Session files: the sessions folder, the live writer, and `load_session`.

Writing: each persisted event is one line, flushed as it happens and fsynced at
turn end, so a crash loses at most the turn being streamed. Reading goes
through the format registry (`sessions.formats`), which also reads logs of
other harnesses; the JSONL format itself is `formats.native`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import aiofiles

from attractor_tui.core.events import (
    Event,
    OperatorAction,
    SessionEnd,
    SessionStart,
    Turn,
    is_persisted,
)
from attractor_tui.sessions import formats
from attractor_tui.sessions.formats.native import SUFFIX, dump_event, parse_session_text
from attractor_tui.sessions.log import SessionFileError, SessionLog, read_text

__all__ = [
    "DEFAULT_DIR",
    "SUFFIX",
    "SessionFileError",
    "SessionLog",
    "SessionWriteError",
    "SessionWriter",
    "dump_event",
    "list_sessions",
    "load_session",
    "new_session_path",
    "parse_session_text",
    "read_text",
]

DEFAULT_DIR = Path("sessions")


def new_session_path(directory: Path | str = DEFAULT_DIR, when: datetime | None = None) -> Path:
    """A fresh, sortable, collision-free file name in `directory`."""
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path(directory) / f"{stamp}-{uuid.uuid4().hex[:6]}{SUFFIX}"


class SessionWriteError(OSError):
    """The session file cannot be written (read-only folder, disk full, folder removed).

    Raised by `SessionWriter.open`, by the first `write` after a failed drain
    and by `close` when the last lines were lost: the session must end, since
    what it produces would not be kept. `str()` is the one line to show.
    """

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.path = Path(cause.filename) if cause.filename else path

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.strerror}"


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
        self._error: SessionWriteError | None = None
        self._reported = False
        """True once `_error` was raised to the caller (it is raised once at the end)."""

    async def open(self) -> SessionWriter:
        if self._file is None:
            try:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except FileExistsError as exc:  # the folder's name is taken by a file
                    raise NotADirectoryError(errno.ENOTDIR, "not a folder",
                                             str(self.path.parent)) from exc
                await _repair_tail(self.path)
                self._file = await aiofiles.open(self.path, "a", encoding="utf-8")
            except OSError as exc:
                self._error, self._reported = SessionWriteError(self.path, exc), True
                raise self._error from exc
        return self

    async def write(self, event: Event) -> None:
        """Queue one event if it is a persisted kind; transient ones are ignored."""
        if not is_persisted(event):
            return
        if self._error is not None:
            self._reported = True
            raise self._error
        if self._file is None:
            await self.open()
        self._queue.append(dump_event(event) + "\n")
        if isinstance(event, (Turn, SessionEnd, SessionStart)) or (
                isinstance(event, OperatorAction) and event.action == "queue"):
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
                    await _fsync(self._file.fileno())
        except OSError as exc:  # disk full, removed folder: report on next write
            self._error = SessionWriteError(self.path, exc)

    async def flush(self) -> None:
        """Wait until every queued event is on disk."""
        while self._drain is not None and not self._drain.done():
            await asyncio.shield(self._drain)
        if self._queue and self._file is not None:
            self._drain = asyncio.ensure_future(self._drain_queue())
            await self._drain

    async def close(self) -> None:
        """Flush, sync and close; raises `SessionWriteError` if lines were lost unreported."""
        if self._file is not None:
            await self.flush()
            handle, self._file = self._file, None
            try:
                if self._error is None:
                    await handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                self._error = SessionWriteError(self.path, exc)
            finally:
                with contextlib.suppress(OSError):
                    await handle.close()
        if self._error is not None and not self._reported:
            self._reported = True
            raise self._error

    async def __aenter__(self) -> SessionWriter:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _SyncBatch:
    """fsyncs asked for in the same loop iteration, done together by one worker thread.

    A batch's conversations finish their turns in bursts (a round's replies arrive
    together); one thread hop per burst instead of one per file saves the loop
    most of that bookkeeping. Each file is still fsynced before its writer goes on.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: list[tuple[int, asyncio.Future[None]]] = []

    def add(self, fd: int) -> asyncio.Future[None]:
        done: asyncio.Future[None] = self.loop.create_future()
        if not self.pending:
            self.loop.call_soon(self._start)
        self.pending.append((fd, done))
        return done

    def _start(self) -> None:
        batch, self.pending = self.pending, []
        job = self.loop.run_in_executor(None, _sync_all, [fd for fd, _ in batch])
        job.add_done_callback(lambda finished: self._settle(batch, finished))

    @staticmethod
    def _settle(batch: list[tuple[int, asyncio.Future[None]]],
                finished: asyncio.Future[list[OSError | None]]) -> None:
        errors = finished.result() if not finished.exception() else None
        for n, (_, done) in enumerate(batch):
            if done.done():
                continue
            error = finished.exception() if errors is None else errors[n]
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)


def _sync_all(fds: list[int]) -> list[OSError | None]:
    errors: list[OSError | None] = []
    for fd in fds:
        try:
            os.fsync(fd)
            errors.append(None)
        except OSError as exc:
            errors.append(exc)
    return errors


_sync_batches: dict[asyncio.AbstractEventLoop, _SyncBatch] = {}


async def _fsync(fd: int) -> None:
    """`os.fsync(fd)` off the loop, batched with the other files syncing now."""
    loop = asyncio.get_running_loop()
    batch = _sync_batches.get(loop)
    if batch is None or batch.loop.is_closed():
        _sync_batches.clear()  # one loop at a time: forget closed ones
        batch = _sync_batches[loop] = _SyncBatch(loop)
    await batch.add(fd)


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


def load_session(path: Path | str) -> SessionLog:
    """The one conversation in a session file (ours, or a foreign log we can read).

    A file holding several conversations raises `SessionFileError`; read
    those with `formats.load`, or split them with `attractor-tui import`.
    """
    path = Path(path)
    logs = formats.load(path)
    if len(logs) == 1:
        return logs[0]
    if not logs:
        raise SessionFileError(path, "holds no conversation")
    raise SessionFileError(
        path,
        f"holds {len(logs)} conversations, not one; `attractor-tui import` writes each "
        "to a session file of its own",
    )


def list_sessions(directory: Path | str = DEFAULT_DIR) -> list[Path]:
    """The session files in `directory` (any format we read), sorted by name."""
    return formats.session_files(directory)
