"""What a batch will cost before it runs (`batch --dry-run`), and the spend cap (`--max-cost`).

The estimate is an upper bound built from the plan alone: every reply is
assumed to use its side's `max_tokens`, every call resends the side's whole
history (system prompt, seed, every earlier turn), capped at the model's
window when the context policy trims. Prices come from litellm's offline
price table; a model it has no price for is shown as unpriced, not as free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attractor_tui.core.config import SessionConfig, Side
from attractor_tui.core.context import CHARS_PER_TOKEN, MESSAGE_OVERHEAD
from attractor_tui.core.events import Turn

BATCH_BUDGET = "batch-budget"
"""End reason of a run stopped by `--max-cost`; such a run is resumed by a rerun."""


@dataclass
class ModelEstimate:
    """One model's share of a batch: calls and tokens at most, and their price."""

    model: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = 0.0
    """Dollars at most; None when litellm has no price for the model."""


@dataclass
class Estimate:
    runs: int
    """Runs that still need work."""
    finished: int
    """Runs already finished (nothing to spend)."""
    unlimited: int = 0
    """Runs without a turn limit: no upper bound exists for them."""
    models: dict[str, ModelEstimate] = field(default_factory=dict)

    @property
    def calls(self) -> int:
        return sum(m.calls for m in self.models.values())

    @property
    def cost(self) -> float | None:
        costs = [m.cost for m in self.models.values()]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)


def add_run(estimate: Estimate, config: SessionConfig, done: int) -> None:
    """Add the calls run `config` still makes after `done` finished turns."""
    if config.turns is None:
        estimate.unlimited += 1
        return
    for slot in range(done, 2 * config.turns):
        side: Side = "A" if slot % 2 == 0 else "B"
        cfg = config.side(side)
        row = estimate.models.setdefault(cfg.model, ModelEstimate(cfg.model))
        row.calls += 1
        row.prompt_tokens += _prompt_tokens(config, side, slot)
        row.completion_tokens += cfg.max_tokens


def _prompt_tokens(config: SessionConfig, side: Side, slot: int) -> int:
    """What `side` is sent at `slot` when every earlier reply used its max_tokens."""
    cfg = config.side(side)
    other = config.side("B" if side == "A" else "A")
    fixed = len(cfg.system) // CHARS_PER_TOKEN + MESSAGE_OVERHEAD
    seed = len(config.seed or "") // CHARS_PER_TOKEN + MESSAGE_OVERHEAD if side == "A" else 0
    mine, theirs = slot // 2, slot - slot // 2
    history = (mine * cfg.max_tokens + theirs * other.max_tokens
               + slot * MESSAGE_OVERHEAD)
    window = cfg.window() or _model_window(cfg.model)
    if cfg.context != "none" and window is not None:
        history = min(history, max(0, window - cfg.max_tokens - 64 - fixed - seed))
    return fixed + seed + history


def _model_window(model: str) -> int | None:
    from attractor_tui.backends.litellm_setup import get_litellm

    try:
        info = get_litellm().get_model_info(model)
    except Exception:  # not in the table: no known window
        return None
    window = info.get("max_input_tokens") or info.get("max_tokens")
    return int(window) if window else None


def price(estimate: Estimate) -> None:
    """Fill in each model's price from litellm's table (None where it has none)."""
    from attractor_tui.backends.litellm_setup import get_litellm, unpriced

    litellm = get_litellm()
    for row in estimate.models.values():
        if unpriced(row.model):
            row.cost = None
            continue
        try:
            prompt, completion = litellm.cost_per_token(
                model=row.model, prompt_tokens=row.prompt_tokens,
                completion_tokens=row.completion_tokens)
            row.cost = float(prompt + completion)
        except Exception:
            row.cost = None


def turns_cost(turns: list[Turn]) -> float:
    return sum(t.cost or 0.0 for t in turns)


class BudgetRule:
    """A stop rule shared by every run of a batch: no new turn once `spent` reaches the cap.

    The engine asks its stop rules before each slot, so a turn in flight
    finishes and is recorded; the run ends with `BATCH_BUDGET`, which a rerun
    (with a higher cap) resumes.
    """

    config_key = "max_cost"

    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def add(self, turn: Turn) -> None:
        pass

    def reached(self) -> tuple[str, str] | None:
        if not self.budget.exhausted:
            return None
        return BATCH_BUDGET, f"--max-cost ${self.budget.limit:g} reached"


@dataclass
class Budget:
    """The batch's spend against `--max-cost` (this process's turns, or the parent's word)."""

    limit: float
    spent: float = 0.0
    told: bool = False
    """Set when the parent process says the workers together have spent the cap."""
    shared: Any = None
    """The whole batch's spend, a `multiprocessing.Value("d")` every worker process adds
    its turns to: a worker sees the others' spending at once, not after the parent's
    word comes back (under load that came a turn or two late, and more turns started)."""

    def add(self, cost: float) -> None:
        self.spent += cost
        if self.shared is not None:
            with self.shared.get_lock():
                self.shared.value += cost

    @property
    def exhausted(self) -> bool:
        total = self.shared.value if self.shared is not None else self.spent
        return self.told or total >= self.limit
