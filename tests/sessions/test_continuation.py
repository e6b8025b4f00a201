"""Resume and fork: the file alone is enough to continue exactly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from attractor_tui.core.config import SessionConfig
from attractor_tui.core.events import SessionResume
from attractor_tui.core.history import messages_for
from attractor_tui.sessions.continuation import fork_session
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import load_session
from tests.support.builders import run_session, scripted


def echo_config(turns: int) -> SessionConfig:
    # echo replies with what it was sent, so equal texts mean equal histories
    return SessionConfig(a=scripted(name="echo"), b=scripted(name="echo"), turns=turns)


async def test_resume_sends_what_an_uninterrupted_run_sends(tmp_path: Path) -> None:
    full_dir, part_dir = tmp_path / "full", tmp_path / "part"
    full_dir.mkdir(), part_dir.mkdir()
    _, full, _ = await run_session(full_dir, echo_config(4))
    _, part, _ = await run_session(part_dir, echo_config(2))
    await open_session(part, turns=2).run()
    resumed = load_session(part.path)
    assert [t.text for t in resumed.turns] == [t.text for t in full.turns]
    for side in ("A", "B"):
        assert messages_for(resumed.config, side, resumed.turns) == messages_for(
            full.config, side, full.turns)
    assert sum(isinstance(e, SessionResume) for e in resumed.events) == 1
    assert resumed.end is not None and resumed.end.reason == "turns"


async def test_fork_keeps_prefix_and_parent(tmp_path: Path) -> None:
    _, log, _ = await run_session(tmp_path, echo_config(3))
    target = fork_session(log.path, 3, tmp_path / "forks")
    forked = load_session(target)
    assert forked.start.parent == str(log.path) and forked.start.parent_turn == 3
    assert forked.turns == log.turns[:3]
    session = open_session(forked, turns=1)
    await session.engine.interject("B", "what if the operator said this?")
    await session.run()
    branch = load_session(target)
    assert [t.author for t in branch.turns[3:]] == ["operator", "model"]
    assert branch.turns[3].side == "B"
    assert load_session(log.path).turns == log.turns  # the parent is untouched


SLOW_RUN = """
import asyncio, sys
from pathlib import Path
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.cli.headless import run_headless
side = SideConfig(model="scripted/slow", params={"script": ["word " * 200], "delay": 0.005})
cfg = SessionConfig(a=side, b=side.model_copy(), turns=50)
asyncio.run(run_headless(cfg, Path(sys.argv[1])))
"""


def test_sigkill_mid_turn_then_load_and_resume(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        path = None
        while time.monotonic() < deadline:
            files = list(tmp_path.glob("*.jsonl"))
            if files and files[0].read_text().count('"type":"turn"') >= 2:
                path = files[0]
                break
            time.sleep(0.05)
        assert path is not None, "the run never wrote two turns"
        time.sleep(0.3)  # well inside the next streamed turn (~1.3 s long)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    log = load_session(path)
    assert len(log.turns) >= 2 and log.end is None
    done = len(log.turns)

    async def resume() -> None:
        session = open_session(log, turns=1)
        session.engine.config.a.params["delay"] = 0
        session.engine.config.b.params["delay"] = 0
        await session.run()

    asyncio.run(resume())
    again = load_session(path)
    assert len(again.turns) == done + 2
    assert [t.side for t in again.turns] == ["A", "B"] * (len(again.turns) // 2)
