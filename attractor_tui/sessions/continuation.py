"""Fork: branch a stored session at a turn into a new file.

The new file holds the turns and context trims before the branch point, so
`sessions.runner.open_session` continues it exactly as it would the original
(resuming in place is the runner's job too).
"""

from __future__ import annotations

from pathlib import Path

from attractor_tui.core.events import ContextTrim, SessionStart, Turn, new_session_id
from attractor_tui.sessions.store import (
    SessionFileError,
    SessionLog,
    dump_event,
    load_session,
    new_session_path,
)


def fork_session(path: Path, at: int, out_dir: Path | None = None) -> Path:
    """Write a new session whose history is `path`'s turns with index < `at`."""
    log = load_session(path)
    if not 0 <= at <= len(log.turns):
        raise SessionFileError(path, f"--at {at} is outside 0..{len(log.turns)} "
                                     f"(the session has {len(log.turns)} turns)")
    target = new_session_path(out_dir or path.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    start = SessionStart(session_id=new_session_id(), config=log.config,
                         parent=str(path), parent_turn=at, source=log.start.source)
    kept: list[Turn | ContextTrim] = [
        e for e in log.events
        if (isinstance(e, Turn) and e.index < at)
        or (isinstance(e, ContextTrim) and e.keep_from <= at and _before(log, e, at))
    ]
    with target.open("w", encoding="utf-8") as handle:
        handle.write(dump_event(start) + "\n")
        for event in kept:
            handle.write(dump_event(event) + "\n")
    return target


def _before(log: SessionLog, trim: ContextTrim, at: int) -> bool:
    """True when `trim` was recorded before turn `at` was."""
    position = log.events.index(trim)
    return not any(isinstance(e, Turn) and e.index >= at for e in log.events[:position])
