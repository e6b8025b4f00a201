"""What `run --headless` prints: turns and rounds counted from 1, as in the app."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from attractor_tui.cli.headless import run_headless
from tests.support.ui import config


async def test_headless_numbers_turns_and_rounds_from_one(tmp_path: Path) -> None:
    console = Console(record=True, width=120, highlight=False)
    assert await run_headless(config(turns=2), tmp_path, console=console) == 0
    heads = [line for line in console.export_text().splitlines() if line.startswith("── ")]
    assert [h.split(" · ")[0] for h in heads] == ["── #1", "── #2", "── #3", "── #4"]
    assert [h.rsplit(" · ", 1)[1] for h in heads] == ["round 1", "round 1", "round 2",
                                                      "round 2"]
