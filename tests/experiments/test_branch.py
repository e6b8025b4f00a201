"""`attractor-tui branch`: N forks of one prefix run as a batch, then reported (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attractor_tui.cli.parser import main
from attractor_tui.core.config import SessionConfig
from attractor_tui.experiments.batch import BatchError, run_file
from attractor_tui.experiments.branch import BranchPlan, prepare, report, report_lines
from attractor_tui.sessions.store import load_session
from tests.support.builders import run_session, scripted

A = ["Hello, shall we talk about the sea?", "The sea is deep.", "Waves again.", "Goodbye!"]
B = ["Yes, the sea!", "Deep and blue.", "Waves, yes.", "Bye! Take care."]


async def parent(tmp_path: Path) -> Path:
    config = SessionConfig(a=scripted(A), b=scripted(B), turns=4)
    _, log, _ = await run_session(tmp_path, config)
    return log.path


async def test_branches_share_the_prefix_name_their_parent_and_are_reported(
    tmp_path: Path,
) -> None:
    source = await parent(tmp_path)
    plan = BranchPlan(file=source, at=2, samples=5, turns=2)
    log, spec = prepare(plan)
    assert plan.folder() == tmp_path / "session.branches-at-2"
    from attractor_tui.experiments.batch import run_batch

    result = await run_batch(spec)
    assert result.ok and result.new_turns == 5 * 4
    for i in range(5):
        fork = load_session(run_file(plan.folder(), i, 5))
        assert fork.start.parent == str(source) and fork.start.parent_turn == 2
        assert [t.text for t in fork.turns[:2]] == [t.text for t in log.turns[:2]]
        assert len(fork.turns) == 6  # the two shared, then each side twice more
    summary = report(plan, log)
    assert sum(summary.labels.values()) == 5
    for label, (low, high) in summary.intervals.items():
        assert 0 <= low <= summary.labels[label] / 5 <= high <= 1
    lines = report_lines(summary)
    assert lines[0].startswith("5 branch(es) of session.jsonl after turn 2")
    assert any("95% CI" in line for line in lines)


async def test_interjection_goes_into_the_branch_point_on_its_side(tmp_path: Path) -> None:
    source = await parent(tmp_path)
    plan = BranchPlan(file=source, at=2, samples=2, turns=1, interject="Rivers, instead?",
                      side="B")
    _, spec = prepare(plan)
    from attractor_tui.experiments.batch import run_batch

    assert (await run_batch(spec)).ok
    fork = load_session(run_file(plan.folder(), 0, 2))
    # turn 3 (index 2) is A's, generated; B's slot after it is the operator's words
    assert fork.turns[2].author == "model" and fork.turns[2].side == "A"
    assert (fork.turns[3].author, fork.turns[3].side, fork.turns[3].text) == (
        "operator", "B", "Rivers, instead?")


async def test_bad_branch_points_are_refused(tmp_path: Path) -> None:
    source = await parent(tmp_path)
    with pytest.raises(BatchError, match="outside 0..8"):
        prepare(BranchPlan(file=source, at=9, samples=2))
    with pytest.raises(BatchError, match="--samples"):
        prepare(BranchPlan(file=source, at=2, samples=0))


def test_branch_command_runs_reports_and_resumes(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    source = asyncio.run(parent(tmp_path))
    argv = ["branch", str(source), "--at", "2", "--samples", "3", "--turns", "1",
            "--workers", "1"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "3 branch(es) of session.jsonl after turn 2" in printed
    folder = tmp_path / "session.branches-at-2"
    saved = json.loads((folder / "branch.json").read_text())
    assert saved["samples"] == 3 and sum(saved["labels"].values()) == 3
    before = [run_file(folder, i, 3).read_bytes() for i in range(3)]
    assert main(argv) == 0  # a rerun finds every branch finished
    assert [run_file(folder, i, 3).read_bytes() for i in range(3)] == before


@pytest.mark.slow
@pytest.mark.usefixtures("embedded_model")
def test_branches_on_the_embedded_model(tmp_path: Path) -> None:
    """Branches of a real embedded-model session finish and report.

    Issue 15's full bar (20 samples x 10 rounds) takes many minutes on 2 cores,
    too long for the suite; it was run by hand through the same command (see
    the closing note). This keeps the same path at a size the suite can afford:
    2 samples of 2 rounds, whose 4 sides fit the model's 4 cached slots (4
    samples of 3 rounds took 65 s of CPU, most of it re-reading evicted slots).
    """
    import asyncio

    from attractor_tui.core.config import SideConfig

    side = SideConfig(model="embedded/smollm2-135m", max_tokens=48)
    config = SessionConfig(a=side, b=side.model_copy(deep=True), turns=2)
    _, log, _ = asyncio.run(run_session(tmp_path, config))
    argv = ["branch", str(log.path), "--at", "3", "--samples", "2", "--turns", "2",
            "--temperature", "0.9"]
    assert main(argv) == 0
    saved = json.loads((tmp_path / "session.branches-at-3" / "branch.json").read_text())
    assert sum(saved["labels"].values()) == 2


async def test_replay_f_branches_from_the_turn_in_view(tmp_path: Path) -> None:
    """Pilot: `f` in replay asks how many, runs `branch` after the turn in view, reports."""
    from attractor_tui.ui.screens.replay import AskScreen, ReplayScreen
    from attractor_tui.ui.standalone import replay_app
    from tests.support.builders import write_session
    from tests.support.waiting import wait_until

    path = write_session(tmp_path / "s.jsonl", 6)
    app = replay_app(load_session(path), speed=0)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press("g", "ctrl+a", "ctrl+k", "2", "enter")
        await wait_until(pilot, lambda: screen.controller.shown_turns == 2)
        await pilot.press("f")
        assert isinstance(app.screen, AskScreen)
        assert "after turn 2" in str(app.screen.question)
        await pilot.press("ctrl+a", "ctrl+k", "3", "enter")
        folder = tmp_path / "s.branches-at-2"
        await wait_until(pilot, lambda: (folder / "branch.json").exists(), timeout=120,
                         what="the branch batch")
        await wait_until(pilot, lambda: any("3 branch(es) of s.jsonl after turn 2" in str(n.message)
                                            for n in app._notifications), timeout=30)
    runs = sorted(folder.glob("run-*.jsonl"))
    assert len(runs) == 3
    fork = load_session(runs[0])
    assert fork.start.parent == str(path) and fork.start.parent_turn == 2
    assert len([t for t in fork.turns if not t.interrupted]) == 6


async def test_branches_of_a_session_with_memory_start_from_its_notes_and_write_none(
        tmp_path: Path) -> None:
    memory = tmp_path / "notes.md"
    memory.write_text("## A\nA remembers the sea.\n\n## B\nB remembers rivers.\n",
                      encoding="utf-8")
    side = scripted(name="echo").model_copy(update={"memory": str(memory)})
    _, log, _ = await run_session(tmp_path, SessionConfig(a=side, b=side.model_copy(), turns=3))
    notes_after_parent = memory.read_bytes()
    plan = BranchPlan(file=log.path, at=2, samples=3, turns=1)
    _, spec = prepare(plan)
    from attractor_tui.experiments.batch import run_batch

    result = await run_batch(spec)
    assert result.ok and result.new_turns == 3 * 2  # every branch ran: none waited on a lock
    for i in range(3):
        fork = load_session(run_file(plan.folder(), i, 3))
        assert fork.config.a.memory is None and fork.config.b.memory is None
        assert (fork.config.a.notes, fork.config.b.notes) == ("A remembers the sea.",
                                                              "B remembers rivers.")
    assert memory.read_bytes() == notes_after_parent
    assert not list(tmp_path.glob("notes.md.lock"))


async def test_a_branch_that_failed_is_listed_apart_not_counted(tmp_path: Path) -> None:
    source = await parent(tmp_path)
    plan = BranchPlan(file=source, at=2, samples=3, turns=1)
    log, spec = prepare(plan)
    from attractor_tui.experiments.batch import run_batch

    assert (await run_batch(spec)).ok
    # branch 2 as a run whose first call failed: its fork, then the error and the end
    from attractor_tui.core.events import ErrorEvent, SessionEnd
    from attractor_tui.sessions.store import dump_event

    failed = run_file(plan.folder(), 1, 3)
    records = [json.loads(line) for line in failed.read_text(encoding="utf-8").splitlines()]
    kept = [json.dumps(r) for r in records
            if r["type"] not in ("turn", "session_end") or r["type"] == "turn" and r["index"] < 2]
    kept += [dump_event(ErrorEvent(side="A", kind="auth", message="No API key for side A",
                                   retryable=False)),
             dump_event(SessionEnd(reason="error", detail="No API key for side A"))]
    failed.write_text("\n".join(kept) + "\n", encoding="utf-8")
    assert load_session(failed).failure == "No API key for side A"
    unfinished = run_file(plan.folder(), 2, 3)
    unfinished.write_text("\n".join(line for line in unfinished.read_text().splitlines()
                                    if json.loads(line)["type"] != "session_end") + "\n")
    summary = report(plan, log)
    assert sum(summary.labels.values()) == 1
    assert summary.failed == ["No API key for side A"] and summary.unfinished == 1
    lines = report_lines(summary)
    assert lines[0].startswith("1 branch(es) of session.jsonl")
    assert "not counted: 1 failed run (No API key for side A)" in lines
    assert any("1 unfinished branch(es)" in line for line in lines)
