"""A long session on the embedded model: does a turn get slower as history grows?

Runs N rounds (default 30, both sides, `max_tokens` 128) through `open_session`,
exactly as `run --headless` does, and times every turn from its `turn_begin` to
its `turn` event. llama.cpp's own counts of the last call (`embedded.stats()`)
give the prompt tokens it had to evaluate (prefill) and the ones it reused
from its cache. One line per turn, then:

    new_tokens_per_turn=<mean, last rounds>  (what an ideal cache would prefill)
    late_over_early=<s per reply token, rounds 25-30 / rounds 3-8>
        reply_tok_s=<reply tokens / session seconds>
        prefill_tokens_per_turn=<mean evaluated prompt tokens, rounds 25-30>

Targets (issue 18): late_over_early <= 1.5, reply_tok_s >= 50, prefill close
to the new messages plus the chat template. Timings are wall clock: note the
machine's load (`uptime`) next to any figure.

The conversation is fixed (a story both sides continue, sampling seed 7), so
runs compare; `--slots 1` gives the server one slot as before issue 18 (then
only llama.cpp's RAM prompt cache keeps a side's prefix between its turns).

The line before the last gives llama.cpp's own seconds (its prefill plus decode
timings, summed) and `llama_only_tok_s`: the reply rate with no app around it,
the ceiling for `reply_tok_s` at that thread count.

Usage: python bench/embedded_session.py [--rounds N] [--max-tokens N] [--slots N]
       [--threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attractor_tui.analysis.live import stop_rules  # noqa: E402
from attractor_tui.backends import embedded  # noqa: E402
from attractor_tui.core.config import SessionConfig, SideConfig  # noqa: E402
from attractor_tui.core.events import ContextTrim, Event, Turn, TurnBegin  # noqa: E402
from attractor_tui.sessions.runner import open_session  # noqa: E402


@dataclass
class Row:
    round: int  # 1-based, as people count
    side: str
    seconds: float
    reply: int
    prompt: int
    evaluated: int
    cached: int
    llama: float
    """llama.cpp's own seconds for the call: its prefill plus its decode."""


def window(rows: list[Row], first: int, last: int) -> list[Row]:
    return [r for r in rows if first <= r.round <= last]


def per_token(rows: list[Row]) -> float:
    return sum(r.seconds for r in rows) / max(1, sum(r.reply for r in rows))


def ideal_new(rows: list[Row]) -> list[int]:
    """Per turn: prompt tokens beyond what that side's previous call left in its cache."""
    last: dict[str, Row] = {}
    out: list[int] = []
    for row in rows:
        before = last.get(row.side)
        if before is not None:
            out.append(max(0, row.prompt - before.prompt - before.reply))
        last[row.side] = row
    return out


SEED = ("Let's write a long story together about a lighthouse keeper, taking turns. "
        "Continue the story with one full paragraph each time.")


async def run(rounds: int, max_tokens: int, folder: Path) -> None:
    side = SideConfig(model="embedded/smollm2-135m", max_tokens=max_tokens,
                      params={"seed": 7})
    config = SessionConfig(a=side, b=side.model_copy(), turns=rounds, seed=SEED)
    rows: list[Row] = []
    began: dict[int, float] = {}
    trims = 0

    def listener(event: Event) -> None:
        nonlocal trims
        if isinstance(event, TurnBegin):
            began[event.index] = time.perf_counter()
        elif isinstance(event, ContextTrim):
            trims += 1
            print(f"  context: {event.side} keeps from turn {event.keep_from + 1} "
                  f"(dropped {event.dropped})", flush=True)
        elif isinstance(event, Turn) and not event.interrupted and event.index in began:
            seconds = time.perf_counter() - began[event.index]
            stats = embedded.stats()
            usage = event.usage
            evaluated = int(stats.get("prompt_tokens") or 0)
            generated = int(stats.get("completion_tokens") or 0)
            llama = (evaluated / float(stats.get("prompt_tokens_per_second") or 1e9)
                     + generated / float(stats.get("completion_tokens_per_second") or 1e9))
            row = Row(
                round=event.round + 1, side=event.side, seconds=seconds,
                reply=usage.completion_tokens if usage else 0,
                prompt=usage.prompt_tokens if usage else 0,
                evaluated=evaluated, cached=int(stats.get("cached_prompt_tokens") or 0),
                llama=llama,
            )
            rows.append(row)
            print(f"round {row.round:>2} {row.side}: {row.seconds:5.2f} s  reply {row.reply:>3}  "
                  f"prompt {row.prompt:>4} = evaluated {row.evaluated:>4} + cached "
                  f"{row.cached:>4}  llama {stats.get('completion_tokens_per_second') or 0:5.1f} "
                  f"tok/s", flush=True)

    await asyncio.to_thread(embedded.load)
    started = time.perf_counter()
    end = await open_session(config, folder / "bench.jsonl", listeners=[listener],
                             stop_rules=stop_rules).run()
    total = time.perf_counter() - started
    late_from, late_to = max(1, rounds - 5), rounds
    early, late = window(rows, 3, 8), window(rows, late_from, late_to)
    ratio = per_token(late) / per_token(early) if early and late else float("nan")
    reply_rate = sum(r.reply for r in rows) / total
    prefill = sum(r.evaluated for r in late) / max(1, len(late))
    new = [n for r, n in zip(rows[2:], ideal_new(rows), strict=False)
           if late_from <= r.round <= late_to]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"end={end.reason} turns={len(rows)} context_events={trims} seconds={total:.0f} "
          f"cpu_s={time.process_time():.0f} load={load} rounds_late={late_from}-{late_to}")
    print(f"new_tokens_per_turn={sum(new) / max(1, len(new)):.0f}")
    llama_s = sum(r.llama for r in rows)
    # llama.cpp's own time is the ceiling: what the session would make with no app at all
    print(f"threads={embedded.N_THREADS} llama_s={llama_s:.0f} "
          f"llama_only_tok_s={sum(r.reply for r in rows) / max(llama_s, 1e-9):.1f} "
          f"outside_llama_s_per_turn={(total - llama_s) / max(1, len(rows)):.2f}")
    print(f"late_over_early={ratio:.2f} reply_tok_s={reply_rate:.1f} "
          f"prefill_tokens_per_turn={prefill:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--slots", type=int, default=embedded.N_SLOTS)
    parser.add_argument("--threads", type=int, default=embedded.N_THREADS,
                        help="llama.cpp threads for decode and prefill (default: as the app)")
    args = parser.parse_args()
    embedded.N_THREADS = args.threads
    # Before the model loads: the server's slot count is fixed at start.
    embedded.N_SLOTS = args.slots
    embedded._RUNTIME.slots = embedded._Slots(args.slots)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.rounds, args.max_tokens, Path(tmp)))


if __name__ == "__main__":
    main()
