"""Small builders for engine tests: scripted sides, run to the end, reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attractor_tui.analysis.live import stop_rules
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.engine import Engine
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import SessionLog, load_session


def scripted(script: list[Any] | None = None, name: str = "test", **params: Any) -> SideConfig:
    if script is not None:
        params["script"] = script
    return SideConfig(model=f"scripted/{name}", params=params)


async def run_session(
    tmp_path: Path, config: SessionConfig, **engine_kwargs: Any
) -> tuple[Engine, SessionLog, list[Any]]:
    path = tmp_path / "session.jsonl"
    events: list[Any] = []
    session = open_session(config, path, listeners=[events.append], stop_rules=stop_rules,
                           **engine_kwargs)
    await session.run()
    return session.engine, load_session(path), events
