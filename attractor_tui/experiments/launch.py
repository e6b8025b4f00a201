"""`batch` as a command: the progress bar, one process or several, the exit code.

Above both `batch` (the runs in one event loop) and `workers` (the runs over
several processes), so each of those imports only what lies below it and
neither imports the other back (the `acyclic_siblings` contract in `make lint`).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attractor_tui.core.text import safe_text
from attractor_tui.experiments.batch import (
    BatchError,
    BatchProgress,
    BatchResult,
    BatchSpec,
    Terminated,
    _print_estimate,
    _print_summary,
    _ProgressBar,
    estimate_batch,
    run_batch,
)
from attractor_tui.experiments.workers import PER_WORKER, run_parallel

if TYPE_CHECKING:
    from rich.console import Console


def batch_command(
    scenario: str,
    runs: int,
    turns: int | None,
    model_a: str | None,
    model_b: str | None,
    concurrency: int,
    out: Path,
    *,
    api_base: str | None = None,
    overrides: dict[str, Any] | None = None,
    run_retries: int = 3,
    timeout: float | None = None,
    num_retries: int | None = None,
    workers: int | None = None,
    max_cost: float | None = None,
    dry_run: bool = False,
    router: Path | None = None,
    console: Console | None = None,
) -> int:
    """`attractor-tui batch`: run with a progress bar on stderr; returns an exit code.

    0 when every run finished, 1 when some ended in an error, 2 when the batch
    could not start, 130 when interrupted by Ctrl-C and 143 by SIGTERM (re-run
    the same command to resume). `workers`: processes (None: as the machine and
    the run count suggest: `--workers auto`, see `workers.default_workers`). `dry_run` prints the
    calls, tokens and price the batch would take at most, and runs nothing.
    """
    from rich.console import Console
    from rich.text import Text

    console = console or Console(stderr=True, highlight=False)
    spec = BatchSpec(out=Path(out), runs=runs, scenario=scenario, turns=turns, model_a=model_a,
                     model_b=model_b, api_base=api_base, concurrency=concurrency,
                     overrides=dict(overrides or {}),
                     run_retries=run_retries, timeout=timeout, num_retries=num_retries,
                     max_cost=max_cost, router=str(router) if router else None)
    if dry_run:
        try:
            _print_estimate(Console(highlight=False), estimate_batch(spec))
        except BatchError as exc:
            console.print(Text(safe_text(f"attractor-tui: {exc}")), soft_wrap=True)
            return 2
        return 0
    return run_with_bar(spec, workers=workers, console=console)[0]


def run_with_bar(
    spec: BatchSpec, *, workers: int | None = None, console: Console | None = None,
    before: Callable[[BatchSpec], None] | None = None,
) -> tuple[int, BatchResult | None]:
    """Run `spec` with the progress bar and the closing summary: (exit code, result).

    `before` runs first inside the same error handling (it may raise `BatchError`),
    for commands that prepare the folder (`branch`). Exit codes as `batch_command`.
    """
    from rich.console import Console
    from rich.text import Text

    console = console or Console(stderr=True, highlight=False)
    if workers is not None and workers < 1:
        console.print(Text(f"attractor-tui: --workers must be 1 or more (got {workers})"))
        return 2, None
    bar = _ProgressBar(console, spec.runs)
    try:
        if before is not None:
            before(spec)
        with bar:
            result = _run(spec, workers, bar.update)
    except BatchError as exc:
        console.print(Text(safe_text(f"attractor-tui: {exc}")), soft_wrap=True)
        return 2, None
    except (KeyboardInterrupt, asyncio.CancelledError, Terminated) as exc:
        how = "interrupted" if isinstance(exc, KeyboardInterrupt) else "terminated"
        console.print(Text(safe_text(
            f"{how}; run the same command again to resume the batch in {spec.out}")),
            soft_wrap=True)
        return (130 if isinstance(exc, KeyboardInterrupt) else 128 + signal.SIGTERM), None
    _print_summary(console, result)
    return (0 if result.ok else 1), result


def _run(spec: BatchSpec, workers: int | None,
         progress: Callable[[BatchProgress], None]) -> BatchResult:
    """The batch in worker processes when more than one pays, else in this process."""
    if workers is None and spec.concurrency < 2 * PER_WORKER:  # auto: one, known at once
        workers = 1
    if workers != 1:
        result = run_parallel(spec, workers, progress)
        if result is not None:
            return result
    return asyncio.run(_terminable(run_batch(spec, progress=progress)))


async def _terminable(work: Coroutine[Any, Any, BatchResult]) -> BatchResult:
    """`work`, stopped by SIGTERM as Ctrl-C stops it: the runs end, recorded as interrupted.

    Python's default for SIGTERM is to die at once, leaving `batch.json` saying
    `running` and the running files without an end.
    """
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def terminate() -> None:
        if task is not None and not task.cancelling():  # a second signal must not cut cleanup
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGTERM, terminate)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        return await work
    try:
        return await work
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
