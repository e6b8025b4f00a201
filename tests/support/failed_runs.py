"""A folder as a new user leaves it (issue 25): good runs, failed runs and a batch below.

Made by the real commands: `run --headless` on the scripted provider (two
results), `run --headless` on `openai/x` with no key (two failed runs: an
error before any model turn), and a `batch` of two runs in a sub-folder.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from attractor_tui.cli.parser import main

NO_KEY = "No API key for openai: set OPENAI_API_KEY"
"""The reason each failed run gives."""


def quietly(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


def make_runs(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`folder` with 2 results and 2 failed runs, and `batch/` holding 2 more results."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    for _ in range(2):
        assert quietly(["run", "--headless", "--model", "scripted/echo", "--turns", "2",
                        "--out", str(folder)]) == 0
        assert quietly(["run", "--headless", "--model", "openai/x", "--turns", "2",
                        "--retries", "0", "--out", str(folder)]) == 1
    assert quietly(["batch", "--model", "scripted/echo", "--runs", "2", "--turns", "2",
                    "--workers", "1", "--out", str(folder / "batch")]) == 0
    return folder
