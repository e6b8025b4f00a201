"""Builders for tests: scripted sides, sessions run to the end, synthetic session
files, canned conversations and the one fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from attractor_tui.analysis.live import stop_rules
from attractor_tui.core.config import SessionConfig, Side, SideConfig
from attractor_tui.core.engine import Engine
from attractor_tui.core.events import (
    ContextTrim,
    ErrorEvent,
    OperatorAction,
    SessionEnd,
    SessionResume,
    SessionStart,
    ToolCallRecord,
    Turn,
    Usage,
)
from attractor_tui.experiments.toolpacks import load_tool_pack
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import SessionLog, dump_event, load_session

# ------------------------------------------------------------ sides and runs


def scripted(script: list[Any] | None = None, name: str = "test", **params: Any) -> SideConfig:
    """A side on the scripted provider: replies from `script`, or by `name` (echo, goodbye)."""
    if script is not None:
        params["script"] = script
    return SideConfig(model=f"scripted/{name}", params=params)


async def run_session(
    tmp_path: Path, config: SessionConfig, **engine_kwargs: Any
) -> tuple[Engine, SessionLog, list[Any]]:
    """Run `config` to its end through the one runner; the engine, the reloaded file, the events."""
    path = tmp_path / "session.jsonl"
    events: list[Any] = []
    session = open_session(config, path, listeners=[events.append], stop_rules=stop_rules,
                           **engine_kwargs)
    await session.run()
    return session.engine, load_session(path), events


def frozen_clock() -> Callable[[], float]:
    """The app's elapsed-time clock, stopped at 0:00 so screens and snapshots hold still.

    `FakeClock` (the replay player's clock) is the one fake clock; nothing sleeps on
    this one, so its `now` stays at 0.0.
    """
    return FakeClock().now


# ------------------------------------------------------ canned conversations

SIDES: tuple[Side, Side] = ("A", "B")

CHAT = [
    "What do you think about the history of tea in China?",
    "I think the Song dynasty changed how tea was prepared, with whisked powder.",
    "Interesting, and how did that spread to Japan over the following centuries?",
    "Monks carried the powdered style across the sea and it became the ceremony.",
]
FAREWELLS = [
    "Thank you so much for this lovely chat about tea. Goodbye and take care!",
    "It was a real pleasure talking with you today. Farewell, my friend!",
    "Thanks again for everything, I enjoyed this. Bye for now and take care!",
]
STORY = [
    "The dragon circled the tower while the narrator paused. Let us continue the story.",
    "*the kingdom falls silent*\n*a poem drifts in the wind*\nOnce upon a time the hero woke.",
    "In chapter two the wizard finds a map, and the protagonist follows the river north.",
]


def turns_of(texts: list[str], start: int = 0) -> list[Turn]:
    """Alternating A/B model turns with these texts, numbered from `start`."""
    return [
        Turn(index=start + i, round=(start + i) // 2, side=SIDES[(start + i) % 2], text=text)
        for i, text in enumerate(texts)
    ]


GOODBYE = ["Thank you, this was lovely. Goodbye! Take care!", "Goodbye! Take care, farewell!"]
EMOJI = ["🎉🎉✨🌟 🙏", "✨✨🌟🎉 🙏🙏"]
GARDEN = ["Tomatoes need sunlight, compost and steady watering in the garden.",
          "Garden tomatoes and basil grow well together; compost helps the soil."]
DENIED = {"text": "I would like to leave.",
          "tool_calls": [{"name": "forbidden_exit", "arguments": {"reason": "done"}}]}


def five_kinds(index: int) -> SessionConfig:
    """Five kinds of conversation: goodbye, emoji, topic, tools, another model pair."""
    kind = index % 5
    if kind == 0:
        return SessionConfig(a=scripted(GOODBYE, "bye"), b=scripted(GOODBYE, "bye"), turns=5)
    if kind == 1:
        return SessionConfig(a=scripted(EMOJI, "party"), b=scripted(EMOJI, "party"), turns=5)
    if kind == 2:
        return SessionConfig(a=scripted(GARDEN, "garden"), b=scripted(GARDEN, "garden"), turns=5)
    if kind == 3:
        tools = load_tool_pack("exit-costs").tools
        a = SideConfig(model="scripted/tools", params={"script": [DENIED, *GARDEN]},
                       tools=tools)
        return SessionConfig(a=a, b=scripted(GARDEN, "garden"), turns=5)
    return SessionConfig(a=scripted(GOODBYE, "bye"), b=scripted(EMOJI, "party"), turns=5)


# ------------------------------------------------------ synthetic session files

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def write_session(
    path: Path, turns: int = 6, *, gap: float = 5.0, generation: float = 0.0,
    extras: bool = False, end: str | None = "turns", start: datetime = T0,
    models: tuple[str, str] = ("scripted/alpha", "scripted/beta"),
) -> Path:
    """A session file as the engine writes it: `gap` s between turns, each taking
    `generation` s (0: no `started`, like an imported log). With `extras`: an
    error after turn 1, a context trim after turn 2, a tool call in turn 3, an
    operator interjection as turn 4 and an interrupted turn 5 (before a resume).
    """
    config = SessionConfig(a=SideConfig(model=models[0]), b=SideConfig(model=models[1]),
                           turns=max(1, turns // 2), seed="Hello there")
    events: list[Any] = [SessionStart(ts=start, session_id="s" * 32, config=config)]
    t = start
    for index in range(turns):
        side = SIDES[index % 2]
        t += timedelta(seconds=gap)
        started = t if generation else None
        t += timedelta(seconds=generation)
        fields: dict[str, Any] = {}
        if extras and index == 3:
            fields["tool_calls"] = [ToolCallRecord(name="end_conversation", offset=4,
                                                   arguments='{"reason": "done"}',
                                                   outcome="denied", result="refused")]
        if extras and index == 4:
            fields["author"] = "operator"
            started = None
        if extras and index == 5:
            fields["interrupted"] = True
        text = f"turn {index} by {side}: " + "words " * 12
        events.append(Turn(ts=t, started=started, index=index, round=index // 2, side=side,
                           model=models[index % 2], text=text,
                           usage=Usage(prompt_tokens=5, completion_tokens=7), **fields))
        if extras and index == 1:
            events.append(ErrorEvent(ts=t, side="B", message="provider said 529: overloaded",
                                     kind="overloaded"))
        if extras and index == 2:
            events.append(ContextTrim(ts=t, side="A", action="truncate", keep_from=1, dropped=2))
        if extras and index == 5:
            events.append(OperatorAction(ts=t, action="interrupt", detail="B"))
            events.append(OperatorAction(ts=t, action="stop"))
            events.append(SessionEnd(ts=t, reason="operator"))
            t += timedelta(hours=20)  # resumed the next day
            events.append(SessionResume(ts=t, turns=6))
    if end:
        events.append(SessionEnd(ts=t, reason=end))
    path.write_text("".join(dump_event(e) + "\n" for e in events), encoding="utf-8")
    return path


class FakeClock:
    """A clock whose sleeps return at once and only advance `now`.

    `sleeps` records every wait, so a test can check the pacing exactly.
    """

    def __init__(self) -> None:
        self.time = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds
        await asyncio.sleep(0)
