"""Embedded-model batch throughput: calls one at a time (old) against calls decoded together.

Runs the same batch twice per repeat in one process, through `run_batch`
exactly as `attractor-tui batch` does (4 conversations x 4 rounds, both
sides, `max_tokens` 128, 4 at once by default): once with the embedded
backend limited to one generation at a time (`embedded.set_parallel(1)`, the
serial lock it had before issue 28) and once with up to `N_SLOTS` generations
decoded together. Repeats (default 2) alternate which goes first: a pass
run second in one process was often slower whatever its mode (load drift,
perhaps llama.cpp's RAM prompt cache filling up), so one pair alone
misleads. Each pass opens with its own seed message (the RAM prompt cache
must not carry one pass's prompts into the next); the model is loaded
before the clock starts.

Tokens/s = reply tokens (llama.cpp's usage, from the session files) / wall
seconds of the pass; per pass also tokens per CPU second of the process (the
machine's other load shows less in it). One line per pass, the spread, then
last:

    old_tok_s=<mean> new_tok_s=<mean> ratio=<new / old>

Target (issue 28): ratio >= 1.5. Wall-clock figures: note the load
(`uptime`, printed too) beside them.

Usage: python bench/embedded_batch.py [--runs N] [--rounds N] [--max-tokens N]
       [--concurrency N] [--repeat N] [--threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attractor_tui.backends import embedded  # noqa: E402
from attractor_tui.core.config import SessionConfig, SideConfig  # noqa: E402
from attractor_tui.experiments.batch import BatchSpec, run_batch  # noqa: E402
from attractor_tui.sessions.store import load_session  # noqa: E402

SEED = "Pass {n}: tell me a long story about a lighthouse keeper and the ships she watches."


def reply_tokens(directory: Path) -> int:
    total = 0
    for path in sorted(directory.glob("run-*.jsonl")):
        for turn in load_session(path).turns:
            assert turn.usage is not None, path
            total += turn.usage.completion_tokens
    return total


def _cpu() -> float:
    """CPU seconds of this process so far, llama.cpp's threads included."""
    usage = os.times()
    return usage.user + usage.system


def one_pass(directory: Path, args: argparse.Namespace, n: int, parallel: int) -> float:
    """Reply tokens per second of one batch with `parallel` generations at once."""
    side = SideConfig(model=embedded.MODEL, max_tokens=args.max_tokens)

    def config(index: int) -> SessionConfig:
        sided = side.model_copy(update={"params": {"seed": index}})
        return SessionConfig(a=sided, b=sided.model_copy(), turns=args.rounds,
                             seed=SEED.format(n=n))

    spec = BatchSpec(out=directory, runs=args.runs, scenario=None, configs=config,
                     concurrency=args.concurrency, name="embedded-bench", engine_backoff=0.0)
    embedded.set_parallel(parallel)
    started, cpu = time.perf_counter(), _cpu()
    result = asyncio.run(run_batch(spec))
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    assert result.ok, [r.error for r in result.runs if r.error][:3]
    tokens = reply_tokens(directory)
    print(f"pass={n} parallel={parallel} seconds={elapsed:.1f} reply_tokens={tokens} "
          f"tok_s={tokens / elapsed:.1f} cpu_s={cpu:.1f} tok_per_cpu_s={tokens / cpu:.1f} "
          f"load={os.getloadavg()[0]:.2f}", flush=True)
    return tokens / elapsed


def spread(values: list[float], digits: int = 1) -> str:
    return f"{min(values):.{digits}f}-{max(values):.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int,
                        help=f"llama.cpp threads (default {embedded.N_THREADS})")
    args = parser.parse_args()
    if args.threads:
        embedded.N_THREADS = args.threads
    embedded.load()
    old: list[float] = []
    new: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        n = 0
        for repeat in range(args.repeat):
            order = [(1, old), (embedded.N_SLOTS, new)]
            for parallel, into in order if repeat % 2 == 0 else reversed(order):
                n += 1
                into.append(one_pass(Path(tmp) / f"pass-{n}", args, n, parallel))
    ratios = [b / a for a, b in zip(old, new, strict=True)]
    load = os.getloadavg()
    print(f"runs={args.runs} rounds={args.rounds} max_tokens={args.max_tokens} "
          f"concurrency={args.concurrency} threads={embedded.N_THREADS} slots={embedded.N_SLOTS} "
          f"load={load[0]:.2f},{load[1]:.2f},{load[2]:.2f} cpus={os.cpu_count()}")
    print(f"spread: old_tok_s={spread(old)} new_tok_s={spread(new)} ratio={spread(ratios, 2)}")
    old_mean, new_mean = statistics.mean(old), statistics.mean(new)
    print(f"old_tok_s={old_mean:.1f} new_tok_s={new_mean:.1f} ratio={new_mean / old_mean:.2f}")


if __name__ == "__main__":
    main()
