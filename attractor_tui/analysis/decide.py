"""The one end-state rule: a window's signals and shapes in, a label and its confidence out.

`classify` (offline, every window) and `live.LiveAttractor` (the meter, the
final window after each turn) both call `decide`, so live equals offline.
The label is the fitted model's (`fitted.end_state_model`, written by
`bench/fit_classifier.py` from the labelled conversations): no threshold here
is set by hand, except for the labels no labelled conversation ends in
(`UNFITTED`), which keep issue 12's signal rule and are never `strong`.
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
"""For a label the model was never fitted on (no labelled conversation ends in it): the
share of the window its signal must cover to override a label that is not strong."""


@dataclass(frozen=True)
class Decision:
    label: Label
    probability: float
    """The model's probability of `label` (for an unfitted label: its signal share)."""
    confidence: Confidence
    shares: dict[str, float]
    """Each label's signal share of the window."""
    reasons: tuple[tuple[str, float], ...]
    """The features that pushed most towards `label`: (feature, its value)."""

    def because(self) -> str:
        """The deciding features, readable: 'repeats running to the end 0.80, ...'."""
        return ", ".join(f"{DESCRIBE.get(f, f)} {v:.2f}" for f, v in self.reasons)


def decide(sigs: Sequence[dict[Label, str]], metrics: Sequence[TurnMetrics],
           shapes: Sequence[Shape], model: Model | None = None) -> Decision:
    """The end state of a window of model turns (see module doc)."""
    return decide_features(window_features(sigs, metrics, shapes), model)


def decide_features(x: Mapping[str, float], model: Model | None = None) -> Decision:
    """The end state of a window given its features (`features.window_features`)."""
    model = model or end_state_model()
    shares = {label: x[f"signal_{label}"] for label in PRIORITY}
    label, p, confidence = model.predict(x)
    if confidence != "strong":
        for unfitted in PRIORITY:
            if unfitted not in model.labels and shares[unfitted] >= UNFITTED_SHARE:
                return Decision(unfitted, shares[unfitted], "uncertain", shares,
                                ((f"signal_{unfitted}", shares[unfitted]),))
    reasons = tuple((f, x[f]) for f, _ in model.reasons(x, label))
    return Decision(label, p, confidence, shares, reasons)  # type: ignore[arg-type]
