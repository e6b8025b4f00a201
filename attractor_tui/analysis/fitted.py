"""A small fitted model: multinomial logistic regression over named features.

Every number that turns the hand-written signals into an end state lives in
`data/end_state_model.json`, written by `bench/fit_classifier.py` from the
labelled conversations (issue 24); nothing here names a file, a model or a
family. `fit` is plain Python with a fixed number of full-batch gradient steps
from zero weights, so the same rows give the same bytes on any machine.

The confidence of a label comes from its probability: `strong` at or above
the model's `strong` threshold, `uncertain` below its `uncertain` one, else
`weak`; both thresholds are fitted too (`bench/fit_classifier.py`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache, cached_property
from importlib import resources
from operator import mul
from typing import Literal

Confidence = Literal["strong", "weak", "uncertain"]
STEPS = 300
"""Full-batch gradient steps of `fit`."""
RATE = 0.5
L2 = 0.02
"""Weight decay: with a hundred rows, keeps the weights small and the fit stable."""
DIGITS = 5
"""Decimals kept in the written model, so the file is the same bytes everywhere."""


@dataclass(frozen=True)
class Model:
    labels: tuple[str, ...]
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[tuple[float, ...], ...]
    """One row per label, one weight per feature (on standardised features)."""
    bias: tuple[float, ...]
    strong: float = 1.0
    uncertain: float = 0.0
    unanimous: float = 1.01
    """A window where some label's signal covers at least this share is that label
    (the first in priority order), strongly, before the regression is asked."""

    def scores(self, x: Mapping[str, float]) -> list[float]:
        z = self.standardise(x)
        # the same products summed in the same order as a generator would, in C
        return [b + sum(map(mul, row, z)) for row, b in zip(self.weights, self.bias, strict=True)]

    def standardise(self, x: Mapping[str, float]) -> list[float]:
        return [(x.get(f, 0.0) - m) / s for f, m, s in
                zip(self.features, self.mean, self.scale, strict=True)]

    def probabilities(self, x: Mapping[str, float]) -> dict[str, float]:
        return dict(zip(self.labels, softmax(self.scores(x)), strict=True))

    def predict(self, x: Mapping[str, float]) -> tuple[str, float, Confidence]:
        """The most probable label, its probability and its confidence."""
        probs = self.probabilities(x)
        label = max(self.labels, key=lambda lab: (probs[lab], -self.labels.index(lab)))
        return label, probs[label], self.confidence(probs[label])

    def confidence(self, p: float) -> Confidence:
        if p >= self.strong:
            return "strong"
        return "uncertain" if p < self.uncertain else "weak"

    def reasons(self, x: Mapping[str, float], label: str, n: int = 3) -> list[tuple[str, float]]:
        """The features that pushed most towards `label` against the average label:
        (feature, contribution), largest first, positive only."""
        z = self.standardise(x)
        k = self.labels.index(label)
        mean_w = self._mean_weights
        parts = [(f, (self.weights[k][j] - mean_w[j]) * z[j])
                 for j, f in enumerate(self.features)]
        return sorted([p for p in parts if p[1] > 0], key=lambda p: -p[1])[:n]

    @cached_property
    def _mean_weights(self) -> list[float]:
        """Each feature's weight averaged over the labels (the same every call)."""
        return [sum(col) / len(col) for col in zip(*self.weights, strict=True)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"


def softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def fit(xs: Sequence[Mapping[str, float]], ys: Sequence[str], features: Sequence[str],
        steps: int = STEPS) -> Model:
    """Multinomial logistic regression of `ys` on `xs` (see module doc)."""
    labels = tuple(sorted(set(ys)))
    n, d = len(xs), len(features)
    mean = [sum(x.get(f, 0.0) for x in xs) / n for f in features]
    scale = []
    for j, f in enumerate(features):
        var = sum((x.get(f, 0.0) - mean[j]) ** 2 for x in xs) / n
        scale.append(math.sqrt(var) if var > 1e-12 else 1.0)
    mean = [round(v, DIGITS) for v in mean]
    scale = [round(v, DIGITS) for v in scale]
    zs = [[(x.get(f, 0.0) - mean[j]) / scale[j] for j, f in enumerate(features)] for x in xs]
    columns = [list(col) for col in zip(*zs, strict=True)] if zs else [[] for _ in features]
    onehot = [[float(labels.index(y) == k) for y in ys] for k in range(len(labels))]
    w = [[0.0] * d for _ in labels]
    b = [0.0] * len(labels)
    for _ in range(steps):
        probs = [softmax([bk + sum(map(mul, wk, z)) for wk, bk in zip(w, b, strict=True)])
                 for z in zs]
        for k in range(len(labels)):
            err = [p[k] - t for p, t in zip(probs, onehot[k], strict=True)]
            b[k] -= RATE * sum(err) / n
            w[k] = [wkj - RATE * (sum(map(mul, err, col)) / n + L2 * wkj)
                    for wkj, col in zip(w[k], columns, strict=True)]
    return Model(
        labels=labels, features=tuple(features), mean=tuple(mean), scale=tuple(scale),
        weights=tuple(tuple(round(v, DIGITS) for v in row) for row in w),
        bias=tuple(round(v, DIGITS) for v in b),
    )


def from_json(text: str) -> Model:
    data = json.loads(text)
    return Model(
        labels=tuple(data["labels"]), features=tuple(data["features"]),
        mean=tuple(data["mean"]), scale=tuple(data["scale"]),
        weights=tuple(tuple(row) for row in data["weights"]), bias=tuple(data["bias"]),
        strong=float(data["strong"]), uncertain=float(data["uncertain"]),
        unanimous=float(data["unanimous"]),
    )


MODEL_FILE = "end_state_model.json"


@cache
def end_state_model() -> Model:
    """The committed end-state model (`bench/fit_classifier.py` writes it)."""
    text = resources.files("attractor_tui.analysis").joinpath("data", MODEL_FILE).read_text(
        encoding="utf-8")
    return from_json(text)
