"""A loaded session and the one error every reader raises.

These live apart from `store` (which dispatches to the file formats) and from
`formats/` (which produce them), so that neither has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
