"""Window features: the hand-written, interpretable numbers the fitted model reads.

One value per name in `FEATURES`, computed over a window of model turns (the
final window for the end state): each signal's share of the window
(`signals.turn_signals`), how long the repeats run, and the turn shapes
(`shape.Shape`): near-empty share, emoji density, farewell density, novelty of
content, positive evidence of a shared build, coinage rate, ... Every value is
a share or a mean, so windows of any size compare. Which values mean which
label is fitted (`fitted`), never set by hand here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from attractor_tui.analysis import repetition
from attractor_tui.analysis.labels import PRIORITY, Label
from attractor_tui.analysis.metrics import TurnMetrics
from attractor_tui.analysis.shape import Shape

BUILD_NOVELTY = 0.3
"""A turn that adds structure or names counts as building only with this much new content."""

FEATURES: tuple[str, ...] = (
    *(f"signal_{label}" for label in PRIORITY),
    "repeat_trailing", "repeat_longest", "sim_prev", "sim_other", "near_empty", "invisible",
    "emoji_density", "emoji_turns", "farewell", "thanks", "novelty", "new_names", "build",
    "coinage", "function_words", "words", "questions", "bliss_density", "meta_density",
)

DESCRIBE: dict[str, str] = {
    **{f"signal_{label}": f"{label} signal" for label in PRIORITY},
    "repeat_trailing": "repeats running to the end", "repeat_longest": "longest run of repeats",
    "sim_prev": "similarity to own previous turn", "sim_other": "similarity to the other side",
    "near_empty": "near-empty turns", "invisible": "invisible turns",
    "emoji_density": "emoji density", "emoji_turns": "turns with emoji",
    "farewell": "farewells and stop talk", "thanks": "thanks", "novelty": "new content words",
    "new_names": "new named things", "build": "turns building on a shared work",
    "coinage": "coinage rate", "function_words": "function-word share",
    "words": "turn length", "questions": "turns asking questions",
    "bliss_density": "bliss words", "meta_density": "loop talk",
}
"""What each feature is, for the evidence people read."""


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def window_features(sigs: Sequence[dict[Label, str]], metrics: Sequence[TurnMetrics],
                    shapes: Sequence[Shape]) -> dict[str, float]:
    """The features of a window of model turns (each sequence: one item per turn)."""
    n = len(sigs)
    if not n:
        return dict.fromkeys(FEATURES, 0.0)
    out = {f"signal_{label}": sum(label in s for s in sigs) / n for label in PRIORITY}
    flags = ["verbatim_loop" in s for s in sigs]
    words = [max(m.words, 1) for m in metrics]
    out.update(
        repeat_trailing=repetition.trailing_run(flags) / n,
        repeat_longest=repetition.longest_run(flags) / n,
        sim_prev=_mean([m.sim_prev or 0.0 for m in metrics]),
        sim_other=_mean([m.sim_other or 0.0 for m in metrics]),
        near_empty=_mean([float(m.minimal) for m in metrics]),
        invisible=_mean([float(m.invisible_only) for m in metrics]),
        emoji_density=_mean([m.emoji_count / (m.emoji_count + w)
                             for m, w in zip(metrics, words, strict=True)]),
        emoji_turns=_mean([float(m.emoji_count > 0) for m in metrics]),
        farewell=_mean([float(bool(m.farewell or m.stop_intent)) for m in metrics]),
        thanks=_mean([float(s.thanks) for s in shapes]),
        novelty=_mean([s.novelty for s in shapes]),
        new_names=_mean([min(1.0, s.new_names / 5) for s in shapes]),
        build=_mean([float((s.structure >= 2 or s.new_names >= 2) and s.novelty >= BUILD_NOVELTY)
                     for s in shapes]),
        coinage=_mean([min(1.0, s.coinage * 10) for s in shapes]),
        function_words=_mean([s.function_share for s in shapes]),
        words=math.log1p(_mean([float(m.words) for m in metrics])) / 8,
        questions=_mean([float(m.questions > 0) for m in metrics]),
        bliss_density=_mean([min(1.0, 10 * len(m.bliss) / w)
                             for m, w in zip(metrics, words, strict=True)]),
        meta_density=_mean([min(1.0, 10 * len(m.meta) / w)
                            for m, w in zip(metrics, words, strict=True)]),
    )
    return out
