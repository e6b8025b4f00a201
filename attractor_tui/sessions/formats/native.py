"""Our own format: JSONL, one persisted event per line, `session_start` first.

Reading: a truncated *last* line (a crash mid-write) is dropped with a
warning; anything else malformed raises `SessionFileError` naming the file and
line. A file holds exactly one conversation. Writing line by line, as a session
runs, is `store.SessionWriter`'s job; `write_log` writes a whole log at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from attractor_tui.core.events import PERSISTED_ADAPTER, SCHEMA_VERSION, Event, PersistedEvent
from attractor_tui.core.text import mend_surrogates
from attractor_tui.sessions.formats.base import SessionSummary
from attractor_tui.sessions.formats.jsonl import (
    JSONLineError,
    as_str,
    first_record_type,
    parse_line,
    read_header,
    records_from_tail,
)
from attractor_tui.sessions.log import (
    MAX_FILE_BYTES,
    SessionFileError,
    SessionLog,
    prompt_preview,
)

SUFFIX = ".jsonl"

title = "attractor-tui session"
suffixes: tuple[str, ...] = (SUFFIX,)


def detect(path: Path, head: str) -> bool:
    return first_record_type(head) == "session_start"


def load(path: Path, text: str) -> list[SessionLog]:
    return [parse_session_text(path, text)]


def dump_event(event: Event) -> str:
    """One line of a session file (without the newline).

    UTF-8 cannot hold a lone surrogate (half an emoji, read from a file with a
    `\\ud800` escape): such an event is stored with `SURROGATE_MARK` in its place.
    """
    try:
        return event.model_dump_json(exclude_none=True)
    except PydanticSerializationError:
        mended = type(event).model_validate(_mended(event.model_dump(exclude_none=True)))
        return mended.model_dump_json(exclude_none=True)


def _mended(value: Any) -> Any:
    if isinstance(value, str):
        return mend_surrogates(value)
    if isinstance(value, dict):
        return {_mended(k): _mended(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mended(v) for v in value]
    return value


def write_log(log: SessionLog, target: Path) -> None:
    """Write a whole log in our format, atomically (a reader never sees half a file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as handle:
        for event in log.events:
            handle.write(dump_event(event) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)


def parse_session_text(path: Path, text: str) -> SessionLog:
    """Our file's text as a `SessionLog`; only ever raises `SessionFileError`."""
    lines = text.split("\n")
    complete = text.endswith("\n")
    warnings: list[str] = []
    events: list[PersistedEvent] = []
    last_no = max((n for n, ln in enumerate(lines, 1) if ln.strip()), default=0)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        is_tail = number == last_no
        try:
            data = parse_line(line)
        except JSONLineError as exc:
            if is_tail and not complete and not exc.bound:
                warnings.append(
                    f"{path}:{number}: last line is incomplete (the writer stopped mid-line); "
                    "ignored it"
                )
                break
            raise SessionFileError(path, str(exc), number) from exc
        if not events:
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
    problem = version_problem(data.get("schema_version", _MISSING))
    if problem is not None:
        raise SessionFileError(path, problem, number)


_MISSING = object()


def version_problem(version: object) -> str | None:
    """Why a header's `schema_version` cannot be read (None: it can).

    Only a whole number above ours asks for an upgrade; 0, `"1"` or none at
    all mean the file was not written by attractor-tui as it claims.
    """
    if isinstance(version, int) and not isinstance(version, bool):
        if version > SCHEMA_VERSION:
            return (f"unknown schema version {version} (this attractor-tui reads version "
                    f"{SCHEMA_VERSION}); upgrade attractor-tui to open it")
        if version >= 1:
            return None
    shown = "missing" if version is _MISSING else repr(version)
    shown = shown if len(shown) <= 40 else shown[:39] + "…"
    return f"not a valid attractor-tui session (schema_version {shown})"


# ----------------------------------------------------------------- browser


def summarise(path: Path, handle: BinaryIO, summary: SessionSummary) -> None:
    """Models, start and source from the header; turns and end from the tail."""
    header = read_header(handle, summary)
    if header is None:
        return
    data, header_bytes = header
    if data.get("type") != "session_start":
        summary.error = "line 1: not a session_start event; is this an attractor-tui session?"
        return
    problem = version_problem(data.get("schema_version", _MISSING))
    if problem is not None:
        summary.error = f"line 1: {problem}"
        return
    config = data.get("config")
    config = config if isinstance(config, dict) else {}
    summary.started = as_str(data.get("ts")) or None
    summary.model_a = _model(config.get("a"))
    summary.model_b = _model(config.get("b"))
    _prompts(summary, config.get("a"), config.get("b"))
    summary.source = as_str(data.get("source")) or None
    summary.parent = as_str(data.get("parent")) or None
    records, _ = records_from_tail(handle, summary.size, header_bytes)
    _tail(summary, records)
    inherited = data.get("parent_turn")
    if _may_have_failed(records, inherited if isinstance(inherited, int) else 0):
        _check_failed(path, handle, summary)


def _may_have_failed(records: list[dict[str, Any]], inherited: int) -> bool:
    """An error in the tail and no whole model turn of its own (a fork's first `inherited`
    turns are its parent's): the file must be read to know."""
    def own_index(r: dict[str, Any]) -> bool:
        index = r.get("index")
        return not isinstance(index, int) or index >= inherited

    return any(r.get("type") == "error" for r in records) and not any(
        r.get("type") == "turn" and r.get("author", "model") == "model"
        and not r.get("interrupted") and own_index(r) for r in records)


def _check_failed(path: Path, handle: BinaryIO, summary: SessionSummary) -> None:
    """`summary.failed` by `log.failed_run` over the whole file (a failed run is small)."""
    handle.seek(0)
    raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        return
    try:
        summary.failed = parse_session_text(path, raw.decode("utf-8")).failure
    except (SessionFileError, UnicodeDecodeError):
        return  # opening it says what is wrong


def _model(side: Any) -> str:
    return as_str(side.get("model")) if isinstance(side, dict) else ""


def _prompts(summary: SessionSummary, a: Any, b: Any) -> None:
    """Each side's system prompt as `prompt_preview` (the header holds them: no extra read).

    B's `system_from: "a"` (a long prompt stored once) is A's prompt.
    """
    for key, side in (("prompt_a", a), ("prompt_b", b)):
        if not isinstance(side, dict):
            continue
        if side.get("system_from") == "a" and isinstance(a, dict):
            side = a
        system = side.get("system")
        if isinstance(system, str) and system:
            summary.extra[key] = prompt_preview(system)


def _tail(summary: SessionSummary, records: list[dict[str, Any]]) -> None:
    """Turn count from the last turn; the end reason unless a turn or resume follows it."""
    end_open = True
    for record in reversed(records):
        kind = record.get("type")
        if kind == "session_end" and end_open:
            summary.end_reason = as_str(record.get("reason")) or "?"
            summary.end_detail = as_str(record.get("detail"))
            end_open = False
        elif kind == "session_resume":
            end_open = False
        elif kind == "turn":
            index = record.get("index")
            summary.turns = index + 1 if isinstance(index, int) and index >= 0 else 0
            return
