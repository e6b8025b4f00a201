"""The one way to start or continue a session: a config or a stored log in, a running engine out.

Headless runs, batch, the app and the tests all open sessions here, so the
rules that decide what a session continues from (turns, trims, tool attempts
in the file) and how many turns it has left exist once. Stop rules that need
analysis come in as a factory (`analysis.live.stop_rules`) because this layer
may not import `analysis`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from attractor_tui.core.config import SessionConfig
from attractor_tui.core.engine import (
    Engine,
    ErrorPolicy,
    Listener,
    StateMeter,
    StopRuleFactory,
    needs_meter,
)
from attractor_tui.core.events import OperatorAction, SessionEnd, Turn
from attractor_tui.core.pacing import Clock, pacers_for
from attractor_tui.core.window import check_prompts_fit
from attractor_tui.sessions.memory import MemoryFiles, with_notes
from attractor_tui.sessions.store import SessionFileError, SessionLog, SessionWriter


def check_resumable(log: SessionLog) -> None:
    """Raise `SessionFileError` with advice when `log` cannot be continued."""
    if log.start.source and log.start.source.startswith("peer-log:"):
        raise SessionFileError(log.path, "this is a foreign log; run `attractor-tui import` "
                                         "on it first, then resume the imported file")


def completed(turns: Iterable[Turn]) -> int:
    """Finished (not interrupted) turns: what turn limits count."""
    return sum(1 for t in turns if not t.interrupted)


def turns_left(config: SessionConfig, done: int) -> int | None:
    """Turns (both sides) a session's own plan still has after `done`; None if unlimited."""
    return None if config.turns is None else max(0, 2 * config.turns - done)


def resume_limit(log: SessionLog, turns: int | None) -> int | None:
    """How many more turns (both sides) a resume of `log` may take.

    `turns`: each side speaks this many more times. Default: a session that
    ended on its turn limit gets another round of the same length; any other
    (a crash, an error, a stop) finishes its own plan; None means unlimited.
    """
    if turns is not None:
        return 2 * turns
    end = log.end
    if end is not None and end.reason == "turns" and log.config.turns is not None:
        return 2 * log.config.turns
    return turns_left(log.config, completed(log.turns))


def unused_queue(log: SessionLog) -> list[OperatorAction]:
    """The operator's queued turns that never filled a slot and were not taken back, in order.

    A `queue` event is used once an operator turn names its `ref` in
    `from_queue`, and withdrawn by a `drop` with the same `ref`; anything else
    was still waiting when the session stopped (quit, crash, turn limit).
    """
    events = log.events
    used = {e.from_queue for e in events if isinstance(e, Turn) and e.from_queue}
    dropped = {e.ref for e in events if isinstance(e, OperatorAction) and e.action == "drop"}
    return [
        e for e in events
        if isinstance(e, OperatorAction) and e.action == "queue" and e.side is not None
        and e.text is not None and e.ref and e.ref not in used and e.ref not in dropped
    ]


def queue_summary(queued: Sequence[OperatorAction]) -> str:
    """How many queued turns per side, e.g. `A×2, B×1` (for notices and messages)."""
    counts = {side: sum(1 for e in queued if e.side == side) for side in ("A", "B")}
    return ", ".join(f"{side}×{n}" for side, n in counts.items() if n)


@dataclass
class OpenSession:
    """An engine and the writer that persists its events; `run` closes the writer."""

    engine: Engine
    writer: SessionWriter
    path: Path
    restored: list[OperatorAction] = field(default_factory=list)
    """Queued operator turns a resume brought back (they fill their slots first)."""
    memory: MemoryFiles | None = None
    """The memory files this session holds locked until it ends."""

    async def run(self) -> SessionEnd:
        try:
            return await self.engine.run()
        finally:
            await self.writer.close()
            self.release()

    def release(self) -> None:
        """Let other runs use this session's memory files (after its end, or unrun)."""
        if self.memory is not None:
            self.memory.release()

    async def __aenter__(self) -> OpenSession:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.writer.close()
        self.release()


def open_session(
    source: SessionConfig | SessionLog,
    path: Path | str | None = None,
    *,
    listeners: Sequence[Listener] = (),
    turns: int | None = None,
    stop_rules: StopRuleFactory | None = None,
    on_error: ErrorPolicy = "stop",
    interactive: bool = False,
    backoff: float = 1.0,
    clock: Clock | None = None,
    meter: Callable[[], StateMeter] | None = None,
) -> OpenSession:
    """Start a session from a config (into `path`) or continue a stored one (in its file).

    Nothing is written until the engine runs. For a config, `turns` overrides
    its per-side limit; for a log, see `resume_limit`; a log's queued operator
    turns that never filled a slot (`unused_queue`) are queued again, in order.

    A side whose system prompt (and seed) cannot fit its model's window is
    refused here, before anything is written (`core.window.PromptTooLong`), so
    headless runs, batch and the app all say so the same way. `clock` paces the
    per-minute limits (`core.pacing`; tests pass a fake one). `meter` builds the
    live state that `when = "attractor"` scripted operator turns wait for
    (`analysis.live.LiveAttractor`); it is built only when the config has one.

    Memory files (`SideConfig.memory`, `sessions.memory`) are locked here; a new
    session records the notes they hold in its config (a resume keeps the notes
    it started with). `MemoryFileError` if one is locked by another run or not text.
    """
    memory = MemoryFiles(source.config if isinstance(source, SessionLog) else source)
    if not memory:
        return _open(source, path, listeners=listeners, turns=turns, stop_rules=stop_rules,
                     on_error=on_error, interactive=interactive, backoff=backoff, clock=clock,
                     meter=meter, memory=None)
    notes = memory.open()
    try:
        if isinstance(source, SessionConfig):
            source = with_notes(source, notes)
        return _open(source, path, listeners=listeners, turns=turns, stop_rules=stop_rules,
                     on_error=on_error, interactive=interactive, backoff=backoff, clock=clock,
                     meter=meter, memory=memory)
    except BaseException:
        memory.release()
        raise


def _open(
    source: SessionConfig | SessionLog,
    path: Path | str | None,
    *,
    listeners: Sequence[Listener],
    turns: int | None,
    stop_rules: StopRuleFactory | None,
    on_error: ErrorPolicy,
    interactive: bool,
    backoff: float,
    clock: Clock | None,
    meter: Callable[[], StateMeter] | None,
    memory: MemoryFiles | None,
) -> OpenSession:
    check_prompts_fit(source.config if isinstance(source, SessionLog) else source)
    pacers = pacers_for(source.config if isinstance(source, SessionLog) else source, clock)
    config_of = source.config if isinstance(source, SessionLog) else source
    state = meter() if meter is not None and needs_meter(config_of) else None
    if isinstance(source, SessionLog):
        check_resumable(source)
        log = source
        config = log.config
        prior: list[Turn] = list(log.turns)  # a crash's torn turn was never written
        target = Path(path) if path is not None else log.path
        writer = SessionWriter(target)
        restored = unused_queue(log)
        engine = Engine(
            config, writer=writer, listeners=listeners, prior=prior, trims=log.trims,
            queued=restored,
            resume=True, max_turns=resume_limit(log, turns), session_id=log.start.session_id,
            on_error=on_error, interactive=interactive, backoff=backoff,
            stop_rules=stop_rules(config, prior) if stop_rules else (), pacers=pacers,
            meter=state, memory=memory,
        )
        return OpenSession(engine, writer, target, restored, memory)
    if path is None:
        raise ValueError("a new session needs the path of its file")
    target = Path(path)
    writer = SessionWriter(target)
    engine = Engine(
        source, writer=writer, listeners=listeners,
        max_turns=2 * turns if turns is not None else None,
        on_error=on_error, interactive=interactive, backoff=backoff,
        stop_rules=stop_rules(source, []) if stop_rules else (), pacers=pacers,
        meter=state, memory=memory,
    )
    return OpenSession(engine, writer, target, memory=memory)
