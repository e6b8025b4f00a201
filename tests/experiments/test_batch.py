"""Batch runs through the real engine, real files and litellm's real provider path."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from attractor_tui.core.config import SessionConfig
from attractor_tui.core.events import ErrorEvent, SessionEnd, SessionResume
from attractor_tui.experiments.batch import (
    MANIFEST,
    BatchError,
    BatchProgress,
    BatchSpec,
    run_batch,
    run_file,
)
from attractor_tui.experiments.launch import batch_command
from attractor_tui.sessions.store import load_session
from tests.support.builders import scripted
from tests.support.hostile_server import HostileServer

A_SCRIPT = ["a0", "a1", "a2", "a3", "a4", "a5"]
B_SCRIPT = ["b0", "b1", "b2", "b3", "b4", "b5"]


def configs(index: int) -> SessionConfig:
    return SessionConfig(a=scripted(A_SCRIPT, delay=0.002), b=scripted(B_SCRIPT), turns=4,
                         title=f"run {index}")


def spec(out: Path, runs: int = 3, **kw: Any) -> BatchSpec:
    kw.setdefault("concurrency", 2)
    return BatchSpec(out=out, runs=runs, scenario=None, configs=configs, name="test",
                     engine_backoff=0.0, retry_backoff=0.0, **kw)


async def test_batch_writes_one_file_per_run_and_a_manifest(tmp_path: Path) -> None:
    seen: list[BatchProgress] = []
    result = await run_batch(spec(tmp_path, runs=5, concurrency=2), progress=seen.append)
    assert result.ok and result.count("done") == 5
    assert sorted(p.name for p in tmp_path.glob("*.jsonl")) == [
        f"run-000{i}.jsonl" for i in range(5)]
    for run in result.runs:
        log = load_session(run.path)
        assert log.end is not None and log.end.reason == "turns"
        assert [t.text for t in log.turns] == ["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3"]
    assert max(p.running for p in seen) == 2  # the semaphore holds
    assert seen[-1].finished == 5 and seen[-1].turns == 40
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["counts"] == {"done": 5}
    assert manifest["spec"]["runs"] == 5 and manifest["spec"]["scenario"] == "test"
    assert [r["file"] for r in manifest["runs"]] == [f"run-000{i}.jsonl" for i in range(5)]
    assert manifest["invocations"][-1]["finished"]


async def test_rerun_skips_finished_resumes_killed_and_starts_missing(tmp_path: Path) -> None:
    await run_batch(spec(tmp_path, runs=3))
    finished, killed, missing = (run_file(tmp_path, i, 3) for i in range(3))
    # kill -9 simulation: the file stops after the third turn, with a torn last line
    lines = killed.read_text().splitlines(keepends=True)
    killed.write_text("".join(lines[:4]) + lines[4][: len(lines[4]) // 2])
    missing.unlink()
    before = (finished.stat().st_mtime_ns, finished.read_bytes())

    result = await run_batch(spec(tmp_path, runs=3))
    assert [r.status for r in result.runs] == ["skipped", "done", "done"]
    assert (finished.stat().st_mtime_ns, finished.read_bytes()) == before
    assert [r.new_turns for r in result.runs] == [0, 5, 8]
    assert result.runs[1].resumed and not result.runs[2].resumed
    resumed = load_session(killed)
    assert not resumed.warnings  # the torn line was repaired before appending
    assert sum(isinstance(e, SessionResume) for e in resumed.events) == 1
    # the resumed conversation is exactly the one an uninterrupted run produced
    assert [t.text for t in resumed.turns] == [t.text for t in load_session(finished).turns]
    assert resumed.end is not None and resumed.end.reason == "turns"

    again = await run_batch(spec(tmp_path, runs=3))
    assert [r.status for r in again.runs] == ["skipped"] * 3 and again.new_turns == 0


async def test_cancelled_and_errored_runs_are_not_finished(tmp_path: Path) -> None:
    await run_batch(spec(tmp_path, runs=2))
    for i, (reason, detail) in enumerate([("operator", "cancelled"), ("error", "boom")]):
        path = run_file(tmp_path, i, 2)
        lines = path.read_text().splitlines(keepends=True)[:3]  # start + 2 turns
        end = SessionEnd(reason=reason, detail=detail).model_dump_json(exclude_none=True)
        path.write_text("".join(lines) + end + "\n")
    result = await run_batch(spec(tmp_path, runs=2))
    assert [(r.status, r.new_turns) for r in result.runs] == [("done", 6), ("done", 6)]
    for run in result.runs:
        log = load_session(run.path)
        assert log.end is not None and log.end.reason == "turns"
        assert len(log.turns) == 8


async def test_cancelled_batch_leaves_resumable_files(tmp_path: Path) -> None:
    def slow(index: int) -> SessionConfig:
        return SessionConfig(a=scripted(A_SCRIPT, delay=0.01), b=scripted(B_SCRIPT, delay=0.01),
                             turns=20)

    def batch() -> BatchSpec:
        return BatchSpec(out=tmp_path, runs=4, scenario=None, configs=slow, concurrency=2)

    seen: list[BatchProgress] = []
    task = asyncio.ensure_future(run_batch(batch(), progress=seen.append))
    while not seen or seen[-1].turns < 6:
        await asyncio.sleep(0.01)
    task.cancel()  # what Ctrl-C does to asyncio.run's main task
    with pytest.raises(asyncio.CancelledError):
        await task
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["counts"] == {"interrupted": 4}
    for i in range(2):  # the two running ones wrote their end line despite the cancel
        end = load_session(run_file(tmp_path, i, 4)).end
        assert end is not None and (end.reason, end.detail) == ("operator", "cancelled")
    assert not run_file(tmp_path, 2, 4).exists()  # still waiting for a slot: not started
    result = await run_batch(batch())
    assert [(r.status, r.resumed) for r in result.runs] == [("done", True)] * 2 + [
        ("done", False)] * 2
    for r in result.runs:
        assert len([t for t in load_session(r.path).turns if not t.interrupted]) == 40


async def test_broken_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    await run_batch(spec(tmp_path, runs=2))
    broken = run_file(tmp_path, 0, 2)
    lines = broken.read_text().splitlines(keepends=True)
    lines[2] = "{not json\n"
    broken.write_text("".join(lines))
    content = broken.read_bytes()
    torn = run_file(tmp_path, 1, 2)  # killed while writing its very first line
    torn.write_bytes(torn.read_bytes()[:40])
    result = await run_batch(spec(tmp_path, runs=2))
    assert result.runs[0].status == "failed" and "run-0000.jsonl:3" in (result.runs[0].error or "")
    assert (result.runs[1].status, result.runs[1].resumed) == ("done", False)
    assert len(load_session(torn).turns) == 8
    assert broken.read_bytes() == content and not result.ok


async def test_folder_of_another_batch_is_refused(tmp_path: Path) -> None:
    await run_batch(spec(tmp_path, runs=1))
    with pytest.raises(BatchError, match="turns"):
        await run_batch(spec(tmp_path, runs=1, turns=7))


# ------------------------------------------------------- run-level retries

_FLAKY: dict[str, int] = {"failures_left": 0, "calls": 0}


@pytest.fixture
def flaky_provider() -> Iterator[dict[str, int]]:
    """A litellm custom provider that is rate limited for its first N calls."""
    from litellm import CustomLLM
    from litellm.exceptions import RateLimitError
    from litellm.utils import custom_llm_setup

    from attractor_tui.backends.litellm_setup import get_litellm

    litellm = get_litellm()

    class Flaky(CustomLLM):
        async def astreaming(self, model: str, messages: list, *a: Any, **kw: Any
                             ) -> AsyncIterator[dict[str, Any]]:
            _FLAKY["calls"] += 1
            if _FLAKY["failures_left"] > 0:
                _FLAKY["failures_left"] -= 1
                raise RateLimitError("slow down", llm_provider="flaky", model=model)
            yield {"text": "fine", "is_finished": True, "finish_reason": "stop", "usage": None,
                   "index": 0, "tool_use": None}

        async def acompletion(self, model: str, messages: list, *a: Any, **kw: Any) -> Any:
            """The same, asked for whole (batch runs do not stream)."""
            from litellm.types.utils import ModelResponse

            _FLAKY["calls"] += 1
            if _FLAKY["failures_left"] > 0:
                _FLAKY["failures_left"] -= 1
                raise RateLimitError("slow down", llm_provider="flaky", model=model)
            return ModelResponse(model=model, choices=[
                {"message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}])

    saved = list(litellm.custom_provider_map)
    litellm.custom_provider_map = [*saved, {"provider": "flaky", "custom_handler": Flaky()}]
    custom_llm_setup()
    _FLAKY.update(failures_left=0, calls=0)
    yield _FLAKY
    litellm.custom_provider_map = saved
    custom_llm_setup()


async def test_rate_limited_run_is_resumed_after_backoff(
    tmp_path: Path, flaky_provider: dict[str, int]
) -> None:
    from attractor_tui.core.config import SideConfig

    def flaky_configs(index: int) -> SessionConfig:
        return SessionConfig(a=SideConfig(model="flaky/x"), b=scripted(B_SCRIPT), turns=2,
                             num_retries=0)

    flaky_provider["failures_left"] = 1
    seen: list[BatchProgress] = []
    result = await run_batch(
        BatchSpec(out=tmp_path, runs=1, scenario=None, configs=flaky_configs, engine_backoff=0,
                  retry_backoff=0, run_retries=2),
        progress=seen.append,
    )
    run = result.runs[0]
    assert (run.status, run.attempts, run.end_reason) == ("done", 2, "turns")
    assert seen[-1].retries == 1 and seen[-1].errors == 1
    log = load_session(run.path)
    kinds = [e.type for e in log.events]
    assert kinds[:4] == ["session_start", "error", "session_end", "session_resume"]
    assert log.errors[0].kind == "rate_limit"
    assert log.end is not None and log.end.reason == "turns" and len(log.turns) == 4

    # retries used up: the run ends as an error; the next invocation picks it up again
    flaky_provider["failures_left"] = 10
    out2 = tmp_path / "again"
    failed = await run_batch(
        BatchSpec(out=out2, runs=1, scenario=None, configs=flaky_configs, engine_backoff=0,
                  retry_backoff=0, run_retries=1))
    assert (failed.runs[0].status, failed.runs[0].attempts) == ("error", 2) and not failed.ok
    flaky_provider["failures_left"] = 0
    healed = await run_batch(
        BatchSpec(out=out2, runs=1, scenario=None, configs=flaky_configs, engine_backoff=0,
                  retry_backoff=0, run_retries=1))
    assert healed.runs[0].status == "done" and healed.runs[0].resumed


async def test_permanent_error_is_not_retried(tmp_path: Path) -> None:
    def no_key(index: int) -> SessionConfig:
        from attractor_tui.core.config import SideConfig

        return SessionConfig(a=SideConfig(model="openai/gpt-4o-mini"), b=scripted(B_SCRIPT),
                             turns=1, num_retries=0)

    result = await run_batch(BatchSpec(out=tmp_path, runs=1, scenario=None, configs=no_key,
                                       retry_backoff=0))
    run = result.runs[0]
    assert (run.status, run.attempts, run.error_kind) == ("error", 1, "auth")
    assert "OPENAI_API_KEY" in (run.error or "")
    log = load_session(run.path)
    assert isinstance(log.events[-2], ErrorEvent) and log.end is not None


# ----------------------------------------------------------------- command


def test_batch_command_with_a_shipped_scenario(tmp_path: Path) -> None:
    from io import StringIO

    from rich.console import Console

    out = tmp_path / "b"
    buffer = StringIO()
    console = Console(file=buffer, width=120)
    code = batch_command("hello-there", runs=3, turns=2, model_a="scripted/goodbye",
                         model_b="scripted/echo", concurrency=3, out=out, console=console)
    assert code == 0, buffer.getvalue()
    assert "3 run(s) finished" in buffer.getvalue()
    for i in range(3):
        log = load_session(run_file(out, i, 3))
        assert log.config.scenario == "hello-there" and log.config.a.model == "scripted/goodbye"
        assert log.end is not None and log.end.reason == "turns" and len(log.turns) == 4
    buffer.truncate(0)
    assert batch_command("hello-there", 3, 2, "scripted/goodbye", "scripted/echo", 3, out,
                         console=console) == 0
    assert "3 already done" in buffer.getvalue()
    assert batch_command("hello-there", 3, 5, "scripted/goodbye", "scripted/echo", 3, out,
                         console=console) == 2
    assert batch_command("no-such-scenario", 1, 2, None, None, 1, tmp_path / "c",
                         console=console) == 2


def test_batch_against_a_server_records_api_base_and_reports_it_unreachable(
    tmp_path: Path,
) -> None:
    """`--api-base` reaches every run's config; a dead server is a clear per-run error."""
    from io import StringIO

    from rich.console import Console

    out = tmp_path / "vllm"
    buffer = StringIO()
    code = batch_command("hello-there", runs=2, turns=1, model_a="hosted_vllm/some-model",
                         model_b="hosted_vllm/some-model", concurrency=2, out=out,
                         api_base="http://127.0.0.1:9/v1", overrides={"num_retries": 0},
                         run_retries=0, console=Console(file=buffer, width=120))
    assert code == 1, buffer.getvalue()
    for i in range(2):
        log = load_session(run_file(out, i, 2))
        assert log.config.a.params["api_base"] == "http://127.0.0.1:9/v1"
        assert log.config.b.params["api_base"] == "http://127.0.0.1:9/v1"
        assert log.errors and "reach" in log.errors[-1].message


# ------------------------------------------- against the hostile server (issue 13)


def hostile_configs(server: HostileServer, fault: str) -> Callable[[int], SessionConfig]:
    def make(index: int) -> SessionConfig:
        from attractor_tui.core.config import SideConfig

        return SessionConfig(a=SideConfig(model=f"openai/{fault}",
                                          params={"api_base": server.api_base}),
                             b=scripted(B_SCRIPT), turns=1)
    return make


def hostile_spec(out: Path, server: HostileServer, fault: str, **kw: Any) -> BatchSpec:
    return BatchSpec(out=out, runs=1, scenario=None, configs=hostile_configs(server, fault),
                     name=fault, engine_backoff=0, retry_backoff=0, run_retries=0, **kw)


async def test_timeout_and_retries_bound_a_hanging_server(tmp_path: Path,
                                                          hostile: HostileServer) -> None:
    hostile.hang_seconds = 3
    started = time.monotonic()
    result = await run_batch(hostile_spec(tmp_path, hostile, "hang", timeout=0.3,
                                          num_retries=1))
    assert time.monotonic() - started < 8  # 2 calls of 0.3 s, not 2 x 120 s
    run = result.runs[0]
    assert (run.status, run.error_kind) == ("error", "timeout")
    assert hostile.calls == ["hang"] * 2
    config = load_session(run.path).config
    assert (config.timeout, config.num_retries) == (0.3, 1)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert (manifest["spec"]["timeout"], manifest["spec"]["num_retries"]) == (0.3, 1)

    # a rerun may change them (they are not the experiment), and they reach the resumed run
    again = await run_batch(hostile_spec(tmp_path, hostile, "hang", timeout=0.2, num_retries=2))
    assert again.runs[0].resumed and hostile.calls == ["hang"] * 5


async def test_call_settings_are_checked(tmp_path: Path) -> None:
    for kw, message in (({"timeout": 0.0}, "--timeout"), ({"num_retries": -1}, "--retries")):
        with pytest.raises(BatchError, match=message):
            await run_batch(spec(tmp_path, runs=1, **kw))


def test_batch_flags_reach_the_runs(tmp_path: Path) -> None:
    from attractor_tui.cli.parser import main

    out = tmp_path / "b"
    code = main(["batch", "--model", "scripted/echo", "--runs", "2", "--turns", "1",
                 "--timeout", "7.5", "--retries", "5", "--out", str(out)])
    assert code == 0
    for i in range(2):
        config = load_session(run_file(out, i, 2)).config
        assert (config.timeout, config.num_retries) == (7.5, 5)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_leaves_no_run_marked_running(tmp_path: Path, hostile: HostileServer,
                                              workers: str) -> None:
    """`kill` (SIGTERM) ends a batch like Ctrl-C: runs interrupted, files resumable.

    With worker processes too: `workers` raised its own `Terminated`, which the
    command did not know, so SIGTERM ended in a traceback and exit code 1.
    """
    hostile.hang_seconds = 60  # the server stops these by itself when the test ends
    out = tmp_path / "b"
    env = {**os.environ, "OPENAI_API_KEY": "sk-dummy", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "attractor_tui", "batch", "--model", "openai/hang",
         "--api-base", hostile.api_base, "--runs", "3", "--concurrency", "2", "--turns", "1",
         "--retries", "0", "--workers", workers, "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while hostile.calls.count("hang") < 2:  # both running runs are waiting on the server
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "terminated; run the same command again" in err
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["counts"] == {"interrupted": 3}
    assert manifest["invocations"][-1]["finished"]
    for i in range(2):
        end = load_session(run_file(out, i, 3)).end
        assert end is not None and (end.reason, end.detail) == ("operator", "cancelled")
