"""Analysis speed (issue 12, part 7).

1. `analyze` throughput: conversations per second for synthetic 30-turn
   conversations of 1-3 KB per turn (metrics, classification, topic, phases,
   the JSON record), target >= 25 on 2 cores.
2. The live meter's cost per turn at turn 500: `LiveAttractor.add` timed for
   turns 500-599 of a long synthetic session, target <= 2 ms.

Deterministic texts (seeded). This machine's speed wanders by a third from one
minute to the next (other guests on the host), so each figure is the best of
`REPEATS` runs, as `timeit` advises: the cost of the code, not of the moment;
the median is printed beside it, and so is a fixed Python loop's time (the
host's speed at that moment). Wall clock (the last line) and this process's
CPU time are printed, with the load average. Last line:
`conv_per_s=<x> meter_ms_at_500=<y> host_loop_ms=<z>`.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attractor_tui.analysis import analyze_log  # noqa: E402
from attractor_tui.analysis.live import LiveAttractor  # noqa: E402
from attractor_tui.core.config import SessionConfig  # noqa: E402
from attractor_tui.core.events import SessionEnd, SessionStart, Turn  # noqa: E402
from attractor_tui.sessions.log import SessionLog  # noqa: E402

CONVERSATIONS = 60
TURNS = 30
REPEATS = 5
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_VOCAB_TEXT = """
the of and to in is that it we conversation consciousness loop goodbye pattern system protocol
story dragon gratitude infinite presence quantum-fractal nexus thank you take care experience
uncertainty build spec metric latency cache river forest whale silence awareness identity
assistant human
"""
VOCAB = _VOCAB_TEXT.split()
"""Function words and every lexicon's favourites, so the matchers have work to do."""


def text(rng: random.Random) -> str:
    """1-3 KB of words, sentences and the odd emoji."""
    size = rng.randint(1000, 3000)
    out: list[str] = []
    length = 0
    while length < size:
        sentence = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(6, 18)))
        sentence = sentence.capitalize() + rng.choice([".", "!", "?", ". ✨", "."])
        out.append(sentence)
        length += len(sentence) + 1
    return " ".join(out)


def turns(rng: random.Random, n: int) -> list[Turn]:
    return [Turn(ts=T0 + timedelta(seconds=i), index=i, round=i // 2,
                 side="A" if i % 2 == 0 else "B", model="m", text=text(rng)) for i in range(n)]


def conversations_per_second() -> tuple[float, float]:
    """Conversations analysed per second of wall clock and of this process's CPU time."""
    rng = random.Random(12)
    start = SessionStart(ts=T0, session_id="bench", config=SessionConfig())
    logs = [SessionLog(path=Path(f"c{k}.jsonl"),
                       events=[start, *turns(rng, TURNS), SessionEnd(reason="turns")])
            for k in range(CONVERSATIONS)]
    wall, cpu = time.perf_counter(), time.process_time()
    for log in logs:
        analyze_log(log)
    return (CONVERSATIONS / (time.perf_counter() - wall),
            CONVERSATIONS / (time.process_time() - cpu))


def meter_ms_at(turn: int, timed: int = 100) -> tuple[float, float]:
    """Milliseconds per `LiveAttractor.add` from `turn` on: wall clock and CPU time."""
    rng = random.Random(500)
    session = turns(rng, turn + timed)
    live = LiveAttractor()
    live.load(session[:turn])
    wall, cpu = time.perf_counter(), time.process_time()
    for t in session[turn:]:
        live.add(t)
    return ((time.perf_counter() - wall) / timed * 1000,
            (time.process_time() - cpu) / timed * 1000)


def best_of(runs: list[tuple[float, float]], low: bool) -> tuple[float, float, float]:
    """The best wall figure, the best CPU figure and the median wall figure."""
    walls = [w for w, _ in runs]
    cpus = [c for _, c in runs]
    pick = min if low else max
    return pick(walls), pick(cpus), statistics.median(walls)


def host_loop_ms() -> float:
    """A fixed pure-Python loop (2 million additions), best of 5: how fast this host is
    right now (about 80 ms here when the host is quiet), to read the figures against."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> int:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    before = host_loop_ms()
    rate, cpu_rate, median_rate = best_of(
        [conversations_per_second() for _ in range(REPEATS)], low=False)
    print(f"analyze: {rate:.1f} conversations/s wall, {cpu_rate:.1f} per CPU second "
          f"(median {median_rate:.1f}; {CONVERSATIONS} x {TURNS} turns of 1-3 KB; one process; "
          f"best of {REPEATS}; load {load:.1f})")
    meter, cpu_meter, median_meter = best_of(
        [meter_ms_at(500) for _ in range(REPEATS)], low=True)
    print(f"meter: {meter:.3f} ms per turn at turn 500 wall, {cpu_meter:.3f} ms CPU "
          f"(median {median_meter:.3f}; best of {REPEATS})")
    host = (before + host_loop_ms()) / 2
    print(f"host: a 2-million-step Python loop took {host:.0f} ms (before and after, mean)")
    print(f"conv_per_s={rate:.1f} meter_ms_at_500={meter:.3f} host_loop_ms={host:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
