"""Fitting and judging the topic model on the hand-labelled conversations (issue 24).

Evaluation code, like `labelled`: the analysis never imports it. `lofo` is
leave-one-family-out: for each model family, the model is fitted without that
family's conversations and predicts them (a cross-model pair is predicted once
per family it belongs to, and counts as the mean of those predictions);
`lofo_topic` is the mean agreement over all conversations. `fit_shipped` is
what `bench/fit_topics.py` writes to the package: the fit on all of them, with
confidence cuts calibrated on the leave-one-family-out predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from attractor_tui.analysis.classify import substantive, turn_signals
from attractor_tui.analysis.labelled import Labelled
from attractor_tui.analysis.metrics import turn_metrics
from attractor_tui.analysis.topic_model import (
    Confidence,
    Example,
    FitSettings,
    ModelTally,
    TopicModel,
    conversation_sums,
    fit_topics,
)
from attractor_tui.sessions.log import SessionLog

STRONG_RIGHT = 0.95
"""`strong` is cut where leave-one-family-out predictions at least that sure were
right this often."""
GRID = tuple(round(0.05 * k, 2) for k in range(21))


def substantive_texts(log: SessionLog) -> list[str]:
    """The model turns the topic is judged on (as `classify` picks them)."""
    turns = log.turns
    metrics = turn_metrics(turns)
    return [t.text for t, m in zip(turns, metrics, strict=True)
            if t.author == "model" and substantive(m, turn_signals(t, m))]


def examples_of(labelled: Sequence[Labelled]) -> list[Example]:
    return [Example(texts=tuple(substantive_texts(x.log)), topics=x.topic_ok,
                    groups=x.families) for x in labelled]


def fit_labelled(rows: Sequence[Labelled], settings: FitSettings | None = None) -> TopicModel:
    """The topic model fitted on `rows` (for a generic leave-one-family-out loop)."""
    return fit_topics(examples_of(rows), settings)


def predict_labelled(model: TopicModel, row: Labelled) -> str:
    """`model`'s topic for one labelled conversation."""
    return model.predict(substantive_texts(row.log))[0]


@dataclass(frozen=True)
class Prediction:
    """One held-out prediction: fitted without `family`."""

    key: str
    family: str
    topic: str
    confidence: Confidence
    probability: float
    lead: float
    """The first topic's probability minus the second's."""
    right: bool


def _predict(model: TopicModel, texts: Sequence[str]) -> tuple[str, Confidence, float, float]:
    tally = ModelTally(model)
    summed, turns = conversation_sums(tuple(texts))
    tally.add_features(summed, turns)
    probs = sorted(tally.probabilities(), reverse=True)
    topic, confidence = tally.decision
    return topic, confidence, probs[0], probs[0] - (probs[1] if len(probs) > 1 else 0.0)


def lofo(labelled: Sequence[Labelled], settings: FitSettings | None = None,
         examples: Sequence[Example] | None = None) -> list[Prediction]:
    """Leave-one-family-out predictions, family by family (see module doc)."""
    examples = list(examples) if examples is not None else examples_of(labelled)
    out = []
    for family in sorted({f for x in labelled for f in x.families}):
        model = fit_topics([e for e, x in zip(examples, labelled, strict=True)
                            if family not in x.families], settings)
        for e, x in zip(examples, labelled, strict=True):
            if family in x.families:
                topic, confidence, p, lead = _predict(model, e.texts)
                out.append(Prediction(x.key, family, topic, confidence, p, lead,
                                      topic in x.topic_ok))
    return out


def per_conversation(predictions: Sequence[Prediction]) -> dict[str, float]:
    """Each conversation's agreement: the mean over the families it was held out for."""
    hits: dict[str, list[bool]] = {}
    for p in predictions:
        hits.setdefault(p.key, []).append(p.right)
    return {key: sum(v) / len(v) for key, v in hits.items()}


def lofo_topic(labelled: Sequence[Labelled], settings: FitSettings | None = None) -> float:
    """Leave-one-family-out topic agreement, the mean over conversations."""
    scores = per_conversation(lofo(labelled, settings))
    return sum(scores.values()) / len(scores) if scores else 0.0


def calibrate(predictions: Sequence[Prediction]) -> tuple[float | None, float]:
    """The confidence cuts: the smallest probability from which held-out predictions
    were right `STRONG_RIGHT` of the time (None: none was, never strong), and the lead
    below which held-out predictions were wrong by the widest count over right (a
    smaller one on a tie): under it, the first topic is not clearly ahead."""
    strong: float | None = None
    for cut in GRID:
        above = [p.right for p in predictions if p.probability >= cut]
        if above and sum(above) / len(above) >= STRONG_RIGHT:
            strong = cut
            break
    margin, best = 0.0, 0
    for cut in GRID[1:]:
        below = [p.right for p in predictions if p.lead < cut]
        excess = len(below) - 2 * sum(below)
        if excess > best:
            margin, best = cut, excess
    return strong, margin


def recut(predictions: Sequence[Prediction], strong: float | None, margin: float
          ) -> list[Prediction]:
    """The predictions with their confidence under other cuts."""
    def level(p: Prediction) -> Confidence:
        if p.topic == "other" or p.lead < margin:  # `other`: too little to go on
            return "uncertain"
        return "strong" if strong is not None and p.probability >= strong else "weak"
    return [Prediction(p.key, p.family, p.topic, level(p), p.probability, p.lead, p.right)
            for p in predictions]


def fit_shipped(labelled: Sequence[Labelled], settings: FitSettings | None = None
                ) -> tuple[TopicModel, list[Prediction]]:
    """The model to ship (fitted on all) and its leave-one-family-out predictions,
    with the confidence cuts calibrated on those."""
    examples = examples_of(labelled)
    predictions = lofo(labelled, settings, examples)
    strong, margin = calibrate(predictions)
    model = fit_topics(examples, settings)
    model.strong, model.margin = strong, margin
    model.meta = {"conversations": len(labelled),
                  "families": len({f for x in labelled for f in x.families}),
                  "lofo_topic": round(sum(per_conversation(predictions).values())
                                      / max(1, len(labelled)), 3)}
    return model, recut(predictions, strong, margin)
