"""Batch throughput: 200 conversations x 30 rounds at concurrency 50.

Every message comes from the in-process `scripted` provider through the real
litellm path and sleeps 20 ms (two streamed chunks, 10 ms each: a text chunk
and the final one), so a perfect runner would take
`ideal = runs * 60 * 0.02 / concurrency` seconds (4.8 s). Everything above that
is overhead: litellm per call, engine, store, batch bookkeeping.
Last line: `efficiency=<ideal / actual>` (target >= 0.8).

BENCH_PROVIDER picks the provider path, to show where the time goes:
  litellm  (default) the real path, as every user run takes it;
  priced   the same, with the bench model registered in litellm's price map at
           zero cost (litellm then skips its slow fallback search for the
           price of an unknown model, twice per call);
  direct   no litellm at all: a stand-in `acompletion` yields the same chunks
           straight to the engine, leaving only engine + store + batch overhead;
  server   a stub OpenAI-compatible server in its own process on 127.0.0.1
           (`peer_batch.py --serve`, one JSON reply after BENCH_DELAY_MS) called
           through litellm as BENCH_MODEL (`openai/stub`, the default, takes the
           lean path; `hosted_vllm/stub`), in this one process; defaults to 50
           conversations x 15 rounds (30 messages each) at concurrency 50.

CPU per call: `cpu_ms_per_call` is this process's CPU time (`time.process_time`,
so other users of a shared machine do not skew it) over the messages made;
with the server provider that is everything of ours and litellm's per call
(the server runs in its own process). Budget: 1.5 ms.

Other knobs: BENCH_RUNS, BENCH_ROUNDS, BENCH_CONCURRENCY, BENCH_DELAY_MS (per
message), BENCH_WORKERS (processes, default: what `batch` picks, one per core;
1 = this process only; the direct provider always runs here), BENCH_PROFILE=1
(cProfile of the batch in this process; top functions to stderr).

Batch calls are not streamed (nobody watches them): the scripted provider
answers whole after the time its two chunks would take.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attractor_tui.backends import litellm_setup  # noqa: E402
from attractor_tui.backends.litellm_setup import get_litellm  # noqa: E402
from attractor_tui.core.config import SessionConfig, SideConfig  # noqa: E402
from attractor_tui.experiments.batch import BatchSpec, run_batch  # noqa: E402
from attractor_tui.experiments.workers import run_parallel  # noqa: E402

PROVIDER = os.environ.get("BENCH_PROVIDER", "litellm")
SERVER = PROVIDER == "server"
RUNS = int(os.environ.get("BENCH_RUNS", "50" if SERVER else "200"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15" if SERVER else "30"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "50"))
DELAY = float(os.environ.get("BENCH_DELAY_MS", "20")) / 1000
MODEL = os.environ.get("BENCH_MODEL", "openai/stub")
WORKERS = (int(os.environ["BENCH_WORKERS"]) if os.environ.get("BENCH_WORKERS")
           else 1 if SERVER else None)
TEXT = "The quick brown fox talks to itself about attractor states, again."


_API_BASE: list[str] = []
"""The stub server's address (server provider), once it runs."""


def config(index: int) -> SessionConfig:
    if SERVER:
        side = SideConfig(model=MODEL, params={"api_base": _API_BASE[0]})
        return SessionConfig(a=side, b=side.model_copy(deep=True), turns=ROUNDS)
    # chunk_size > len(TEXT): one text chunk + the final chunk = 2 sleeps per message
    side = SideConfig(model="scripted/bench",
                      params={"script": [f"{TEXT} ({index})"], "chunk_size": 1000,
                              "delay": DELAY / 2})
    return SessionConfig(a=side, b=side.model_copy(deep=True), turns=ROUNDS)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the workers)."""
    usage = os.times()
    return usage.user + usage.system + usage.children_user + usage.children_system


def batch(directory: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds (all threads, all workers) for the whole batch, and messages made."""
    spec = BatchSpec(out=directory, runs=RUNS, scenario=None, configs=config,
                     concurrency=CONCURRENCY, name="bench", engine_backoff=0.0)
    start, cpu = time.perf_counter(), _cpu() if WORKERS != 1 else time.process_time()
    result = None
    if WORKERS != 1 and PROVIDER != "direct" and not os.environ.get("BENCH_PROFILE"):
        result = run_parallel(spec, WORKERS)
    if result is None:
        result = asyncio.run(run_batch(spec))
    elapsed = time.perf_counter() - start
    cpu = (_cpu() if WORKERS != 1 else time.process_time()) - cpu
    assert result.ok, [r.error for r in result.runs if r.error][:3]
    return elapsed, cpu, result.new_turns


async def warm_up(directory: Path) -> None:
    """Imports, litellm caches and the first-call costs are not batch overhead."""
    spec = BatchSpec(out=directory, runs=2, scenario=None, configs=config, concurrency=2,
                     name="warm-up")
    await run_batch(spec)


class _DirectStream:
    """What the engine reads from a litellm stream, without litellm."""

    def __init__(self, text: str, delay: float, prompt_chars: int) -> None:
        self.text, self.delay, self.prompt = text, delay, prompt_chars

    def __aiter__(self) -> Any:
        return self._chunks()

    async def _chunks(self) -> Any:
        for content, finish in ((self.text, None), ("", "stop")):
            await asyncio.sleep(self.delay)
            usage = None
            if finish:
                usage = SimpleNamespace(prompt_tokens=self.prompt // 4,
                                        completion_tokens=len(self.text) // 4)
            delta = SimpleNamespace(content=content or None, tool_calls=None)
            yield SimpleNamespace(choices=[SimpleNamespace(delta=delta, finish_reason=finish)],
                                  usage=usage)


class _DirectLitellm:
    async def acompletion(self, *, messages: list[dict[str, Any]], stream: bool = True,
                          **kwargs: Any) -> Any:
        script = kwargs["script"]
        chars = sum(len(str(m.get("content") or "")) for m in messages)
        delay = float(kwargs.get("delay", 0))
        if stream:
            return _DirectStream(script[0], delay, chars)
        # A whole answer after the time its two chunks would take, as batch asks for.
        await asyncio.sleep(2 * delay)
        usage = SimpleNamespace(prompt_tokens=chars // 4, completion_tokens=len(script[0]) // 4)
        message = SimpleNamespace(content=script[0], tool_calls=None)
        return SimpleNamespace(choices=[SimpleNamespace(message=message, finish_reason="stop")],
                               usage=usage)


def use_provider() -> None:
    litellm = get_litellm()
    if PROVIDER == "priced":
        litellm.register_model({"scripted/bench": {
            "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
            "litellm_provider": "scripted", "mode": "chat"}})
    elif PROVIDER == "direct":
        litellm_setup._litellm = _DirectLitellm()  # type: ignore[assignment]
    elif PROVIDER not in ("litellm", "server"):
        raise SystemExit(f"BENCH_PROVIDER must be litellm, priced, direct or server, "
                         f"not {PROVIDER!r}")


def start_server() -> subprocess.Popen[str] | None:
    """The stub server of `peer_batch.py` in its own process (server provider only)."""
    if not SERVER:
        return None
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-dummy")
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("peer_batch.py")),
                               "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "BENCH_DELAY_MS": str(DELAY * 1000)})
    assert server.stdout is not None
    _API_BASE.append(f"http://127.0.0.1:{int(server.stdout.readline())}/v1")
    return server


def main() -> None:
    use_provider()
    server = start_server()
    ideal = RUNS * 2 * ROUNDS * DELAY / CONCURRENCY
    with tempfile.TemporaryDirectory() as tmp, _stopping(server):
        asyncio.run(warm_up(Path(tmp) / "warm"))
        profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
        if profiler:
            profiler.enable()
        elapsed, cpu, turns = batch(Path(tmp) / "batch")
        if profiler:
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats(os.environ.get("BENCH_SORT", "tottime"))
            stats.print_stats(int(os.environ.get("BENCH_TOP", "30")))
    per = max(1, turns)
    load = os.getloadavg()
    model = f" model={MODEL}" if SERVER else ""
    print(f"provider={PROVIDER}{model} runs={RUNS} rounds={ROUNDS} concurrency={CONCURRENCY} "
          f"delay_ms={DELAY * 1000:g} workers={WORKERS or 'default'} messages={turns} "
          f"load={load[0]:.2f},{load[1]:.2f}")
    print(f"ideal_s={ideal:.2f} actual_s={elapsed:.2f} messages_per_s={turns / elapsed:.0f} "
          f"cpu_s={cpu:.2f} cpu_ms_per_message={1000 * cpu / per:.3f} "
          f"(budget for efficiency 0.8: {1000 * ideal / 0.8 / per:.3f})")
    print(f"cpu_ms_per_call={1000 * cpu / per:.3f} (budget 1.5; "
          f"{'this process' if WORKERS == 1 else 'all processes'})")
    print(f"efficiency={ideal / elapsed:.3f}")


@contextlib.contextmanager
def _stopping(server: subprocess.Popen[str] | None) -> Iterator[None]:
    try:
        yield
    finally:
        if server is not None and server.stdin is not None:
            server.stdin.close()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
