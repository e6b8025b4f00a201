"""Helpers shared by the JSONL formats: sniffing the first record, reading the tail.

The browser summarises a file from its first line and its last few KB, never
the whole file (a thousand sessions must list at once).
"""

from __future__ import annotations

import json
import re
from typing import Any, BinaryIO

from attractor_tui.sessions.formats.base import SessionSummary

TAIL_BYTES = 4096
MAX_TAIL_BYTES = 1 << 20
"""Read back this far at most looking for the last turn (a huge last reply)."""
MAX_HEADER_BYTES = 1 << 20

_TYPE = re.compile(r'"type"\s*:\s*"([^"\\]*)"')


def first_record_type(head: str) -> str | None:
    """The `type` of the first record in `head`, or None if it does not start with one.

    A first line cut short (a huge header, a torn write) still shows its type:
    the first `"type": "..."` pair on it is taken.
    """
    line = head.lstrip("\ufeff \t\r\n").split("\n", 1)[0]  # the first non-blank line
    if not line.startswith("{"):
        return None
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        match = _TYPE.search(line)
        return match.group(1) if match else None
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def json_object(line: bytes | str) -> dict[str, Any] | None:
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def read_header(handle: BinaryIO, summary: SessionSummary) -> tuple[dict[str, Any], int] | None:
    """The first line as a JSON object and its length in bytes, or None with `summary.error` set."""
    header = handle.readline(MAX_HEADER_BYTES)
    if not header.strip():
        summary.error = "empty session file (no session_start line)"
        return None
    try:
        text = header.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        summary.error = f"not UTF-8 text (byte {exc.start})"
        return None
    data = json_object(text)
    if data is None:
        summary.error = "line 1: not valid JSON" + (
            " (or longer than 1 MB)" if len(header) >= MAX_HEADER_BYTES else ""
        )
        return None
    return data, len(header)


def records_from_tail(
    handle: BinaryIO, size: int, start_offset: int
) -> tuple[list[dict[str, Any]], str]:
    """Complete JSON records at the end of the file, oldest first, and the text after them.

    Grows the window until it holds a turn or reaches `start_offset` (the end
    of the header); the text after the last record is what a peer log may end
    in (console output, a traceback).
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
            record = json_object(line)
            if record is None:
                trailing.append(line)
            else:
                records.append(record)
                trailing = []
        has_turn = any(r.get("type") == "turn" for r in records)
        if has_turn or begin <= start_offset or window >= MAX_TAIL_BYTES:
            return records, b"\n".join(trailing).decode("utf-8", "replace")
        window *= 4
