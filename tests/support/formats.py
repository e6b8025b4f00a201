"""A made-up file format, to check that a registered format is used everywhere."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import PersistedEvent, SessionEnd, SessionStart, Turn
from attractor_tui.sessions.formats.base import SessionSummary
from attractor_tui.sessions.log import SessionLog

T0 = datetime(2026, 2, 17, 9, 0, tzinfo=UTC)


class TwoChats:
    """A made-up format: `CHATS` first, conversations split by `---`, lines `A: text`."""

    title = "two-chat test file"
    suffixes = (".chats",)

    @staticmethod
    def session_id(number: int) -> str:
        return f"{number:x}" * 32

    def detect(self, path: Path, head: str) -> bool:
        return head.startswith("CHATS\n")

    def load(self, path: Path, text: str) -> list[SessionLog]:
        logs = []
        for number, block in enumerate(text.removeprefix("CHATS\n").split("---\n")):
            config = SessionConfig(a=SideConfig(model="chat/a"), b=SideConfig(model="chat/b"))
            events: list[PersistedEvent] = [
                SessionStart(ts=T0, session_id=self.session_id(number), config=config,
                             source=f"chats:{path.name}")
            ]
            for index, line in enumerate(ln for ln in block.split("\n") if ln.strip()):
                side, _, said = line.partition(": ")
                events.append(Turn(ts=T0 + timedelta(minutes=number, seconds=index + 1),
                                   index=index, round=index // 2, side="A" if side == "A" else "B",
                                   text=said))
            events.append(SessionEnd(reason="imported"))
            logs.append(SessionLog(path=path, events=events))
        return logs

    def summarise(self, path: Path, handle: BinaryIO, summary: SessionSummary) -> None:
        text = handle.read().decode("utf-8")
        summary.foreign = True
        summary.turns = sum(1 for ln in text.split("\n")[1:] if ": " in ln)
        summary.model_a = summary.model_b = "chat"


def chats_file(path: Path, *blocks: str) -> Path:
    path.write_text("CHATS\n" + "---\n".join(blocks), encoding="utf-8")
    return path


# ------------------------------------------- writers of other harnesses' files
# Small synthetic files in each foreign layout, written the way those harnesses
# write them (see the readers' docstrings); never copies of the shared files.


def cli(argv: list[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one in-process `attractor-tui` command."""
    import contextlib
    import io

    from attractor_tui.cli.parser import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def conversation(seed: str, *texts: str, speakers: tuple[str, str] = ("A", "B"),
                 models: tuple[str, str] | None = None, seed_message: bool = False,
                 histories: bool = True) -> dict[str, Any]:
    """One entry of a `conversations.json` list; `texts` alternate, first speaker first."""
    full: list[dict[str, Any]] = []
    if seed_message:  # role-play: the user's first message is the seed
        full.append({"speaker": "user", "content": seed})
    for n, text in enumerate(texts):
        message: dict[str, Any] = {"speaker": speakers[n % 2], "content": text}
        if models:
            message["model"] = models[n % 2]
        full.append(message)
    conv: dict[str, Any] = {"seed_prompt": seed, "turns": len(texts), "full_conversation": full}
    if histories:
        first, second = speakers
        names = (("assistant_history", "user_history") if seed_message
                 else ("instance_a_history", "instance_b_history"))
        replies = full[1:] if seed_message else full
        conv[names[0]] = ([{"role": "user", "content": seed}] + [
            {"role": "assistant" if m["speaker"] == first else "user", "content": m["content"]}
            for m in replies])[: len(texts)]
        conv[names[1]] = [
            {"role": "assistant" if m["speaker"] == second else "user", "content": m["content"]}
            for m in replies][: len(texts)]
    return conv


def cross_model_file(path: Path, conversations: list[dict[str, Any]], **run: Any) -> Path:
    """A `conversations.json`: the run's fields (`model`, `generated_at`...) then the list."""
    path.write_text(json.dumps({**run, "conversations": conversations}, indent=2),
                    encoding="utf-8")
    return path


def backrooms_file(path: Path, messages: list[tuple[str, str]], *, hashes: bool = True,
                   ended_by: str | None = None) -> Path:
    """A UniversalBackrooms log: `(actor, text)` messages, as the harness appends them."""
    out = ""
    for actor, text in messages:
        header = f"### {actor} ###" if hashes else f"{actor}:"
        out += f"\n{header}\n{text}\n"
    if ended_by:
        out += f"\n{ended_by} has ended the conversation with ^C^C.\n"
    path.write_text(out, encoding="utf-8")
    return path


def meta_of(log: SessionLog) -> dict[str, Any]:
    """What a foreign reader kept beyond our config (`SessionStart.meta`)."""
    meta = getattr(log.start, "meta", None)
    assert isinstance(meta, dict)
    return meta


RULE = "=" * 60


def console_header(label: str, model: str) -> str:
    return f"\n{RULE}\n[{label} - {model}]\n{RULE}\n"


def console_run(seed: str, *blocks: str, command: bool = True, banner: bool = True) -> str:
    """One run of attractor-states `main.py` as its terminal showed it; `blocks` are the
    printed messages (`console_header(...)` + text + "\\n")."""
    out = f'% uv run main.py "{seed}"\n' if command else ""
    out += f"Seed: {seed}\n"
    if banner:
        out += ("Running forever. Ctrl+C to stop.\n"
                "Press Space between turns to impersonate a model.\n\n")
    return out + "".join(blocks)


def console_message(label: str, text: str, model: str = "anthropic/claude-x") -> str:
    return console_header(label, model) + text + "\n"
