"""`batch --dry-run` (cost known up front) and `--max-cost` (spend capped), issue 15 item 5."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from attractor_tui.backends.litellm_setup import get_litellm
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.experiments.batch import (
    BatchSpec,
    _print_summary,
    estimate_batch,
    run_batch,
    run_file,
)
from attractor_tui.experiments.costing import BATCH_BUDGET
from attractor_tui.experiments.launch import batch_command
from attractor_tui.sessions.store import load_session
from tests.support.builders import scripted

PRICED = "openai/gpt-4o-mini"


def priced_configs(index: int) -> SessionConfig:
    """A priced model answered by litellm's own `mock_response` (no network, real cost path)."""
    side = SideConfig(model=PRICED, max_tokens=100, system="Be brief.",
                      params={"mock_response": f"mock reply {index}"})
    return SessionConfig(a=side, b=side.model_copy(deep=True), turns=5)


def priced_spec(out: Path, **kw: object) -> BatchSpec:
    return BatchSpec(out=out, runs=4, scenario=None, configs=priced_configs, name="priced",
                     concurrency=1, engine_backoff=0.0, retry_backoff=0.0, **kw)  # type: ignore[arg-type]


def test_dry_run_counts_calls_tokens_and_price_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    estimate = estimate_batch(priced_spec(out))
    assert not out.exists()
    assert (estimate.runs, estimate.finished, estimate.calls) == (4, 0, 4 * 10)
    row = estimate.models[PRICED]
    assert row.completion_tokens == 40 * 100  # every reply at its max_tokens
    # the history grows by one reply per call, so later calls send more
    assert row.prompt_tokens > 40 * 100
    prompt, completion = get_litellm().cost_per_token(
        model=PRICED, prompt_tokens=row.prompt_tokens, completion_tokens=row.completion_tokens)
    assert row.cost == pytest.approx(prompt + completion) and row.cost > 0


def test_dry_run_of_an_unpriced_model_says_so(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = batch_command("hello-there", runs=3, turns=2, model_a="scripted/echo",
                         model_b="scripted/echo", concurrency=2, out=tmp_path / "d",
                         dry_run=True, console=Console(file=StringIO()))
    printed = capsys.readouterr().out
    assert code == 0 and not (tmp_path / "d").exists()
    assert "12 calls" in printed and "no price in litellm's table" in printed


async def test_dry_run_leaves_out_what_is_done(tmp_path: Path) -> None:
    def short(index: int) -> SessionConfig:
        return SessionConfig(a=scripted(["a"]), b=scripted(["b"]), turns=2)

    spec = BatchSpec(out=tmp_path, runs=3, scenario=None, configs=short, name="short",
                     engine_backoff=0.0)
    await run_batch(spec)
    run_file(tmp_path, 2, 3).unlink()
    estimate = estimate_batch(spec)
    assert (estimate.runs, estimate.finished, estimate.calls) == (1, 2, 4)


async def test_max_cost_stops_new_turns_and_a_rerun_continues(tmp_path: Path) -> None:
    one_turn = sum(get_litellm().cost_per_token(model=PRICED, prompt_tokens=10,
                                                completion_tokens=20))
    cap = 5.5 * one_turn  # mock usage: 10 prompt + 20 completion tokens a call
    result = await run_batch(priced_spec(tmp_path, max_cost=cap))
    assert [r.status for r in result.runs] == ["budget"] * 4
    first = load_session(result.runs[0].path)
    assert first.end is not None and first.end.reason == BATCH_BUDGET
    assert len(first.turns) == 6  # the turn that crossed the cap was recorded, no more
    assert not result.runs[1].path.exists()  # never started
    assert sum(r.cost for r in result.runs) == pytest.approx(6 * one_turn)

    buffer = StringIO()
    _print_summary(Console(file=buffer, width=200), result)
    assert "stopped starting new turns: --max-cost" in buffer.getvalue()

    rerun = await run_batch(priced_spec(tmp_path, max_cost=100.0))
    assert rerun.ok and [r.status for r in rerun.runs] == ["done"] * 4
    assert rerun.runs[0].resumed and rerun.runs[0].new_turns == 4
    assert all(len(load_session(r.path).turns) == 10 for r in rerun.runs)


def test_max_cost_must_be_positive(tmp_path: Path) -> None:
    buffer = StringIO()
    code = batch_command("hello-there", runs=1, turns=1, model_a="scripted/echo",
                         model_b="scripted/echo", concurrency=1, out=tmp_path / "x",
                         max_cost=0, console=Console(file=buffer))
    assert code == 2 and "--max-cost must be more than 0" in buffer.getvalue()


def delayed_priced_configs(index: int) -> SessionConfig:
    side = SideConfig(model=PRICED, max_tokens=100,
                      params={"mock_response": f"mock {index}", "mock_delay": 0.05})
    return SessionConfig(a=side, b=side.model_copy(deep=True), turns=5)


def test_max_cost_holds_across_worker_processes(tmp_path: Path) -> None:
    from attractor_tui.experiments.workers import run_parallel

    one_turn = sum(get_litellm().cost_per_token(model=PRICED, prompt_tokens=10,
                                                completion_tokens=20))
    spec = BatchSpec(out=tmp_path, runs=4, scenario=None, configs=delayed_priced_configs,
                     name="priced", concurrency=2, engine_backoff=0.0, max_cost=7.5 * one_turn)
    result = run_parallel(spec, 2)
    assert result is not None and not result.ok
    spent = sum(r.cost for r in result.runs)
    # the cap is shared: at most the turns already in flight (one per worker) go over it
    assert 7.5 * one_turn <= spent <= 10 * one_turn
    assert result.count("budget") >= 2
    manifest = (tmp_path / "batch.json").read_text()
    assert '"budget"' in manifest


def test_workers_budgets_see_each_others_spending_at_once() -> None:
    import multiprocessing

    from attractor_tui.experiments.costing import Budget

    shared = multiprocessing.get_context("spawn").Value("d", 0.0)
    mine, theirs = Budget(1.0, shared=shared), Budget(1.0, shared=shared)
    mine.add(0.6)
    assert not theirs.exhausted
    theirs.add(0.5)  # together over the cap: both know it, with no word from the parent
    assert mine.exhausted and theirs.exhausted
    assert (mine.spent, theirs.spent) == (0.6, 0.5)
