"""`batch --workers N`: runs split over processes, one progress, Ctrl-C and resume (issue 15)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from attractor_tui.core.config import SessionConfig
from attractor_tui.experiments.batch import MANIFEST, BatchProgress, BatchSpec, run_file
from attractor_tui.experiments.workers import default_workers, run_parallel, split
from attractor_tui.sessions.store import SessionFileError, load_session
from tests.support.builders import scripted

ROOT = Path(__file__).resolve().parents[2]
RUNS, TURNS = 8, 3


def slow_configs(index: int) -> SessionConfig:
    """About 0.1 s per message (two chunks of 50 ms): a run takes 0.6 s."""
    side = scripted([f"reply of run {index}"], chunk_size=1000, delay=0.05)
    return SessionConfig(a=side, b=side.model_copy(deep=True), turns=TURNS)


def slow_spec(out: Path) -> BatchSpec:
    return BatchSpec(out=out, runs=RUNS, scenario=None, configs=slow_configs, name="slow",
                     concurrency=2, engine_backoff=0.0, retry_backoff=0.0)


def drive(out: str) -> None:
    """The child process of the Ctrl-C test: a two-worker batch of `slow_spec`."""
    run_parallel(slow_spec(Path(out)), 2)


def finished_runs(out: Path) -> list[Path]:
    done = []
    for i in range(RUNS):
        path = run_file(out, i, RUNS)
        try:
            log = load_session(path) if path.exists() else None
        except SessionFileError:
            log = None
        if log is not None and log.end is not None and log.end.reason == "turns":
            done.append(path)
    return done


def start_driver(out: Path) -> subprocess.Popen[str]:
    """`drive(out)` in a child process leading its own process group, as a shell runs it."""
    code = f"from tests.experiments.test_workers import drive; drive({str(out)!r})"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_finished(proc: subprocess.Popen[str], out: Path, runs: int) -> None:
    """Until `runs` runs are finished in `out`; fails if the child died or 90 s passed."""
    deadline = time.monotonic() + 90
    while len(finished_runs(out)) < runs:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no run finished in 90 s"
        time.sleep(0.05)


def group_gone(pgid: int, within: float) -> bool:
    """True once no process of group `pgid` is left (multiprocessing's helpers exit last)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_split_and_default_workers() -> None:
    assert split([0, 1, 2, 3, 4], 2) == [[0, 2, 4], [1, 3]]
    assert split([7], 4) == [[7]] and split([], 3) == [[]]
    assert default_workers(1, 50, {"openai/x"}) == 1  # one run: no second process
    assert default_workers(50, 1, {"openai/x"}) == 1  # never above the concurrency
    assert default_workers(50, 50, {"embedded/qwen"}) == 1  # each would load the model
    cores = os.cpu_count() or 1
    assert default_workers(50, 50, {"openai/x"}) == min(cores, 3)  # 16 in flight a process
    assert default_workers(400, 200, {"openai/x"}) == cores  # CPU-bound: every core
    assert default_workers(200, 8, {"openai/x"}) == 1  # 8 in flight never fill one core
    assert default_workers(200, 31, {"openai/x"}) == 1


def test_workers_auto_on_the_command_line() -> None:
    from attractor_tui.cli.parser import build_parser

    parser = build_parser()
    for command in (["batch"], ["branch", "x.jsonl", "--at", "2"]):
        assert parser.parse_args([*command]).workers is None  # auto is the default
        assert parser.parse_args([*command, "--workers", "auto"]).workers is None
        assert parser.parse_args([*command, "--workers", "3"]).workers == 3
        with pytest.raises(SystemExit):
            parser.parse_args([*command, "--workers", "many"])


def test_ctrl_c_stops_every_worker_and_a_rerun_finishes_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "batch"
    proc = start_driver(out)
    try:
        wait_finished(proc, out, 2)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, err[-2000:]
    assert group_gone(proc.pid, within=10.0)  # no worker outlived the parent
    manifest = json.loads((out / MANIFEST).read_text())
    statuses = [r["status"] for r in manifest["runs"]]
    assert "running" not in statuses and "interrupted" in statuses + ["pending"]
    finished = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in finished_runs(out)}
    assert 2 <= len(finished) < RUNS

    seen: list[BatchProgress] = []
    result = run_parallel(slow_spec(out), 2, seen.append)
    assert result is not None and result.ok
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in finished} == finished
    assert sorted(r.path for r in result.runs if r.status == "skipped") == sorted(finished)
    for i in range(RUNS):
        turns = [t for t in load_session(run_file(out, i, RUNS)).turns if not t.interrupted]
        assert [t.index for t in turns] == sorted({t.index for t in turns})
        assert len(turns) == 2 * TURNS
    assert seen[-1].finished == RUNS and seen[-1].turns == result.new_turns
    assert seen[-1].turns_planned == result.new_turns  # every planned turn was made
    assert any(0 < p.turns < result.new_turns for p in seen)  # it moved per turn


def test_workers_write_one_manifest_and_report_each_turn(tmp_path: Path) -> None:
    seen: list[BatchProgress] = []
    result = run_parallel(slow_spec(tmp_path), 2, seen.append)
    assert result is not None and result.ok and result.count("done") == RUNS
    assert result.new_turns == RUNS * 2 * TURNS
    manifest: dict[str, Any] = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["counts"] == {"done": RUNS}
    assert [r["turns"] for r in manifest["runs"]] == [2 * TURNS] * RUNS
    assert max(p.running for p in seen) <= 2  # the concurrency is shared, not multiplied
    assert seen[-1].turns_planned == RUNS * 2 * TURNS


def test_a_worker_killed_midway_fails_only_its_runs_and_a_rerun_finishes(tmp_path: Path) -> None:
    out = tmp_path / "batch"
    proc = start_driver(out)
    try:
        wait_finished(proc, out, 1)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == 2, children
        os.kill(int(children[0]), signal.SIGKILL)  # kill -9 one worker, mid-run
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err[-2000:]  # the other worker carried on to its end
    manifest = json.loads((out / MANIFEST).read_text())
    failed = [r for r in manifest["runs"] if r["status"] == "failed"]
    assert failed and all("worker process ended with code -9" in r["error"] for r in failed)
    assert {r["status"] for r in manifest["runs"]} <= {"done", "failed"}
    finished = {p: p.read_bytes() for p in finished_runs(out)}

    result = run_parallel(slow_spec(out), 2)
    assert result is not None and result.ok
    assert {p: p.read_bytes() for p in finished} == finished  # not redone
    for i in range(RUNS):
        turns = [t for t in load_session(run_file(out, i, RUNS)).turns if not t.interrupted]
        assert len(turns) == 2 * TURNS and len({t.index for t in turns}) == 2 * TURNS


def test_progress_bar_moves_per_turn_not_per_run() -> None:
    """Issue 14 item 7: the bar counted runs only and sat at 0/3 for a whole batch."""
    from io import StringIO

    from rich.console import Console

    from attractor_tui.experiments.batch import _ProgressBar

    buffer = StringIO()
    bar = _ProgressBar(Console(file=buffer, width=200, force_terminal=True), 3)
    bar.update(BatchProgress(total=3, turns=5, turns_planned=18, running=3, errors=1,
                             retries=1, elapsed=2.0))
    task = bar.progress.tasks[0]
    assert (task.completed, task.total) == (5, 18)
    with bar:  # stopping the bar prints its last state
        pass
    text = buffer.getvalue()
    assert "5/18" in text and "runs 0/3" in text and "1 retries" in text
    assert "2.5 turns/s" in text and "ETA 0:05" in text
