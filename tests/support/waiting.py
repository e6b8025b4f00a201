"""The one wait-until helper, for the UI (with a Pilot) and for plain asyncio tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.pilot import Pilot

POLL = 0.005
"""Seconds between looks at the predicate: short next to any stream a test acts inside."""


async def wait_until(
    pilot: Pilot[Any] | None, predicate: Callable[[], object], timeout: float = 15.0,
    what: str = "", *, settled: bool = True,
) -> None:
    """Let the loop run until `predicate()` is true, failing after `timeout` s.

    With a pilot the UI then settles (by default): settling waits for the process
    to go idle, which takes up to a second per step while a model is streaming,
    so tests acting mid-stream pass `settled=False`. Without one (engine tests)
    it returns as soon as the predicate holds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(POLL)
    if pilot is None:
        return
    if settled:
        await settle(pilot)
    else:
        await asyncio.sleep(0.05)


async def settle(pilot: Pilot[Any], seconds: float = 0.05) -> None:
    """Wait until queued UI work (mounts, streams) is done and the screen is drawn."""
    for _ in range(3):
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
    await asyncio.sleep(seconds)
    await pilot.pause()
