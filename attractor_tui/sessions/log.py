"""A loaded session and the one error every reader raises.

These live apart from `store` (which dispatches to the file formats) and from
`formats/` (which produce them), so that neither has to import the other.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from attractor_tui.core.config import SessionConfig
from attractor_tui.core.events import (
    ContextTrim,
    ErrorEvent,
    OperatorAction,
    PersistedEvent,
    SessionEnd,
    SessionResume,
    SessionStart,
    Turn,
)


class SessionFileError(Exception):
    """A session file cannot be read; the message says where and why."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")


@dataclass
class SessionLog:
    """One conversation: its persisted events in file order, plus derived views.

    Every format's loader puts a `SessionStart` first; `start` relies on it.
    """

    path: Path
    events: list[PersistedEvent]
    warnings: list[str] = field(default_factory=list)

    @property
    def start(self) -> SessionStart:
        first = self.events[0]
        if not isinstance(first, SessionStart):  # only a hand-built log can get here
            raise SessionFileError(self.path, "the first event is not a session_start")
        return first

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

    @property
    def failure(self) -> str | None:
        """Why this is a failed run (see `failed_run`), or None for a result."""
        return failed_run(self.events)


def failed_run(events: Iterable[PersistedEvent]) -> str | None:
    """Why a session is a failed run, or None when it is a result.

    The one rule every statistic and the browser use: a session that never
    produced a model turn of its own (a whole one, not an interrupted one, and
    not one a fork copied from its parent) and recorded
    an error failed; its reason is the error that stopped it (the last one
    not followed by a retry). An empty session without an error (stopped at
    once, still starting) is no failure: it is counted, as `too_short`.
    """
    reason: str | None = None
    final = False
    inherited = 0  # a fork's copied turns are its parent's, not its own
    for event in events:
        if isinstance(event, SessionStart):
            inherited = event.parent_turn or 0
        if (isinstance(event, Turn) and event.author == "model" and not event.interrupted
                and event.index >= inherited):
            return None
        if isinstance(event, ErrorEvent) and (not final or not event.retryable):
            reason, final = event.message, not event.retryable
    return reason


def failed_runs_note(reasons: Sequence[str]) -> str:
    """"3 failed runs (2× No API key ...; 1× connection refused)": failures shown apart."""
    counts = Counter(" ".join(r.split()) or "error" for r in reasons)
    parts = [f"{n}× {r}" if len(counts) > 1 or n > 1 else r for r, n in counts.most_common()]
    runs = "run" if len(reasons) == 1 else "runs"
    return f"{len(reasons)} failed {runs} ({'; '.join(parts)})"


MAX_FILE_BYTES = 256 << 20
"""Larger files are refused rather than read into memory (a real session is a few MB)."""

_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def _reason(exc: OSError) -> str:
    return f"cannot read: {exc.strerror or exc}"


def _size(count: int) -> str:
    return f"{count >> 20} MB" if count >= 1 << 20 else f"{count} bytes"


def _check_regular(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "a special file")
        raise SessionFileError(path, f"{kind}, not a regular file")


def open_regular(path: Path) -> BinaryIO:
    """`path` open for binary reading, if it is a regular file (after symlinks).

    Anything else raises `SessionFileError` without ever blocking: a FIFO named
    `x.jsonl` would otherwise wait forever for a writer, a device never ends.
    The file is checked before opening (for a clear message) and again on the
    open descriptor (it may have been swapped in between); it is opened with
    O_NONBLOCK so that even a FIFO slipped in between does not block.
    """
    try:
        _check_regular(path, os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise SessionFileError(path, _reason(exc)) from exc
    try:
        _check_regular(path, os.fstat(fd).st_mode)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_text(path: Path, limit: int | None = None) -> str:
    """A log file's text, or a `SessionFileError` saying why it cannot be read.

    Only regular files up to `limit` bytes (default `MAX_FILE_BYTES`) are read;
    a leading byte-order mark is dropped (some editors add one).
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    with open_regular(path) as handle:
        try:
            raw = handle.read(limit + 1)
        except OSError as exc:
            raise SessionFileError(path, _reason(exc)) from exc
    if len(raw) > limit:
        raise SessionFileError(
            path, f"larger than {_size(limit)}; attractor-tui does not read files this big"
        )
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise SessionFileError(path, f"not UTF-8 text (byte {exc.start})") from exc


PREVIEW_LINES = 3
PREVIEW_CHARS = 300
"""A prompt longer than this is shown by its first lines and its length."""


def prompt_preview(text: str, lines: int = PREVIEW_LINES, chars: int = PREVIEW_CHARS) -> str:
    """A long prompt as its first `lines` lines (at most `chars` characters), then its length.

    An 80-page prompt in an export's metadata or the browser would bury the
    conversation; a short one is shown whole.
    """
    count = text.count("\n") + 1
    if len(text) <= chars and count <= lines:
        return text
    head = "\n".join(text.split("\n", lines)[:lines])[:chars].rstrip()
    return (f"{head} … [{len(text):,} characters, {count:,} lines, about "
            f"{len(text) // 4:,} tokens]")


MAX_PROMPT_BYTES = 16 << 20
"""Longest prompt file read (`@PATH`, a scenario's `system_file`, the start screen)."""


def read_prompt(path: Path) -> str:
    """A prompt file's text; `SessionFileError` naming it if missing, unreadable or binary.

    The one reader of prompt files, so every way of naming one fails alike.
    """
    text = read_text(path, MAX_PROMPT_BYTES)
    if "\x00" in text:
        raise SessionFileError(path, "a binary file, not text")
    return text
