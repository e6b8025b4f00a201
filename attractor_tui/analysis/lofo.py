"""Leave-one-family-out: fitting and scoring the end-state model on the labelled data.

Evaluation and fitting only (`bench/fit_classifier.py`,
`bench/analysis_agreement.py`); the classifier reads the committed model and
never imports this. A conversation is predicted by a model fitted without
every conversation that shares one of its model families (a cross-model pair
belongs to both), so each figure says how the labels hold on families nobody
fitted to. `lofo` is generic, so the topic model can be scored the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from attractor_tui.analysis.classify import final_features
from attractor_tui.analysis.decide import decide_features
from attractor_tui.analysis.features import FEATURES
from attractor_tui.analysis.fitted import Model, fit
from attractor_tui.analysis.labelled import Labelled
from attractor_tui.analysis.labels import PRIORITY

STRONG_ACCURACY = 0.95
"""`strong` labels must be right this often (issue 24), out of family."""
UNCERTAIN_ACCURACY = 0.5
"""Below the `uncertain` threshold, out-of-family labels are right at most this often."""


@dataclass(frozen=True)
class Example:
    """One labelled conversation as the end-state model sees it."""

    key: str
    families: frozenset[str]
    x: dict[str, float] | None
    """Final-window features; None for a conversation too short to call."""
    y: str
    ok: frozenset[str]


def examples(rows: Sequence[Labelled]) -> list[Example]:
    return [Example(r.key, r.families, final_features(r.log.turns), r.end_state, r.end_state_ok)
            for r in rows]


T = TypeVar("T")
M = TypeVar("M")
P = TypeVar("P")


def lofo(items: Sequence[T], families: Callable[[T], frozenset[str]],
         fit_fn: Callable[[list[T]], M], predict_fn: Callable[[M, T], P]) -> list[P]:
    """Each item's prediction by a model fitted on the items sharing none of its families
    (one fit per distinct family set), in the order of `items`."""
    models: dict[frozenset[str], M] = {}
    out = []
    for item in items:
        fams = families(item)
        if fams not in models:
            models[fams] = fit_fn([o for o in items if not families(o) & fams])
        out.append(predict_fn(models[fams], item))
    return out


UNANIMOUS_ACCURACY = 0.9
"""The unanimous-signal step must be right this often on the rows it decides."""
UNANIMOUS = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6)
"""Candidate shares for the unanimous-signal step (`decide`), strictest first."""


def unanimous_share(usable: Sequence[Example]) -> float:
    """The lowest candidate share at which "the first label whose signal covers it" is
    right `UNANIMOUS_ACCURACY` of the time on `usable` (1.01: never)."""
    best = 1.01
    for share in UNANIMOUS:
        said = [(first, e) for e in usable if e.x is not None
                for first in [next((lab for lab in PRIORITY
                                    if e.x[f"signal_{lab}"] >= share), None)] if first]
        if said and sum(lab in e.ok for lab, e in said) / len(said) < UNANIMOUS_ACCURACY:
            break
        best = share
    return best


def fit_examples(train: Sequence[Example]) -> Model:
    """The end-state model of `train` (the too-short rows are a rule, not fitted)."""
    usable = [e for e in train if e.x is not None]
    model = fit([e.x for e in usable if e.x is not None], [e.y for e in usable], FEATURES)
    return replace(model, unanimous=unanimous_share(usable))


def predict_example(model: Model, e: Example) -> tuple[str, float]:
    """(label, probability) the way `decide` would label the conversation."""
    if e.x is None:
        return "too_short", 1.0
    d = decide_features(e.x, model)
    return d.label, d.probability


def lofo_end_states(items: Sequence[Example]) -> list[tuple[str, float]]:
    return lofo(items, lambda e: e.families, fit_examples, predict_example)


def thresholds(scored: Sequence[tuple[float, bool]]) -> tuple[float, float]:
    """(strong, uncertain) from out-of-family (probability, right) pairs: `strong` is the
    lowest probability above which labels are right `STRONG_ACCURACY` of the time,
    `uncertain` the highest below which they are right at most `UNCERTAIN_ACCURACY`."""
    ranked = sorted(scored, key=lambda s: -s[0])
    strong, right = 1.01, 0
    for k, (p, ok) in enumerate(ranked, 1):
        right += ok
        if right / k >= STRONG_ACCURACY and (k == len(ranked) or ranked[k][0] < p):
            strong = p
    uncertain, right = 0.0, 0
    for k, (p, ok) in enumerate(reversed(ranked), 1):
        right += ok
        if right / k <= UNCERTAIN_ACCURACY and (k == len(ranked) or ranked[-k - 1][0] > p):
            uncertain = p + 1e-6
    return round(strong, 5), round(min(uncertain, strong), 5)


def fit_committed(items: Sequence[Example]) -> Model:
    """The model to commit: fitted on everything, with confidence thresholds from the
    out-of-family predictions."""
    preds = lofo_end_states(items)
    scored = [(p, label in e.ok) for e, (label, p) in zip(items, preds, strict=True)
              if e.x is not None]
    strong, uncertain = thresholds(scored)
    return replace(fit_examples(items), strong=strong, uncertain=uncertain)
