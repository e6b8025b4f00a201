"""Batch runs: many conversations, headless, with bounded concurrency.

Each run `i` writes `run-000i.jsonl` in the output folder, so the files *are*
the batch state: re-running the same command skips finished runs, resumes
unfinished ones in place (a killed process leaves a file without an end) and
starts missing ones. `batch.json` next to them is a readable manifest (spec,
times, per-run status); it is rewritten as runs progress but never trusted
over the session files.

A run counts as finished when its file ends with a `session_end` whose reason
is not `error` and that is not a cancellation (a batch has no operator, so an
`operator`/`cancelled` end can only come from Ctrl-C). Runs that end in a
transient provider error (rate limit, connection, server, timeout) are resumed
again after a backoff, on top of the engine's own per-call retries.

Concurrency is an `asyncio.Semaphore` around whole runs; the embedded model
decodes up to its `N_SLOTS` calls together (more wait for a slot), remote
providers run truly concurrently.
Nobody watches a batch, so its calls ask for whole answers (`Engine.stream`
off): the same records as streaming at a fraction of litellm's CPU per call.
`workers` spreads the runs over several processes (`--workers`), `costing`
prices a plan (`--dry-run`) and caps the spend (`--max-cost`), `routing`
reads a LiteLLM Router config (`--router`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from attractor_tui.analysis.live import LiveAttractor, stop_rules
from attractor_tui.core.config import SessionConfig
from attractor_tui.core.engine import StopRule
from attractor_tui.core.events import ErrorEvent, Event, SessionEnd, Turn
from attractor_tui.core.secrets import redact_env, strip_url
from attractor_tui.core.text import safe_text
from attractor_tui.experiments.costing import BATCH_BUDGET, Budget, BudgetRule, Estimate, add_run
from attractor_tui.sessions.export import json_text
from attractor_tui.sessions.log import failed_runs_note
from attractor_tui.sessions.runner import completed, open_session, turns_left
from attractor_tui.sessions.store import SessionFileError, SessionLog, load_session

if TYPE_CHECKING:
    from rich.console import Console

MANIFEST = "batch.json"
MANIFEST_VERSION = 1
RETRYABLE_KINDS = frozenset({"rate_limit", "connection", "server", "timeout"})
"""Error kinds after which a failed run is worth resuming (they pass with time)."""

RunStatus = Literal["pending", "running", "done", "skipped", "error", "failed", "interrupted",
                    "budget"]
ConfigFactory = Callable[[int], SessionConfig]


class BatchError(Exception):
    """A batch cannot start (bad spec, folder used by a different batch)."""


class Terminated(Exception):
    """SIGTERM reached a batch whose runs live in worker processes (they were told too)."""


@dataclass
class BatchSpec:
    """What to run. `configs`, when set, replaces the scenario (tests, benches)."""

    out: Path
    runs: int
    scenario: str | None = "hello-there"
    turns: int | None = None
    """Each side speaks this many times (None: the scenario's own setting)."""
    model_a: str | None = None
    model_b: str | None = None
    api_base: str | None = None
    """Server for both sides (vLLM, a LiteLLM proxy, ...): litellm's `api_base`."""
    concurrency: int = 4
    overrides: dict[str, Any] = field(default_factory=dict)
    """Extra `Scenario.session_config` overrides (any SessionConfig field)."""
    run_retries: int = 3
    """Times a run ending in a transient error is resumed before it counts as failed."""
    retry_backoff: float = 10.0
    """Seconds before the first run-level retry; doubles each time, capped at 5 minutes."""
    engine_backoff: float = 1.0
    """Multiplier for the engine's per-call retry waits (tests use 0)."""
    timeout: float | None = None
    """Seconds per model call (`--timeout`); None: each config's own. Like `num_retries`
    it is left out of the fingerprint, so a rerun may change it (and it applies to
    resumed runs too)."""
    num_retries: int | None = None
    """Per-call retries on transient errors (`--retries`); None: each config's own."""
    max_cost: float | None = None
    """Dollars after which no new turn starts (`--max-cost`); a rerun may change it."""
    router: str | None = None
    """A LiteLLM Router config file (`--router`): models name its `model_name`s."""
    stream: bool = False
    """Stream the calls (nobody watches a batch, so by default it asks for whole answers:
    the same text, tool calls, usage and cost, at a fraction of litellm's CPU per call)."""
    configs: ConfigFactory | None = None
    name: str | None = None
    """Label recorded in the manifest when `configs` is used instead of a scenario."""

    def fingerprint(self) -> dict[str, Any]:
        """Settings that must match for a folder to be resumed by this spec."""
        return {
            "scenario": self.scenario if self.configs is None else (self.name or "custom"),
            "turns": self.turns,
            "model_a": self.model_a,
            "model_b": self.model_b,
            "api_base": strip_url(self.api_base) if self.api_base else None,
            "overrides": _jsonable(self.overrides),
            "router": self.router,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.fingerprint(), "runs": self.runs, "concurrency": self.concurrency,
                "run_retries": self.run_retries, "timeout": self.timeout,
                "num_retries": self.num_retries, "max_cost": self.max_cost}

    def check(self) -> None:
        """Refuse settings no run could use."""
        if self.runs < 1:
            raise BatchError("a batch needs at least one run")
        if self.timeout is not None and not self.timeout > 0:
            raise BatchError(f"--timeout must be more than 0 seconds (got {self.timeout:g})")
        if self.num_retries is not None and self.num_retries < 0:
            raise BatchError(f"--retries must be 0 or more (got {self.num_retries})")
        if self.max_cost is not None and not self.max_cost > 0:
            raise BatchError(f"--max-cost must be more than 0 dollars (got {self.max_cost:g})")


@dataclass
class RunResult:
    index: int
    path: Path
    status: RunStatus = "pending"
    end_reason: str | None = None
    turns: int = 0
    """Completed turns in the file."""
    new_turns: int = 0
    """Turns produced by this invocation."""
    attempts: int = 0
    resumed: bool = False
    error: str | None = None
    error_kind: str | None = None
    cost: float = 0.0
    """Dollars this invocation spent on the run."""

    def to_dict(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies the Path, 20x slower for 1,000 runs
        return {
            "index": self.index, "file": self.path.name, "status": self.status,
            "end_reason": self.end_reason, "turns": self.turns, "new_turns": self.new_turns,
            "attempts": self.attempts, "resumed": self.resumed, "error": self.error,
            "error_kind": self.error_kind, "cost": self.cost,
        }


@dataclass
class BatchProgress:
    """A snapshot for progress displays; cheap to build on every turn."""

    total: int
    finished: int = 0
    """Runs done in this invocation plus runs skipped as already finished."""
    skipped: int = 0
    failed: int = 0
    running: int = 0
    turns: int = 0
    """Turns produced by this invocation."""
    turns_planned: int = 0
    """Turns this invocation expects to produce (shrinks when a run ends early)."""
    errors: int = 0
    """Error events seen (including ones the engine retried)."""
    retries: int = 0
    cost: float = 0.0
    """Dollars spent by this invocation (litellm's price table; 0 for unpriced models)."""
    elapsed: float = 0.0

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current turn rate (None until there is a rate)."""
        rate = self.turns_per_s
        if rate <= 0:
            return None
        return max(0.0, self.turns_planned - self.turns) / rate


@dataclass
class BatchResult:
    spec: BatchSpec
    runs: list[RunResult]
    elapsed: float
    manifest: Path

    def count(self, *statuses: str) -> int:
        return sum(1 for r in self.runs if r.status in statuses)

    @property
    def ok(self) -> bool:
        return all(r.status in ("done", "skipped") for r in self.runs)

    @property
    def new_turns(self) -> int:
        return sum(r.new_turns for r in self.runs)


def run_file(out: Path, index: int, runs: int) -> Path:
    """The deterministic file of run `index` (`run-0007.jsonl`)."""
    width = max(4, len(str(max(0, runs - 1))))
    return out / f"run-{index:0{width}d}.jsonl"


def is_finished(log: SessionLog) -> bool:
    """True when a run's file needs no more work (see the module docstring)."""
    end = log.end
    if end is None or end.reason in ("error", BATCH_BUDGET):
        return False
    return not (end.reason == "operator" and end.detail == "cancelled")


# ---------------------------------------------------------------- planning


@dataclass
class _Plan:
    """What to do for one run, decided from its file before anything starts."""

    result: RunResult
    action: Literal["skip", "new", "resume", "broken"]
    log: SessionLog | None = None
    config: SessionConfig | None = None


def _inspect(path: Path, result: RunResult) -> _Plan:
    if not path.exists() or path.stat().st_size == 0:
        return _Plan(result, "new")
    try:
        log = load_session(path)
    except SessionFileError as exc:
        if b"\n" not in path.read_bytes():  # killed before its first line was whole
            return _Plan(result, "new")
        result.status, result.error = "failed", str(exc)
        return _Plan(result, "broken")
    result.turns = completed(log.turns)
    if is_finished(log):
        result.status = "skipped"
        result.end_reason = log.end.reason if log.end else None
        return _Plan(result, "skip", log)
    result.resumed = True
    return _Plan(result, "resume", log)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, sort_keys=True))


# ---------------------------------------------------------------- manifest


class _Manifest:
    """`batch.json`: written atomically, at most a few times a second."""

    def __init__(self, path: Path, spec: BatchSpec, runs: list[RunResult]) -> None:
        self.path = path
        self.spec = spec
        self.runs = runs
        self.started = _now_iso()
        self.history: list[dict[str, Any]] = []
        self._last = 0.0
        if path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = {}
            old = old if isinstance(old, dict) else {}
            self.started = old.get("started", self.started)
            self.history = list(old.get("invocations", []))
        self.history.append({"started": _now_iso(), "finished": None})

    def check(self) -> None:
        """Refuse a folder that holds a batch run with different settings."""
        if not self.path.exists():
            return
        try:
            old = json.loads(self.path.read_text(encoding="utf-8")).get("spec") or {}
        except (OSError, ValueError, AttributeError):
            return
        mine = self.spec.fingerprint()
        diff = [k for k in mine if k in old and old[k] != mine[k]]
        if diff:
            parts = ", ".join(f"{k} {old[k]!r} there vs {mine[k]!r} now" for k in diff)
            raise BatchError(
                f"{self.path.parent} holds a batch with other settings ({parts}); "
                "use another --out folder, or the same settings to resume it"
            )

    def save(self, *, force: bool = False, finished: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.5:
            return
        self._last = now
        if finished:
            self.history[-1]["finished"] = _now_iso()
        data = {
            "format": "attractor-tui-batch",
            "version": MANIFEST_VERSION,
            "spec": self.spec.to_dict(),
            "started": self.started,
            "updated": _now_iso(),
            "invocations": self.history,
            "counts": _counts(self.runs),
            "runs": [r.to_dict() for r in self.runs],
        }
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(redact_env(json_text(data, indent=1)), encoding="utf-8")
        os.replace(tmp, self.path)


def _counts(runs: list[RunResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -------------------------------------------------------------------- run


def _config_source(spec: BatchSpec) -> ConfigFactory:
    """Run index to config; with `--router`, each side's model becomes `router/<name>`.

    The models are checked here, before any run starts (a typo is one line, not
    a folder of failed runs); `--router` names are checked against its file.
    """
    make = _plain_config_source(spec)
    if not spec.router:
        check_models(make(0))
        return make
    from attractor_tui.backends.litellm_setup import ROUTER_PREFIX
    from attractor_tui.experiments.routing import (
        RouterConfigError,
        load_router_config,
        model_names,
    )

    try:
        names = model_names(load_router_config(spec.router)[0])
    except RouterConfigError as exc:
        raise BatchError(str(exc)) from exc
    for model in (spec.model_a, spec.model_b):
        if model and model.removeprefix(ROUTER_PREFIX) not in names:
            raise BatchError(f"model {model!r} is not in {spec.router} (it has "
                             f"{', '.join(names)}); give --model one of those names")

    def routed(index: int) -> SessionConfig:
        config = make(index)
        update: dict[str, Any] = {}
        for key, model in (("a", spec.model_a), ("b", spec.model_b)):
            name = (model or names[0]).removeprefix(ROUTER_PREFIX)
            update[key] = getattr(config, key).model_copy(update={"model": ROUTER_PREFIX + name})
        return config.model_copy(update=update)

    return routed


def check_models(config: SessionConfig) -> None:
    """`BatchError` naming the side whose model cannot be called (`core.model_check`)."""
    from attractor_tui.core.model_check import config_refusal

    problem = config_refusal(config)
    if problem is not None:
        raise BatchError(problem)


def activate_router(spec: BatchSpec) -> None:
    """Build the Router of `spec.router` in this process (the one making the calls)."""
    if not spec.router:
        return
    from attractor_tui.backends.litellm_setup import use_router
    from attractor_tui.experiments.routing import RouterConfigError, load_router_config

    try:
        models, settings = load_router_config(spec.router)
        use_router(models, settings)
    except RouterConfigError as exc:
        raise BatchError(str(exc)) from exc
    except Exception as exc:  # litellm.Router refusing a setting
        raise BatchError(f"{spec.router}: litellm.Router refused it ({exc})") from exc


def _plain_config_source(spec: BatchSpec) -> ConfigFactory:
    if spec.configs is not None:
        factory = spec.configs

        def from_factory(index: int) -> SessionConfig:
            return _apply(factory(index), spec)

        return from_factory
    if not spec.scenario:
        raise BatchError("a batch needs a scenario (or a config factory)")
    from attractor_tui.experiments.scenarios import load_scenario

    try:
        scenario = load_scenario(spec.scenario)
    except Exception as exc:  # missing file, bad TOML, unknown tool pack
        raise BatchError(f"scenario {spec.scenario!r}: {exc}") from exc
    overrides = {**spec.overrides, "model_a": spec.model_a, "model_b": spec.model_b,
                 "turns": spec.turns}

    def from_scenario(index: int) -> SessionConfig:
        return _apply(scenario.session_config(index, overrides), spec)

    try:  # a setting no run can use (a scripted turn past --turns) is one line, now
        from_scenario(0)
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        message = str(errors()[0]["msg"]) if callable(errors) else str(exc)
        raise BatchError(f"scenario {spec.scenario!r}: "
                         f"{message.removeprefix('Value error, ')}") from exc
    return from_scenario


def _apply(config: SessionConfig, spec: BatchSpec) -> SessionConfig:
    """Models and turns given to the batch win over the scenario or factory."""
    update: dict[str, Any] = {}
    for key, model in (("a", spec.model_a), ("b", spec.model_b)):
        side = update.get(key, getattr(config, key))
        fields: dict[str, Any] = {}
        if model:
            fields["model"] = model
        if spec.api_base:
            fields["params"] = {**side.params, "api_base": spec.api_base}
        if fields:
            update[key] = side.model_copy(update=fields)
    if spec.turns is not None:
        update["turns"] = spec.turns
    return _call_settings(config.model_copy(update=update) if update else config, spec)


def _call_settings(config: SessionConfig, spec: BatchSpec) -> SessionConfig:
    """`--timeout` and `--retries` win over what a config or a resumed file says."""
    update: dict[str, Any] = {}
    if spec.timeout is not None:
        update["timeout"] = spec.timeout
    if spec.num_retries is not None:
        update["num_retries"] = spec.num_retries
    return config.model_copy(update=update) if update else config


def _resumable(log: SessionLog, spec: BatchSpec) -> SessionLog:
    """`log` to continue with this invocation's call settings (the file keeps its own)."""
    config = _call_settings(log.config, spec)
    if config is log.config:
        return log
    start = log.start.model_copy(update={"config": config})
    return replace(log, events=[start, *log.events[1:]])


class _NoManifest:
    """A worker's stand-in for `_Manifest`: the parent process owns `batch.json`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, *, force: bool = False, finished: bool = False) -> None:
        pass


class _Runner:
    def __init__(self, spec: BatchSpec, progress: Callable[[BatchProgress], None] | None,
                 total: int, on_run: Callable[[RunResult], None] | None = None,
                 budget: Budget | None = None) -> None:
        self.spec = spec
        self.progress_cb = progress
        self.on_run = on_run
        self.budget = budget
        self.state = BatchProgress(total=total)
        self.t0 = time.monotonic()
        self.sem = asyncio.Semaphore(max(1, spec.concurrency))

    def report(self) -> None:
        if self.progress_cb is not None:
            self.state.elapsed = time.monotonic() - self.t0
            self.progress_cb(replace(self.state))

    def listener(self, result: RunResult) -> Callable[[Event], None]:
        state = self.state

        def listen(event: Event) -> None:
            if isinstance(event, Turn):
                if not event.interrupted:
                    result.new_turns += 1
                    result.turns += 1
                    state.turns += 1
                    state.cost += event.cost or 0.0
                    result.cost += event.cost or 0.0
                    if self.budget is not None:
                        self.budget.add(event.cost or 0.0)
                    self.report()
            elif isinstance(event, ErrorEvent):
                state.errors += 1
                result.error, result.error_kind = event.message, event.kind
                self.report()

        return listen

    async def run(self, plan: _Plan, manifest: _Manifest | _NoManifest) -> None:
        result = plan.result
        async with self.sem:
            if self.budget is not None and self.budget.exhausted:
                result.status = "budget"  # never started: the rerun starts it
                self._planned_off(plan, 0)
                if self.on_run is not None:
                    self.on_run(result)
                return
            result.status = "running"
            self.state.running += 1
            manifest.save()
            try:
                await self._run(plan)
            except asyncio.CancelledError:
                result.status = "interrupted"
                raise
            except Exception as exc:  # a bug or a disk problem: keep the other runs going
                result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                self.state.running -= 1
                status: RunStatus = result.status  # mypy would keep the narrowing from above
                if status in ("done", "error", "failed"):
                    self.state.finished += 1
                    self.state.failed += status != "done"
                manifest.save()
                if self.on_run is not None:
                    self.on_run(result)
                self.report()

    async def _run(self, plan: _Plan) -> None:
        result, spec = plan.result, self.spec
        source: SessionConfig | SessionLog | None = plan.log or plan.config
        assert source is not None and plan.config is not None
        if plan.log is None and result.path.exists():  # empty or a torn first line: start over
            result.path.unlink()
        done = completed(plan.log.turns) if plan.log is not None else 0
        planned = turns_left(plan.config, done)
        while True:
            result.attempts += 1
            result.error = result.error_kind = None
            if isinstance(source, SessionLog):
                source = _resumable(source, spec)
            session = open_session(source, result.path, listeners=[self.listener(result)],
                                   stop_rules=self.stop_rules, on_error="stop",
                                   backoff=spec.engine_backoff, meter=LiveAttractor)
            session.engine.stream = spec.stream
            end: SessionEnd = await session.run()
            result.end_reason = end.reason
            if end.reason == BATCH_BUDGET:
                result.status = "budget"
                break
            if end.reason != "error":
                result.status = "done"
                break
            if result.error_kind not in RETRYABLE_KINDS or result.attempts > spec.run_retries:
                result.status = "error"
                result.error = result.error or end.detail
                break
            self.state.retries += 1
            self.report()
            await asyncio.sleep(min(300.0, spec.retry_backoff * 2 ** (result.attempts - 1)))
            source = load_session(result.path)  # continue from what the file holds
        if planned is not None:  # a run that ended early frees its planned turns for the ETA
            self.state.turns_planned -= max(0, planned - result.new_turns)

    def _planned_off(self, plan: _Plan, made: int) -> None:
        assert plan.config is not None
        planned = turns_left(plan.config, plan.result.turns)
        if planned is not None:
            self.state.turns_planned -= max(0, planned - made)

    def stop_rules(self, config: SessionConfig, prior: Sequence[Turn]) -> list[StopRule]:
        """The analysis rules a config asks for, and the batch's spend cap."""
        rules: list[StopRule] = list(stop_rules(config, prior))
        if self.budget is not None:
            rules.append(BudgetRule(self.budget))
        return rules


async def run_batch(
    spec: BatchSpec, *, progress: Callable[[BatchProgress], None] | None = None,
    indices: Sequence[int] | None = None, on_run: Callable[[RunResult], None] | None = None,
    budget: Budget | None = None,
) -> BatchResult:
    """Run (or finish) a batch; see the module docstring. Never raises for a failed run.

    `indices`: only these runs, as one of several worker processes does (the
    parent then owns `batch.json`, so none is written here); `on_run` hears of
    each run that ends; `budget` is the spend shared with the parent (`--max-cost`).
    """
    spec.check()
    make_config = _config_source(spec)  # models checked before the folder is made
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    chosen = range(spec.runs) if indices is None else indices
    runs = [RunResult(index=i, path=run_file(out, i, spec.runs)) for i in chosen]
    manifest: _Manifest | _NoManifest = _NoManifest(out / MANIFEST)
    if indices is None:
        manifest = _Manifest(out / MANIFEST, spec, runs)
        manifest.check()
    activate_router(spec)
    plans = [_inspect(r.path, r) for r in runs]
    if budget is None and spec.max_cost is not None:
        budget = Budget(spec.max_cost)
    runner = _Runner(spec, progress, len(runs), on_run, budget)
    state = runner.state
    for plan in plans:
        if plan.action in ("skip", "broken"):
            state.finished += 1
            state.skipped += plan.action == "skip"
            state.failed += plan.action == "broken"
            continue
        plan.config = plan.log.config if plan.log is not None else make_config(plan.result.index)
        state.turns_planned += turns_left(plan.config, plan.result.turns) or 0
    manifest.save(force=True)
    runner.report()
    work = [plan for plan in plans if plan.action in ("new", "resume")]
    frozen = _freeze_heap() if work else False
    tasks = [asyncio.ensure_future(runner.run(p, manifest)) for p in work]
    try:
        await asyncio.gather(*tasks)
    finally:
        # gather returns as soon as one run is cancelled, while the others are still
        # writing their end lines: wait for those, and never cancel a run twice (a
        # second cancel would cut its file short of the final events).
        for task in tasks:
            if not task.done() and not task.cancelling():
                task.cancel()
        if tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait(tasks)
        if frozen:
            gc.unfreeze()
        for run in runs:
            if run.status in ("running", "pending"):
                run.status = "interrupted"
        manifest.save(force=True, finished=True)
    runner.report()
    return BatchResult(spec=spec, runs=runs, elapsed=time.monotonic() - runner.t0,
                       manifest=manifest.path)


def estimate_batch(spec: BatchSpec) -> Estimate:
    """`--dry-run`: what the runs still to do would send at most, priced; writes nothing."""
    from attractor_tui.experiments.costing import price

    spec.check()
    out = Path(spec.out)
    make_config = _config_source(spec)
    activate_router(spec)  # prices `router/<name>` as its first deployment
    estimate = Estimate(runs=0, finished=0)
    for i in range(spec.runs):
        result = RunResult(index=i, path=run_file(out, i, spec.runs))
        plan = _inspect(result.path, result)
        if plan.action in ("skip", "broken"):
            estimate.finished += 1
            continue
        estimate.runs += 1
        config = plan.log.config if plan.log is not None else make_config(i)
        add_run(estimate, _call_settings(config, spec), result.turns)
    price(estimate)
    return estimate


def _freeze_heap() -> bool:
    """Move the long-lived heap (litellm's tables, our modules) out of the GC's way.

    A batch allocates a lot of short-lived objects, so full collections run often
    and each one walks every object litellm created at import: measured, that was
    about a fifth of a batch's CPU time. Unfrozen again when the batch ends.
    """
    from attractor_tui.backends.litellm_setup import get_litellm

    get_litellm()
    gc.collect()
    gc.freeze()
    return True


# -------------------------------------------------------------------- CLI


class _ProgressBar:
    """Rich progress that moves per turn: turns done of planned, runs, errors, retries,
    turns/s, ETA (from the turn rate). Without a turn limit it counts runs instead.

    Only on a terminal: written to a file or a pipe it would be one last frame cut
    at 80 columns (the closing summary says the same in full)."""

    def __init__(self, console: Console, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.live = console.is_terminal

        self.progress = Progress(
            TextColumn("[bold]batch[/]"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[unit]} · runs {task.fields[runs]} · "
                       "{task.fields[running]} running · {task.fields[errors]} errors · "
                       "{task.fields[retries]} retries · {task.fields[tps]} turns/s · "
                       "ETA {task.fields[eta]}"),
            console=console, transient=False, refresh_per_second=5,
        )
        self.task = self.progress.add_task("batch", total=total, unit="runs",
                                           runs=f"0/{total}", running=0, tps="-",
                                           errors=0, retries=0, eta="-")
        self._last = 0.0

    def __enter__(self) -> _ProgressBar:
        if self.live:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.progress.stop()

    def update(self, p: BatchProgress) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and p.finished < p.total:
            return  # a turn can end every millisecond; the bar redraws 5 times a second
        self._last = now
        eta = p.eta
        by_turns = p.turns_planned > 0
        self.progress.update(
            self.task, completed=p.turns if by_turns else p.finished,
            total=p.turns_planned if by_turns else p.total,
            unit="turns" if by_turns else "runs", runs=f"{p.finished}/{p.total}",
            running=p.running, tps=f"{p.turns_per_s:.1f}" if p.turns else "-",
            errors=p.errors, retries=p.retries, eta=_duration(eta) if eta is not None else "-",
        )


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _print_estimate(console: Console, estimate: Estimate) -> None:
    """The dry run's table: per model, calls and tokens at most, and the price."""
    from rich.table import Table
    from rich.text import Text

    def dollars(cost: float | None) -> str:
        return "no price in litellm's table" if cost is None else f"${cost:,.4f}"

    table = Table(title=f"batch plan: {estimate.runs} run(s) to do, {estimate.finished} "
                        "finished already", title_justify="left")
    for name in ("model", "calls", "prompt tokens", "completion tokens", "price at most"):
        table.add_column(name, justify="left" if name == "model" else "right")
    for row in estimate.models.values():
        table.add_row(Text(safe_text(row.model)), str(row.calls), f"{row.prompt_tokens:,}",
                      f"{row.completion_tokens:,}", dollars(row.cost))
    console.print(table)
    total = estimate.cost
    console.print(Text(f"{estimate.calls} calls; at most {dollars(total)} in all (every reply "
                       "at its max_tokens, every call resending the history the context "
                       "policy keeps)"))
    if estimate.unlimited:
        console.print(Text(f"{estimate.unlimited} run(s) have no turn limit and are not "
                           "counted: give --turns to bound them", style="yellow"))


def _print_summary(console: Console, result: BatchResult) -> None:
    """The closing lines; provider error texts and paths are made safe to print."""
    from rich.text import Text

    done, skipped = result.count("done"), result.count("skipped")
    errors, failed = result.count("error"), result.count("failed")
    folder = safe_text(str(result.manifest.parent))
    line = (f"{done} run(s) finished, {skipped} already done, {errors} ended in an error, "
            f"{failed} could not run; {result.new_turns} turns in {_duration(result.elapsed)} "
            f"-> {folder}")
    # soft wraps only: in a file or a pipe a sentence must not break at 80 columns
    console.print(Text(line), soft_wrap=True)
    failures = {run.path.name: reason for run in result.runs
                if run.status == "error" and (reason := _failure(run.path)) is not None}
    for run in result.runs:
        if run.status in ("error", "failed") and run.path.name not in failures:
            console.print(Text(safe_text(f"  {run.path.name}: {run.status}: {run.error}"),
                               style="red"), soft_wrap=True)
    if failures:
        names = ", ".join(list(failures)[:3]) + (", …" if len(failures) > 3 else "")
        console.print(Text(safe_text(f"  {failed_runs_note(list(failures.values()))}, no "
                                     f"model turn, in no report: {names}"), style="red"),
                      soft_wrap=True)
    stopped = result.count("budget")
    if stopped:
        spent = sum(r.cost for r in result.runs)
        console.print(Text(
            f"stopped starting new turns: --max-cost ${result.spec.max_cost:g} reached "
            f"(${spent:.4f} spent by this invocation); {stopped} run(s) left unfinished; "
            "rerun with a higher --max-cost to finish them", style="yellow"), soft_wrap=True)
    if not result.ok:
        console.print(Text("re-run the same command to retry the unfinished runs", style="dim"),
                      soft_wrap=True)
    else:
        console.print(Text(f"report: attractor-tui report {folder}", style="dim"),
                      soft_wrap=True)


def _failure(path: Path) -> str | None:
    """Why a run's file is a failed run (`SessionLog.failure`), None if it is not."""
    try:
        return load_session(path).failure
    except (SessionFileError, OSError):
        return None

