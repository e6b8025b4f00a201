"""Headless runs: stream both sides to stdout with Rich, no app.

Everything printed came from a model, a provider, a tool call or a file
(model names, reply text, tool calls, error messages, end details), so each
piece goes through `safe_text`/`safe_line` and is printed as `rich.text.Text`,
never parsed as markup: hostile output cannot restyle or take over the
terminal. Turns and rounds count from 1, as in the app (`── #3 · A · ... · round 2`).
"""

from __future__ import annotations

import signal
from pathlib import Path

from rich.console import Console
from rich.text import Text

from attractor_tui.analysis.live import LiveAttractor, stop_rules
from attractor_tui.core.config import SessionConfig
from attractor_tui.core.engine import Engine
from attractor_tui.core.events import (
    ErrorEvent,
    Event,
    SessionEnd,
    StateChange,
    TextDelta,
    ToolCallDelta,
    Turn,
    TurnBegin,
)
from attractor_tui.core.text import safe_line, safe_text
from attractor_tui.sessions.runner import open_session, queue_summary
from attractor_tui.sessions.store import SessionLog, new_session_path

SIDE_STYLE = {"A": "cyan", "B": "magenta"}


class ConsolePrinter:
    """An engine listener that writes a readable live transcript."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._open = False
        self._header: int | None = None
        """The turn whose header is printed and that has not ended: a retry after an error
        begins it again, under the same header."""

    def __call__(self, event: Event) -> None:
        c = self.console
        if isinstance(event, TurnBegin):
            if event.index == self._header:
                return  # the same turn again after an error: its header is above
            self._header = event.index
            who = ("operator as " + event.side if event.author == "operator"
                   else safe_line(event.model))
            if event.rule:
                who += f" (scripted: {safe_line(event.rule)})"
            c.print(Text(f"\n── #{event.index + 1} · {event.side} · {who} · "
                         f"round {event.round + 1}",
                         style=f"bold {SIDE_STYLE[event.side]}"))
            self._open = True
        elif isinstance(event, TextDelta):
            c.print(Text(safe_text(event.text), style=SIDE_STYLE[event.side]),
                    end="", soft_wrap=True)
        elif isinstance(event, ToolCallDelta):
            pass
        elif isinstance(event, StateChange) and event.state == "pacing":  # before any text
            c.print(Text(f"  … {safe_line(event.detail)}", style="dim"))
        elif isinstance(event, StateChange) and event.state == "remembering":  # after the last
            c.print(Text(f"\n  … {safe_line(event.detail)}", style="dim"), end="")
        elif isinstance(event, Turn):
            if event.author == "operator":
                c.print(Text(safe_text(event.text), style=SIDE_STYLE[event.side]),
                        end="", soft_wrap=True)
            for call in event.tool_calls:
                c.print(Text(f"\n  ⚙ tool call {safe_line(call.name)}({safe_line(call.arguments)})",
                             style="yellow"), end="")
            if event.sent_text is not None:
                c.print(Text(f"\n  (empty reply; sent {safe_text(repr(event.sent_text))} instead)",
                             style="dim"), end="")
            if event.interrupted:
                c.print(Text("  [interrupted]", style="bold red"), end="")
            c.print()
            self._open = False
            self._header = None
        elif isinstance(event, ErrorEvent):
            c.print(Text(f"\n! {safe_text(event.message)}", style="bold red"))
        elif isinstance(event, SessionEnd):
            detail = f" ({event.detail})" if event.detail else ""
            c.print(Text(safe_text(f"\nsession ended: {event.reason}{detail}"), style="bold"))


async def resume_headless(log: SessionLog, turns: int | None = None,
                          console: Console | None = None) -> int:
    """Continue a stored session in its own file, printing as `run --headless` does."""
    console = console or Console(highlight=False)
    session = open_session(log, turns=turns, listeners=[ConsolePrinter(console)],
                           stop_rules=stop_rules, meter=LiveAttractor)
    if session.restored:
        console.print(Text(f"restored {len(session.restored)} queued operator turn(s) "
                           f"({queue_summary(session.restored)}); they fill their slots first:",
                           style="bold"))
        for queued in session.restored:
            console.print(Text(f"  {queued.side}: {safe_line(queued.text or '')}"))
    interrupt = _Interrupt(session.engine)
    end = await session.run()
    console.print(Text(safe_text(f"session: {log.path}")), soft_wrap=True)
    return interrupt.exit_code(end)


class _Interrupt:
    """Ctrl-C ends the session cleanly (its end recorded); the exit code still says 130."""

    def __init__(self, engine: Engine) -> None:
        import asyncio

        self.engine = engine
        self.pressed = False
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._stop)
        except (NotImplementedError, RuntimeError):
            pass

    def _stop(self) -> None:
        import asyncio

        self.pressed = True
        asyncio.ensure_future(self.engine.stop())

    def exit_code(self, end: SessionEnd) -> int:
        """130 after Ctrl-C, 1 for a session ended by an error, else 0."""
        return 130 if self.pressed else 1 if end.reason == "error" else 0


async def run_headless(
    config: SessionConfig, out_dir: Path, console: Console | None = None
) -> int:
    """Run one session to its end; returns a process exit code."""
    console = console or Console(highlight=False)
    path = new_session_path(out_dir)
    session = open_session(config, path, listeners=[ConsolePrinter(console)],
                           stop_rules=stop_rules, meter=LiveAttractor)
    interrupt = _Interrupt(session.engine)
    end = await session.run()
    console.print(Text(safe_text(f"session: {path}")), soft_wrap=True)
    return interrupt.exit_code(end)
