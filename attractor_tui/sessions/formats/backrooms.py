"""Read UniversalBackrooms logs (`BackroomsLogs/*.txt`): one conversation per file.

The harness appends `"\\n### <actor> ###\\n<text>\\n"` per message (older logs:
`"\\n<actor>:\\n<text>\\n"`), where the actors are the file name's two models
numbered 1 and 2 (`Claude 1`, `O1 2`). Actor 1 is side A, actor 2 side B.
A header is only a line of the file's own style, right after a blank line,
naming one of those two actors: other lines ending in `:` or starting with
`###` inside a message (`Reflection:`, `### Generating a 3D Fractal:`) are
text. Each message's text is kept exactly, minus the line breaks the harness
framed it with. The closing `<actor> has ended the conversation with ^C^C.`
line is the session's end (reason `phrase`, the line as its detail), not a
message.

The file name `<model1>_<model2>_<template>_<YYYYMMDD>_<HHMMSS>.txt` gives the
models, the template and the start time (the harness's local time, taken as
UTC); without it, the actors' names and the file's modification time serve.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from attractor_tui.core.config import SessionConfig, Side, SideConfig
from attractor_tui.core.events import SessionEnd
from attractor_tui.sessions.formats.base import SessionSummary
from attractor_tui.sessions.formats.transcript import (
    Message,
    build_log,
    content_id,
    digest,
    file_time,
    summarise_by_loading,
    unframe,
)
from attractor_tui.sessions.log import SessionFileError, SessionLog

SOURCE = "backrooms"
HARNESS = "scottviteri/UniversalBackrooms"

title = "UniversalBackrooms log"
suffixes: tuple[str, ...] = (".txt",)

_STYLES: dict[str, re.Pattern[str]] = {
    "### X ###": re.compile(r"### (?P<actor>\S.*? (?P<n>[12])) ###"),
    "X:": re.compile(r"(?P<actor>[^\s:#][^:#]*? (?P<n>[12])):"),
}
_END = re.compile(r"(?P<actor>.+?) has ended the conversation with (?P<how>.*)\.")
_NAME = re.compile(r"(?P<a>[^_]+)_(?P<b>[^_]+)_(?P<template>.+)_(?P<date>\d{8})_(?P<time>\d{6})"
                   r"\.txt")


def detect(path: Path, head: str) -> bool:
    """The first non-blank line is a header naming actor 1 or 2, and the file is named like
    a backrooms log or a second actor's header follows."""
    found = _style(head)
    if found is None:
        return False
    style, _ = found
    if _NAME.fullmatch(path.name):
        return True
    numbers = {m["n"] for _, _, m in _header_lines(head, _STYLES[style])}
    return numbers == {"1", "2"}


def load(path: Path, text: str) -> list[SessionLog]:
    found = _style(text)
    if found is None:
        raise SessionFileError(path, "not a backrooms log (no `### <actor> ###` or `<actor>:` "
                                     "line first)")
    style, first = found
    named = _NAME.fullmatch(path.name)
    actor1 = first["actor"]
    actors: dict[str, Side] = {actor1: "A" if first["n"] == "1" else "B"}
    stem1 = actor1.rsplit(" ", 1)[0]
    same_model = named is not None and named["a"] == named["b"]
    headers: list[tuple[int, int, str]] = []
    for start, after, match in _header_lines(text, _STYLES[style]):
        actor = match["actor"]
        if actor not in actors:
            if len(actors) == 2 or match["n"] == first["n"]:
                continue
            if same_model and actor.rsplit(" ", 1)[0] != stem1:
                continue  # "Step 2:" in a file of two GPT4o
            actors[actor] = "A" if match["n"] == "1" else "B"
        headers.append((start, after, actor))
    stop, end_line = _end_line(text, actors, headers[-1][1])
    by_side = {side: actor for actor, side in actors.items()}
    models = _models(named, by_side)
    messages: list[Message] = []
    for n, (_, body, actor) in enumerate(headers):
        until = headers[n + 1][0] if n + 1 < len(headers) else stop
        side = actors[actor]
        messages.append(Message(side=side, text=unframe(text[body:until]), model=models[side]))
    ts, time_from = _start_time(path, named)
    meta: dict[str, Any] = {
        "harness": HARNESS, "format": SOURCE, "actors": by_side, "header_style": style,
        "time_from": time_from,
    }
    if named is not None:
        meta["template"] = named["template"]
    config = SessionConfig(a=SideConfig(model=models["A"], system=""),
                           b=SideConfig(model=models["B"], system=""), seed="")
    end = (SessionEnd(ts=ts, reason="phrase", detail=end_line) if end_line is not None
           else SessionEnd(ts=ts, reason="imported"))
    return [build_log(path, session_id=content_id(SOURCE, digest(text), 0),
                      source=f"{SOURCE}:{path.name}", ts=ts, config=config, meta=meta,
                      messages=messages, end=end)]


def summarise(path: Path, handle: BinaryIO, summary: SessionSummary) -> None:
    summarise_by_loading(load, path, handle, summary, SOURCE)


def _lines(text: str) -> list[tuple[int, int, str]]:
    """Each line as (start offset, offset after its newline, text without line break)."""
    out: list[tuple[int, int, str]] = []
    start = 0
    while start < len(text):
        stop = text.find("\n", start)
        after = len(text) if stop < 0 else stop + 1
        out.append((start, after, text[start:after].rstrip("\r\n")))
        start = after
    return out


def _style(text: str) -> tuple[str, re.Match[str]] | None:
    """The header style and the first header, if the first non-blank line is one."""
    for _, _, line in _lines(text[:4096]):
        if not line.strip():
            continue
        for style, pattern in _STYLES.items():
            match = pattern.fullmatch(line)
            if match:
                return style, match
        return None
    return None


def _header_lines(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int, re.Match[str]]]:
    """Lines of the header style that follow a blank line (or open the file)."""
    found = []
    blank_before = True
    for start, after, line in _lines(text):
        match = pattern.fullmatch(line) if blank_before else None
        if match:
            found.append((start, after, match))
        blank_before = not line.strip()
    return found


def _end_line(text: str, actors: dict[str, Side], after: int) -> tuple[int, str | None]:
    """Where the last message stops, and the "has ended the conversation" line if there is one
    (the last non-blank line, after a blank line, naming one of the actors)."""
    lines = [ln for ln in _lines(text) if ln[0] >= after]
    while lines and not lines[-1][2].strip():
        lines.pop()
    if len(lines) >= 2 and not lines[-2][2].strip():
        start, _, line = lines[-1]
        match = _END.fullmatch(line)
        if match and match["actor"] in actors:
            return start, line
    return len(text), None


def _models(named: re.Match[str] | None, by_side: dict[Side, str]) -> dict[Side, str]:
    if named is not None:
        return {"A": named["a"], "B": named["b"]}
    a, b = by_side.get("A", ""), by_side.get("B", "")
    return {"A": a.rsplit(" ", 1)[0], "B": b.rsplit(" ", 1)[0]}


def _start_time(path: Path, named: re.Match[str] | None) -> tuple[datetime, str]:
    if named is not None:
        try:
            return (datetime.strptime(named["date"] + named["time"], "%Y%m%d%H%M%S")
                    .replace(tzinfo=UTC), "file name")
        except ValueError:
            pass
    return file_time(path), "file modification time"
