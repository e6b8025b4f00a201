"""Window features: the hand-written, interpretable numbers the fitted model reads.

One value per name in `FEATURES`, computed over a window of model turns (the
final window for the end state): each signal's share of the window
(`signals.turn_signals`), how long the repeats run, and the turn shapes
(`shape.Shape`): near-empty share, emoji density, farewell density, novelty of
content, positive evidence of a shared build, coinage rate, restating recent
turns (content-word overlap, stale turns), ... Every value is
a share or a mean, so windows of any size compare. Which values mean which
label is fitted (`fitted`), never set by hand here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from attractor_tui.analysis.labels import PRIORITY, Label
from attractor_tui.analysis.metrics import TurnMetrics
from attractor_tui.analysis.shape import Shape
from attractor_tui.analysis.signals import CREATIVE_WORDS

BUILD_NOVELTY = 0.3
"""A turn that adds structure or names counts as building only with this much new content."""

STALE = 0.1
"""A turn with content adding under this share of new content words restates."""
RESTATE = (0.3, 0.5, 0.7)
"""Evenly spaced overlaps with a recent turn (`shape.Shape.restate`); the share of turns
at or above each is a feature, so how much overlap means a loop is fitted, not set."""

FEATURES: tuple[str, ...] = (
    *(f"signal_{label}" for label in PRIORITY),
    "repeat_trailing", "repeat_longest", "sim_prev", "sim_other", "near_empty", "invisible",
    "emoji_density", "emoji_turns", "farewell", "thanks", "novelty", "new_names", "build",
    "coinage", "function_words", "words", "questions", "bliss_density", "meta_density",
    "restate", "restate_pairs", "stale", *(f"restate_{v}" for v in RESTATE),
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
    "restate": "restating a recent turn's content", "restate_pairs": "restating its phrasing",
    "stale": "turns adding almost no new content",
    **{f"restate_{v}": f"turns {v:.0%}+ like a recent one" for v in RESTATE},
}
"""What each feature is, for the evidence people read."""


MEANS: tuple[str, ...] = (
    *(f"signal_{label}" for label in PRIORITY),
    "sim_prev", "sim_other", "near_empty", "invisible", "emoji_density", "emoji_turns",
    "farewell", "thanks", "novelty", "new_names", "build", "coinage", "function_words",
    "words", "questions", "bliss_density", "meta_density", "restate", "restate_pairs",
    "stale", *(f"restate_{v}" for v in RESTATE),
)
"""The features that are a mean of one value per turn (`turn_terms`, in this order)."""
_MEAN_INDEX = {name: k for k, name in enumerate(MEANS)}


def turn_terms(sig: dict[Label, str], m: TurnMetrics, s: Shape) -> tuple[float, ...]:
    """One model turn's value of each of `MEANS` (`words`: its raw word count)."""
    w = max(m.words, 1)
    return (
        *(float(label in sig) for label in PRIORITY),
        m.sim_prev or 0.0, m.sim_other or 0.0, float(m.minimal), float(m.invisible_only),
        m.emoji_count / (m.emoji_count + w), float(m.emoji_count > 0),
        float(bool(m.farewell or m.stop_intent)), float(s.thanks), s.novelty,
        min(1.0, s.new_names / 5),
        float((s.structure >= 2 or s.new_names >= 2) and s.novelty >= BUILD_NOVELTY),
        min(1.0, s.coinage * 10), s.function_share, float(m.words), float(m.questions > 0),
        min(1.0, 10 * len(m.bliss) / w), min(1.0, 10 * len(m.meta) / w),
        s.restate, s.restate_pairs,
        float(s.content_words >= CREATIVE_WORDS and s.novelty < STALE),
        *(float(s.restate >= v) for v in RESTATE),
    )


class WindowSums:
    """Running sums of every model turn's terms, so any window's features cost one
    subtraction per feature (the live meter at turn 500 judges a 167-turn window)."""

    def __init__(self) -> None:
        self.prefix: list[tuple[float, ...]] = [(0.0,) * len(MEANS)]
        self.flags = bytearray()
        """Per model turn, b"1" when it repeats (the verbatim_loop signal): runs are then
        counted by `split` and `rstrip`, in C (a window is a third of the conversation)."""

    def add(self, sig: dict[Label, str], m: TurnMetrics, s: Shape) -> None:
        terms = turn_terms(sig, m, s)
        self.prefix.append(tuple(a + b for a, b in zip(self.prefix[-1], terms, strict=True)))
        self.flags += b"1" if "verbatim_loop" in sig else b"0"

    def total(self, name: str, lo: int, hi: int) -> float:
        """The sum of one of `MEANS` over model turns `lo`..`hi - 1`."""
        k = _MEAN_INDEX[name]
        return self.prefix[hi][k] - self.prefix[lo][k]

    def features(self, lo: int, hi: int) -> dict[str, float]:
        """The features of model turns `lo`..`hi - 1` (positions among the model turns)."""
        n = hi - lo
        if n <= 0:
            return dict.fromkeys(FEATURES, 0.0)
        top, bottom = self.prefix[hi], self.prefix[lo]
        out = {name: (a - b) / n for name, a, b in zip(MEANS, top, bottom, strict=True)}
        out["words"] = math.log1p(max(0.0, out["words"])) / 8
        flags = bytes(self.flags[lo:hi])
        out["repeat_trailing"] = (n - len(flags.rstrip(b"1"))) / n
        out["repeat_longest"] = max(map(len, flags.split(b"0"))) / n
        return out


def window_features(sigs: Sequence[dict[Label, str]], metrics: Sequence[TurnMetrics],
                    shapes: Sequence[Shape]) -> dict[str, float]:
    """The features of a window of model turns (each sequence: one item per turn)."""
    sums = WindowSums()
    for sig, m, s in zip(sigs, metrics, shapes, strict=True):
        sums.add(sig, m, s)
    return sums.features(0, len(sigs))
