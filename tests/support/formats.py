"""A made-up file format, to check that a registered format is used everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

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
