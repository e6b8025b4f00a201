"""Queued operator turns are on disk from the moment they are queued and survive
every way a session can stop: a turn limit, a crash, a resume (issue 16)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from attractor_tui.cli.headless import resume_headless
from attractor_tui.core.config import SessionConfig
from attractor_tui.core.events import TurnBegin
from attractor_tui.sessions.runner import open_session, unused_queue
from attractor_tui.sessions.store import load_session
from tests.support.builders import scripted
from tests.support.waiting import wait_until


def echo_config(turns: int) -> SessionConfig:
    return SessionConfig(a=scripted(name="echo"), b=scripted(name="echo"), turns=turns)


async def test_queue_is_written_when_queued_and_used_or_dropped_by_ref(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    session = open_session(echo_config(1), path)
    await session.engine.interject("A", "first words")
    await session.engine.interject("B", "taken back")
    assert await session.engine.take_back("B") == "taken back"
    assert await session.engine.take_back("B") is None
    await session.run()
    log = load_session(path)
    queued = [a for a in log.operator_actions if a.action == "queue"]
    assert [(a.side, a.text) for a in queued] == [("A", "first words"), ("B", "taken back")]
    drop = next(a for a in log.operator_actions if a.action == "drop")
    assert drop.side == "B" and drop.ref == queued[1].ref
    used = log.turns[0]
    assert used.author == "operator" and used.text == "first words"
    assert used.from_queue == queued[0].ref
    assert log.turns[1].author == "model"  # the dropped text never became B's turn
    assert unused_queue(log) == []


async def test_text_queued_behind_a_turn_limit_is_kept_and_resumed_first(tmp_path: Path) -> None:
    """A has spoken; text queued for A waits behind B's turn, which is the last one."""
    path = tmp_path / "s.jsonl"
    config = SessionConfig(a=scripted(name="echo"),
                           b=scripted(["word " * 40], name="slow", delay=0.01), turns=1)
    events: list[Any] = []
    session = open_session(config, path, listeners=[events.append])
    engine = session.engine
    run = asyncio.ensure_future(session.run())
    await wait_until(None, lambda: engine.generating == "B", 10, "B generating")
    await engine.interject("A", "too late for this run")
    await run
    assert engine.ended is not None and engine.ended.reason == "turns"
    assert engine.pending("A") == ["too late for this run"]
    log = load_session(path)
    assert [t.author for t in log.turns] == ["model", "model"]
    assert [a.text for a in unused_queue(log)] == ["too late for this run"]

    resumed = open_session(log, turns=1)
    assert [a.text for a in resumed.restored] == ["too late for this run"]
    resumed.engine.config.b.params["delay"] = 0
    await resumed.run()
    after = load_session(path)
    assert [(t.side, t.author) for t in after.turns[2:]] == [("A", "operator"), ("B", "model")]
    assert after.turns[2].text == "too late for this run"
    assert unused_queue(after) == []
    # the queued text is delivered once: a second resume has nothing to restore
    assert open_session(after, turns=1).restored == []


async def test_two_queued_turns_per_side_are_restored_in_order(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    session = open_session(echo_config(2), path, turns=0)  # ends before any slot is filled
    for text in ("a1", "b1", "a2", "b2"):
        await session.engine.interject("A" if text[0] == "a" else "B", text)
    await session.run()
    log = load_session(path)
    assert log.turns == [] and log.end is not None and log.end.reason == "turns"
    assert [(a.side, a.text) for a in unused_queue(log)] == [
        ("A", "a1"), ("B", "b1"), ("A", "a2"), ("B", "b2")]

    console = Console(record=True, width=200, highlight=False)
    assert await resume_headless(log, turns=3, console=console) == 0
    printed = console.export_text()
    assert "restored 4 queued operator turn(s) (A×2, B×2)" in printed
    assert printed.index("A: a1") < printed.index("B: b1") < printed.index("A: a2")
    after = load_session(path)
    assert [(t.side, t.author, t.text) for t in after.turns[:4]] == [
        ("A", "operator", "a1"), ("B", "operator", "b1"),
        ("A", "operator", "a2"), ("B", "operator", "b2"),
    ]
    assert [t.author for t in after.turns[4:]] == ["model", "model"]
    refs = [a.ref for a in after.operator_actions if a.action == "queue"]
    assert [t.from_queue for t in after.turns[:4]] == refs
    assert len(refs) == 4  # restoring wrote no second copy of any queued text


def test_a_file_without_queue_events_resumes_as_before(tmp_path: Path) -> None:
    """Files written before issue 16 hold operator turns with no `queue` event."""
    path = tmp_path / "old.jsonl"
    path.write_text(
        '{"type":"session_start","ts":"2026-01-01T00:00:00Z","schema_version":1,'
        '"session_id":"x","config":{"a":{"model":"scripted/echo"},'
        '"b":{"model":"scripted/echo"},"turns":2}}\n'
        '{"type":"turn","ts":"2026-01-01T00:00:01Z","index":0,"round":0,"side":"A",'
        '"author":"operator","text":"hi"}\n'
        '{"type":"operator","ts":"2026-01-01T00:00:02Z","action":"pause"}\n'
    )
    log = load_session(path)
    assert unused_queue(log) == [] and open_session(log).restored == []


KILLED_RUN = """
import asyncio, sys
from pathlib import Path
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.sessions.runner import open_session
side = SideConfig(model="scripted/slow", params={"script": ["word " * 200], "delay": 0.005})
cfg = SessionConfig(a=side, b=side.model_copy(), turns=50)

async def main() -> None:
    session = open_session(cfg, Path(sys.argv[1]) / "killed.jsonl")
    await session.engine.interject("B", "words that must survive a kill")
    await session.run()

asyncio.run(main())
"""


def test_queue_then_sigkill_then_resume(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    path = tmp_path / "killed.jsonl"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if path.exists() and '"action":"queue"' in path.read_text():
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the run never wrote its queue event")
        assert '"type":"turn"' not in path.read_text()  # A is still streaming (~1 s)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    log = load_session(path)
    assert log.turns == [] and log.end is None
    assert [(a.side, a.text) for a in unused_queue(log)] == [
        ("B", "words that must survive a kill")]

    seen: list[Any] = []

    async def resume() -> None:
        session = open_session(log, turns=1, listeners=[seen.append])
        assert len(session.restored) == 1
        session.engine.config.a.params["delay"] = 0
        session.engine.config.b.params["delay"] = 0
        await session.run()

    asyncio.run(resume())
    again = load_session(path)
    assert [(t.side, t.author) for t in again.turns] == [("A", "model"), ("B", "operator")]
    assert again.turns[1].text == "words that must survive a kill"
    assert any(isinstance(e, TurnBegin) and e.author == "operator" for e in seen)
