"""What a file format provides, and the browser summary it fills in.

A format is any object (in practice: a module) with the members of `Format`.
The registry in `formats/__init__.py` asks each in turn whether it recognises
a file; the one that does loads or summarises it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from attractor_tui.sessions.log import SessionLog


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
    failed: str | None = None
    """Why the run failed (`log.failed_run`: no model turn, an error); shown apart."""
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
        if self.failed is not None:
            return "failed"
        return self.end_reason or "(no end)"

    def search_text(self) -> str:
        """Everything a filter matches against, lower-cased."""
        when = self.when.astimezone().strftime("%Y-%m-%d %H:%M")
        parts = [self.name, self.models, self.end_text, self.end_detail, self.label or "",
                 self.source or "", self.error or "", self.failed or "", when]
        return " ".join(parts).lower()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionSummary:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class Format(Protocol):
    """One kind of file attractor-tui reads.

    Modules satisfy this with module-level names, so adding a format is one
    module plus one line in `formats.FORMATS`.
    """

    title: str
    """What the file is, for messages: "attractor-tui session", "peer log"."""
    suffixes: tuple[str, ...]
    """File name endings the browser, `report` and `import` pick up for this format."""

    def detect(self, path: Path, head: str) -> bool:
        """Whether this is a file of this format, judged from its first characters.

        `head` is the start of the file, decoded leniently (undecodable bytes
        become U+FFFD) and possibly cut in the middle of a line. Sniff; do not
        validate: `load` reports what is wrong with a file it was given.
        """
        ...

    def load(self, path: Path, text: str) -> list[SessionLog]:
        """Every conversation in the file (`text` is its whole content).

        Raises `SessionFileError` naming the file (and line) for a damaged file.
        """
        ...

    def summarise(self, path: Path, handle: BinaryIO, summary: SessionSummary) -> None:
        """Fill in `summary` cheaply, from the start and end of the file.

        `handle` is open at offset 0; `summary.size` is the file's size. A
        problem goes into `summary.error`; this never raises for bad content.
        """
        ...
