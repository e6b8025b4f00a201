"""Our `batch` command against the plain loop simple harnesses use, on one stub server.

A stub OpenAI-compatible server (its own process, on 127.0.0.1) takes 200 ms
per reply: 8 streamed chunks 25 ms apart when asked to stream, else one JSON
body after 200 ms. Against it, in the same run:

- ours: `attractor-tui batch` as a whole process (imports included), 50
  conversations x 15 rounds (30 messages each) at concurrency 50;
- baseline: what a throwaway script does (its own process too): a thread pool
  of 50, blocking HTTP through `requests` (urllib when absent), no streaming,
  two histories per conversation.

The ideal is `50 * 30 * 0.2 / 50` = 6.0 s. Every recorded turn is counted
once: ours from the session files (each run must hold exactly its 30 turns,
indices 0..29, no duplicates), the baseline from what it returns, and both
against the requests the server answered.
Last line: `ours_over_baseline=<wall ratio> ours_eff=<ideal/ours> baseline_eff=<ideal/base>`
(targets: ours_over_baseline <= 1.0, ours_eff >= 0.8).

Knobs: BENCH_RUNS (50), BENCH_ROUNDS (15), BENCH_CONCURRENCY (50), BENCH_DELAY_MS
(200), BENCH_MODEL (hosted_vllm/stub; openai/stub takes the openai SDK path),
BENCH_ARGS (extra `batch` arguments, e.g. `--workers 2`).
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "50"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "50"))
DELAY = float(os.environ.get("BENCH_DELAY_MS", "200")) / 1000
MODEL = os.environ.get("BENCH_MODEL", "hosted_vllm/stub")
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


# ------------------------------------------------------------------- ours


def _ours(port: int, out: Path) -> tuple[float, int]:
    command = [str(ROOT / ".venv/bin/attractor-tui"), "batch", "--runs", str(RUNS),
               "--turns", str(ROUNDS), "--concurrency", str(CONCURRENCY), "--model", MODEL,
               "--api-base", f"http://127.0.0.1:{port}/v1", "--out", str(out),
               *shlex.split(os.environ.get("BENCH_ARGS", ""))]
    env = {**os.environ, "OPENAI_API_KEY": "sk-bench-dummy", "HOSTED_VLLM_API_KEY": "x"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"batch failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, _count_files(out)


def _count_files(out: Path) -> int:
    """Completed turns in the run files, refusing any run that is short, long or doubled."""
    sys.path.insert(0, str(ROOT))
    from attractor_tui.sessions.store import load_session

    files = sorted(out.glob("run-*.jsonl"))
    if len(files) != RUNS:
        raise SystemExit(f"expected {RUNS} run files, found {len(files)}")
    total = 0
    for path in files:
        turns = [t for t in load_session(path).turns if not t.interrupted]
        indices = [t.index for t in turns]
        if len(turns) != 2 * ROUNDS or len(set(indices)) != len(indices):
            raise SystemExit(f"{path.name}: {len(turns)} turns, indices {indices}")
        total += len(turns)
    return total


def _timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return time.perf_counter() - start, done.stdout.strip()


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(_serve())
        return
    if sys.argv[1:2] == ["--baseline"]:
        _baseline(int(sys.argv[2]))
        return
    ideal = RUNS * 2 * ROUNDS * DELAY / CONCURRENCY
    planned = RUNS * 2 * ROUNDS
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        base_wall, base_out = _timed([sys.executable, __file__, "--baseline", str(port)])
        base_turns = int(base_out.splitlines()[-1])
        after_base = _stats(port, reset=True)
        with tempfile.TemporaryDirectory() as tmp:
            ours_wall, ours_turns = _ours(port, Path(tmp) / "batch")
        after_ours = _stats(port)
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=10)
    ours_requests, streamed = after_ours["requests"], after_ours["streamed"]
    for name, turns, requests in (("baseline", base_turns, after_base["requests"]),
                                  ("ours", ours_turns, ours_requests)):
        if turns != planned or requests != planned:
            raise SystemExit(f"{name}: {turns} turns recorded, {requests} requests served, "
                             f"{planned} planned")
    load = os.getloadavg()
    print(f"model={MODEL} runs={RUNS} rounds={ROUNDS} concurrency={CONCURRENCY} "
          f"delay_ms={DELAY * 1000:g} turns={planned} (each counted once; ours streamed "
          f"{streamed} of {ours_requests} calls) load={load[0]:.2f},{load[1]:.2f}")
    print(f"ideal_s={ideal:.2f} ours_s={ours_wall:.2f} baseline_s={base_wall:.2f} "
          f"ours_active_s={after_ours['last'] - after_ours['first']:.2f} (first request to "
          f"last reply, without process start and imports)")
    print(f"ours_over_baseline={ours_wall / base_wall:.2f} ours_eff={ideal / ours_wall:.2f} "
          f"baseline_eff={ideal / base_wall:.2f}")


if __name__ == "__main__":
    main()
