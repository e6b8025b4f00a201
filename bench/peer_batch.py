"""Our `batch` command against the plain loop simple harnesses use, on one stub server.

A stub OpenAI-compatible server (its own process, on 127.0.0.1) takes DELAY
per reply: 8 streamed chunks DELAY/8 apart when asked to stream, else one JSON
body after DELAY. Against it, per config:

- ours: `attractor-tui batch` as a whole process (imports included), once per
  model string (`openai/stub`, which takes the lean path, and `hosted_vllm/stub`);
- baseline: what a throwaway script does (its own process too): a thread pool
  of C, blocking HTTP through `requests` (urllib when absent), no streaming,
  two histories per conversation.

Configs (BENCH_CONFIGS, comma-separated; default all three):

- `current`: 50 conversations x 15 rounds (30 messages), 50 at once, 200 ms a
  message: ideal `50 * 30 * 0.2 / 50` = 6.0 s (BENCH_RUNS, BENCH_ROUNDS,
  BENCH_CONCURRENCY, BENCH_DELAY_MS change this one);
- `study`: study scale, 200 x 15 rounds, 100 at once, 1 s a message: ideal 60 s;
- `cpu`: CPU-bound, 400 x 5 rounds (10 messages), 200 at once, 100 ms: ideal 2 s.

Every recorded turn is counted exactly once (asserted): ours from the session
files (each run must hold exactly its 2 x rounds turns, no index twice), the
baseline from what it returns, and both against the requests the server
answered. One line per config and model, then the last line: every
`CONFIG/MODEL=<ours over baseline>` (targets: study <= 1.06, cpu <= 1.2).

Knobs: BENCH_CONFIGS, BENCH_MODELS (default `openai/stub,hosted_vllm/stub`;
BENCH_MODEL, one model, still works), BENCH_ARGS (extra `batch` arguments,
e.g. `--workers 2`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "50"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "50"))
DELAY = float(os.environ.get("BENCH_DELAY_MS", "200")) / 1000
MODELS = os.environ.get("BENCH_MODELS", os.environ.get("BENCH_MODEL",
                                                     "openai/stub,hosted_vllm/stub")).split(",")
CHUNKS = 8
REPLY = ("That is a lovely thought, and it makes me wonder what else we might notice "
         "if we keep talking about it for a while longer.")


# ------------------------------------------------------------------ server


class _Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.streamed = 0
        self.first: float | None = None
        self.last = 0.0


async def _serve() -> None:
    """The stub server: prints its port, serves until stdin closes."""
    stats = _Stats()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = {k.strip().lower(): v.strip()
                           for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if method == "GET" and path.endswith(("/stats", "/reset")):
                    data = json.dumps(stats.__dict__).encode()
                    if path.endswith("/reset"):
                        stats.__init__()  # type: ignore[misc]
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
                    await writer.drain()
                    continue
                request = json.loads(body or b"{}")
                stats.requests += 1
                stats.first = stats.first or time.monotonic()
                await _answer(request, writer, stats)
                stats.last = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # the bench closes stdin to stop us
    server.close()


async def _answer(request: dict[str, Any], writer: asyncio.StreamWriter, stats: _Stats) -> None:
    prompt = sum(len(str(m.get("content") or "")) for m in request.get("messages", [])) // 4
    usage = {"prompt_tokens": prompt, "completion_tokens": len(REPLY) // 4,
             "total_tokens": prompt + len(REPLY) // 4}
    base = {"id": "chatcmpl-stub", "created": int(time.time()), "model": request.get("model")}
    if not request.get("stream"):
        await asyncio.sleep(DELAY)
        data = json.dumps({**base, "object": "chat.completion", "usage": usage, "choices": [
            {"index": 0, "finish_reason": "stop",
             "message": {"role": "assistant", "content": REPLY}}]}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
        await writer.drain()
        return
    stats.streamed += 1
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    step = len(REPLY) // CHUNKS + 1
    pieces = [REPLY[i:i + step] for i in range(0, len(REPLY), step)]
    for n, piece in enumerate(pieces):
        await asyncio.sleep(DELAY / CHUNKS)
        last = n == len(pieces) - 1
        chunk = {**base, "object": "chat.completion.chunk", "choices": [
            {"index": 0, "delta": {"content": piece}, "finish_reason": "stop" if last else None}]}
        events = [chunk]
        if last and (request.get("stream_options") or {}).get("include_usage"):
            events.append({**base, "object": "chat.completion.chunk", "choices": [],
                           "usage": usage})
        data = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
        if last:
            data += b"data: [DONE]\n\n"
        writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()


def _stats(port: int, reset: bool = False) -> dict[str, Any]:
    """The server's counts since the last reset (`reset`: and start counting afresh)."""
    import urllib.request

    url = f"http://127.0.0.1:{port}/v1/{'reset' if reset else 'stats'}"
    with urllib.request.urlopen(url) as reply:
        return dict(json.load(reply))


# ---------------------------------------------------------------- baseline


def _baseline(port: int) -> None:
    """The plain loop, run as its own process; prints its turn count."""
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    try:
        import requests

        def post(session: Any, body: dict[str, Any]) -> str:
            reply = session.post(url, json=body, timeout=60)
            reply.raise_for_status()
            return str(reply.json()["choices"][0]["message"]["content"])

        make_session: Any = requests.Session
    except ImportError:  # no requests: urllib, one connection per call
        import urllib.request

        def post(session: Any, body: dict[str, Any]) -> str:
            request = urllib.request.Request(url, json.dumps(body).encode(),
                                             {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as reply:
                return str(json.load(reply)["choices"][0]["message"]["content"])

        make_session = object

    def conversation(index: int) -> int:
        session = make_session()
        system = {"role": "system", "content": "You are a helpful assistant."}
        histories: dict[str, list[dict[str, str]]] = {"A": [system], "B": [system]}
        last, turns = "Hello there.", 0
        for _ in range(ROUNDS):
            for me in ("A", "B"):
                histories[me].append({"role": "user", "content": last})
                last = post(session, {"model": "stub", "messages": histories[me],
                                      "max_tokens": 512})
                histories[me].append({"role": "assistant", "content": last})
                turns += 1
        return turns

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        print(sum(pool.map(conversation, range(RUNS))), flush=True)


# ------------------------------------------------------------------ configs


@dataclass(frozen=True)
class Config:
    name: str
    runs: int
    rounds: int
    concurrency: int
    delay: float

    @property
    def planned(self) -> int:
        return self.runs * 2 * self.rounds

    @property
    def ideal(self) -> float:
        return self.planned * self.delay / self.concurrency

    @property
    def env(self) -> dict[str, str]:
        """What the server and the baseline processes read (the knobs above)."""
        return {**os.environ, "BENCH_RUNS": str(self.runs), "BENCH_ROUNDS": str(self.rounds),
                "BENCH_CONCURRENCY": str(self.concurrency),
                "BENCH_DELAY_MS": f"{self.delay * 1000:g}"}


PRESETS = {
    "current": Config("current", RUNS, ROUNDS, CONCURRENCY, DELAY),
    "study": Config("study", 200, 15, 100, 1.0),
    "cpu": Config("cpu", 400, 5, 200, 0.1),
}
CONFIGS = os.environ.get("BENCH_CONFIGS", "current,study,cpu").split(",")


# ------------------------------------------------------------------- ours


def _ours(config: Config, model: str, port: int, out: Path) -> tuple[float, int]:
    command = [str(ROOT / ".venv/bin/attractor-tui"), "batch", "--runs", str(config.runs),
               "--turns", str(config.rounds), "--concurrency", str(config.concurrency),
               "--model", model, "--api-base", f"http://127.0.0.1:{port}/v1",
               "--out", str(out), *shlex.split(os.environ.get("BENCH_ARGS", ""))]
    env = {**os.environ, "OPENAI_API_KEY": "sk-bench-dummy", "HOSTED_VLLM_API_KEY": "x"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"batch failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, _count_files(config, out)


def _count_files(config: Config, out: Path) -> int:
    """Completed turns in the run files, refusing any run that is short, long or doubled."""
    sys.path.insert(0, str(ROOT))
    from attractor_tui.sessions.store import load_session

    files = sorted(out.glob("run-*.jsonl"))
    if len(files) != config.runs:
        raise SystemExit(f"expected {config.runs} run files, found {len(files)}")
    total = 0
    for path in files:
        turns = [t for t in load_session(path).turns if not t.interrupted]
        indices = [t.index for t in turns]
        if len(turns) != 2 * config.rounds or len(set(indices)) != len(indices):
            raise SystemExit(f"{path.name}: {len(turns)} turns, indices {indices}")
        total += len(turns)
    return total


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True, env=env)
    return time.perf_counter() - start, done.stdout.strip()


def _check(name: str, turns: int, requests: int, planned: int) -> None:
    """Every turn counted exactly once: recorded, served and planned all agree."""
    if turns != planned or requests != planned:
        raise SystemExit(f"{name}: {turns} turns recorded, {requests} requests served, "
                         f"{planned} planned")


def run_config(config: Config) -> list[tuple[str, float]]:
    """The baseline once and ours per model against one server; prints and returns
    (model, ours over baseline) per model."""
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=config.env)
    ratios: list[tuple[str, float]] = []
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        base_wall, base_out = _timed([sys.executable, __file__, "--baseline", str(port)],
                                     config.env)
        after = _stats(port, reset=True)
        _check("baseline", int(base_out.splitlines()[-1]), after["requests"], config.planned)
        for model in MODELS:
            with tempfile.TemporaryDirectory() as tmp:
                wall, turns = _ours(config, model, port, Path(tmp) / "batch")
            after = _stats(port, reset=True)
            _check(f"ours ({model})", turns, after["requests"], config.planned)
            load = os.getloadavg()
            print(f"config={config.name} model={model} runs={config.runs} "
                  f"rounds={config.rounds} concurrency={config.concurrency} "
                  f"delay_ms={config.delay * 1000:g} turns={config.planned} (each counted "
                  f"once; streamed {after['streamed']}) ideal_s={config.ideal:.2f} "
                  f"ours_s={wall:.2f} baseline_s={base_wall:.2f} "
                  f"ours_active_s={after['last'] - after['first']:.2f} "
                  f"ours_over_baseline={wall / base_wall:.2f} ours_eff={config.ideal / wall:.2f} "
                  f"baseline_eff={config.ideal / base_wall:.2f} "
                  f"load={load[0]:.2f},{load[1]:.2f}", flush=True)
            ratios.append((model, wall / base_wall))
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=10)
    return ratios


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(_serve())
        return
    if sys.argv[1:2] == ["--baseline"]:
        _baseline(int(sys.argv[2]))
        return
    unknown = [name for name in CONFIGS if name not in PRESETS]
    if unknown:
        raise SystemExit(f"BENCH_CONFIGS: unknown {unknown}; choose from {list(PRESETS)}")
    ratios = [(name, model, ratio) for name in CONFIGS
              for model, ratio in run_config(PRESETS[name])]
    print(" ".join(f"{name}/{model.split('/')[0]}={ratio:.2f}" for name, model, ratio in ratios))


if __name__ == "__main__":
    main()
