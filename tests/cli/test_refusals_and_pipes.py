"""What a second new user hit on the command line (issue 25, items 3, 4 and 8).

Model strings refused before anything runs (nothing written), output to a
file or a pipe never cut or hard-wrapped at 80 columns, one turn header per
turn however often it is retried, and the same exit codes everywhere.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from attractor_tui.cli.parser import main
from attractor_tui.experiments.launch import batch_command
from tests.support.hostile_server import HostileServer


@contextlib.contextmanager
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


# ------------------------------------------------------- items 3 and 4


def test_a_bare_model_name_is_refused_with_ours_and_asks_for_no_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with captured() as (out, err):
        code = main(["run", "--headless", "--model", "smollm2", "--out", str(tmp_path)])
    assert code == 2
    assert err.getvalue() == ("attractor-tui: unknown model `smollm2`; did you mean "
                              "`embedded/smollm2-135m`?\n")
    assert "OPENAI_API_KEY" not in out.getvalue() + err.getvalue()
    assert list(tmp_path.iterdir()) == []  # nothing ran, nothing written


def test_an_unknown_provider_is_one_line_in_run_and_batch(tmp_path: Path) -> None:
    line = "attractor-tui: unknown provider `foo`; did you mean `embedded/smollm2-135m`?\n"
    with captured() as (_, err):
        assert main(["run", "--headless", "--model", "foo/bar", "--out", str(tmp_path)]) == 2
    assert err.getvalue() == line
    with captured() as (_, err):
        assert main(["batch", "--model", "foo/bar", "--runs", "2", "--turns", "1",
                     "--out", str(tmp_path / "b")]) == 2
    assert err.getvalue() == line
    assert not (tmp_path / "b").exists()


def test_api_base_with_the_embedded_model_is_refused_with_the_fix(tmp_path: Path) -> None:
    # the default model is the embedded one: the flag was silently ignored, exit 0
    with captured() as (_, err):
        code = main(["run", "--headless", "--api-base", "http://127.0.0.1:9/v1",
                     "--turns", "1", "--out", str(tmp_path)])
    assert code == 2
    assert "--api-base does not apply to embedded/smollm2-135m" in err.getvalue()
    assert "--model hosted_vllm/NAME or openai/NAME" in err.getvalue()
    assert list(tmp_path.iterdir()) == []


def test_the_start_screen_says_what_the_cli_says() -> None:
    from attractor_tui.core.config import SessionConfig, SideConfig
    from attractor_tui.ui.screens.start import models_problem

    config = SessionConfig(a=SideConfig(model="smollm2"), b=SideConfig())
    assert models_problem(config) == (
        "model-a", "Model A: unknown model `smollm2`; did you mean `embedded/smollm2-135m`?")


# ------------------------------------------------------------------ item 8


def file_console() -> tuple[Console, io.StringIO]:
    """stderr as a file or a pipe sees it: no terminal, Rich's default 80 columns."""
    buffer = io.StringIO()
    return Console(file=buffer, highlight=False), buffer


def test_a_batch_into_a_file_has_no_cut_progress_line_nor_hard_wraps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    console, buffer = file_console()
    code = batch_command(scenario="hello-there", runs=3, turns=1, model_a="openai/x",
                         model_b="openai/x", concurrency=1, out=tmp_path / "batch-hello-there",
                         run_retries=0, num_retries=0, workers=1, console=console)
    assert code == 1
    lines = buffer.getvalue().splitlines()
    assert not any("…" in line and "turns/s" in line for line in lines)  # no cut bar frame
    assert lines[0].startswith("0 run(s) finished, 0 already done, 3 ended in an error")
    assert lines[0].endswith(f"-> {tmp_path / 'batch-hello-there'}")  # one line, not wrapped
    assert lines[1] == ("  3 failed runs (3× No API key for openai: set OPENAI_API_KEY), no "
                        "model turn, in no report: run-0000.jsonl, run-0001.jsonl, "
                        "run-0002.jsonl")


def test_analyze_into_a_file_keeps_each_name_on_one_row(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "sessions" / "batch-a-rather-long-scenario-name-here"
    with captured():
        assert main(["batch", "--model", "scripted/echo", "--runs", "2", "--turns", "2",
                     "--workers", "1", "--out", str(folder)]) == 0
    assert main(["analyze", str(tmp_path / "sessions")]) == 0  # stdout is no terminal here
    out = capsys.readouterr().out
    for name in ("run-0000.jsonl", "run-0001.jsonl"):
        assert f"batch-a-rather-long-scenario-name-here/{name}" in out
    evidence = [line for line in out.splitlines() if line.startswith("batch-a-rather")]
    assert len(evidence) == 2 and all("longest run" in line for line in evidence)


def test_a_retried_turn_has_one_header(tmp_path: Path, hostile: HostileServer) -> None:
    with captured() as (out, _):
        code = main(["run", "--headless", "--turns", "1", "--model-a",
                     "openai/retry-after-once:0", "--model-b", "scripted/echo",
                     "--api-base", hostile.api_base, "--retries", "2", "--out", str(tmp_path)])
    text = out.getvalue()
    assert code == 0, text
    assert "rate limited (attempt 1 of 3), retrying" in text
    assert text.count("── #1 · A") == 1 and text.count("── #2 · B") == 1


def test_ctrl_c_in_a_headless_run_exits_130(tmp_path: Path, hostile: HostileServer) -> None:
    hostile.hang_seconds = 30
    timer = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with captured() as (out, _):
            code = main(["run", "--headless", "--turns", "1", "--model", "openai/hang",
                         "--api-base", hostile.api_base, "--out", str(tmp_path)])
    finally:
        timer.cancel()
    assert code == 130, out.getvalue()  # was 0: the session's end was recorded as the operator's
    assert "session ended: operator" in out.getvalue()


def test_ctrl_c_stops_serve_with_130(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "attractor_tui", "serve", "--port", "0"], cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = next(line for line in proc.stderr if "serving" in line)
        url = line.split(" on ", 1)[1].split()[0]  # with its token, when there is one
        for _ in range(600):  # answering (its own Ctrl-C handler installed), not starting
            with contextlib.suppress(OSError), urllib.request.urlopen(  # noqa: S310
                    url, timeout=5) as page:
                if page.status == 200:
                    break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130  # was 0
    finally:
        if proc.poll() is None:
            proc.kill()
