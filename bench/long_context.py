"""200 rounds on the embedded model with its full 4k window, per context policy.

The test suite runs the same loop with a 512-token window to stay quick; this
is the real thing (about 5-10 minutes per policy on 2 cores). Prints one line
per policy, last line `long_context ok=<policies without a context error>`.

Usage: python bench/long_context.py [truncate|summarize ...] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attractor_tui.analysis.live import stop_rules  # noqa: E402
from attractor_tui.core.config import SessionConfig, SideConfig  # noqa: E402
from attractor_tui.sessions.runner import open_session  # noqa: E402
from attractor_tui.sessions.store import load_session  # noqa: E402


async def run(policy: str, rounds: int, folder: Path) -> bool:
    side = SideConfig(model="embedded/smollm2-135m", max_tokens=16, context=policy)
    config = SessionConfig(a=side, b=side.model_copy(), turns=rounds)
    path = folder / f"{policy}.jsonl"
    started = time.monotonic()
    end = await open_session(config, path, stop_rules=stop_rules).run()
    seconds = time.monotonic() - started
    log = load_session(path)
    used = [t.usage.prompt_tokens + t.usage.completion_tokens for t in log.turns if t.usage]
    print(f"{policy}: end={end.reason} turns={len(log.turns)} context_events={len(log.trims)} "
          f"errors={len(log.errors)} max_tokens_used={max(used, default=0)} "
          f"seconds={seconds:.0f} turns_per_s={len(log.turns) / seconds:.2f}", flush=True)
    return end.reason == "turns" and not log.errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("policies", nargs="*", default=["truncate", "summarize"])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ok = [p for p in args.policies if asyncio.run(run(p, args.rounds, Path(tmp)))]
    print(f"long_context ok={','.join(ok) or 'none'}")


if __name__ == "__main__":
    main()
