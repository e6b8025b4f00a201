"""Helpers shared by the JSONL formats: the bounded line parser, sniffing the first
record, reading the tail.

Every JSON line any reader sees goes through `parse_line`, so a hostile line
(5,000 `[`, a 5,000-digit number) is one `file:line` error, never a crash.
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

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects a line may have.

Our own lines nest about ten deep (a tool's parameter schema); a line of
5,000 `[` would otherwise exhaust Python's recursion limit inside the parser.
"""
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(r"[\[\]{}]")


class JSONLineError(ValueError):
    """A line that is not JSON we read; the message says why, for `file:line: ...`.

    `bound` is True when the line broke a bound (depth, digits) rather than
    the syntax: such a line is never mistaken for a torn last write.
    """

    def __init__(self, message: str, *, bound: bool = False) -> None:
        super().__init__(message)
        self.bound = bound


def _too_deep(line: str) -> bool:
    """Whether `line` nests deeper than `MAX_DEPTH`; brackets inside strings do not count."""
    if line.count("[") + line.count("{") <= MAX_DEPTH:
        return False  # the usual case, at C speed
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub('""', line)):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        else:
            depth -= 1
    return False


def parse_line(line: str) -> Any:
    """One line of a JSONL file, parsed within bounds: only ever raises `JSONLineError`.

    Bounded so that no line can crash a reader: nesting deeper than
    `MAX_DEPTH` and integers longer than Python's conversion limit (4,300
    digits) are refused with a plain reason instead of a `RecursionError` or
    `ValueError` from deep inside the parser.
    """
    if _too_deep(line):
        raise JSONLineError(f"nested more than {MAX_DEPTH} levels deep", bound=True)
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise JSONLineError(f"not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:  # a backstop; `_too_deep` should have caught it
        raise JSONLineError("nested too deeply", bound=True) from exc
    except ValueError as exc:  # int(): "Exceeds the limit (4300 digits) ..."
        raise JSONLineError("a number with too many digits", bound=True) from exc


def first_record_type(head: str) -> str | None:
    """The `type` of the first record in `head`, or None if it does not start with one.

    A first line cut short (a huge header, a torn write) still shows its type:
    the first `"type": "..."` pair on it is taken.
    """
    line = head.lstrip("\ufeff \t\r\n").split("\n", 1)[0]  # the first non-blank line
    if not line.startswith("{"):
        return None
    try:
        data = parse_line(line)
    except JSONLineError:
        match = _TYPE.search(line)
        return match.group(1) if match else None
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def json_object(line: bytes | str) -> dict[str, Any] | None:
    """The JSON object on `line`, or None for anything else (never raises)."""
    try:
        data = parse_line(line.decode("utf-8") if isinstance(line, bytes) else line)
    except ValueError:  # JSONLineError, or UnicodeDecodeError
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
