"""Small builders for engine tests: scripted sides, run to the end, reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attractor_tui.config import SessionConfig, SideConfig
from attractor_tui.engine import Engine
from attractor_tui.store import SessionLog, SessionWriter, load_session


def scripted(script: list[Any] | None = None, name: str = "test", **params: Any) -> SideConfig:
    if script is not None:
        params["script"] = script
    return SideConfig(model=f"scripted/{name}", params=params)


async def run_session(
    tmp_path: Path, config: SessionConfig, **engine_kwargs: Any
) -> tuple[Engine, SessionLog, list[Any]]:
    path = tmp_path / "session.jsonl"
    events: list[Any] = []
    async with SessionWriter(path) as writer:
        engine = Engine(config, writer=writer, listeners=[events.append], **engine_kwargs)
        await engine.run()
    return engine, load_session(path), events
