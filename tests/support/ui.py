"""Shared helpers for the UI tests (this module holds no tests itself)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.ui.app import AttractorApp
from attractor_tui.ui.screens.session import SessionScreen

LONG = " ".join(f"word{i}" for i in range(400))
"""A reply long enough to still be streaming when a test presses a key."""


def side(script: list[Any] | None = None, name: str = "test", **params: Any) -> SideConfig:
    if script is not None:
        params["script"] = script
    return SideConfig(model=f"scripted/{name}", params=params)


def config(a: SideConfig | None = None, b: SideConfig | None = None, **kw: Any) -> SessionConfig:
    kw.setdefault("turns", 2)
    return SessionConfig(a=a or side(name="goodbye"), b=b or side(name="echo"), **kw)


def make_app(tmp_path: Path, cfg: SessionConfig | None, **kw: Any) -> AttractorApp:
    kw.setdefault("session_path", tmp_path / "session.jsonl")
    kw.setdefault("clock", lambda: 0.0)
    return AttractorApp(cfg, tmp_path / "sessions", **kw)


def session(app: AttractorApp) -> SessionScreen:
    assert app.session is not None
    return app.session


async def wait_for(
    pilot: Pilot, predicate: Callable[[], object], timeout: float = 15.0, what: str = "",
    *, settled: bool = True,
) -> None:
    """Let the app run until `predicate()` is true, then (by default) let the UI settle.

    Settling waits for the process to go idle, which takes up to a second per
    step while a model is streaming: tests acting mid-stream pass `settled=False`.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)
    if settled:
        await settle(pilot)
    else:
        await asyncio.sleep(0.05)


async def settle(pilot: Pilot) -> None:
    """Wait until queued UI work (mounts, streams) is done and the screen is drawn."""
    for _ in range(3):
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
    await asyncio.sleep(0.05)
    await pilot.pause()


async def wait_ended(pilot: Pilot, timeout: float = 15.0) -> None:
    screen = session(pilot.app)  # type: ignore[arg-type]
    await wait_for(pilot, lambda: screen.end is not None, timeout, "session end")


async def wait_generating(pilot: Pilot, side_name: str, timeout: float = 15.0) -> None:
    """Wait until `side_name` is generating and some of its text is on screen."""
    screen = session(pilot.app)  # type: ignore[arg-type]

    def streaming() -> bool:
        engine = screen.engine
        return bool(
            engine is not None and engine.generating == side_name
            and screen.pane(side_name)._live  # noqa: SLF001 - a live message is mounted
        )

    await wait_for(pilot, streaming, timeout, f"{side_name} generating", settled=False)


def screen_text(app: AttractorApp) -> str:
    """Everything visible on the terminal, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())  # noqa: SLF001


def visible_segments(app: AttractorApp) -> list[str]:
    return [seg.text for strip in app.screen._compositor.render_strips() for seg in strip]  # noqa: SLF001
