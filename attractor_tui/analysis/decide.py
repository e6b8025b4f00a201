"""The one end-state rule: a window's signals and shapes in, a label and its confidence out.

`classify` (offline, every window) and `live.LiveAttractor` (the meter, the
final window after each turn) both call `decide_features` on features from the
same running sums (`features.WindowSums`), so live equals offline.
Two fitted steps (`fitted.end_state_model`, written by
`bench/fit_classifier.py` from the labelled conversations):

1. when one signal covers nearly the whole window (the fitted `unanimous`
   share), the first such label in the taxonomy's priority order wins;
2. otherwise the regression over all the window's features decides.

Either way the confidence is what the regression's probability of the label earns.

No threshold here is set by hand, except `UNFITTED_SHARE` for the labels no
labelled conversation ends in (identity_standoff, sycophancy_collapse,
meta_loop so far): the regression never saw one, so issue 12's rule stands in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from attractor_tui.analysis.features import DESCRIBE, window_features
from attractor_tui.analysis.fitted import Confidence, Model, end_state_model
from attractor_tui.analysis.labels import PRIORITY, Label
from attractor_tui.analysis.metrics import TurnMetrics
from attractor_tui.analysis.shape import Shape

UNFITTED_SHARE = 0.5
"""Issue 12's rule, kept for the labels no labelled conversation ends in (the regression
never saw one): such a label's signal covering this share of the window overrides a
regression label that is not strong, and is itself uncertain."""


@dataclass(frozen=True)
class Decision:
    label: Label
    probability: float
    """The model's probability of `label` (for an unfitted label: its signal share)."""
    confidence: Confidence
    shares: dict[str, float]
    """Each label's signal share of the window."""
    reasons: tuple[tuple[str, float, bool], ...]
    """The features that pushed most towards `label`: (feature, its value, whether it
    is above the labelled conversations' mean: high or low pushed)."""

    def because(self) -> str:
        """The deciding features, readable: 'high repeats running to the end 0.80, ...'."""
        return ", ".join(f"{'high' if high else 'low'} {DESCRIBE.get(f, f)} {v:.2f}"
                         for f, v, high in self.reasons)


def decide(sigs: Sequence[dict[Label, str]], metrics: Sequence[TurnMetrics],
           shapes: Sequence[Shape], model: Model | None = None) -> Decision:
    """The end state of a window of model turns (see module doc)."""
    return decide_features(window_features(sigs, metrics, shapes), model)


def decide_features(x: Mapping[str, float], model: Model | None = None, *,
                    explain: bool = True) -> Decision:
    """The end state of a window given its features (`features.WindowSums`); without
    `explain`, no reasons (sliding windows need only the label)."""
    model = model or end_state_model()
    shares: dict[str, float] = {label: x[f"signal_{label}"] for label in PRIORITY}
    first = next((lab for lab in PRIORITY if shares[lab] >= model.unanimous), None)
    if first is not None:
        p = model.probabilities(x).get(first, 0.0)
        return Decision(first, p, model.confidence(p), shares,
                        ((f"signal_{first}", shares[first], True),))
    label, p, confidence = model.predict(x)
    if confidence != "strong":
        for unfitted in PRIORITY:
            if unfitted not in model.labels and shares[unfitted] >= UNFITTED_SHARE:
                return Decision(unfitted, shares[unfitted], "uncertain", shares,
                                ((f"signal_{unfitted}", shares[unfitted], True),))
    if not explain:
        return Decision(label, p, confidence, shares, ())  # type: ignore[arg-type]
    mean = dict(zip(model.features, model.mean, strict=True))
    reasons = tuple((f, x[f], x[f] >= mean[f]) for f, _ in model.reasons(x, label))
    return Decision(label, p, confidence, shares, reasons)  # type: ignore[arg-type]
