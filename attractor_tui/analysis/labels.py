"""The end-state labels: one small module that `classify`, `phases` and `signals` all
import, so none of them has to import another for the type (no import cycle)."""

from __future__ import annotations

from typing import Literal, get_args

Label = Literal[
    "too_short",
    "minimal_exchange",
    "emoji_spiral",
    "verbatim_loop",
    "word_salad",
    "goodbye_loop",
    "identity_standoff",
    "sycophancy_collapse",
    "spiritual_bliss",
    "meta_loop",
    "creative_escape",
    "other",
]
"""The end states of issue 12, in priority order: when several fit, the first wins."""
LABELS: tuple[str, ...] = get_args(Label)

PRIORITY: tuple[Label, ...] = get_args(Label)[1:-1]
"""The labels a window can show a signal of."""
