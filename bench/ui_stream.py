"""Benchmark the live UI: streaming throughput and key latency, headless.

Drives the real `AttractorApp` (real engine, real session file, `run_test`)
with a zero-latency streaming provider registered here (`benchzero/`): like
`scripted/` it answers from a script with no delay, but, like a network
stream, it lets the event loop run between reads (here every 2 ms of
streaming). `scripted/` never yields while a reply streams, so with it a
whole turn runs as one uninterruptible step and keys wait for its end
(`--provider scripted` measures that case). The panes first receive 1,000
finished messages (500 per side; the panes keep the newest few hundred
mounted, as in a long session), then the engine streams 20,000 text chunks
(20 turns x 1,000 chunks of 4 characters of Markdown). While it streams, a
key is posted the way the terminal driver posts keys, alternating `i`
(focus the interjection bar) and Escape (leave it); each press waits for the
previous one to be handled plus 100 ms, like an operator. Latency is from
posting the key to the start of its handler. Prints, as its last line:

    chunks_per_s=<n> key_p95_ms=<n> rss_mb=<n>

chunks_per_s counts until the last turn is on screen as a finished message,
so it includes all rendering. Targets: >= 1000, <= 50, <= 300.

Usage: .venv/bin/python bench/ui_stream.py [--chunks 20000] [--preload 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events  # noqa: E402

from attractor_tui.core.config import SessionConfig, SideConfig  # noqa: E402
from attractor_tui.core.events import TextDelta, Turn, Usage  # noqa: E402
from attractor_tui.ui.app import AttractorApp  # noqa: E402
from attractor_tui.ui.screens.session import SessionScreen  # noqa: E402
from attractor_tui.ui.widgets.interject import InterjectInput  # noqa: E402
from attractor_tui.ui.widgets.pane import DEFAULT_MAX_MESSAGES  # noqa: E402

CHUNK_SIZE = 4
CHUNKS_PER_TURN = 1000
KEY_INTERVAL = 0.1
"""Seconds between one key being handled and the next press."""
KEY_TIMEOUT = 2.0
"""A key not handled within this many seconds counts as lost (and as this latency)."""
YIELD_EVERY = 0.002
"""Seconds of streaming between two yields of `benchzero` to the event loop."""


def register_benchzero() -> None:
    """Add the `benchzero` provider to litellm (see the module docstring)."""
    from attractor_tui.backends.litellm_setup import get_litellm

    litellm = get_litellm()  # first: it configures litellm for offline use before import
    from litellm import CustomLLM
    from litellm.utils import custom_llm_setup

    class BenchZero(CustomLLM):
        async def astreaming(self, model: str, messages: list, *args: Any, **kwargs: Any):
            params = kwargs.get("optional_params") or {}
            script = params["script"]
            own = sum(1 for m in messages if m.get("role") == "assistant")
            text = script[min(own, len(script) - 1)]
            size = int(params.get("chunk_size", CHUNK_SIZE))
            last = time.perf_counter()
            for start in range(0, len(text), size):
                yield {"text": text[start : start + size], "is_finished": False,
                       "finish_reason": "", "usage": None, "index": 0, "tool_use": None}
                if time.perf_counter() - last > YIELD_EVERY:
                    await asyncio.sleep(0)
                    last = time.perf_counter()
            yield {"text": "", "is_finished": True, "finish_reason": "stop", "index": 0,
                   "tool_use": None, "usage": {"prompt_tokens": 10,
                                               "completion_tokens": len(text) // 4,
                                               "total_tokens": 10 + len(text) // 4}}

    litellm.custom_provider_map = [
        *[p for p in litellm.custom_provider_map if p.get("provider") != "benchzero"],
        {"provider": "benchzero", "custom_handler": BenchZero()},
    ]
    custom_llm_setup()


class ProbeScreen(SessionScreen):
    """The session screen with a stopwatch in the handlers of `i` and Escape."""

    pressed: deque[float]
    latencies: list[float]

    def _clock_in(self) -> None:
        if self.pressed:
            self.latencies.append(time.perf_counter() - self.pressed.popleft())

    def action_interject(self) -> None:
        self._clock_in()
        super().action_interject()

    def action_leave_bar(self) -> None:
        self._clock_in()
        super().action_leave_bar()


class ProbeApp(AttractorApp):
    SESSION_SCREEN = ProbeScreen


def markdown_reply(seed: int, chars: int) -> str:
    """Deterministic, varied Markdown of exactly `chars` characters."""
    parts: list[str] = []
    n = 0
    while sum(map(len, parts)) < chars:
        n += 1
        kind = (seed + n) % 5
        words = " ".join(f"w{seed}x{n}y{k}" for k in range(8))
        if kind == 0:
            parts.append(f"\n\n## Section {seed}.{n}\n\n")
        elif kind == 1:
            parts.append(f"\n- item {n}: **{words}**")
        elif kind == 2:
            parts.append(f" {words} `code{n}` and *emphasis {n}*.")
        elif kind == 3:
            parts.append(f"\n\n> quote {n}: {words}\n\n")
        else:
            parts.append(f" Plain sentence number {n} about attractor states, {words}.")
    return "".join(parts)[:chars]


def preload_turns(count: int) -> dict[str, list[Turn]]:
    turns: dict[str, list[Turn]] = {"A": [], "B": []}
    for index in range(count):
        side = "A" if index % 2 == 0 else "B"
        turns[side].append(
            Turn(
                index=index, round=index // 2, side=side, model=f"scripted/{side.lower()}",
                text=markdown_reply(10_000 + index, 300),
                usage=Usage(prompt_tokens=100, completion_tokens=75),
            )
        )
    return turns


async def run(
    chunks: int, preload: int, provider: str = "benchzero", max_messages: int = 200
) -> tuple[float, float, float, int]:
    turns = max(2, round(chunks / CHUNKS_PER_TURN))
    per_side = turns // 2
    chars = CHUNKS_PER_TURN * CHUNK_SIZE

    def side(name: str, offset: int) -> SideConfig:
        script = [markdown_reply(offset + i, chars) for i in range(per_side)]
        return SideConfig(model=f"{provider}/{name}",
                          params={"script": script, "chunk_size": CHUNK_SIZE, "cycle": False})

    config = SessionConfig(a=side("a", 0), b=side("b", 1000), turns=per_side)
    out = Path(tempfile.mkdtemp(prefix="ui-bench-"))
    if provider == "benchzero":
        register_benchzero()
    app = ProbeApp(config, out, autostart=False, max_messages=max_messages)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.session
        assert isinstance(screen, ProbeScreen)
        screen.latencies = []
        screen.pressed = deque()
        history = preload_turns(preload)
        for side_name in ("A", "B"):
            screen.pane(side_name).show_turns(history[side_name])
        await pilot.pause()
        shown = sum(len(screen.pane(s).mounted_messages) for s in ("A", "B"))
        widgets = len(list(screen.walk_children()))
        print(f"preloaded {preload} messages ({shown} kept in the panes, "
              f"{widgets} widgets on the screen)", file=sys.stderr)

        counted = 0
        first: float | None = None

        def count(event: object) -> None:
            nonlocal counted, first
            if isinstance(event, TextDelta):
                counted += 1
                if first is None:
                    first = time.perf_counter()

        screen.start()
        assert screen.engine is not None
        screen.engine.listeners.append(count)

        lost = 0

        async def press_keys() -> None:
            """Like an operator: press, wait for the app to react, pause, press again."""
            nonlocal lost
            while True:
                await asyncio.sleep(KEY_INTERVAL)
                if first is None:
                    continue
                in_bar = isinstance(app.focused, InterjectInput)
                key = events.Key("escape", None) if in_bar else events.Key("i", "i")
                screen.pressed.clear()
                sent = time.perf_counter()
                screen.pressed.append(sent)
                app.post_message(key)
                while screen.pressed and time.perf_counter() - sent < KEY_TIMEOUT:
                    await asyncio.sleep(0.001)
                if screen.pressed:
                    lost += 1
                    screen.latencies.append(KEY_TIMEOUT)

        presser = asyncio.create_task(press_keys())
        last_index = 2 * per_side - 1

        def last_turn_shown() -> bool:
            pane = screen.pane("A" if last_index % 2 == 0 else "B")
            return any(getattr(item, "turn", None) is not None and item.turn.index == last_index
                       for item in pane.mounted_messages)

        while screen.end is None or not last_turn_shown():
            if app._exception is not None:  # noqa: SLF001 - the app crashed
                raise app._exception  # noqa: SLF001
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - (first or time.perf_counter())
        presser.cancel()
        await pilot.pause()
        assert not screen.display_errors, screen.display_errors
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    latencies = sorted(screen.latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000 if latencies else float("nan")
    print(
        f"streamed {counted} chunks in {elapsed:.2f} s; {len(latencies)} key presses, "
        f"median {statistics.median(latencies) * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms, "
        f"{lost} lost",
        file=sys.stderr,
    )
    return counted / elapsed, p95, rss_mb, counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--preload", type=int, default=1000)
    parser.add_argument("--provider", choices=["benchzero", "scripted"], default="benchzero")
    parser.add_argument("--max-messages", type=int, default=DEFAULT_MAX_MESSAGES,
                        help="messages kept mounted per pane")
    args = parser.parse_args()
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="ui-bench-xdg-"))
    rate, p95, rss, _ = asyncio.run(
        run(args.chunks, args.preload, args.provider, args.max_messages)
    )
    print(f"chunks_per_s={rate:.0f} key_p95_ms={p95:.1f} rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
