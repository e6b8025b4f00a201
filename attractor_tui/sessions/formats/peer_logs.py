"""Import logs written by other two-instance harnesses into our event log.

Today that is the peer-log format of MatchaOnMuffins/attractor-states: a
`config` line `{type, timestamp, seed, model_a, model_b, system_a, system_b,
tools?}`, then one `turn` line per reply `{type, timestamp, turn, label, model,
response, tool_attempts: [{tool, reason}], interjected}`. Those runs are the
reference data the analysis is checked against, so the conversion is lossless:
every response is kept byte for byte, with its side, round, timestamp and
operator flag; fields we do not know travel along as `peer_extra`.

Real files end in ways a reader must survive: no turn lines at all, a torn last
line, or console output and a Python traceback printed after the last record.
Reading stops at the first line that is not a record and says so in
`SessionLog.warnings`; a record *after* such a line means the file is damaged
in the middle, which raises `SessionFileError` with the line number.

A file holds one conversation. `attractor-tui import` (`formats.import_files`)
writes it out in our format.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attractor_tui.core.config import SessionConfig, Side, SideConfig
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
from attractor_tui.sessions.formats.jsonl import (
    as_str,
    first_record_type,
    json_object,
    read_header,
    records_from_tail,
)
from attractor_tui.sessions.log import SessionFileError, SessionLog

PEER_SOURCE = "peer-log"
"""`SessionStart.source` of an imported peer log is `peer-log:<file name>`."""

title = "peer log (MatchaOnMuffins/attractor-states)"
suffixes: tuple[str, ...] = (".jsonl",)


def detect(path: Path, head: str) -> bool:
    """A peer log starts with a `config` record (whatever its key order)."""
    return first_record_type(head) == "config"


def load(path: Path, text: str) -> list[SessionLog]:
    return [import_foreign(path, text)]

_TRACEBACK = "Traceback (most recent call last):"
_DETAIL_LIMIT = 500


class _PeerConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["config"]
    timestamp: datetime
    seed: str = ""
    model_a: str
    model_b: str
    system_a: str = ""
    system_b: str = ""
    tools: list[str] | None = None


class _PeerToolAttempt(BaseModel):
    model_config = ConfigDict(extra="allow")

    tool: str
    reason: str | None = None


class _PeerTurn(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["turn"]
    timestamp: datetime
    turn: int
    label: Literal["Model A", "Model B"]
    model: str = ""
    response: str
    tool_attempts: list[_PeerToolAttempt] | None = Field(default_factory=list)
    interjected: bool = False


_SIDES: dict[str, Side] = {"Model A": "A", "Model B": "B"}


def _aware(when: datetime) -> datetime:
    """Peer timestamps are UTC; a naive one is taken as UTC rather than local time."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _record(line: str) -> dict[str, Any] | None:
    """The JSON object on `line` if it is a record (has a "type"), else None."""
    data = json_object(line)
    if data is not None and "type" in data:
        return data
    return None


def _validate(model: type[BaseModel], data: dict[str, Any], path: Path, number: int) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        loc = ".".join(str(p) for p in problem["loc"]) or "record"
        raise SessionFileError(
            path, f"not a valid peer-log {data.get('type')} record ({loc}: {problem['msg']})",
            number,
        ) from exc


def _start_event(path: Path, text: str, cfg: _PeerConfig) -> SessionStart:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    extra: dict[str, Any] = {}
    if cfg.tools is not None:
        extra["tools"] = list(cfg.tools)
    if cfg.model_extra:
        extra["peer_extra"] = dict(cfg.model_extra)
    config = SessionConfig(
        a=SideConfig(model=cfg.model_a, system=cfg.system_a),
        b=SideConfig(model=cfg.model_b, system=cfg.system_b),
        seed=cfg.seed,
    )
    return SessionStart(
        ts=_aware(cfg.timestamp),
        # Derived from the content, so importing the same file twice gives the
        # same session (and the same target file name).
        session_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{PEER_SOURCE}:{digest}").hex,
        config=config,
        source=f"{PEER_SOURCE}:{path.name}",
        **extra,
    )


def _turn_event(index: int, peer: _PeerTurn) -> Turn:
    calls = []
    for attempt in peer.tool_attempts or []:
        arguments: dict[str, Any] = {"reason": attempt.reason}
        arguments.update(attempt.model_extra or {})
        calls.append(
            ToolCallRecord(name=attempt.tool, arguments=json.dumps(arguments), outcome="attempted")
        )
    extra: dict[str, Any] = {}
    if peer.model_extra:
        extra["peer_extra"] = dict(peer.model_extra)
    return Turn(
        ts=_aware(peer.timestamp),
        index=index,
        round=peer.turn,
        side=_SIDES[peer.label],
        author="operator" if peer.interjected else "model",
        model=peer.model,
        text=peer.response,
        sent_text=EMPTY_PLACEHOLDER if is_blank(peer.response) else None,
        tool_calls=calls,
        **extra,
    )


def _tail_end(path: Path, first: int, tail: list[str], last_ts: datetime
              ) -> tuple[SessionEnd, str]:
    """The end event and warning for text after the last record (line `first` on)."""
    body = "\n".join(tail).rstrip()
    count = len(body.split("\n"))
    where = f"{path}:{first}"
    if _TRACEBACK in body:
        at = body.index(_TRACEBACK)
        lines = [ln.strip() for ln in body[at:].split("\n") if ln.strip()]
        detail = (lines[-1] if lines else _TRACEBACK)[:_DETAIL_LIMIT]
        before = body[:at].count("\n")
        console = f"{before} line(s) of console output, then " if before else ""
        warning = (
            f"{where}: the run ended in a Python traceback after the last JSON record "
            f"(lines {first}-{first + count - 1}: {console}the traceback); not imported. "
            f"Last line: {detail}"
        )
        return SessionEnd(ts=last_ts, reason="error", detail=detail), warning
    if count == 1 and body.lstrip().startswith("{"):
        warning = (
            f"{where}: last line is an incomplete JSON record (the run stopped mid-write); "
            "ignored it"
        )
    else:
        warning = f"{where}: ignored {count} line(s) of console output after the last JSON record"
    return SessionEnd(ts=last_ts, reason="imported", detail=warning.split(": ", 1)[1]), warning


def import_foreign(path: Path, text: str) -> SessionLog:
    """Convert a peer-harness log (already decoded) into a `SessionLog`.

    Raises `SessionFileError` (with the line number) for a bad config line, an
    invalid record, or records that follow non-record text.
    """
    path = Path(path)
    events: list[PersistedEvent] = []
    warnings: list[str] = []
    tail: list[str] = []
    tail_start: int | None = None
    last_ts: datetime | None = None
    turns = 0
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if tail_start is not None:
            if _record(line) is not None:
                raise SessionFileError(
                    path,
                    f"not a JSON record, yet a record follows on line {number} "
                    "(the file is damaged in the middle)",
                    tail_start,
                )
            tail.append(line)
            continue
        if not line.strip():
            continue
        data = _record(line)
        if data is None:
            if not events:
                raise SessionFileError(path, "first line is not a peer-log config record", number)
            tail_start = number
            tail.append(line)
            continue
        kind = data.get("type")
        if kind == "config":
            if events:
                raise SessionFileError(path, "a second config record", number)
            cfg = _validate(_PeerConfig, data, path, number)
            events.append(_start_event(path, text, cfg))
            last_ts = events[0].ts
        elif kind == "turn":
            if not events:
                raise SessionFileError(path, "turn record before the config record", number)
            peer = _validate(_PeerTurn, data, path, number)
            try:
                events.append(_turn_event(turns, peer))
            except ValidationError as exc:  # defensive: peer data our Turn rejects
                raise SessionFileError(path, f"cannot convert turn: {exc.errors()[0]['msg']}",
                                       number) from exc
            turns += 1
            last_ts = events[-1].ts
        elif not events and kind == "session_start":
            raise SessionFileError(
                path, "already an attractor-tui session file (nothing to import)", number
            )
        else:
            raise SessionFileError(path, f"unknown peer-log record type {kind!r}", number)
    if not events:
        raise SessionFileError(path, "empty log (no config line)")
    assert last_ts is not None
    if tail_start is not None and "\n".join(tail).strip():
        end, warning = _tail_end(path, tail_start, tail, last_ts)
        warnings.append(warning)
    else:
        detail = "" if turns else "no turn lines (the run stopped before the first reply)"
        end = SessionEnd(ts=last_ts, reason="imported", detail=detail)
    if not turns:
        warnings.append(f"{path}: no turn lines (the run stopped before the first reply)")
    events.append(end)
    return SessionLog(path=path, events=events, warnings=warnings)


# ----------------------------------------------------------------- browser

_SUMMARY_DETAIL_LIMIT = 200


def summarise(path: Path, handle: BinaryIO, summary: SessionSummary) -> None:
    """Models and start from the config line; the turn count from the last turn's round."""
    header = read_header(handle, summary)
    if header is None:
        return
    data, header_bytes = header
    summary.foreign = True
    summary.started = as_str(data.get("timestamp"))
    summary.model_a, summary.model_b = as_str(data.get("model_a")), as_str(data.get("model_b"))
    summary.source = f"{PEER_SOURCE}:{summary.name}"
    records, trailing = records_from_tail(handle, summary.size, header_bytes)
    for record in reversed(records):
        if record.get("type") == "turn":
            round_ = record.get("turn")
            second = record.get("label") == "Model B"
            if isinstance(round_, int) and round_ >= 0:
                summary.turns = 2 * round_ + (2 if second else 1)
            break
    if _TRACEBACK in trailing:
        lines = [ln.strip() for ln in trailing.split("\n") if ln.strip()]
        summary.end_reason = "error"
        summary.end_detail = lines[-1][:_SUMMARY_DETAIL_LIMIT] if lines else ""
    else:
        summary.end_reason = "imported"
