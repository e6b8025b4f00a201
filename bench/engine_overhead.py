"""Engine + store overhead against a bare litellm streaming loop.

Both loops stream the same 1,000 messages from the in-process, zero-latency
`scripted` provider through litellm; the difference is everything the engine
adds: history rebuilding, events, listeners, JSONL writes with fsync per turn.
The engine side opens its session through `open_session`, as headless runs do.
Last line: `overhead_ratio=<engine time / bare time>` (target <= 1.15).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attractor_tui.analysis.live import stop_rules  # noqa: E402
from attractor_tui.backends.litellm_setup import get_litellm  # noqa: E402
from attractor_tui.core.config import SessionConfig, SideConfig  # noqa: E402
from attractor_tui.sessions.runner import open_session  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "1000"))
TEXT = "The quick brown fox talks to itself about attractor states. " * 3
PARAMS = {"script": [TEXT], "chunk_size": 4}


def config() -> SessionConfig:
    side = SideConfig(model="scripted/bench", params=dict(PARAMS))
    return SessionConfig(a=side, b=side.model_copy(deep=True), turns=MESSAGES // 2)


async def bare_loop() -> float:
    """What a throwaway script does: call, stream, append, repeat."""
    litellm = get_litellm()
    cfg = config()
    history: dict[str, list[dict[str, str]]] = {
        "A": [{"role": "system", "content": cfg.a.system}, {"role": "user", "content": cfg.seed}],
        "B": [{"role": "system", "content": cfg.b.system}],
    }
    start = time.perf_counter()
    side, other = "A", "B"
    for _ in range(MESSAGES):
        stream = await litellm.acompletion(
            model="scripted/bench", messages=history[side], stream=True, **PARAMS
        )
        parts = []
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
        text = "".join(parts)
        history[side].append({"role": "assistant", "content": text})
        history[other].append({"role": "user", "content": text})
        side, other = other, side
    return time.perf_counter() - start


async def engine_loop(directory: Path) -> float:
    chunks = 0

    def listener(event: object) -> None:
        nonlocal chunks
        chunks += 1

    start = time.perf_counter()
    session = open_session(
        config(), directory / "bench.jsonl", listeners=[listener], stop_rules=stop_rules
    )
    await session.run()
    elapsed = time.perf_counter() - start
    assert session.engine.completed_turns == MESSAGES, session.engine.completed_turns
    return elapsed


async def main() -> None:
    get_litellm()
    await bare_loop()  # warm-up: imports, caches
    with tempfile.TemporaryDirectory() as tmp:
        bare_times, engine_times = [], []
        for _ in range(3):
            bare_times.append(await bare_loop())
            engine_times.append(await engine_loop(Path(tmp)))
    bare, eng = min(bare_times), min(engine_times)
    print(f"messages={MESSAGES} chunks_per_message={len(TEXT) // 4 + 1}")
    print(f"bare_s={bare:.3f} engine_s={eng:.3f} "
          f"bare_msgs_per_s={MESSAGES / bare:.0f} engine_msgs_per_s={MESSAGES / eng:.0f}")
    print(f"overhead_ratio={eng / bare:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
