"""Memory across sessions (issue 27): notes read at the start (recorded in the session
file, at the top of the side's context and in `x`), rewritten by the side's own model at
the end (previous version kept as an event, file replaced atomically), locked while a
run holds them, and refused with one clear line when unusable."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from attractor_tui.cli import main
from attractor_tui.core.config import SessionConfig
from attractor_tui.core.events import MemoryUpdate
from attractor_tui.core.history import NOTES_HEADER
from attractor_tui.core.sent import next_call
from attractor_tui.core.window import PromptTooLong
from attractor_tui.sessions.memory import MemoryFileError, split_sections
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import load_session
from tests.support.builders import scripted


def chain_config(memory: Path, **fields: object) -> SessionConfig:
    """Both sides on scripted/echo sharing `memory`; `fields`: more SideConfig fields."""
    side = scripted(name="echo").model_copy(update={"memory": str(memory), **fields})
    return SessionConfig(a=side, b=side.model_copy(), turns=2)


async def run(config: SessionConfig, path: Path) -> None:
    session = open_session(config, path)
    await session.run()


async def test_a_shared_memory_carries_each_sides_notes_into_the_next_session(
        tmp_path: Path) -> None:
    memory = tmp_path / "memory.md"
    await run(chain_config(memory), tmp_path / "one.jsonl")
    first = load_session(tmp_path / "one.jsonl")
    assert first.config.a.notes == "" and first.config.b.notes == ""
    updates = [e for e in first.events if isinstance(e, MemoryUpdate)]
    assert [(u.side, u.previous, u.trigger) for u in updates] == [("A", "", "end"),
                                                                  ("B", "", "end")]
    sections = split_sections(memory.read_text(encoding="utf-8"))
    assert sections["A"] == updates[0].notes.strip() and sections["B"] == updates[1].notes.strip()
    assert not list(tmp_path.glob("memory.md.lock")) and not list(tmp_path.glob(".memory*"))

    await run(chain_config(memory), tmp_path / "two.jsonl")
    second = load_session(tmp_path / "two.jsonl")
    assert second.config.a.notes == sections["A"] and second.config.b.notes == sections["B"]
    for side, notes in (("A", sections["A"]), ("B", sections["B"])):
        system = next_call(second.config, side, [], []).messages[0]["content"]  # what `x` shows
        assert f"{NOTES_HEADER}\n{notes}" in system
    # the second session's first update keeps the first session's notes as `previous`
    again = [e for e in second.events if isinstance(e, MemoryUpdate)]
    assert [u.previous.strip() for u in again] == [sections["A"], sections["B"]]


async def test_own_files_per_side_and_the_end_update_uses_the_model(tmp_path: Path) -> None:
    a_file, b_file = tmp_path / "a.txt", tmp_path / "b.txt"
    a_file.write_text("I like tea.\n", encoding="utf-8")
    config = SessionConfig(
        # the notes call holds no reply of A's yet, so A's script answers it with item 1
        a=scripted(["Notes: we discussed tea.", "more"]).model_copy(
            update={"memory": str(a_file)}),
        b=scripted(["hello", "yes"]), turns=2)
    await run(config, tmp_path / "s.jsonl")
    log = load_session(tmp_path / "s.jsonl")
    assert log.config.a.notes == "I like tea." and log.config.b.memory is None
    assert a_file.read_text(encoding="utf-8") == "Notes: we discussed tea.\n"
    assert not b_file.exists()
    (update,) = [e for e in log.events if isinstance(e, MemoryUpdate)]
    assert (update.previous, update.path) == ("I like tea.", str(a_file))


def test_a_locked_memory_is_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    memory = tmp_path / "memory.md"
    memory.write_text("## A\nkeep me\n", encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = tmp_path / "memory.md.lock"
        lock.write_text(f"{holder.pid}\n", encoding="utf-8")
        with pytest.raises(MemoryFileError, match=f"in use by another run \\(process {holder.pid}"):
            open_session(chain_config(memory), tmp_path / "s.jsonl")
        assert not (tmp_path / "s.jsonl").exists()
        assert memory.read_text(encoding="utf-8") == "## A\nkeep me\n" and lock.exists()
        out = tmp_path / "runs"
        code = main(["run", "--headless", "--model", "scripted/echo", "--turns", "1",
                     "--memory", str(memory), "--out", str(out)])
        assert code == 2 and not out.exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its lock is taken over
    asyncio.run(run(chain_config(memory), tmp_path / "s.jsonl"))
    assert split_sections(memory.read_text(encoding="utf-8"))["A"] != "keep me"


def test_unusable_memory_files_are_one_line(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "notes.bin"
    binary.write_bytes(b"\x00\x01notes")
    with pytest.raises(MemoryFileError, match="cannot be used as a memory file"):
        open_session(chain_config(binary), tmp_path / "s.jsonl")
    assert not list(tmp_path.glob("*.lock"))  # nothing stays held
    big = tmp_path / "big.md"
    big.write_text("## A\n" + "remember this. " * 2000 + "\n", encoding="utf-8")
    with pytest.raises(PromptTooLong, match=r"side A's system prompt, memory notes and seed "
                                            r"are [\d,]+ tokens but .* window holds 512"):
        open_session(chain_config(big, context_tokens=512), tmp_path / "s.jsonl")
    assert not list(tmp_path.glob("*.lock")) and not (tmp_path / "s.jsonl").exists()
    code = main(["run", "--headless", "--model", "scripted/echo", "--turns", "1",
                 "--memory", str(binary), "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "notes.bin" in err
    assert binary.read_bytes() == b"\x00\x01notes"


def test_batch_memory_chain_runs_in_sequence_and_reports_by_session(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "chain"
    assert main(["batch", "--model", "scripted/echo", "--turns", "1", "--memory-chain", "3",
                 "--out", str(out)]) == 0
    logs = [load_session(p) for p in sorted(out.glob("run-*.jsonl"))]
    assert len(logs) == 3
    assert all(log.config.a.memory == str(out / "memory.md") for log in logs)
    for before, after in zip(logs, logs[1:], strict=False):
        ended = [e for e in before.events if isinstance(e, MemoryUpdate)]
        assert after.config.a.notes == ended[0].notes.strip()
        assert after.config.b.notes == ended[1].notes.strip()
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    text = capsys.readouterr().out
    assert "## By session number" in text
    assert "| 1 | run-0000.jsonl |" in text and "| 3 | run-0002.jsonl |" in text


def test_memory_keys_in_a_scenario(tmp_path: Path) -> None:
    from attractor_tui.experiments.scenarios import Scenario

    scenario = Scenario(name="s", memory="shared.md", memory_b="b.md")
    config = scenario.session_config(0)
    assert (config.a.memory, config.b.memory) == ("shared.md", "b.md")
    assert scenario.session_config(0, {"memory_a": "x.md"}).a.memory == "x.md"
    assert os.path.basename(str(config.a.memory)) == "shared.md"


@pytest.mark.slow
def test_memory_chain_of_three_on_the_embedded_model(tmp_path: Path) -> None:
    scenario = tmp_path / "short.toml"
    scenario.write_text('description = "short"\nseeds = ["Tell me one thing about tea."]\n'
                        "turns = 1\nmax_tokens = 24\n", encoding="utf-8")
    out = tmp_path / "chain"
    assert main(["batch", "--scenario", str(scenario), "--memory-chain", "3",
                 "--out", str(out)]) == 0
    logs = [load_session(p) for p in sorted(out.glob("run-*.jsonl"))]
    assert [log.end.reason if log.end else None for log in logs] == ["turns"] * 3
    assert logs[0].config.a.notes == "" and logs[0].config.b.notes == ""
    for before, after in zip(logs, logs[1:], strict=False):
        for side in ("A", "B"):
            wrote = [e for e in before.events if isinstance(e, MemoryUpdate) and e.side == side]
            assert wrote, f"{before.path}: {side} wrote no notes"
            notes = wrote[-1].notes.strip()
            assert notes and after.config.side(side).notes == notes
            system = next_call(after.config, side, [], []).messages[0]["content"]  # `x`
            assert f"{NOTES_HEADER}\n{notes}" in system
    final = [e for e in logs[-1].events if isinstance(e, MemoryUpdate)]
    sections = split_sections((out / "memory.md").read_text(encoding="utf-8"))
    assert {e.side: e.notes.strip() for e in final} == {"A": sections["A"], "B": sections["B"]}


async def test_a_summarize_trim_updates_the_notes_too(tmp_path: Path) -> None:
    memory = tmp_path / "a.md"
    long = "We talk about rivers and the sea at great length. " * 6
    side = scripted([long]).model_copy(update={
        "memory": str(memory), "context": "summarize", "context_tokens": 256, "max_tokens": 16})
    config = SessionConfig(a=side, b=scripted([long]).model_copy(
        update={"context": "summarize", "context_tokens": 256, "max_tokens": 16}), turns=5)
    await run(config, tmp_path / "s.jsonl")
    log = load_session(tmp_path / "s.jsonl")
    trims = [t for t in log.trims if t.side == "A" and t.action == "summarize"]
    assert trims, "the scenario should make A's history outgrow its window"
    updates = [e for e in log.events if isinstance(e, MemoryUpdate)]
    assert [u.trigger for u in updates][:1] == ["summarize"] and updates[-1].trigger == "end"
    assert all(u.side == "A" for u in updates)
    # each update starts from the notes the one before wrote
    assert [u.previous.strip() for u in updates[1:]] == [u.notes.strip() for u in updates[:-1]]
    assert memory.read_text(encoding="utf-8").strip() == updates[-1].notes.strip()


async def test_the_end_update_is_a_state_and_quitting_during_it_is_recorded(
        tmp_path: Path) -> None:
    """After the last turn the engine says it is rewriting notes (the app and headless
    show it); a cancel then leaves the file as it was and says so in the session file."""
    from attractor_tui.core.events import StateChange

    memory = tmp_path / "memory.md"
    config = chain_config(memory)
    config = config.model_copy(update={"turns": 1, "b": config.b.model_copy(update={
        "params": {"delay": 0.1}})})  # B's notes call (many chunks) is slow, its turn short
    seen: list[StateChange] = []
    session = open_session(config, tmp_path / "s.jsonl",
                           listeners=[lambda e: seen.append(e) if isinstance(e, StateChange)
                                      else None])
    task = asyncio.create_task(session.run())
    async def b_remembering() -> None:
        while not any(e.state == "remembering" and e.detail.startswith("B") for e in seen):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(b_remembering(), 60)
    assert [e.detail for e in seen if e.state == "remembering"] == [
        f"A is updating its notes in {memory}", f"B is updating its notes in {memory}"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    log = load_session(tmp_path / "s.jsonl")
    assert [e.message for e in log.errors] == [
        f"notes not updated (stopped before B's model answered); {memory} is unchanged"]
    assert log.end is not None and log.end.detail == "cancelled"
    assert "## A" in memory.read_text(encoding="utf-8")  # A's update, made first, is kept
    assert "## B" not in memory.read_text(encoding="utf-8")
    assert not list(tmp_path.glob("memory.md.lock"))
