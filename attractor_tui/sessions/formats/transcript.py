"""What the readers of other harnesses' transcripts share: messages in, a `SessionLog` out.

The cross-model, backrooms and peer-console readers each parse their own file
layout into `Message`s; `build_log` numbers them (index, round), marks blank
replies with the visible placeholder every history uses, and frames them with
a `SessionStart` (a content-derived id, so re-importing gives the same file
name) and a `SessionEnd`. Their summaries for the browser come from a full
load (`summarise_by_loading`): these files are small, and the index caches
the result.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from attractor_tui.core.config import SessionConfig, Side
from attractor_tui.core.events import (
    EMPTY_PLACEHOLDER,
    PersistedEvent,
    SessionEnd,
    SessionStart,
    ToolCallRecord,
    Turn,
)
from attractor_tui.core.text import is_blank
from attractor_tui.sessions.formats.base import SessionSummary
from attractor_tui.sessions.log import MAX_FILE_BYTES, SessionFileError, SessionLog

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Message:
    """One reply as a foreign transcript holds it, before it becomes a `Turn`."""

    side: Side
    text: str
    model: str = ""
    author: str = "model"
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    sent_text: str | None = None
    """What the harness sent the other side instead of `text`, when known to differ."""
    interrupted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    """Stored on the turn as they are (e.g. `removed_noise`, `foreign_extra`)."""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def content_id(source: str, text_digest: str, conversation: int) -> str:
    """A session id derived from the file's content and the conversation's position.

    Importing the same file twice gives the same ids (and target names); two
    conversations of one file never share one.
    """
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{source}:{text_digest}:{conversation}").hex


def aware(when: datetime) -> datetime:
    """Foreign timestamps without a zone are taken as UTC, not local time."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_time(value: Any) -> datetime | None:
    """An ISO timestamp from a foreign file, or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def file_time(path: Path) -> datetime:
    """The file's modification time: the only clock a console transcript has."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return EPOCH


def build_log(
    path: Path,
    *,
    session_id: str,
    source: str,
    ts: datetime,
    config: SessionConfig,
    meta: dict[str, Any],
    messages: list[Message],
    end: SessionEnd,
    warnings: list[str] | None = None,
) -> SessionLog:
    """The conversation as our events: A's replies open each round, B's close it.

    Every turn carries `ts` (these transcripts keep no per-reply times), so a
    replay shows them without the original pacing.
    """
    extra: dict[str, Any] = {"meta": meta}  # what the harness recorded beyond our config
    events: list[PersistedEvent] = [
        SessionStart(ts=ts, session_id=session_id, config=config, source=source, **extra)
    ]
    round_, previous = -1, None
    for index, message in enumerate(messages):
        # A opens each round; B answers in it (two B replies in a row: a new round)
        if message.side == "A" or previous in (None, "B"):
            round_ += 1
        previous = message.side
        sent = message.sent_text
        if sent is None and is_blank(message.text):
            sent = EMPTY_PLACEHOLDER
        events.append(Turn(
            ts=ts, index=index, round=round_, side=message.side,
            author="operator" if message.author == "operator" else "model",
            model=message.model, text=message.text, sent_text=sent,
            tool_calls=message.tool_calls, interrupted=message.interrupted, **message.extra,
        ))
    events.append(end)
    return SessionLog(path=path, events=events, warnings=list(warnings or []))


def unframe(segment: str, newlines: int = 2) -> str:
    """`segment` without the (at most `newlines`) line breaks the harness printed after it."""
    for _ in range(newlines):
        if segment.endswith("\n"):
            segment = segment[:-2] if segment.endswith("\r\n") else segment[:-1]
    return segment


def summarise_by_loading(load: Any, path: Path, handle: BinaryIO, summary: SessionSummary,
                         source: str) -> None:
    """Fill in `summary` from a full load: the count of conversations and the first one.

    A file holding several conversations is not broken: the browser lists it
    once, with `extra["conversations"]` saying how many it holds.
    """
    raw = handle.read(MAX_FILE_BYTES + 1)
    summary.foreign = True
    summary.source = f"{source}:{summary.name}"
    if len(raw) > MAX_FILE_BYTES:
        summary.error = f"larger than {MAX_FILE_BYTES >> 20} MB"
        return
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        summary.error = f"not UTF-8 text (byte {exc.start})"
        return
    try:
        logs: list[SessionLog] = load(path, text)
    except SessionFileError as exc:
        summary.error = str(exc).removeprefix(f"{path}:").strip()
        return
    summary.extra["conversations"] = len(logs)
    if not logs:
        summary.end_reason = "imported"
        summary.end_detail = "no conversations in this file"
        return
    first = logs[0]
    summary.started = first.start.ts.isoformat()
    summary.model_a, summary.model_b = first.config.a.model, first.config.b.model
    summary.turns = len(first.turns)
    summary.source = first.start.source
    end = first.end
    summary.end_reason = end.reason if end is not None else None
    summary.end_detail = end.detail if end is not None else ""
    if len(logs) > 1:
        first_detail = f"; the first: {summary.end_detail}" if summary.end_detail else ""
        summary.end_detail = f"{len(logs)} conversations in this file{first_detail}"
