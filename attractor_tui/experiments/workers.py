"""One batch over several processes: each worker has its own event loop and share of the runs.

litellm costs a few milliseconds of CPU per call, all of it under one GIL, so
one process tops out at a few hundred calls a second whatever the server
could take. Workers split the runs that still need work (round robin, so
resumed and new runs spread evenly) and the concurrency; they write their own
run files into the same folder, so a rerun resumes exactly as with one
process. The parent plans, owns `batch.json`, and sums the workers' progress
into one bar. Ctrl-C (or SIGTERM) reaches every worker once: each records its
runs as interrupted and exits; the parent waits for them, then says so.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import queue as queue_module
import signal
import time
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from attractor_tui.experiments.batch import (
    MANIFEST,
    BatchProgress,
    BatchResult,
    BatchSpec,
    RunResult,
    Terminated,
    _config_source,
    _inspect,
    _Manifest,
    run_batch,
    run_file,
)
from attractor_tui.experiments.costing import Budget
from attractor_tui.sessions.runner import turns_left

IN_PROCESS_ONLY = ("embedded/",)
"""Models every worker would load again (llama.cpp weights in memory): one worker only."""
START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
"""Forked workers inherit the imported litellm (seconds of CPU each) instead of importing it
again; the parent forks before it runs any event loop, so no loop or task is inherited."""
SHUTDOWN_GRACE = 60.0
"""Seconds the parent waits for interrupted workers to write their end lines."""


PER_WORKER = 16
"""Conversations in flight that one process handles before it is CPU-bound: litellm
takes about 5 ms of CPU per call, and a round's replies arrive together, so 16
replies queue for ~80 ms behind one another; more are worth a second process."""


def default_workers(pending: int, concurrency: int, models: set[str]) -> int:
    """`--workers auto`: one process until the concurrency could keep it CPU-bound, then
    one per `PER_WORKER` conversations in flight, at most one per core and at least two
    runs each; one when a model runs in-process (each worker would load it)."""
    if any(m.startswith(IN_PROCESS_ONLY) for m in models):
        return 1
    return max(1, min(os.cpu_count() or 1, pending // 2, concurrency // PER_WORKER))


def split(items: list[int], parts: int) -> list[list[int]]:
    """`items` dealt round robin into `parts` non-empty groups (fewer if too few items)."""
    parts = max(1, min(parts, len(items)))
    return [items[n::parts] for n in range(parts)]


def run_parallel(spec: BatchSpec, workers: int | None,
                 progress: Callable[[BatchProgress], None] | None = None) -> BatchResult | None:
    """Run the batch over `workers` processes (None: `default_workers`, `--workers auto`).

    Returns None when one process is the better choice (the caller then runs the
    batch in its own loop). Raises KeyboardInterrupt or `Terminated` after the
    workers have stopped cleanly.
    """
    spec.check()
    make_config = _config_source(spec)  # models checked before the folder is made
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = [RunResult(index=i, path=run_file(out, i, spec.runs)) for i in range(spec.runs)]
    manifest = _Manifest(out / MANIFEST, spec, runs)
    manifest.check()
    plans = [_inspect(r.path, r) for r in runs]
    work = [p for p in plans if p.action in ("new", "resume")]
    models: set[str] = set()
    planned = 0
    for plan in work:
        config = plan.log.config if plan.log is not None else make_config(plan.result.index)
        models.update((config.a.model, config.b.model))
        planned += turns_left(config, plan.result.turns) or 0
    count = workers if workers is not None else default_workers(len(work), spec.concurrency,
                                                                 models)
    if workers is None and spec.router:  # each worker's Router would count rpm/tpm alone
        count = 1
    groups = split([p.result.index for p in work], count)
    if len(groups) <= 1:
        return None
    frozen = False
    if START_METHOD == "fork":
        from attractor_tui.backends.litellm_setup import get_litellm

        get_litellm()  # once, here, for every worker
        # frozen before the fork: the workers' collections then skip litellm's heap
        # instead of touching (and so copying) every page of it
        gc.collect()
        gc.freeze()
        frozen = True
    base = BatchProgress(total=spec.runs, turns_planned=planned)
    for plan in plans:
        if plan.action in ("skip", "broken"):
            base.finished += 1
            base.skipped += plan.action == "skip"
            base.failed += plan.action == "broken"
    try:
        return _Parent(spec, runs, manifest, groups, base, progress).run()
    finally:
        if frozen:
            gc.unfreeze()


class _Parent:
    """Starts the workers, relays their news to the bar and the manifest, stops them."""

    def __init__(self, spec: BatchSpec, runs: list[RunResult], manifest: _Manifest,
                 groups: list[list[int]], base: BatchProgress,
                 progress: Callable[[BatchProgress], None] | None) -> None:
        self.spec, self.runs, self.manifest, self.groups = spec, runs, manifest, groups
        self.base, self.progress = base, progress
        self.by_index = {r.index: r for r in runs}
        self.latest: dict[int, BatchProgress] = {}
        self.told = False
        """True once the workers were told the batch reached `--max-cost`."""
        self.t0 = time.monotonic()
        context: Any = multiprocessing.get_context(START_METHOD)
        self.queue: Any = context.Queue()
        self.spent: Any = context.Value("d", 0.0) if spec.max_cost is not None else None
        """What all workers have spent, each adding its turns (see `Budget.shared`)."""
        shares = split(list(range(max(spec.concurrency, len(groups)))), len(groups))
        self.procs = [
            context.Process(target=worker_main, name=f"batch-worker-{n}", daemon=False,
                            args=(replace(spec, concurrency=len(shares[n])), group, self.queue, n,
                                  self.spent))
            for n, group in enumerate(groups)
        ]

    def run(self) -> BatchResult:
        previous = signal.getsignal(signal.SIGTERM)

        def on_term(signum: int, frame: object) -> None:
            raise Terminated

        stopping: BaseException | None = None
        with contextlib.suppress(ValueError):  # not the main thread: no handler
            signal.signal(signal.SIGTERM, on_term)
        try:
            self.manifest.save(force=True)
            self.report()
            for proc in self.procs:
                proc.start()
            try:
                self.pump(until=None)
            except (KeyboardInterrupt, Terminated) as exc:
                stopping = exc
                self.stop(signal.SIGINT if isinstance(exc, KeyboardInterrupt)
                          else signal.SIGTERM)
            else:
                self.note_lost_workers()
        finally:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, previous)
            for run in self.runs:
                if run.status in ("running", "pending"):
                    run.status = "interrupted"
            self.manifest.save(force=True, finished=True)
            self.report()
        if stopping is not None:
            raise stopping
        return BatchResult(spec=self.spec, runs=self.runs, elapsed=time.monotonic() - self.t0,
                           manifest=self.manifest.path)

    def pump(self, until: float | None) -> None:
        """Relay messages until every worker has exited (or the `until` deadline)."""
        while True:
            alive = any(p.is_alive() for p in self.procs)
            try:
                message = self.queue.get(timeout=0.1)
            except queue_module.Empty:
                if not alive:
                    return
                if until is not None and time.monotonic() > until:
                    return
                continue
            self.handle(message)

    def handle(self, message: tuple[str, int, Any]) -> None:
        kind, worker, payload = message
        if kind == "progress":
            self.latest[worker] = payload
        elif kind == "run":
            target = self.by_index[payload.index]
            for f in fields(RunResult):
                if f.name != "path":
                    setattr(target, f.name, getattr(payload, f.name))
            self.manifest.save()
        self.report()

    def note_lost_workers(self) -> None:
        """Runs of a worker that died (killed, out of memory) are failed, with the reason."""
        for proc, group in zip(self.procs, self.groups, strict=True):
            proc.join(timeout=5)
            if proc.exitcode in (0, None):
                continue
            for index in group:
                run = self.by_index[index]
                if run.status in ("pending", "running"):
                    run.status = "failed"
                    run.error = (f"its worker process ended with code {proc.exitcode}; "
                                 "rerun to resume it")

    def stop(self, signum: int) -> None:
        """Pass the signal on once, wait for the workers' clean exits, then force."""
        for proc in self.procs:
            if proc.is_alive() and proc.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signum)
        while True:  # a second Ctrl-C here must not cut the workers' end lines short
            try:
                self.pump(until=time.monotonic() + SHUTDOWN_GRACE)
                break
            except (KeyboardInterrupt, Terminated):
                continue
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()
            proc.join(timeout=5)

    def report(self) -> None:
        total = replace(self.base, elapsed=time.monotonic() - self.t0)
        for p in self.latest.values():
            total.finished += p.finished
            total.failed += p.failed
            total.running += p.running
            total.turns += p.turns
            total.errors += p.errors
            total.retries += p.retries
            total.cost += p.cost
        if len(self.latest) == len(self.procs):  # each worker's plan, shrunk by early ends
            total.turns_planned = sum(p.turns_planned for p in self.latest.values())
        cap = self.spec.max_cost
        if cap is not None and total.cost >= cap and not self.told:
            self.told = True  # together the workers spent the cap: no worker starts a turn
            for proc in self.procs:
                if proc.is_alive() and proc.pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(proc.pid, signal.SIGUSR1)
        if self.progress is not None:
            self.progress(total)


# ------------------------------------------------------------------ worker


def worker_main(spec: BatchSpec, indices: list[int], queue: Any, number: int,
                spent: Any = None) -> None:
    """A worker process: run `indices` of the batch in a fresh event loop."""
    import asyncio

    asyncio.run(_work(spec, indices, queue, number, spent))


async def _work(spec: BatchSpec, indices: list[int], queue: Any, number: int,
                spent: Any = None) -> None:
    import asyncio

    task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if task is not None and not task.cancelling():  # the same signal may come twice
            task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)
    budget = Budget(spec.max_cost, shared=spent) if spec.max_cost is not None else None
    if budget is not None:
        loop.add_signal_handler(signal.SIGUSR1, lambda: setattr(budget, "told", True))
    latest: list[BatchProgress] = []
    latest_cost: list[float] = []
    last = 0.0

    def progress(p: BatchProgress) -> None:
        nonlocal last
        latest[:] = [p]
        now = time.monotonic()
        spent = spec.max_cost is not None and (not latest_cost or p.cost != latest_cost[0])
        latest_cost[:] = [p.cost]
        if now - last >= 0.1 or spent:  # news of spending goes at once: the cap is global
            last = now
            queue.put(("progress", number, p))

    def on_run(result: RunResult) -> None:
        queue.put(("run", number, result))

    try:
        await run_batch(spec, progress=progress, indices=indices, on_run=on_run, budget=budget)
    except asyncio.CancelledError:
        pass
    finally:
        if latest:
            queue.put(("progress", number, latest[0]))
