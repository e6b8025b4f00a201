"""Helpers for the UI tests: the app as tests build it, and the screen as plain text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot

from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.ui.app import AttractorApp
from attractor_tui.ui.screens.session import SessionScreen
from tests.support.builders import frozen_clock, scripted
from tests.support.waiting import wait_until

LONG = " ".join(f"word{i}" for i in range(400))
"""A reply long enough to still be streaming when a test presses a key."""


def config(a: SideConfig | None = None, b: SideConfig | None = None, **kw: Any) -> SessionConfig:
    """Two rounds of the scripted goodbye side against the echo side, unless told otherwise."""
    kw.setdefault("turns", 2)
    return SessionConfig(a=a or scripted(name="goodbye"), b=b or scripted(name="echo"), **kw)


def make_app(tmp_path: Path, cfg: SessionConfig | None, **kw: Any) -> AttractorApp:
    """The app writing into `tmp_path` with a frozen elapsed-time clock."""
    kw.setdefault("session_path", tmp_path / "session.jsonl")
    kw.setdefault("clock", frozen_clock())
    return AttractorApp(cfg, tmp_path / "sessions", **kw)


def session(app: AttractorApp) -> SessionScreen:
    assert app.session is not None
    return app.session


async def wait_ended(pilot: Pilot[Any], timeout: float = 15.0) -> None:
    """`wait_until` the session on screen has ended."""
    screen = session(pilot.app)  # type: ignore[arg-type]
    await wait_until(pilot, lambda: screen.end is not None, timeout, "session end")


async def wait_generating(pilot: Pilot[Any], side_name: str, timeout: float = 15.0) -> None:
    """`wait_until` `side_name` is generating and some of its text is on screen."""
    screen = session(pilot.app)  # type: ignore[arg-type]

    def streaming() -> bool:
        engine = screen.engine
        return bool(
            engine is not None and engine.generating == side_name
            and screen.pane(side_name)._live  # noqa: SLF001 - a live message is mounted
        )

    await wait_until(pilot, streaming, timeout, f"{side_name} generating", settled=False)


def screen_lines(app: App[Any]) -> list[str]:
    """Every visible line of the terminal, as plain text."""
    return [strip.text for strip in app.screen._compositor.render_strips()]  # noqa: SLF001


def screen_text(app: App[Any]) -> str:
    """Everything visible on the terminal, as plain text."""
    return "\n".join(screen_lines(app))


def visible_segments(app: App[Any]) -> list[str]:
    return [seg.text for strip in app.screen._compositor.render_strips() for seg in strip]  # noqa: SLF001
