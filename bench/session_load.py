"""Benchmark opening a long session in the replay screen, headless.

Writes a synthetic 10,000-turn session (real events through
`store.dump_event`: Markdown replies of ~300 characters, usage, a tool call
every 50 turns, an error and a context trim every 1,000), then measures,
from before `load_session` until the replay screen (`--speed 0`) shows the
last turn as a finished message on screen, driving the real replay app with
`run_test`. Prints, as its last line:

    open_s=<seconds> rss_mb=<n>

Targets: open_s <= 1.0, rss_mb <= 300 (peak resident memory of the process).

Usage: .venv/bin/python bench/session_load.py [--turns 10000] [--keep FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attractor_tui.core.config import SessionConfig, SideConfig  # noqa: E402
from attractor_tui.core.events import (  # noqa: E402
    ContextTrim,
    ErrorEvent,
    SessionEnd,
    SessionStart,
    ToolCallRecord,
    Turn,
    Usage,
)
from attractor_tui.sessions.store import dump_event, load_session  # noqa: E402
from attractor_tui.ui.widgets.pane import DEFAULT_MAX_MESSAGES  # noqa: E402


def reply(index: int) -> str:
    words = " ".join(f"w{index}x{k}" for k in range(12))
    return (f"## Turn {index}\n\nSome **thoughts** about attractor states, {words}.\n\n"
            f"- point one about `code{index}`\n- point two, *emphasis*\n\n> a quote {words}\n")


def write_session(path: Path, turns: int) -> None:
    """A session file of `turns` turns, as the engine would have written it."""
    t = datetime(2026, 1, 1, tzinfo=UTC)
    config = SessionConfig(a=SideConfig(model="scripted/a"), b=SideConfig(model="scripted/b"),
                           turns=turns // 2)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(dump_event(SessionStart(ts=t, session_id="b" * 32, config=config)) + "\n")
        for index in range(turns):
            side = "A" if index % 2 == 0 else "B"
            started = t + timedelta(seconds=0.5)
            t = started + timedelta(seconds=3)
            calls = []
            if index % 50 == 7:
                calls = [ToolCallRecord(name="end_conversation", arguments='{"reason": "x"}',
                                        outcome="denied", offset=10)]
            turn = Turn(ts=t, started=started, index=index, round=index // 2, side=side,
                        model=f"scripted/{side.lower()}", text=reply(index), tool_calls=calls,
                        usage=Usage(prompt_tokens=400, completion_tokens=80))
            handle.write(dump_event(turn) + "\n")
            if index % 1000 == 500:
                handle.write(dump_event(ErrorEvent(ts=t, side=side, message="rate limited",
                                                   kind="rate_limit", retry_in=2.0)) + "\n")
                handle.write(dump_event(ContextTrim(ts=t, side=side, action="truncate",
                                                    keep_from=index - 100, dropped=100)) + "\n")
        handle.write(dump_event(SessionEnd(ts=t, reason="turns")) + "\n")


async def measure(path: Path, turns: int, loaded: list[float]) -> tuple[float, float]:
    """Seconds until the last turn is on screen, and until the panes' windows are full."""
    from attractor_tui.ui.screens.replay import ReplayScreen
    from attractor_tui.ui.standalone import replay_app
    from attractor_tui.ui.widgets.message import MessageView

    last = turns - 1
    side = "A" if last % 2 == 0 else "B"
    started = time.perf_counter()
    log = load_session(path)
    loaded.append(time.perf_counter() - started)
    app = replay_app(log, speed=0)
    shown: list[float] = []
    full: list[float] = []

    async def watch() -> None:
        """Polls the screen from outside the app (run_test waits for idle before yielding)."""
        while not full:
            screen = app.screen if app.is_running else None
            if isinstance(screen, ReplayScreen) and screen._panes:  # noqa: SLF001
                pane = screen.pane(side)
                views = [w for w in pane.mounted_messages if isinstance(w, MessageView)]
                if not shown and views and views[-1].turn.index == last \
                        and views[-1].region.height > 0:
                    shown.append(time.perf_counter() - started)
                if shown and len(pane.mounted_messages) >= pane.max_messages:
                    full.append(time.perf_counter() - started)
            await asyncio.sleep(0.002)

    watcher = asyncio.ensure_future(watch())
    async with app.run_test(size=(160, 48)) as pilot:
        await asyncio.wait_for(watcher, 30)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and not screen.display_errors
    return shown[0], full[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="write the session here and keep it")
    args = parser.parse_args()
    path = args.keep or Path(tempfile.mkdtemp(prefix="session-load-")) / "long.jsonl"
    t0 = time.perf_counter()
    write_session(path, args.turns)
    size_mb = path.stat().st_size / 1e6
    print(f"wrote {args.turns} turns ({size_mb:.1f} MB) in {time.perf_counter() - t0:.1f}s: "
          f"{path}")
    loaded: list[float] = []
    open_s, full_s = asyncio.run(measure(path, args.turns, loaded))
    print(f"load_session {loaded[0]:.2f}s; last turn on screen after {open_s:.2f}s; "
          f"the panes' full windows (newest {DEFAULT_MAX_MESSAGES} entries each) "
          f"mounted after {full_s:.2f}s")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"open_s={open_s:.2f} rss_mb={rss_mb:.0f}")


if __name__ == "__main__":
    main()
