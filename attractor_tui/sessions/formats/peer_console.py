"""Read what MatchaOnMuffins/attractor-states `main.py` printed to the terminal.

The console copy holds several runs one after another; each starts at a
`Seed: <seed>` line (after the command line, before the banner "Running
forever. Ctrl+C to stop."), and becomes one conversation. Per message the
harness printed a header block (a line of `=`, `[Model A - <model>]`, a line
of `=`), then the streamed text. Kept exactly, except for what the harness or
its libraries printed into it, each piece named in the turn's
`removed_noise` (offset in the kept text, and the text removed) and in a
warning:

- litellm's console noise (`Provider List: https://...`, `Give Feedback /
  Get Help: ...`, `LiteLLM.Info: ...`), printed into a streaming reply;
- the `  [Space to interject] ` prompt, and the carriage return erasing it.

What is not the model's text is recorded as what it was:

- an operator turn, `  You (as Model B): <text>` in place of a reply, is a turn
  with `author: "operator"`;
- the tool-call notices after a reply (`  🐶 Model A called <tool>!`, its
  `Reason: "..."`, and the line saying it was denied; or `  ⚡ Model A called
  <tool>: "<reason>"` and `DENIED`) are the turn's tool calls (outcome
  `denied`); a reply that was only a call was sent as the harness's
  `[I tried to call <tool> because: <reason>]`, which is its `sent_text`;
- a trailing `^C` (the terminal's echo of Ctrl+C) ends an interrupted reply
  (`interrupted: true`, its partial text kept; nothing at all: no turn), and
  `Stopped by user.` or a Python traceback after it end the run (reason
  `operator`, or `error` for a traceback other than `KeyboardInterrupt`).

No timestamps are printed: every event carries the file's modification time.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from attractor_tui.core.config import SessionConfig, Side, SideConfig
from attractor_tui.core.events import SessionEnd, ToolCallRecord
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

SOURCE = "peer-console"
HARNESS = "MatchaOnMuffins/attractor-states"

title = "console output of MatchaOnMuffins/attractor-states"
suffixes: tuple[str, ...] = (".txt",)

_SEED = re.compile(r"Seed: (?P<seed>.*)")
_BANNER = "Running forever. Ctrl+C to stop."
_RULE = re.compile(r"={10,}")
_LABEL = re.compile(r"\[(?P<label>Model [AB]) - (?P<model>.*)\]")
_SIDES: dict[str, Side] = {"Model A": "A", "Model B": "B"}
_STOPPED = "Stopped by user."
_TRACEBACK = "Traceback (most recent call last):"
_ECHO = "^C"

_HEAD_SEED = re.compile(r"^Seed: ", re.M)
_HEAD_BANNER = re.compile(r"^Running forever\. Ctrl\+C to stop\.\r?$", re.M)
_HEAD_BLOCK = re.compile(r"^={10,}\r?\n\[Model [AB] - [^\n]*\]\r?\n={10,}\r?$", re.M)

_ANSI = r"(?:\x1b\[[0-9;]*m)?"
_NOISE_LINES = (
    rf"{_ANSI}Provider List: https?://[^\s\x1b]*{_ANSI}",
    rf"{_ANSI}Give Feedback / Get Help: https?://[^\s\x1b]*{_ANSI}\n"
    rf"LiteLLM\.Info: If you need to debug this error, use `litellm\._?turn_on_debug\(\)'\.",
)
_NOISE_FRAMED = re.compile("|".join(rf"\n{line}\n\n" for line in _NOISE_LINES))
"""litellm prints `print(); print(line); print()`: exactly this is cut out."""
_NOISE_BARE = re.compile("|".join(rf"^{line}\n" for line in (
    *_NOISE_LINES, rf"{_ANSI}Give Feedback / Get Help: https?://\S*",
    r"LiteLLM\.Info: If you need to debug this error.*")), re.M)
"""The same lines without their blank lines around (a copy that lost them)."""
_PROMPT = re.compile(r"\A(?:  \[Space to interject\] ?)?(?:\r {0,80}\r)?")
_OPERATOR = re.compile(r"\A\n?  You \(as (?P<label>Model [AB])\): (?P<text>[^\n]*)\n*\Z")
_CALLED = re.compile(r"  (?P<mark>\S+) (?P<label>Model [AB]) called (?P<tool>\S+?)"
                     r"(?:!|: \"(?P<reason>.*))")
_REASON = re.compile(r"  (?P<mark>\S+) Reason: \"(?P<reason>.*)")
_DENIED = re.compile(r"  (?P<mark>\S+) (?P<denial>.*The loop continues\.)")


def detect(path: Path, head: str) -> bool:
    """A `Seed:` line, and the banner or a message header block."""
    return (not head.lstrip("\ufeff \t\r\n").startswith("{")
            and _HEAD_SEED.search(head) is not None
            and (_HEAD_BANNER.search(head) is not None or _HEAD_BLOCK.search(head) is not None))


def summarise(path: Path, handle: BinaryIO, summary: SessionSummary) -> None:
    summarise_by_loading(load, path, handle, summary, SOURCE)


# ------------------------------------------------------------------ parsing


@dataclass
class _Line:
    number: int
    start: int
    after: int
    """Offset after the line break."""
    text: str


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    start = 0
    while start < len(text):
        stop = text.find("\n", start)
        after = len(text) if stop < 0 else stop + 1
        out.append(_Line(len(out) + 1, start, after, text[start:after].rstrip("\r\n")))
        start = after
    return out


@dataclass
class _Run:
    begin: int
    """Index in `lines` where the run's preamble starts (its command line or `Seed:`)."""
    seed_line: int
    end: int = 0
    """Index in `lines` of the next run's preamble (or len(lines))."""
    header_lines: list[int] = field(default_factory=list)


def load(path: Path, text: str) -> list[SessionLog]:
    lines = _lines(text)
    runs = _runs(lines)
    if not runs:
        raise SessionFileError(path, "not a console transcript of attractor-states "
                                     "(no `Seed:` line)")
    ts = file_time(path)
    text_digest = digest(text)
    return [_Conversation(path, text, lines, run, number, len(runs)).log(
        ts, content_id(SOURCE, text_digest, number)) for number, run in enumerate(runs)]


def _is_header(lines: list[_Line], i: int) -> bool:
    return (i + 2 < len(lines) and _RULE.fullmatch(lines[i].text) is not None
            and _LABEL.fullmatch(lines[i + 1].text) is not None
            and _RULE.fullmatch(lines[i + 2].text) is not None)


def _runs(lines: list[_Line]) -> list[_Run]:
    """Where each run starts: the first `Seed:` line, and every later one that the banner
    follows before any message, or that comes right after a `main.py` command line."""
    headers = [i for i in range(len(lines)) if _is_header(lines, i)]
    banners = [i for i, ln in enumerate(lines) if ln.text == _BANNER]
    runs: list[_Run] = []
    for i, line in enumerate(lines):
        if not _SEED.fullmatch(line.text):
            continue
        command = i > 0 and "main.py" in lines[i - 1].text
        next_header = _after(headers, i, len(lines))
        banner = _after(banners, i, len(lines)) < next_header
        if runs and not (command or banner):
            continue
        runs.append(_Run(begin=i - 1 if command else i, seed_line=i))
    for n, run in enumerate(runs):
        run.end = runs[n + 1].begin if n + 1 < len(runs) else len(lines)
        first = bisect.bisect_right(headers, run.seed_line)
        run.header_lines = headers[first:bisect.bisect_left(headers, run.end)]
    return runs


def _after(sorted_lines: list[int], i: int, default: int) -> int:
    """The first of `sorted_lines` after `i`, or `default`."""
    at = bisect.bisect_right(sorted_lines, i)
    return sorted_lines[at] if at < len(sorted_lines) else default


class _Conversation:
    """One run of the console file, turned into a log."""

    def __init__(self, path: Path, text: str, lines: list[_Line], run: _Run, number: int,
                 count: int) -> None:
        self.path, self.text, self.lines, self.run = path, text, lines, run
        self.number, self.count = number, count
        self.warnings: list[str] = []
        self.noise: list[int] = []
        """1-based numbers of the messages litellm noise was removed from."""

    def log(self, ts: Any, session_id: str) -> SessionLog:
        run, lines = self.run, self.lines
        first_header = run.header_lines[0] if run.header_lines else run.end
        seed, preamble = self._preamble(first_header)
        end_offset = lines[run.end].start if run.end < len(lines) else len(self.text)
        body_end, end = self._tail(end_offset, ts)
        messages: list[Message] = []
        models: dict[Side, str] = {}
        for n, h in enumerate(run.header_lines):
            label = _LABEL.fullmatch(lines[h + 1].text)
            assert label is not None
            side = _SIDES[label["label"]]
            models.setdefault(side, label["model"])
            start = lines[h + 2].after
            until = lines[run.header_lines[n + 1]].start if n + 1 < len(run.header_lines) \
                else body_end
            # The run was stopped while the last header's reply was due: it never finished.
            cut = n + 1 == len(run.header_lines) and end.reason != "imported"
            message = self._message(side, label["model"], self.text[start:until], cut,
                                    len(messages) + 1)
            if message is not None:
                messages.append(message)
        if self.noise:
            self.warnings.append(
                f"{self.path}: run {self.number + 1}: removed litellm console output printed "
                f"into message(s) {', '.join(map(str, self.noise))} (listed in each turn's "
                "`removed_noise`)")
        if not run.header_lines:
            self.warnings.append(f"{self.path}: run {self.number + 1}: no messages")
        config = SessionConfig(a=SideConfig(model=models.get("A", models.get("B", "")), system=""),
                               b=SideConfig(model=models.get("B", models.get("A", "")), system=""),
                               seed=seed)
        meta: dict[str, Any] = {
            "harness": HARNESS, "format": SOURCE, "conversation": self.number,
            "conversations": self.count, "run_lines": [lines[run.begin].number,
                                                       lines[run.end - 1].number],
            "time_from": "file modification time",
        }
        meta.update(preamble)
        return build_log(self.path, session_id=session_id, source=f"{SOURCE}:{self.path.name}",
                         ts=ts, config=config, meta=meta, messages=messages, end=end,
                         warnings=self.warnings)

    def _preamble(self, first_header: int) -> tuple[str, dict[str, Any]]:
        """The seed (up to the banner, if it spans lines) and the other preamble lines."""
        run, lines = self.run, self.lines
        found = _SEED.fullmatch(lines[run.seed_line].text)
        assert found is not None
        seed_lines = [found["seed"]]
        rest = lines[run.seed_line + 1:first_header]
        banner = next((k for k, ln in enumerate(rest) if ln.text == _BANNER), None)
        if banner is not None:
            seed_lines += [ln.text for ln in rest[:banner]]
            rest = rest[banner + 1:]
        info: dict[str, Any] = {}
        if run.begin < run.seed_line:
            info["command"] = lines[run.begin].text
        printed = [ln.text for ln in rest if ln.text.strip()]
        if printed:
            info["preamble"] = printed
        return "\n".join(seed_lines), info

    def _tail(self, end_offset: int, ts: Any) -> tuple[int, SessionEnd]:
        """Where the last message stops, and how the run ended (`Stopped by user.`, a
        traceback, or nothing: the console copy just stops)."""
        run = self.run
        last_header = run.header_lines[-1] if run.header_lines else run.seed_line
        start = self.lines[last_header].after
        region = self.text[start:end_offset]
        at = region.find(_TRACEBACK)
        if at >= 0:
            lines = [ln.strip() for ln in region[at:].split("\n") if ln.strip()]
            detail = lines[-1][:500] if lines else _TRACEBACK
            number = self.text.count("\n", 0, start + at) + 1
            self.warnings.append(
                f"{self.path}:{number}: run {self.number + 1} ended in a Python traceback; "
                f"not imported. Last line: {detail}")
            reason = "operator" if detail == "KeyboardInterrupt" else "error"
            return start + at, SessionEnd(ts=ts, reason=reason, detail=detail)
        stripped = region.rstrip()
        if stripped.endswith(_STOPPED) and (len(stripped) == len(_STOPPED)
                                            or stripped[-len(_STOPPED) - 1] == "\n"):
            return start + len(stripped) - len(_STOPPED), SessionEnd(
                ts=ts, reason="operator", detail=_STOPPED)
        return end_offset, SessionEnd(ts=ts, reason="imported")

    def _message(self, side: Side, model: str, body: str, cut: bool, number: int
                 ) -> Message | None:
        """The message under one header; None for a reply cut off before it began."""
        removed: list[dict[str, Any]] = []
        prompt = _PROMPT.match(body)
        if prompt and prompt.group():
            removed.append({"offset": 0, "text": prompt.group()})
            body = body[prompt.end():]
        operator = _OPERATOR.fullmatch(body)
        if operator:
            if _SIDES[operator["label"]] != side:
                self.warnings.append(f"{self.path}: run {self.number + 1}, message {number}: "
                                     f"the operator typed as {operator['label']} in the other "
                                     "side's slot")
            extra = {"removed_noise": removed} if removed else {}
            return Message(side=side, text=operator["text"], model="", author="operator",
                           extra=extra)
        body, noise = _without_noise(body)
        if noise:
            self.noise.append(number)
            removed.extend(noise)
        calls, text = _tool_notices(body)
        interrupted = False
        if calls is None:
            text = unframe(body)
            calls = []
        if cut:
            tail = text.rstrip("\n")
            text = tail.removesuffix(_ECHO)  # the terminal's echo of Ctrl+C
            if not text.strip() and not calls:
                return None  # stopped before the reply began: not a message
            interrupted = True
        sent = None
        if calls and not text:
            reason = json.loads(calls[-1].arguments).get("reason")
            sent = f"[I tried to call {calls[-1].name} because: {reason}]"
        extra = {"removed_noise": removed} if removed else {}
        return Message(side=side, text=text, model=model, tool_calls=calls, sent_text=sent,
                       interrupted=interrupted, extra=extra)


def _without_noise(body: str) -> tuple[str, list[dict[str, Any]]]:
    """`body` without litellm's console lines, and what was removed where (in the result)."""
    removed: list[dict[str, Any]] = []
    for pattern in (_NOISE_FRAMED, _NOISE_BARE):
        kept: list[str] = []
        position = cut = 0
        for match in pattern.finditer(body):
            kept.append(body[position:match.start()])
            removed.append({"offset": match.start() - cut, "text": match.group()})
            cut += len(match.group())
            position = match.end()
        if position:
            kept.append(body[position:])
            body = "".join(kept)
    removed.sort(key=lambda r: int(r["offset"]))
    return body, removed


def _tool_notices(body: str) -> tuple[list[ToolCallRecord] | None, str]:
    """The tool calls noticed at the end of `body` and the text before them (None: no
    notices; the body is all text).

    Read from the end, block by block (the denial line, up to its `called` line), so a
    reply of any length costs one pass.
    """
    lines = body.split("\n")
    calls: list[ToolCallRecord] = []
    start = len(lines)
    i = _last_filled(lines, len(lines) - 1)
    while i > 0:
        denied = _DENIED.fullmatch(lines[i])
        if denied is None:
            break
        c = i - 1
        while c > 0 and not _is_called(lines[c], denied["mark"]):
            c -= 1
        call = _notice(lines[c:i + 1]) if c > 0 else None
        if call is None:
            break
        calls.insert(0, call)
        start = c
        i = _last_filled(lines, c - 1)
    if not calls:
        return None, body
    text = "\n".join(lines[:start])
    for call in calls:
        call.offset = len(text)
    return calls, text


def _last_filled(lines: list[str], i: int) -> int:
    while i >= 0 and not lines[i].strip():
        i -= 1
    return i


def _is_called(line: str, mark: str) -> bool:
    match = _CALLED.fullmatch(line)
    return match is not None and match["mark"] == mark


def _notice(block: list[str]) -> ToolCallRecord | None:
    """One notice block (`called` line, reason, denial line) as a denied call, or None."""
    called, denied = _CALLED.fullmatch(block[0]), _DENIED.fullmatch(block[-1])
    if called is None or denied is None:
        return None
    if called["reason"] is not None:  # `called NAME: "reason..."`
        said = "\n".join([called["reason"], *block[1:-1]])
    else:
        reason = _REASON.fullmatch(block[1]) if len(block) > 2 else None
        if reason is None or reason["mark"] != called["mark"]:
            return None
        said = "\n".join([reason["reason"], *block[2:-1]])
    if not said.endswith('"'):
        return None
    return ToolCallRecord(name=called["tool"], arguments=json.dumps({"reason": said[:-1]}),
                          outcome="denied", result=denied["denial"])
