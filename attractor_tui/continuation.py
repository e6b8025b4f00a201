"""Resume and fork: continue a stored session, or branch it at a turn.

Both rebuild the engine's state from the file alone (turns, context trims,
tool attempts), which is what makes a resumed run send exactly what an
uninterrupted one would have.
"""

from __future__ import annotations

from pathlib import Path

from .engine import Engine, Listener
from .events import ContextTrim, SessionStart, Turn
from .store import (
    SessionFileError,
    SessionLog,
    SessionWriter,
    dump_event,
    load_session,
    new_session_id,
    new_session_path,
)


def check_resumable(log: SessionLog) -> None:
    """Raise `SessionFileError` with advice when `log` cannot be continued."""
    if log.start.source and log.start.source.startswith("peer-log:"):
        raise SessionFileError(log.path, "this is a foreign log; run `attractor-tui import` "
                                         "on it first, then resume the imported file")


def resume_engine(
    log: SessionLog, writer: SessionWriter, *, turns: int | None = None,
    listeners: list[Listener] | None = None, **engine_kwargs: object,
) -> Engine:
    """An engine that continues `log` from its last complete turn.

    `turns`: each side speaks this many more times; default: the session's own
    per-side limit counted from the start (so a crashed run finishes its
    plan), or unlimited when it had none.
    """
    check_resumable(log)
    prior = list(log.turns)  # a crash's torn turn was never written
    end = log.end
    if turns is None and end is not None and end.reason == "turns":
        turns = log.config.turns  # "continue": another round of the same length
    max_turns = 2 * turns if turns is not None else None
    return Engine(
        log.config, writer=writer, prior=prior, trims=log.trims, resume=True,
        max_turns=max_turns, listeners=listeners or [], session_id=log.start.session_id,
        **engine_kwargs,  # type: ignore[arg-type]
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
